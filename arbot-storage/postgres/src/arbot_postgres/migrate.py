"""Apply the journal's migrations: idempotent, serialised by an advisory lock, and refusing a
database whose schema is newer than this code."""

from __future__ import annotations

import asyncpg
from arbot.errors import ArbotError

from arbot_postgres.migrations import MIGRATIONS, Migration, latest_version

__all__ = ["SchemaTooNewError", "SchemaTooOldError", "applied_version", "check_version", "migrate"]

#: Key of the advisory lock two migrating processes queue on (any constant unique to ArBot).
_LOCK_KEY = 0x41524230  # "ARB0"

_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS arbot_schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT NOW()
)
"""


class SchemaTooNewError(ArbotError):
    """The database was migrated by a newer ArBot than this one: writing could corrupt it."""


class SchemaTooOldError(ArbotError):
    """The database lacks migrations this code needs (run ``arbot db migrate CONFIG``)."""


async def applied_version(conn: asyncpg.Connection) -> int:
    """The highest migration applied to the database (0 for an empty one)."""
    exists = await conn.fetchval("SELECT to_regclass('arbot_schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    version = await conn.fetchval("SELECT max(version) FROM arbot_schema_migrations")
    return int(version or 0)


def _too_new(found: int) -> SchemaTooNewError:
    return SchemaTooNewError(
        f"database schema is at version {found}, newer than this arbot-postgres knows "
        f"({latest_version()}): upgrade arbot-postgres instead of writing with an older one"
    )


async def check_version(conn: asyncpg.Connection) -> int:
    """The database's version if it is exactly this code's; raise otherwise."""
    found = await applied_version(conn)
    if found > latest_version():
        raise _too_new(found)
    if found < latest_version():
        raise SchemaTooOldError(
            f"database schema is at version {found}, this code needs {latest_version()}: "
            "run `arbot db migrate CONFIG` (or set auto_migrate = true)"
        )
    return found


async def migrate(conn: asyncpg.Connection) -> list[Migration]:
    """Apply every migration the database lacks, each in its own transaction; return them.

    Running it again applies nothing. Concurrent callers queue on an advisory lock.
    """
    applied: list[Migration] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(_CREATE_LEDGER)
        found = await applied_version(conn)
        if found > latest_version():
            raise _too_new(found)
        for m in MIGRATIONS:
            if m.version <= found:
                continue
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute(
                    "INSERT INTO arbot_schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name
                )
            applied.append(m)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied
