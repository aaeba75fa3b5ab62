"""Small shared connector pieces: the quote-suffix symbol guesser, market types of unified
symbols, metadata numbers, the ``arg``/``event`` frame classifier and the default checksum
rule."""

from __future__ import annotations

import msgspec
import pytest
from arbot.connectors.checksum import nonzero_checksum
from arbot.connectors.parsing import event_of, number
from arbot.connectors.records import BookKind, BookRecord
from arbot.connectors.symbols import MarketType, SymbolMap, market_type_of, quote_suffix_guesser


def test_quote_suffix_guesser_prefers_the_longest_quote() -> None:
    guess = quote_suffix_guesser(["BTC", "USDT", "USD", "ETH"])
    assert guess("BTCUSDT") == "BTC/USDT"  # not BTCUS/DT nor BTCU/SDT... USDT beats USD
    assert guess("ETHBTC") == "ETH/BTC"
    assert guess("SOLUSD") == "SOL/USD"
    assert guess("btcusdt_SPBL") == "BTC/USDT"  # suffix dropped, upper-cased
    assert guess("USDT") == "USDT"  # the quote alone is no pair
    assert guess("ABCXYZ") == "ABCXYZ"


def test_quote_suffix_guesser_in_a_symbol_map() -> None:
    m = SymbolMap([("XBTEUR", "BTC/EUR")], guess=quote_suffix_guesser(["EUR", "USDT"]))
    assert m.to_unified("XBTEUR") == "BTC/EUR"  # metadata wins over the guess
    assert m.to_unified("ETHUSDT") == "ETH/USDT"


@pytest.mark.parametrize(("value", "default", "expected"), [
    ("0.001", 0.0, 0.001), (5, 0.0, 5.0), (None, 0.1, 0.1), ("", 0.2, 0.2),
    ("abc", 0.3, 0.3), ([1], 0.4, 0.4),
])
def test_number(value: object, default: float, expected: float) -> None:
    assert number(value, default) == expected


def test_event_of_classifies_frames() -> None:
    assert event_of(b'{"event":"subscribe","arg":{"channel":"books","instId":"X"}}') == "subscribe"
    assert event_of('{"event":"error","code":"60018"}') == "error"
    assert event_of(b'{"arg":{"channel":"books"},"data":[]}') == ""
    assert event_of(b'{"foo":1}') is None
    with pytest.raises(msgspec.DecodeError):
        event_of(b"not json")


def test_nonzero_checksum() -> None:
    def rec(checksum: int | None) -> BookRecord:
        return BookRecord("X", BookKind.DELTA, [], [], checksum=checksum)

    assert nonzero_checksum(rec(-5)) and nonzero_checksum(rec(7))
    assert not nonzero_checksum(rec(0)) and not nonzero_checksum(rec(None))


@pytest.mark.parametrize(("symbol", "kind"), [
    ("BTC/USDT", MarketType.SPOT), ("BTC/USDT:USDT", MarketType.LINEAR),
    ("BTC/USD:BTC", MarketType.INVERSE), ("ETH/USDC:USDC-250627", MarketType.LINEAR),
    ("BTC/USD:BTC-220527", MarketType.INVERSE),
])
def test_market_type_of_follows_ccxt_symbols(symbol: str, kind: MarketType) -> None:
    assert market_type_of(symbol) is kind
