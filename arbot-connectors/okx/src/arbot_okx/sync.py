"""OKX book synchronisation: the sequence rule for core ``BookSync`` and the CRC32 checksum.

* Sequence (``seqId``/``prevSeqId``, per instrument): a snapshot has ``prevSeqId == -1``; an
  update applies when its ``prevSeqId`` equals the last applied ``seqId`` (this covers the
  empty heartbeat with ``seqId == prevSeqId`` and the post-maintenance reset where
  ``seqId < prevSeqId``). Anything else is a gap -> resubscribe for a new snapshot. This is
  core :class:`~arbot.connectors.booksync.PrevSeqRule`; :class:`OkxSequenceRule` only adds
  the pre-2023 messages that carry no ids at all (their integrity rests on the checksum).
* Checksum: CRC32 (zlib/IEEE) of ``bid1px:bid1sz:ask1px:ask1sz:...`` over the best 25 levels
  of each side using the original strings, compared as a signed 32-bit integer. Messages from
  before the seqId era (e.g. the 2022 capture) carry only the checksum, which is then the
  integrity check. OKX fixed the field to 0 from 2026-06-23; a 0 on a message that carries
  ``seqId`` is therefore not checked. :class:`Crc32Checksum` keeps each level's original
  strings and is the ``BookSync`` checksum hook. Bitget uses the very same algorithm and
  imports it from here.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any

from arbot.book import OrderBook
from arbot.connectors.booksync import PrevSeqRule, Verdict

__all__ = [
    "CHECKSUM_DEPTH",
    "Crc32Checksum",
    "OkxSequenceRule",
    "book_checksum",
    "checksum_applies",
    "checksum_string",
    "crc32_signed",
    "okx_checksum_applies",
]

CHECKSUM_DEPTH = 25

RawLevel = tuple[str, str]


class OkxSequenceRule(PrevSeqRule):
    """``prevSeqId == last seqId`` (core :class:`PrevSeqRule`); a message without ids (the
    pre-2023 format: ``prev`` is None) applies, the checksum guards it."""

    name = "okx"

    def next(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """``prev`` None: apply; otherwise :meth:`PrevSeqRule.next`."""
        if prev is None:
            return Verdict.APPLY
        return super().next(local, first, last, prev)


def checksum_applies(checksum: int | None, seq: int | None) -> bool:
    """True when an OKX message's checksum must be verified (see the module docstring)."""
    if checksum is None:
        return False
    return not (checksum == 0 and seq is not None)


def okx_checksum_applies(rec: Any) -> bool:
    """:func:`checksum_applies` of a book record (``checksum``, ``seq`` attributes)."""
    return checksum_applies(rec.checksum, rec.seq)


def crc32_signed(text: str) -> int:
    """zlib CRC32 of ``text`` (UTF-8) as a signed 32-bit integer."""
    v = zlib.crc32(text.encode())
    return v - 0x1_0000_0000 if v >= 0x8000_0000 else v


def checksum_string(
    bids: Iterable[RawLevel], asks: Iterable[RawLevel], depth: int = CHECKSUM_DEPTH
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


def book_checksum(
    book: OrderBook, raw_bids: dict[float, RawLevel], raw_asks: dict[float, RawLevel],
    depth: int = CHECKSUM_DEPTH,
) -> int:
    """Signed CRC32 of the best ``depth`` levels of ``book``, written with their raw strings."""
    bids = (raw_bids[p] for p, _ in islice(book.bids, depth))
    asks = (raw_asks[p] for p, _ in islice(book.asks, depth))
    return crc32_signed(checksum_string(bids, asks, depth))


class Crc32Checksum:
    """The original price/size strings of every level of every book, and the checksum check.

    Records are book messages with ``bids``/``asks`` (floats), ``raw_bids``/``raw_asks`` (the
    strings) and ``checksum``. :meth:`reset` on a snapshot; as the ``BookSync`` hook
    (``hook(book, record)``) it records the strings of a just-applied update, then verifies
    ``record.checksum`` when ``applies(record)``. ``ok`` counts verified checksums.
    """

    def __init__(self, applies: Callable[[Any], bool], verify: bool = True,
                 depth: int = CHECKSUM_DEPTH) -> None:
        self.applies = applies
        self.verify = verify
        self.depth = depth
        self.ok = 0
        self._raw: dict[str, tuple[dict[float, RawLevel], dict[float, RawLevel]]] = {}

    def reset(self, symbol: str, rec: Any) -> bool:
        """A snapshot record replaces the strings of ``symbol``; True when its checksum (over
        the message's own levels, best first) is valid or not applicable."""
        self._raw[symbol] = (
            {p: r for (p, q), r in zip(rec.bids, rec.raw_bids, strict=True) if q > 0.0},
            {p: r for (p, q), r in zip(rec.asks, rec.raw_asks, strict=True) if q > 0.0},
        )
        if not self.verify or not self.applies(rec):
            return True
        good = bool(crc32_signed(checksum_string(rec.raw_bids, rec.raw_asks, self.depth)) == rec.checksum)
        self.ok += good
        return good

    def __call__(self, book: OrderBook, rec: Any) -> bool:
        """Hook: record the update's strings, then True when the book matches its checksum."""
        raw_bids, raw_asks = self._raw.setdefault(book.symbol, ({}, {}))
        for levels, raws, store in ((rec.bids, rec.raw_bids, raw_bids),
                                    (rec.asks, rec.raw_asks, raw_asks)):
            for (p, q), r in zip(levels, raws, strict=True):
                if q > 0.0:
                    store[p] = r
                else:
                    store.pop(p, None)
        if not self.verify or not self.applies(rec):
            return True
        good = bool(book_checksum(book, raw_bids, raw_asks, self.depth) == rec.checksum)
        self.ok += good
        return good
