"""Replay decoder for KuCoin captures: WS updates synchronised against REST snapshots with the
live connector's own rules (:class:`~arbot_kucoin.sync.KucoinBookHandler`)."""

from __future__ import annotations

from typing import Any

from arbot.components import MarketEvent, ReplayDecoder
from arbot.connectors.booksync import BookSync
from arbot.connectors.symbols import SymbolMap
from arbot.market import MarketState

from arbot_kucoin.messages import parse, parse_snapshot
from arbot_kucoin.symbols import symbols_from_body
from arbot_kucoin.sync import KucoinBookHandler

__all__ = ["KucoinReplayDecoder"]


class KucoinReplayDecoder(ReplayDecoder):
    """Turns KuCoin pushes and REST level-2 snapshots into events (books in :attr:`market`).

    Updates received before a snapshot are buffered; a ``/symbols`` body extends the symbol
    map. ``ignored`` counts messages that are neither book updates nor trades.
    """

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        self.market = MarketState()
        self._out: list[MarketEvent] = []
        self.handler = KucoinBookHandler(self.market, self._out.append, None, symbols=symbols)
        self.ignored = 0

    @property
    def sync(self) -> BookSync:
        """The book synchroniser (its ``stats`` count snapshots, gaps, resyncs)."""
        return self.handler.sync

    @property
    def symbols(self) -> SymbolMap:
        """The venue id <-> unified symbol map."""
        return self.handler.symbols

    def _take(self) -> list[MarketEvent]:
        out, self._out = self._out, []
        self.handler.emit = self.handler.sync.emit = self._out.append
        return out

    def feed(self, msg: Any, ts: float) -> list[MarketEvent]:
        """Events of one JSON-decoded message."""
        records = parse(msg)
        if records is None:
            self.ignored += 1
            return []
        self.handler.records(records, ts)
        return self._take()

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """A REST level-2 book (``.../orderbook/level2*?symbol=``) or a ``/symbols`` body."""
        if url.split("?", 1)[0].rstrip("/").endswith("/symbols") and isinstance(body, dict):
            self.handler.symbols.update(symbols_from_body(body))
            return []
        snap = parse_snapshot(url, body)
        if snap is None:
            self.ignored += 1
            return []
        self.handler.snapshot(snap, ts)
        return self._take()
