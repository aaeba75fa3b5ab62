"""examples/paper_ops.toml from the command line with every operations plugin at once (and
the rebalancer in dry run): the paper bot against three venue emulators, Prometheus metrics,
the live dashboard, Telegram alerts (against the local Bot API emulator) and the HTML report
afterwards."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "777:end-to-end-secret-token"
CHAT = 7

pytest.importorskip("arbot_prometheus")
pytest.importorskip("arbot_dashboard")
pytest.importorskip("arbot_report")
emulator_mod = pytest.importorskip("arbot_telegram.emulator")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def test_paper_ops_example_with_metrics_dashboard_alerts_and_report(tmp_path):
    emu = emulator_mod.BotApiEmulator(TOKEN, chats={CHAT})
    emu.start()
    metrics, dashboard = _port(), _port()
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN}
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "arbot",
            "run",
            "examples/paper_ops.toml",
            "--duration",
            "15",
            "--dashboard",
            "--port",
            str(dashboard),
            "--output-dir",
            str(run_dir),
            "--set",
            f"sinks.prometheus.port={metrics}",
            "--set",
            "alerts.telegram.enabled=true",
            "--set",
            f"alerts.telegram.chat_ids=[{CHAT}]",
            "--set",
            f"alerts.telegram.base_url={emu.base_url}",
            "--set",
            "alerts.telegram.batch_window_s=1.0",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        seen_metrics = seen_state = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (seen_metrics and seen_state):
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                text = _get(f"http://127.0.0.1:{metrics}/metrics")
                if (
                    "arbot_opportunities_total" in text
                    and 'arbot_book_live{symbol="BTC/USDT",venue="okx"} 1.0' in text
                ):
                    seen_metrics = text
                state = json.loads(_get(f"http://127.0.0.1:{dashboard}/state"))
                if len(state["books"]) == 6 and state["feed"]["opportunities"]:
                    seen_state = json.dumps(state)
            except OSError:
                pass
            time.sleep(0.3)
        assert seen_metrics and seen_state
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        emu.stop()
    assert proc.returncode == 0, out[-3000:]
    assert "paper summary" in out and "sink telegram:" in out and "sink prometheus:" in out
    assert "sink rebalancer:" in out and "mode=simulated" in out  # the dry-run rebalancer ran
    assert emu.texts(CHAT), "no Telegram alert arrived"
    assert TOKEN not in out

    rep = subprocess.run(
        [sys.executable, "-m", "arbot", "report", str(run_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rep.returncode == 0, rep.stderr
    html = (run_dir / "report.html").read_text()
    assert html.count('class="plotly-graph-div"') == 9
