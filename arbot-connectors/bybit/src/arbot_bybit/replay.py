"""Replay decoder for Bybit v5 captures: the live connector's handler over recorded pushes
(the decoding loop is core :class:`arbot.connectors.replay.StreamReplayDecoder`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from arbot.components import MarketEvent
from arbot.connectors.replay import StreamReplayDecoder

from arbot_bybit import messages
from arbot_bybit.handler import VENUE, BybitBookHandler
from arbot_bybit.symbols import BybitSymbols

__all__ = ["COUNTER_KEYS", "BybitReplayDecoder"]

COUNTER_KEYS = (
    "messages", "ignored", "book_snapshots", "book_updates", "trades", "gaps", "stale",
    "resyncs", "restarts", "dropped_unsynced", "crossed",
)


class BybitReplayDecoder(StreamReplayDecoder):
    """Turns Bybit v5 pushes into events with :class:`~arbot_bybit.handler.BybitBookHandler`
    (``depth`` picks the ``u`` rule: 500 and deeper strict, like the captured dump).

    A gap drops the book to "resyncing" (updates discarded until the next snapshot; live, the
    connector resubscribes). ``counters`` counts what happened.
    """

    venue = VENUE
    handler_class: ClassVar[Callable[..., Any]] = BybitBookHandler

    def __init__(self, symbols: BybitSymbols | None = None, depth: str | int = 500) -> None:
        super().__init__(symbols, depth=depth)

    @staticmethod
    def parse(msg: Any) -> list[Any] | None:
        """Records of one JSON-decoded Bybit push."""
        return messages.parse(msg)

    @property
    def counters(self) -> dict[str, int]:
        """What happened so far (keys: :data:`COUNTER_KEYS`)."""
        h, st = self.handler, self.sync.stats
        return dict(zip(COUNTER_KEYS, (
            self.messages, self.ignored, h.book_snapshots, h.book_updates, h.trades, st.gaps,
            st.stale_deltas, st.resyncs, h.restarts, h.dropped_unsynced, h.crossed), strict=True))

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """An instruments-info body extends the symbol map; books need no REST snapshot."""
        if "instruments-info" in url and isinstance(body, dict):
            self.symbols.update(BybitSymbols.from_instruments(body))
        return []
