"""The ``arbot`` entry point of arbot-postgres: the ``postgres`` sink, the ``postgres`` execution
journal and ``arbot db``."""

from __future__ import annotations

from collections.abc import Sequence

import click
from arbot import hookimpl
from arbot.components import BotContext, Sink
from arbot.config import validate_settings
from arbot.execution.journal import JournalStore

from arbot_postgres.commands import db
from arbot_postgres.journal import PostgresJournal
from arbot_postgres.settings import PostgresSettings
from arbot_postgres.sink import PostgresSink


@hookimpl
def arbot_register_sinks() -> Sequence[type[Sink]]:
    """The PostgreSQL journal sink."""
    return [PostgresSink]


@hookimpl
def arbot_register_commands(cli: click.Group) -> None:
    """``arbot db migrate CONFIG`` / ``arbot db version CONFIG``."""
    cli.add_command(db)


@hookimpl
def arbot_open_journal(name: str, ctx: BotContext) -> JournalStore | None:
    """``[executor] journal = "postgres"``: the write-ahead journal in the database of
    ``[sinks.postgres]`` (its dsn, password and timeouts), keyed by ``journal_scope`` (default:
    the run's output folder)."""
    if name != "postgres":
        return None
    cfg = ctx.config
    table = cfg.sinks.table("postgres")
    settings = validate_settings(PostgresSettings, table, "sinks.postgres", cfg.source_file)
    return PostgresJournal(settings, settings.journal_scope or str(ctx.output_path))
