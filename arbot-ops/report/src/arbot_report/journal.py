"""Reading one run out of a SQLite journal written by the ``sqlite_journal`` sink."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import attrs
from arbot.errors import ArbotError

__all__ = ["Journal", "RunData", "load_run"]

Row = dict[str, Any]


@attrs.define(frozen=True)
class RunData:
    """The rows of one run, by table (each row a dict of column -> value)."""

    run_id: str
    mode: str
    started_at: str
    config_file: str | None
    signals: list[Row]
    trades: list[Row]
    snapshots: list[Row]
    daily: list[Row]
    episodes: list[Row]


class Journal:
    """An open journal file; :meth:`run` loads one run."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise ArbotError(f"no journal at {path} (a run writes one with the sqlite_journal sink)")
        self.path = path
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.db.row_factory = sqlite3.Row
        try:
            tables = {r[0] for r in self.db.execute("select name from sqlite_master where type = 'table'")}
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise ArbotError(f"{path} is not a readable SQLite journal: {exc}") from None
        missing = {"runs", "arbitrage_signals", "trades", "portfolio_snapshots", "daily_performance"} - tables
        if missing:
            raise ArbotError(f"{path} is not an ArBot journal: table(s) {', '.join(sorted(missing))} missing")
        self.tables = tables

    def close(self) -> None:
        """Close the file."""
        self.db.close()

    def run_ids(self) -> list[str]:
        """Every run in the journal, oldest first."""
        return [r[0] for r in self.db.execute("select run_id from runs order by started_at, rowid")]

    def _rows(self, sql: str, *args: object) -> list[Row]:
        return [dict(r) for r in self.db.execute(sql, args)]

    def run(self, run_id: str | None = None) -> RunData:
        """Load ``run_id`` (default: the latest run started)."""
        ids = self.run_ids()
        if not ids:
            raise ArbotError(f"{self.path} holds no run")
        if run_id is None:
            run_id = ids[-1]
        elif run_id not in ids:
            raise ArbotError(f"run {run_id!r} is not in {self.path}; runs there: {', '.join(ids)}")
        meta = self._rows("select * from runs where run_id = ?", run_id)[0]
        episodes: list[Row] = []
        if "episodes" in self.tables:
            cols = {r[1] for r in self.db.execute("pragma table_info(episodes)")}
            if "run_id" in cols:
                episodes = self._rows("select * from episodes where run_id = ?", run_id)
        return RunData(
            run_id=run_id,
            mode=str(meta["execution_mode"]),
            started_at=str(meta["started_at"]),
            config_file=meta["config_file"],
            signals=self._rows(
                "select * from arbitrage_signals where run_id = ? order by detected_at", run_id
            ),
            trades=self._rows("select * from trades where run_id = ? order by id", run_id),
            snapshots=self._rows("select * from portfolio_snapshots where run_id = ? order by id", run_id),
            daily=self._rows("select * from daily_performance where run_id = ? order by date", run_id),
            episodes=episodes,
        )


def load_run(run_dir: Path, run_id: str | None = None, journal: str = "journal.sqlite") -> RunData:
    """Load a run from ``run_dir/journal`` (the latest run unless ``run_id`` is given)."""
    j = Journal(run_dir / journal)
    try:
        return j.run(run_id)
    finally:
        j.close()
