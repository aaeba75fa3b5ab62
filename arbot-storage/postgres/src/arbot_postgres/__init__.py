"""ArBot's PostgreSQL journal: the TRD §4.1 schema by versioned migrations, batched COPY writes
that a replay cannot duplicate, the execution write-ahead journal, and ``arbot db migrate``."""

from arbot_postgres.journal import PostgresJournal
from arbot_postgres.migrate import SchemaTooNewError, SchemaTooOldError, migrate
from arbot_postgres.migrations import MIGRATIONS, latest_version
from arbot_postgres.settings import PostgresSettings
from arbot_postgres.sink import PostgresSink

__all__ = [
    "MIGRATIONS",
    "PostgresJournal",
    "PostgresSettings",
    "PostgresSink",
    "SchemaTooNewError",
    "SchemaTooOldError",
    "latest_version",
    "migrate",
]
