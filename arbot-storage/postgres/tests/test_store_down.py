"""Zero loss with PostgreSQL down: a paper run against the venue emulators while the server is
stopped and restarted; and a server that stays down past ``max_outage_s`` fails the run.

The server here is a private one (see :class:`arbot_postgres.testing.PrivateServer`), so
stopping it does not disturb anything else using the shared server on 5432.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot_postgres.testing import PrivateServer, query, sinks_table, sinks_toml

ARBOT = [sys.executable, "-m", "arbot"]
COUNTED = ("arbitrage_signals", "trades", "portfolio_snapshots", "daily_performance")


def _paper(tmp_path: Path, dsn: str, **pg: Any) -> dict[str, Any]:
    settings = {"dsn": dsn, "retries": 1, "retry_backoff_s": 0.05, "flush_interval_s": 0.1, "batch_size": 20}
    return {
        "output_dir": str(tmp_path / "out"),
        "symbols": ["BTC/USDT", "ETH/USDT"],
        "system": {"execution_mode": "paper"},
        "exchanges": {"enabled": ["binance", "okx"]},
        "source": {
            "name": "live",
            "live": {"emulate": True, "emulator_seed": 3, "emulator_dislocation_probability": 0.02},
        },
        "detector": {"spatial": {"enabled": True, "min_spread_pct": 0.1, "min_depth_usd": 100}},
        "risk": {"max_spread_pct": 5.0, "max_book_age_ms": 2000},
        "executor": {"latency_ms": 30},
        "portfolio": {"snapshot_interval_s": 0.2},
        "sinks": sinks_table(["sqlite_journal", "postgres"], {"postgres": {**settings, **pg}}),
    }


def test_postgres_stopped_mid_run_loses_nothing_and_stores_nothing_twice(
    tmp_path: Path, private_pg: PrivateServer
) -> None:
    dsn = private_pg.dsn
    bot = Bot(config_from_dict(_paper(tmp_path, dsn, max_outage_s=60)))
    result: dict[str, Any] = {}

    def run() -> None:
        result["summary"] = asyncio.run(bot.arun(duration_s=14.0))

    runner = threading.Thread(target=run)
    runner.start()
    time.sleep(4.0)
    before = query(dsn, "SELECT count(*) FROM portfolio_snapshots")[0][0]
    private_pg.stop()
    time.sleep(4.0)
    private_pg.start()
    runner.join(timeout=120)
    assert not runner.is_alive()
    summary = result["summary"]
    pg = summary["sinks"]["postgres"]
    # the outage happened, was spilled and replayed, and nothing is left behind
    assert before > 0, "nothing reached the server before it was stopped"
    assert pg["write_errors"] > 0 and pg["spilled"] > 0 and pg["replayed"] == pg["spilled"]
    assert pg["lost"] == 0 and pg["spill_pending"] == 0 and pg["buffered"] == 0
    assert pg["written"] == pg["received"]
    # rows equal the run's own counts exactly: its summary, and the SQLite journal beside it
    counts = {t: query(dsn, f"SELECT count(*) FROM {t}")[0][0] for t in COUNTED}
    db = sqlite3.connect(tmp_path / "out" / "journal.sqlite")
    journal = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}
    db.close()
    assert counts == journal
    assert counts["arbitrage_signals"] == summary["detected"]
    assert counts["portfolio_snapshots"] > before
    executed = query(dsn, "SELECT count(*) FROM arbitrage_signals WHERE status = 'EXECUTED'")[0][0]
    assert executed == summary["executed"]
    # in emit order: the serial ids follow the events' numbers across the outage
    for table in ("portfolio_snapshots", "trades"):  # the tables with serial ids
        seqs = [r[0] for r in query(dsn, f"SELECT event_seq FROM {table} ORDER BY id")]
        assert seqs == sorted(seqs), f"{table} rows were stored out of emit order"


def test_a_server_down_past_the_limit_ends_the_run_with_an_error(
    tmp_path: Path, private_pg: PrivateServer
) -> None:
    private_pg.stop()
    data = _paper(tmp_path, private_pg.dsn)
    cfg = tmp_path / "paper.toml"
    text = [
        'symbols = ["BTC/USDT", "ETH/USDT"]',
        "[system]",
        'execution_mode = "paper"',
        "[exchanges]",
        'enabled = ["binance", "okx"]',
        "[source]",
        'name = "live"',
        "[source.live]",
        "emulate = true",
        "[detector.spatial]",
        "enabled = true",
        "[portfolio]",
        "snapshot_interval_s = 0.2",
    ]
    pg = {**data["sinks"]["postgres"], "max_outage_s": 2.0}
    cfg.write_text("\n".join(text) + "\n" + sinks_toml(["postgres"], {"postgres": pg}))
    res = subprocess.run(
        [*ARBOT, "run", str(cfg), "--duration", "12", "--output-dir", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 1, res.stderr  # runtime failure (2 is a usage/config error)
    assert "sink 'postgres': store down for" in res.stderr and "(limit 2 s)" in res.stderr
    assert "spill file(s) kept in" in res.stderr
