"""Replay decoder for Bithumb captures: the legacy ``pubwss`` feed (``orderbookdepth`` +
``transaction``, REST ``/public/orderbook`` snapshots) and the current Upbit-style feed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from arbot.components import MarketEvent
from arbot.connectors.booksync import BookSync
from arbot.connectors.fullbook import FullBookReplayDecoder
from arbot.connectors.symbols import SymbolMap

from arbot_bithumb.messages import FullBookMsg, TradeMsg, parse, parse_rest_orderbook
from arbot_bithumb.symbols import add_ticker_all, bithumb_symbols
from arbot_bithumb.sync import LegacyBookHandler

__all__ = ["BithumbReplayDecoder"]


class BithumbReplayDecoder(FullBookReplayDecoder):
    """Bithumb messages -> events, one book per market (in :attr:`market`).

    Current ``orderbook`` messages follow the live connector's rules (full top-N books,
    :attr:`handler`). Legacy ``orderbookdepth`` deltas go through :attr:`legacy` (core
    ``BookSync`` with the message time as sequence): they are buffered until a REST
    snapshot completes the book -- no event comes from a partial book.
    """

    venue: ClassVar[str] = "bithumb"
    symbols_factory: ClassVar[Callable[[], SymbolMap]] = staticmethod(bithumb_symbols)

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self.legacy = LegacyBookHandler("bithumb", self.market, self._events.append,
                                        self.handler.symbols)

    @property
    def legacy_sync(self) -> BookSync:
        """The legacy feed's synchroniser (``stats``: snapshots, deltas, stale deltas)."""
        return self.legacy.sync

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """A legacy REST order book completes the book; ticker ALL bodies extend the symbols."""
        if "/public/ticker/ALL_" in url and isinstance(body, dict):
            add_ticker_all(self.symbols, body, url.rsplit("ALL_", 1)[1].split("?")[0])
            return []
        if "/public/orderbook/" in url and isinstance(body, dict):
            self.legacy.snapshot(parse_rest_orderbook(body), ts)
            return self.drain()
        return super().snapshot(url, body, ts)

    def feed(self, msg: Any, ts: float) -> list[MarketEvent]:
        """Events of one JSON-decoded message (either feed)."""
        records = parse(msg)
        if records is None:
            self.ignored += 1
            return []
        for rec in records:
            if isinstance(rec, FullBookMsg) and not rec.is_snapshot:
                self.legacy.delta(rec, ts)
            else:
                assert isinstance(rec, FullBookMsg | TradeMsg)
                self.handler.records([rec], ts)
        return self.drain()
