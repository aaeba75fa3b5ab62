"""The withdrawal gateways the rebalancer builds itself: only venues whose connector's gateway
implements withdrawals may be in ``withdraw_keys`` (checked when the bot starts, before any
request), and the gateways are built through the connector class with the withdrawal key."""

from __future__ import annotations

import pytest
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.errors import ConfigError
from arbot_binance.trading import BinanceTradingGateway
from arbot_rebalancer import plugin
from arbot_rebalancer.sink import RebalancerSink
from arbot_rebalancer.transfers import WithdrawalGateway
from arbot_rebalancer.withdrawal_gateways import _connector_class, _withdrawal_gateway, check_withdraw_venues

SECRET = "WITHDRAWSECRET-unit-0123456789"


def _bot(tmp_path, venues, withdraw_keys, execute=True, connectors=None):
    cfg = config_from_dict(
        {
            "connectors": connectors or {},
            "output_dir": str(tmp_path),
            "system": {"execution_mode": "live"},
            "exchanges": {"enabled": venues},
            "symbols": ["BTC/USDT"],
            "executor": {"name": "none"},
            "source": {"name": "live"},
            "sinks": {"enabled": []},
            "rebalancer": {
                "enabled": True,
                "execute": execute,
                "address_allowlist": ["TXaddr"],
                "withdraw_keys": {
                    v: {"api_key": f"w-{v}", "secret": SECRET, "passphrase": "pp-w"} for v in withdraw_keys
                },
            },
        }
    )
    bot = Bot(cfg, mode="live")
    [sink] = [s for s in bot.sinks if isinstance(s, RebalancerSink)]
    return bot, sink


def test_a_venue_whose_gateway_cannot_withdraw_is_a_config_error_at_start(tmp_path):
    """A venue traded through the ccxt connector: its gateway has no wallet interface."""
    connectors = {"kraken": {"connector": "ccxt", "exchange_id": "kraken"}}
    bot, _ = _bot(tmp_path, ["binance", "kraken"], ["binance", "kraken"], connectors=connectors)
    with pytest.raises(ConfigError, match=r"withdraw_keys\.kraken\].*cannot withdraw") as err:
        plugin.arbot_started(bot=bot)
    assert SECRET not in str(err.value)


@pytest.mark.parametrize("venue", ["okx", "bybit"])
def test_every_native_venue_withdraws_through_the_wallet_interface(tmp_path, venue):
    bot, sink = _bot(tmp_path, ["binance", venue], ["binance", venue])
    plugin.arbot_started(bot=bot)  # the start check builds each gateway: no error
    check_withdraw_venues(sink.settings, bot.ctx)
    cls = _connector_class(bot.ctx, venue)
    gw = _withdrawal_gateway(cls, venue, cls.Settings.model_validate({}), sink.settings.withdraw_keys[venue])
    assert isinstance(gw, WithdrawalGateway) and gw.supports_withdrawals and gw.venue == venue


def test_a_withdraw_key_of_a_venue_not_enabled_is_a_config_error(tmp_path):
    bot, _ = _bot(tmp_path, ["binance", "okx"], ["bybit"])
    with pytest.raises(ConfigError, match=r"withdraw_keys\.bybit\].*not in \[exchanges\] enabled"):
        plugin.arbot_started(bot=bot)


def test_binance_passes_and_the_sink_gets_the_live_source(tmp_path):
    bot, sink = _bot(tmp_path, ["binance", "okx"], ["binance"])
    plugin.arbot_started(bot=bot)
    assert sink.live_source is bot.source


def test_without_execute_the_keys_are_not_checked(tmp_path):
    bot, sink = _bot(tmp_path, ["binance", "okx"], ["okx"], execute=False)
    plugin.arbot_started(bot=bot)  # a dry run never withdraws: nothing to refuse
    assert sink.live_source is bot.source


def test_the_gateway_is_the_connectors_signed_in_with_the_withdrawal_key(tmp_path):
    bot, sink = _bot(tmp_path, ["binance"], ["binance"])
    check_withdraw_venues(sink.settings, bot.ctx)
    cls = _connector_class(bot.ctx, "binance")
    key = sink.settings.withdraw_keys["binance"]
    gw = _withdrawal_gateway(cls, "binance", cls.Settings.model_validate({}), key)
    assert isinstance(gw, BinanceTradingGateway) and isinstance(gw, WithdrawalGateway)
    assert gw.credentials.api_key == "w-binance" and SECRET not in repr(gw)


def test_the_trading_keys_come_from_the_configured_credentials(tmp_path, monkeypatch):
    """Key separation needs the bot's trading key: from the environment (or [connectors.<venue>])
    when no live executor's gateway carries it."""
    from arbot_rebalancer.withdrawal_gateways import trading_keys

    monkeypatch.setenv("BINANCE_API_KEY", "trade-key")
    monkeypatch.setenv("BINANCE_API_SECRET", "trade-secret")
    bot, _ = _bot(tmp_path, ["binance"], ["binance"])
    assert trading_keys(bot.ctx, ["binance"], {}) == {"binance": "trade-key"}
