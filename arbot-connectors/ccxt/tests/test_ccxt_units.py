"""Unit tests of the ccxt connector's pure parts: market conversion, book diffs, settings,
registration."""

from __future__ import annotations

import pytest
from arbot.errors import ConfigError
from arbot.testing.emulator import make_context
from arbot_ccxt import CcxtConnector, CcxtSettings, market_info
from arbot_ccxt.connector import book_changes
from arbot_ccxt.markets import increment
from ccxt.base.decimal_to_precision import DECIMAL_PLACES, SIGNIFICANT_DIGITS, TICK_SIZE
from hypothesis import given
from hypothesis import strategies as st


def _market(**over: object) -> dict[str, object]:
    m: dict[str, object] = {
        "id": "XBTUSDT", "symbol": "BTC/USDT", "base": "BTC", "quote": "USDT", "type": "spot",
        "active": True, "taker": 0.0026, "maker": 0.0016,
        "precision": {"price": 0.1, "amount": 1e-8},
        "limits": {"amount": {"min": 5e-5, "max": None}, "cost": {"min": 0.5, "max": None},
                   "price": {"min": None, "max": None}},
    }
    m.update(over)
    return m


def test_ccxt_market_info_tick_size_mode() -> None:
    info = market_info("kraken", _market(), TICK_SIZE)
    assert (info.venue, info.symbol, info.base, info.quote) == ("kraken", "BTC/USDT", "BTC", "USDT")
    assert info.venue_symbol == "XBTUSDT"
    assert info.tick_size == 0.1 and info.step_size == 1e-8
    assert info.min_qty == 5e-5 and info.min_notional == 0.5
    assert info.taker_fee == 0.0026 and info.maker_fee == 0.0016 and info.active


def test_ccxt_market_info_decimal_places_and_defaults() -> None:
    m = _market(precision={"price": 2, "amount": 4}, taker=None, maker=None, active=False,
                limits={})
    info = market_info("x", m, DECIMAL_PLACES, default_taker=0.002, default_maker=0.001)
    assert info.tick_size == pytest.approx(0.01) and info.step_size == pytest.approx(1e-4)
    assert info.taker_fee == 0.002 and info.maker_fee == 0.001
    assert info.min_qty == 0.0 and info.min_notional == 0.0 and not info.active


def test_ccxt_increment_modes() -> None:
    assert increment(None, TICK_SIZE) == 0.0
    assert increment("0.5", TICK_SIZE) == 0.5
    assert increment(3, DECIMAL_PLACES) == pytest.approx(0.001)
    assert increment(5, SIGNIFICANT_DIGITS) == 0.0  # no fixed increment
    assert increment(float("nan"), TICK_SIZE) == 0.0


def test_ccxt_book_changes_adds_changes_and_removes() -> None:
    prev = {100.0: 1.0, 99.0: 2.0, 98.0: 3.0}
    changes, now = book_changes(prev, [[100.0, 1.0], [99.0, 2.5], [97.0, 4.0, 7]])
    assert sorted(changes) == [(97.0, 4.0), (98.0, 0.0), (99.0, 2.5)]
    assert now == {100.0: 1.0, 99.0: 2.5, 97.0: 4.0}
    assert book_changes(now, [[100.0, 1.0], [99.0, 2.5], [97.0, 4.0]])[0] == []


levels = st.dictionaries(st.integers(1, 50).map(float), st.integers(1, 9).map(float),
                         max_size=12)


@given(levels, levels)
def test_ccxt_book_changes_rebuild_the_new_book(a: dict[float, float],
                                                b: dict[float, float]) -> None:
    changes, now = book_changes(dict(a), [[p, q] for p, q in b.items()])
    rebuilt = dict(a)
    for p, q in changes:
        if q == 0.0:
            rebuilt.pop(p, None)
        else:
            rebuilt[p] = q
    assert rebuilt == b == now


def test_ccxt_unknown_exchange_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no exchange"):
        CcxtConnector(CcxtSettings(exchange_id="not-an-exchange"), make_context())


def test_ccxt_settings_venue_urls_and_options() -> None:
    s = CcxtSettings(exchange_id="kraken", urls={"api": {"ws": {"public": "ws://127.0.0.1:1"}}},
                     options={"watchOrderBook": {"checksum": True}})
    conn = CcxtConnector(s, make_context())
    assert conn.venue == "kraken"
    assert conn.exchange.urls["api"]["ws"]["public"] == "ws://127.0.0.1:1"
    assert conn.exchange.urls["api"]["ws"]["private"].startswith("wss://")  # merged, not replaced
    assert conn.exchange.options["watchOrderBook"]["checksum"] is True
    assert CcxtConnector(CcxtSettings(exchange_id="okx", venue="okx-ccxt"),
                         make_context()).venue == "okx-ccxt"


def test_ccxt_checksum_errors_mean_gaps_only_where_ccxt_says_so() -> None:
    ctx = make_context()
    assert CcxtConnector(CcxtSettings(exchange_id="binance"), ctx)._checksum_is_gap
    assert not CcxtConnector(CcxtSettings(exchange_id="okx"), ctx)._checksum_is_gap
    forced = CcxtSettings(exchange_id="okx", checksum_error_means_gap=True)
    assert CcxtConnector(forced, ctx)._checksum_is_gap


def test_ccxt_plugin_registers_the_connector() -> None:
    from arbot_ccxt import plugin

    assert list(plugin.arbot_register_connectors()) == [CcxtConnector]
    assert CcxtConnector.name == "ccxt" and CcxtConnector.Settings is CcxtSettings
    from importlib.metadata import entry_points

    eps = {ep.name: ep.value for ep in entry_points(group="arbot")}
    assert eps.get("ccxt") == "arbot_ccxt.plugin"
