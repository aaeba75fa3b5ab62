"""Bybit v5 ``orderbook.{depth}`` synchronisation rule for core ``BookSync``.

* ``type == "snapshot"`` replaces the book; so does any message with ``u == 1`` (service
  restart / relisting: Bybit says to overwrite the local book). Both go to
  ``BookSync.on_snapshot`` (see :mod:`arbot_bybit.handler`).
* Deltas: ``u == last + 1`` applies (core :class:`~arbot.connectors.booksync.ContiguousRule`).
  For deep books (``orderbook.500``, ``1000`` and ``orderbook.full``) anything above
  ``last + 1`` is a gap; the shared notes mark strict ``+1`` as unconfirmed for shallow
  depths, so there (``strict=False``) a delta only has to be newer. ``u <= last`` is stale.
  The real ``orderbook.500`` capture is contiguous (49 deltas, no hole).
"""

from __future__ import annotations

from arbot.connectors.booksync import ContiguousRule, Verdict

__all__ = ["STRICT_MIN_DEPTH", "BybitSequenceRule", "is_strict"]

#: Depths from which ``u`` continuity is checked strictly (+1); "full" is always strict.
STRICT_MIN_DEPTH = 500


def is_strict(depth: str | int) -> bool:
    """True when ``u`` must be contiguous for a topic of this depth (``"50"``, ``"full"``...)."""
    d = str(depth)
    return d == "full" or (d.isdigit() and int(d) >= STRICT_MIN_DEPTH)


class BybitSequenceRule(ContiguousRule):
    """``u == last + 1`` (strict, deep books) or merely ``u > last`` (shallow books)."""

    name = "bybit"

    def __init__(self, strict: bool = True) -> None:
        self.strict = strict

    @classmethod
    def for_depth(cls, depth: str | int) -> BybitSequenceRule:
        """The rule of an ``orderbook.{depth}`` topic."""
        return cls(is_strict(depth))

    def next(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """Strict: :meth:`ContiguousRule.next`; lenient: newer applies, older is stale."""
        if self.strict:
            return super().next(local, first, last, prev)
        return Verdict.APPLY if last > local else Verdict.STALE
