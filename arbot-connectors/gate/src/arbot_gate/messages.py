"""Typed decoding of Gate.io v4 spot pushes and REST order-book snapshots.

Handles ``spot.order_book_update`` (legacy deltas, ``U``/``u``), ``spot.obu`` (Order Book V2:
``full`` snapshot then ``U``/``u`` deltas, ``s`` = ``ob.<PAIR>.<level>``) and ``spot.trades``
(``result`` an object or a list). :func:`parse` takes JSON-decoded messages, :func:`decode` raw
bytes; :func:`parse_snapshot` the body of ``GET /spot/order_book?with_id=true``. The records
are core's: :class:`~arbot.connectors.records.BookRecord` (``first``/``last`` = ``U``/``u``;
an obu ``full`` book and a REST book are SNAPSHOTs of id ``u`` / ``id``) and
:class:`~arbot.connectors.records.TradeMsg`.
"""

from __future__ import annotations

from typing import Any

import msgspec
from arbot.connectors.records import BookKind, BookRecord, Record, TradeMsg
from arbot.events import Side

__all__ = ["Head", "decode", "head", "parse", "parse_snapshot"]


class _Book(msgspec.Struct):
    s: str
    u: int
    U: int | None = None
    b: list[tuple[float, float]] = []
    a: list[tuple[float, float]] = []
    t: int | None = None
    full: bool = False


class _Trade(msgspec.Struct):
    currency_pair: str
    price: float
    amount: float
    side: str
    id: int | str = ""
    create_time_ms: float | None = None
    create_time: float | None = None


class _BookPush(msgspec.Struct):
    result: _Book
    channel: str = ""


class _TradePush(msgspec.Struct):
    result: _Trade | list[_Trade]


class _RestBook(msgspec.Struct):
    id: int
    bids: list[tuple[float, float]] = []
    asks: list[tuple[float, float]] = []
    current: int | None = None


class _Head(msgspec.Struct):
    channel: str = ""
    event: str = ""
    error: Any = None


class Head(msgspec.Struct, gc=False):
    """The routing fields of a raw frame (``channel``, ``event``, ``error``)."""

    channel: str
    event: str
    error: Any


_head_dec = msgspec.json.Decoder(_Head)
_book_dec = msgspec.json.Decoder(_BookPush, strict=False)
_trade_dec = msgspec.json.Decoder(_TradePush, strict=False)
_BOOK_CHANNELS = frozenset({"spot.order_book_update", "spot.obu"})


def _book(push: _BookPush) -> BookRecord:
    r = push.result
    sym = r.s
    if sym.startswith("ob."):
        sym = sym.split(".")[1]
    first = r.U if r.U is not None else r.u
    return BookRecord(sym, BookKind.SNAPSHOT if r.full else BookKind.DELTA, r.b, r.a, first, r.u,
                      None, r.t / 1000.0 if r.t else None)


def _trades(push: _TradePush) -> list[Record]:
    items = push.result if isinstance(push.result, list) else [push.result]
    out: list[Record] = []
    for t in items:
        ts = t.create_time_ms / 1000.0 if t.create_time_ms else t.create_time
        out.append(TradeMsg(t.currency_pair, t.price, t.amount,
                            Side.BUY if t.side == "buy" else Side.SELL, ts, str(t.id)))
    return out


def parse(msg: Any) -> list[Record] | None:
    """Records of one JSON-decoded message; None for acks, tickers, candles and the rest."""
    if not isinstance(msg, dict) or msg.get("event") != "update":
        return None
    channel = msg.get("channel")
    if channel in _BOOK_CHANNELS:
        return [_book(msgspec.convert(msg, _BookPush, strict=False))]
    if channel == "spot.trades":
        return _trades(msgspec.convert(msg, _TradePush, strict=False))
    return None


def decode(raw: bytes | str) -> list[Record] | None:
    """Records of one raw frame (same result as ``parse(json.loads(raw))``)."""
    head = _head_dec.decode(raw)
    if head.event != "update":
        return None
    if head.channel in _BOOK_CHANNELS:
        return [_book(_book_dec.decode(raw))]
    if head.channel == "spot.trades":
        return _trades(_trade_dec.decode(raw))
    return None


def head(raw: bytes | str) -> Head:
    """The routing fields of a raw frame; raises a decode error when it is not JSON."""
    h = _head_dec.decode(raw)
    return Head(h.channel, h.event, h.error)


def parse_snapshot(url: str, body: Any) -> BookRecord | None:
    """The REST book of ``/spot/order_book?currency_pair=...&with_id=true``; None otherwise."""
    if "/spot/order_book" not in url or "currency_pair=" not in url:
        return None
    pair = url.split("currency_pair=", 1)[1].split("&", 1)[0]
    b = msgspec.convert(body, _RestBook, strict=False)
    return BookRecord(pair, BookKind.SNAPSHOT, b.bids, b.asks, b.id, b.id, None,
                      b.current / 1000.0 if b.current else None)
