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
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest
from arbot.events import Leg, Opportunity, Side
from arbot.execution.journal import SqliteJournal, replay_positions
from arbot.execution.killswitch import KILL_FLAG, KillSwitch, blocked_flag
from arbot.execution.legs import LegPolicy, LegRiskMachine
from arbot.execution.orders import OrderManager
from arbot.execution.reconcile import Reconciler
from arbot.execution.runtime import AsyncioRuntime
from arbot.market import MarketState
from arbot.testing.emulator.exchange_faults import FaultKind
from arbot.testing.execution import Renamed
from arbot.trading import (
    OrderRequest,
    OrderStatus,
    OrderType,
    TimeInForce,
    TradingGateway,
)
from arbot.trading.signing import ApiCredentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

binance = pytest.importorskip("arbot_binance")
from arbot_binance.emulator import BinanceEmulator  # noqa: E402
from arbot_binance.trading import BinanceTradingGateway  # noqa: E402

SYMBOL = "BTC/USDT"
START = {"USDT": "1000000", "BTC": "2"}


class Venues:
    """Two started emulators with funded accounts, their gateways and the execution stack."""

    def __init__(
        self, emus: dict[str, BinanceEmulator], gws: dict[str, TradingGateway], keys: dict[str, str], path
    ) -> None:
        self.emus, self.gws, self.keys, self.path = emus, gws, keys, path
        self.rt = AsyncioRuntime(time.time)
        self.open_stack()

    def open_stack(self) -> None:
        self.journal = SqliteJournal(self.path)
        self.events: list[object] = []
        self.manager = OrderManager(self.gws, self.journal, self.rt, listener=self.events.append)
        self.kill = KillSwitch(self.journal, self.rt, self.events.append)
        self.machine = LegRiskMachine(
            self.manager,
            self.journal,
            self.rt,
            MarketState(),
            self.kill,
            LegPolicy(retry_attempts=1, unknown_wait_s=3.0),
            self.events.append,
            lambda v, s: 0.001,
        )

    def ex(self, venue: str):
        return self.emus[venue].private.exchange

    def best(self, venue: str) -> tuple[float, float]:
        book = self.emus[venue].true_book(SYMBOL)
        return book.best_bid, book.best_ask

    def truth(self) -> dict[tuple[str, str], float]:
        out = {}
        for v in self.emus:
            for asset, (free, locked) in self.ex(v).balances(self.keys[v]).items():
                d = float(free + locked - Decimal(START.get(asset, "0")))
                if abs(d) > 1e-12:
                    out[(v, asset)] = d
        return out

    def opportunity(self, oid: str, qty: float = 0.01) -> Opportunity:
        _, ask_a = self.best("a")
        bid_b, _ = self.best("b")
        legs = (Leg("a", SYMBOL, Side.BUY, ask_a, qty), Leg("b", SYMBOL, Side.SELL, bid_b, qty))
        return Opportunity(oid, time.time(), "spatial", SYMBOL, legs, 0.0, 0.0, 0.0)


def run_venues(main: Callable[[Venues], Awaitable[None]], tmp_path, timeout: float = 60.0) -> None:
    async def go() -> None:
        async with (
            BinanceEmulator((SYMBOL,), seed=5, tick_interval=None) as ea,
            BinanceEmulator((SYMBOL,), seed=9, tick_interval=None) as eb,
        ):
            emus = {"a": ea, "b": eb}
            gws: dict[str, TradingGateway] = {}
            keys = {}
            for v, emu in emus.items():
                acct = emu.private.create_account(dict(START))
                keys[v] = acct.api_key
                inner = BinanceTradingGateway(
                    ApiCredentials(acct.api_key, secret=acct.secret),
                    rest_url=emu.http_url,
                    ws_url=emu.ws_url,
                    timeout=3.0,
                )
                gw = Renamed(inner, v)
                await gw.start()
                gws[v] = gw
            try:
                await main(Venues(emus, gws, keys, tmp_path / "execution.sqlite"))
            finally:
                for gw in gws.values():
                    await gw.close()

    asyncio.run(asyncio.wait_for(go(), timeout))


def _journal_matches_truth(v: Venues) -> None:
    got = replay_positions(v.journal.fills())
    truth = v.truth()
    keys = {k for k, q in got.items() if abs(q) > 1e-9} | {k for k, q in truth.items() if abs(q) > 1e-9}
    for k in keys:
        assert got.get(k, 0.0) == pytest.approx(truth.get(k, 0.0), abs=1e-8), (k, got, truth)


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
]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    faults_a=st.lists(st.sampled_from(FAULTS), max_size=2),
    faults_b=st.lists(st.sampled_from(FAULTS), max_size=2),
)
def test_invariant_over_random_emulator_fault_schedules(tmp_path_factory, faults_a, faults_b):
    """After each episode against the emulators: the journal's positions equal the venues'
    balances, every order is settled, and net BTC is flat (but for fee dust) or reported."""
    path = tmp_path_factory.mktemp("inv")

    async def main(v: Venues) -> None:
        for venue, faults in (("a", faults_a), ("b", faults_b)):
            for kind in faults:
                param = (
                    0.01 if kind is FaultKind.RATE_LIMIT else (0.3 if kind is FaultKind.DELAY_FILL else None)
                )
                v.ex(venue).faults.inject(kind, param=param)
        res = await v.machine.run("e1", v.opportunity("e1"))
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
