"""The Bitget book handler shared by the live connector and the capture replay decoder.

Bitget's public protocol has OKX's shape (``arg``/``action``/``data`` pushes, ``event``
replies, text ``pong``, a snapshot per subscribe, CRC32 over raw strings), so this is
core :class:`arbot.connectors.streambook.StreamBookHandler` with Bitget's decoding, symbols and
``seq`` rule (core ``BookSync`` underneath; the checksum is verified when non-zero, the core
default).
"""

from __future__ import annotations

from typing import Any, ClassVar

from arbot.connectors.booksync import SequenceRule
from arbot.connectors.streambook import StreamBookHandler
from arbot.connectors.symbols import SymbolMap

from arbot_bitget import messages
from arbot_bitget.symbols import BitgetSymbols
from arbot_bitget.sync import BitgetSequenceRule

__all__ = ["VENUE", "BitgetBookHandler"]

VENUE = "bitget"


class BitgetBookHandler(StreamBookHandler):
    """Books (snapshot + updates verified by checksum, ``seq`` against replays) and trades of
    Bitget spot (v1 and v2 messages). A lost update shows as a checksum failure: the book is
    resynchronised (live: the connector resubscribes the ``books`` channel)."""

    venue: ClassVar[str] = VENUE
    full_book_channels: ClassVar[frozenset[str]] = messages.FULL_BOOK_CHANNELS

    symbols_class: ClassVar[type[SymbolMap]] = BitgetSymbols
    rule_class: ClassVar[type[SequenceRule]] = BitgetSequenceRule
    decode = staticmethod(messages.decode)

    @staticmethod
    def ids(rec: Any) -> tuple[bool, int, int | None]:
        """``(is_snapshot, seq, None)``; ``seq`` -1 for v1 messages (no sequence)."""
        return rec.is_snapshot, rec.seq if rec.seq is not None else -1, None
