"""Faults in plugins, configs and inputs: contained, counted, loud (issue: contract v1, §3-§4).

Third-party plugins are installed for real: a ``*.dist-info`` folder with an ``arbot`` entry
point on ``PYTHONPATH``, which ``importlib.metadata`` discovers like any installed package.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from arbot.bot import Bot
from arbot.config import config_from_dict

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = Path(__file__).resolve().parent / "plugins"
ARBOT = [sys.executable, "-m", "arbot"]


def _install(site: Path, module: str, dist: str) -> None:
    """Install ``tests/plugins/<module>.py`` as distribution ``dist`` with an ``arbot`` entry point."""
    site.mkdir(parents=True, exist_ok=True)
    shutil.copy(PLUGINS / f"{module}.py", site / f"{module}.py")
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[arbot]\n{module} = {module}\n")
    (info / "RECORD").write_text("")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    path = tmp_path / "site"
    _install(path, "faulty_plugin", "faulty-plugin")
    return path


def arbot(*args: str, site: Path | None = None, env: dict[str, str] | None = None, cwd: Path = ROOT):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ARBOT_TRACE")}
    if site is not None:
        full_env["PYTHONPATH"] = str(site) + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.update(env or {})
    return subprocess.run([*ARBOT, *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=full_env)


def _config(tmp_path: Path, body: str, name: str = "bot.toml") -> Path:
    f = tmp_path / name
    f.write_text(
        'symbols = ["BTC/USDT"]\noutput_dir = "out"\n[system]\nexecution_mode = "backtest"\n'
        '[exchanges]\nenabled = ["binance", "okx"]\n[backtest]\nduration_s = 120\n'
        "[source.simulator]\ndislocations_per_hour = 600\n"
        "[portfolio]\ninitial = { USDT = 100000, BTC = 2 }\n" + body
    )
    return f


# -- components that raise ---------------------------------------------------------------


def test_raising_detector_stops_a_backtest_names_it_flushes_the_journal_and_exits_1(tmp_path, site):
    cfg = _config(tmp_path, "[detector.spatial]\nenabled = true\n[detector.exploding]\nenabled = true\n")
    res = arbot("backtest", str(cfg), "--no-progress", site=site)
    assert res.returncode == 1, res.stderr
    assert "detector 'exploding' raised ValueError: boom [executor] inside on BookUpdate" in res.stderr
    assert "Traceback" not in res.stderr
    db = sqlite3.connect(tmp_path / "out" / "journal.sqlite")  # flushed and closed, not lost
    assert db.execute("select count(*) from portfolio_snapshots").fetchone()[0] >= 1


def test_disable_policy_keeps_the_others_running_reports_it_and_exits_1(tmp_path, site):
    cfg = _config(tmp_path, "[detector.spatial]\nenabled = true\n[detector.exploding]\nenabled = true\n")
    js = tmp_path / "s.json"
    res = arbot(
        "backtest",
        str(cfg),
        "--no-progress",
        "--set",
        "system.on_component_error='disable'",
        "--json",
        str(js),
        site=site,
    )
    assert res.returncode == 1, res.stderr
    summary = json.loads(js.read_text())
    assert (
        summary["faults"] == [summary["faults"][0]]
        and "detector 'exploding' raised ValueError" in summary["faults"][0]
    )
    assert "(disabled)" in res.stderr
    assert summary["detected"] > 0 and summary["events"] > 1000  # spatial went on to the end
    db = sqlite3.connect(tmp_path / "out" / "journal.sqlite")
    executed = db.execute("select count(*) from arbitrage_signals where status = 'EXECUTED'").fetchone()[0]
    assert executed == summary["executed"]


def _faulty_module():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location("faulty_plugin_inproc", PLUGINS / "faulty_plugin.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _inproc_bot(tmp_path: Path, **sections) -> Bot:  # type: ignore[no-untyped-def]
    data = {
        "symbols": ["BTC/USDT"],
        "output_dir": str(tmp_path / "out"),
        "system": {"execution_mode": "backtest", "on_component_error": "disable"},
        "exchanges": {"enabled": ["binance", "okx"]},
        "backtest": {"duration_s": 300},
        "source": {"name": "simulator", "simulator": {"dislocations_per_hour": 600}},
        "detector": {"spatial": {"enabled": True}},
        "sinks": {"enabled": []},
        "portfolio": {"initial": {"USDT": 100_000, "BTC": 2}},
    }
    data.update(sections)
    return Bot(config_from_dict(data), plugins=[_faulty_module()])


def test_a_risk_rule_disabled_after_an_error_fails_closed(tmp_path):
    bot = _inproc_bot(tmp_path, risk={"rules": ["exploding_rule"]})
    summary = bot.run_backtest()
    assert summary["exit_code"] == 1
    assert len(summary["faults"]) == 1
    assert "risk_rule 'exploding_rule' raised RuntimeError" in summary["faults"][0]
    # the first opportunity was approved; every later one is rejected by the failed rule, never traded
    assert summary["detected"] > 3
    assert summary["rejected_by_rule"] == {"exploding_rule": summary["detected"] - 1}
    assert summary["executed"] + summary["missed"] <= 1


def test_a_raising_sink_is_disabled_and_the_journal_still_gets_everything(tmp_path):
    bot = _inproc_bot(tmp_path, sinks={"enabled": ["exploding_sink", "sqlite_journal"]})
    summary = bot.run_backtest()
    assert summary["exit_code"] == 1 and "sink 'exploding_sink' raised OSError" in summary["faults"][0]
    db = sqlite3.connect(tmp_path / "out" / "journal.sqlite")
    signals = db.execute("select count(*) from arbitrage_signals").fetchone()[0]
    assert signals == summary["detected"] > 0


def test_stop_policy_raises_for_the_library_user_after_closing_sinks(tmp_path):
    from arbot.errors import ComponentFailure

    bot = _inproc_bot(
        tmp_path,
        system={"execution_mode": "backtest", "on_component_error": "stop"},
        detector={"exploding": {"enabled": True}},
        sinks={"enabled": ["sqlite_journal"]},
    )
    with pytest.raises(ComponentFailure, match="detector 'exploding' raised ValueError"):
        bot.run_backtest()
    assert bot.summary["exit_code"] == 1
    assert (tmp_path / "out" / "journal.sqlite").exists()


def test_raising_registration_hook_names_its_package_and_the_others_load(tmp_path):
    site = tmp_path / "site"
    _install(site, "broken_registration", "broken-registration")
    res = arbot("plugins", "--json", site=site)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    failures = data["failures"]
    assert len(failures) == 1 and failures[0]["package"] == "broken-registration 0.1"
    assert "arbot_register_sinks raised RuntimeError: cannot register" in failures[0]["error"]
    names = {(c["kind"], c["name"]) for c in data["components"]}
    assert ("sink", "sqlite_journal") in names and ("detector", "spatial") in names
