"""The installed `arbot` command and the examples, run as a user runs them."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARBOT = [sys.executable, "-m", "arbot.cli"]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_plugins_lists_builtins_spatial_and_the_example_plugin():
    out = run(*ARBOT, "plugins", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    rows = {(c["kind"], c["name"]): c for c in data["components"]}
    assert rows[("detector", "spatial")]["package"] == "arbot-spatial"
    assert rows[("executor", "backtest")]["package"] == "arbot-core"
    assert rows[("detector", "outlier_mid")]["package"] == "arbot-example-plugin"
    assert data["failures"] == []


def test_reference_backtest_prints_summary_writes_journal_and_repeats(tmp_path):
    summaries = []
    for i in range(2):
        out_dir = tmp_path / f"run{i}"
        js = tmp_path / f"summary{i}.json"
        res = run(
            *ARBOT,
            "backtest",
            "examples/spatial_backtest.toml",
            "--no-progress",
            "--output-dir",
            str(out_dir),
            "--json",
            str(js),
        )
        assert res.returncode == 0, res.stderr
        assert "opportunities detected" in res.stdout and "Sharpe" in res.stdout
        summaries.append(json.loads(js.read_text()))
        db = sqlite3.connect(out_dir / "journal.sqlite")
        statuses = dict(db.execute("select status, count(*) from arbitrage_signals group by status"))
        assert statuses.get("EXECUTED", 0) == summaries[-1]["executed"] > 0
        assert statuses.get("REJECTED", 0) == summaries[-1]["rejected"]
        assert db.execute("select count(*) from trades").fetchone()[0] >= 2 * summaries[-1]["executed"]
    keys = (
        "events",
        "detected",
        "executed",
        "rejected",
        "pnl_usd",
        "fees_usd",
        "win_rate",
        "max_drawdown_usd",
        "sharpe",
        "rejected_by_rule",
    )
    assert {k: summaries[0][k] for k in keys} == {k: summaries[1][k] for k in keys}


def test_bad_config_exits_with_a_clear_error(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("[detector.spatial]\nenabled = true\nmin_depth_usd = 'much'\n")
    res = run(*ARBOT, "backtest", str(f))
    assert res.returncode == 2
    assert "detector.spatial.min_depth_usd = 'much'" in res.stderr and str(f) in res.stderr


def test_paper_run_on_the_simulator_for_a_few_seconds(tmp_path):
    f = tmp_path / "paper.toml"
    f.write_text(
        'symbols = ["BTC/USDT"]\n[system]\nexecution_mode = "paper"\n'
        '[exchanges]\nenabled = ["a", "b"]\n[source.simulator]\nvenues = ["a", "b"]\nrealtime_speed = 20\n'
        "dislocations_per_hour = 600\n[detector.spatial]\nenabled = true\n"
    )
    res = run(*ARBOT, "run", str(f), "--duration", "4", "--output-dir", str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    assert "paper summary" in res.stdout
    assert (tmp_path / "out" / "journal.sqlite").exists()


def test_custom_bot_example_runs():
    res = run(sys.executable, "examples/custom_bot.py")
    assert res.returncode == 0, res.stderr
    assert "detected" in res.stdout and "journal:" in res.stdout


def test_the_runtime_never_needs_pytest():
    """arbot-core's runtime (CLI, plugins, engine, emulators for offline runs) imports without pytest."""
    code = (
        "import sys; sys.modules['pytest'] = None\n"
        "import arbot.cli, arbot.bot\n"
        "from arbot.plugins import PluginHost\n"
        "PluginHost().components()\n"
        "import arbot.testing.emulator, arbot.sources.live\n"
        "from arbot_binance.emulator import BinanceEmulator\n"
        "print('ok')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"
