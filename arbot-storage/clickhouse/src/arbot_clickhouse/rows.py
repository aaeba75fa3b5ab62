"""Rows of the TRD §4.2 tables, made from market events as they pass (book snapshots at an
interval and depth, every trade, spreads between configured venue pairs)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from operator import itemgetter
from typing import NamedTuple

from arbot_clickhouse.backends import Columns
from arbot_clickhouse.schema import TABLE_COLUMNS

__all__ = ["TABLE_OF", "BookRow", "Row", "SpreadRow", "TradeRow", "TradeTuple", "columns_of"]

Levels = list[tuple[float, float]]


class BookRow(NamedTuple):
    """A row of ``orderbook_snapshots`` (``seq``: its number among the sink's rows, not stored)."""

    seq: int
    timestamp: float
    exchange: str
    symbol: str
    bids: Levels
    asks: Levels
    mid_price: float
    spread: float


class TradeRow(NamedTuple):
    """A row of ``tick_trades`` (``seq``: its number among the sink's rows, not stored)."""

    seq: int
    timestamp: float
    exchange: str
    symbol: str
    price: float
    quantity: float
    side: str


class SpreadRow(NamedTuple):
    """A row of ``spread_history``: mids of both venues, their difference and the best
    executable spread net of both taker fees (buy on one venue's ask, sell on the other's bid,
    whichever direction pays more), all in percent. ``seq``: its number among the sink's rows,
    not stored."""

    seq: int
    timestamp: float
    symbol: str
    exchange_a: str
    exchange_b: str
    price_a: float
    price_b: float
    spread_pct: float
    net_spread_pct: float


#: A trade row as the sink queues it: the fields of :class:`TradeRow` in a plain ``tuple``. The
#: garbage collector stops tracking an exact tuple of numbers and strings after its first
#: collection, never a NamedTuple's; a burst of queued trades as NamedTuples is walked again by
#: every full collection (measured: most of the time of a million-trade burst).
TradeTuple = tuple[int, float, str, str, float, float, str]

Row = BookRow | TradeRow | SpreadRow | TradeTuple
TABLE_OF: dict[type, str] = {
    BookRow: "orderbook_snapshots",
    TradeRow: "tick_trades",
    tuple: "tick_trades",
    SpreadRow: "spread_history",
}


def book_row(seq: int, ts: float, venue: str, symbol: str, bids: Levels, asks: Levels) -> BookRow:
    """A snapshot row with mid and absolute spread (NaN when a side is empty)."""
    if bids and asks:
        bid, ask = bids[0][0], asks[0][0]
        return BookRow(seq, ts, venue, symbol, bids, asks, (bid + ask) / 2.0, ask - bid)
    return BookRow(seq, ts, venue, symbol, bids, asks, math.nan, math.nan)


def spread_row(
    seq: int,
    ts: float,
    symbol: str,
    a: str,
    b: str,
    top_a: tuple[float, float],
    top_b: tuple[float, float],
    fees_pct: float,
) -> SpreadRow:
    """The spread row of venues ``a`` and ``b`` from their (bid, ask); ``fees_pct`` is the sum of
    both taker fees in percent."""
    bid_a, ask_a = top_a
    bid_b, ask_b = top_b
    mid_a = (bid_a + ask_a) / 2.0
    mid_b = (bid_b + ask_b) / 2.0
    gross = (mid_b - mid_a) / mid_a * 100.0
    best = max((bid_b - ask_a) / ask_a, (bid_a - ask_b) / ask_b) * 100.0
    return SpreadRow(seq, ts, symbol, a, b, mid_a, mid_b, gross, best - fees_pct)


def columns_of(table: str, rows: Sequence[Row]) -> Columns:
    """Rows of one table as columns, without ``seq``: one ``map(itemgetter(i), rows)`` pass per
    column, in C.

    Not ``zip(*rows)``: that makes one iterator object per row, tracked by the garbage collector,
    and 50 000 of them at once trigger full collections that walk every object alive (the sink's
    whole queue of rows) -- measured at a fifth of the speed of this under load.
    """
    names = TABLE_COLUMNS[table]
    return {name: list(map(itemgetter(i), rows)) for i, name in enumerate(names, start=1)}
