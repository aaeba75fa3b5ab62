"""Bitget book synchronisation rules: CRC32 checksum and ``seq`` ordering.

* Checksum: after applying each ``books`` message, CRC32 (zlib/IEEE) of
  ``bid1px:bid1sz:ask1px:ask1sz:...`` over the best 25 levels of each side using the original
  strings, as a signed 32-bit integer, must equal ``checksum``. A checksum of 0 (the
  ``books1/5/15`` pushes, v2 snapshots) is not checked.
* Sequence: v2 spot ``seq`` only increases (there is no ``prevSeq``), so it detects late or
  duplicated messages (STALE), not lost ones; loss shows up as a checksum mismatch. v1 has no
  sequence at all.
"""

from __future__ import annotations

import enum
import zlib
from collections.abc import Iterable
from itertools import islice

from arbot.book import OrderBook

__all__ = [
    "CHECKSUM_DEPTH",
    "ChecksumBook",
    "Verdict",
    "checksum_applies",
    "checksum_string",
    "crc32_signed",
    "seq_verdict",
]

CHECKSUM_DEPTH = 25


class Verdict(enum.StrEnum):
    """What to do with one incremental message."""

    APPLY = "apply"
    RESET = "reset"
    GAP = "gap"
    STALE = "stale"


def seq_verdict(last_seq: int | None, seq: int | None) -> Verdict:
    """APPLY when ``seq`` is newer than the last applied one (or either is unknown), else STALE."""
    if seq is None or last_seq is None or seq > last_seq:
        return Verdict.APPLY
    return Verdict.STALE


def checksum_applies(checksum: int | None) -> bool:
    """True when the message carries a checksum to verify (non-zero)."""
    return checksum is not None and checksum != 0


def crc32_signed(text: str) -> int:
    """zlib CRC32 of ``text`` (UTF-8) as a signed 32-bit integer."""
    v = zlib.crc32(text.encode())
    return v - 0x1_0000_0000 if v >= 0x8000_0000 else v


def checksum_string(
    bids: Iterable[tuple[str, str]], asks: Iterable[tuple[str, str]], depth: int = CHECKSUM_DEPTH
) -> str:
    """``bid1px:bid1sz:ask1px:ask1sz:...`` over the first ``depth`` levels of each side
    (best first); entries missing on the shorter side are skipped."""
    b = list(islice(bids, depth))
    a = list(islice(asks, depth))
    parts: list[str] = []
    for i in range(max(len(b), len(a))):
        if i < len(b):
            parts += b[i]
        if i < len(a):
            parts += a[i]
    return ":".join(parts)


class ChecksumBook:
    """An :class:`~arbot.book.OrderBook` that also keeps each level's original strings."""

    __slots__ = ("book", "raw_asks", "raw_bids")

    def __init__(self, book: OrderBook) -> None:
        self.book = book
        self.raw_bids: dict[float, tuple[str, str]] = {}
        self.raw_asks: dict[float, tuple[str, str]] = {}

    def apply_snapshot(
        self,
        bids: list[tuple[float, float]],
        asks: list[tuple[float, float]],
        raw_bids: list[tuple[str, str]],
        raw_asks: list[tuple[str, str]],
        ts: float,
        exchange_ts: float | None = None,
    ) -> None:
        """Replace the book."""
        self.book.apply_snapshot(bids, asks, ts, exchange_ts)
        self.raw_bids = {p: r for (p, q), r in zip(bids, raw_bids, strict=True) if q > 0.0}
        self.raw_asks = {p: r for (p, q), r in zip(asks, raw_asks, strict=True) if q > 0.0}

    def apply_delta(
        self,
        bids: list[tuple[float, float]],
        asks: list[tuple[float, float]],
        raw_bids: list[tuple[str, str]],
        raw_asks: list[tuple[str, str]],
        ts: float,
        exchange_ts: float | None = None,
    ) -> None:
        """Apply changed levels (size 0 deletes)."""
        self.book.apply_delta(bids, asks, ts, exchange_ts)
        for levels, raws, store in ((bids, raw_bids, self.raw_bids), (asks, raw_asks, self.raw_asks)):
            for (p, q), r in zip(levels, raws, strict=True):
                if q > 0.0:
                    store[p] = r
                else:
                    store.pop(p, None)

    def clear(self) -> None:
        """Drop every level."""
        self.book.clear()
        self.raw_bids.clear()
        self.raw_asks.clear()

    def checksum(self, depth: int = CHECKSUM_DEPTH) -> int:
        """The signed CRC32 of the current top ``depth`` levels."""
        rb = self.raw_bids
        ra = self.raw_asks
        bids = (rb[p] for p, _ in islice(self.book.bids, depth))
        asks = (ra[p] for p, _ in islice(self.book.asks, depth))
        return crc32_signed(checksum_string(bids, asks, depth))
