"""Bithumb book rules, on the core :class:`~arbot.connectors.booksync.BookSync`.

* Current API (``ws-api``, v1 spec, what the live connector uses): every ``orderbook``
  message is the full top-N book -- core :class:`arbot.connectors.bootstrap.FullBook`.
* Legacy ``orderbookdepth`` (``pubwss``, the 2021 capture): per-level deltas ``{symbol,
  orderType, price, quantity}`` (quantity 0 deletes) with no sequence numbers and no snapshot
  over the socket. The only order is the message ``datetime`` (µs), so it serves as the
  sequence id (:class:`TimeOrderRule`): deltas are buffered until a REST snapshot
  (``/public/orderbook/<SYM>``, its ``timestamp`` in ms) and those older than the snapshot
  are dropped; afterwards a delta older than the book is stale. A lost delta cannot be
  detected on this feed.
"""

from __future__ import annotations

from arbot.connectors.booksync import SequenceRule, Verdict

__all__ = ["TimeOrderRule"]


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
