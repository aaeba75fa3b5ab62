"""Replay decoder for KuCoin captures: WS updates bridged to REST snapshots with the live
connector's own bootstrap."""

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

from arbot_kucoin.messages import parse, parse_snapshot
from arbot_kucoin.symbols import kucoin_symbols, symbols_from_body

__all__ = ["VENUE", "KucoinReplayDecoder", "kucoin_bootstrap", "read_rest"]

VENUE = "kucoin"


def kucoin_bootstrap(market: MarketState, emit: Callable[[MarketEvent], None] | None, *,
                     request: SnapshotRequest | None = None, symbols: SymbolMap | None = None,
                     retry_delay: float = 0.25) -> RestSnapshot:
    """KuCoin books: ``l2update`` deltas bridged to a REST level-2 book: drop
    ``sequenceEnd <= sequence``, apply ``sequenceStart <= local + 1`` (core ``RangeRule``);
    inside an update, entries already in the book (own sequence ``<= local``) are skipped."""
    return RestSnapshot(VENUE, market, emit, RangeRule(), request,
                        symbols=symbols if symbols is not None else kucoin_symbols(),
                        retry_delay=retry_delay)


def read_rest(url: str, body: object) -> BookRecord | SymbolMap | None:
    """A recorded level-2 snapshot or ``/symbols`` body."""
    if url.split("?", 1)[0].rstrip("/").endswith("/symbols") and isinstance(body, dict):
        return symbols_from_body(body)
    return parse_snapshot(url, body)


class KucoinReplayDecoder(RecordReplayDecoder):
    """KuCoin pushes and REST level-2 snapshots -> events (books in :attr:`market`).
    Updates received before a snapshot are buffered; a ``/symbols`` body extends the map."""

    venue: ClassVar[str] = "kucoin"

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(parse, lambda m, e: kucoin_bootstrap(m, e, symbols=symbols), read_rest)
