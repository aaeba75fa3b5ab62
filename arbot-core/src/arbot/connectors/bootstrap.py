"""How a venue's books start and stay right: the three book bootstraps.

A venue's book messages arrive as :class:`~arbot.connectors.records.BookRecord`; its
bootstrap applies them through :class:`~arbot.connectors.booksync.BookSync` with the venue's
:class:`~arbot.connectors.booksync.SequenceRule` (and optional
:class:`~arbot.connectors.checksum.Crc32Checksum`), and knows how a book (re)starts:

========================  ===============================================  ====================
bootstrap                 the venue sends                                  examples
========================  ===============================================  ====================
:class:`RestSnapshot`     stream deltas; the snapshot comes from REST,     Binance, Gate, KuCoin
                          bridged to the buffered deltas by sequence id
:class:`StreamSnapshot`   a snapshot on the stream after each subscribe,   OKX, Bybit, Bitget
                          then deltas (resync = unsubscribe + subscribe)
:class:`FullBook`         the whole top-N book in every message            Upbit, Bithumb
                          (resync = send the subscription again)
========================  ===============================================  ====================

The same bootstrap object serves the live connector (attached to its feed through a
:class:`FeedLink`) and the capture replay (:class:`~arbot.connectors.replaying.RecordReplayDecoder`,
no link: snapshots come from the recording), so replay applies exactly the live rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import ClassVar, Protocol

import msgspec

from arbot.components import MarketEvent
from arbot.connectors.booksync import BookSync, NoSequenceRule, SequenceRule
from arbot.connectors.checksum import Crc32Checksum
from arbot.connectors.records import BookKind, BookRecord, Record, TradeMsg
from arbot.connectors.rest import RestClient, RestError
from arbot.connectors.symbols import SymbolMap
from arbot.events import TradeTick
from arbot.market import MarketState

__all__ = [
    "FETCH_ERRORS",
    "Bootstrap",
    "FeedLink",
    "FullBook",
    "RestSnapshot",
    "SnapshotRequest",
    "StreamSnapshot",
    "book_diff",
]

log = logging.getLogger("arbot.connectors.bootstrap")

#: Errors of a failed REST snapshot (logged, then the snapshot is fetched again).
FETCH_ERRORS: tuple[type[Exception], ...] = (RestError, msgspec.DecodeError, msgspec.ValidationError)

Emit = Callable[[MarketEvent], None]


class FeedLink(Protocol):
    """What a bootstrap may ask of the live feed it serves."""

    @property
    def rest(self) -> RestClient:
        """The feed's REST client."""
        ...

    @property
    def closed(self) -> bool:
        """True once the connector is closing."""
        ...

    def resubscribe_book(self, symbol: str) -> None:
        """Unsubscribe and subscribe the book of ``symbol`` again (stream snapshots)."""
        ...

    def resend_subscriptions(self) -> None:
        """Send the whole subscription request again (full-book venues)."""
        ...


#: ``request(rest, venue_symbol)``: one REST book as a SNAPSHOT record (None: not a book).
SnapshotRequest = Callable[[RestClient, str], Awaitable[BookRecord | None]]


def book_diff(held: Iterable[tuple[float, float]],
              new: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The level changes turning the side ``held`` into ``new`` (size 0 = delete)."""
    old = dict(held)
    want = dict(new)
    out = [(p, 0.0) for p in old if p not in want]
    out.extend((p, q) for p, q in want.items() if old.get(p) != q)
    return out


class Bootstrap(ABC):
    """The part shared by the three bootstraps: the venue's ``BookSync`` (books in the given
    :class:`~arbot.market.MarketState`), its symbol map, trades, counters.

    A subclass says what a DELTA does and how a snapshot is obtained (:meth:`want_snapshot`).
    """

    #: The bootstrap's name (``rest_snapshot``, ``stream_snapshot``, ``full_book``).
    kind: ClassVar[str]
    #: True when a book that stays unsynced must be asked for again by the feed's watcher
    #: (a stream snapshot that never came); REST fetches retry by themselves.
    reasks_unanswered: ClassVar[bool] = False

    def __init__(
        self,
        venue: str,
        market: MarketState,
        emit: Emit | None,
        rule: SequenceRule,
        *,
        symbols: SymbolMap | None = None,
        checksum: Crc32Checksum | None = None,
        max_buffer: int = 10_000,
    ) -> None:
        self.venue = venue
        self.emit = emit
        self.symbols = symbols if symbols is not None else SymbolMap()
        self.checksum = checksum
        self.link: FeedLink | None = None
        self.sync = BookSync(venue, market, rule, emit=emit, request_snapshot=self.want_snapshot,
                             checksum=checksum, max_buffer=max_buffer)
        self.book_snapshots = self.book_updates = self.trades = 0
        self.dropped_unsynced = self.crossed = 0
        #: Stream snapshots that replaced a live book unasked (e.g. Bybit's ``u == 1`` restart).
        self.restarts = 0

    def attach(self, link: FeedLink) -> None:
        """Serve a live feed (without a link, snapshots are only what the caller feeds)."""
        self.link = link

    def set_emit(self, emit: Emit | None) -> None:
        """Send events to ``emit`` from now on."""
        self.emit = emit
        self.sync.emit = emit

    # -- input -------------------------------------------------------------------------------

    def records(self, records: Iterable[Record], ts: float) -> None:
        """Apply decoded records (books with the sequence rule; trades as ticks)."""
        to_unified = self.symbols.to_unified
        for rec in records:
            if type(rec) is TradeMsg:
                self.trades += 1
                emit = self.emit
                if emit is not None:
                    emit(TradeTick(ts, self.venue, to_unified(rec.symbol), rec.price, rec.size,
                                   rec.side, rec.ts))
                continue
            if type(rec) is not BookRecord:
                raise TypeError(f"{self.venue}: not a record: {rec!r:.80}")
            symbol = to_unified(rec.symbol)
            kind = rec.kind
            if kind is BookKind.DELTA:
                self.book_updates += 1
                applied = self.delta(symbol, rec, ts)
            else:
                self.book_snapshots += 1
                applied = (self.snapshot(symbol, rec, ts) if kind is BookKind.SNAPSHOT
                           else self.full_book(symbol, rec, ts))
            if applied and self.sync.book(symbol).is_crossed:
                self.crossed += 1

    def snapshot(self, symbol: str, rec: BookRecord, ts: float) -> bool:
        """Apply a snapshot of id ``rec.last`` (its checksum first); True when live after it."""
        checksum = self.checksum
        if checksum is not None and not checksum.reset(symbol, rec):
            self.sync.stats.checksum_failures += 1
            self.sync.resync(symbol, "checksum")
            return False
        return self.sync.on_snapshot(symbol, rec.last, rec.bids, rec.asks, ts, rec.ts)

    def full_book(self, symbol: str, rec: BookRecord, ts: float) -> bool:
        """Replace the book with a complete one (e.g. OKX ``books5``)."""
        self.sync.on_full_book(symbol, rec.bids, rec.asks, ts, rec.ts)
        return True

    @abstractmethod
    def delta(self, symbol: str, rec: BookRecord, ts: float) -> bool:
        """Apply (or buffer, or drop) one delta; True when the book changed."""

    @abstractmethod
    def want_snapshot(self, symbol: str) -> None:
        """``BookSync`` needs a (new) snapshot of ``symbol``."""

    def reset(self) -> None:
        """The connection was lost: drop every book (each starts again)."""
        self.sync.drop_all()

    def open(self) -> None:  # noqa: B027 - a bootstrap without background work needs nothing
        """The connector (re)connects."""

    async def close(self) -> None:  # noqa: B027
        """Stop background work."""

    def counters(self) -> dict[str, int]:
        """What the bootstrap did (book messages, trades, unsynced drops, crossed books,
        verified checksums)."""
        return {"book_snapshots": self.book_snapshots, "book_updates": self.book_updates,
                "trades": self.trades, "dropped_unsynced": self.dropped_unsynced,
                "crossed": self.crossed,
                "checksum_ok": self.checksum.ok if self.checksum is not None else 0}


class RestSnapshot(Bootstrap):
    """Deltas buffered until a REST snapshot bridges them (Binance, Gate, KuCoin).

    ``request`` fetches one snapshot; a fetch that fails is retried after ``retry_delay``
    (one task per symbol, while a snapshot is wanted). Records with ``entry_seqs`` (KuCoin)
    only apply the levels newer than the book: buffered ones are filtered again against the
    snapshot's id when it arrives.
    """

    kind: ClassVar[str] = "rest_snapshot"

    def __init__(
        self,
        venue: str,
        market: MarketState,
        emit: Emit | None,
        rule: SequenceRule,
        request: SnapshotRequest | None = None,
        *,
        symbols: SymbolMap | None = None,
        checksum: Crc32Checksum | None = None,
        max_buffer: int = 10_000,
        retry_delay: float = 0.25,
    ) -> None:
        super().__init__(venue, market, emit, rule, symbols=symbols, checksum=checksum,
                         max_buffer=max_buffer)
        self.request = request
        self.retry_delay = retry_delay
        self.max_buffer = max_buffer
        self.fetch_failures = 0
        self._closed = False
        self._want: set[str] = set()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._held: dict[str, deque[tuple[BookRecord, list[tuple[float, float]],
                                          list[tuple[float, float]]]]] = {}

    # -- books -------------------------------------------------------------------------------

    def delta(self, symbol: str, rec: BookRecord, ts: float) -> bool:
        """Apply or buffer (until the snapshot) one delta."""
        sync = self.sync
        seqs = rec.entry_seqs
        if seqs is None:
            return sync.on_delta(symbol, rec.first, rec.last, rec.bids, rec.asks, ts, rec.ts,
                                 rec.prev, rec)
        floor = (sync.book(symbol).sequence or 0) if sync.is_live(symbol) else 0
        bids = _newer(rec.bids, seqs[0], floor)
        asks = _newer(rec.asks, seqs[1], floor)
        applied = sync.on_delta(symbol, rec.first, rec.last, bids, asks, ts, rec.ts, rec.prev)
        if not sync.is_live(symbol):
            held = self._held.get(symbol)
            if held is None:
                held = self._held[symbol] = deque(maxlen=self.max_buffer)
            held.append((rec, bids, asks))
        return applied

    def snapshot(self, symbol: str, rec: BookRecord, ts: float) -> bool:
        """Apply a snapshot; buffered per-entry-sequenced deltas are filtered against it."""
        for held, bids, asks in self._held.pop(symbol, ()):
            assert held.entry_seqs is not None
            bids[:] = _newer(held.bids, held.entry_seqs[0], rec.last)
            asks[:] = _newer(held.asks, held.entry_seqs[1], rec.last)
        return super().snapshot(symbol, rec, ts)

    def apply_rest(self, rec: BookRecord, ts: float) -> bool:
        """Apply one REST snapshot record (live fetch or recording); True when live."""
        self.book_snapshots += 1
        return self.snapshot(self.symbols.to_unified(rec.symbol), rec, ts)

    def reset(self) -> None:
        """Drop every book and every held delta."""
        self._held.clear()
        super().reset()

    # -- snapshots ---------------------------------------------------------------------------

    def want_snapshot(self, symbol: str) -> None:
        """Start (or keep) fetching a snapshot of ``symbol``."""
        if self.link is None or self.request is None or self._closed:
            return
        self._want.add(symbol)
        task = self._tasks.get(symbol)
        if task is None or task.done():
            self._tasks[symbol] = asyncio.get_running_loop().create_task(
                self._fetch_loop(symbol), name=f"{self.venue}-snapshot-{symbol}")

    def wanted(self, symbol: str) -> bool:
        """True while a snapshot of ``symbol`` is still to be fetched."""
        return symbol in self._want

    async def _fetch_loop(self, symbol: str) -> None:
        first = True
        while symbol in self._want and not self._closed:
            if not first:
                await asyncio.sleep(self.retry_delay)
            first = False
            self._want.discard(symbol)
            link, request = self.link, self.request
            assert link is not None and request is not None
            try:
                rec = await request(link.rest, self.symbols.to_venue(symbol))
            except FETCH_ERRORS as exc:
                self.fetch_failures += 1
                log.warning("%s: snapshot of %s failed: %s", self.venue, symbol, exc)
                self._want.add(symbol)
                continue
            if rec is not None:
                self.apply_rest(rec, time.time())

    def open(self) -> None:
        """Accept snapshot requests again."""
        self._closed = False

    async def close(self) -> None:
        """Stop every fetch."""
        self._closed = True
        tasks = list(self._tasks.values())
        self._tasks.clear()
        self._want.clear()
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    def counters(self) -> dict[str, int]:
        """The common counters and ``snapshot_fetch_failures``."""
        out = super().counters()
        out["snapshot_fetch_failures"] = self.fetch_failures
        return out


def _newer(levels: list[tuple[float, float]], seqs: list[int], floor: int) -> list[tuple[float, float]]:
    return [lv for lv, s in zip(levels, seqs, strict=True) if s > floor]


class StreamSnapshot(Bootstrap):
    """The venue sends a snapshot on the stream after each subscribe (OKX, Bybit, Bitget).

    A gap or a checksum failure resubscribes that one book (the venue only sends a snapshot
    in reply to a subscribe); deltas of a book that is not live are dropped (counted in
    ``dropped_unsynced``): its snapshot comes on the same stream.
    """

    kind: ClassVar[str] = "stream_snapshot"
    reasks_unanswered: ClassVar[bool] = True

    def snapshot(self, symbol: str, rec: BookRecord, ts: float) -> bool:
        """Apply a snapshot (counted in ``restarts`` when it replaces a live book)."""
        self.restarts += self.sync.is_live(symbol)
        return super().snapshot(symbol, rec, ts)

    def counters(self) -> dict[str, int]:
        """The common counters and ``restarts``."""
        return {**super().counters(), "restarts": self.restarts}

    def delta(self, symbol: str, rec: BookRecord, ts: float) -> bool:
        """Apply one delta to a live book (dropped otherwise)."""
        sync = self.sync
        if not sync.is_live(symbol):
            self.dropped_unsynced += 1
            return False
        return sync.on_delta(symbol, rec.first, rec.last, rec.bids, rec.asks, ts, rec.ts,
                             rec.prev, rec)

    def want_snapshot(self, symbol: str) -> None:
        """Resubscribe the book (live only)."""
        link = self.link
        if link is not None and not link.closed:
            link.resubscribe_book(symbol)


class FullBook(Bootstrap):
    """Every book message is the whole top-N book (Upbit, Bithumb).

    The first message of a book is its snapshot, each later one the delta from the book held
    (levels that left the top N are deleted); a message strictly older (venue time) than the
    one applied is stale (counted in ``stale_books``), one equal to the book held is counted
    in ``unchanged``. A resync sends the subscription again (the venue answers with fresh
    books). Records of kind DELTA (a legacy feed's level changes) go to ``BookSync`` as they
    are, with the given rule.
    """

    kind: ClassVar[str] = "full_book"

    def __init__(
        self,
        venue: str,
        market: MarketState,
        emit: Emit | None,
        rule: SequenceRule | None = None,
        *,
        symbols: SymbolMap | None = None,
    ) -> None:
        super().__init__(venue, market, emit, rule or NoSequenceRule(), symbols=symbols)
        self.stale = 0
        self.unchanged = 0
        self._last_ts: dict[str, float] = {}

    def full_book(self, symbol: str, rec: BookRecord, ts: float) -> bool:
        """Apply one full book; True when the book changed."""
        exchange_ts = rec.ts
        last = self._last_ts.get(symbol)
        if last is not None and exchange_ts is not None and exchange_ts < last:
            self.stale += 1
            return False
        if exchange_ts is not None:
            self._last_ts[symbol] = exchange_ts
        sync = self.sync
        if not sync.is_live(symbol):
            return sync.on_snapshot(symbol, 0, rec.bids, rec.asks, ts, exchange_ts)
        book = sync.book(symbol)
        db = book_diff(book.bids, rec.bids)
        da = book_diff(book.asks, rec.asks)
        if not db and not da:
            self.unchanged += 1
            return False
        return sync.on_delta(symbol, 0, 0, db, da, ts, exchange_ts)

    def delta(self, symbol: str, rec: BookRecord, ts: float) -> bool:
        """Level changes (legacy feeds): through ``BookSync`` with the rule."""
        return self.sync.on_delta(symbol, rec.first, rec.last, rec.bids, rec.asks, ts, rec.ts)

    def want_snapshot(self, symbol: str) -> None:
        """Send the subscription request again (live only)."""
        link = self.link
        if link is not None and not link.closed:
            link.resend_subscriptions()

    def reset(self) -> None:
        """Drop every book (each waits for its next message)."""
        self._last_ts.clear()
        super().reset()

    def counters(self) -> dict[str, int]:
        """The common counters, ``stale_books`` and ``unchanged``."""
        out = super().counters()
        out.update(stale_books=self.stale, unchanged=self.unchanged)
        return out
