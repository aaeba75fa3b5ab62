"""Replay decoder for Bybit v5 captures: snapshot/delta books with ``u`` continuity, trades."""

from __future__ import annotations

from typing import Any

from arbot.book import OrderBook
from arbot.components import MarketEvent, ReplayDecoder
from arbot.events import BookUpdate, TradeTick

from arbot_bybit.messages import BookMsg, TradeMsg, parse
from arbot_bybit.symbols import BybitSymbols
from arbot_bybit.sync import Verdict, is_strict, u_verdict

__all__ = ["COUNTER_KEYS", "BybitReplayDecoder"]

COUNTER_KEYS = (
    "messages", "ignored", "book_snapshots", "book_updates", "trades", "gaps", "stale",
    "resyncs", "restarts", "dropped_unsynced", "crossed",
)


class BybitReplayDecoder(ReplayDecoder):
    """Turns Bybit v5 pushes into events, keeping one book per symbol.

    A gap drops the book to "needs resync" (updates discarded until the next snapshot; live,
    the connector resubscribes). ``counters`` counts what happened.
    """

    venue = "bybit"

    def __init__(self, symbols: BybitSymbols | None = None) -> None:
        self.symbols = symbols if symbols is not None else BybitSymbols()
        self.books: dict[str, OrderBook] = {}
        self._last_u: dict[str, int | None] = {}
        self._lost: set[str] = set()
        self.counters: dict[str, int] = dict.fromkeys(COUNTER_KEYS, 0)

    def is_synced(self, symbol: str) -> bool:
        """True when the book of unified ``symbol`` is synchronised."""
        return self._last_u.get(self.symbols.to_venue(symbol)) is not None

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """An instruments-info body extends the symbol map; books need no REST snapshot."""
        if "instruments-info" in url and isinstance(body, dict):
            self.symbols.update(BybitSymbols.from_instruments(body))
        return []

    def feed(self, msg: Any, ts: float) -> list[MarketEvent]:
        """Events of one JSON-decoded push."""
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
                continue
            assert isinstance(rec, BookMsg)
            ev = self._on_book(rec, ts)
            if ev is not None:
                out.append(ev)
        return out

    def _on_book(self, rec: BookMsg, ts: float) -> BookUpdate | None:
        unified = self.symbols.to_unified(rec.symbol)
        book = self.books.get(unified)
        if book is None:
            book = self.books[unified] = OrderBook(self.venue, unified)
        last = self._last_u.get(rec.symbol)
        verdict = u_verdict(last, rec.u, rec.is_snapshot, is_strict(rec.depth))
        if verdict is Verdict.RESET:
            self.counters["book_snapshots"] += 1
            if not rec.is_snapshot:
                self.counters["restarts"] += 1
            if rec.symbol in self._lost:
                self._lost.discard(rec.symbol)
                self.counters["resyncs"] += 1
            book.apply_snapshot(rec.bids, rec.asks, ts, rec.ts)
            self._last_u[rec.symbol] = rec.u
            if book.is_crossed:
                self.counters["crossed"] += 1
            return BookUpdate(ts, self.venue, unified, rec.bids, rec.asks, True, rec.ts)
        self.counters["book_updates"] += 1
        if last is None:
            self.counters["dropped_unsynced"] += 1
            return None
        if verdict is Verdict.STALE:
            self.counters["stale"] += 1
            return None
        if verdict is Verdict.GAP:
            self.counters["gaps"] += 1
            self._last_u[rec.symbol] = None
            self._lost.add(rec.symbol)
            book.clear()
            return None
        book.apply_delta(rec.bids, rec.asks, ts, rec.ts)
        self._last_u[rec.symbol] = rec.u
        if book.is_crossed:
            self.counters["crossed"] += 1
        return BookUpdate(ts, self.venue, unified, rec.bids, rec.asks, False, rec.ts)
