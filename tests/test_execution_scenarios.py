"""Issue 10's scenarios against emulated Binance venues over loopback sockets.

Each test drives one numbered scenario through the production order manager, leg-risk machine,
write-ahead journal and reconciler, with the emulators' faults (and their venue limits: request
rate, order retention) standing for what venues do, and checks the emulators' own accounts as
the ground truth. Scenarios 2, 8, 10, 12 and 14 are in ``test_execution_emulated.py`` and
``test_execution_sigkill.py``; 5's first half there as well.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from arbot.events import Leg, Opportunity, Side
from arbot.execution.events import Alert, ResidualExposure
from arbot.execution.journal import OrderRecord
from arbot.execution.killswitch import KILL_FLAG, REDUCE_ONLY_FLAG
from arbot.execution.legs import LegPolicy
from arbot.execution.orders import OrderPolicy
from arbot.execution.reconcile import Reconciler
from arbot.testing.emulator.exchange_faults import FaultKind
from arbot.trading import OrderRequest, OrderStatus, OrderType, TimeInForce
from arbot.trading.signing import ApiCredentials

pytest.importorskip("arbot_binance")
sys.path.insert(0, str(Path(__file__).parent / "helpers"))
from arbot_binance.trading import BinanceTradingGateway
from exec_venues import START, SYMBOL, Venues, run_venues

#: fast lookups: these tests wait on real sockets
FAST = OrderPolicy(lookup_attempts=2, lookup_backoff_s=0.05, query_interval_s=0.005)


def _gtc(v: Venues, venue: str, side: Side, qty: float, price: float) -> OrderRequest:
    return OrderRequest(
        venue,
        SYMBOL,
        side,
        OrderType.LIMIT,
        qty,
        v.gws[venue].new_client_id(),
        round(price, 2),
        TimeInForce.GTC,
    )


def _with_client_id(v: Venues, venue: str, client_id: str) -> list[object]:
    return [o for o in v.venue_orders(venue) if o.client_id == client_id]  # type: ignore[attr-defined]


def test_1_lost_answer_is_settled_by_the_order_managers_client_id_lookup(tmp_path):
    """The venue accepts, the answer is lost and the gateway's own lookup fails (503): the order
    is UNKNOWN, then settled by the order manager's lookup by client id; one venue order."""

    async def main(v: Venues) -> None:
        v.ex("b").faults.inject(FaultKind.ACK_LOST)
        v.ex("b").faults.inject(FaultKind.HTTP_5XX, count=3, skip=1)  # the gateway's lookup + 2 retries
        res = await v.machine.run("e1", v.opportunity("e1"))
        assert res.state == "DONE", res.reason
        leg_b = res.orders[1]
        assert leg_b.status is OrderStatus.FILLED
        states = [t.state for t in v.journal.transitions(leg_b.client_id)]
        assert states[:2] == ["PENDING_NEW", "UNKNOWN"] and states[-1] == "FILLED", states
        assert len(_with_client_id(v, "b", leg_b.client_id)) == 1
        v.journal_matches_truth()

    run_venues(main, tmp_path, order_policy=FAST)


def test_3_a_fill_on_the_stream_and_in_rest_fills_counts_once(tmp_path):
    """A resting order partially fills; the fill comes on the private stream and again in the
    REST fill list: applied once (trade id)."""

    async def main(v: Venues) -> None:
        v.follow()
        while not v.ex("a")._feeds:
            await asyncio.sleep(0.02)
        bid, _ = v.best("a")
        price = round(bid - 20, 2)
        o = await v.manager.submit(_gtc(v, "a", Side.BUY, 0.02, price), "e1", "leg0")
        assert o.status is OrderStatus.NEW
        v.ex("a").trade(SYMBOL, Decimal(str(price)), Decimal("0.005"))
        while not o.fills:  # the stream's fill
            await asyncio.sleep(0.02)
        assert "stream" in o.seq_by_source and o.status is OrderStatus.PARTIALLY_FILLED
        await v.manager.collect_fills(o)  # the same trade in REST myTrades
        (venue_order,) = _with_client_id(v, "a", o.client_id)
        assert len(venue_order.fills) == 1  # type: ignore[attr-defined]
        assert len(o.fills) == 1 and o.fill_qty == pytest.approx(0.005)
        assert len(v.journal.fills()) == 1
        await v.manager.cancel(o)
        assert o.status is OrderStatus.CANCELLED and o.filled == pytest.approx(0.005)
        v.journal_matches_truth()

    run_venues(main, tmp_path, order_policy=FAST)


def test_4_partial_fill_then_cancel_and_the_machine_sees_the_residual(tmp_path):
    async def main(v: Venues) -> None:
        ask, level = v.emus["a"].true_book(SYMBOL).asks.best()
        o = await v.manager.submit(_gtc(v, "a", Side.BUY, round(level + 0.01, 5), ask), "e0", "leg0")
        assert o.status is OrderStatus.PARTIALLY_FILLED and o.filled == pytest.approx(level)
        await v.manager.cancel(o)
        assert o.status is OrderStatus.CANCELLED and o.filled == pytest.approx(level)
        # at the episode level: leg B (IOC, no slippage room) fills only the best bid's level
        bid_b, level_b = v.emus["b"].true_book(SYMBOL).bids.best()
        _, ask_a = v.best("a")
        qty = round(level_b + 0.01, 5)
        legs = (Leg("a", SYMBOL, Side.BUY, ask_a, qty), Leg("b", SYMBOL, Side.SELL, bid_b, qty))
        opp = Opportunity("e1", time.time(), "spatial", SYMBOL, legs, 0.0, 0.0, 0.0)
        res = await v.machine.run("e1", opp)
        leg_b = res.orders[1]
        assert leg_b.status is OrderStatus.EXPIRED and 0 < leg_b.filled < qty
        assert "DIVERGED" in res.steps and res.state == "UNWOUND", (res.steps, res.reason)
        assert [o.purpose for o in res.orders][-1] == "unwind"
        v.journal_matches_truth()

    run_venues(
        main,
        tmp_path,
        policy=LegPolicy(on_divergence=("unwind",), slippage_tolerance_pct=0.0, unknown_wait_s=3.0),
        order_policy=FAST,
    )


def test_5_a_failed_unwind_halts_trading_and_alerts(tmp_path):
    async def main(v: Venues) -> None:
        v.ex("b").faults.inject(FaultKind.REJECT_BALANCE, count=5)
        v.ex("a").faults.inject(FaultKind.REJECT_BALANCE, count=5, skip=1)  # leg A passes, unwinds refused
        res = await v.machine.run("e1", v.opportunity("e1"))
        assert res.state == "HALTED", res.reason
        assert KILL_FLAG in v.journal.flags()
        assert any(isinstance(e, Alert) and e.level == "critical" for e in v.events)
        assert [(r.venue, r.asset) for r in res.residuals] == [("a", "BTC")]
        assert res.residuals[0].amount == pytest.approx(v.truth()[("a", "BTC")])
        nxt = await v.machine.run("e2", v.opportunity("e2"))
        assert nxt.state == "BLOCKED" and not nxt.orders
        v.journal_matches_truth()

    run_venues(main, tmp_path, order_policy=FAST)


def test_6_unknown_leg_b_blocks_every_unwind_then_holds_and_is_settled_later(tmp_path):
    async def main(v: Venues) -> None:
        v.ex("b").faults.inject(FaultKind.ACK_LOST)
        v.ex("b").faults.inject(FaultKind.HTTP_5XX, count=10_000, skip=1)  # b unreachable after the order
        res = await v.machine.run("e1", v.opportunity("e1"))
        assert res.state == "HELD" and "UNKNOWN" in res.reason, res.reason
        assert res.orders[1].status is OrderStatus.UNKNOWN
        assert len(v.venue_orders("a")) == 1  # no unwind, no hedge: B may be filled
        assert any(isinstance(e, Alert) and e.episode_id == "e1" for e in v.events)
        assert any(isinstance(e, ResidualExposure) for e in v.events)
        # the venue answers again; a restart settles B (it had filled) and completes the episode
        v.ex("b").faults.clear()
        v.journal.close()
        v.open_stack()
        rep = await Reconciler(v.journal, v.manager, v.kill, v.rt, machine=v.machine).run()
        assert rep.ready and rep.episodes == {"e1": "DONE"}
        assert len(v.venue_orders("a")) == 1 and len(v.venue_orders("b")) == 1
        v.journal_matches_truth()

    run_venues(main, tmp_path, policy=LegPolicy(unknown_wait_s=1.0), order_policy=FAST)


def test_7_cancel_not_found_queries_the_order_and_applies_its_fills(tmp_path):
    async def main(v: Venues) -> None:
        bid, _ = v.best("a")
        price = round(bid - 20, 2)
        o = await v.manager.submit(_gtc(v, "a", Side.BUY, 0.01, price), "e1", "leg0")
        v.ex("a").trade(SYMBOL, Decimal(str(price)), Decimal("0.01"))  # fills; the bot is not told
        await v.manager.cancel(o)  # the venue: "Unknown order sent."
        assert o.status is OrderStatus.FILLED and o.fill_qty == pytest.approx(0.01)
        assert len(o.fills) == 1
        v.journal_matches_truth()

    run_venues(main, tmp_path, order_policy=FAST)


def test_9_balance_drift_enters_reduce_only_and_adjusts_nothing(tmp_path):
    async def main(v: Venues) -> None:
        # a withdrawal nobody told the bot about
        v.ex("a").withdraw(v.keys["a"], "BTC", "BTC", Decimal("0.5"), "bc1qexample")
        expected = {(venue, a): float(q) for venue in ("a", "b") for a, q in START.items()}
        rep = await Reconciler(v.journal, v.manager, v.kill, v.rt).run(expected)
        assert [(d.venue, d.asset, d.expected, d.actual) for d in rep.drift] == [("a", "BTC", 2.0, 1.5)]
        assert REDUCE_ONLY_FLAG in v.journal.flags()
        res = await v.machine.run("e1", v.opportunity("e1"))
        assert res.state == "BLOCKED" and "reduce-only" in res.reason
        assert v.venue_orders("a") == [] and v.venue_orders("b") == []
        assert v.truth()[("a", "BTC")] == pytest.approx(-0.5)

    run_venues(main, tmp_path, order_policy=FAST)


def test_11_client_ids_fit_the_venue_unique_across_restarts_and_a_duplicate_is_looked_up(tmp_path):
    async def main(v: Venues) -> None:
        emu = v.emus["a"]
        ids: set[str] = set()
        for _ in range(3):  # the gateways of three processes (restarts) on the same key
            gw = BinanceTradingGateway(ApiCredentials(v.keys["a"], secret="unused"), rest_url=emu.http_url)
            batch = {gw.new_client_id() for _ in range(500)}
            assert all(re.fullmatch(r"[\.A-Z\:/a-z0-9_-]{1,36}", c) for c in batch)
            assert len(batch) == 500 and not (ids & batch)
            ids |= batch
        bid, _ = v.best("a")
        req = _gtc(v, "a", Side.BUY, 0.01, bid - 50)
        o = await v.manager.submit(req, "e1", "leg0")
        assert o.status is OrderStatus.NEW
        v.journal.close()
        v.open_stack()  # restarted: the intent is resent with the same client id
        again = await v.manager.submit(req, "e1", "leg0")
        assert again.status is OrderStatus.NEW and again.order_id == o.order_id
        assert len(_with_client_id(v, "a", req.client_id)) == 1

    run_venues(main, tmp_path, order_policy=FAST)


def test_13_an_archived_order_is_resolved_from_fills_and_a_recent_miss_changes_nothing(tmp_path):
    async def main(v: Venues) -> None:
        ex = v.ex("a")
        ex.order_retention_s = 0.3
        bid, _ = v.best("a")
        price = round(bid - 20, 2)
        old = await v.manager.submit(_gtc(v, "a", Side.BUY, 0.01, price), "e1", "leg0")
        recent = await v.manager.submit(_gtc(v, "a", Side.BUY, 0.01, price - 5), "e1", "leg1")
        ex.trade(SYMBOL, Decimal(str(price)), Decimal("0.01"))  # the old order fills unheard
        ex.cancel(v.keys["a"], SYMBOL, client_id=recent.client_id)  # the recent one ends unheard
        await asyncio.sleep(0.5)  # both archived by the venue now
        v.manager.policy = OrderPolicy(venue_retention_s=0.4, query_interval_s=0.005)
        old.sent_ts = time.time() - 1.0  # older than the venue keeps orders
        await v.manager.query(old)
        assert old.status is OrderStatus.FILLED and old.fill_qty == pytest.approx(0.01)
        assert "resolved from its fills" in old.reason
        v.manager.policy = OrderPolicy(venue_retention_s=3600.0, query_interval_s=0.005)
        await v.manager.query(recent)  # "Order does not exist." for a recent order: transient
        assert recent.status is OrderStatus.NEW and recent.misses == 1
        v.journal_matches_truth()

    run_venues(main, tmp_path, order_policy=FAST)


def test_15_reconciling_hundreds_of_open_orders_stays_inside_the_venue_rate_limit(tmp_path):
    n = 200
    limit = 120

    async def main(v: Venues) -> None:
        ex = v.ex("a")
        bid, _ = v.best("a")
        now = time.time()
        for i in range(n):  # open orders of a crashed run, each journaled (its intent and ack)
            cid = f"old{i:04d}"
            price = Decimal(str(round(bid - 500 - i, 2)))
            snap = ex.place(
                v.keys["a"],
                SYMBOL,
                Side.BUY,
                OrderType.LIMIT,
                qty=Decimal("0.001"),
                price=price,
                client_id=cid,
            )
            v.journal.put_order(
                OrderRecord(
                    cid,
                    "old-run",
                    "maker",
                    "a",
                    SYMBOL,
                    Side.BUY,
                    OrderType.LIMIT,
                    TimeInForce.GTC,
                    0.001,
                    float(price),
                    OrderStatus.NEW,
                    now,
                    str(snap.order_id),
                )
            )
        v.journal.close()
        v.open_stack()
        ex.request_limit = (limit, 1.0)  # Binance's is 6000 weight a minute; scaled down
        rep = await Reconciler(v.journal, v.manager, v.kill, v.rt).run()
        assert rep.ready and len(rep.resolved) == n
        assert all(s is OrderStatus.CANCELLED for s in rep.resolved.values())
        assert ex.open_orders(v.keys["a"]) == []
        assert ex.requests_over_limit == 0 and ex.peak_requests <= limit, ex.peak_requests
        assert ex.peak_requests >= 10  # the counter counts (70 of 120 measured here, unloaded)

    # one query or cancel per 10 ms: 100 a second, under the 120 the venue allows
    run_venues(main, tmp_path, timeout=60.0, order_policy=OrderPolicy(query_interval_s=0.01))
