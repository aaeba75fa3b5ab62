"""Access control and the event feed of the dashboard, against its real server on loopback."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest
import websockets
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.errors import ConfigError
from arbot_dashboard.sink import TOKEN_ENV, DashboardSink, is_loopback

SECRET = "s3cr3t-dashboard-token-value"


def _bot(tmp_path, **dashboard) -> Bot:
    cfg = config_from_dict(
        {
            "output_dir": str(tmp_path),
            "symbols": ["BTC/USDT", "ETH/USDT"],
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["binance", "okx"]},
            "backtest": {"seed": 3, "duration_s": 300},
            "source": {"name": "simulator"},
            "detector": {"spatial": {"enabled": True, "min_spread_pct": 0.2, "min_depth_usd": 500}},
            "sinks": {"enabled": ["dashboard"], "dashboard": {"port": 0, **dashboard}},
        }
    )
    return Bot(cfg, mode="backtest")


def _sink(bot: Bot) -> DashboardSink:
    sink = bot.sinks[0]
    assert isinstance(sink, DashboardSink)
    return sink


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def test_beyond_loopback_needs_a_token(tmp_path, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(ConfigError, match="beyond loopback: set a token") as err:
        _bot(tmp_path, host="0.0.0.0")
    assert "ARBOT_DASHBOARD_TOKEN" in str(err.value)
    monkeypatch.setenv(TOKEN_ENV, SECRET)
    assert _sink(_bot(tmp_path, host="0.0.0.0")).settings.token.get_secret_value() == SECRET
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4") and not is_loopback("example.org")


def test_a_configured_token_guards_page_state_and_websocket(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(TOKEN_ENV, SECRET)
    bot = _bot(tmp_path)
    sink = _sink(bot)
    sink.start()
    try:
        base = f"http://127.0.0.1:{sink.port}"
        assert _status(f"{base}/") == 401
        assert _status(f"{base}/state") == 401
        assert _status(f"{base}/?token=wrong") == 401
        assert _status(f"{base}/?token={SECRET}") == 200
        assert _status(f"{base}/state?token={SECRET}") == 200

        async def ws(url: str) -> str:
            async with websockets.connect(url) as conn:
                return str(await asyncio.wait_for(conn.recv(), 5))

        with pytest.raises(websockets.exceptions.InvalidStatus):
            asyncio.run(ws(f"ws://127.0.0.1:{sink.port}/ws"))
        state = json.loads(asyncio.run(ws(f"ws://127.0.0.1:{sink.port}/ws?token={SECRET}")))
        assert state["mode"] == "BACKTEST" and "feed" in state
        # read-only: nothing but GET
        req = urllib.request.Request(f"{base}/state?token={SECRET}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as post:
            urllib.request.urlopen(req, timeout=5)
        assert post.value.code == 405
    finally:
        sink.close()
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err
    assert SECRET not in repr(sink.settings)


def test_the_feed_lists_decisions_and_fills_of_a_run(tmp_path):
    bot = _bot(tmp_path)
    sink = _sink(bot)
    before = sink.state()  # served before the bot attaches: same shape, empty sections
    summary = bot.run_backtest()  # starts and closes the sink (and its server)
    assert set(before) == set(sink.state()) and before["books"] == []
    feed = sink.feed.snapshot()
    assert summary["detected"] > 0
    assert sum(v for k, v in feed["counts"].items() if k != "fills") == summary["detected"]
    assert feed["counts"].get("EXECUTED", 0) == summary["executed"]
    assert len(feed["opportunities"]) == min(50, summary["detected"])
    statuses = {o["status"] for o in feed["opportunities"]}
    assert statuses <= {"EXECUTED", "REJECTED", "MISSED", "DETECTED"}
    if summary["executed"]:
        assert feed["fills"] and feed["fills"][0]["venue"] in ("binance", "okx")
    state = sink.state()
    assert {b["venue"] for b in state["books"]} == {"binance", "okx"}
    assert state["performance"]["detected"] == summary["detected"]
    assert state["risk"]["circuit_breaker"] == "closed"


def test_port_without_dashboard_is_a_usage_error():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    res = subprocess.run(
        [sys.executable, "-m", "arbot", "run", "examples/paper_emulated.toml", "--port", "9000"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2
    assert "--port sets the dashboard's port: add --dashboard" in res.stderr


def test_a_port_in_use_is_a_clear_error(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        sink = _sink(_bot(tmp_path, port=port))
        with pytest.raises(ConfigError, match=f"could not listen on 127.0.0.1:{port}"):
            sink.start()
