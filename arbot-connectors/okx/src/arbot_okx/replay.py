"""Replay decoder for OKX captures: the live connector's handler over recorded messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from arbot.book import OrderBook
from arbot.components import MarketEvent, ReplayDecoder
from arbot.connectors.booksync import BookSync
from arbot.connectors.symbols import SymbolMap
from arbot.market import MarketState

from arbot_okx import messages
from arbot_okx.handler import VENUE, OkxBookHandler
from arbot_okx.symbols import OkxSymbols

__all__ = ["COUNTER_KEYS", "OkxReplayDecoder"]

COUNTER_KEYS = (
    "messages", "ignored", "book_snapshots", "book_updates", "trades", "checksum_ok",
    "checksum_failures", "gaps", "stale", "resyncs", "dropped_unsynced", "crossed",
)


class OkxReplayDecoder(ReplayDecoder):
    """Turns OKX v5 pushes into events with :class:`~arbot_okx.handler.OkxBookHandler`.

    A gap or a checksum mismatch drops the book to "resyncing": its updates are discarded until
    the next snapshot (live, the connector resubscribes to get one). ``counters`` counts what
    happened; ``books`` holds the books by unified symbol.
    """

    venue = VENUE
    #: The handler class, called as ``handler_class(market, emit, None, symbols=..,
    #: **options)`` (the Bitget and Bybit decoders subclass this class with their own).
    handler_class: ClassVar[Callable[..., Any]] = OkxBookHandler

    def __init__(self, symbols: SymbolMap | None = None, **options: Any) -> None:
        """``options`` go to the handler (OKX, Bitget: ``verify_checksum``)."""
        self.market = MarketState()
        self._out: list[MarketEvent] = []
        self.handler = self.handler_class(self.market, self._out.append, None, symbols=symbols,
                                          **options)
        self.messages = 0
        self.ignored = 0

    @property
    def symbols(self) -> SymbolMap:
        """The venue id <-> unified symbol map."""
        symbols: SymbolMap = self.handler.symbols
        return symbols

    @staticmethod
    def parse(msg: Any) -> list[Any] | None:
        """Records of one JSON-decoded message (None: not book or trade data)."""
        return messages.parse(msg)

    @property
    def sync(self) -> BookSync:
        """The book synchroniser."""
        sync: BookSync = self.handler.sync
        return sync

    @property
    def books(self) -> dict[str, OrderBook]:
        """Books by unified symbol."""
        return {s: self.sync.book(s) for s in self.sync.symbols()}

    @property
    def counters(self) -> dict[str, int]:
        """What happened so far (keys: :data:`COUNTER_KEYS`)."""
        h, st = self.handler, self.sync.stats
        return {
            "messages": self.messages, "ignored": self.ignored,
            "book_snapshots": h.book_snapshots, "book_updates": h.book_updates,
            "trades": h.trades, "checksum_ok": h.checksum.ok,
            "checksum_failures": st.checksum_failures, "gaps": st.gaps,
            "stale": st.stale_deltas, "resyncs": st.resyncs,
            "dropped_unsynced": h.dropped_unsynced, "crossed": h.crossed,
        }

    def is_synced(self, symbol: str) -> bool:
        """True when the book of unified ``symbol`` is synchronised."""
        return self.sync.is_live(symbol)

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """An instruments response extends the symbol map; OKX books need no REST snapshot."""
        if "/public/instruments" in url and isinstance(body, Mapping):
            self.symbols.update(OkxSymbols.from_instruments(body))
        return []

    def feed(self, msg: Any, ts: float) -> list[MarketEvent]:
        """Events of one JSON-decoded push."""
        self.messages += 1
        records = self.parse(msg)
        if records is None:
            self.ignored += 1
            return []
        self.handler.records(records, ts)
        out = list(self._out)
        self._out.clear()
        return out
