"""The core full top-N book family (:mod:`arbot.connectors.fullbook`,
:mod:`arbot.testing.emulator.fullbook`): message decoding, the handler's rules, and the
conformance suite against a venue-neutral connector on the base emulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from arbot.components import BotContext, Connector, MarketEvent
from arbot.connectors.fullbook import (
    FullBookConnector,
    FullBookHandler,
    FullBookMsg,
    FullBookReplayDecoder,
    FullBookSettings,
    Recency,
    TradeMsg,
    book_diff,
    decode,
    head,
    parse,
    replace_verdict,
)
from arbot.events import BookUpdate, Side, TradeTick
from arbot.market import MarketInfo, MarketState
from arbot.testing.emulator import (
    EmulatorServer,
    FullBookConformance,
    FullBookEmulator,
    fullbook_settings,
)


def _simple(code: str, tms: int, units: list[tuple[float, float, float, float]]) -> dict[str, Any]:
    return {"ty": "orderbook", "cd": code, "tms": tms,
            "obu": [{"ap": a, "bp": b, "as": x, "bs": y} for a, b, x, y in units]}


def test_decode_both_formats_and_heads() -> None:
    s = _simple("KRW-BTC", 1_700_000_000_000, [(101.0, 100.0, 1.0, 2.0), (102.0, 0.0, 3.0, 0.0)])
    d = {"type": "trade", "code": "KRW-ETH", "trade_price": 5.0, "trade_volume": 0.5,
         "ask_bid": "BID", "trade_timestamp": "1700000000000123", "sequential_id": 7}
    (book,) = decode(json.dumps(s).encode())
    assert book == FullBookMsg("KRW-BTC", True, [(100.0, 2.0)], [(101.0, 1.0), (102.0, 3.0)],
                               1_700_000_000.0)
    (trade,) = decode(json.dumps(d))
    assert trade == TradeMsg("KRW-ETH", 5.0, 0.5, Side.BUY, pytest.approx(1_700_000_000.000123), "7")
    assert parse(s) == decode(json.dumps(s)) and parse({"type": "ticker"}) is None
    assert head(b'{"status":"UP"}').kind == "status" and head('{"x":1}').kind == ""
    assert head('{"error":{"name":"NO_TICKET"}}').kind == "error"


def test_book_diff_and_recency() -> None:
    assert sorted(book_diff([(1.0, 1.0), (2.0, 1.0)], [(2.0, 3.0), (3.0, 1.0)])) == [
        (1.0, 0.0), (2.0, 3.0), (3.0, 1.0)]
    assert replace_verdict(None, 1.0) is Recency.REPLACE
    assert replace_verdict(2.0, 1.0) is Recency.STALE


def test_handler_snapshot_then_deltas_stale_and_reset() -> None:
    market = MarketState()
    events: list[MarketEvent] = []
    h = FullBookHandler("venue", market, events.append)
    h.records([FullBookMsg("KRW-BTC", True, [(100.0, 1.0)], [(101.0, 1.0)], 10.0)], 1.0)
    h.records([FullBookMsg("KRW-BTC", True, [(99.0, 1.0)], [(101.0, 2.0)], 11.0)], 2.0)
    h.records([FullBookMsg("KRW-BTC", True, [(98.0, 1.0)], [(101.0, 2.0)], 9.0)], 3.0)  # older
    h.records([FullBookMsg("KRW-BTC", True, [(99.0, 1.0)], [(101.0, 2.0)], 12.0)], 4.0)  # same
    h.records([TradeMsg("KRW-BTC", 100.5, 0.1, Side.SELL, 12.0, "1")], 5.0)
    books = [e for e in events if isinstance(e, BookUpdate)]
    assert [b.snapshot for b in books] == [True, False]
    assert h.stale == 1 and h.unchanged == 1
    book = market.book("venue", "BTC/KRW")
    assert list(book.bids) == [(99.0, 1.0)] and list(book.asks) == [(101.0, 2.0)]
    assert isinstance(events[-1], TradeTick) and events[-1].symbol == "BTC/KRW"
    h.reset()
    assert not h.sync.is_live("BTC/KRW") and len(book.bids) == 0


def test_replay_decoder_counts_and_symbols() -> None:
    dec = FullBookReplayDecoder(venue="v")
    dec.snapshot("https://x/v1/market/all", [{"market": "USDT-XRP"}], 0.0)
    assert dec.symbols.to_venue("XRP/USDT") == "USDT-XRP"
    (ev,) = dec.feed(_simple("USDT-XRP", 1, [(2.0, 1.0, 5.0, 5.0)]), 1.0)
    assert isinstance(ev, BookUpdate) and ev.venue == "v" and ev.symbol == "XRP/USDT"
    assert dec.feed({"type": "ticker"}, 2.0) == [] and dec.ignored == 1
    assert set(dec.books) == {"XRP/USDT"}


class _Emulator(FullBookEmulator):
    venue = "fullbook"
    binary_frames = False


class _Connector(FullBookConnector):
    """A venue-neutral full-book connector (the emulator's market list, flat fees)."""

    name: ClassVar[str] = "fullbook"
    Settings: ClassVar[type[FullBookSettings]] = FullBookSettings
    emulator_class: ClassVar[str] = f"{__name__}:_Emulator"
    replay_class = FullBookReplayDecoder

    def parse_markets(self, body: list[Any], ticks: dict[str, float]) -> list[MarketInfo]:
        out = []
        for m in body:
            code = str(m["market"])
            quote, _, base = code.partition("-")
            out.append(MarketInfo(venue=self.name, symbol=f"{base}/{quote}", base=base,
                                  quote=quote, venue_symbol=code, tick_size=1.0,
                                  step_size=1e-8, taker_fee=0.001, maker_fee=0.001))
        return out


class TestFullBookCoreConformance(FullBookConformance):
    """The full-book conformance suite against the core emulator base."""

    symbols: ClassVar[tuple[str, ...]] = ("BTC/KRW", "ETH/KRW")

    def make_emulator(self) -> EmulatorServer:
        return _Connector.emulator(self.symbols, seed=3)

    def make_connector(self, emulator: EmulatorServer, ctx: BotContext,
                       on_event: Callable[[MarketEvent], None]) -> Connector:
        return _Connector(fullbook_settings(emulator, _Connector), ctx, on_event)
