"""One order-book integrity layer for every connector.

A connector decodes a venue's messages and hands them to :class:`BookSync`:

* :meth:`BookSync.on_delta` — incremental changes with the venue's sequence ids;
* :meth:`BookSync.on_snapshot` — a snapshot (REST or WebSocket) with its sequence id;
* :meth:`BookSync.on_full_book` — venues whose every message is a full top-N book.

``BookSync`` buffers deltas until a snapshot bridges them, checks continuity with a pluggable
:class:`SequenceRule` (Binance spot / futures, ``seq == prev + 1``, ``prevSeqId == seqId``,
ranges, none), verifies an optional checksum, resynchronises one symbol without touching the
others, drops every book on reconnect (no ghost level survives), keeps a health state per book
in ``MarketState`` (``syncing`` → ``live`` → ``stale`` / ``resyncing``) and counts resyncs,
gaps and checksum failures.

Books are :class:`arbot.book.OrderBook` objects of the ``MarketState`` it was given. Every
change it applies is also emitted as a :class:`~arbot.events.BookUpdate`: one ``snapshot``
event with the whole book when a book becomes live, then one delta event per applied message.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from arbot.book import OrderBook
from arbot.components import MarketEvent
from arbot.events import BookUpdate, Levels
from arbot.market import BookHealth, MarketState

if TYPE_CHECKING:
    from arbot.connectors.records import BookRecord

__all__ = [
    "BinanceFuturesRule",
    "BinanceSpotRule",
    "BookSync",
    "BookSyncStats",
    "ChecksumHook",
    "ContiguousRule",
    "NoSequenceRule",
    "PrevSeqRule",
    "RangeRule",
    "SequenceRule",
    "Verdict",
]


class Verdict(enum.Enum):
    """What to do with a delta."""

    APPLY = "apply"
    STALE = "stale"  # already contained in the book: skip silently
    GAP = "gap"  # something is missing: resynchronise


class SequenceRule(ABC):
    """How a venue's deltas chain to a snapshot and to each other.

    A delta carries ``first`` and ``last`` ids (equal for venues with a single sequence number)
    and optionally ``prev`` (the id of the previous message, when the venue sends one).
    ``local`` is the id of the book: the snapshot's id, then the ``last`` of each applied delta.
    """

    #: Short name for logs and stats.
    name = "rule"

    @abstractmethod
    def first(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """Verdict on the first delta after a snapshot of id ``local``."""

    @abstractmethod
    def next(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """Verdict on a delta after a delta whose ``last`` was ``local``."""

    def snapshot_too_old(self, snapshot_id: int, first_buffered: int, prev: int | None) -> bool:
        """True when a snapshot predates the oldest buffered delta (fetch another one)."""
        return snapshot_id + 1 < first_buffered


class BinanceSpotRule(SequenceRule):
    """Binance spot: first delta with ``U <= lastUpdateId + 1 <= u``, then ``U == prev_u + 1``."""

    name = "binance-spot"

    def first(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """``u <= id``: stale; ``U <= id + 1 <= u``: apply; else a gap."""
        if last <= local:
            return Verdict.STALE
        return Verdict.APPLY if first <= local + 1 else Verdict.GAP

    def next(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """``u <= local``: stale; ``U == local + 1``: apply; ``U > local + 1``: gap."""
        if last <= local:
            return Verdict.STALE
        return Verdict.APPLY if first == local + 1 else Verdict.GAP


class BinanceFuturesRule(SequenceRule):
    """Binance USDⓈ-M / COIN-M futures.

    First delta with ``U <= lastUpdateId <= u``, then ``pu == prev u``.
    """

    name = "binance-futures"

    def first(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """``u < id``: stale; ``U <= id <= u``: apply; else a gap."""
        if last < local:
            return Verdict.STALE
        return Verdict.APPLY if first <= local else Verdict.GAP

    def next(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """``pu == local``: apply; ``u <= local``: stale; otherwise a gap."""
        if prev == local:
            return Verdict.APPLY
        if last <= local:
            return Verdict.STALE
        return Verdict.GAP

    def snapshot_too_old(self, snapshot_id: int, first_buffered: int, prev: int | None) -> bool:
        """The snapshot must reach at least the first buffered ``U``."""
        return snapshot_id < first_buffered


class ContiguousRule(SequenceRule):
    """One sequence number per message: ``seq == prev_seq + 1`` (``seq <= local`` is stale)."""

    name = "contiguous"

    def first(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """Same as :meth:`next`: the delta after a snapshot of id n has id n + 1."""
        return self.next(local, first, last, prev)

    def next(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """``seq == local + 1``: apply; ``seq <= local``: stale; else a gap."""
        if last <= local:
            return Verdict.STALE
        return Verdict.APPLY if first == local + 1 else Verdict.GAP


class PrevSeqRule(SequenceRule):
    """Each message names the previous one: ``prevSeqId == last seqId`` (OKX).

    A message with ``seqId == prevSeqId`` is a heartbeat (applied: it changes nothing); a
    ``seqId < prevSeqId`` reset after maintenance is accepted when ``prev`` matches.
    """

    name = "prev-seq"

    def first(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """Same as :meth:`next`."""
        return self.next(local, first, last, prev)

    def next(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """``prev == local``: apply; a message at or before the book's id: stale; else a gap."""
        if prev == local:
            return Verdict.APPLY
        if prev is not None and prev < local and last <= local:
            return Verdict.STALE
        return Verdict.GAP

    def snapshot_too_old(self, snapshot_id: int, first_buffered: int, prev: int | None) -> bool:
        """Too old when the oldest buffered delta follows a later message than the snapshot."""
        return prev is not None and prev > snapshot_id


class RangeRule(SequenceRule):
    """Ranges that may overlap (KuCoin, Gate legacy): apply if ``first <= local + 1`` and
    ``last > local``; ``first > local + 1`` is a gap."""

    name = "range"

    def first(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """Same as :meth:`next`."""
        return self.next(local, first, last, prev)

    def next(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """Overlap allowed, holes are not."""
        if last <= local:
            return Verdict.STALE
        return Verdict.APPLY if first <= local + 1 else Verdict.GAP


class NoSequenceRule(SequenceRule):
    """No sequence ids (or ordering only): every delta applies; integrity rests on checksums."""

    name = "none"

    def first(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """Always apply."""
        return Verdict.APPLY

    def next(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """Always apply."""
        return Verdict.APPLY

    def snapshot_too_old(self, snapshot_id: int, first_buffered: int, prev: int | None) -> bool:
        """Never."""
        return False


#: ``hook(book, expected) -> bool``: True when the book matches the venue's checksum.
ChecksumHook = Callable[[OrderBook, "BookRecord"], bool]


class BookSyncStats:
    """Counters of one :class:`BookSync` (all venues' symbols together, plus per symbol)."""

    __slots__ = (
        "buffer_overflows",
        "checksum_failures",
        "deltas",
        "gaps",
        "resyncs",
        "resyncs_by_symbol",
        "snapshot_retries",
        "snapshots",
        "stale_deltas",
    )

    def __init__(self) -> None:
        self.deltas = 0
        self.snapshots = 0
        self.stale_deltas = 0
        self.gaps = 0
        self.checksum_failures = 0
        self.resyncs = 0
        self.snapshot_retries = 0
        self.buffer_overflows = 0
        self.resyncs_by_symbol: dict[str, int] = {}

    def as_dict(self) -> dict[str, int]:
        """Plain counters (without the per-symbol breakdown)."""
        return {k: getattr(self, k) for k in self.__slots__ if k != "resyncs_by_symbol"}


class _Pending:
    __slots__ = ("asks", "bids", "checksum", "exchange_ts", "first", "last", "prev", "ts")

    def __init__(
        self,
        first: int,
        last: int,
        prev: int | None,
        bids: Levels,
        asks: Levels,
        ts: float,
        exchange_ts: float | None,
        checksum: BookRecord | None,
    ) -> None:
        self.first = first
        self.last = last
        self.prev = prev
        self.bids = bids
        self.asks = asks
        self.ts = ts
        self.exchange_ts = exchange_ts
        self.checksum = checksum


class _Symbol:
    __slots__ = ("book", "bridged", "buffer", "live", "snapshot_requested", "state")

    def __init__(self, book: OrderBook, max_buffer: int) -> None:
        self.book = book
        self.buffer: deque[_Pending] = deque(maxlen=max_buffer)
        self.live = False  # the book is synchronised
        self.bridged = False  # the first delta after the snapshot has been applied
        self.snapshot_requested = False
        self.state = BookHealth.SYNCING


class BookSync:
    """Synchronises the books of one venue from snapshots and deltas.

    ``request_snapshot(symbol)`` is called whenever a symbol needs a (new) snapshot: the
    connector fetches one over REST, or resubscribes for venues that send snapshots on the
    stream, and passes it to :meth:`on_snapshot`. ``emit`` receives every book event, marked
    ``applied=True``: the change is already in ``market``'s book.
    """

    def __init__(
        self,
        venue: str,
        market: MarketState,
        rule: SequenceRule,
        *,
        emit: Callable[[MarketEvent], None] | None = None,
        request_snapshot: Callable[[str], None] | None = None,
        checksum: ChecksumHook | None = None,
        max_buffer: int = 10_000,
        emit_depth: int | None = None,
    ) -> None:
        self.venue = venue
        self.market = market
        self.rule = rule
        self.emit = emit
        self.request_snapshot = request_snapshot
        self.checksum = checksum
        self.max_buffer = max_buffer
        self.emit_depth = emit_depth
        self.stats = BookSyncStats()
        self._symbols: dict[str, _Symbol] = {}

    # -- state -------------------------------------------------------------------------------

    def _sym(self, symbol: str) -> _Symbol:
        s = self._symbols.get(symbol)
        if s is None:
            s = _Symbol(self.market.book(self.venue, symbol), self.max_buffer)
            self._symbols[symbol] = s
            self._set_state(symbol, s, BookHealth.SYNCING)
        return s

    def _set_state(self, symbol: str, s: _Symbol, state: str) -> None:
        s.state = state
        self.market.set_health(self.venue, symbol, state)

    def track(self, symbol: str) -> None:
        """Start following ``symbol`` (its book is created empty, ``syncing``)."""
        self._sym(symbol)

    def symbols(self) -> list[str]:
        """Symbols followed."""
        return list(self._symbols)

    def health(self, symbol: str) -> str:
        """Health state of one symbol's book."""
        s = self._symbols.get(symbol)
        return s.state if s is not None else BookHealth.SYNCING

    def is_live(self, symbol: str) -> bool:
        """True when the book of ``symbol`` is synchronised (live or merely stale)."""
        s = self._symbols.get(symbol)
        return s is not None and s.live

    def book(self, symbol: str) -> OrderBook:
        """The book of ``symbol``."""
        return self._sym(symbol).book

    # -- input -------------------------------------------------------------------------------

    def on_delta(
        self,
        symbol: str,
        first: int,
        last: int,
        bids: Levels,
        asks: Levels,
        ts: float,
        exchange_ts: float | None = None,
        prev: int | None = None,
        checksum: BookRecord | None = None,
    ) -> bool:
        """Handle one delta; True when it was applied to the book."""
        s = self._symbols.get(symbol)
        if s is None:
            s = self._sym(symbol)
        if not s.live:
            s.buffer.append(_Pending(first, last, prev, bids, asks, ts, exchange_ts, checksum))
            if len(s.buffer) == self.max_buffer:
                self.stats.buffer_overflows += 1
            if not s.snapshot_requested:
                s.snapshot_requested = True
                if self.request_snapshot is not None:
                    self.request_snapshot(symbol)
            return False
        book = s.book
        local = book.sequence if book.sequence is not None else 0
        verdict = (
            self.rule.next(local, first, last, prev)
            if s.bridged
            else self.rule.first(local, first, last, prev)
        )
        if verdict is Verdict.APPLY:
            book.apply_delta(bids, asks, ts, exchange_ts)
            book.sequence = last
            s.bridged = True
            self.stats.deltas += 1
            hook = self.checksum
            if checksum is not None and hook is not None and not hook(book, checksum):
                self.stats.checksum_failures += 1
                self.resync(symbol, "checksum")
                return False
            if s.state != BookHealth.LIVE:
                self._set_state(symbol, s, BookHealth.LIVE)
            if self.emit is not None:
                self.emit(BookUpdate(ts, self.venue, symbol, bids, asks, False, exchange_ts, True))
            return True
        if verdict is Verdict.STALE:
            self.stats.stale_deltas += 1
            return False
        self.stats.gaps += 1
        self.resync(symbol, "gap")
        # The delta that revealed the gap is the first one of the new buffer.
        s.buffer.append(_Pending(first, last, prev, bids, asks, ts, exchange_ts, checksum))
        return False

    def on_snapshot(
        self,
        symbol: str,
        seq: int,
        bids: Levels,
        asks: Levels,
        ts: float,
        exchange_ts: float | None = None,
    ) -> bool:
        """Handle a snapshot of id ``seq``; True when the book is live afterwards.

        Buffered deltas the snapshot already contains are dropped; the rest are applied with
        the sequence rule. A snapshot older than the oldest buffered delta asks for another.
        """
        s = self._sym(symbol)
        buf = s.buffer
        if buf and self.rule.snapshot_too_old(seq, buf[0].first, buf[0].prev):
            self.stats.snapshot_retries += 1
            s.snapshot_requested = True
            if self.request_snapshot is not None:
                self.request_snapshot(symbol)
            return False
        book = s.book
        book.apply_snapshot(bids, asks, ts, exchange_ts)
        book.sequence = seq
        self.stats.snapshots += 1
        s.live = True
        s.bridged = False
        s.snapshot_requested = False
        pending = list(buf)
        buf.clear()
        rule = self.rule
        last_ts, last_ets = ts, exchange_ts
        for p in pending:
            local = book.sequence if book.sequence is not None else 0
            verdict = (
                rule.next(local, p.first, p.last, p.prev)
                if s.bridged
                else rule.first(local, p.first, p.last, p.prev)
            )
            if verdict is Verdict.STALE:
                self.stats.stale_deltas += 1
                continue
            if verdict is Verdict.GAP:
                self.stats.gaps += 1
                self.resync(symbol, "gap")
                idx = pending.index(p)
                s.buffer.extend(pending[idx:])
                return False
            book.apply_delta(p.bids, p.asks, p.ts, p.exchange_ts)
            book.sequence = p.last
            s.bridged = True
            self.stats.deltas += 1
            last_ts, last_ets = p.ts, p.exchange_ts
            hook = self.checksum
            if p.checksum is not None and hook is not None and not hook(book, p.checksum):
                self.stats.checksum_failures += 1
                self.resync(symbol, "checksum")
                return False
        self._set_state(symbol, s, BookHealth.LIVE)
        self._emit_snapshot(symbol, book, last_ts, last_ets)
        return True

    def on_full_book(
        self, symbol: str, bids: Levels, asks: Levels, ts: float, exchange_ts: float | None = None
    ) -> None:
        """A venue message that is a complete (top-N) book: replace the book and go live."""
        s = self._sym(symbol)
        s.book.apply_snapshot(bids, asks, ts, exchange_ts)
        s.live = True
        s.bridged = True
        s.buffer.clear()
        self.stats.snapshots += 1
        if s.state != BookHealth.LIVE:
            self._set_state(symbol, s, BookHealth.LIVE)
        if self.emit is not None:
            self.emit(BookUpdate(ts, self.venue, symbol, bids, asks, True, exchange_ts, True))

    def _emit_snapshot(self, symbol: str, book: OrderBook, ts: float, ets: float | None) -> None:
        if self.emit is not None:
            depth = self.emit_depth
            self.emit(
                BookUpdate(
                    ts, self.venue, symbol, book.bids.levels(depth), book.asks.levels(depth), True, ets, True
                )
            )

    # -- control -----------------------------------------------------------------------------

    def resync(self, symbol: str, reason: str = "requested") -> None:
        """Resynchronise one symbol: drop its book and buffer, ask for a new snapshot.

        Other symbols are not touched. The book stays empty (``resyncing``) until the new
        snapshot is bridged, so no level of the old book can survive.
        """
        s = self._sym(symbol)
        s.book.clear()
        s.buffer.clear()
        s.live = False
        s.bridged = False
        self.stats.resyncs += 1
        self.stats.resyncs_by_symbol[symbol] = self.stats.resyncs_by_symbol.get(symbol, 0) + 1
        self._set_state(symbol, s, BookHealth.RESYNCING)
        s.snapshot_requested = True
        if self.request_snapshot is not None:
            self.request_snapshot(symbol)

    def drop_all(self) -> None:
        """The connection was lost: clear every book and buffer; each waits for a new snapshot.

        Each book counts as one resync.
        """
        for symbol, s in self._symbols.items():
            self.stats.resyncs += 1
            self.stats.resyncs_by_symbol[symbol] = self.stats.resyncs_by_symbol.get(symbol, 0) + 1
            s.book.clear()
            s.buffer.clear()
            s.live = False
            s.bridged = False
            s.snapshot_requested = False
            self._set_state(symbol, s, BookHealth.SYNCING)

    def forget(self, symbol: str) -> None:
        """Stop following ``symbol`` (unsubscribed): clear its book."""
        s = self._symbols.pop(symbol, None)
        if s is not None:
            s.book.clear()
            self.market.set_health(self.venue, symbol, BookHealth.SYNCING)

    def check_stale(self, now: float, max_age: float) -> list[str]:
        """Mark live books without a change for ``max_age`` seconds ``stale``; returns them.

        A stale book returns to ``live`` with its next applied delta.
        """
        out = []
        for symbol, s in self._symbols.items():
            if s.live and s.state == BookHealth.LIVE and s.book.age(now) > max_age:
                self._set_state(symbol, s, BookHealth.STALE)
                out.append(symbol)
        return out
