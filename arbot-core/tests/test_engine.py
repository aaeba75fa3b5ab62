"""The engine end to end: detection, risk, latency-aware fills, portfolio, journal, determinism."""

from __future__ import annotations

import sqlite3

import pytest
from arbot.bot import Bot
from arbot.events import BookUpdate, SignalStatus


def _cfg(make_config, **over):
    data = {
        "system": {"execution_mode": "backtest"},
        "exchanges": {"enabled": ["a", "b"]},
        "symbols": ["BTC/USDT"],
        "source": {"name": "simulator", "simulator": {"venues": ["a", "b"], "duration_s": 120}},
        "detector": {"spatial": {"enabled": True, "min_spread_pct": 0.25, "min_depth_usd": 100}},
        "executor": {"latency_ms": 50},
        "portfolio": {"initial": {"USDT": 100_000, "BTC": 2.0}},
        "sinks": {"enabled": ["sqlite_journal"]},
        "risk": {
            "max_position_per_coin_usd": 1e6,
            "max_position_per_exchange_usd": 1e6,
            "max_total_exposure_usd": 1e6,
        },
    }
    data.update(over)
    return make_config(data)


def _book(ts, venue, bid, ask, qty=1.0):
    return BookUpdate(ts, venue, "BTC/USDT", [(bid, qty)], [(ask, qty)], True, ts)


def test_opportunity_flows_to_fills_portfolio_and_journal(make_config):
    bot = Bot(_cfg(make_config), mode="backtest")
    bot._start()
    eng = bot.engine
    eng.process(_book(1000.0, "a", 59_990.0, 60_000.0))
    eng.process(_book(1000.01, "b", 60_400.0, 60_410.0))  # b's bid 0.67 % above a's ask
    assert eng.performance.detected == 1
    assert bot.executor is not None and bot.executor.pending() == 1
    # 50 ms later the fill happens against the books as they are then
    eng.process(_book(1000.07, "a", 59_990.0, 60_000.0))
    assert bot.executor.pending() == 0
    pf = bot.ctx.portfolio
    assert pf.balance("a", "BTC") == pytest.approx(3.0)
    assert pf.balance("b", "BTC") == pytest.approx(1.0)
    fee_a = 60_000.0 * 0.001
    fee_b = 60_400.0 * 0.001
    assert pf.balance("a", "USDT") == pytest.approx(100_000 - 60_000 - fee_a)
    assert pf.balance("b", "USDT") == pytest.approx(100_000 + 60_400 - fee_b)
    assert eng.performance.executed == 1
    assert eng.performance.pnl == pytest.approx(400.0 - fee_a - fee_b)
    eng.finish()
    summary = bot._stop(1.0)
    assert summary["executed"] == 1 and summary["fees_usd"] == pytest.approx(fee_a + fee_b)
    db = sqlite3.connect(bot.sinks[0].path)  # type: ignore[attr-defined]
    rows = db.execute(
        "select status, buy_exchange, sell_exchange, actual_pnl from arbitrage_signals"
    ).fetchall()
    assert rows == [("EXECUTED", "a", "b", pytest.approx(400.0 - fee_a - fee_b))]
    trades = db.execute("select exchange, side, status, filled_qty from trades order by exchange").fetchall()
    assert trades == [("a", "BUY", "FILLED", 1.0), ("b", "SELL", "FILLED", 1.0)]
    assert db.execute("select count(*) from portfolio_snapshots").fetchone()[0] > 0
    assert db.execute("select executed_trades from daily_performance").fetchone()[0] == 1


def test_latency_means_a_vanished_spread_is_missed(make_config):
    bot = Bot(_cfg(make_config), mode="backtest")
    eng = bot.engine
    reports = []
    eng._on_report = reports.append  # type: ignore[method-assign]
    eng.process(_book(1000.0, "a", 59_990.0, 60_000.0))
    eng.process(_book(1000.01, "b", 60_400.0, 60_410.0))
    # within the latency, b's bid collapses below the limit: the sell leg cannot fill
    eng.process(_book(1000.03, "b", 59_995.0, 60_005.0))
    eng.process(_book(1000.08, "a", 59_990.0, 60_000.0))
    eng.finish()
    # the buy leg filled, the sell leg did not; its retry missed too, so the buy was unwound on a
    (rep,) = reports
    assert rep.outcome == "UNWOUND" and rep.executed
    assert [(f.venue, f.side, f.filled_qty) for f in rep.fills] == [
        ("a", "BUY", 1.0), ("b", "SELL", 0.0), ("b", "SELL", 0.0), ("a", "SELL", 1.0)
    ]
    pf = bot.ctx.portfolio
    assert pf.balance("b", "BTC") == pytest.approx(2.0)
    assert pf.balance("a", "BTC") == pytest.approx(2.0)
    # the unwind's cost: the spread crossed twice and two taker fees
    assert pf.balance("a", "USDT") == pytest.approx(100_000 - 60_000 * 1.001 + 59_990 * 0.999)
    assert rep.pnl_usd == pytest.approx(-10.0 - 60.0 - 59.99)
    assert rep.expected_pnl_usd > 0


def test_risk_rejection_carries_rule_and_reason(make_config):
    cfg = _cfg(make_config, risk={"max_spread_pct": 0.5, "max_position_per_coin_usd": 1e6})
    bot = Bot(cfg, mode="backtest")
    records = []
    bot.engine._record = records.append  # type: ignore[method-assign]
    bot.engine.process(_book(1000.0, "a", 59_990.0, 60_000.0))
    bot.engine.process(_book(1000.01, "b", 60_400.0, 60_410.0))
    assert records and records[0].status is SignalStatus.REJECTED
    assert records[0].reason.startswith("spread_anomaly: gross spread 0.667% > max_spread_pct 0.5%")
    assert bot.engine.performance.rejected_by_rule == {"spread_anomaly": 1}


def test_crossed_book_is_counted_and_not_traded(make_config):
    bot = Bot(_cfg(make_config), mode="backtest")
    bot.engine.process(_book(1000.0, "a", 60_100.0, 60_000.0))
    assert bot.ctx.counters["crossed_books"] == 1
    assert bot.engine.performance.detected == 0


def test_same_config_and_seed_give_the_same_numbers(make_config):
    results = []
    for _ in range(2):
        bot = Bot(_cfg(make_config, sinks={"enabled": []}), mode="backtest")
        s = bot.run_backtest()
        results.append(
            {
                k: s[k]
                for k in (
                    "events",
                    "detected",
                    "executed",
                    "rejected",
                    "pnl_usd",
                    "fees_usd",
                    "win_rate",
                    "max_drawdown_usd",
                    "sharpe",
                )
            }
        )
    assert results[0] == results[1]
    assert results[0]["events"] > 1000


def test_simulator_dislocations_open_real_arbitrage(make_config):
    cfg = _cfg(
        make_config,
        exchanges={"enabled": ["a", "b", "c"]},
        sinks={"enabled": []},
        source={
            "name": "simulator",
            "simulator": {"venues": ["a", "b", "c"], "duration_s": 600, "dislocations_per_hour": 60},
        },
    )
    bot = Bot(cfg, mode="backtest")
    s = bot.run_backtest()
    assert s["detected"] > 0 and s["executed"] > 0
    assert s["pnl_usd"] > 0
    # value is conserved: realised PnL equals the change in value at constant prices (+/- inventory marks)
    assert s["fees_usd"] > 0


def test_a_live_stream_that_stops_mid_episode_still_reports_the_episode(make_config):
    """Stopping a live stream while an episode is in flight: the engine waits for the episode,
    reports it and journals its signal -- it is not dropped between the executor and the sinks."""
    import asyncio
    import math

    from arbot.engine import Engine
    from arbot.execution.executors import BacktestExecutor, SimulatedSettings

    class InFlightExecutor(BacktestExecutor):
        """Fills as the backtest executor does, but each submission settles in its own task."""

        def __init__(self, settings: SimulatedSettings, ctx: object) -> None:
            super().__init__(settings, ctx)  # type: ignore[arg-type]
            self.tasks: list[asyncio.Future[None]] = []

        def submit(self, opportunity, now):  # type: ignore[no-untyped-def]
            super().submit(opportunity, now)
            self.tasks.append(asyncio.ensure_future(asyncio.sleep(0.05)))

        def next_due(self) -> float:
            return 0.0 if self.tasks and all(t.done() for t in self.tasks) else math.inf

        def due(self, now: float):  # type: ignore[no-untyped-def]
            if not all(t.done() for t in self.tasks):
                return []
            return super().due(math.inf)

        async def settle(self) -> None:
            await asyncio.gather(*self.tasks)

    bot = Bot(_cfg(make_config), mode="backtest")
    bot._start()
    ex = InFlightExecutor(SimulatedSettings(latency_ms=0, seed=1), bot.ctx)
    bot.executor = ex
    bot.engine = eng = Engine(bot.ctx, bot.detectors, bot.risk_rules, ex, bot.sinks)
    stop = asyncio.Event()

    async def stream():  # type: ignore[no-untyped-def]
        yield _book(1000.0, "a", 59_990.0, 60_000.0)
        stop.set()  # the stop arrives with the event that opens the episode
        yield _book(1000.01, "b", 60_400.0, 60_410.0)
        yield _book(1000.02, "a", 59_990.0, 60_000.0)  # never processed: the loop ends first

    asyncio.run(eng.arun(stream(), stop))
    assert eng.performance.detected == 1
    assert eng.performance.executed == 1, "the episode in flight at the stop was never reported"
    bot._stop(1.0)
    db = sqlite3.connect(bot.sinks[0].path)  # type: ignore[attr-defined]
    assert db.execute("select status from arbitrage_signals").fetchall() == [("EXECUTED",)]


def test_liquidity_a_fill_took_stays_gone_then_refills(make_config):
    """The simulated executor re-applies its own market impact to fresh snapshots, decaying over
    impact_decay_s, and the engine stops calling it once nothing is left to re-apply."""
    bot = Bot(_cfg(make_config, sinks={"enabled": []}, executor={"latency_ms": 50, "impact_decay_s": 2.0}))
    eng = bot.engine
    ex = bot.executor
    assert ex is not None and not ex.observing  # idle: not called on book updates
    eng.process(_book(1000.0, "a", 59_990.0, 60_000.0, qty=1.5))
    eng.process(_book(1000.01, "b", 60_400.0, 60_410.0, qty=1.5))
    assert eng.performance.detected == 1
    eng.process(_book(1000.07, "a", 59_990.0, 60_000.0, qty=1.5))  # the fill lands: 1 BTC of a's ask
    assert eng.performance.executed == 1 and ex.observing
    taken = 1.5 - bot.ctx.market.book("a", "BTC/USDT").asks.quantity_at(60_000.0)
    assert taken > 0.5
    eng.process(_book(1001.07, "a", 59_990.0, 60_000.0, qty=1.5))  # half the decay later
    left = bot.ctx.market.book("a", "BTC/USDT").asks.quantity_at(60_000.0)
    assert left == pytest.approx(1.5 - taken * (1.0 - 1.0 / 2.0), rel=0.05)
    eng.process(_book(1002.2, "a", 59_990.0, 60_000.0, qty=1.5))  # decayed: the level is whole again
    assert bot.ctx.market.book("a", "BTC/USDT").asks.quantity_at(60_000.0) == 1.5
    eng.process(_book(1002.3, "b", 60_000.0, 60_010.0, qty=1.5))
    assert not ex.observing  # every impact expired
