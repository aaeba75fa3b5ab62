"""Replay decoder for Upbit captures (SIMPLE or DEFAULT format), with the live connector's
full-book bootstrap."""

from __future__ import annotations

from typing import ClassVar

from arbot.connectors.bootstrap import FullBook
from arbot.connectors.replay import RecordReplayDecoder
from arbot.connectors.symbols import SymbolMap

from arbot_upbit.messages import parse
from arbot_upbit.symbols import symbols_from_market_all, upbit_symbols

__all__ = ["UpbitReplayDecoder", "read_rest"]


def read_rest(url: str, body: object) -> SymbolMap | None:
    """A ``/v1/market/all`` body extends the symbol map (there are no REST snapshots)."""
    if "/market/all" in url and isinstance(body, list):
        return symbols_from_market_all(body)
    return None


class UpbitReplayDecoder(RecordReplayDecoder):
    """Upbit messages -> events; books in :attr:`market`. The first orderbook message of a
    market is its snapshot event; each later one a delta event (what changed in the top N);
    one older than the last applied one is dropped (``stale_books``)."""

    venue: ClassVar[str] = "upbit"

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(parse, lambda m, e: FullBook(
            "upbit", m, e, symbols=symbols if symbols is not None else upbit_symbols()), read_rest)
