"""Bithumb book rules, on the core :class:`~arbot.connectors.booksync.BookSync`.

* Current API (``ws-api``, v1 spec, what the live connector uses): every ``orderbook``
  message is the full top-N book -- core :class:`arbot.connectors.fullbook.FullBookHandler`.
* Legacy ``orderbookdepth`` (``pubwss``, the 2021 capture): per-level deltas ``{symbol,
  orderType, price, quantity}`` (quantity 0 deletes) with no sequence numbers and no snapshot
  over the socket. The only order is the message ``datetime`` (µs), so it serves as the
  sequence id (:class:`TimeOrderRule`): deltas are buffered until a REST snapshot
  (``/public/orderbook/<SYM>``, its ``timestamp`` in ms) and those older than the snapshot
  are dropped; afterwards a delta older than the book is stale. A lost delta cannot be
  detected on this feed.
"""

from __future__ import annotations

from collections.abc import Callable

from arbot.components import MarketEvent
from arbot.connectors.booksync import BookSync, SequenceRule, Verdict
from arbot.connectors.fullbook import FullBookMsg
from arbot.connectors.symbols import SymbolMap
from arbot.market import MarketState

__all__ = ["LegacyBookHandler", "TimeOrderRule", "micros"]


def micros(seconds: float | None) -> int:
    """Epoch seconds -> integer µs (the legacy feed's ``datetime`` unit); 0 when unknown."""
    return 0 if seconds is None else round(seconds * 1e6)


class TimeOrderRule(SequenceRule):
    """Message times as sequence ids: older than the book is stale, anything else applies."""

    name = "time-order"

    def first(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """Same as :meth:`next`."""
        return self.next(local, first, last, prev)

    def next(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """``last < local``: stale (older than the book); otherwise apply."""
        return Verdict.STALE if last < local else Verdict.APPLY

    def snapshot_too_old(self, snapshot_id: int, first_buffered: int, prev: int | None) -> bool:
        """Never: buffered deltas newer than the snapshot are applied on top of it."""
        return False


class LegacyBookHandler:
    """Legacy ``orderbookdepth`` deltas + REST ``/public/orderbook`` snapshots -> books."""

    def __init__(self, venue: str, market: MarketState,
                 emit: Callable[[MarketEvent], None] | None, symbols: SymbolMap) -> None:
        self.sync = BookSync(venue, market, TimeOrderRule(), emit=emit)
        self.symbols = symbols

    def delta(self, rec: FullBookMsg, ts: float) -> bool:
        """Apply (or buffer until a snapshot) one symbol's part of an ``orderbookdepth``."""
        t = micros(rec.ts)
        return self.sync.on_delta(self.symbols.to_unified(rec.symbol), t, t, rec.bids,
                                  rec.asks, ts, rec.ts)

    def snapshot(self, rec: FullBookMsg, ts: float) -> bool:
        """Apply a REST order book; True when the book is live afterwards."""
        return self.sync.on_snapshot(self.symbols.to_unified(rec.symbol), micros(rec.ts),
                                     rec.bids, rec.asks, ts, rec.ts)
