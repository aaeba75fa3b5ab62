"""The CRC32 order-book checksum of the OKX / Bitget family.

CRC32 (zlib/IEEE) of ``bid1px:bid1sz:ask1px:ask1sz:...`` over the best 25 levels of each side,
written with the venue's original price/size strings, compared as a signed 32-bit integer.
OKX (until June 2026, and in older captures) and Bitget (every ``books`` update) send it.
:class:`Crc32Checksum` keeps each level's original strings and is the
:class:`~arbot.connectors.booksync.BookSync` checksum hook; when a venue's checksum applies
is the venue's own rule (the ``applies`` callable).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, islice
from typing import TYPE_CHECKING

from arbot.book import BookSide, OrderBook

if TYPE_CHECKING:
    from arbot.connectors.records import BookRecord

__all__ = [
    "CHECKSUM_DEPTH",
    "Crc32Checksum",
    "RawLevel",
    "book_checksum",
    "checksum_string",
    "crc32_signed",
    "nonzero_checksum",
]

#: Levels per side covered by the checksum.
CHECKSUM_DEPTH = 25

#: A level as the venue wrote it: ``(price, size)`` strings.
RawLevel = tuple[str, str]


def crc32_signed(text: str) -> int:
    """zlib CRC32 of ``text`` (UTF-8) as a signed 32-bit integer."""
    return _signed(zlib.crc32(text.encode()))


def _interleave(b: Sequence[str], a: Sequence[str]) -> str:
    """``b1:a1:b2:a2:...`` of two lists of ``"px:sz"`` texts; the longer side's tail last."""
    n = min(len(b), len(a))
    parts = list(chain.from_iterable(zip(b, a, strict=False)))
    parts += b[n:]
    parts += a[n:]
    return ":".join(parts)


def checksum_string(
    bids: Iterable[RawLevel], asks: Iterable[RawLevel], depth: int = CHECKSUM_DEPTH
) -> str:
    """``bid1px:bid1sz:ask1px:ask1sz:...`` over the first ``depth`` levels of each side
    (best first); entries missing on the shorter side are skipped."""
    return _interleave([f"{p}:{q}" for p, q in islice(bids, depth)],
                       [f"{p}:{q}" for p, q in islice(asks, depth)])


def _signed(v: int) -> int:
    return v - 0x1_0000_0000 if v >= 0x8000_0000 else v


def _best_texts(side: BookSide, text: dict[float, str], depth: int) -> list[str]:
    """The ``"px:sz"`` texts of the best ``depth`` levels of ``side``, best first."""
    return [text[p] for p in side.best_prices(depth)]


def _text_checksum(book: OrderBook, bid_text: dict[float, str], ask_text: dict[float, str],
                   depth: int) -> int:
    """Signed CRC32 of the best ``depth`` levels of ``book`` from each level's ``"px:sz"``."""
    return _signed(zlib.crc32(_interleave(_best_texts(book.bids, bid_text, depth),
                                          _best_texts(book.asks, ask_text, depth)).encode()))


def book_checksum(
    book: OrderBook, raw_bids: dict[float, RawLevel], raw_asks: dict[float, RawLevel],
    depth: int = CHECKSUM_DEPTH,
) -> int:
    """Signed CRC32 of the best ``depth`` levels of ``book``, written with their raw strings."""
    b = [":".join(raw_bids[p]) for p, _ in islice(book.bids, depth)]
    a = [":".join(raw_asks[p]) for p, _ in islice(book.asks, depth)]
    return _signed(zlib.crc32(_interleave(b, a).encode()))


def nonzero_checksum(rec: BookRecord) -> bool:
    """True when a book record carries a checksum to verify (present and non-zero)."""
    return rec.checksum is not None and rec.checksum != 0


class Crc32Checksum:
    """The original price/size strings of every level of every book, and the checksum check.

    Records are book messages with ``bids``/``asks`` (floats), ``raw_bids``/``raw_asks`` (the
    strings) and ``checksum``. :meth:`reset` on a snapshot; as the ``BookSync`` hook
    (``hook(book, record)``) it records the strings of a just-applied update, then verifies
    ``record.checksum`` when ``applies(record)``. ``ok`` counts verified checksums.
    """

    def __init__(self, applies: Callable[[BookRecord], bool], verify: bool = True,
                 depth: int = CHECKSUM_DEPTH) -> None:
        self.applies = applies
        self.verify = verify
        self.depth = depth
        self.ok = 0
        #: Per symbol, each level's ``"px:sz"`` text (bids, asks), kept as updates arrive so a
        #: check is one join over the book's best levels.
        self._text: dict[str, tuple[dict[float, str], dict[float, str]]] = {}

    def reset(self, symbol: str, rec: BookRecord) -> bool:
        """A snapshot record replaces the strings of ``symbol``; True when its checksum (over
        the message's own levels, best first) is valid or not applicable."""
        self._text[symbol] = (
            {p: f"{r[0]}:{r[1]}" for (p, q), r in zip(rec.bids, rec.raw_bids, strict=True)
             if q > 0.0},
            {p: f"{r[0]}:{r[1]}" for (p, q), r in zip(rec.asks, rec.raw_asks, strict=True)
             if q > 0.0},
        )
        if not self.verify or not self.applies(rec):
            return True
        good = bool(crc32_signed(checksum_string(rec.raw_bids, rec.raw_asks, self.depth)) == rec.checksum)
        self.ok += good
        return good

    def __call__(self, book: OrderBook, rec: BookRecord) -> bool:
        """Hook: record the update's strings, then True when the book matches its checksum."""
        bid_text, ask_text = self._text.setdefault(book.symbol, ({}, {}))
        for levels, raws, store in ((rec.bids, rec.raw_bids, bid_text),
                                    (rec.asks, rec.raw_asks, ask_text)):
            pop = store.pop
            for (p, q), (rp, rq) in zip(levels, raws, strict=True):
                if q > 0.0:
                    store[p] = f"{rp}:{rq}"
                else:
                    pop(p, None)
        if not self.verify or not self.applies(rec):
            return True
        good = bool(_text_checksum(book, bid_text, ask_text, self.depth) == rec.checksum)
        self.ok += good
        return good
