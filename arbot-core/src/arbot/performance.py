"""Run statistics: PnL, fees, win rate, equity curve, drawdown, Sharpe, daily rows."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter

import numpy as np

from arbot.events import DailyPerformance, ExecutionReport

__all__ = ["PerformanceTracker"]

SECONDS_PER_YEAR = 365.0 * 86400.0


def _day(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).date().isoformat()


class PerformanceTracker:
    """Accumulates execution results and equity samples; computes the run summary.

    The strategy equity curve is the starting capital (the portfolio's first full
    mark-to-market value) plus the cumulative PnL of executed opportunities; drawdown and Sharpe
    are computed on it, so that holding inventory through market moves is not mistaken for the
    strategy's result. The mark-to-market value is kept beside it (``mark_to_market``).

    The maximum drawdown is taken on the full equity path: strategy equity moves only when an
    execution reports, so its peak and trough are tracked at every report (a loss and its
    recovery between two samples still count), exactly as the HTML report draws it.
    Sharpe is the mean over the standard deviation of equity returns between samples (taken
    every ``interval_s`` of market time), annualised by ``sqrt(samples per year)``;
    :meth:`sharpe_basis` says so in words, with the number of returns it rests on.
    """

    def __init__(self, mode: str, interval_s: float) -> None:
        self.mode = mode
        self.interval_s = interval_s
        self.detected = 0
        self.executed = 0
        self.missed = 0
        self.rejected = 0
        self.rejected_by_rule: Counter[str] = Counter()
        self.pnl = 0.0
        self.fees = 0.0
        #: what the executed and missed opportunities promised when seen (USD)
        self.expected_pnl = 0.0
        #: episodes by the leg-risk machine's final state (DONE, MISSED, UNWOUND, HELD...)
        self.outcomes: Counter[str] = Counter()
        #: episodes that left exposure open (reported with venue, asset, amount)
        self.with_residual = 0
        self.wins = 0
        self.losses = 0
        self.equity_ts: list[float] = []
        self.equity: list[float] = []
        self.mark_to_market: list[float] = []
        self.capital: float | None = None
        self._days: dict[str, dict[str, float]] = {}
        #: the full equity path, in PnL terms: its highest point so far and the largest fall
        #: from a peak (USD), with the peak it fell from
        self._peak_pnl = 0.0
        self._max_dd_usd = 0.0
        self._max_dd_peak_pnl = 0.0

    def _daybook(self, ts: float) -> dict[str, float]:
        d = _day(ts)
        book = self._days.get(d)
        if book is None:
            # peak: the highest cumulative PnL of the day so far (it starts where the day starts);
            # dd: the day's largest fall from such a peak, dd_peak: the peak it fell from
            book = {
                "signals": 0,
                "executed": 0,
                "pnl": 0.0,
                "fees": 0.0,
                "wins": 0,
                "peak": self.pnl,
                "dd": 0.0,
                "dd_peak": self.pnl,
            }
            self._days[d] = book
        return book

    def on_detected(self, ts: float) -> None:
        """Count a detected opportunity."""
        self.detected += 1
        self._daybook(ts)["signals"] += 1

    def on_rejected(self, rule: str) -> None:
        """Count a rejection by ``rule``."""
        self.rejected += 1
        self.rejected_by_rule[rule] += 1

    def on_report(self, report: ExecutionReport) -> None:
        """Count an execution (or a miss when nothing filled); expected vs realised edge."""
        self.expected_pnl += report.expected_pnl_usd
        if report.outcome:
            self.outcomes[report.outcome] += 1
        if report.residual:
            self.with_residual += 1
        if not report.executed:
            self.missed += 1
            return
        self.executed += 1
        # pnl_usd is net of fees; keep gross and fees apart for the daily table
        self.pnl += report.pnl_usd
        if self.pnl > self._peak_pnl:
            self._peak_pnl = self.pnl
        elif self._peak_pnl - self.pnl > self._max_dd_usd:
            self._max_dd_usd = self._peak_pnl - self.pnl
            self._max_dd_peak_pnl = self._peak_pnl
        self.fees += report.fees_usd
        if report.pnl_usd > 0:
            self.wins += 1
        else:
            self.losses += 1
        day = self._daybook(report.ts)
        if self.pnl > day["peak"]:
            day["peak"] = self.pnl
        elif day["peak"] - self.pnl > day["dd"]:
            day["dd"] = day["peak"] - self.pnl
            day["dd_peak"] = day["peak"]
        day["executed"] += 1
        day["pnl"] += report.pnl_usd
        day["fees"] += report.fees_usd
        day["wins"] += 1 if report.pnl_usd > 0 else 0

    def sample_equity(self, ts: float, mark_to_market: float) -> None:
        """Record one point of the equity curves, given the portfolio's value now."""
        if self.capital is None:
            self.capital = mark_to_market - self.pnl
        self.equity_ts.append(ts)
        self.equity.append(self.capital + self.pnl)
        self.mark_to_market.append(mark_to_market)

    # -- derived ------------------------------------------------------------------------

    @property
    def edge_capture(self) -> float | None:
        """Realised over expected PnL of every submitted opportunity (None before any expectation)."""
        return self.pnl / self.expected_pnl if self.expected_pnl > 0.0 else None

    @property
    def win_rate(self) -> float | None:
        """Winning executions over all executions (None before the first)."""
        n = self.wins + self.losses
        return self.wins / n if n else None

    def max_drawdown(self) -> tuple[float, float]:
        """(USD, fraction of the peak) of the largest fall of strategy equity from a previous
        peak, over every execution report (not only the sampled points)."""
        if self._max_dd_usd <= 0.0:
            return 0.0, 0.0
        capital = self.capital if self.capital is not None else 0.0
        peak = capital + self._max_dd_peak_pnl
        return self._max_dd_usd, self._max_dd_usd / peak if peak > 0 else 0.0

    def returns_per_year(self) -> float:
        """How many sampling intervals make a year (the Sharpe ratio's annualisation factor squared)."""
        return SECONDS_PER_YEAR / self.interval_s

    def sharpe(self, equity: list[float] | None = None) -> float | None:
        """Annualised Sharpe ratio of interval returns (None with fewer than 3 samples or no variance)."""
        eq = np.asarray(self.equity if equity is None else equity, dtype=np.float64)
        if len(eq) < 3:
            return None
        rets = np.diff(eq) / eq[:-1]
        sd = float(rets.std(ddof=1))
        if not sd > 0:
            return None
        return float(rets.mean() / sd * math.sqrt(self.returns_per_year()))

    def sharpe_mark_to_market(self) -> float | None:
        """The same ratio on the marked-to-market portfolio value (inventory price moves included)."""
        return self.sharpe(self.mark_to_market)

    def sharpe_basis(self) -> str:
        """How the Sharpe ratio is computed, in words, with the number of returns behind it."""
        n = max(len(self.equity) - 1, 0)
        interval = f"{self.interval_s:g} s"
        text = (
            f"mean / stdev of {n} returns over {interval} of strategy equity, "
            f"x sqrt({self.returns_per_year():,.0f} intervals per year); no risk-free rate"
        )
        if n * self.interval_s < 86_400.0:
            minutes = n * self.interval_s / 60.0
            text += f"; from {minutes:,.0f} min of data, a yearly figure overstates what is known"
        return text

    def daily_rows(self) -> list[DailyPerformance]:
        """One row per UTC day seen."""
        rows = []
        ts = np.asarray(self.equity_ts)
        eq = np.asarray(self.equity)
        for d in sorted(self._days):
            book = self._days[d]
            mask = np.array([_day(t) == d for t in ts], dtype=bool) if len(ts) else np.zeros(0, bool)
            day_eq = eq[mask].tolist() if len(ts) else []
            sharpe = self.sharpe(day_eq) if len(day_eq) >= 3 else None
            day_peak = (self.capital or 0.0) + book["dd_peak"]
            mdd = book["dd"] / day_peak if book["dd"] > 0.0 and day_peak > 0.0 else 0.0
            executed = int(book["executed"])
            rows.append(
                DailyPerformance(
                    date=d,
                    mode=self.mode,
                    total_signals=int(book["signals"]),
                    executed_trades=executed,
                    total_pnl=book["pnl"] + book["fees"],
                    total_fees=book["fees"],
                    net_pnl=book["pnl"],
                    sharpe_ratio=sharpe,
                    max_drawdown=mdd,
                    win_rate=book["wins"] / executed if executed else None,
                )
            )
        return rows
