"""Backtest and paper share the execution code: the same events give the same fills; the reference
backtest shows what execution got of what was seen."""

from __future__ import annotations

import pytest
from arbot.bot import Bot
from arbot.engine import Engine
from arbot.execution.executors import BacktestExecutor, PaperExecutor, SimulatedSettings


def _cfg(make_config):
    return make_config(
        {
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["a", "b", "c"], "fees": {"a": {}, "b": {}, "c": {}}},
            "symbols": ["BTC/USDT"],
            "source": {"name": "simulator", "simulator": {"duration_s": 900, "dislocations_per_hour": 120}},
            "detector": {"spatial": {"enabled": True, "min_spread_pct": 0.25, "min_depth_usd": 100}},
            "portfolio": {"initial": {"USDT": 100_000, "BTC": 2.0}},
            "sinks": {"enabled": []},
            "risk": {
                "max_position_per_coin_usd": 1e6,
                "max_position_per_exchange_usd": 1e6,
                "max_total_exposure_usd": 1e6,
            },
        }
    )


def _run(make_config, executor_cls, **settings):
    bot = Bot(_cfg(make_config), mode="backtest")
    st = SimulatedSettings(latency_ms=50, seed=7, **settings)
    ex = executor_cls(st, bot.ctx)
    bot.executor = ex
    bot.engine = Engine(bot.ctx, bot.detectors, bot.risk_rules, ex, bot.sinks)
    reports = []
    on_report = bot.engine._on_report

    def keep(rep):
        reports.append(rep)
        on_report(rep)

    bot.engine._on_report = keep  # type: ignore[method-assign]
    summary = bot.run_backtest()
    return bot, reports, summary


def _fills(reports):
    return [
        (r.opportunity.id, r.outcome, f.venue, f.side, f.filled_qty, f.avg_price, f.fee, f.ts)
        for r in reports
        for f in r.fills
    ]


def test_paper_and_backtest_give_the_same_fills_for_the_same_events(make_config):
    _, back, _ = _run(make_config, BacktestExecutor, competition_rate=10.0, leg_failure_probability=0.05)
    _, paper, _ = _run(make_config, PaperExecutor, competition_rate=10.0, leg_failure_probability=0.05)
    assert back and _fills(back) == _fills(paper)
    assert {f.mode for r in paper for f in r.fills} == {"PAPER"}


def test_competition_and_faults_show_misses_divergence_and_unwinds_with_their_cost(make_config):
    bot, reports, summary = _run(
        make_config, BacktestExecutor, competition_rate=20.0, leg_failure_probability=0.05
    )
    outcomes = {r.outcome for r in reports}
    assert "UNWOUND" in outcomes and "DONE" in outcomes
    unwound = [r for r in reports if r.outcome == "UNWOUND"]
    assert all(any(f.filled_qty > 0 for f in r.fills[2:]) for r in unwound)
    assert all(r.pnl_usd < r.expected_pnl_usd for r in unwound)  # the unwind's cost
    perf = bot.engine.performance
    assert perf.expected_pnl == pytest.approx(sum(r.expected_pnl_usd for r in reports))
    assert perf.pnl < perf.expected_pnl and perf.edge_capture is not None and perf.edge_capture < 1.0
    assert perf.outcomes["UNWOUND"] == len(unwound)
    assert summary["counters"]["episodes:UNWOUND"] == len(unwound)
    assert perf.win_rate is not None and perf.win_rate < 1.0
    assert bot.executor.competition.contested > 0  # type: ignore[union-attr]


def test_without_competition_every_seen_edge_is_not_lost(make_config):
    _, calm, _ = _run(make_config, BacktestExecutor)
    _, rough, _ = _run(make_config, BacktestExecutor, competition_rate=50.0)
    assert sum(r.pnl_usd for r in rough) < sum(r.pnl_usd for r in calm)
