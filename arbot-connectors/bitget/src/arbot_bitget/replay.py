"""Replay decoder for Bitget captures: the live connector's handler over recorded messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from arbot.components import MarketEvent
from arbot.connectors.replay import COUNTER_KEYS, StreamReplayDecoder

from arbot_bitget import messages
from arbot_bitget.handler import VENUE, BitgetBookHandler
from arbot_bitget.symbols import BitgetSymbols

__all__ = ["COUNTER_KEYS", "BitgetReplayDecoder"]


class BitgetReplayDecoder(StreamReplayDecoder):
    """Turns Bitget spot (v1/v2) pushes into events with
    :class:`~arbot_bitget.handler.BitgetBookHandler`.

    A checksum mismatch (which is how a lost update shows) drops the book to "resyncing": its
    updates are discarded until the next snapshot (live, the connector resubscribes to get
    one). ``counters`` counts what happened; ``books`` holds the books by unified symbol.
    """

    venue = VENUE
    handler_class: ClassVar[Callable[..., Any]] = BitgetBookHandler

    @staticmethod
    def parse(msg: Any) -> list[Any] | None:
        """Records of one JSON-decoded Bitget message."""
        return messages.parse(msg)

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """A products/symbols response extends the symbol map; Bitget books need no REST snapshot."""
        if ("/public/products" in url or "/public/symbols" in url) and isinstance(body, Mapping):
            self.symbols.update(BitgetSymbols.from_products(body))
        return []
