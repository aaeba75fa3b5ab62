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


def test_diverged_legs_and_residual_exposure_are_alerted(tmp_path, monkeypatch):
    """The sink's event and health logic on a finished backtest's bot (no network involved)."""
    import attrs
    from arbot.events import ExecutionReport, Fill, FillStatus, Leg, Side
    from arbot_telegram.watch import HealthWatch

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    cfg = _config(tmp_path, "http://127.0.0.1:9/bot")
    cfg.detector.pop("exploding")
    bot = Bot(cfg, mode="backtest")
    sink = next(s for s in bot.sinks if isinstance(s, TelegramSink))
    bot.engine.run(bot.source.events())  # books and balances, without starting the sinks

    opp = Opportunity(
        "o-1",
        1.0,
        "spatial",
        "BTC/USDT",
        (Leg("binance", "BTC/USDT", Side.BUY, 100.0, 1.0), Leg("okx", "BTC/USDT", Side.SELL, 101.0, 1.0)),
        1.0,
        0.8,
        8.0,
    )

    def fill(venue: str, side: Side, filled: float) -> Fill:
        return Fill(
            "o-1",
            venue,
            "BTC/USDT",
            side,
            "IOC",
            1.0,
            100.0,
            filled,
            100.0,
            0.1,
            "USDT",
            FillStatus.FILLED if filled else FillStatus.CANCELLED,
            1.0,
            5.0,
            "BACKTEST",
        )

    hedged = ExecutionReport(
        opp, (fill("binance", Side.BUY, 1.0), fill("okx", Side.SELL, 1.0)), 1.0, 1.0, 0.2
    )
    broken = attrs.evolve(hedged, fills=(fill("binance", Side.BUY, 1.0), fill("okx", Side.SELL, 0.0)))
    sink.write_batch([hedged], sink.run)
    assert sink.alerts.take("t") is None
    sink.write_batch([broken], sink.run)
    text = sink.alerts.take("t") or ""
    assert "legs diverged on o-1: binance BUY BTC/USDT 100 % filled, okx SELL BTC/USDT 0 % filled" in text

    watch = HealthWatch(bot, sink.alerts, errors=True, residual_usd=1000.0)
    watch.check()
    assert "residual" not in (sink.alerts.take("t") or "")
    bot.ctx.portfolio.balances[("binance", "BTC")] += 1.0  # one unhedged bitcoin
    watch.check()
    watch.check()  # reported once, not on every check
    text = sink.alerts.take("t") or ""
    assert text.count("residual exposure") == 1 and "is above 1,000 USD" in text
    bot.ctx.portfolio.balances[("binance", "BTC")] -= 1.0
    watch.check()
    assert "residual exposure back to" in (sink.alerts.take("t") or "")


def test_execution_layer_events_become_alerts(tmp_path, monkeypatch):
    from arbot.execution.events import Alert, KillSwitchChanged, ResidualExposure

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    cfg = _config(tmp_path, "http://127.0.0.1:9/bot")
    cfg.detector.pop("exploding")
    sink = next(s for s in Bot(cfg, mode="backtest").sinks if isinstance(s, TelegramSink))
    sink.write_batch(
        [
            Alert(1.0, "critical", "episode e7: unwind failed, position held", "e7"),
            ResidualExposure(1.0, "e7", "okx", "BTC", 0.02, "unwind rejected"),
            KillSwitchChanged(1.0, True, "failed unwind"),
        ],
        sink.run,
    )
    text = sink.alerts.take("t") or ""
    assert "🔴 execution: episode e7: unwind failed, position held" in text
    assert "residual exposure: 0.02 BTC on okx left by episode e7 (unwind rejected)" in text
    assert "kill switch ENGAGED: failed unwind" in text


def test_the_token_can_come_from_the_encrypted_key_store(tmp_path, monkeypatch, capsys):
    pytest.importorskip("cryptography")
    from arbot.keystore import KeyStore, KeyStoreError

    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("ARBOT_MASTER_KEY_FILE", raising=False)
    store_path = tmp_path / "keys.json"
    monkeypatch.setenv("ARBOT_KEYSTORE", str(store_path))
    monkeypatch.setenv("ARBOT_MASTER_KEY", "correct horse battery staple")
    store = KeyStore.open(store_path, "correct horse battery staple", create=True)
    store.add("telegram", "bot", api_key=TOKEN, secret="unused")
    store.save()
    bot = Bot(_config(tmp_path, "http://127.0.0.1:9/bot"), plugins=[Plugin()], mode="backtest")
    sink = next(s for s in bot.sinks if isinstance(s, TelegramSink))
    assert sink._token == TOKEN
    monkeypatch.setenv("ARBOT_MASTER_KEY", "wrong master key")
    with pytest.raises(KeyStoreError) as err:
        Bot(_config(tmp_path, "http://127.0.0.1:9/bot"), plugins=[Plugin()], mode="backtest")
    assert TOKEN not in str(err.value)
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err
