"""Replay of Binance captures (combined streams + REST depth snapshots) with the live
protocol's parser and the live bootstrap: spot (``BinanceSpotRule``) or USDⓈ-M
(``BinanceFuturesRule``, books on ``BASE/QUOTE:SETTLE``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import msgspec
from arbot.components import MarketEvent
from arbot.connectors.booksync import BinanceFuturesRule, BinanceSpotRule
from arbot.connectors.bootstrap import RestSnapshot, SnapshotRequest
from arbot.connectors.records import BookRecord, Record
from arbot.connectors.replay import RecordReplayDecoder
from arbot.connectors.symbols import MarketType
from arbot.market import MarketState

from arbot_binance.decode import DepthSnapshot, binance_symbols, parse, snapshot_record

__all__ = ["BinanceReplayDecoder", "binance_bootstrap"]


def binance_bootstrap(
    market: MarketState, emit: Callable[[MarketEvent], None] | None, *, linear: bool = False,
    request: SnapshotRequest | None = None, unified: dict[str, str] | None = None,
    retry_delay: float = 0.25,
) -> RestSnapshot:
    """Binance books of one market: diff-depth deltas bridged to a REST snapshot (spot: first
    delta ``U <= lastUpdateId + 1 <= u``, then ``U == u + 1``; USDⓈ-M: ``pu`` chaining)."""
    rule = BinanceFuturesRule() if linear else BinanceSpotRule()
    return RestSnapshot("binance", market, emit, rule, request,
                        symbols=binance_symbols(linear, unified), retry_delay=retry_delay)


class BinanceReplayDecoder(RecordReplayDecoder):
    """Replays a Binance capture. ``market_type`` None (the default) reads it from the
    capture: a depth event with ``pu`` or a ``/fapi/`` snapshot is USDⓈ-M, so a futures
    capture lands on ``BTC/USDT:USDT``, never on the spot symbol; messages before the first
    decisive one wait. ``futures=True``/``False`` is the same as ``market_type`` linear/spot;
    ``unified`` preloads venue id -> unified symbol (e.g. from exchangeInfo)."""

    venue: ClassVar[str] = "binance"

    def __init__(self, futures: bool | None = None, unified: dict[str, str] | None = None,
                 market_type: MarketType | None = None) -> None:
        if market_type is None and futures is not None:
            market_type = MarketType.LINEAR if futures else MarketType.SPOT
        self.market_type = market_type
        self.unified = unified
        super().__init__(parse, self._make)
        self._waiting: list[tuple[list[Record], float]] = []

    def _make(self, market: MarketState, emit: Callable[[MarketEvent], None]) -> RestSnapshot:
        return binance_bootstrap(market, emit, linear=self.market_type is MarketType.LINEAR,
                                 unified=self.unified)

    def _decide(self, market_type: MarketType) -> list[MarketEvent]:
        self.market_type = market_type
        self.bootstrap = self._make(self.market, self._out.append)
        waiting, self._waiting = self._waiting, []
        for records, ts in waiting:
            self.bootstrap.records(records, ts)
        return self.drain()

    def feed(self, msg: object, ts: float) -> list[MarketEvent]:
        """Events of one recorded message (combined-stream form)."""
        self.messages += 1
        records = parse(msg)
        if records is None:
            self.ignored += 1
            return []
        if self.market_type is None:
            self._waiting.append((records, ts))
            book = next((r for r in records if type(r) is BookRecord), None)
            if book is None:
                return []
            return self._decide(MarketType.LINEAR if book.prev is not None else MarketType.SPOT)
        self.bootstrap.records(records, ts)
        return self.drain()

    def snapshot(self, url: str, body: object, ts: float) -> list[MarketEvent]:
        """Events of one recorded REST depth snapshot (symbol from the URL's query)."""
        symbol = parse_qs(urlsplit(url).query).get("symbol", [""])[0]
        if not symbol or not isinstance(body, dict) or "lastUpdateId" not in body:
            return []
        out: list[MarketEvent] = []
        if self.market_type is None:
            out = self._decide(MarketType.LINEAR if "/fapi/" in url else MarketType.SPOT)
        rec = snapshot_record(symbol, msgspec.convert(body, DepthSnapshot, strict=False))
        return out + self.apply([rec], ts)
