"""The replay decoder loop of the stream-snapshot connectors: a venue's live book handler
(:class:`~arbot.connectors.streambook.StreamBookHandler` or any object with ``records``,
``sync``, ``symbols`` and the same counters) over recorded, JSON-decoded messages, so a replay
applies exactly the live rules."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from arbot.book import OrderBook
from arbot.components import MarketEvent, ReplayDecoder
from arbot.connectors.booksync import BookSync
from arbot.connectors.symbols import SymbolMap
from arbot.market import MarketState

__all__ = ["COUNTER_KEYS", "HandlerReplayDecoder", "StreamReplayDecoder"]

#: Keys of :attr:`StreamReplayDecoder.counters` (checksum-carrying venues).
COUNTER_KEYS = (
    "messages", "ignored", "book_snapshots", "book_updates", "trades", "checksum_ok",
    "checksum_failures", "gaps", "stale", "resyncs", "dropped_unsynced", "crossed",
)


class HandlerReplayDecoder(ReplayDecoder):
    """Handler-neutral replay decoder: a live book handler over recorded messages.

    Owns the :class:`~arbot.market.MarketState` (:attr:`market`), the event buffer the handler
    emits into (:attr:`emit`, emptied by :meth:`drain`) and the ``messages``/``ignored``
    counts. A subclass builds :attr:`handler` (an object with ``records``, ``sync`` and
    ``symbols``) after calling ``super().__init__()`` and sets :meth:`parse`.
    """

    handler: Any

    def __init__(self) -> None:
        self.market = MarketState()
        self._out: list[MarketEvent] = []
        self.messages = 0
        self.ignored = 0

    @property
    def emit(self) -> Callable[[MarketEvent], None]:
        """The callback a handler emits its events into (buffered until :meth:`drain`)."""
        return self._out.append

    @staticmethod
    @abstractmethod
    def parse(msg: Any) -> list[Any] | None:
        """Records of one JSON-decoded message (None: not book or trade data)."""

    @property
    def symbols(self) -> SymbolMap:
        """The venue id <-> unified symbol map."""
        symbols: SymbolMap = self.handler.symbols
        return symbols

    @property
    def sync(self) -> BookSync:
        """The book synchroniser (``stats``: snapshots, deltas, gaps, resyncs)."""
        sync: BookSync = self.handler.sync
        return sync

    @property
    def books(self) -> dict[str, OrderBook]:
        """Books by unified symbol."""
        return {s: self.sync.book(s) for s in self.sync.symbols()}

    @property
    def counters(self) -> dict[str, int]:
        """What happened so far: ``messages``, ``ignored`` and the book synchroniser's stats."""
        st = self.sync.stats
        return {
            "messages": self.messages, "ignored": self.ignored,
            "book_snapshots": st.snapshots, "book_updates": st.deltas,
            "stale": st.stale_deltas, "gaps": st.gaps,
            "checksum_failures": st.checksum_failures, "resyncs": st.resyncs,
        }

    def is_synced(self, symbol: str) -> bool:
        """True when the book of unified ``symbol`` is synchronised."""
        return self.sync.is_live(symbol)

    def drain(self) -> list[MarketEvent]:
        """The events produced since the last call."""
        out = list(self._out)
        self._out.clear()
        return out

    def apply_snapshot(self, snap: Any | None, ts: float) -> list[MarketEvent]:
        """Events of a parsed REST book given to ``handler.snapshot`` (None: counted ignored)."""
        if snap is None:
            self.ignored += 1
            return []
        self.handler.snapshot(snap, ts)
        return self.drain()

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """A REST response: none needed by default (subclasses read snapshots/metadata here)."""
        return []

    def feed(self, msg: Any, ts: float) -> list[MarketEvent]:
        """Events of one JSON-decoded push."""
        self.messages += 1
        records = self.parse(msg)
        if records is None:
            self.ignored += 1
            return []
        self.handler.records(records, ts)
        return self.drain()


class StreamReplayDecoder(HandlerReplayDecoder):
    """Turns a venue's pushes into events with its live handler (:attr:`handler_class`).

    A gap or a checksum mismatch drops the book to "resyncing": its updates are discarded until
    the next snapshot (live, the connector resubscribes to get one). ``counters`` counts what
    happened; ``books`` holds the books by unified symbol. A subclass sets
    :attr:`handler_class` and :meth:`parse`, and extends the symbol map in :meth:`snapshot`.
    """

    #: The handler class, called as ``handler_class(market, emit, None, symbols=..,
    #: **options)``.
    handler_class: ClassVar[Callable[..., Any]]

    def __init__(self, symbols: SymbolMap | None = None, **options: Any) -> None:
        """``options`` go to the handler (e.g. ``verify_checksum``, ``depth``)."""
        super().__init__()
        self.handler = self.handler_class(self.market, self.emit, None, symbols=symbols,
                                          **options)

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
