"""The postgres sink against the real server: the reference backtest's rows equal its summary
(and the SQLite journal written beside it), and a spill replayed twice is stored once."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot_postgres.testing import query, sinks_table, sinks_toml

ROOT = Path(__file__).resolve().parents[3]
ARBOT = [sys.executable, "-m", "arbot"]
COUNTED = ("arbitrage_signals", "trades", "portfolio_snapshots", "daily_performance")


def _pg_counts(dsn: str) -> dict[str, int]:
    return {t: query(dsn, f"SELECT count(*) FROM {t}")[0][0] for t in (*COUNTED, "episodes")}


def _journal_counts(path: Path) -> dict[str, int]:
    db = sqlite3.connect(path)
    try:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}
    finally:
        db.close()


def test_reference_backtest_rows_equal_its_summary(tmp_path: Path, pg_dsn: str) -> None:
    text = (ROOT / "examples" / "spatial_backtest.toml").read_text()
    head, _, _ = text.partition("[sinks]")
    cfg = tmp_path / "spatial_postgres.toml"
    cfg.write_text(head + sinks_toml(["sqlite_journal", "postgres"], {"postgres": {"dsn": pg_dsn}}))
    out = tmp_path / "summary.json"
    res = subprocess.run(
        [
            *ARBOT,
            "backtest",
            str(cfg),
            "--no-progress",
            "--output-dir",
            str(tmp_path / "run"),
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads(out.read_text())
    pg = summary["sinks"]["postgres"]
    assert pg["lost"] == 0 and pg["spilled"] == 0 and pg["written"] == pg["received"] > 0
    counts = _pg_counts(pg_dsn)
    assert counts["arbitrage_signals"] == summary["detected"] > 0
    status = dict(query(pg_dsn, "SELECT status, count(*) FROM arbitrage_signals GROUP BY status"))
    assert status.get("EXECUTED", 0) == summary["executed"] > 0
    assert status.get("MISSED", 0) == summary["missed"]
    assert status.get("REJECTED", 0) == summary["rejected"]
    assert counts["episodes"] == summary["executed"] + summary["missed"]
    journal = _journal_counts(tmp_path / "run" / "journal.sqlite")
    assert {t: counts[t] for t in COUNTED} == journal
    pnl = query(pg_dsn, "SELECT sum(pnl_usd)::float8 FROM episodes")[0][0]
    assert abs(pnl - summary["pnl_usd"]) < 1e-4
    runs = query(pg_dsn, "SELECT run_id, execution_mode FROM runs")
    assert [(r[0], r[1]) for r in runs] == [(summary["run_id"], "BACKTEST")]
    venues = {r[0] for r in query(pg_dsn, "SELECT name FROM exchanges")}
    assert venues == {"binance", "okx", "upbit"}


def _backtest_cfg(tmp_path: Path, dsn: str, **extra: Any) -> Any:
    settings = {"dsn": dsn, "retries": 0, "flush_interval_s": 0.05, "batch_size": 50, **extra}
    return config_from_dict(
        {
            "output_dir": str(tmp_path / "out"),
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["a", "b"]},
            "symbols": ["BTC/USDT"],
            "source": {
                "name": "simulator",
                "simulator": {"venues": ["a", "b"], "duration_s": 300, "dislocations_per_hour": 200},
            },
            "detector": {"spatial": {"enabled": True, "min_spread_pct": 0.25, "min_depth_usd": 100}},
            "executor": {"latency_ms": 50},
            "portfolio": {"initial": {"USDT": 100_000, "BTC": 2.0}, "snapshot_interval_s": 5},
            "sinks": sinks_table(["postgres"], {"postgres": settings}),
        }
    )


def test_a_spill_replayed_twice_is_stored_once(tmp_path: Path, pg_dsn: str) -> None:
    down = Bot(_backtest_cfg(tmp_path, "postgresql://postgres@127.0.0.1:1/nowhere"), mode="backtest")
    first = down.run_backtest()["sinks"]["postgres"]
    assert first["written"] == 0 and first["lost"] == 0 and first["spilled"] == first["received"] > 100
    spill = tmp_path / "out" / "spill" / "postgres"
    files = sorted(spill.glob("batch-*.pkl"))
    assert len(files) > 2 and down.ctx.run_id in files[0].name
    backup = tmp_path / "spill-copy"
    shutil.copytree(spill, backup)

    def replay() -> dict[str, Any]:
        # A later, different run (no events of its own) picks the spill up from the same folder.
        cfg = _backtest_cfg(tmp_path, pg_dsn)
        cfg.source.model_extra["simulator"]["duration_s"] = 0.001  # type: ignore[index]
        bot = Bot(cfg, mode="backtest")
        assert bot.ctx.run_id != down.ctx.run_id
        stats = bot.run_backtest()["sinks"]["postgres"]
        assert stats["spill_pending"] == 0 and stats["lost"] == 0
        return stats

    once = replay()
    assert once["replayed"] == first["spilled"]
    counts = _pg_counts(pg_dsn)
    assert counts["arbitrage_signals"] == down.summary["detected"] > 0
    by_run = dict(query(pg_dsn, "SELECT run_id, count(*) FROM arbitrage_signals GROUP BY run_id"))
    assert by_run == {down.ctx.run_id: down.summary["detected"]}
    for f in backup.iterdir():  # the same spill again, as after a crash before its files were removed
        shutil.copy(f, spill / f.name)
    twice = replay()
    assert twice["replayed"] == first["spilled"]
    assert _pg_counts(pg_dsn) == counts
    seqs = [r[0] for r in query(pg_dsn, "SELECT event_seq FROM portfolio_snapshots ORDER BY id")]
    assert seqs == sorted(seqs) and len(seqs) == counts["portfolio_snapshots"] > 0
