"""Replay decoder for Gate.io captures, with the live connector's own bootstrap."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from arbot.components import MarketEvent
from arbot.connectors.booksync import RangeRule
from arbot.connectors.bootstrap import RestSnapshot, SnapshotRequest
from arbot.connectors.records import BookRecord
from arbot.connectors.replay import RecordReplayDecoder
from arbot.connectors.symbols import SymbolMap
from arbot.market import MarketState

from arbot_gate.messages import parse, parse_snapshot
from arbot_gate.symbols import gate_symbols, symbols_from_pairs

__all__ = ["VENUE", "GateReplayDecoder", "gate_bootstrap", "read_rest"]

VENUE = "gate"


def gate_bootstrap(market: MarketState, emit: Callable[[MarketEvent], None] | None, *,
                   request: SnapshotRequest | None = None, symbols: SymbolMap | None = None,
                   retry_delay: float = 0.25) -> RestSnapshot:
    """Gate books: ``spot.order_book_update`` deltas bridged to a REST book (``with_id``):
    drop ``u <= id``, start from ``U <= id + 1 <= u``, then no holes (core ``RangeRule``);
    a ``spot.obu`` ``full`` book is a stream snapshot of id ``u``."""
    return RestSnapshot(VENUE, market, emit, RangeRule(), request,
                        symbols=symbols if symbols is not None else gate_symbols(),
                        retry_delay=retry_delay)


def read_rest(url: str, body: object) -> BookRecord | SymbolMap | None:
    """A recorded ``/spot/order_book`` snapshot or ``/spot/currency_pairs`` body."""
    if "/spot/currency_pairs" in url and isinstance(body, list):
        return symbols_from_pairs(body)
    return parse_snapshot(url, body)


class GateReplayDecoder(RecordReplayDecoder):
    """Gate.io pushes and REST ``order_book`` snapshots -> events (books in :attr:`market`).
    A ``/spot/currency_pairs`` body extends the symbol map."""

    venue: ClassVar[str] = "gate"

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(parse, lambda m, e: gate_bootstrap(m, e, symbols=symbols), read_rest)
