"""Replay decoder for OKX captures: the live protocol's parser and the live bootstrap over
recorded messages (core :class:`~arbot.connectors.replay.RecordReplayDecoder`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from arbot.components import MarketEvent
from arbot.connectors.bootstrap import StreamSnapshot
from arbot.connectors.checksum import Crc32Checksum
from arbot.connectors.replay import RecordReplayDecoder
from arbot.market import MarketState

from arbot_okx import messages
from arbot_okx.symbols import OkxSymbols
from arbot_okx.sync import OkxSequenceRule, okx_checksum_applies

__all__ = ["OkxReplayDecoder", "okx_bootstrap"]


def okx_bootstrap(market: MarketState, emit: Callable[[MarketEvent], None] | None, *,
                  verify_checksum: bool = True) -> StreamSnapshot:
    """OKX books: snapshots on the stream, ``prevSeqId`` chaining, CRC32 where it applies."""
    return StreamSnapshot("okx", market, emit, OkxSequenceRule(), symbols=OkxSymbols(),
                          checksum=Crc32Checksum(okx_checksum_applies, verify_checksum))


class OkxReplayDecoder(RecordReplayDecoder):
    """Turns OKX v5 pushes into events with the live bootstrap. A gap or a checksum mismatch
    drops the book to "resyncing": its updates are discarded until the next snapshot."""

    venue: ClassVar[str] = "okx"

    def __init__(self, verify_checksum: bool = True) -> None:
        super().__init__(messages.parse,
                         lambda m, e: okx_bootstrap(m, e, verify_checksum=verify_checksum))

    def snapshot(self, url: str, body: object, ts: float) -> list[MarketEvent]:
        """An instruments response extends the symbol map; OKX books need no REST snapshot."""
        if "/public/instruments" in url and isinstance(body, Mapping):
            self.symbols.update(OkxSymbols.from_instruments(body))
        return []
