"""The write-ahead journal contract (:mod:`arbot.testing.journal_conformance`) on the embedded
SQLite journal; arbot-postgres runs the same suite on SQLite and PostgreSQL side by side."""

from __future__ import annotations

from pathlib import Path

import pytest
from arbot.execution.journal import SqliteJournal
from arbot.testing.journal_conformance import JournalConformance, Opener


class TestSqliteJournal(JournalConformance):
    """Every contract test on ``execution.sqlite``."""

    @pytest.fixture
    def open_journal(self, tmp_path: Path) -> Opener:
        return lambda: SqliteJournal(tmp_path / "execution.sqlite")
