"""Replay decoder for Gate.io captures: WS updates synchronised against REST snapshots."""

from __future__ import annotations

from typing import Any

from arbot.book import OrderBook
from arbot.components import MarketEvent, ReplayDecoder
from arbot.events import BookUpdate, TradeTick

from arbot_gate.messages import BookMsg, TradeMsg, parse, parse_snapshot
from arbot_gate.symbols import GateSymbols
from arbot_gate.sync import BookSync, Phase, Verdict

__all__ = ["COUNTER_KEYS", "GateReplayDecoder"]

COUNTER_KEYS = (
    "messages", "ignored", "rest_snapshots", "ws_snapshots", "book_updates", "applied",
    "bridged", "trades", "gaps", "stale", "snapshot_behind", "resyncs", "buffered", "crossed",
)


class GateReplayDecoder(ReplayDecoder):
    """Turns Gate.io pushes and REST snapshots into events, one synchronised book per pair.

    Updates received before a snapshot are buffered. A book is emitted (as one snapshot event
    of its state) only once an update bridges its snapshot; until then :meth:`phase` reports
    ``bridging`` or ``waiting_snapshot`` -- not-yet-synced, which is not an error. ``counters``
    sums the per-book sync counters; ``books`` holds the books by unified symbol.
    """

    venue = "gate"

    def __init__(self, symbols: GateSymbols | None = None, max_buffer: int = 2000) -> None:
        self.symbols = symbols if symbols is not None else GateSymbols()
        self.max_buffer = max_buffer
        self.books: dict[str, OrderBook] = {}
        self.syncs: dict[str, BookSync[BookMsg]] = {}
        self._counters: dict[str, int] = dict.fromkeys(COUNTER_KEYS, 0)

    @property
    def counters(self) -> dict[str, int]:
        """Decoder counters plus the sum of every book's sync counters."""
        out = dict(self._counters)
        for s in self.syncs.values():
            for k, v in s.counters.items():
                out[k] = out.get(k, 0) + v
        return out

    def phase(self, symbol: str) -> Phase:
        """Sync phase of the book of unified ``symbol``."""
        s = self.syncs.get(self.symbols.to_venue(symbol))
        return s.phase if s is not None else Phase.WAITING_SNAPSHOT

    def is_synced(self, symbol: str) -> bool:
        """True when the book of unified ``symbol`` is live."""
        return self.phase(symbol) is Phase.LIVE

    def _get(self, pair: str) -> tuple[OrderBook, BookSync[BookMsg]]:
        s = self.syncs.get(pair)
        if s is None:
            unified = self.symbols.to_unified(pair)
            self.books[unified] = OrderBook(self.venue, unified)
            s = self.syncs[pair] = BookSync(self.max_buffer)
        return self.books[self.symbols.to_unified(pair)], s

    def _full(self, book: OrderBook, ts: float) -> BookUpdate:
        if book.is_crossed:
            self._counters["crossed"] += 1
        return BookUpdate(ts, self.venue, book.symbol, book.bids.levels(), book.asks.levels(),
                          True, book.exchange_ts)

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """A REST order book (with ``id``): reset the book and replay the buffered updates.

        A ``/spot/currency_pairs`` body extends the symbol map instead.
        """
        if "/spot/currency_pairs" in url and isinstance(body, list):
            self.symbols.update(GateSymbols.from_currency_pairs(body))
            return []
        snap = parse_snapshot(url, body)
        if snap is None:
            self._counters["ignored"] += 1
            return []
        self._counters["rest_snapshots"] += 1
        book, sync = self._get(snap.symbol)
        if sync.counters["gaps"] + sync.counters["snapshot_behind"] > 0 and sync.phase is not Phase.LIVE:
            self._counters["resyncs"] += 1
        book.apply_snapshot(snap.bids, snap.asks, ts, snap.ts)
        for verdict, rec in sync.on_snapshot(snap.id):
            book.apply_delta(rec.bids, rec.asks, ts, rec.ts)
            self._counters["applied"] += 1
            if verdict is Verdict.BRIDGE:
                self._counters["bridged"] += 1
        return [self._full(book, ts)] if sync.phase is Phase.LIVE else []

    def feed(self, msg: Any, ts: float) -> list[MarketEvent]:
        """Events of one JSON-decoded message."""
        self._counters["messages"] += 1
        records = parse(msg)
        if records is None:
            self._counters["ignored"] += 1
            return []
        return self.on_records(records, ts)

    def on_records(self, records: list[BookMsg | TradeMsg], ts: float) -> list[MarketEvent]:
        """Events of already decoded records (shared by replay and the live path)."""
        out: list[MarketEvent] = []
        for rec in records:
            if type(rec) is TradeMsg:
                self._counters["trades"] += 1
                out.append(TradeTick(ts, self.venue, self.symbols.to_unified(rec.symbol),
                                     rec.price, rec.size, rec.side, rec.ts))
                continue
            assert isinstance(rec, BookMsg)
            book, sync = self._get(rec.symbol)
            if rec.is_snapshot:
                self._counters["ws_snapshots"] += 1
                book.apply_snapshot(rec.bids, rec.asks, ts, rec.ts)
                sync.on_full(rec.last_id)
                out.append(self._full(book, ts))
                continue
            self._counters["book_updates"] += 1
            verdict = sync.on_delta(rec.first_id, rec.last_id, rec)
            if verdict is Verdict.BUFFER:
                self._counters["buffered"] += 1
            elif verdict is Verdict.BRIDGE:
                self._counters["bridged"] += 1
                self._counters["applied"] += 1
                book.apply_delta(rec.bids, rec.asks, ts, rec.ts)
                out.append(self._full(book, ts))
            elif verdict is Verdict.APPLY:
                self._counters["applied"] += 1
                book.apply_delta(rec.bids, rec.asks, ts, rec.ts)
                if book.is_crossed:
                    self._counters["crossed"] += 1
                out.append(BookUpdate(ts, self.venue, book.symbol, rec.bids, rec.asks, False, rec.ts))
        return out
