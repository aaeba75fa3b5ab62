"""Bithumb book rules.

* Legacy ``orderbookdepth`` (``pubwss``): per-level deltas ``{symbol, orderType, price,
  quantity}`` where quantity 0 deletes; no sequence numbers and no snapshot over the socket.
  The book is complete only after a REST snapshot (``/public/orderbook/<SYM>``); until then it
  is a *partial* book built from deltas. The only ordering check is the message ``datetime``
  (µs): a message older than the last applied one for the same symbol is stale.
* Current ``orderbook`` (Upbit-style): every message is the full top-N book -> replace.
"""

from __future__ import annotations

import enum

__all__ = ["Verdict", "epoch_seconds", "order_verdict"]


class Verdict(enum.StrEnum):
    """What to do with one message."""

    APPLY = "apply"
    STALE = "stale"


def order_verdict(last_ts: float | None, ts: float | None) -> Verdict:
    """APPLY unless the message is strictly older than the last applied one."""
    if last_ts is None or ts is None or ts >= last_ts:
        return Verdict.APPLY
    return Verdict.STALE


def epoch_seconds(value: float | int | str | None) -> float | None:
    """Venue timestamp (ms or µs, number or string) -> seconds."""
    if value in (None, ""):
        return None
    v = float(value)
    return v / 1e6 if v > 1e14 else v / 1e3
