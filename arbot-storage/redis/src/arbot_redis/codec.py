"""Market events on the bus: compact msgpack arrays. A stream entry holds one event
(:func:`encode_book`, :func:`encode_trade`, :func:`encode_health`) or several packed into one
array of them (:func:`encode_many`; what the ``redis_bus`` sink writes).

A book travels as a full snapshot of the feed's book (top ``depth`` levels per side) right after
an update, so an engine that misses or re-reads an entry still holds an exact book (the codec
also carries deltas, ``snapshot`` false); a trade as itself; a health change as the book's new
state, so an engine stops trading a book its feed is resynchronising.
"""

from __future__ import annotations

from typing import Any

import msgspec
from arbot.events import BookUpdate, Side, TradeTick

__all__ = [
    "HealthChange",
    "book_item",
    "decode",
    "decode_many",
    "encode_book",
    "encode_health",
    "encode_many",
    "encode_trade",
    "health_item",
    "trade_item",
]

_enc = msgspec.msgpack.Encoder()
_dec = msgspec.msgpack.Decoder()


class HealthChange(msgspec.Struct, frozen=True):
    """A book's health as the feed sees it (``live``, ``syncing``, ``resyncing``, ``stale``)."""

    ts: float
    venue: str
    symbol: str
    state: str


def book_item(
    ts: float, venue: str, symbol: str, bids: Any, asks: Any, exchange_ts: float | None, snapshot: bool
) -> tuple[Any, ...]:
    """One book (a full book or a delta) as a plain tuple: levels as lists of ``[price, qty]``."""
    return ("b", ts, venue, symbol, bids, asks, exchange_ts, snapshot)


def trade_item(ev: TradeTick) -> tuple[Any, ...]:
    """One trade as a plain tuple."""
    return (
        "t",
        ev.ts,
        ev.venue,
        ev.symbol,
        ev.price,
        ev.size,
        ev.side,
        ev.exchange_ts,
    )  # a StrEnum: its value


def health_item(change: HealthChange) -> tuple[Any, ...]:
    """One health change as a plain tuple."""
    return ("h", change.ts, change.venue, change.symbol, change.state)


def encode_book(
    ts: float, venue: str, symbol: str, bids: Any, asks: Any, exchange_ts: float | None, snapshot: bool
) -> bytes:
    """One book entry (a full book or a delta): levels as lists of ``[price, qty]``."""
    return _enc.encode(book_item(ts, venue, symbol, bids, asks, exchange_ts, snapshot))


def encode_trade(ev: TradeTick) -> bytes:
    """One trade entry."""
    return _enc.encode(trade_item(ev))


def encode_health(change: HealthChange) -> bytes:
    """One health entry."""
    return _enc.encode(health_item(change))


def encode_many(items: list[tuple[Any, ...]]) -> bytes:
    """Several items (from :func:`book_item`, :func:`trade_item`, :func:`health_item`) in one
    payload: a packed stream entry."""
    return _enc.encode(items)


_SIDES = {side.value: side for side in Side}


def _event(item: list[Any]) -> BookUpdate | TradeTick | HealthChange:
    kind = item[0]
    if kind == "b":
        _, ts, venue, symbol, bids, asks, exchange_ts, snapshot = item
        return BookUpdate(ts, venue, symbol, bids, asks, snapshot, exchange_ts)
    if kind == "t":
        _, ts, venue, symbol, price, size, side, exchange_ts = item
        return TradeTick(ts, venue, symbol, price, size, _SIDES[side], exchange_ts)
    if kind == "h":
        _, ts, venue, symbol, state = item
        return HealthChange(ts, venue, symbol, state)
    raise ValueError(f"unknown bus entry kind {kind!r}")


def decode(raw: bytes) -> BookUpdate | TradeTick | HealthChange:
    """An entry of one event back to its event; ``ValueError`` names an unknown kind."""
    return _event(_dec.decode(raw))


def decode_many(raw: bytes) -> list[BookUpdate | TradeTick | HealthChange]:
    """A packed entry (:func:`encode_many`) back to its events, in order."""
    return [_event(item) for item in _dec.decode(raw)]
