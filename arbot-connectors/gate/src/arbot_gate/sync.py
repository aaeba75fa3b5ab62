"""Gate.io spot book synchronisation on the core :class:`~arbot.connectors.booksync.BookSync`.

``spot.order_book_update`` + REST (official SDK procedure, ``shared/exchanges/gate.md`` §4b):
buffer the updates, fetch ``GET /spot/order_book?...&with_id=true`` (``id``), drop updates with
``u <= id``, refetch when the first remaining one has ``U > id + 1``, start from the one with
``U <= id + 1 <= u``, then any ``U > local + 1`` is a gap -- the core
:class:`~arbot.connectors.booksync.RangeRule`. ``spot.obu`` pushes its own ``full`` book (a
WebSocket snapshot whose id is ``u``) and then the same ``U``/``u`` continuity.

:class:`GateBookHandler` is shared by the live connector and the replay decoder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from arbot.components import MarketEvent
from arbot.connectors.booksync import BookSync, RangeRule
from arbot.connectors.symbols import SymbolMap
from arbot.events import TradeTick
from arbot.market import MarketState

from arbot_gate.messages import BookMsg, SnapshotMsg, TradeMsg
from arbot_gate.symbols import gate_symbols

__all__ = ["VENUE", "GateBookHandler"]

VENUE = "gate"


class GateBookHandler:
    """Decoded Gate records -> book changes (core ``BookSync`` + ``RangeRule``) and trades."""

    def __init__(
        self,
        market: MarketState,
        emit: Callable[[MarketEvent], None] | None,
        request_snapshot: Callable[[str], None] | None,
        *,
        symbols: SymbolMap | None = None,
        max_buffer: int = 10_000,
    ) -> None:
        self.sync = BookSync(VENUE, market, RangeRule(), emit=emit,
                             request_snapshot=request_snapshot, max_buffer=max_buffer)
        self.emit = emit
        self.symbols = symbols if symbols is not None else gate_symbols()
        self.updates = 0
        self.ws_snapshots = 0

    def records(self, records: Iterable[BookMsg | TradeMsg], ts: float) -> None:
        """Handle decoded records: book pushes (deltas or obu ``full`` books) and trades."""
        sync = self.sync
        for rec in records:
            if type(rec) is TradeMsg:
                if self.emit is not None:
                    self.emit(TradeTick(ts, VENUE, self.symbols.to_unified(rec.symbol),
                                        rec.price, rec.size, rec.side, rec.ts))
                continue
            assert isinstance(rec, BookMsg)
            sym = self.symbols.to_unified(rec.symbol)
            if rec.is_snapshot:
                self.ws_snapshots += 1
                sync.on_snapshot(sym, rec.last_id, rec.bids, rec.asks, ts, rec.ts)
            else:
                self.updates += 1
                sync.on_delta(sym, rec.first_id, rec.last_id, rec.bids, rec.asks, ts, rec.ts)

    def snapshot(self, snap: SnapshotMsg, ts: float) -> bool:
        """Apply one REST book (``with_id=true``); True when the book is live afterwards."""
        return self.sync.on_snapshot(self.symbols.to_unified(snap.symbol), snap.id, snap.bids,
                                     snap.asks, ts, snap.ts)
