"""Replay decoder for KuCoin captures: WS updates synchronised against REST snapshots with the
live connector's own rules (:class:`~arbot_kucoin.sync.KucoinBookHandler`)."""

from __future__ import annotations

from typing import Any

from arbot.components import MarketEvent
from arbot.connectors.replay import HandlerReplayDecoder
from arbot.connectors.symbols import SymbolMap

from arbot_kucoin.messages import parse, parse_snapshot
from arbot_kucoin.symbols import symbols_from_body
from arbot_kucoin.sync import KucoinBookHandler

__all__ = ["KucoinReplayDecoder"]


class KucoinReplayDecoder(HandlerReplayDecoder):
    """Turns KuCoin pushes and REST level-2 snapshots into events (books in :attr:`market`).

    Updates received before a snapshot are buffered; a ``/symbols`` body extends the symbol
    map. ``ignored`` counts messages that are neither book updates nor trades.
    """

    parse = staticmethod(parse)

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__()
        self.handler = KucoinBookHandler(self.market, self.emit, None, symbols=symbols)

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """A REST level-2 book (``.../orderbook/level2*?symbol=``) or a ``/symbols`` body."""
        if url.split("?", 1)[0].rstrip("/").endswith("/symbols") and isinstance(body, dict):
            self.handler.symbols.update(symbols_from_body(body))
            return []
        return self.apply_snapshot(parse_snapshot(url, body), ts)
