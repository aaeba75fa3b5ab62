"""Replay decoder for OKX captures: books with seqId + checksum checks, and trades."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arbot.book import OrderBook
from arbot.components import MarketEvent, ReplayDecoder
from arbot.events import BookUpdate, TradeTick

from arbot_okx.messages import BookMsg, TradeMsg, parse
from arbot_okx.symbols import OkxSymbols
from arbot_okx.sync import ChecksumBook, Verdict, checksum_applies, seq_verdict

__all__ = ["COUNTER_KEYS", "OkxReplayDecoder"]

COUNTER_KEYS = (
    "messages", "ignored", "book_snapshots", "book_updates", "trades", "checksum_ok",
    "checksum_failures", "gaps", "stale", "resyncs", "dropped_unsynced", "crossed",
)


class _State:
    __slots__ = ("cbook", "last_seq", "needs_resync", "synced")

    def __init__(self, book: OrderBook) -> None:
        self.cbook = ChecksumBook(book)
        self.last_seq: int | None = None
        self.synced = False
        self.needs_resync = False


class OkxReplayDecoder(ReplayDecoder):
    """Turns OKX v5 pushes into events, keeping one checked book per instrument.

    A gap or a checksum mismatch drops the book to "needs resync": its updates are discarded
    until the next snapshot (live, the connector resubscribes to get one). ``counters`` counts
    what happened; ``books`` holds the books by unified symbol.
    """

    venue = "okx"

    def __init__(self, symbols: OkxSymbols | None = None, *, verify_checksum: bool = True) -> None:
        self.symbols = symbols if symbols is not None else OkxSymbols()
        self.verify_checksum = verify_checksum
        self.books: dict[str, OrderBook] = {}
        self._states: dict[str, _State] = {}
        self.counters: dict[str, int] = dict.fromkeys(COUNTER_KEYS, 0)

    def is_synced(self, symbol: str) -> bool:
        """True when the book of unified ``symbol`` is synchronised."""
        inst = self.symbols.to_venue(symbol)
        st = self._states.get(inst)
        return st is not None and st.synced

    def _state(self, inst_id: str) -> _State:
        st = self._states.get(inst_id)
        if st is None:
            unified = self.symbols.to_unified(inst_id)
            book = OrderBook(self.venue, unified)
            self.books[unified] = book
            st = self._states[inst_id] = _State(book)
        return st

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """An instruments response extends the symbol map; OKX books need no REST snapshot."""
        if "/public/instruments" in url and isinstance(body, Mapping):
            self.symbols.update(OkxSymbols.from_instruments(body))
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
                out.append(
                    TradeTick(ts, self.venue, self.symbols.to_unified(rec.symbol), rec.price,
                              rec.size, rec.side, rec.ts)
                )
            else:
                assert isinstance(rec, BookMsg)
                ev = self._on_book(rec, ts)
                if ev is not None:
                    out.append(ev)
        return out

    def _checked(self, st: _State, rec: BookMsg) -> bool:
        if not self.verify_checksum or not checksum_applies(rec.checksum, rec.seq):
            return True
        if st.cbook.checksum() == rec.checksum:
            self.counters["checksum_ok"] += 1
            return True
        self.counters["checksum_failures"] += 1
        self._lose(st)
        return False

    def _lose(self, st: _State) -> None:
        st.synced = False
        st.needs_resync = True
        st.last_seq = None
        st.cbook.clear()

    def _on_book(self, rec: BookMsg, ts: float) -> BookUpdate | None:
        st = self._state(rec.symbol)
        book = st.cbook.book
        if rec.is_snapshot or rec.prev_seq == -1:
            self.counters["book_snapshots"] += 1
            if st.needs_resync:
                self.counters["resyncs"] += 1
            st.cbook.apply_snapshot(rec.bids, rec.asks, rec.raw_bids, rec.raw_asks, ts, rec.ts)
            st.last_seq = rec.seq
            st.synced = True
            st.needs_resync = False
            if not self._checked(st, rec):
                return None
            if book.is_crossed:
                self.counters["crossed"] += 1
            return BookUpdate(ts, self.venue, book.symbol, rec.bids, rec.asks, True, rec.ts)
        self.counters["book_updates"] += 1
        if not st.synced:
            self.counters["dropped_unsynced"] += 1
            return None
        verdict = seq_verdict(st.last_seq, rec.prev_seq, rec.seq)
        if verdict is Verdict.STALE:
            self.counters["stale"] += 1
            return None
        if verdict is Verdict.GAP:
            self.counters["gaps"] += 1
            self._lose(st)
            return None
        st.cbook.apply_delta(rec.bids, rec.asks, rec.raw_bids, rec.raw_asks, ts, rec.ts)
        if rec.seq is not None:
            st.last_seq = rec.seq
        if not self._checked(st, rec):
            return None
        if book.is_crossed:
            self.counters["crossed"] += 1
        return BookUpdate(ts, self.venue, book.symbol, rec.bids, rec.asks, False, rec.ts)
