"""Replay decoder for Upbit captures: every orderbook message replaces the book."""

from __future__ import annotations

from typing import Any

from arbot.book import OrderBook
from arbot.components import MarketEvent, ReplayDecoder
from arbot.events import BookUpdate, TradeTick

from arbot_upbit.messages import BookMsg, TradeMsg, parse
from arbot_upbit.symbols import UpbitSymbols
from arbot_upbit.sync import Verdict, replace_verdict

__all__ = ["COUNTER_KEYS", "UpbitReplayDecoder"]

COUNTER_KEYS = ("messages", "ignored", "book_snapshots", "trades", "stale", "crossed")


class UpbitReplayDecoder(ReplayDecoder):
    """Turns Upbit messages (SIMPLE or DEFAULT format) into events.

    Each orderbook message becomes a snapshot :class:`~arbot.events.BookUpdate`; an older
    message than the last applied one for the same market is dropped (``stale``).
    """

    venue = "upbit"

    def __init__(self, symbols: UpbitSymbols | None = None) -> None:
        self.symbols = symbols if symbols is not None else UpbitSymbols()
        self.books: dict[str, OrderBook] = {}
        self._last_ts: dict[str, float | None] = {}
        self.counters: dict[str, int] = dict.fromkeys(COUNTER_KEYS, 0)

    def is_synced(self, symbol: str) -> bool:
        """True once the market has received a book."""
        return symbol in self.books and not self.books[symbol].is_empty

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """A ``/v1/market/all`` body extends the symbol map."""
        if "/market/all" in url and isinstance(body, list):
            for m in body:
                self.symbols.add(str(m["market"]))
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
            unified = self.symbols.to_unified(rec.symbol)
            if type(rec) is TradeMsg:
                self.counters["trades"] += 1
                out.append(TradeTick(ts, self.venue, unified, rec.price, rec.size, rec.side, rec.ts))
                continue
            assert isinstance(rec, BookMsg)
            if replace_verdict(self._last_ts.get(unified), rec.ts) is Verdict.STALE:
                self.counters["stale"] += 1
                continue
            book = self.books.get(unified)
            if book is None:
                book = self.books[unified] = OrderBook(self.venue, unified)
            book.apply_snapshot(rec.bids, rec.asks, ts, rec.ts)
            self._last_ts[unified] = rec.ts
            self.counters["book_snapshots"] += 1
            if book.is_crossed:
                self.counters["crossed"] += 1
            out.append(BookUpdate(ts, self.venue, unified, rec.bids, rec.asks, True, rec.ts))
        return out
