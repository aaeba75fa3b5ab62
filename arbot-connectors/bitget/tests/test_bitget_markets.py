"""Bitget: symbols and market metadata from the real v1 products capture."""

from __future__ import annotations

import json

from arbot.testing import shared_data
from arbot_bitget.markets import parse_products
from arbot_bitget.symbols import BitgetSymbols, guess_unified


def _body() -> dict:
    return json.loads(shared_data("rest/bitget/bitget_spot_v1_products_2022-04-07.json").read_text())


def test_bitget_symbols_from_products() -> None:
    body = _body()
    syms = BitgetSymbols.from_products(body)
    assert len(syms) == len(body["data"]) == 245
    for p in body["data"]:
        u = f"{p['baseCoin']}/{p['quoteCoin']}"
        assert syms.to_unified(p["symbolName"]) == u
        assert syms.to_unified(p["symbol"]) == u  # v1 REST id alias
        assert syms.to_venue(u) == p["symbolName"]
        assert guess_unified(p["symbolName"]) == u or p["quoteCoin"] not in ("USDT", "USDC")


def test_bitget_markets_from_products() -> None:
    markets = {m.symbol: m for m in parse_products(_body())}
    alpha = markets["ALPHA/USDT"]
    assert alpha.venue_symbol == "ALPHAUSDT"
    assert alpha.tick_size == 1e-4 and alpha.step_size == 1e-4 and alpha.min_qty == 2.0
    assert alpha.taker_fee == 0.001 and alpha.maker_fee == 0.001 and alpha.active
    assert all(m.tick_size > 0 for m in markets.values())
