"""Replay decoder for Gate.io captures, with the live connector's own rules
(:class:`~arbot_gate.sync.GateBookHandler`)."""

from __future__ import annotations

from typing import Any

from arbot.components import MarketEvent, ReplayDecoder
from arbot.connectors.booksync import BookSync
from arbot.connectors.symbols import SymbolMap
from arbot.market import MarketState

from arbot_gate.messages import parse, parse_snapshot
from arbot_gate.symbols import symbols_from_pairs
from arbot_gate.sync import GateBookHandler

__all__ = ["GateReplayDecoder"]


class GateReplayDecoder(ReplayDecoder):
    """Gate.io pushes and REST ``order_book`` snapshots -> events (books in :attr:`market`).

    A ``/spot/currency_pairs`` body extends the symbol map; ``ignored`` counts acks, tickers
    and the rest.
    """

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        self.market = MarketState()
        self._events: list[MarketEvent] = []
        self.handler = GateBookHandler(self.market, self._events.append, None, symbols=symbols)
        self.ignored = 0

    @property
    def sync(self) -> BookSync:
        """The book synchroniser (``stats``: snapshots, deltas, gaps, resyncs)."""
        return self.handler.sync

    @property
    def symbols(self) -> SymbolMap:
        """The venue id <-> unified symbol map."""
        return self.handler.symbols

    def _drain(self) -> list[MarketEvent]:
        events = list(self._events)
        self._events.clear()
        return events

    def feed(self, msg: Any, ts: float) -> list[MarketEvent]:
        """Events of one JSON-decoded push."""
        records = parse(msg)
        if records is None:
            self.ignored += 1
            return []
        self.handler.records(records, ts)
        return self._drain()

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """A REST book (``/spot/order_book?currency_pair=``) or a currency-pairs body."""
        if "/spot/currency_pairs" in url and isinstance(body, list):
            self.handler.symbols.update(symbols_from_pairs(body))
            return []
        snap = parse_snapshot(url, body)
        if snap is None:
            self.ignored += 1
            return []
        self.handler.snapshot(snap, ts)
        return self._drain()
