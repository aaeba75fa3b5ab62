"""The live dashboard in headless Chromium during a paper run against three venue emulators.

``arbot run examples/paper_emulated.toml --dashboard --port P`` runs as a subprocess. The page's
WebSocket goes through playwright's WebSocket routing, connected to the real server, so the test
can drop it the way a restarting proxy would (close code 1012) and watch the page reconnect.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Debian package chromium not installed (under CI, which installs it, the test fails instead)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "arbot run exited before the dashboard came up"
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


def test_dashboard_updates_live_and_survives_a_websocket_reconnect(tmp_path):
    from playwright.sync_api import WebSocketRoute, sync_playwright

    port = _free_port()
    log = (tmp_path / "bot.log").open("w")
    bot = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "arbot",
            "run",
            "examples/paper_emulated.toml",
            "--dashboard",
            "--port",
            str(port),
            "--duration",
            "120",
            "--output-dir",
            str(tmp_path / "run"),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    routes: list[WebSocketRoute] = []
    errors: list[str] = []
    try:
        _wait_http(f"http://127.0.0.1:{port}/state", bot)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = browser.new_page(viewport={"width": 1500, "height": 1100})
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))

                def through_server(ws: WebSocketRoute) -> None:
                    ws.connect_to_server()
                    routes.append(ws)

                page.route_web_socket("**/ws", through_server)
                page.goto(f"http://127.0.0.1:{port}/")
                # books, fills and opportunities on the page
                page.wait_for_function(
                    "() => window.arbot.messages > 2 && document.querySelectorAll('#books tr').length > 6"
                    " && document.querySelectorAll('#opportunities tr').length > 1",
                    timeout=60_000,
                )
                page.wait_for_function(
                    "() => document.querySelectorAll('#fills tr').length > 1", timeout=60_000
                )

                def visible() -> tuple[str, str, str]:
                    return (
                        page.inner_text("#kpi-events"),
                        page.inner_text("#books"),
                        page.inner_text("#updated"),
                    )

                before = visible()
                first = tmp_path / "dashboard-1.png"
                page.screenshot(path=str(first), full_page=True)
                page.wait_for_timeout(2000)
                after = visible()
                second = tmp_path / "dashboard-2.png"
                page.screenshot(path=str(second), full_page=True)
                assert before[0] != after[0], "the events counter did not move"
                assert before[1] != after[1], "the books did not change"
                assert before[2] != after[2]
                assert first.read_bytes() != second.read_bytes()
                assert page.inner_text("#conn") == "live"
                assert "binance" in after[1] and "okx" in after[1] and "bybit" in after[1]
                assert "EXECUTED" in page.inner_text("#opportunities") or "REJECTED" in page.inner_text(
                    "#opportunities"
                )

                # drop the socket as a restarting proxy would: the page reconnects by itself
                assert len(routes) == 1
                messages = page.evaluate("window.arbot.messages")
                routes[0].close(code=1012, reason="proxy restart")
                page.wait_for_function("() => window.arbot.connects >= 2", timeout=30_000)
                page.wait_for_function(f"() => window.arbot.messages > {messages} + 3", timeout=30_000)
                assert len(routes) == 2
                assert page.inner_text("#conn") == "live"
                assert page.inner_text("#connects") == "2"
                reconnected = visible()
                assert reconnected[0] != after[0]
                third = tmp_path / "dashboard-3-after-reconnect.png"
                page.screenshot(path=str(third), full_page=True)
            finally:
                browser.close()
        shutil.copyfile(second, ROOT / "docs" / "img" / "dashboard.png")
        bot.send_signal(signal.SIGTERM)
        assert bot.wait(timeout=60) == 0, (tmp_path / "bot.log").read_text()[-3000:]
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
        log.close()
    assert not errors, errors
    out = (tmp_path / "bot.log").read_text()
    assert f"dashboard: http://127.0.0.1:{port}/" in out and "paper summary" in out
