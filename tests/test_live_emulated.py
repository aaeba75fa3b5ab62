"""Paper runs and recording against venue emulators on loopback, then replaying the recording."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.events import BookUpdate

ROOT = Path(__file__).resolve().parent.parent
ARBOT = [sys.executable, "-m", "arbot.cli"]


def _cfg(tmp_path: Path, venues: list[str], **extra):
    data = {
        "output_dir": str(tmp_path),
        "symbols": ["BTC/USDT", "ETH/USDT"],
        "system": {"execution_mode": "paper"},
        "exchanges": {"enabled": venues},
        "source": {"name": "live", "live": {"emulate": True}},
        "detector": {"spatial": {"enabled": True}},
        "sinks": {"enabled": ["sqlite_journal", "parquet_recorder"]},
    }
    data.update(extra)
    return config_from_dict(data)


def test_paper_run_against_the_binance_emulator_applies_each_message_once(tmp_path):
    bot = Bot(_cfg(tmp_path, ["binance"]))
    seen: list[BookUpdate] = []
    process = bot.engine.process

    def spy(ev):
        if isinstance(ev, BookUpdate):
            seen.append(ev)
        process(ev)

    bot.engine.process = spy  # type: ignore[method-assign]
    summary = asyncio.run(bot.arun(duration_s=2.0))
    assert summary["events"] > 20
    assert seen and all(ev.applied for ev in seen)
    stats = summary["source"]["binance"]
    assert stats["snapshots"] >= 2 and stats.get("gaps", 0) == 0
    # the connector closed: its books were dropped, nothing stale is left live
    assert not bot.ctx.market.is_live("binance", "BTC/USDT")
    assert summary["sinks"]["parquet_recorder"]["written"] == summary["events"]


def test_record_then_replay_in_a_backtest(tmp_path):
    cfg = tmp_path / "rec.toml"
    cfg.write_text(
        'symbols = ["BTC/USDT"]\n[exchanges]\nenabled = ["binance"]\n'
        '[source]\nname = "live"\n[source.live]\nemulate = true\n'
    )
    rec = subprocess.run(
        [*ARBOT, "record", str(cfg), "--duration", "2", "--output-dir", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rec.returncode == 0, rec.stderr
    assert "recorded" in rec.stdout
    replay = tmp_path / "replay.toml"
    replay.write_text(
        'symbols = ["BTC/USDT"]\n[system]\nexecution_mode = "backtest"\n[exchanges]\nenabled = ["binance"]\n'
        '[source]\nname = "replay"\n[source.replay]\nformat = "parquet"\n'
        f'path = ["{tmp_path / "r" / "market"}"]\n'
        "[detector.spatial]\nenabled = true\n[sinks]\nenabled = []\n"
    )
    js = tmp_path / "s.json"
    res = subprocess.run(
        [*ARBOT, "backtest", str(replay), "--no-progress", "--json", str(js)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads(js.read_text())
    assert summary["events"] > 10
    assert summary["counters"].get("crossed_books", 0) == 0


def test_live_source_refuses_a_backtest(tmp_path):
    import pytest
    from arbot.errors import ConfigError

    bot = Bot(_cfg(tmp_path, ["binance"], system={"execution_mode": "backtest"}), mode="backtest")
    with pytest.raises(ConfigError, match="streams in real time"):
        bot.run_backtest()


def test_offline_paper_run_against_three_emulated_venues_finds_spatial_opportunities(tmp_path):
    """examples/paper_emulated.toml: binance, okx and bybit emulators, the spatial bot on paper."""
    res = subprocess.run(
        [*ARBOT, "run", "examples/paper_emulated.toml", "--duration", "8", "--output-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert res.returncode == 0, res.stderr
    assert "paper summary" in res.stdout
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    venues = {row[0] for row in db.execute("select distinct buy_exchange from arbitrage_signals")}
    venues |= {row[0] for row in db.execute("select distinct sell_exchange from arbitrage_signals")}
    assert db.execute("select count(*) from arbitrage_signals").fetchone()[0] > 0
    assert venues <= {"binance", "okx", "bybit"} and len(venues) >= 2


def test_kimchi_premium_on_emulated_upbit_bithumb_and_binance(tmp_path):
    """examples/kimchi_premium.toml offline: KRW books against USDT books through Upbit's USDT/KRW."""
    res = subprocess.run(
        [*ARBOT, "run", "examples/kimchi_premium.toml", "--duration", "8", "--output-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert res.returncode == 0, res.stderr
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    rows = db.execute(
        "select buy_exchange, sell_exchange, json_extract(metadata_json, '$.premium_pct') "
        "from arbitrage_signals where json_extract(metadata_json, '$.premium_pct') is not null"
    ).fetchall()
    assert rows, "no cross-currency opportunity was reported"
    # the emulated Korean venues quote 0.8-1.2 % above Binance (plus short dislocations)
    to_korea = [p for buy, sell, p in rows if buy == "binance" and sell in ("upbit", "bithumb")]
    assert to_korea and min(to_korea) >= 0.5  # min_spread_pct 0.5 plus fees
    assert any(0.8 <= p <= 1.4 for p in to_korea)  # the configured premium itself
