"""Upbit book "synchronisation": every ``orderbook`` message is a full top-N book.

There are no deltas, sequence numbers or checksums; a message replaces the book. The only
check is recency: a message older than the one already applied (by the venue ``timestamp``)
is stale and dropped. Zero-size or zero-price units are skipped (they are not levels).
"""

from __future__ import annotations

import enum

__all__ = ["Verdict", "epoch_seconds", "replace_verdict"]


class Verdict(enum.StrEnum):
    """What to do with one full-book message."""

    REPLACE = "replace"
    STALE = "stale"


def replace_verdict(last_ts: float | None, ts: float | None) -> Verdict:
    """REPLACE unless the message is strictly older than the last applied one."""
    if last_ts is None or ts is None or ts >= last_ts:
        return Verdict.REPLACE
    return Verdict.STALE


def epoch_seconds(value: float | int | str | None) -> float | None:
    """Venue timestamp (ms, or µs in newer messages; number or string) -> seconds."""
    if value in (None, ""):
        return None
    v = float(value)
    return v / 1e6 if v > 1e14 else v / 1e3
