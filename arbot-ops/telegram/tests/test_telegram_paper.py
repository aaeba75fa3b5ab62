"""Telegram alerts and commands over real HTTP against the local Bot API emulator, during a paper
run of the spatial bot against three venue emulators (binance, okx, bybit) on loopback."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot_telegram import TelegramSink
from arbot_telegram.emulator import BotApiEmulator

TOKEN = "123456:TEST-token-never-printed-0123456789"
OPERATOR, STRANGER = 111, 999


def _wait(what: str, check: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _flags(tmp_path) -> dict[str, str]:
    """The execution journal's flags, read as another process would (the live executor does)."""
    from arbot.execution.journal import SqliteJournal

    journal = SqliteJournal(tmp_path / "execution.sqlite")
    try:
        return journal.flags()
    finally:
        journal.close()


class PaperRun:
    """A paper bot built and run on a thread of its own until stopped (built there because the
    executor's SQLite journal may only be used by the thread that opened it)."""

    def __init__(self, build: Callable[[], Bot]) -> None:
        self.build = build
        self.bot: Bot
        self.summary: dict[str, Any] = {}
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main() -> dict[str, Any]:
            self.bot = self.build()
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._ready.set()
            return await self.bot.arun(self._stop, 90.0)

        try:
            self.summary = asyncio.run(main())
        except BaseException as exc:
            self.error = exc
            self._ready.set()

    def start(self) -> Bot:
        self.thread.start()
        self._ready.wait(30)
        if self.error is not None:
            raise self.error
        return self.bot

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(60)
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error


@pytest.fixture
def emulator():
    emu = BotApiEmulator(TOKEN, min_interval_s=1.0)
    emu.start()
    yield emu
    emu.stop()


def _paper_bot(tmp_path, base_url: str) -> Bot:
    return Bot(
        config_from_dict(
            {
                "output_dir": str(tmp_path),
                "symbols": ["BTC/USDT", "ETH/USDT"],
                "system": {"execution_mode": "paper"},
                "exchanges": {"enabled": ["binance", "okx", "bybit"]},
                "source": {
                    "name": "live",
                    "live": {"emulate": True, "emulator_seed": 1, "emulator_dislocation_probability": 0.004},
                },
                "detector": {
                    "spatial": {
                        "enabled": True,
                        "min_spread_pct": 0.1,
                        "min_depth_usd": 100,
                        "max_latency_ms": 1000,
                    }
                },
                "risk": {"max_book_age_ms": 2000},
                "executor": {"latency_ms": 30},
                "sinks": {"enabled": ["sqlite_journal"]},
                "alerts": {
                    "thresholds": {"opportunity_min_pct": 0.1, "daily_pnl_alert": True, "error_alert": True},
                    "telegram": {
                        "enabled": True,
                        "chat_ids": [OPERATOR],
                        "base_url": base_url,
                        "batch_window_s": 1.5,
                        "min_interval_s": 1.0,
                        "poll_timeout_s": 1,
                    },
                },
            }
        ),
        mode="paper",
    )


def test_alerts_commands_and_429_during_a_paper_run(tmp_path, emulator, monkeypatch, caplog, capsys):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)  # the HTTP client logs every request URL at DEBUG/INFO
    emulator.flood(retry_after=3)  # Telegram answers the very first sendMessage with 429 (> min_interval_s)
    # an execution journal in the output folder, as a live run keeps one: /stop sets its kill
    # switch flag (the paper executor here journals in memory: with journal = "sqlite" the core
    # closes that file before the last episodes finish, a separate issue)
    from arbot.execution.journal import SqliteJournal

    SqliteJournal(tmp_path / "execution.sqlite").close()
    run = PaperRun(lambda: _paper_bot(tmp_path, emulator.base_url))
    bot = run.start()
    sink = next(s for s in bot.sinks if isinstance(s, TelegramSink))
    try:
        # 1. the first alert message met a 429, waited retry_after, then went through
        _wait("a delivered alert", lambda: any("ArBot paper" in t for t in emulator.texts(OPERATOR)))
        assert len(emulator.rate_limited) == 1
        chat, limited_at, retry_after = emulator.rate_limited[0]
        assert chat == OPERATOR and retry_after == 3
        first = emulator.sent[0]
        assert first.at - limited_at >= retry_after, "the retry did not wait retry_after"
        assert sink.counters["rate_limited"] == 1

        def reply(chat_id: int, command: str, expect: str) -> str:
            n = len(emulator.texts(chat_id))
            emulator.push_command(chat_id, command)
            _wait(f"the reply to {command}", lambda: any(expect in t for t in emulator.texts(chat_id)[n:]))
            return next(t for t in emulator.texts(chat_id)[n:] if expect in t)

        status = reply(OPERATOR, "/status", "books live")
        assert (
            "paper run" in status
            and "binance: 2/2 books live" in status
            and "circuit breaker: closed" in status
        )
        assert "net PnL" in reply(OPERATOR, "/pnl", "net PnL")
        assert "USDT" in reply(OPERATOR, "/balance", "total")

        # 2. a stranger's commands are ignored; so is an operator's command sent before the run
        emulator.push_command(STRANGER, "/stop")
        emulator.push_command(OPERATOR, "/stop", date=time.time() - 3600)
        _wait(
            "both ignored",
            lambda: sink.counters["unauthorized_commands"] == 1 and sink.counters["stale_commands"] == 1,
        )
        assert emulator.texts(STRANGER) == []
        assert bot.engine.performance.rejected_by_rule.get("circuit_breaker", 0) == 0

        # 3. /stop is the kill switch: the breaker opens, new opportunities are rejected by it
        halted = reply(OPERATOR, "/stop", "trading halted")
        assert "the circuit breaker is open" in halted and "kill switch engaged in execution.sqlite" in halted
        assert _flags(tmp_path).get("kill_switch") == "/stop from Telegram"
        _wait("the breaker alert", lambda: any("circuit breaker OPEN" in t for t in emulator.texts(OPERATOR)))
        _wait(
            "rejections by the breaker",
            lambda: bot.engine.performance.rejected_by_rule.get("circuit_breaker", 0) > 0,
        )
        executed = bot.engine.performance.executed
        time.sleep(1.0)
        assert bot.engine.performance.executed == executed, "trades went on after /stop"
        assert "kill switch cleared" in reply(OPERATOR, "/start", "trading resumed")
        assert "kill_switch" not in _flags(tmp_path)
        _wait(
            "the resume alert", lambda: any("circuit breaker closed" in t for t in emulator.texts(OPERATOR))
        )
    finally:
        run.stop()

    texts = emulator.texts(OPERATOR)
    assert any(t.startswith("ArBot paper") and "day " in t for t in texts), "no daily PnL alert at the end"
    # batching: many opportunity alerts, few messages, none refused for going too fast
    alert_messages = [t for t in texts if t.startswith("ArBot paper")]
    alerts = sum(
        int(m.group(1)) if (m := re.search(r"\(×(\d+)\)$", line)) else 1
        for t in alert_messages
        for line in t.splitlines()[1:]
        if not line.startswith("…")
    )
    alerts += sum(int(m.group(1)) for t in alert_messages for m in re.finditer(r"… and (\d+) more", t))
    assert alerts > len(alert_messages)
    assert len(emulator.rate_limited) == 1, "the sink wrote faster than min_interval_s"
    assert emulator.unauthorized == 0
    # the token never appears in any output
    out = capsys.readouterr()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert any("sendMessage" in r.getMessage() for r in caplog.records), (
        "expected the HTTP client's log lines"
    )
    for text in (out.out, out.err, logged, repr(sink.settings), str(run.summary)):
        assert TOKEN not in text


def test_alerts_arrive_once_the_bot_api_comes_up_after_the_bot(tmp_path, monkeypatch):
    """The Bot API is unreachable when the bot starts; the sink retries and delivers when it is up."""
    import socket

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    run = PaperRun(lambda: _paper_bot(tmp_path, f"http://127.0.0.1:{port}/bot"))
    bot = run.start()
    sink = next(s for s in bot.sinks if isinstance(s, TelegramSink))
    late = BotApiEmulator(TOKEN, port=port)
    try:
        _wait("a failed connect", lambda: sink.counters["connect_retries"] >= 1)
        late.start()
        _wait("an alert after the Bot API came up", lambda: bool(late.texts(OPERATOR)), timeout=40)
        assert sink.client_error is None
    finally:
        run.stop()
        late.stop()
