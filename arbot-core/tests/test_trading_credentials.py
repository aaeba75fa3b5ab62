"""API credentials for live trading: the connector table or the environment, never printed."""

from __future__ import annotations

import pytest
from arbot.errors import ConfigError
from arbot.trading.credentials import credentials_for, split_credentials
from arbot.trading.urls import origin
from pydantic import SecretStr


def test_the_connector_table_wins_over_the_environment() -> None:
    env = {"OKX_API_KEY": "env-key", "OKX_API_SECRET": "env-secret", "OKX_PASSPHRASE": "env-pass"}
    creds = credentials_for("okx", {"api_key": "tbl-key", "api_secret": "tbl-secret", "passphrase": "p"}, env)
    assert creds is not None and creds.api_key == "tbl-key" and creds.passphrase_value() == "p"
    assert "tbl-secret" not in repr(creds) and "tbl-secret" not in str(creds)


def test_the_environment_names_of_trd_section_7() -> None:
    env = {"OKX_API_KEY": "k", "OKX_API_SECRET": "s", "OKX_PASSPHRASE": "pp"}
    creds = credentials_for("okx", {"rest_url": "http://x"}, env)
    assert creds is not None and creds.api_key == "k" and creds.passphrase_value() == "pp"
    binance = credentials_for("binance", {}, {"BINANCE_API_KEY": "bk", "BINANCE_API_SECRET": "bs"})
    assert binance is not None and not binance.has_passphrase
    assert credentials_for("bybit", {}, env) is None


def test_a_key_without_its_secret_is_a_clear_error_that_does_not_show_the_key() -> None:
    with pytest.raises(ConfigError, match=r"\[connectors.binance\].*api_secret is missing") as err:
        credentials_for("binance", {"api_key": "VISIBLE-KEY-123"}, {})
    assert "VISIBLE-KEY-123" not in str(err.value)
    with pytest.raises(ConfigError, match=r"BYBIT_API_KEY.*api_key is missing"):
        credentials_for("bybit", {}, {"BYBIT_API_SECRET": "only-secret"})


def test_split_keeps_connector_settings_and_wraps_secrets() -> None:
    settings, secrets = split_credentials({"rest_url": "http://h", "api_key": "k", "api_secret": "s"})
    assert settings == {"rest_url": "http://h"}
    assert all(isinstance(v, SecretStr) for v in secrets.values())
    assert "s" not in repr(secrets["api_secret"]).replace("SecretStr", "")


def test_origin_of_stream_urls() -> None:
    assert origin("wss://ws.okx.com:8443/ws/v5/public") == "wss://ws.okx.com:8443"
    assert origin("ws://127.0.0.1:5000") == "ws://127.0.0.1:5000"
    with pytest.raises(ValueError, match="not an absolute URL"):
        origin("/ws/v5/public")
