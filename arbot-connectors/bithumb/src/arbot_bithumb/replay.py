"""Replay decoder for Bithumb captures (legacy ``pubwss`` and the current Upbit-style feed)."""

from __future__ import annotations

from typing import Any

from arbot.book import OrderBook
from arbot.components import MarketEvent, ReplayDecoder
from arbot.events import BookUpdate, TradeTick

from arbot_bithumb.messages import BookMsg, TradeMsg, parse, parse_rest_orderbook
from arbot_bithumb.symbols import BithumbSymbols
from arbot_bithumb.sync import Verdict, order_verdict

__all__ = ["COUNTER_KEYS", "BithumbReplayDecoder"]

COUNTER_KEYS = ("messages", "ignored", "book_snapshots", "book_deltas", "partial_deltas",
                "trades", "stale", "crossed")


class BithumbReplayDecoder(ReplayDecoder):
    """Turns Bithumb messages into events, one book per market.

    Legacy ``orderbookdepth`` deltas are applied and emitted as deltas; until a REST snapshot
    (``/public/orderbook/...``) arrives the book is *partial* (:meth:`is_synced` is False and
    ``partial_deltas`` counts them; the engine never marks such a book live because no
    snapshot event was emitted). Full ``orderbook`` messages replace the book.
    """

    venue = "bithumb"

    def __init__(self, symbols: BithumbSymbols | None = None) -> None:
        self.symbols = symbols if symbols is not None else BithumbSymbols()
        self.books: dict[str, OrderBook] = {}
        self._complete: set[str] = set()
        self._last_ts: dict[str, float | None] = {}
        self.counters: dict[str, int] = dict.fromkeys(COUNTER_KEYS, 0)

    def is_synced(self, symbol: str) -> bool:
        """True when the book of unified ``symbol`` is complete (started from a full book)."""
        return symbol in self._complete

    def _book(self, unified: str) -> OrderBook:
        book = self.books.get(unified)
        if book is None:
            book = self.books[unified] = OrderBook(self.venue, unified)
        return book

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """A legacy REST order book completes the book; ticker ALL bodies extend the symbols."""
        if "/public/ticker/ALL_" in url and isinstance(body, dict):
            self.symbols.add_ticker_all(body, url.rsplit("ALL_", 1)[1].split("?")[0])
            return []
        if "/public/orderbook/" in url and isinstance(body, dict):
            return self._full(parse_rest_orderbook(body), ts)
        self.counters["ignored"] += 1
        return []

    def feed(self, msg: Any, ts: float) -> list[MarketEvent]:
        """Events of one JSON-decoded message."""
        self.counters["messages"] += 1
        records = parse(msg)
        if records is None:
            self.counters["ignored"] += 1
            return []
        return self.on_records(records, ts)

    def on_records(self, records: list[BookMsg | TradeMsg], ts: float) -> list[MarketEvent]:
        """Events of already decoded records (shared by replay and the live path)."""
        out: list[MarketEvent] = []
        for rec in records:
            if type(rec) is TradeMsg:
                self.counters["trades"] += 1
                out.append(TradeTick(ts, self.venue, self.symbols.to_unified(rec.symbol),
                                     rec.price, rec.size, rec.side, rec.ts))
            elif isinstance(rec, BookMsg):
                out.extend(self._full(rec, ts) if rec.is_snapshot else self._delta(rec, ts))
        return out

    def _full(self, rec: BookMsg, ts: float) -> list[MarketEvent]:
        unified = self.symbols.to_unified(rec.symbol)
        if order_verdict(self._last_ts.get(unified), rec.ts) is Verdict.STALE:
            self.counters["stale"] += 1
            return []
        book = self._book(unified)
        book.apply_snapshot(rec.bids, rec.asks, ts, rec.ts)
        self._last_ts[unified] = rec.ts
        self._complete.add(unified)
        self.counters["book_snapshots"] += 1
        if book.is_crossed:
            self.counters["crossed"] += 1
        return [BookUpdate(ts, self.venue, unified, rec.bids, rec.asks, True, rec.ts)]

    def _delta(self, rec: BookMsg, ts: float) -> list[MarketEvent]:
        unified = self.symbols.to_unified(rec.symbol)
        if order_verdict(self._last_ts.get(unified), rec.ts) is Verdict.STALE:
            self.counters["stale"] += 1
            return []
        book = self._book(unified)
        book.apply_delta(rec.bids, rec.asks, ts, rec.ts)
        self._last_ts[unified] = rec.ts
        self.counters["book_deltas"] += 1
        if unified not in self._complete:
            self.counters["partial_deltas"] += 1
        elif book.is_crossed:
            self.counters["crossed"] += 1
        return [BookUpdate(ts, self.venue, unified, rec.bids, rec.asks, False, rec.ts)]
