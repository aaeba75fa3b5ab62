"""Run statistics: drawdown on the full equity path, the Sharpe ratio and the basis it states."""

from __future__ import annotations

import itertools
import math

import pytest
from arbot.events import ExecutionReport, Fill, FillStatus, Leg, Opportunity, Side
from arbot.performance import PerformanceTracker

OPP = Opportunity(
    "o",
    0.0,
    "spatial",
    "BTC/USDT",
    (Leg("a", "BTC/USDT", Side.BUY, 100.0, 1.0), Leg("b", "BTC/USDT", Side.SELL, 101.0, 1.0)),
    1.0,
    0.8,
    0.8,
)
FILLED = Fill(
    "o",
    "a",
    "BTC/USDT",
    Side.BUY,
    "IOC",
    1.0,
    100.0,
    1.0,
    100.0,
    0.1,
    "USDT",
    FillStatus.FILLED,
    0.0,
    0,
    "BACKTEST",
)


def _report(ts: float, pnl: float) -> ExecutionReport:
    return ExecutionReport(OPP, (FILLED,), ts, pnl, 0.1, "", 0.8, "DONE")


def test_drawdown_between_two_equity_samples_is_counted():
    """A loss and its recovery inside one sampling interval is still the run's drawdown (the
    reference backtest reported 0.00 while its report drew the dips)."""
    perf = PerformanceTracker("BACKTEST", 60.0)
    perf.sample_equity(0.0, 10_000.0)
    for ts, pnl in ((1.0, 100.0), (2.0, -300.0), (3.0, 50.0), (4.0, 500.0)):
        perf.on_report(_report(ts, pnl))
    perf.sample_equity(60.0, 10_350.0)
    dd_usd, dd_frac = perf.max_drawdown()
    assert dd_usd == pytest.approx(300.0)
    assert dd_frac == pytest.approx(300.0 / 10_100.0)  # from the peak of 10,000 + 100
    day = perf.daily_rows()[0]
    assert day.max_drawdown == pytest.approx(300.0 / 10_100.0)


def test_a_first_losing_trade_is_a_drawdown_from_the_starting_capital():
    perf = PerformanceTracker("BACKTEST", 60.0)
    perf.sample_equity(0.0, 1_000.0)
    perf.on_report(_report(1.0, -10.0))
    assert perf.max_drawdown() == pytest.approx((10.0, 0.01))


def test_sharpe_is_annualised_by_the_stated_interval():
    perf = PerformanceTracker("BACKTEST", 60.0)
    equity = [1_000.0, 1_001.0, 1_001.5, 1_003.0, 1_002.0]
    perf.sample_equity(0.0, equity[0])
    for i, (before, after) in enumerate(itertools.pairwise(equity), 1):
        perf.on_report(_report(60.0 * i - 1.0, after - before))  # strategy equity = capital + PnL
        perf.sample_equity(60.0 * i, after)
    assert perf.equity == pytest.approx(equity)
    rets = [b / a - 1.0 for a, b in itertools.pairwise(equity)]
    mean = sum(rets) / len(rets)
    sd = math.sqrt(sum((r - mean) ** 2 for r in rets) / (len(rets) - 1))
    assert perf.sharpe() == pytest.approx(mean / sd * math.sqrt(365 * 86_400 / 60.0))
    basis = perf.sharpe_basis()
    assert "4 returns over 60 s" in basis and "525,600 intervals per year" in basis
    assert "overstates" in basis  # four minutes of data
