"""Bybit v5 ``orderbook.{depth}`` synchronisation: snapshot/delta with ``u`` continuity.

* ``type == "snapshot"`` replaces the book; so does any message with ``u == 1`` (service
  restart / relisting: Bybit says to overwrite the local book).
* Deltas: ``u == last + 1`` applies. For deep books (``orderbook.500``, ``1000`` and
  ``orderbook.full``) anything above ``last + 1`` is a gap; the shared notes mark strict ``+1``
  as unconfirmed for shallow depths, so there (``strict=False``) a delta only has to be newer.
  ``u <= last`` is stale.
"""

from __future__ import annotations

import enum

__all__ = ["STRICT_MIN_DEPTH", "Verdict", "is_strict", "u_verdict"]

#: Depths from which ``u`` continuity is checked strictly (+1); "full" is always strict.
STRICT_MIN_DEPTH = 500


class Verdict(enum.StrEnum):
    """What to do with one book message."""

    RESET = "reset"
    APPLY = "apply"
    GAP = "gap"
    STALE = "stale"


def is_strict(depth: str) -> bool:
    """True when ``u`` must be contiguous for a topic of this depth (``"50"``, ``"full"``...)."""
    return depth == "full" or (depth.isdigit() and int(depth) >= STRICT_MIN_DEPTH)


def u_verdict(last_u: int | None, u: int, is_snapshot: bool, strict: bool = True) -> Verdict:
    """Decide one message from the last applied ``u``."""
    if is_snapshot or u == 1:
        return Verdict.RESET
    if last_u is None:
        return Verdict.GAP
    if u <= last_u:
        return Verdict.STALE
    if strict and u != last_u + 1:
        return Verdict.GAP
    return Verdict.APPLY
