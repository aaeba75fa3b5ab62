"""The book handler of the ``arg``/``action``/``data`` push family (OKX, Bitget), shared by
a venue's live connector and its capture replay decoder.

It turns decoded book/trade records (:class:`~arbot.connectors.parsing.BookMsg`,
:class:`~arbot.connectors.parsing.TradeMsg`) into book changes through
:class:`~arbot.connectors.booksync.BookSync` (the venue's sequence rule, the
:class:`~arbot.connectors.checksum.Crc32Checksum` hook) and trades into
:class:`~arbot.events.TradeTick` events, so replay and live apply exactly the same rules.
A venue subclasses :class:`StreamBookHandler` and sets the class attributes / hooks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from arbot.components import MarketEvent
from arbot.connectors.booksync import BookSync, SequenceRule
from arbot.connectors.checksum import Crc32Checksum
from arbot.connectors.parsing import event_of
from arbot.connectors.symbols import SymbolMap
from arbot.connectors.ws import GarbageFrame
from arbot.events import TradeTick
from arbot.market import MarketState

__all__ = ["StreamBookHandler", "nonzero_checksum"]


def nonzero_checksum(rec: Any) -> bool:
    """True when a book record carries a checksum to verify (present and non-zero)."""
    return rec.checksum is not None and rec.checksum != 0


class StreamBookHandler(ABC):
    """Books (snapshot + updates checked by the sequence rule, checksum where it applies) and
    trades of one venue whose snapshots come on the stream.

    ``request_snapshot(symbol)`` is called by ``BookSync`` when a book must be rebuilt (a gap
    or a checksum failure): live, the connector resubscribes the book channel, since these
    venues only send a snapshot in reply to a subscribe. Updates for a book that is not live
    are dropped (counted in ``dropped_unsynced``): the snapshot comes on the same stream, so
    none of them can be needed.
    """

    #: The venue id (events, books).
    venue: ClassVar[str]
    #: Channels whose every push is a complete book.
    full_book_channels: ClassVar[frozenset[str]] = frozenset()
    #: Symbol map class, sequence rule class.
    symbols_class: ClassVar[type[SymbolMap]] = SymbolMap
    rule_class: ClassVar[type[SequenceRule]]

    def __init__(
        self,
        market: MarketState,
        emit: Callable[[MarketEvent], None] | None,
        request_snapshot: Callable[[str], None] | None,
        *,
        symbols: SymbolMap | None = None,
        verify_checksum: bool = True,
    ) -> None:
        self.emit = emit
        self.symbols = symbols if symbols is not None else self.symbols_class()
        self.checksum = Crc32Checksum(self.checksum_applies, verify_checksum)
        self.sync = BookSync(self.venue, market, self.rule_class(), emit=emit,
                             request_snapshot=request_snapshot, checksum=self.checksum)
        self.book_snapshots = self.book_updates = self.trades = 0
        self.dropped_unsynced = self.crossed = self.errors = self.pongs = 0

    # -- venue hooks -------------------------------------------------------------------------

    @staticmethod
    def checksum_applies(rec: Any) -> bool:
        """True when the record's checksum must be verified (default: :func:`nonzero_checksum`)."""
        return nonzero_checksum(rec)

    @staticmethod
    @abstractmethod
    def decode(raw: str | bytes) -> list[Any] | None:
        """Book/trade records of a raw frame, None for any other frame."""

    @staticmethod
    def event_of(raw: str | bytes) -> str | None:
        """``event`` of a reply, ``""`` for other pushes, None if not the venue's
        (default: :func:`arbot.connectors.parsing.event_of`)."""
        return event_of(raw)

    @staticmethod
    @abstractmethod
    def ids(rec: Any) -> tuple[bool, int, int | None]:
        """``(is_snapshot, seq, prev)`` of a book record."""

    # -- input -------------------------------------------------------------------------------

    def frame(self, raw: str | bytes, ts: float) -> str:
        """Handle one raw WebSocket frame; returns ``"data"``, ``"pong"`` or the control
        event (``"subscribe"``, ``"error"``...). Raises :class:`GarbageFrame` (or a decode
        error) for a frame that is not one of the venue's messages."""
        if raw == "pong" or raw == b"pong":
            self.pongs += 1
            return "pong"
        records = self.decode(raw)
        if records is not None:
            self.records(records, ts)
            return "data"
        event = self.event_of(raw)
        if event is None:
            raise GarbageFrame(f"not a {self.venue} message")
        self.errors += event == "error"
        return event

    def records(self, records: list[Any], ts: float) -> None:
        """Apply decoded records (trades have a ``price``, books ``bids``)."""
        for rec in records:
            if hasattr(rec, "price"):
                self.trades += 1
                if self.emit is not None:
                    self.emit(TradeTick(ts, self.venue, self.symbols.to_unified(rec.symbol),
                                        rec.price, rec.size, rec.side, rec.ts))
            else:
                self.book(rec, ts)

    def book(self, rec: Any, ts: float) -> None:
        """Apply one book record."""
        symbol = self.symbols.to_unified(rec.symbol)
        sync = self.sync
        if rec.channel in self.full_book_channels:
            self.book_snapshots += 1
            sync.on_full_book(symbol, rec.bids, rec.asks, ts, rec.ts)
            return
        snapshot, seq, prev = self.ids(rec)
        if snapshot:
            self.book_snapshots += 1
            if not self.checksum.reset(symbol, rec):
                sync.stats.checksum_failures += 1
                sync.resync(symbol, "checksum")
                return
            applied = sync.on_snapshot(symbol, seq, rec.bids, rec.asks, ts, rec.ts)
        else:
            self.book_updates += 1
            if not sync.is_live(symbol):
                self.dropped_unsynced += 1
                return
            applied = sync.on_delta(symbol, seq, seq, rec.bids, rec.asks, ts, rec.ts, prev, rec)
        if applied and sync.book(symbol).is_crossed:
            self.crossed += 1
