"""The leg-risk machine on simulated venues with injected faults (issue 10 scenarios 4, 5, 6, 12)."""

from __future__ import annotations

import pytest
from arbot.events import Leg, Opportunity, Side
from arbot.execution.events import Alert, EpisodeTransition, KillSwitchChanged, ResidualExposure
from arbot.execution.journal import SqliteJournal
from arbot.execution.killswitch import KillSwitch
from arbot.execution.legs import LegPolicy
from arbot.execution.orders import OrderPolicy
from arbot.testing.execution import SYMBOL, World
from arbot.trading.types import OrderRequest, OrderStatus, OrderType, TimeInForce


def _states(w: World, eid: str = "opp-1") -> list[str]:
    return [t.state for t in w.journal.transitions(eid)]


def test_balanced_legs_are_done():
    w = World()
    res = w.run(w.machine.run("opp-1", w.opportunity()))
    assert res.state == "DONE" and not res.residuals
    assert _states(w) == ["PLANNED", "SENDING", "DONE"]
    assert w.ledger_delta()[("a", "BTC")] == pytest.approx(1.0)
    assert w.ledger_delta()[("b", "BTC")] == pytest.approx(-1.0)


def test_leg_b_rejected_is_retried_then_a_is_unwound():  # scenario 5
    w = World(schedules={"b": {"place": ["reject", "reject"]}}, policy=LegPolicy(retry_attempts=1))
    res = w.run(w.machine.run("opp-1", w.opportunity()))
    assert res.state == "UNWOUND"
    assert _states(w) == ["PLANNED", "SENDING", "DIVERGED", "RETRYING", "UNWINDING", "UNWOUND"]
    assert [(o.purpose, o.request.venue, o.request.side, o.status) for o in res.orders] == [
        ("leg0", "a", Side.BUY, OrderStatus.FILLED),
        ("leg1", "b", Side.SELL, OrderStatus.REJECTED),
        ("retry1", "b", Side.SELL, OrderStatus.REJECTED),
        ("unwind", "a", Side.SELL, OrderStatus.FILLED),
    ]
    delta = w.ledger_delta()
    assert abs(delta.get(("a", "BTC"), 0.0)) < 1e-9  # flat again; the cost is the spread and two fees
    assert delta[("a", "USDT")] == pytest.approx(-60_000 * 1.001 + 59_990 * 0.999)
    assert not res.residuals


def test_a_retry_that_fills_closes_the_episode():
    w = World(schedules={"b": {"place": ["reject"]}})
    res = w.run(w.machine.run("opp-1", w.opportunity()))
    assert res.state == "DONE" and [o.purpose for o in res.orders] == ["leg0", "leg1", "retry1"]


def test_partial_leg_b_leaves_a_residual_the_machine_unwinds():  # scenario 4 at the episode level
    w = World(depth=1.0)
    w.market.book("b", SYMBOL).apply_snapshot([(60_400.0, 0.3)], [(60_410.0, 1.0)], 1000.0)
    res = w.run(w.machine.run("opp-1", w.opportunity()))
    leg_b = res.orders[1]
    assert leg_b.status is OrderStatus.CANCELLED and leg_b.filled == pytest.approx(0.3)
    assert res.state == "UNWOUND"
    unwind = res.orders[-1]
    assert unwind.purpose == "unwind" and unwind.filled == pytest.approx(0.7)


def test_a_failed_unwind_halts_trading_and_alerts():  # scenario 5, second half
    w = World(
        schedules={"b": {"place": ["reject", "reject"]}}, policy=LegPolicy(unwind_max_slippage_pct=0.01)
    )
    # a's bid is far below the buy price: no unwind within 0.01 % can fill
    w.market.book("a", SYMBOL).apply_snapshot([(59_000.0, 1.0)], [(60_000.0, 1.0)], 1000.0)
    res = w.run(w.machine.run("opp-1", w.opportunity()))
    assert res.state == "HALTED" and w.kill.engaged
    assert any(isinstance(e, KillSwitchChanged) and e.engaged for e in w.events)
    assert any(isinstance(e, Alert) and e.level == "critical" for e in w.events)
    assert [(r.venue, r.asset, r.amount) for r in res.residuals] == [("a", "BTC", pytest.approx(1.0))]
    # the next episode is blocked: no order sent
    before = w.sims["a"].orders_received
    res2 = w.run(w.machine.run("opp-2", w.opportunity(oid="opp-2")))
    assert res2.state == "BLOCKED" and w.sims["a"].orders_received == before


def test_unknown_leg_b_blocks_unwind_and_is_held_after_the_wait():  # scenario 6
    # b's answer is lost and every lookup fails: b may be live, so no unwind or hedge of a
    w = World(
        schedules={"b": {"place": ["lost_ack"], "get": ["5xx"] * 100}},
        policy=LegPolicy(unknown_wait_s=2.0, hedge_venues=("c",), on_divergence=("hedge", "unwind")),
        venues=("a", "b", "c"),
    )
    res = w.run(w.machine.run("opp-1", w.opportunity()))
    assert res.state == "HELD" and res.orders[1].status is OrderStatus.UNKNOWN
    assert [o.purpose for o in res.orders] == ["leg0", "leg1"]  # nothing else was sent
    assert "WAITING_UNKNOWN" in _states(w)
    assert any(isinstance(e, Alert) for e in w.events)


def test_unknown_leg_b_settled_by_lookup_is_never_doubled():  # scenario 6, settles within the wait
    w = World(schedules={"b": {"place": ["lost_ack"], "get": ["5xx", "5xx"]}})
    res = w.run(w.machine.run("opp-1", w.opportunity()))
    assert res.state == "DONE" and w.sims["b"].orders_received == 1
    assert sum(1 for o in res.orders if o.request.venue == "b") == 1


def test_hedge_on_another_venue():
    w = World(
        venues=("a", "b", "c"),
        schedules={"b": {"place": ["reject"]}},
        policy=LegPolicy(on_divergence=("hedge", "unwind"), hedge_venues=("c",), hedge_price_limit_pct=1.0),
    )
    w.market.book("c", SYMBOL).apply_snapshot([(60_300.0, 2.0)], [(60_310.0, 2.0)], 1000.0)
    res = w.run(w.machine.run("opp-1", w.opportunity()))
    assert res.state == "HEDGED"
    assert [(o.purpose, o.request.venue) for o in res.orders][-1] == ("hedge", "c")


def test_hold_reports_the_residual():
    w = World(schedules={"b": {"place": ["reject"]}}, policy=LegPolicy(on_divergence=("hold",)))
    res = w.run(w.machine.run("opp-1", w.opportunity()))
    assert res.state == "HELD"
    assert any(isinstance(e, ResidualExposure) and e.venue == "a" and e.asset == "BTC" for e in w.events)


def test_every_episode_transition_is_an_event_and_journaled():
    w = World(schedules={"b": {"place": ["reject", "reject"]}})
    w.run(w.machine.run("opp-1", w.opportunity()))
    emitted = [e.new for e in w.events if isinstance(e, EpisodeTransition)]
    assert emitted == _states(w)
    assert all(t.reason for t in w.journal.transitions("opp-1"))


def test_kill_switch_cancels_every_open_order_and_survives_a_restart(tmp_path):  # scenario 12
    path = tmp_path / "execution.sqlite"
    w = World(venues=("a", "b"), journal=SqliteJournal(path))
    resting = []
    for venue in ("a", "b"):
        gw = w.gws[venue]
        req = OrderRequest(
            venue, SYMBOL, Side.BUY, OrderType.LIMIT, 0.1, gw.new_client_id(), 50_000.0, TimeInForce.GTC
        )
        resting.append(w.run(w.manager.submit(req, "ep-rest", "leg0")))
    assert all(o.status is OrderStatus.NEW for o in resting)
    w.run(w.kill.engage("operator: arbot stop", w.manager, w.gws))
    assert all(o.status is OrderStatus.CANCELLED for o in resting)
    assert all(not w.run(g.open_orders()) for g in w.gws.values())
    w.journal.close()
    # restart: a new process reads the same journal
    w2 = World(venues=("a", "b"), journal=SqliteJournal(path), market=w.market, sims=w.sims)
    assert w2.kill.engaged
    res = w2.run(w2.machine.run("opp-9", w2.opportunity(oid="opp-9")))
    assert res.state == "BLOCKED" and not res.orders
    w2.kill.clear("operator cleared")
    assert not KillSwitch(w2.journal, w2.rt).engaged
    res = w2.run(w2.machine.run("opp-10", w2.opportunity(oid="opp-10")))
    assert res.state == "DONE"


def test_triangular_legs_go_in_sequence_sized_by_the_previous_fill():
    w = World(venues=("x",))
    m = w.market
    m.book("x", "BTC/USDT").apply_snapshot([(59_990.0, 5.0)], [(60_000.0, 0.5)], 1000.0)
    m.book("x", "ETH/BTC").apply_snapshot([(0.0499, 100.0)], [(0.05, 100.0)], 1000.0)
    m.book("x", "ETH/USDT").apply_snapshot([(3_100.0, 100.0)], [(3_101.0, 100.0)], 1000.0)
    w.sims["x"].ledger.update({"ETH": 0.0})
    legs = (
        Leg("x", "BTC/USDT", Side.BUY, 60_000.0, 1.0),
        Leg("x", "ETH/BTC", Side.BUY, 0.05, 20.0),
        Leg("x", "ETH/USDT", Side.SELL, 3_100.0, 20.0),
    )
    opp = Opportunity("tri-1", 1000.0, "triangular", "BTC/USDT", legs, 3.0, 2.7, 1000.0)
    res = w.run(w.machine.run("tri-1", opp))
    assert res.state == "DONE"
    btc, eth, usdt = res.orders
    assert btc.filled == pytest.approx(0.5)  # only half the BTC was there
    assert eth.request.quantity < 10.0 and eth.request.quantity == pytest.approx(
        0.5 / (0.05 * 1.0005 * 1.001)
    )
    assert usdt.request.quantity == pytest.approx(eth.filled)


def test_triangular_chain_broken_in_the_middle_is_unwound():
    w = World(venues=("x",), schedules={"x": {"place": ["ok", "reject", "reject"]}})
    m = w.market
    m.book("x", "BTC/USDT").apply_snapshot([(59_990.0, 5.0)], [(60_000.0, 5.0)], 1000.0)
    m.book("x", "ETH/BTC").apply_snapshot([(0.0499, 100.0)], [(0.05, 100.0)], 1000.0)
    legs = (
        Leg("x", "BTC/USDT", Side.BUY, 60_000.0, 1.0),
        Leg("x", "ETH/BTC", Side.BUY, 0.05, 20.0),
        Leg("x", "ETH/USDT", Side.SELL, 3_100.0, 20.0),
    )
    opp = Opportunity("tri-2", 1000.0, "triangular", "BTC/USDT", legs, 3.0, 2.7, 1000.0)
    res = w.run(w.machine.run("tri-2", opp))
    assert res.state == "UNWOUND"
    assert res.orders[-1].purpose == "unwind" and res.orders[-1].request.symbol == "BTC/USDT"
    assert abs(w.ledger_delta().get(("x", "BTC"), 0.0)) < 1e-9


def test_policy_rejects_unknown_steps():
    with pytest.raises(ValueError, match="unknown step"):
        LegPolicy(on_divergence=("retry", "pray"))


def test_order_policy_is_used_by_the_world():
    assert World(order_policy=OrderPolicy(lookup_attempts=2)).manager.policy.lookup_attempts == 2
