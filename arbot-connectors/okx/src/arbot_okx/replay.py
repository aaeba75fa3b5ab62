"""Replay decoder for OKX captures: the live connector's handler over recorded messages
(the decoding loop is core :class:`~arbot.connectors.replay.StreamReplayDecoder`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from arbot.components import MarketEvent
from arbot.connectors.replay import COUNTER_KEYS, StreamReplayDecoder

from arbot_okx import messages
from arbot_okx.handler import VENUE, OkxBookHandler
from arbot_okx.symbols import OkxSymbols

__all__ = ["COUNTER_KEYS", "OkxReplayDecoder"]


class OkxReplayDecoder(StreamReplayDecoder):
    """Turns OKX v5 pushes into events with :class:`~arbot_okx.handler.OkxBookHandler`.

    A gap or a checksum mismatch drops the book to "resyncing": its updates are discarded until
    the next snapshot (live, the connector resubscribes to get one). ``counters`` counts what
    happened (keys: :data:`COUNTER_KEYS`); ``books`` holds the books by unified symbol.
    Options go to the handler (``verify_checksum``).
    """

    venue = VENUE
    handler_class: ClassVar[Callable[..., Any]] = OkxBookHandler

    @staticmethod
    def parse(msg: Any) -> list[Any] | None:
        """Records of one JSON-decoded message (None: not book or trade data)."""
        return messages.parse(msg)

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """An instruments response extends the symbol map; OKX books need no REST snapshot."""
        if "/public/instruments" in url and isinstance(body, Mapping):
            self.symbols.update(OkxSymbols.from_instruments(body))
        return []
