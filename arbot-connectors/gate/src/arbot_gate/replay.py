"""Replay decoder for Gate.io captures, with the live connector's own rules
(:class:`~arbot_gate.sync.GateBookHandler`)."""

from __future__ import annotations

from typing import Any

from arbot.components import MarketEvent
from arbot.connectors.replay import HandlerReplayDecoder
from arbot.connectors.symbols import SymbolMap

from arbot_gate.messages import parse, parse_snapshot
from arbot_gate.symbols import symbols_from_pairs
from arbot_gate.sync import GateBookHandler

__all__ = ["GateReplayDecoder"]


class GateReplayDecoder(HandlerReplayDecoder):
    """Gate.io pushes and REST ``order_book`` snapshots -> events (books in :attr:`market`).

    A ``/spot/currency_pairs`` body extends the symbol map; ``ignored`` counts acks, tickers
    and the rest.
    """

    parse = staticmethod(parse)

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__()
        self.handler = GateBookHandler(self.market, self.emit, None, symbols=symbols)

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """A REST book (``/spot/order_book?currency_pair=``) or a currency-pairs body."""
        if "/spot/currency_pairs" in url and isinstance(body, list):
            self.handler.symbols.update(symbols_from_pairs(body))
            return []
        return self.apply_snapshot(parse_snapshot(url, body), ts)
