"""Book "synchronisation" of full top-N book venues (Upbit; Bithumb's current API).

There are no deltas, sequence numbers or checksums: every ``orderbook`` message carries the
whole top-N book. :class:`TopBookHandler` runs the core
:class:`~arbot.connectors.booksync.BookSync` with :class:`NoSequenceRule`: the first message
of a book (after a (re)connect) is its snapshot, and each later message is turned into the
delta between the book held and the new one (levels that left the top N are deleted), so
consumers get ordinary delta events and the book always equals the last message. The only
integrity check is recency: a message strictly older (venue ``timestamp``) than the one
applied is stale and dropped. Zero-size or zero-price units are not levels.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence

from arbot.components import MarketEvent
from arbot.connectors.booksync import BookSync, NoSequenceRule
from arbot.connectors.symbols import SymbolMap
from arbot.events import TradeTick
from arbot.market import MarketState

from arbot_upbit.messages import BookMsg, TradeMsg, epoch_seconds
from arbot_upbit.symbols import upbit_symbols

__all__ = ["TopBookHandler", "Verdict", "book_diff", "epoch_seconds", "replace_verdict"]


class Verdict(enum.StrEnum):
    """What to do with one full-book message."""

    REPLACE = "replace"
    STALE = "stale"


def replace_verdict(last_ts: float | None, ts: float | None) -> Verdict:
    """REPLACE unless the message is strictly older than the last applied one."""
    if last_ts is None or ts is None or ts >= last_ts:
        return Verdict.REPLACE
    return Verdict.STALE


def book_diff(held: Iterable[tuple[float, float]],
              new: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The level changes turning the side ``held`` into ``new`` (size 0 = delete)."""
    old = dict(held)
    want = dict(new)
    out = [(p, 0.0) for p in old if p not in want]
    out.extend((p, q) for p, q in want.items() if old.get(p) != q)
    return out


class TopBookHandler:
    """Full top-N books -> book events through the core ``BookSync``; trades -> ticks.

    Shared by the live connectors and the replay decoders of Upbit and Bithumb (``venue``).
    """

    def __init__(
        self,
        venue: str,
        market: MarketState,
        emit: Callable[[MarketEvent], None] | None,
        *,
        symbols: SymbolMap | None = None,
        request_snapshot: Callable[[str], None] | None = None,
    ) -> None:
        self.venue = venue
        self.sync = BookSync(venue, market, NoSequenceRule(), emit=emit,
                             request_snapshot=request_snapshot)
        self.emit = emit
        self.symbols = symbols if symbols is not None else upbit_symbols()
        self.stale = 0
        self.unchanged = 0
        self._last_ts: dict[str, float] = {}

    def full_book(self, code: str, bids: list[tuple[float, float]],
                  asks: list[tuple[float, float]], ts: float, exchange_ts: float | None) -> bool:
        """Apply one full book of market ``code``; True when the book changed."""
        sym = self.symbols.to_unified(code)
        if replace_verdict(self._last_ts.get(sym), exchange_ts) is Verdict.STALE:
            self.stale += 1
            return False
        if exchange_ts is not None:
            self._last_ts[sym] = exchange_ts
        sync = self.sync
        if not sync.is_live(sym):
            return sync.on_snapshot(sym, 0, bids, asks, ts, exchange_ts)
        book = sync.book(sym)
        db = book_diff(book.bids, bids)
        da = book_diff(book.asks, asks)
        if not db and not da:
            self.unchanged += 1
            return False
        return sync.on_delta(sym, 0, 0, db, da, ts, exchange_ts)

    def records(self, records: Iterable[BookMsg | TradeMsg], ts: float) -> None:
        """Handle decoded records: full books and trades."""
        for rec in records:
            if type(rec) is TradeMsg:
                if self.emit is not None:
                    self.emit(TradeTick(ts, self.venue, self.symbols.to_unified(rec.symbol),
                                        rec.price, rec.size, rec.side, rec.ts))
            else:
                assert isinstance(rec, BookMsg)
                self.full_book(rec.symbol, rec.bids, rec.asks, ts, rec.ts)

    def reset(self) -> None:
        """The connection was lost: drop every book (each waits for its next message)."""
        self._last_ts.clear()
        self.sync.drop_all()
