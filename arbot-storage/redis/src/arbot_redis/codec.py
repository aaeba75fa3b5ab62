"""Market events on the bus: compact msgpack arrays, one per stream entry.

A book travels as a full snapshot of the feed's book (top ``depth`` levels per side) right after
an update, so an engine that misses or re-reads an entry still holds an exact book (the codec
also carries deltas, ``snapshot`` false); a trade as itself; a health change as the book's new
state, so an engine stops trading a book its feed is resynchronising.
"""

from __future__ import annotations

from typing import Any

import msgspec
from arbot.events import BookUpdate, Side, TradeTick

__all__ = ["HealthChange", "decode", "encode_book", "encode_health", "encode_trade"]

_enc = msgspec.msgpack.Encoder()
_dec = msgspec.msgpack.Decoder()


class HealthChange(msgspec.Struct, frozen=True):
    """A book's health as the feed sees it (``live``, ``syncing``, ``resyncing``, ``stale``)."""

    ts: float
    venue: str
    symbol: str
    state: str


def encode_book(
    ts: float, venue: str, symbol: str, bids: Any, asks: Any, exchange_ts: float | None, snapshot: bool
) -> bytes:
    """One book entry (a full book or a delta): levels as lists of ``[price, qty]``."""
    return _enc.encode(("b", ts, venue, symbol, bids, asks, exchange_ts, snapshot))


def encode_trade(ev: TradeTick) -> bytes:
    """One trade entry."""
    return _enc.encode(("t", ev.ts, ev.venue, ev.symbol, ev.price, ev.size, ev.side.value, ev.exchange_ts))


def encode_health(change: HealthChange) -> bytes:
    """One health entry."""
    return _enc.encode(("h", change.ts, change.venue, change.symbol, change.state))


def decode(raw: bytes) -> BookUpdate | TradeTick | HealthChange:
    """An entry back to its event; ``ValueError`` names an unknown kind."""
    item = _dec.decode(raw)
    kind = item[0]
    if kind == "b":
        _, ts, venue, symbol, bids, asks, exchange_ts, snapshot = item
        return BookUpdate(ts, venue, symbol, bids, asks, snapshot, exchange_ts)
    if kind == "t":
        _, ts, venue, symbol, price, size, side, exchange_ts = item
        return TradeTick(ts, venue, symbol, price, size, Side(side), exchange_ts)
    if kind == "h":
        _, ts, venue, symbol, state = item
        return HealthChange(ts, venue, symbol, state)
    raise ValueError(f"unknown bus entry kind {kind!r}")
