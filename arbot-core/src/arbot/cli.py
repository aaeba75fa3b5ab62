"""The ``arbot`` command: list plugins, check configurations, run backtests, paper and live bots.

Exit codes: 0 success, 1 runtime failure or lost data, 2 usage or configuration error.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any, Literal

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from arbot import __version__
from arbot.bot import Bot
from arbot.cli_support import EXIT_FAILED, EXIT_USAGE, CliOptions, console, err_console, fail, load_for_cli
from arbot.commands.config import config_group
from arbot.commands.stop import engage_kill_switch, stop_command
from arbot.config import BotConfig
from arbot.errors import ArbotError
from arbot.plugins import PluginHost
from arbot.sinks.parquet_recorder import ParquetRecorder
from arbot.sinks.sqlite_journal import SqliteJournal

__all__ = ["cli", "main"]


@click.group()
@click.version_option(__version__, prog_name="arbot")
@click.option("-v", "--verbose", count=True, help="-v: INFO, -vv: DEBUG (overrides system.log_level)")
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="log threshold (overrides system.log_level)",
)
@click.option("--log-format", type=click.Choice(["text", "json"]), help="text, or one JSON object per line")
@click.pass_context
def cli(ctx: click.Context, verbose: int, log_level: str | None, log_format: str | None) -> None:
    """ArBot: plugin-based crypto arbitrage bots.

    Exit codes: 0 success, 1 runtime failure or lost data, 2 usage or configuration error.
    """
    level = log_level.upper() if log_level else ("DEBUG" if verbose >= 2 else "INFO" if verbose else None)
    fmt: Literal["text", "json"] | None = "json" if log_format == "json" else "text" if log_format else None
    ctx.obj = CliOptions(level, fmt)


def main() -> None:
    """Entry point of ``arbot``: ArBot's commands plus those plugins add, then run."""
    host = PluginHost()
    host.hook.arbot_register_commands(cli=cli)
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        fail("aborted", EXIT_FAILED)
    except click.ClickException as exc:  # usage errors: click's own message, exit 2
        exc.show()
        sys.exit(EXIT_USAGE)
    except SystemExit:
        raise
    except Exception as exc:  # a bug: one line, the traceback only when asked for (-vv)
        logging.getLogger("arbot.cli").debug("unexpected error", exc_info=exc)
        fail(f"unexpected {type(exc).__name__}: {exc} (run with -vv for the traceback)", EXIT_FAILED)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
def plugins(as_json: bool) -> None:
    """List installed components: name, kind, package, version."""
    host = PluginHost()
    try:
        rows = host.components()
    except ArbotError as exc:
        fail(exc)
    if as_json:
        print(
            json.dumps(
                {
                    "components": [
                        {
                            "name": r.name,
                            "kind": r.kind,
                            "package": r.package,
                            "version": r.version,
                            "plugin": r.plugin,
                            "description": r.description,
                        }
                        for r in rows
                    ],
                    "failures": [
                        {"entry_point": f.entry_point, "package": f.package, "error": f.error}
                        for f in host.failures
                    ],
                },
                indent=2,
            )
        )
        return
    table = Table(title="ArBot components")
    used = 3 * 5 + 1  # borders and padding of five columns
    for col in ("name", "kind", "package", "version"):
        widest = max(len(col), *(len(getattr(r, col)) for r in rows))
        table.add_column(col, no_wrap=True, width=widest)
        used += widest
    room = max(10, min(60, console.width - used))
    table.add_column("description", no_wrap=True, overflow="ellipsis", width=room)
    for r in rows:
        table.add_row(r.name, r.kind, r.package, r.version, r.description)
    console.print(table)
    for f in host.failures:
        err_console.print(f"[yellow]warning:[/] {escape(str(f))}", highlight=False)



def _print_summary(summary: dict[str, Any], out: Console = console) -> None:
    t = Table(title=f"ArBot {summary['mode'].lower()} summary (run {summary['run_id']})", show_header=False)
    t.add_column("metric")
    t.add_column("value", justify="right")

    def money(x: float) -> str:
        return f"{x:,.2f} USD"

    def opt(x: float | None, fmt: str) -> str:
        return "n/a" if x is None else format(x, fmt)

    t.add_row("events processed", f"{summary['events']:,}")
    t.add_row("events / s", f"{summary['events_per_second']:,.0f}")
    t.add_row("opportunities detected", f"{summary['detected']:,}")
    t.add_row("executed", f"{summary['executed']:,}")
    t.add_row("missed (nothing filled)", f"{summary['missed']:,}")
    t.add_row("rejected", f"{summary['rejected']:,}")
    for rule, n in summary["rejected_by_rule"].items():
        t.add_row(escape(f"  rejected by {rule}"), f"{n:,}")
    for outcome, n in summary.get("outcomes", {}).items():
        t.add_row(escape(f"  episodes {outcome.lower()}"), f"{n:,}")
    if summary.get("episodes_with_residual"):
        t.add_row("  episodes left with residual exposure", f"{summary['episodes_with_residual']:,}")
    if "orders_partially_filled" in summary:
        t.add_row("  orders partially filled", f"{summary['orders_partially_filled']:,}")
    t.add_row("expected PnL (as detected)", money(summary.get("expected_pnl_usd", 0.0)))
    t.add_row("net PnL", money(summary["pnl_usd"]))
    capture = summary.get("edge_capture")
    shown = opt(None if capture is None else capture * 100, ".1f")
    t.add_row("edge captured (realised / expected)", shown + " %")
    t.add_row("fees", money(summary["fees_usd"]))
    t.add_row("gross PnL", money(summary["gross_pnl_usd"]))
    t.add_row(
        "win rate", opt(None if summary["win_rate"] is None else summary["win_rate"] * 100, ".1f") + " %"
    )
    t.add_row("max drawdown", f"{money(summary['max_drawdown_usd'])} ({summary['max_drawdown_pct']:.4f} %)")
    t.add_row("Sharpe (annualised, see basis below)", opt(summary["sharpe"], ".2f"))
    if "sharpe_mark_to_market" in summary:
        t.add_row("Sharpe of the marked-to-market value", opt(summary["sharpe_mark_to_market"], ".2f"))
    t.add_row("capital", money(summary["capital_usd"]))
    t.add_row(
        "portfolio marked to market, start / end",
        f"{money(summary['mark_to_market_start_usd'])} / {money(summary['mark_to_market_end_usd'])}",
    )
    out.print(t)
    if summary.get("sharpe_basis"):
        out.print(escape(f"Sharpe basis: {summary['sharpe_basis']}"), highlight=False)
    if summary.get("execution_model"):
        out.print(escape(f"execution model: {summary['execution_model']}"), highlight=False)
    source_stats = summary.get("source", {})
    flat = {k: v for k, v in source_stats.items() if not isinstance(v, dict)}
    if flat:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(flat.items()))
        out.print(escape(f"source {summary.get('source_name', '')}: {shown}"), highlight=False)
    for venue, stats in source_stats.items():
        if isinstance(stats, dict):
            shown = ", ".join(f"{k}={v}" for k, v in sorted(stats.items()) if v)
            out.print(escape(f"connector {venue}: {shown}"), highlight=False)
    for name, stats in summary.get("sinks", {}).items():
        out.print(escape(f"sink {name}: " + ", ".join(f"{k}={v}" for k, v in stats.items())), highlight=False)
    for warning in summary.get("warnings", []):
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)


def _report_failures(summary: dict[str, Any]) -> None:
    """Print what made the run fail and exit 1; return when it succeeded."""
    if summary.get("exit_code", 0) == 0:
        return
    for fault in summary.get("faults", []):
        err_console.print(f"[bold red]component failure:[/] {escape(fault)}", highlight=False)
    for sink, n in summary.get("lost", {}).items():
        err_console.print(
            f"[bold red]data lost:[/] sink {escape(sink)} could neither store nor spill {n:,} events",
            highlight=False,
        )
    if summary.get("failure"):
        err_console.print(f"[bold red]error:[/] {escape(summary['failure'])}", highlight=False)
    raise SystemExit(EXIT_FAILED)


def _journal_line(bot: Bot, out: Console) -> None:
    for sink in bot.sinks:
        if isinstance(sink, SqliteJournal) and sink.path.exists():
            out.print(escape(f"journal: {sink.path}"), highlight=False)


def _build(cfg: BotConfig, mode: str) -> Bot:
    try:
        return Bot(cfg, mode=mode)
    except ArbotError as exc:
        fail(exc)


set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="override a configuration key (dotted path, TOML value), e.g. --set backtest.duration_s=600",
)
config_argument = click.argument("config", type=click.Path(dir_okay=False, path_type=Path))


@cli.command()
@config_argument
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="also write the summary as JSON to this file (- for stdout; the table then goes to stderr)",
)
@click.option("--no-progress", is_flag=True, help="no progress bar")
@click.option("--seed", type=int, help="override [backtest] seed")
@set_option
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="write the journal and recordings here instead of the config's output_dir",
)
@click.option("--report", "with_report", is_flag=True, help="write an HTML report at the end (arbot-report)")
def backtest(
    config: Path,
    json_out: Path | None,
    no_progress: bool,
    seed: int | None,
    overrides: tuple[str, ...],
    output_dir: Path | None,
    with_report: bool,
) -> None:
    """Run a backtest of CONFIG on the virtual clock and print the summary."""
    if seed is not None:
        overrides = (*overrides, f"backtest.seed={seed}")
    bot = _build(load_for_cli(config, overrides, output_dir), "backtest")
    to_stdout = json_out is not None and str(json_out) == "-"
    out = err_console if to_stdout else console
    try:
        if no_progress:
            summary = bot.run_backtest()
        else:
            total = bot.source.size_hint()
            with Progress(
                TextColumn("backtest"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            ) as progress:
                task = progress.add_task("events", total=total)
                summary = bot.run_backtest(lambda n: progress.update(task, completed=n))
    except ArbotError as exc:
        _report_failures(bot.summary)
        fail(exc, EXIT_FAILED)
    _print_summary(summary, out)
    _journal_line(bot, out)
    if json_out is not None:
        text = json.dumps(summary, indent=2, default=str)
        if to_stdout:
            click.echo(text)
        else:
            json_out.write_text(text)
    _report_failures(summary)
    if with_report:
        report = cli.commands.get("report")
        if report is None:
            fail("--report needs the `arbot report` command: pip install arbot-report")
        click.get_current_context().invoke(report, run_dir=bot.ctx.output_path, run_id=bot.ctx.run_id)


def _run_until_stopped(bot: Bot, duration: float | None, kill_on_sigterm: bool = False) -> dict[str, Any]:
    """Run the bot on the wall clock until Ctrl-C / SIGTERM or ``duration``; exit 1 on a failure.
    With ``kill_on_sigterm`` a SIGTERM engages the live kill switch before stopping."""

    async def go() -> dict[str, Any]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, stop.set)

        def on_term() -> None:
            if kill_on_sigterm:
                engage_kill_switch(bot, "SIGTERM")
            stop.set()

        loop.add_signal_handler(signal.SIGTERM, on_term)
        return await bot.arun(stop, duration)

    try:
        return asyncio.run(go())
    except ArbotError as exc:
        _report_failures(bot.summary)
        fail(exc, EXIT_FAILED)


#: Name of the sink (feed role) and source (engine role) of the process-to-process bus.
BUS = "redis_bus"


@cli.command()
@config_argument
@click.option("--duration", type=float, default=None, help="stop after this many seconds")
@set_option
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="write the journal and recordings here instead of the config's output_dir",
)
@click.option(
    "--role",
    type=click.Choice(["all", "feed", "engine"]),
    default="all",
    help="feed: connectors only, publishing to the bus; engine: consume the bus (needs arbot-redis)",
)
@click.option("--dashboard", is_flag=True, help="serve the live web dashboard (arbot-dashboard)")
@click.option("--port", type=int, default=None, help="port of the dashboard (with --dashboard)")
@click.option(
    "--kill-on-sigterm", is_flag=True, help="live: SIGTERM engages the kill switch (cancel every open order)"
)
def run(
    config: Path,
    duration: float | None,
    overrides: tuple[str, ...],
    output_dir: Path | None,
    role: str,
    dashboard: bool,
    port: int | None,
    kill_on_sigterm: bool,
) -> None:
    """Run CONFIG on the wall clock (paper mode unless the config says live) until Ctrl-C."""
    if port is not None and not dashboard:
        fail("--port sets the dashboard's port: add --dashboard")
    if port is not None:
        overrides = (*overrides, f"sinks.dashboard.port={port}")
    cfg = load_for_cli(config, overrides, output_dir)
    if role == "feed":  # market data in, onto the bus; nothing detected, executed or journaled
        cfg.detector = {}
        cfg.executor.name = "none"
        cfg.risk.rules = []
        cfg.sinks.enabled = [BUS]
    elif role == "engine":  # the bus is the source
        cfg.source.name = BUS
    if dashboard and "dashboard" not in cfg.sinks.enabled:
        cfg.sinks.enabled.append("dashboard")
    mode = cfg.system.execution_mode
    bot = _build(cfg, "paper" if mode == "backtest" else mode)
    summary = _run_until_stopped(bot, duration, kill_on_sigterm)
    _print_summary(summary)
    _journal_line(bot, console)
    _report_failures(summary)


@cli.command()
@config_argument
@click.option("--duration", type=float, default=None, help="stop after this many seconds")
@set_option
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="write the recording here instead of the config's output_dir",
)
def record(config: Path, duration: float | None, overrides: tuple[str, ...], output_dir: Path | None) -> None:
    """Record CONFIG's market data (books and trades) to Parquet until Ctrl-C or --duration.

    No detector or executor runs. A backtest replays the recording with
    [source] name = "replay" and [source.replay] path = ["<output_dir>/market"].
    """
    cfg = load_for_cli(config, overrides, output_dir)
    cfg.detector = {}
    cfg.executor.name = "none"
    cfg.risk.rules = []
    if "parquet_recorder" not in cfg.sinks.enabled:
        cfg.sinks.enabled = ["parquet_recorder"]
    bot = _build(cfg, "paper")
    summary = _run_until_stopped(bot, duration)
    recorders = [s for s in bot.sinks if isinstance(s, ParquetRecorder)]
    stats = summary["sinks"].get("parquet_recorder", {})
    where = recorders[0].dir if recorders else cfg.output_path
    console.print(
        escape(f"recorded {stats.get('written', 0):,} events from {summary['events']:,} received to {where}"),
        highlight=False,
    )
    for venue, s in summary.get("source", {}).items():
        if isinstance(s, dict):
            shown = ", ".join(f"{k}={v}" for k, v in sorted(s.items()) if v)
            console.print(escape(f"connector {venue}: {shown}"), highlight=False)
    _report_failures(summary)


cli.add_command(config_group)
cli.add_command(stop_command)


if __name__ == "__main__":
    main()
