"""Error alerts (a component failing, a store down) at the end of a backtest, a refused token, and
the configuration errors; all against the local Bot API emulator over real HTTP."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest
from arbot.bot import Bot
from arbot.components import Detector
from arbot.config import config_from_dict
from arbot.errors import ConfigError
from arbot.events import Opportunity
from arbot.hookspecs import hookimpl
from arbot_telegram import TelegramSink
from arbot_telegram.alerts import AlertBatch
from arbot_telegram.emulator import BotApiEmulator

TOKEN = "654321:ANOTHER-secret-token-abcdef"
CHAT = 42


class ExplodingDetector(Detector):
    """A detector that raises on its 50th book (a plugin bug in production)."""

    name = "exploding"

    def __init__(self, settings, ctx) -> None:
        super().__init__(settings, ctx)
        self.calls = 0

    def on_book(self, venue: str, symbol: str, now: float) -> Sequence[Opportunity]:
        self.calls += 1
        if self.calls == 50:
            raise ZeroDivisionError("bug in the exploding detector")
        return ()


class Plugin:
    @hookimpl
    def arbot_register_detectors(self):
        return [ExplodingDetector]


def _config(tmp_path, base_url: str, journal_path: str = "journal.sqlite", **telegram):
    return config_from_dict(
        {
            "output_dir": str(tmp_path),
            "symbols": ["BTC/USDT", "ETH/USDT"],
            "system": {"execution_mode": "backtest", "on_component_error": "disable"},
            "exchanges": {"enabled": ["binance", "okx"]},
            "backtest": {"seed": 5, "duration_s": 120},
            "source": {"name": "simulator"},
            "detector": {"spatial": {"enabled": True}, "exploding": {"enabled": True}},
            "sinks": {"enabled": ["sqlite_journal"], "sqlite_journal": {"path": journal_path, "retries": 0}},
            "alerts": {
                "telegram": {
                    "enabled": True,
                    "chat_ids": [CHAT],
                    "base_url": base_url,
                    "batch_window_s": 0.5,
                    "min_interval_s": 0.0,
                    **telegram,
                }
            },
        }
    )


def test_component_failure_and_store_down_are_alerted(tmp_path, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    (tmp_path / "not-a-dir").write_text("a file where the journal's folder should be")
    emu = BotApiEmulator(TOKEN, chats={CHAT})
    emu.start()
    try:
        bot = Bot(
            _config(tmp_path, emu.base_url, "not-a-dir/journal.sqlite"), plugins=[Plugin()], mode="backtest"
        )
        summary = bot.run_backtest()
    finally:
        emu.stop()
    assert summary["faults"], summary
    text = "\n".join(emu.texts(CHAT))
    assert "component failure: detector 'exploding' raised ZeroDivisionError" in text
    assert "store down: sink sqlite_journal cannot write" in text


def test_a_refused_token_is_reported_without_showing_it(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)
    emu = BotApiEmulator("999:the-right-token")
    emu.start()
    try:
        bot = Bot(_config(tmp_path, emu.base_url), plugins=[Plugin()], mode="backtest")
        sink = next(s for s in bot.sinks if isinstance(s, TelegramSink))
        bot.run_backtest()
    finally:
        emu.stop()
    assert emu.unauthorized >= 1 and emu.sent == []
    assert "refused the token" in (sink.client_error or "")
    assert sink.stats()["client_errors"] == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "refused the token" in logged
    assert TOKEN not in logged


def test_configuration_errors_name_the_fix(tmp_path, monkeypatch):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    with pytest.raises(ConfigError, match=r"needs a bot token: set \$TELEGRAM_BOT_TOKEN"):
        Bot(_config(tmp_path, "http://127.0.0.1:9/bot"), plugins=[Plugin()], mode="backtest")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    with pytest.raises(ConfigError, match="chat_ids is empty"):
        Bot(_config(tmp_path, "http://127.0.0.1:9/bot", chat_ids=[]), plugins=[Plugin()], mode="backtest")
    with pytest.raises(ConfigError, match="base_url"):
        Bot(_config(tmp_path, "ftp://x"), plugins=[Plugin()], mode="backtest")


def test_a_storm_becomes_one_message_with_a_count():
    batch = AlertBatch(max_lines=3)
    for i in range(500):
        batch.add("info", f"opportunity {i % 5}", key=f"k{i % 5}")
    text = batch.take("title")
    assert text is not None
    lines = text.splitlines()
    assert lines[0] == "title" and len(lines) == 5
    assert lines[1].endswith("(×100)")
    assert lines[-1] == "… and 200 more"
    assert batch.take("title") is None
