"""Restart reconciliation against simulated venues (issue 10 scenarios 2, 8, 9, 14; open episodes)."""

from __future__ import annotations

import pytest
from arbot.events import Side
from arbot.execution.journal import EpisodeRecord, SqliteJournal, replay_positions
from arbot.execution.killswitch import RECONCILE_FLAG, REDUCE_ONLY_FLAG, blocked_flag
from arbot.execution.legs import LegPolicy
from arbot.execution.orders import OrderPolicy
from arbot.execution.reconcile import Reconciler
from arbot.testing.execution import START, SYMBOL, World, approx_dict
from arbot.trading.types import OrderRequest, OrderStatus, OrderType, TimeInForce


def _req(
    w: World,
    venue: str = "a",
    side: Side = Side.BUY,
    qty: float = 1.0,
    price: float = 60_010.0,
    tif: TimeInForce = TimeInForce.IOC,
) -> OrderRequest:
    return OrderRequest(venue, SYMBOL, side, OrderType.LIMIT, qty, w.gws[venue].new_client_id(), price, tif)


def _restart(w: World, path, **kw) -> tuple[World, Reconciler]:
    w.journal.close()
    w2 = World(journal=SqliteJournal(path), market=w.market, sims=w.sims, runtime=w.rt, run_id="run2", **kw)
    return w2, Reconciler(w2.journal, w2.manager, w2.kill, w2.rt, listener=w2.events.append)


def test_crash_after_the_intent_before_sending_is_rejected_after_bounded_lookups(tmp_path):  # scenario 2
    path = tmp_path / "execution.sqlite"
    w = World(journal=SqliteJournal(path))
    w.journal.put_episode(EpisodeRecord("ep1", "opp-1", "spatial", "SENDING", "legs sent", 1000.0))
    order = w.manager.prepare(_req(w), "ep1", "leg0")  # journaled; the process dies before sending
    w2, rec = _restart(w, path, order_policy=OrderPolicy(lookup_attempts=3))
    rep = w2.run(rec.run())
    assert rep.resolved[order.client_id] is OrderStatus.REJECTED and rep.ready
    assert w.sims["a"].orders_received == 0
    assert rep.episodes == {"ep1": "MISSED"}
    assert RECONCILE_FLAG not in w2.journal.flags()


def test_crash_after_sending_before_the_ack_adopts_the_venue_order(tmp_path):  # scenario 2, 14
    path = tmp_path / "execution.sqlite"
    w = World(journal=SqliteJournal(path))
    w.journal.put_episode(EpisodeRecord("ep1", "opp-1", "spatial", "SENDING", "legs sent", 1000.0))
    order = w.manager.prepare(_req(w), "ep1", "leg0")
    w.run(w.sims["a"].place_order(order.request))  # reached the venue and filled; nothing persisted after
    assert w.journal.fills() == []
    w2, rec = _restart(w, path)
    rep = w2.run(rec.run())
    assert rep.resolved[order.client_id] is OrderStatus.FILLED
    assert w.sims["a"].orders_received == 1  # adopted, never placed again
    # replaying the journal now gives the venue's positions
    assert approx_dict(replay_positions(w2.journal.fills()), w.ledger_delta())
    # one-sided: leg 1 was never journaled, so the episode is held with its exposure
    assert rep.episodes == {"ep1": "HELD"}
    assert [(r.venue, r.asset, r.amount) for r in rep.residuals] == [("a", "BTC", pytest.approx(1.0))]


def test_fill_recorded_at_the_venue_but_not_in_the_journal_is_recovered(tmp_path):  # scenario 14
    path = tmp_path / "execution.sqlite"
    w = World(journal=SqliteJournal(path), depth=0.4)
    w.journal.put_episode(EpisodeRecord("ep1", "opp-1", "spatial", "SENDING", "legs sent", 1000.0))
    o = w.run(w.manager.submit(_req(w, tif=TimeInForce.GTC), "ep1", "leg0"))
    assert o.status is OrderStatus.PARTIALLY_FILLED
    # more liquidity: the venue fills the rest; the process dies before it hears of it
    w.market.book("a", SYMBOL).apply_snapshot([(59_990.0, 5.0)], [(60_000.0, 5.0)], 1001.0)
    w.run(w.sims["a"].get_order(SYMBOL, o.client_id))
    assert len(w.sims["a"].all_fills()) == 2 and len(w.journal.fills()) == 1
    w2, rec = _restart(w, path)
    rep = w2.run(rec.run())
    assert rep.resolved[o.client_id] is OrderStatus.FILLED
    assert len(w2.journal.fills()) == 2
    assert approx_dict(replay_positions(w2.journal.fills()), w.ledger_delta())


def test_external_open_order_is_tagged_never_cancelled_and_blocks_its_symbol(tmp_path):  # scenario 8
    path = tmp_path / "execution.sqlite"
    w = World(journal=SqliteJournal(path))
    ext = OrderRequest("b", SYMBOL, Side.SELL, OrderType.LIMIT, 0.5, "manual-1", 70_000.0, TimeInForce.GTC)
    w.run(w.sims["b"].place_order(ext))  # placed by a human on the venue's website
    w2, rec = _restart(w, path)
    rep = w2.run(rec.run())
    assert rep.external == [("b", SYMBOL, "manual-1")]
    assert blocked_flag("b", SYMBOL) in w2.journal.flags()
    assert [o.client_id for o in w2.run(w.sims["b"].open_orders())] == ["manual-1"]
    res = w2.run(w2.machine.run("opp-1", w2.opportunity()))
    assert res.state == "BLOCKED" and "external order manual-1" in res.reason


def test_balance_drift_beyond_tolerance_enters_reduce_only_and_adjusts_nothing(tmp_path):  # scenario 9
    path = tmp_path / "execution.sqlite"
    w = World(journal=SqliteJournal(path))
    w.sims["a"].ledger["BTC"] -= 0.25  # a withdrawal nobody told the bot about
    expected = {(v, a): q for v in ("a", "b") for a, q in START.items()}
    w2, rec = _restart(w, path)
    rep = w2.run(rec.run(expected))
    assert [(d.venue, d.asset, d.expected, d.actual) for d in rep.drift] == [("a", "BTC", 10.0, 9.75)]
    assert REDUCE_ONLY_FLAG in w2.journal.flags()
    assert w.sims["a"].ledger["BTC"] == 9.75 and expected[("a", "BTC")] == 10.0
    res = w2.run(w2.machine.run("opp-1", w2.opportunity()))
    assert res.state == "BLOCKED" and "reduce-only" in res.reason


def test_within_tolerance_is_not_drift(tmp_path):
    w = World(journal=SqliteJournal(tmp_path / "e.sqlite"))
    expected = {(v, a): q for v in ("a", "b") for a, q in START.items()}
    rep = w.run(Reconciler(w.journal, w.manager, w.kill, w.rt).run(expected))
    assert rep.drift == [] and REDUCE_ONLY_FLAG not in w.journal.flags()


def test_unreachable_order_keeps_trading_refused(tmp_path):
    path = tmp_path / "execution.sqlite"
    w = World(journal=SqliteJournal(path))
    w.journal.put_episode(EpisodeRecord("ep1", "opp-1", "spatial", "SENDING", "legs sent", 1000.0))
    order = w.manager.prepare(_req(w), "ep1", "leg0")
    w.journal.close()
    w2 = World(
        journal=SqliteJournal(path),
        market=w.market,
        sims=w.sims,
        runtime=w.rt,
        schedules={"a": {"get": ["5xx"] * 50}},
    )
    rep = w2.run(Reconciler(w2.journal, w2.manager, w2.kill, w2.rt).run())
    assert not rep.ready and rep.still_unknown == [order.client_id]
    assert RECONCILE_FLAG in w2.journal.flags()
    assert w2.run(w2.machine.run("opp-2", w2.opportunity(oid="opp-2"))).state == "BLOCKED"


def _resume(w2: World) -> Reconciler:
    return Reconciler(w2.journal, w2.manager, w2.kill, w2.rt, listener=w2.events.append, machine=w2.machine)


def test_a_held_episode_is_unwound_at_restart_under_an_unwind_policy(tmp_path):
    path = tmp_path / "execution.sqlite"
    w = World(journal=SqliteJournal(path), policy=LegPolicy(on_divergence=("hold",)))
    w.market.book("b", SYMBOL).apply_snapshot([(60_400.0, 0.0)], [(60_410.0, 1.0)], 1000.0)  # B cannot fill
    res = w.run(w.machine.run("opp-1", w.opportunity()))
    assert res.state == "HELD" and w.ledger_delta()[("a", "BTC")] > 0.9
    w.market.book("b", SYMBOL).apply_snapshot([(60_400.0, 1.0)], [(60_410.0, 1.0)], 1001.0)
    w.journal.close()
    w2 = World(journal=SqliteJournal(path), market=w.market, sims=w.sims, runtime=w.rt, run_id="run2")
    rep = w2.run(_resume(w2).run())
    assert rep.ready and rep.episodes == {"opp-1": "UNWOUND"} and rep.residuals == []
    assert abs(w.ledger_delta().get(("a", "BTC"), 0.0)) < 1e-9
    assert approx_dict(replay_positions(w2.journal.fills()), w.ledger_delta())
    # an UNWOUND episode is settled: a later restart (even under a hold policy) leaves it alone
    w2.journal.close()
    w3 = World(
        journal=SqliteJournal(path),
        market=w.market,
        sims=w.sims,
        runtime=w.rt,
        run_id="run3",
        policy=LegPolicy(on_divergence=("hold",)),
    )
    rep3 = w3.run(_resume(w3).run())
    assert rep3.episodes == {}  # UNWOUND is settled: nothing left to resolve


def test_a_broken_triangular_chain_is_unwound_at_restart(tmp_path):
    path = tmp_path / "execution.sqlite"
    w = World(venues=("x",), journal=SqliteJournal(path))
    m = w.market
    m.book("x", "BTC/USDT").apply_snapshot([(59_990.0, 5.0)], [(60_000.0, 5.0)], 1000.0)
    m.book("x", "ETH/BTC").apply_snapshot([(0.0499, 100.0)], [(0.05, 100.0)], 1000.0)
    w.sims["x"].ledger["ETH"] = 0.0
    w.journal.put_episode(EpisodeRecord("tri", "tri", "triangular", "SENDING", "legs in sequence", 1000.0))
    req = OrderRequest(
        "x", "BTC/USDT", Side.BUY, OrderType.LIMIT, 1.0, w.gws["x"].new_client_id(), 60_030.0, TimeInForce.IOC
    )
    w.run(w.manager.submit(req, "tri", "leg0"))  # leg 0 filled; the process dies before leg 1
    w.journal.close()
    w2 = World(venues=("x",), journal=SqliteJournal(path), market=m, sims=w.sims, runtime=w.rt, run_id="r2")
    rep = w2.run(_resume(w2).run())
    assert rep.episodes == {"tri": "UNWOUND"}
    assert abs(w.ledger_delta().get(("x", "BTC"), 0.0)) < 1e-9
    assert approx_dict(replay_positions(w2.journal.fills()), w.ledger_delta())


def test_an_order_unknown_at_restart_holds_its_episode_and_keeps_trading_refused(tmp_path):
    path = tmp_path / "execution.sqlite"
    w = World(journal=SqliteJournal(path))
    w.journal.put_episode(EpisodeRecord("ep1", "opp-1", "spatial", "WAITING_UNKNOWN", "leg UNKNOWN", 1000.0))
    order = w.manager.prepare(_req(w), "ep1", "leg0")
    w.journal.close()
    w2 = World(
        journal=SqliteJournal(path),
        market=w.market,
        sims=w.sims,
        runtime=w.rt,
        schedules={"a": {"get": ["5xx"] * 200}},
        policy=LegPolicy(unknown_wait_s=1.0),
    )
    rep = w2.run(_resume(w2).run())
    assert rep.episodes == {"ep1": "HELD"} and not rep.ready and order.client_id in rep.still_unknown
    assert RECONCILE_FLAG in w2.journal.flags()
    assert w.sims["a"].orders_received == 0  # nothing sent while the leg may be live
