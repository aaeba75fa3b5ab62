"""The embedded journal: the TRD §4.1 tables in SQLite, written in batches off the hot path."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any, ClassVar

from pydantic import Field

from arbot.components import BotContext
from arbot.config import ComponentSettings
from arbot.events import BalanceSnapshot, DailyPerformance, ExecutionReport, SignalRecord
from arbot.sinks.base import BatchingSettings, BatchingSink, RunInfo

__all__ = ["SCHEMA", "SqliteJournal"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id          TEXT PRIMARY KEY,
    started_at      TEXT NOT NULL,
    execution_mode  TEXT NOT NULL,
    config_file     TEXT
);
CREATE TABLE IF NOT EXISTS trades (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id          TEXT NOT NULL,
    signal_id       TEXT NOT NULL,
    exchange        TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    side            TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
    order_type      TEXT NOT NULL,
    requested_qty   REAL NOT NULL,
    filled_qty      REAL,
    requested_price REAL,
    filled_price    REAL,
    fee             REAL,
    fee_asset       TEXT,
    status          TEXT NOT NULL CHECK (status IN ('PENDING','FILLED','PARTIAL','CANCELLED','FAILED')),
    execution_mode  TEXT NOT NULL,
    latency_ms      REAL,
    created_at      TEXT NOT NULL,
    filled_at       TEXT
);
CREATE TABLE IF NOT EXISTS arbitrage_signals (
    id              TEXT NOT NULL,
    run_id          TEXT NOT NULL,
    strategy        TEXT NOT NULL,
    buy_exchange    TEXT,
    sell_exchange   TEXT,
    symbol          TEXT NOT NULL,
    gross_spread    REAL NOT NULL,
    net_spread      REAL NOT NULL,
    estimated_pnl   REAL,
    actual_pnl      REAL,
    status          TEXT NOT NULL CHECK (status IN ('DETECTED','EXECUTED','MISSED','REJECTED')),
    reason          TEXT,
    detected_at     TEXT NOT NULL,
    executed_at     TEXT,
    metadata_json   TEXT,
    PRIMARY KEY (run_id, id)
);
CREATE TABLE IF NOT EXISTS portfolio_snapshots (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id          TEXT NOT NULL,
    timestamp       TEXT NOT NULL,
    exchange        TEXT NOT NULL,
    asset           TEXT NOT NULL,
    balance         REAL NOT NULL,
    usd_value       REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS daily_performance (
    run_id          TEXT NOT NULL,
    date            TEXT NOT NULL,
    execution_mode  TEXT NOT NULL,
    total_signals   INTEGER DEFAULT 0,
    executed_trades INTEGER DEFAULT 0,
    total_pnl       REAL DEFAULT 0,
    total_fees      REAL DEFAULT 0,
    net_pnl         REAL DEFAULT 0,
    sharpe_ratio    REAL,
    max_drawdown    REAL,
    win_rate        REAL,
    PRIMARY KEY (run_id, date, execution_mode)
);
CREATE INDEX IF NOT EXISTS signals_status ON arbitrage_signals (run_id, status);
CREATE INDEX IF NOT EXISTS trades_signal ON trades (run_id, signal_id);
"""


def iso(ts: float | None) -> str | None:
    """Epoch seconds to an ISO-8601 UTC string."""
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds")


class SqliteJournalSettings(BatchingSettings):
    """Where the journal lives (relative to the config's ``output_dir``)."""

    path: str = Field(
        "journal.sqlite",
        description="SQLite file of the journal, relative to the run directory unless absolute.",
    )


class SqliteJournal(BatchingSink[SqliteJournalSettings]):
    """Journal of signals, trades, portfolio snapshots and daily performance in SQLite.

    Each run gets a ``run_id``; every table carries it, so one file can hold many runs.
    """

    name: ClassVar[str] = "sqlite_journal"
    Settings: ClassVar[type[ComponentSettings]] = SqliteJournalSettings

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self.path = ctx.output_path / settings.path
        self.run_id = ctx.run_id
        self._db: sqlite3.Connection | None = None
        self._known_runs: set[str] = set()

    def open_store(self) -> None:
        """Create the file and tables and record the current run."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path)
        try:
            db.executescript(SCHEMA)
            db.execute("PRAGMA journal_mode=WAL")
            with db:
                self._record_run(db, self.run, replace=True)
        except Exception:
            db.close()
            raise
        self._db = db

    def _record_run(self, db: sqlite3.Connection, run: RunInfo, *, replace: bool = False) -> None:
        """The ``runs`` row of ``run`` (an earlier run's row is kept as it was written)."""
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        db.execute(
            f"{verb} INTO runs VALUES (?, ?, ?, ?)",
            (run.run_id, run.started_at, run.mode, run.config_file),
        )
        self._known_runs.add(run.run_id)

    def write_batch(self, batch: list[Any], run_info: RunInfo) -> None:
        """Insert every event of the batch in one transaction, under ``run_info``'s id."""
        db = self._db
        if db is None:
            raise RuntimeError(f"journal {self.path} is not open")
        run = run_info.run_id
        signals = []
        trades = []
        snaps = []
        days = []
        for ev in batch:
            if isinstance(ev, SignalRecord):
                o = ev.opportunity
                signals.append(
                    (
                        o.id,
                        run,
                        o.strategy.upper(),
                        o.buy_venue,
                        o.sell_venue,
                        o.symbol,
                        o.gross_spread_pct,
                        o.net_spread_pct,
                        o.estimated_profit,
                        ev.actual_pnl,
                        ev.status.value,
                        ev.reason,
                        iso(o.ts),
                        iso(ev.executed_ts),
                        json.dumps(
                            {
                                "legs": [
                                    [leg.venue, leg.symbol, leg.side.value, leg.price, leg.qty]
                                    for leg in o.legs
                                ],
                                "confidence": o.confidence,
                                "depth_usd": o.depth_usd,
                                **o.metadata,
                            },
                            default=str,
                        ),
                    )
                )
            elif isinstance(ev, ExecutionReport):
                for f in ev.fills:
                    trades.append(
                        (
                            run,
                            f.opportunity_id,
                            f.venue,
                            f.symbol,
                            f.side.value,
                            f.order_type,
                            f.requested_qty,
                            f.filled_qty,
                            f.requested_price,
                            f.avg_price if f.filled_qty > 0 else None,
                            f.fee,
                            f.fee_asset,
                            f.status.value,
                            f.mode,
                            f.latency_ms,
                            iso(ev.opportunity.ts),
                            iso(f.ts) if f.filled_qty > 0 else None,
                        )
                    )
            elif isinstance(ev, BalanceSnapshot):
                snaps.append((run, iso(ev.ts), ev.venue, ev.asset, ev.balance, ev.usd_value))
            elif isinstance(ev, DailyPerformance):
                days.append(
                    (
                        run,
                        ev.date,
                        ev.mode,
                        ev.total_signals,
                        ev.executed_trades,
                        ev.total_pnl,
                        ev.total_fees,
                        ev.net_pnl,
                        ev.sharpe_ratio,
                        ev.max_drawdown,
                        ev.win_rate,
                    )
                )
        with db:
            if run not in self._known_runs:
                self._record_run(db, run_info)
            if signals:
                db.executemany(
                    "INSERT OR REPLACE INTO arbitrage_signals VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    signals,
                )
            if trades:
                db.executemany(
                    "INSERT INTO trades (run_id, signal_id, exchange, symbol, side, order_type, "
                    "requested_qty, filled_qty, requested_price, filled_price, fee, fee_asset, "
                    "status, execution_mode, latency_ms, created_at, filled_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    trades,
                )
            if snaps:
                db.executemany(
                    "INSERT INTO portfolio_snapshots (run_id, timestamp, exchange, asset, balance, "
                    "usd_value) VALUES (?,?,?,?,?,?)",
                    snaps,
                )
            if days:
                db.executemany(
                    "INSERT OR REPLACE INTO daily_performance VALUES (?,?,?,?,?,?,?,?,?,?,?)", days
                )

    def close_store(self) -> None:
        """Close the connection."""
        if self._db is not None:
            self._db.close()
            self._db = None
