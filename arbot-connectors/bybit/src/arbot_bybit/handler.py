"""The Bybit book handler shared by the live connector and the capture replay decoder:
``orderbook.{depth}`` records through core :class:`~arbot.connectors.booksync.BookSync`
(rule :class:`~arbot_bybit.sync.BybitSequenceRule`), ``publicTrade`` records as trades."""

from __future__ import annotations

from collections.abc import Callable

from arbot.components import MarketEvent
from arbot.connectors.booksync import BookSync
from arbot.connectors.ws import GarbageFrame
from arbot.events import TradeTick
from arbot.market import MarketState

from arbot_bybit.messages import BookMsg, TradeMsg, control_of, decode
from arbot_bybit.symbols import BybitSymbols
from arbot_bybit.sync import BybitSequenceRule

__all__ = ["VENUE", "BybitBookHandler"]

VENUE = "bybit"


class BybitBookHandler:
    """Books and trades of Bybit v5 public streams.

    A ``snapshot`` (sent after each subscribe, or at any time by Bybit) and a message with
    ``u == 1`` (service restart) replace the book; deltas chain by ``u``. A gap asks
    ``request_snapshot(symbol)`` (live: resubscribe the topic). Deltas for a book that is not
    live are dropped (``dropped_unsynced``): its snapshot comes on the same stream.
    """

    def __init__(
        self,
        market: MarketState,
        emit: Callable[[MarketEvent], None] | None,
        request_snapshot: Callable[[str], None] | None,
        *,
        symbols: BybitSymbols | None = None,
        depth: str | int = 1000,
    ) -> None:
        self.emit = emit
        self.symbols = symbols if symbols is not None else BybitSymbols()
        self.sync = BookSync(VENUE, market, BybitSequenceRule.for_depth(depth), emit=emit,
                             request_snapshot=request_snapshot)
        self.book_snapshots = self.book_updates = self.restarts = self.trades = 0
        self.dropped_unsynced = self.crossed = self.errors = self.pongs = 0

    def frame(self, raw: str | bytes, ts: float) -> str:
        """Handle one raw frame; returns ``"data"`` or the control ``op`` (``"pong"``,
        ``"subscribe"``...). Raises :class:`GarbageFrame` (or a decode error) otherwise."""
        records = decode(raw)
        if records is not None:
            self.records(records, ts)
            return "data"
        control = control_of(raw)
        if control is None:
            raise GarbageFrame("not a Bybit message")
        op, success = control
        self.pongs += op == "pong"
        self.errors += not success
        return op if success else "error"

    def records(self, records: list[BookMsg | TradeMsg], ts: float) -> None:
        """Apply decoded records."""
        for rec in records:
            if type(rec) is TradeMsg:
                self.trades += 1
                if self.emit is not None:
                    self.emit(TradeTick(ts, VENUE, self.symbols.to_unified(rec.symbol),
                                        rec.price, rec.size, rec.side, rec.ts))
                continue
            assert isinstance(rec, BookMsg)
            symbol = self.symbols.to_unified(rec.symbol)
            sync = self.sync
            if rec.is_snapshot or rec.u == 1:
                self.book_snapshots += 1
                self.restarts += rec.u == 1
                applied = sync.on_snapshot(symbol, rec.u, rec.bids, rec.asks, ts, rec.ts)
            else:
                self.book_updates += 1
                if not sync.is_live(symbol):
                    self.dropped_unsynced += 1
                    continue
                applied = sync.on_delta(symbol, rec.u, rec.u, rec.bids, rec.asks, ts, rec.ts)
            if applied and sync.book(symbol).is_crossed:
                self.crossed += 1
