"""``arbot db migrate CONFIG`` and ``arbot db version CONFIG``: the journal's schema from the
command line, with the sink's own ``[sinks.postgres]`` settings."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import asyncpg
import click
from arbot.config import load_config, validate_settings
from arbot.errors import ArbotError

from arbot_postgres.migrate import applied_version, migrate
from arbot_postgres.migrations import latest_version
from arbot_postgres.settings import PostgresSettings, connect_kwargs

__all__ = ["db", "settings_of"]


def settings_of(config: Path) -> PostgresSettings:
    """The ``[sinks.postgres]`` settings of a configuration file (defaults when absent)."""
    cfg = load_config(config)
    table: dict[str, Any] = cfg.sinks.table("postgres")
    return validate_settings(PostgresSettings, table, "sinks.postgres", cfg.source_file)


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


async def _with_conn(settings: PostgresSettings, action: str) -> str:
    try:
        conn = await asyncpg.connect(**connect_kwargs(settings))  # type: ignore[arg-type]
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise ArbotError(f"cannot connect to {settings.dsn}: {type(exc).__name__}: {exc}") from exc
    try:
        if action == "migrate":
            done = await migrate(conn)
            if not done:
                return f"schema is up to date (version {latest_version()})"
            names = ", ".join(f"{m.version} {m.name}" for m in done)
            return f"applied {len(done)} migration(s): {names}; schema at version {latest_version()}"
        found = await applied_version(conn)
        return f"database schema version {found}; this code writes version {latest_version()}"
    finally:
        await conn.close()


@click.group()
def db() -> None:
    """The PostgreSQL journal's schema (settings from [sinks.postgres])."""


@db.command("migrate")
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
def migrate_command(config: Path) -> None:
    """Apply missing migrations (idempotent); refuses a database newer than this code."""
    try:
        settings = settings_of(config)
        click.echo(asyncio.run(_with_conn(settings, "migrate")))
    except ArbotError as exc:
        _fail(str(exc), 1)


@db.command("version")
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
def version_command(config: Path) -> None:
    """Print the database's schema version and this code's."""
    try:
        settings = settings_of(config)
        click.echo(asyncio.run(_with_conn(settings, "version")))
    except ArbotError as exc:
        _fail(str(exc), 1)
