"""One run of a sweep: the configuration with the run's overrides, a backtest, its outcome.

:func:`run_backtest_task` is what a worker process (local pool or Ray) executes. It never
raises: a run that fails (an exception, lost data, a component fault) comes back as a
:class:`RunOutcome` with ``ok = False`` and its error, so one bad run never stops the others.
The configuration travels as the file's parsed tables (and the file's path, for relative
paths), so a worker on another machine does not need the file itself.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any, Literal

import attrs
from arbot.bot import Bot
from arbot.config import BotConfig, apply_overrides, config_from_dict
from arbot.logs import configure_logging

__all__ = ["METRICS", "RunOutcome", "RunTask", "build_config", "run_backtest_task"]

#: Summary metrics kept in the results table (all deterministic for a given configuration and seed).
METRICS: tuple[str, ...] = (
    "events",
    "detected",
    "executed",
    "missed",
    "rejected",
    "pnl_usd",
    "gross_pnl_usd",
    "fees_usd",
    "expected_pnl_usd",
    "edge_capture",
    "win_rate",
    "max_drawdown_usd",
    "max_drawdown_pct",
    "sharpe",
    "mark_to_market_end_usd",
)


@attrs.frozen
class RunTask:
    """What a worker needs for one run: the raw configuration, the overrides, the run folder."""

    index: int
    data: dict[str, Any]
    config_file: str | None
    overrides: tuple[str, ...]
    output_dir: str
    log_level: str = "WARNING"
    log_format: Literal["text", "json"] = "text"


@attrs.frozen
class RunOutcome:
    """The result of one run: success, its error, its metrics and where its journal is."""

    index: int
    ok: bool
    error: str | None
    metrics: dict[str, float | int | None]
    run_id: str | None
    output_dir: str
    wall_seconds: float


def build_config(
    data: dict[str, Any], config_file: str | None, overrides: tuple[str, ...], output_dir: str | None
) -> BotConfig:
    """The run's configuration: the file's tables with ``overrides`` applied exactly as
    ``arbot backtest --set`` does, validated, writing to ``output_dir``."""
    tables = apply_overrides(copy.deepcopy(data), list(overrides))
    cfg = config_from_dict(tables, Path(config_file) if config_file is not None else None)
    if output_dir is not None:
        cfg.output_dir = output_dir
    return cfg


def _metrics(summary: dict[str, Any]) -> dict[str, float | int | None]:
    return {name: summary.get(name) for name in METRICS}


def _summary_error(summary: dict[str, Any]) -> str:
    parts = list(summary.get("faults") or [])
    parts += [f"sink {s} lost {n} events" for s, n in (summary.get("lost") or {}).items()]
    if summary.get("failure"):
        parts.insert(0, str(summary["failure"]))
    return "; ".join(parts) or "the run ended with exit code 1"


def run_backtest_task(task: RunTask) -> RunOutcome:
    """Run one backtest of the sweep; never raises (a failure is the outcome's ``error``)."""
    configure_logging(task.log_level, task.log_format)
    t0 = time.perf_counter()
    bot: Bot | None = None
    try:
        cfg = build_config(task.data, task.config_file, task.overrides, task.output_dir)
        bot = Bot(cfg, mode="backtest")
        summary = bot.run_backtest()
    except Exception as exc:
        summary = dict(bot.summary) if bot is not None and bot.summary else {}
        return RunOutcome(
            index=task.index,
            ok=False,
            error=f"{type(exc).__name__}: {exc}",
            metrics=_metrics(summary),
            run_id=summary.get("run_id"),
            output_dir=task.output_dir,
            wall_seconds=time.perf_counter() - t0,
        )
    ok = summary.get("exit_code", 0) == 0
    return RunOutcome(
        index=task.index,
        ok=ok,
        error=None if ok else _summary_error(summary),
        metrics=_metrics(summary),
        run_id=summary.get("run_id"),
        output_dir=task.output_dir,
        wall_seconds=time.perf_counter() - t0,
    )
