"""Configuration: TRD defaults, TOML loading, errors naming key, value and file, secrets."""

from __future__ import annotations

import pytest
from arbot.config import BotConfig, load_config
from arbot.errors import ConfigError


def test_trd_defaults():
    cfg = BotConfig()
    assert cfg.system.execution_mode == "paper"
    assert cfg.exchanges.enabled == ["binance", "okx", "bybit", "upbit", "kucoin"]
    assert cfg.symbols == ["BTC/USDT", "ETH/USDT"]
    r = cfg.risk
    assert (r.max_position_per_coin_usd, r.max_position_per_exchange_usd, r.max_total_exposure_usd) == (
        10_000,
        50_000,
        100_000,
    )
    assert (r.max_daily_loss_usd, r.max_daily_loss_pct, r.max_drawdown_pct) == (500, 1.0, 5.0)
    assert (r.price_deviation_threshold_pct, r.max_spread_pct) == (10.0, 5.0)
    assert (r.consecutive_loss_limit, r.cooldown_minutes) == (10, 30)
    assert cfg.alerts.thresholds.opportunity_min_pct == 0.5
    assert cfg.sinks.enabled == ["sqlite_journal"]


def test_bad_value_names_key_value_and_file(tmp_path):
    f = tmp_path / "bot.toml"
    f.write_text('[risk]\nmax_drawdown_pct = "lots"\n')
    with pytest.raises(ConfigError) as exc:
        load_config(f)
    msg = str(exc.value)
    assert str(f) in msg and "risk.max_drawdown_pct" in msg and "'lots'" in msg


def test_unknown_key_is_an_error(tmp_path):
    f = tmp_path / "bot.toml"
    f.write_text("[risk]\nmax_drawdown = 3\n")
    with pytest.raises(ConfigError, match=r"risk\.max_drawdown = 3: unknown key"):
        load_config(f)


def test_toml_syntax_error_names_file(tmp_path):
    f = tmp_path / "bot.toml"
    f.write_text("[risk\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(f)


def test_missing_file():
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_config("/nonexistent/bot.toml")


def test_bad_symbol(tmp_path):
    f = tmp_path / "bot.toml"
    f.write_text('symbols = ["BTCUSDT"]\n')
    with pytest.raises(ConfigError, match="BASE/QUOTE"):
        load_config(f)


def test_secrets_in_plugin_tables_are_redacted():
    from arbot.redaction import redact

    cfg = BotConfig.model_validate(
        {
            "connectors": {"binance": {"api_key": "k-hunter2", "api_secret": "s-hunter2", "timeout": 3}},
            "alerts": {"telegram": {"enabled": False, "bot_token": "123:abc"}},
            "database": {"postgres": {"dsn": "postgresql://u:pw-hunter2@h/db"}},
        }
    )
    shown = str(redact(cfg))
    for secret in ("k-hunter2", "s-hunter2", "123:abc", "pw-hunter2"):
        assert secret not in shown
    assert "'timeout': 3" in shown


def test_component_settings_errors_use_the_same_format(tmp_path):
    from arbot.bot import Bot

    f = tmp_path / "bot.toml"
    f.write_text("[detector.spatial]\nenabled = true\nmin_spread_pct = -1\n")
    with pytest.raises(ConfigError) as exc:
        Bot.from_file(f)
    assert "detector.spatial.min_spread_pct = -1" in str(exc.value)
    assert str(f) in str(exc.value)


def test_unknown_detector_in_config_lists_available(tmp_path):
    from arbot.bot import Bot
    from arbot.errors import UnknownComponentError

    f = tmp_path / "bot.toml"
    f.write_text("[detector.spatail]\nenabled = true\n")
    with pytest.raises(UnknownComponentError, match=r"no detector named 'spatail'.*spatial"):
        Bot.from_file(f)
