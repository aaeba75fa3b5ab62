"""KuCoin ``/market/level2`` synchronisation on the core :class:`~arbot.connectors.booksync.BookSync`.

Calibration (``shared/exchanges/kucoin.md`` §5): buffer ``trade.l2update`` messages, fetch the
REST book (its ``sequence``), drop updates with ``sequenceEnd <= sequence``, apply an update
when ``sequenceStart <= local + 1`` and ``sequenceEnd > local`` -- the core
:class:`~arbot.connectors.booksync.RangeRule`. Inside an update, entries whose own sequence is
``<= local`` are already in the book and skipped (:func:`entry_applies`); an entry with price
``0`` only advances the sequence.

:class:`KucoinBookHandler` is shared by the live connector and the replay decoder, so both
apply the same rules.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from arbot.components import MarketEvent
from arbot.connectors.booksync import BookSync, RangeRule
from arbot.connectors.symbols import SymbolMap
from arbot.events import TradeTick
from arbot.market import MarketState

from arbot_kucoin.messages import BookMsg, SnapshotMsg, TradeMsg
from arbot_kucoin.symbols import kucoin_symbols

__all__ = ["VENUE", "KucoinBookHandler", "entry_applies", "entry_levels"]

VENUE = "kucoin"

Entries = list[tuple[float, float, int]]
Pairs = list[tuple[float, float]]


def entry_applies(price: float, entry_seq: int, floor: int) -> bool:
    """True when one ``changes`` entry must be applied to a book whose id is ``floor``."""
    return price > 0.0 and entry_seq > floor


def entry_levels(entries: Entries, floor: int) -> Pairs:
    """The ``(price, size)`` levels of ``entries`` not already contained in a book at ``floor``."""
    return [(p, q) for p, q, s in entries if p > 0.0 and s > floor]


class KucoinBookHandler:
    """Turns decoded KuCoin records into book changes (through the core ``BookSync`` with
    :class:`RangeRule`) and trades.

    Updates buffered before a snapshot keep their per-entry sequences here: when the snapshot
    arrives, the buffered level lists are filtered in place against its ``sequence``, so the
    bridging update only applies what the snapshot does not contain yet.
    """

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
        self.symbols = symbols if symbols is not None else kucoin_symbols()
        self.max_buffer = max_buffer
        self.updates = 0
        self.trades = 0
        self._held: dict[str, deque[tuple[BookMsg, Pairs, Pairs]]] = {}

    def records(self, records: Iterable[BookMsg | TradeMsg], ts: float) -> None:
        """Handle decoded records (book updates and trades)."""
        for rec in records:
            if type(rec) is TradeMsg:
                self.trade(rec, ts)
            else:
                assert isinstance(rec, BookMsg)
                self.update(rec, ts)

    def trade(self, t: TradeMsg, ts: float) -> None:
        """Emit one trade."""
        self.trades += 1
        if self.emit is not None:
            self.emit(TradeTick(ts, VENUE, self.symbols.to_unified(t.symbol), t.price, t.size,
                                t.side, t.ts))

    def update(self, rec: BookMsg, ts: float) -> bool:
        """Apply (or buffer) one ``l2update``; True when it changed the book."""
        self.updates += 1
        sym = self.symbols.to_unified(rec.symbol)
        sync = self.sync
        floor = (sync.book(sym).sequence or 0) if sync.is_live(sym) else 0
        bids = entry_levels(rec.bids, floor)
        asks = entry_levels(rec.asks, floor)
        applied = sync.on_delta(sym, rec.first_id, rec.last_id, bids, asks, ts, rec.ts)
        if not sync.is_live(sym):
            held = self._held.get(sym)
            if held is None:
                held = self._held[sym] = deque(maxlen=self.max_buffer)
            held.append((rec, bids, asks))
        return applied

    def snapshot(self, snap: SnapshotMsg, ts: float) -> bool:
        """Apply one REST level-2 book; True when the book is live afterwards."""
        sym = self.symbols.to_unified(snap.symbol)
        for rec, bids, asks in self._held.pop(sym, ()):
            bids[:] = entry_levels(rec.bids, snap.sequence)
            asks[:] = entry_levels(rec.asks, snap.sequence)
        return self.sync.on_snapshot(sym, snap.sequence, snap.bids, snap.asks, ts, snap.ts)

    def reset(self) -> None:
        """The connection was lost: drop every book (each waits for a new snapshot)."""
        self._held.clear()
        self.sync.drop_all()
