"""The ``arbot`` command: list plugins, run a backtest, run a paper/live bot."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from arbot import __version__
from arbot.bot import Bot
from arbot.config import load_config
from arbot.errors import ArbotError
from arbot.plugins import PluginHost

console = Console()
err_console = Console(stderr=True)


def _fail(exc: Exception) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
    sys.exit(2)


@click.group()
@click.version_option(__version__, prog_name="arbot")
def cli() -> None:
    """ArBot: plugin-based crypto arbitrage bots."""


def main() -> None:
    """Entry point of ``arbot``: ArBot's commands plus those plugins add, then run."""
    host = PluginHost()
    host.hook.arbot_register_commands(cli=cli)
    cli()


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
def plugins(as_json: bool) -> None:
    """List installed components: name, kind, package, version."""
    host = PluginHost()
    try:
        rows = host.components()
    except ArbotError as exc:
        _fail(exc)
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
        err_console.print(f"[yellow]warning:[/] {f}", highlight=False)


def _print_summary(summary: dict[str, Any]) -> None:
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
        t.add_row(f"  rejected by {rule}", f"{n:,}")
    t.add_row("net PnL", money(summary["pnl_usd"]))
    t.add_row("fees", money(summary["fees_usd"]))
    t.add_row("gross PnL", money(summary["gross_pnl_usd"]))
    t.add_row(
        "win rate", opt(None if summary["win_rate"] is None else summary["win_rate"] * 100, ".1f") + " %"
    )
    t.add_row("max drawdown", f"{money(summary['max_drawdown_usd'])} ({summary['max_drawdown_pct']:.4f} %)")
    t.add_row("Sharpe (annualised)", opt(summary["sharpe"], ".2f"))
    t.add_row("capital", money(summary["capital_usd"]))
    t.add_row(
        "portfolio marked to market, start / end",
        f"{money(summary['mark_to_market_start_usd'])} / {money(summary['mark_to_market_end_usd'])}",
    )
    console.print(t)
    for venue, stats in summary.get("source", {}).items():
        if isinstance(stats, dict):
            shown = ", ".join(f"{k}={v}" for k, v in sorted(stats.items()) if v)
            console.print(f"connector {venue}: {shown}", highlight=False)
    for name, stats in summary.get("sinks", {}).items():
        console.print(f"sink {name}: " + ", ".join(f"{k}={v}" for k, v in stats.items()), highlight=False)


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="also write the summary as JSON to this file",
)
@click.option("--no-progress", is_flag=True, help="no progress bar")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="write the journal and recordings here instead of the config's output_dir",
)
@click.option("--report", "with_report", is_flag=True, help="write an HTML report at the end (arbot-report)")
def backtest(
    config: Path, json_out: Path | None, no_progress: bool, output_dir: Path | None, with_report: bool
) -> None:
    """Run a backtest of CONFIG on the virtual clock and print the summary."""
    try:
        cfg = load_config(config)
        if output_dir is not None:
            cfg.output_dir = str(output_dir.resolve())
        bot = Bot(cfg, mode="backtest")
    except ArbotError as exc:
        _fail(exc)
    total = bot.source.size_hint()
    try:
        if no_progress:
            summary = bot.run_backtest()
        else:
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
        _fail(exc)
    _print_summary(summary)
    journal = [s for s in bot.sinks if s.name == "sqlite_journal"]
    if journal:
        console.print(f"journal: {getattr(journal[0], 'path', '')}", highlight=False)
    if json_out is not None:
        json_out.write_text(json.dumps(summary, indent=2, default=str))
    if with_report:
        report = cli.commands.get("report")
        if report is None:
            _fail(ArbotError("--report needs the `arbot report` command: pip install arbot-report"))
        click.get_current_context().invoke(report, run_dir=bot.ctx.output_path, run_id=bot.ctx.run_id)


def _run_until_stopped(bot: Bot, duration: float | None) -> dict[str, Any]:
    """Run the bot on the wall clock until Ctrl-C / SIGTERM or ``duration``; exit 2 on an error."""

    async def go() -> dict[str, Any]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await bot.arun(stop, duration)

    try:
        return asyncio.run(go())
    except ArbotError as exc:
        _fail(exc)


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--duration", type=float, default=None, help="stop after this many seconds")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="write the journal and recordings here instead of the config's output_dir",
)
def run(config: Path, duration: float | None, output_dir: Path | None) -> None:
    """Run CONFIG on the wall clock (paper mode unless the config says live) until Ctrl-C."""
    try:
        cfg = load_config(config)
        if output_dir is not None:
            cfg.output_dir = str(output_dir.resolve())
        mode = cfg.system.execution_mode
        bot = Bot(cfg, mode="paper" if mode == "backtest" else mode)
    except ArbotError as exc:
        _fail(exc)

    summary = _run_until_stopped(bot, duration)
    _print_summary(summary)


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--duration", type=float, default=None, help="stop after this many seconds")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="write the recording here instead of the config's output_dir",
)
def record(config: Path, duration: float | None, output_dir: Path | None) -> None:
    """Record CONFIG's market data (books and trades) to Parquet until Ctrl-C or --duration.

    No detector or executor runs. A backtest replays the recording with
    [source] name = "replay", [source.replay] path = ["<output_dir>/market"].
    """
    try:
        cfg = load_config(config)
        if output_dir is not None:
            cfg.output_dir = str(output_dir.resolve())
        cfg.detector = {}
        cfg.executor.name = "none"
        cfg.risk.rules = []
        if "parquet_recorder" not in cfg.sinks.enabled:
            cfg.sinks.enabled = ["parquet_recorder"]
        bot = Bot(cfg, mode="paper")
    except ArbotError as exc:
        _fail(exc)

    summary = _run_until_stopped(bot, duration)
    recorder = next(s for s in bot.sinks if s.name == "parquet_recorder")
    stats = summary["sinks"]["parquet_recorder"]
    console.print(
        f"recorded {stats.get('written', 0):,} events from {summary['events']:,} received "
        f"to {getattr(recorder, 'dir', '')}",
        highlight=False,
    )
    for venue, s in summary.get("source", {}).items():
        if isinstance(s, dict):
            console.print(
                f"connector {venue}: " + ", ".join(f"{k}={v}" for k, v in sorted(s.items()) if v),
                highlight=False,
            )


if __name__ == "__main__":
    main()
