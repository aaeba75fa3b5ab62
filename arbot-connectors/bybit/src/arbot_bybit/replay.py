"""Replay decoder for Bybit v5 captures: the live protocol's parser and the live bootstrap
over recorded pushes (core :class:`~arbot.connectors.replay.RecordReplayDecoder`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from arbot.components import MarketEvent
from arbot.connectors.bootstrap import StreamSnapshot
from arbot.connectors.replay import RecordReplayDecoder
from arbot.market import MarketState

from arbot_bybit import messages
from arbot_bybit.symbols import BybitSymbols
from arbot_bybit.sync import BybitSequenceRule

__all__ = ["BybitReplayDecoder", "bybit_bootstrap"]


def bybit_bootstrap(market: MarketState, emit: Callable[[MarketEvent], None] | None, *,
                    depth: str | int = 1000, category: str = "spot") -> StreamSnapshot:
    """Bybit books of one category: snapshots on the stream, ``u`` chaining (strict from
    500 levels), ``u == 1`` replaces the book."""
    return StreamSnapshot("bybit", market, emit, BybitSequenceRule.for_depth(depth),
                          symbols=BybitSymbols(category=category))


class BybitReplayDecoder(RecordReplayDecoder):
    """Turns Bybit v5 pushes of one ``category`` into events with the live bootstrap
    (``depth`` picks the ``u`` rule: 500 and deeper strict). A linear capture's books are
    ``BASE/QUOTE:SETTLE``, never the spot symbol."""

    venue: ClassVar[str] = "bybit"

    def __init__(self, depth: str | int = 500, category: str = "spot") -> None:
        super().__init__(messages.parse,
                         lambda m, e: bybit_bootstrap(m, e, depth=depth, category=category))
        self.category = category

    def snapshot(self, url: str, body: object, ts: float) -> list[MarketEvent]:
        """An instruments-info body extends the symbol map; books need no REST snapshot."""
        if "instruments-info" in url and isinstance(body, dict):
            self.symbols.update(BybitSymbols.from_instruments(body, self.category))
        return []
