"""The execution layer against emulated Binance venues over real loopback sockets.

Two Binance emulators (the trading emulator of branch ``trading``: accounts, matching engine,
fault injection) stand for two venues; the order manager, leg-risk machine, write-ahead SQLite
journal, kill switch and reconciliation run on asyncio exactly as in live mode. After each
episode the emulators' own account balances (ground truth) are compared with the journal.

:class:`~arbot.testing.execution.Renamed` gives the second emulator its own venue name (both
speak Binance's API, whose gateway names every state and fill "binance").
"""

from __future__ import annotations

import asyncio
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from arbot.events import Side
from arbot.execution.journal import SqliteJournal
from arbot.execution.killswitch import KILL_FLAG, blocked_flag
from arbot.execution.legs import LegPolicy
from arbot.execution.reconcile import Reconciler
from arbot.testing.emulator.exchange_faults import FaultKind
from arbot.trading import (
    OrderRequest,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("arbot_binance")
sys.path.insert(0, str(Path(__file__).parent / "helpers"))
from exec_venues import SYMBOL, Venues, run_venues


def _journal_matches_truth(v: Venues) -> None:
    v.journal_matches_truth()


def test_balanced_episode_on_two_emulated_venues(tmp_path):
    async def main(v: Venues) -> None:
        res = await v.machine.run("e1", v.opportunity("e1"))
        assert res.state == "DONE", res.reason
        _journal_matches_truth(v)
        assert v.truth()[("a", "BTC")] == pytest.approx(0.01 * (1 - 0.001))  # Binance: buy fee in base
        assert v.truth()[("b", "BTC")] == pytest.approx(-0.01)

    run_venues(main, tmp_path)


def test_leg_b_rejected_twice_is_unwound_on_the_emulator(tmp_path):  # scenario 5
    async def main(v: Venues) -> None:
        v.ex("b").faults.inject(FaultKind.REJECT_BALANCE, count=2)
        res = await v.machine.run("e1", v.opportunity("e1"))
        assert res.state == "UNWOUND", res.reason
        assert [o.purpose for o in res.orders] == ["leg0", "leg1", "retry1", "unwind"]
        _journal_matches_truth(v)
        # flat: the unwind sold what the buy left after Binance's fee in BTC
        assert abs(v.truth().get(("a", "BTC"), 0.0)) < 1e-12 and not res.residuals
        assert v.truth()[("a", "USDT")] < 0  # the unwind's cost

    run_venues(main, tmp_path)


@pytest.mark.parametrize("kind", [FaultKind.ACK_LOST, FaultKind.HTTP_5XX_EXECUTED, FaultKind.HTTP_5XX])
def test_lost_or_failed_answers_leave_exactly_one_venue_order(tmp_path, kind):  # scenarios 1, 2
    async def main(v: Venues) -> None:
        v.ex("b").faults.inject(kind)
        res = await v.machine.run("e1", v.opportunity("e1"))
        assert res.state in ("DONE", "UNWOUND"), res.reason
        assert all(o.status.is_terminal for o in res.orders)
        for o in res.orders:
            orders = [x for x in v.ex(o.request.venue).orders.values() if x.client_id == o.client_id]
            assert len(orders) <= 1
        _journal_matches_truth(v)

    run_venues(main, tmp_path)


def test_clock_skew_is_resent_with_the_same_client_id(tmp_path):  # scenario 10
    async def main(v: Venues) -> None:
        v.ex("a").faults.inject(FaultKind.CLOCK_SKEW, param=30.0)
        res = await v.machine.run("e1", v.opportunity("e1"))
        assert res.state == "DONE", res.reason
        _journal_matches_truth(v)

    run_venues(main, tmp_path)


def test_kill_switch_cancels_every_open_order_on_every_venue_and_persists(tmp_path):  # scenario 12
    async def main(v: Venues) -> None:
        for venue in ("a", "b"):
            bid, _ = v.best(venue)
            gw = v.gws[venue]
            req = OrderRequest(
                venue,
                SYMBOL,
                Side.BUY,
                OrderType.LIMIT,
                0.01,
                gw.new_client_id(),
                round(bid - 50, 2),
                TimeInForce.GTC,
            )
            o = await v.manager.submit(req, "rest", "leg0")
            assert o.status is OrderStatus.NEW
        await v.kill.engage("operator", v.manager, v.gws)
        for venue in ("a", "b"):
            assert v.ex(venue).open_orders(v.keys[venue]) == []
        v.journal.close()
        v.open_stack()  # restart
        assert v.kill.engaged
        res = await v.machine.run("e2", v.opportunity("e2"))
        assert res.state == "BLOCKED" and not res.orders

    run_venues(main, tmp_path)


def test_restart_reconciles_a_crash_between_legs_against_the_emulators(tmp_path):  # scenarios 2, 8, 14
    async def main(v: Venues) -> None:
        opp = v.opportunity("e1")
        # the episode starts, leg A fills, leg B's intent is journaled -- and the process dies
        from arbot.execution.journal import EpisodeRecord

        v.journal.put_episode(EpisodeRecord("e1", "e1", "spatial", "SENDING", "legs sent", time.time()))
        leg_a = v.manager.prepare(
            OrderRequest(
                "a",
                SYMBOL,
                Side.BUY,
                OrderType.LIMIT,
                0.01,
                v.gws["a"].new_client_id(),
                round(opp.legs[0].price * 1.001, 2),
                TimeInForce.IOC,
            ),
            "e1",
            "leg0",
        )
        await v.gws["a"].place_order(leg_a.request)  # filled at the venue, never journaled as such
        v.manager.prepare(
            OrderRequest(
                "b",
                SYMBOL,
                Side.SELL,
                OrderType.LIMIT,
                0.01,
                v.gws["b"].new_client_id(),
                round(opp.legs[1].price * 0.999, 2),
                TimeInForce.IOC,
            ),
            "e1",
            "leg1",
        )
        # someone places an order by hand on b meanwhile
        bid_b, _ = v.best("b")
        manual = OrderRequest(
            "b", SYMBOL, Side.BUY, OrderType.LIMIT, 0.001, "manual1", round(bid_b - 100, 2), TimeInForce.GTC
        )
        await v.gws["b"].place_order(manual)
        v.journal.close()
        v.open_stack()
        rep = await Reconciler(v.journal, v.manager, v.kill, v.rt, listener=v.events.append).run()
        assert rep.ready
        assert sorted(rep.resolved.values(), key=str) == sorted(
            [OrderStatus.FILLED, OrderStatus.REJECTED], key=str
        )
        assert rep.episodes == {"e1": "HELD"}
        assert [(r.venue, r.asset, r.amount) for r in rep.residuals] == [("a", "BTC", pytest.approx(0.00999))]
        assert rep.external == [("b", SYMBOL, "manual1")]
        assert blocked_flag("b", SYMBOL) in v.journal.flags()
        assert [o.client_id for o in v.ex("b").open_orders(v.keys["b"])] == ["manual1"]  # never cancelled
        _journal_matches_truth(v)  # replaying the journal gives the venues' positions

    run_venues(main, tmp_path)


def _bot(tmp_path):
    from arbot.bot import Bot
    from arbot.config import config_from_dict

    data = {
        "exchanges": {"enabled": ["a", "b"], "fees": {"a": {}, "b": {}}},
        "symbols": [SYMBOL],
        "output_dir": str(tmp_path / "out"),
        "sinks": {"enabled": []},
    }
    return Bot(config_from_dict(data), mode="backtest")


def test_live_executor_reconciles_then_trades_through_the_engine_interface(tmp_path, monkeypatch):
    from arbot.execution.executors import LiveExecutor, LiveSettings

    monkeypatch.setenv("ARBOT_LIVE_TRADING", "1")
    bot = _bot(tmp_path)

    async def main(v: Venues) -> None:
        ex = LiveExecutor(LiveSettings(live_trading_opt_in=True), bot.ctx)
        ex.gateways.update(v.gws)
        assert ex.next_due() == float("inf")
        ex.submit(v.opportunity("live-1"), time.time())
        assert ex.pending() == 1

        async def settled() -> list:
            while ex.next_due() == float("inf"):  # becomes 0.0 once the episode settled
                await asyncio.sleep(0.02)
            return ex.due(time.time())

        (report,) = await asyncio.wait_for(settled(), 20.0)
        assert report.outcome == "DONE" and report.executed and ex.pending() == 0
        assert ex.reconciled is not None and ex.reconciled.result().ready
        assert (tmp_path / "out" / "execution.sqlite").exists()
        # `arbot stop` from another process: the flag in the journal blocks the next episode
        other = SqliteJournal(tmp_path / "out" / "execution.sqlite")
        other.set_flag(KILL_FLAG, "arbot stop")
        other.close()
        ex.submit(v.opportunity("live-2"), time.time())
        (blocked,) = await asyncio.wait_for(settled(), 20.0)
        assert blocked.outcome == "BLOCKED" and not blocked.fills
        await ex.aclose()

    run_venues(main, tmp_path)


def test_live_executor_unwinds_a_held_episode_before_its_first_trade(tmp_path, monkeypatch):
    """A previous run left an episode HELD one-sided (leg B refused, policy hold); the live
    executor's start-up resolves it under its own policy (unwind) before the next episode."""
    from arbot.execution.executors import LiveExecutor, LiveSettings

    monkeypatch.setenv("ARBOT_LIVE_TRADING", "1")
    bot = _bot(tmp_path)

    async def main(v: Venues) -> None:
        v.journal.close()
        v.path = tmp_path / "out" / "execution.sqlite"
        v.open_stack()
        v.machine.policy = LegPolicy(on_divergence=("hold",))
        v.ex("b").faults.inject(FaultKind.REJECT_BALANCE)
        held = await v.machine.run("old-1", v.opportunity("old-1"))
        assert held.state == "HELD" and v.truth()[("a", "BTC")] > 0
        v.journal.close()  # the previous run ends
        ex = LiveExecutor(LiveSettings(live_trading_opt_in=True), bot.ctx)
        ex.gateways.update(v.gws)
        ex.submit(v.opportunity("live-1"), time.time())

        async def settled() -> list:
            while ex.next_due() == float("inf"):
                await asyncio.sleep(0.02)
            return ex.due(time.time())

        (report,) = await asyncio.wait_for(settled(), 20.0)
        rep = ex.reconciled.result() if ex.reconciled is not None else None
        assert rep is not None and rep.ready and rep.episodes == {"old-1": "UNWOUND"}
        assert report.outcome == "DONE"
        await ex.aclose()
        assert abs(v.truth().get(("a", "BTC"), 0.0) - 0.01 * 0.999) < 1e-12  # only live-1's buy left
        v.open_stack()
        v.journal_matches_truth()

    run_venues(main, tmp_path)


def test_live_executor_needs_both_opt_ins(monkeypatch, tmp_path):
    from arbot.errors import LiveTradingNotEnabledError
    from arbot.execution.executors import LiveExecutor, LiveSettings

    bot = _bot(tmp_path)
    monkeypatch.delenv("ARBOT_LIVE_TRADING", raising=False)
    with pytest.raises(LiveTradingNotEnabledError):
        LiveExecutor(LiveSettings(live_trading_opt_in=True), bot.ctx)
    monkeypatch.setenv("ARBOT_LIVE_TRADING", "1")
    with pytest.raises(LiveTradingNotEnabledError):
        LiveExecutor(LiveSettings(live_trading_opt_in=False), bot.ctx)


FAULTS = [
    FaultKind.REJECT_BALANCE,
    FaultKind.ACK_LOST,
    FaultKind.HTTP_5XX,
    FaultKind.HTTP_5XX_EXECUTED,
    FaultKind.RATE_LIMIT,
    FaultKind.DELAY_FILL,
    FaultKind.STUCK_NEW,
    FaultKind.STREAM_DROP,
]


async def _tick(v: Venues) -> None:
    """The emulators' step without book moves: match resting orders, apply a due stream drop."""
    while True:
        for emu in v.emus.values():
            emu.private.on_tick()
        await asyncio.sleep(0.02)


async def _streams_up(v: Venues) -> None:
    """Wait until every venue's private stream is connected (the emulator has its feed)."""
    while not all(v.ex(name)._feeds for name in v.emus):
        await asyncio.sleep(0.02)


@settings(max_examples=14, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    faults_a=st.lists(st.sampled_from(FAULTS), max_size=2),
    faults_b=st.lists(st.sampled_from(FAULTS), max_size=2),
    drop_after=st.integers(0, 4),
)
def test_invariant_over_random_emulator_fault_schedules(tmp_path_factory, faults_a, faults_b, drop_after):
    """After each episode against the emulators, with the private streams merged in as live mode
    does (and cut by the STREAM_DROP fault ``drop_after`` emulator steps into the episode): the
    journal's positions equal the venues' balances, every order is settled (none UNKNOWN, none
    left open), and net BTC is flat (but for fee dust) or reported."""
    path = tmp_path_factory.mktemp("inv")

    async def main(v: Venues) -> None:
        v.follow()
        await asyncio.wait_for(_streams_up(v), 10.0)
        ticker = asyncio.ensure_future(_tick(v))
        try:
            for venue, faults in (("a", faults_a), ("b", faults_b)):
                for kind in faults:
                    param = (
                        0.01
                        if kind is FaultKind.RATE_LIMIT
                        else (0.3 if kind is FaultKind.DELAY_FILL else None)
                    )
                    skip = drop_after if kind is FaultKind.STREAM_DROP else 0
                    v.ex(venue).faults.inject(kind, param=param, skip=skip)
            res = await v.machine.run("e1", v.opportunity("e1"))
        finally:
            ticker.cancel()
        assert all(o.status.is_terminal for o in res.orders), [
            (o.purpose, o.status, o.reason) for o in res.orders
        ]
        for venue in ("a", "b"):
            assert v.ex(venue).open_orders(v.keys[venue]) == []
        _journal_matches_truth(v)
        net = sum(q for (_, a), q in v.truth().items() if a == "BTC")
        reported = sum(r.amount for r in res.residuals if r.asset == "BTC")
        assert net == pytest.approx(reported, abs=1e-9), (res.state, res.reason, net, reported)

    run_venues(main, path)


def test_rest_settles_an_order_whose_private_stream_was_cut(tmp_path):  # scenario 3, stream dropped
    """The stream said NEW (its seq in ms), then was cut; the order filled meanwhile. The order
    manager's REST query (seq in s) must settle it at once, without waiting for a reconnect."""

    async def main(v: Venues) -> None:
        v.follow()
        await asyncio.wait_for(_streams_up(v), 10.0)
        bid, _ = v.best("a")
        price = round(bid - 10, 2)
        req = OrderRequest(
            "a", SYMBOL, Side.BUY, OrderType.LIMIT, 0.01, v.gws["a"].new_client_id(), price, TimeInForce.GTC
        )
        o = await v.manager.submit(req, "e1", "leg0")
        while "stream" not in o.seq_by_source:  # the stream's NEW arrives
            await asyncio.sleep(0.02)
        v.ex("a").faults.inject(FaultKind.STREAM_DROP)
        v.emus["a"].private.on_tick()
        await v.stop_following()  # the stream is gone: only REST is left
        v.ex("a").trade(SYMBOL, Decimal(str(price)), Decimal("0.01"))
        await v.manager.query(o)
        assert o.status is OrderStatus.FILLED and o.filled == pytest.approx(0.01)
        assert v.ex("a").faults.fired[FaultKind.STREAM_DROP] == 1
        _journal_matches_truth(v)

    run_venues(main, tmp_path)


def test_hedge_on_a_third_emulated_venue(tmp_path):
    """Leg A fills on venue a, leg B is refused on venue b: the hedge policy sells the missing
    quantity on venue c, all over sockets; the emulators' accounts show it."""

    async def main(v: Venues) -> None:
        await v.load_book("c")  # the bot's view of c, from c's REST depth
        v.ex("b").faults.inject(FaultKind.REJECT_BALANCE)
        res = await v.machine.run("e1", v.opportunity("e1"))
        assert res.state == "HEDGED", (res.state, res.reason)
        assert [(o.purpose, o.request.venue, o.status) for o in res.orders] == [
            ("leg0", "a", OrderStatus.FILLED),
            ("leg1", "b", OrderStatus.REJECTED),
            ("hedge", "c", OrderStatus.FILLED),
        ]
        truth = v.truth()
        assert truth[("a", "BTC")] == pytest.approx(0.01 * 0.999)  # bought on a, fee in BTC
        assert truth[("c", "BTC")] == pytest.approx(-0.00999)  # the hedge sold exactly that on c
        assert truth[("c", "USDT")] > 0 and ("b", "BTC") not in truth and ("b", "USDT") not in truth
        assert v.venue_orders("b") == []  # refused: nothing placed on b
        assert sum(q for (_, a), q in truth.items() if a == "BTC") == pytest.approx(0.0, abs=1e-12)
        assert not res.residuals
        _journal_matches_truth(v)

    run_venues(
        main,
        tmp_path,
        names=("a", "b", "c"),
        policy=LegPolicy(on_divergence=("hedge",), hedge_venues=("c",), hedge_price_limit_pct=1.0),
        recenter=60_000.0,
    )
