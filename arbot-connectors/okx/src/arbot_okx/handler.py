"""The OKX book handler shared by the live connector and the capture replay decoder.

Core :class:`~arbot.connectors.streambook.StreamBookHandler` (``BookSync`` with
:class:`~arbot_okx.sync.OkxSequenceRule`, the core CRC32 checksum hook) with OKX's decoding,
symbols, ids and checksum condition, so replay and live apply exactly the same rules.
"""

from __future__ import annotations

from typing import Any, ClassVar

from arbot.connectors.booksync import SequenceRule
from arbot.connectors.streambook import StreamBookHandler
from arbot.connectors.symbols import SymbolMap

from arbot_okx import messages
from arbot_okx.symbols import OkxSymbols
from arbot_okx.sync import OkxSequenceRule, okx_checksum_applies

__all__ = ["VENUE", "OkxBookHandler"]

VENUE = "okx"


class OkxBookHandler(StreamBookHandler):
    """Books (snapshot + seqId-chained updates, checksum where it applies) and trades of OKX.

    ``request_snapshot(symbol)`` is called by ``BookSync`` when a book must be rebuilt (a gap
    or a checksum failure): live, the connector resubscribes the ``books`` channel, since OKX
    only sends a snapshot in reply to a subscribe. Updates for a book that is not live are
    dropped (counted in ``dropped_unsynced``).
    """

    venue: ClassVar[str] = VENUE
    full_book_channels: ClassVar[frozenset[str]] = messages.FULL_BOOK_CHANNELS
    symbols_class: ClassVar[type[SymbolMap]] = OkxSymbols
    rule_class: ClassVar[type[SequenceRule]] = OkxSequenceRule
    checksum_applies = staticmethod(okx_checksum_applies)
    decode = staticmethod(messages.decode)

    @staticmethod
    def ids(rec: Any) -> tuple[bool, int, int | None]:
        """``(is_snapshot, seq, prev)`` of a book record (``seq`` 0 when the message has none)."""
        seq = rec.seq if rec.seq is not None else 0
        return rec.is_snapshot or rec.prev_seq == -1, seq, rec.prev_seq
