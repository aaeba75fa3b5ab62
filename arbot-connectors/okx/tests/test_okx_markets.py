"""OKX: symbols and market metadata from the real instruments captures."""

from __future__ import annotations

import gzip
import json
from typing import Any

from arbot.testing import shared_data
from arbot_okx.markets import DEFAULT_TAKER_FEE, parse_instruments
from arbot_okx.symbols import OkxSymbols, guess_unified


def _body(name: str) -> Any:
    with gzip.open(shared_data(f"rest/okx/{name}"), "rt") as fh:
        return json.load(fh)


def test_okx_spot_symbols_round_trip() -> None:
    body = _body("okx_instruments_spot_2022-05-13.json.gz")
    syms = OkxSymbols.from_instruments(body)
    assert len(syms) == len(body["data"]) > 500
    assert syms.to_unified("BTC-USDT") == "BTC/USDT"
    for inst in body["data"]:
        u = syms.to_unified(inst["instId"])
        assert u == f"{inst['baseCcy']}/{inst['quoteCcy']}"
        assert syms.to_venue(u) == inst["instId"]


def test_okx_swap_symbols() -> None:
    syms = OkxSymbols.from_instruments(_body("okx_instruments_swap_2022-05-13.json.gz"))
    assert syms.to_unified("BTC-USD-SWAP") == "BTC/USD:BTC"
    assert syms.to_unified("BTC-USDT-SWAP") == "BTC/USDT:USDT"
    assert syms.to_unified("UNI-USD-SWAP") == "UNI/USD:UNI"
    assert syms.to_venue("BTC/USDT:USDT") == "BTC-USDT-SWAP"
    assert guess_unified("BTC-USD-220527") == "BTC/USD:BTC-220527"
    assert OkxSymbols().to_venue("BTC/USD:BTC-220527") == "BTC-USD-220527"


def test_okx_markets_from_instruments() -> None:
    body = _body("okx_instruments_spot_2022-05-13.json.gz")
    markets = {m.symbol: m for m in parse_instruments(body)}
    btc = markets["BTC/USDT"]
    assert (btc.base, btc.quote, btc.venue_symbol) == ("BTC", "USDT", "BTC-USDT")
    assert btc.tick_size == 0.1 and btc.step_size == 1e-8 and btc.min_qty == 1e-5
    assert btc.taker_fee == DEFAULT_TAKER_FEE and btc.active
    assert all(m.tick_size > 0 and m.step_size > 0 for m in markets.values())
    assert btc.round_price(30000.07, side_is_buy=True) == 30000.0
