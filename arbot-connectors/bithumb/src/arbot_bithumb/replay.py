"""Replay decoder for Bithumb captures: the legacy ``pubwss`` feed (``orderbookdepth`` +
``transaction``, REST ``/public/orderbook`` snapshots) and the current Upbit-style feed, with
the live connector's full-book bootstrap (the legacy deltas through its time-order rule)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from arbot.connectors.booksync import BookSync
from arbot.connectors.bootstrap import FullBook
from arbot.connectors.records import BookRecord
from arbot.connectors.replay import RecordReplayDecoder
from arbot.connectors.symbols import SymbolMap

from arbot_bithumb.messages import parse, parse_rest_orderbook
from arbot_bithumb.symbols import add_ticker_all, bithumb_symbols
from arbot_bithumb.sync import TimeOrderRule

__all__ = ["BithumbReplayDecoder", "read_rest"]


def read_rest(url: str, body: object) -> BookRecord | SymbolMap | None:
    """A legacy REST order book (a snapshot) or a ``/public/ticker/ALL_<quote>`` body."""
    if "/public/ticker/ALL_" in url and isinstance(body, Mapping):
        symbols = bithumb_symbols()
        add_ticker_all(symbols, body, url.rsplit("ALL_", 1)[1].split("?")[0])
        return symbols
    if "/public/orderbook/" in url and isinstance(body, Mapping):
        return parse_rest_orderbook(body)
    return None


class BithumbReplayDecoder(RecordReplayDecoder):
    """Bithumb messages -> events, one book per market (in :attr:`market`).

    Current ``orderbook`` messages follow the live rules (full top-N books). Legacy
    ``orderbookdepth`` deltas carry their message time as sequence id: they are buffered until
    a REST snapshot completes the book -- no event comes from a partial book.
    """

    venue: ClassVar[str] = "bithumb"

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(parse, lambda m, e: FullBook(
            "bithumb", m, e, TimeOrderRule(),
            symbols=symbols if symbols is not None else bithumb_symbols()), read_rest)

    @property
    def legacy_sync(self) -> BookSync:
        """The synchroniser the legacy deltas go through (the same one)."""
        return self.sync
