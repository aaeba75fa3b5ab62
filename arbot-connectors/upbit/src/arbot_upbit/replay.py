"""Replay decoder for Upbit captures (SIMPLE or DEFAULT format), with the live connector's
rules (:class:`~arbot_upbit.sync.TopBookHandler`)."""

from __future__ import annotations

from typing import Any

from arbot.components import MarketEvent, ReplayDecoder
from arbot.connectors.booksync import BookSync
from arbot.connectors.symbols import SymbolMap
from arbot.market import MarketState

from arbot_upbit.messages import parse
from arbot_upbit.symbols import to_unified
from arbot_upbit.sync import TopBookHandler

__all__ = ["UpbitReplayDecoder"]


class UpbitReplayDecoder(ReplayDecoder):
    """Upbit messages -> events; books in :attr:`market` (``venue`` names them: Bithumb's
    current API speaks the same messages).

    The first orderbook message of a market is its snapshot event; each later one becomes a
    delta event (what changed in the top N). A message older than the last applied one of the
    same market is dropped (``handler.stale``). ``ignored`` counts tickers and the rest.
    """

    def __init__(self, symbols: SymbolMap | None = None, venue: str = "upbit") -> None:
        self.market = MarketState()
        self._events: list[MarketEvent] = []
        self.handler = TopBookHandler(venue, self.market, self._events.append, symbols=symbols)
        self.ignored = 0

    @property
    def sync(self) -> BookSync:
        """The book synchroniser (``stats``: snapshots, deltas, resyncs)."""
        return self.handler.sync

    @property
    def symbols(self) -> SymbolMap:
        """Market code <-> unified symbol map."""
        return self.handler.symbols

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """A ``/v1/market/all`` body extends the symbol map (there are no REST snapshots)."""
        if "/market/all" in url and isinstance(body, list):
            for m in body:
                self.handler.symbols.add(str(m["market"]), to_unified(str(m["market"])))
        return []

    def feed(self, msg: Any, ts: float) -> list[MarketEvent]:
        """Events of one JSON-decoded message."""
        records = parse(msg)
        if records is None:
            self.ignored += 1
            return []
        self.handler.records(records, ts)
        events = list(self._events)
        self._events.clear()
        return events
