"""ArBot sweeps: many backtests of one configuration (parameter grid × data windows × seeds) on
local cores or a Ray cluster, their results in one table."""

from arbot_sweep.grid import GridAxis, Run, SweepPlan, Window, parse_axis, parse_seeds, parse_window, plan
from arbot_sweep.runner import METRICS, RunOutcome, RunTask, build_config, run_backtest_task

__all__ = [
    "METRICS",
    "GridAxis",
    "Run",
    "RunOutcome",
    "RunTask",
    "SweepPlan",
    "Window",
    "build_config",
    "parse_axis",
    "parse_seeds",
    "parse_window",
    "plan",
    "run_backtest_task",
]
