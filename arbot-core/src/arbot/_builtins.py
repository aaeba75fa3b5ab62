"""ArBot's built-in plugin: executors, risk rules, sinks and sources, registered through the
same hooks as every third-party plugin."""

from __future__ import annotations

from collections.abc import Sequence

import click

from arbot.components import Executor, RiskRule, Sink, Source
from arbot.execution.executors import BacktestExecutor, LiveExecutor, PaperExecutor
from arbot.hookspecs import hookimpl
from arbot.risk.rules import BUILTIN_RULES
from arbot.sinks.parquet_recorder import ParquetRecorder
from arbot.sinks.sqlite_journal import SqliteJournal
from arbot.sources.live import LiveSource
from arbot.sources.replay import ReplaySource
from arbot.sources.simulator import MarketSimulator


@hookimpl
def arbot_register_executors() -> Sequence[type[Executor]]:
    """Backtest, paper and live executors."""
    return [BacktestExecutor, PaperExecutor, LiveExecutor]


@hookimpl
def arbot_register_risk_rules() -> Sequence[type[RiskRule]]:
    """The TRD §3.4 rules."""
    return list(BUILTIN_RULES)


@hookimpl
def arbot_register_sinks() -> Sequence[type[Sink]]:
    """The embedded stores."""
    return [SqliteJournal, ParquetRecorder]


@hookimpl
def arbot_register_sources() -> Sequence[type[Source]]:
    """The simulator, the replay source and the live source."""
    return [MarketSimulator, ReplaySource, LiveSource]


@hookimpl
def arbot_register_commands(cli: click.Group) -> None:
    """``arbot keys`` (the encrypted key store) and ``arbot emulate`` (a venue emulator)."""
    from arbot.commands.emulate import emulate
    from arbot.commands.keys import keys

    cli.add_command(keys)
    cli.add_command(emulate)
