"""Replay decoder for Bitget captures: the live protocol's parser and the live bootstrap over
recorded messages (core :class:`~arbot.connectors.replay.RecordReplayDecoder`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from arbot.components import MarketEvent
from arbot.connectors.bootstrap import StreamSnapshot
from arbot.connectors.checksum import Crc32Checksum, nonzero_checksum
from arbot.connectors.replay import RecordReplayDecoder
from arbot.market import MarketState

from arbot_bitget import messages
from arbot_bitget.symbols import BitgetSymbols
from arbot_bitget.sync import BitgetSequenceRule

__all__ = ["BitgetReplayDecoder", "bitget_bootstrap"]


def bitget_bootstrap(market: MarketState, emit: Callable[[MarketEvent], None] | None, *,
                     verify_checksum: bool = True,
                     symbols: BitgetSymbols | None = None) -> StreamSnapshot:
    """Bitget books: snapshots on the stream, ``seq`` ordering, CRC32 on every update (the
    integrity check: a lost update shows as a checksum failure)."""
    return StreamSnapshot("bitget", market, emit, BitgetSequenceRule(),
                          symbols=symbols if symbols is not None else BitgetSymbols(),
                          checksum=Crc32Checksum(nonzero_checksum, verify_checksum))


class BitgetReplayDecoder(RecordReplayDecoder):
    """Turns Bitget spot (v1/v2) pushes into events with the live bootstrap. A checksum
    mismatch drops the book to "resyncing" until the next snapshot."""

    venue: ClassVar[str] = "bitget"

    def __init__(self, verify_checksum: bool = True) -> None:
        super().__init__(messages.parse,
                         lambda m, e: bitget_bootstrap(m, e, verify_checksum=verify_checksum))

    def snapshot(self, url: str, body: object, ts: float) -> list[MarketEvent]:
        """A products/symbols response extends the symbol map; Bitget books need no REST snapshot."""
        if ("/public/products" in url or "/public/symbols" in url) and isinstance(body, Mapping):
            self.symbols.update(BitgetSymbols.from_products(body))
        return []
