"""``arbot sweep CONFIG --grid KEY=V1,V2,...``: many backtests of one configuration, in parallel.

The runs are checked before any starts (every grid value builds a bot: a bad key or value is
exit 2), then run on local processes or a Ray cluster. Each run keeps its journal in its own
folder under ``--out``; the results go to one table (``results.parquet``, ``results.csv``) and
the best runs by ``--rank-by`` are printed. A failing run is recorded with its error and the
sweep goes on; the exit code is then 1.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import click
import polars as pl
from arbot.bot import Bot
from arbot.cli_support import EXIT_FAILED, CliOptions, console, err_console, fail
from arbot.config import BotConfig, apply_overrides, read_config_data
from arbot.errors import ArbotError, ConfigError
from arbot.logs import configure_logging
from arbot.plugins import PluginHost
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from arbot_sweep.dispatch import require_ray, run_local, run_on_ray
from arbot_sweep.grid import SweepPlan, parse_axis, parse_seeds, parse_window, plan
from arbot_sweep.results import results_table, top_runs, write_results
from arbot_sweep.runner import METRICS, RunOutcome, RunTask, build_config

__all__ = ["sweep"]

#: Metrics shown in the top-N table besides the one ranked by.
SHOWN = ("executed", "pnl_usd", "max_drawdown_usd", "sharpe")

#: The error of a run that had not finished when the sweep was interrupted.
INTERRUPTED = "interrupted: the sweep was stopped before this run finished"


def _plan(
    grids: Sequence[str], windows: Sequence[str], seeds: str | None, sample: int | None, sample_seed: int
) -> SweepPlan:
    return plan(
        [parse_axis(g) for g in grids],
        [parse_window(w) for w in windows],
        parse_seeds(seeds) if seeds is not None else (),
        sample,
        sample_seed,
    )


def _check(sweep_plan: SweepPlan, data: dict[str, Any], config: Path) -> None:
    """Build a bot for every value of every grid key that a run uses (the other keys at their first value) and
    validate every run's configuration: a bad key or value fails before anything runs."""
    file = str(config.resolve())
    first = sweep_plan.runs[0].overrides if sweep_plan.runs else ()
    host = PluginHost()
    with tempfile.TemporaryDirectory(prefix="arbot-sweep-check-") as scratch:
        if not sweep_plan.axes:  # seeds or windows only: one bot checks the configuration
            try:
                Bot(build_config(data, file, first, scratch), host=host, mode="backtest")
            except ArbotError as exc:
                shown = f" with {' '.join(first)}" if first else ""
                raise ConfigError(f"{config}{shown}: {exc}") from None
        used = {o for run in sweep_plan.runs for o in run.overrides}
        for axis in sweep_plan.axes:
            others = tuple(o for o in first if not o.startswith(f"{axis.key}="))
            for text in axis.texts:
                if f"{axis.key}={text}" not in used:  # left out by --random: never runs
                    continue
                try:
                    cfg = build_config(data, file, (*others, f"{axis.key}={text}"), scratch)
                    Bot(cfg, host=host, mode="backtest")
                except ArbotError as exc:
                    raise ConfigError(f"--grid {axis.key}={text}: {exc}") from None
        for run in sweep_plan.runs:
            try:
                build_config(data, file, run.overrides, scratch)
            except ArbotError as exc:
                raise ConfigError(f"run {run.index} ({' '.join(run.overrides)}): {exc}") from None


def _out_dir(out: Path | None, cfg: BotConfig) -> Path:
    folder = (out if out is not None else cfg.output_path / "sweep").resolve()
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--out {folder}: is a file")
    if folder.is_dir() and any(folder.iterdir()):
        raise ConfigError(f"--out {folder}: not empty (a sweep writes into a new or empty folder)")
    return folder


def _outcomes(
    tasks: Sequence[RunTask], ray: str | None, workers: int | None, progress: bool
) -> list[RunOutcome]:
    source: Iterator[RunOutcome] = (
        run_on_ray(tasks, ray, workers)
        if ray is not None
        else run_local(tasks, workers or os.cpu_count() or 1)
    )
    outcomes: list[RunOutcome] = []
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: the caller writes the finished runs' results
        _collect(source, outcomes, len(tasks), progress)
    return outcomes


def _collect(source: Iterator[RunOutcome], outcomes: list[RunOutcome], total: int, progress: bool) -> None:
    """Append each outcome of ``source`` to ``outcomes`` as it arrives (failures printed)."""

    def note(outcome: RunOutcome) -> None:
        outcomes.append(outcome)
        if not outcome.ok:
            name = Path(outcome.output_dir).name
            err_console.print(
                f"[bold red]run {name} failed:[/] {escape(outcome.error or '')}", highlight=False
            )

    if not progress:
        for outcome in source:
            note(outcome)
        return
    columns = (TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("runs", total=total)
        for outcome in source:
            note(outcome)
            bar.advance(task)


def _unfinished(tasks: Sequence[RunTask], outcomes: Sequence[RunOutcome]) -> list[RunOutcome]:
    """A failed outcome for every task that has none (the sweep was interrupted first)."""
    done = {o.index for o in outcomes}
    return [
        RunOutcome(t.index, False, INTERRUPTED, {}, None, t.output_dir, 0.0)
        for t in tasks
        if t.index not in done
    ]


def _cell(value: object, param: bool = False) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and not param:
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.2f}"
    if isinstance(value, datetime):  # instants of windows are UTC
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _print_top(frame: pl.DataFrame, param_keys: Sequence[str], rank_by: str, n: int, ascending: bool) -> None:
    best = top_runs(frame, rank_by, n, ascending)
    order = "ascending" if ascending else "descending"
    table = Table(title=f"top {len(best)} of {frame.height} runs by {rank_by} ({order})")
    columns = ["folder", *param_keys, rank_by, *(m for m in SHOWN if m != rank_by)]
    for col in columns:
        justify: Literal["left", "right"] = "left" if col in ("folder", *param_keys) else "right"
        table.add_column(escape(col), justify=justify, overflow="fold", min_width=min(len(col), 10))
    for row in best.iter_rows(named=True):
        table.add_row(*(escape(_cell(row[c], c in param_keys)) for c in columns))
    console.print(table)


def _log_level() -> tuple[str, Any]:
    ctx = click.get_current_context(silent=True)
    opts = (ctx.find_object(CliOptions) if ctx is not None else None) or CliOptions()
    return opts.log_level or "WARNING", opts.log_format or "text"


@click.command("sweep")
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--grid",
    "grids",
    multiple=True,
    metavar="KEY=V1,V2,...",
    help="a dotted key (as --set) and its values; LO:HI[:STEP] is an inclusive range; repeat for more keys",
)
@click.option(
    "--window",
    "windows",
    multiple=True,
    metavar="START/END",
    help="a data range (sets backtest.start and backtest.end; ISO 8601, no zone = UTC); repeatable",
)
@click.option("--seeds", metavar="S1,S2,...", help="run every point with each seed (1,2,3 or 1:8)")
@click.option(
    "--random",
    "sample",
    type=click.IntRange(min=1),
    metavar="N",
    help="run N points drawn from the grid × windows",
)
@click.option("--sample-seed", type=int, default=0, show_default=True, help="seed of the --random draw")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="override a key in every run, e.g. --set backtest.duration_s=600",
)
@click.option(
    "--ray",
    metavar="ADDRESS|auto",
    help="run on a Ray cluster (arbot-sweep[ray]); auto: this machine's cluster, started if none runs",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="parallel runs (local: processes, default every core; Ray: at most this many in flight)",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="new or empty folder for the runs and results (default: <output_dir>/sweep of CONFIG)",
)
@click.option(
    "--rank-by",
    default="pnl_usd",
    show_default=True,
    type=click.Choice(METRICS),
    help="metric the printed top runs are sorted by",
)
@click.option("--ascending", is_flag=True, help="smallest --rank-by first (e.g. max_drawdown_usd)")
@click.option(
    "--top", "top_n", type=click.IntRange(min=1), default=10, show_default=True, help="runs printed"
)
@click.option("--no-progress", is_flag=True, help="no progress bar")
def sweep(
    config: Path,
    grids: tuple[str, ...],
    windows: tuple[str, ...],
    seeds: str | None,
    sample: int | None,
    sample_seed: int,
    overrides: tuple[str, ...],
    ray: str | None,
    workers: int | None,
    out: Path | None,
    rank_by: str,
    ascending: bool,
    top_n: int,
    no_progress: bool,
) -> None:
    """Backtest CONFIG for every point of a parameter grid (× data windows × seeds), in parallel.

    Each run writes its journal to its own folder under --out; the results table
    (results.parquet, results.csv: parameters, status, error and summary metrics of every run) is
    written there and the best runs by --rank-by are printed. Exit 0 when every run succeeded,
    1 when any failed (each is recorded with its error), 2 for a bad grid, key or value.
    """
    level, fmt = _log_level()
    configure_logging(level, fmt)
    try:
        sweep_plan = _plan(grids, windows, seeds, sample, sample_seed)
        if ray is not None:
            require_ray()
        data = apply_overrides(read_config_data(config), list(overrides))
        base = build_config(data, str(config.resolve()), (), None)
        _check(sweep_plan, data, config)
        folder = _out_dir(out, base)
    except ArbotError as exc:
        fail(exc)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(ConfigError(f"--out {folder}: cannot create the folder: {exc.strerror or exc}"))
    width = len(str(max(0, len(sweep_plan.runs) - 1)))
    tasks = [
        RunTask(
            run.index,
            data,
            str(config.resolve()),
            run.overrides,
            str(folder / f"run-{run.index:0{width}d}"),
            level,
            fmt,
        )
        for run in sweep_plan.runs
    ]
    (folder / "sweep.json").write_text(
        json.dumps(
            {
                "command": shlex.join(["arbot", *sys.argv[1:]]),
                "config": str(config.resolve()),
                "set": list(overrides),
                "points_total": sweep_plan.points_total,
                "runs": [
                    {"run": t.index, "folder": Path(t.output_dir).name, "overrides": list(t.overrides)}
                    for t in tasks
                ],
            },
            indent=2,
        )
    )
    console.print(
        escape(f"sweep: {len(tasks)} runs ({sweep_plan.points_total} grid points) into {folder}"),
        highlight=False,
    )
    try:
        outcomes = _outcomes(tasks, ray, workers, not no_progress)
    except ArbotError as exc:
        fail(exc, EXIT_FAILED)
    missing = _unfinished(tasks, outcomes)
    frame = results_table(sweep_plan, [*outcomes, *missing])
    written = write_results(frame, folder)
    _print_top(frame, sweep_plan.param_keys, rank_by, top_n, ascending)
    console.print(escape("results: " + ", ".join(str(p) for p in written)), highlight=False)
    if missing:
        err_console.print(
            f"[bold red]error:[/] interrupted: {len(outcomes)} of {len(tasks)} runs finished "
            f"(the others have status 'failed' in the results)",
            highlight=False,
        )
        sys.exit(EXIT_FAILED)
    failed = [o for o in outcomes if not o.ok]
    if failed:
        err_console.print(
            f"[bold red]error:[/] {len(failed)} of {len(tasks)} runs failed (status 'failed' in the results)",
            highlight=False,
        )
        sys.exit(EXIT_FAILED)
