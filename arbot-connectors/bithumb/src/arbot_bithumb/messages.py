"""Typed decoding of Bithumb WebSocket messages and the legacy REST order book.

Legacy socket (API 1.0, ``pubwss``): ``orderbookdepth`` (a list of per-level deltas, possibly
for several symbols; ``datetime`` in µs) and ``transaction`` (``buySellGb`` 1 = sell, 2 = buy;
``contDtm`` in KST). Current socket (``ws-api``, v1 message spec, DEFAULT format): ``orderbook``
(the full top-N book) and ``trade``. The records are core's: a current book is a FULL
:class:`~arbot.connectors.records.BookRecord`, a legacy ``orderbookdepth`` one DELTA per symbol
whose id is the message time in µs (the feed's only order), a legacy REST book a SNAPSHOT of
that id; trades are :class:`~arbot.connectors.records.TradeMsg`.
:func:`parse` takes JSON-decoded messages, :func:`decode` raw frames.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec
from arbot.connectors.records import BookKind, BookRecord, Control, Record, TradeMsg
from arbot.events import Side

__all__ = ["control", "decode", "epoch_seconds", "micros", "parse", "parse_rest_orderbook"]

_KST = timezone(timedelta(hours=9))


class _Depth(msgspec.Struct):
    symbol: str
    orderType: str  # noqa: N815 - venue field name
    price: float
    quantity: float


class _DepthContent(msgspec.Struct):
    items: list[_Depth] = msgspec.field(name="list")
    dt: int | None = msgspec.field(default=None, name="datetime")


class _DepthPush(msgspec.Struct):
    content: _DepthContent


class _Tx(msgspec.Struct):
    symbol: str
    buySellGb: str  # noqa: N815
    contPrice: float  # noqa: N815
    contQty: float  # noqa: N815
    contDtm: str = ""  # noqa: N815


class _TxContent(msgspec.Struct):
    items: list[_Tx] = msgspec.field(name="list")


class _TxPush(msgspec.Struct):
    content: _TxContent


class _Unit(msgspec.Struct):
    ask_price: float = 0.0
    bid_price: float = 0.0
    ask_size: float = 0.0
    bid_size: float = 0.0


class _Book(msgspec.Struct):
    code: str
    orderbook_units: list[_Unit]
    timestamp: int | str | None = None


class _Trade(msgspec.Struct):
    code: str
    trade_price: float
    trade_volume: float
    ask_bid: str
    trade_timestamp: int | str | None = None
    timestamp: int | str | None = None
    sequential_id: int | str = ""


class _Head(msgspec.Struct):
    type: str = ""
    status: str = ""
    error: Any = None


_TYPES: dict[str, type] = {"orderbookdepth": _DepthPush, "transaction": _TxPush,
                           "orderbook": _Book, "trade": _Trade}
_head_dec = msgspec.json.Decoder(_Head)
_decs: dict[str, msgspec.json.Decoder[Any]] = {
    k: msgspec.json.Decoder(t, strict=False) for k, t in _TYPES.items()
}


def epoch_seconds(value: float | int | str | None) -> float | None:
    """Venue timestamp (ms, or µs in newer messages; number or string) -> seconds."""
    if value in (None, ""):
        return None
    v = float(value)
    return v / 1e6 if v > 1e14 else v / 1e3


def micros(seconds: float | None) -> int:
    """Epoch seconds -> integer µs (the legacy feed's ``datetime`` unit); 0 when unknown."""
    return 0 if seconds is None else round(seconds * 1e6)


def _kst(text: str) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=_KST).timestamp()
    except ValueError:
        return None


def _side(ab: str) -> Side:
    return Side.BUY if ab == "BID" else Side.SELL


def _records(obj: Any) -> list[Record]:
    out: list[Record] = []
    if type(obj) is _Book:
        units = obj.orderbook_units
        bids = [(u.bid_price, u.bid_size) for u in units if u.bid_price > 0.0 and u.bid_size > 0.0]
        asks = [(u.ask_price, u.ask_size) for u in units if u.ask_price > 0.0 and u.ask_size > 0.0]
        out.append(BookRecord(obj.code, BookKind.FULL, bids, asks, ts=epoch_seconds(obj.timestamp)))
    elif type(obj) is _Trade:
        out.append(TradeMsg(obj.code, obj.trade_price, obj.trade_volume, _side(obj.ask_bid),
                            epoch_seconds(obj.trade_timestamp or obj.timestamp),
                            str(obj.sequential_id)))
    elif type(obj) is _DepthPush:
        ts = epoch_seconds(obj.content.dt)
        t = micros(ts)
        by_symbol: dict[str, BookRecord] = {}
        for d in obj.content.items:
            rec = by_symbol.get(d.symbol)
            if rec is None:
                rec = by_symbol[d.symbol] = BookRecord(d.symbol, BookKind.DELTA, [], [], t, t,
                                                       None, ts)
                out.append(rec)
            (rec.bids if d.orderType == "bid" else rec.asks).append((d.price, d.quantity))
    else:
        assert type(obj) is _TxPush
        for tx in obj.content.items:
            out.append(TradeMsg(tx.symbol, tx.contPrice, tx.contQty,
                                Side.BUY if tx.buySellGb == "2" else Side.SELL, _kst(tx.contDtm), ""))
    return out


def parse(msg: object) -> list[Record] | None:
    """Records of one JSON-decoded message; None for status messages, tickers and the rest."""
    if not isinstance(msg, dict):
        return None
    t = _TYPES.get(str(msg.get("type", "")))
    return None if t is None else _records(msgspec.convert(msg, t, strict=False))


def decode(raw: bytes | str) -> list[Record] | None:
    """Records of one raw frame (same result as ``parse(json.loads(raw))``)."""
    dec = _decs.get(_head_dec.decode(raw).type)
    return None if dec is None else _records(dec.decode(raw))


def control(raw: bytes | str) -> Control | None:
    """A frame without market data: an error reply, the ``{"status":"UP"}`` answer to
    ``PING``, another message type; None when it is not a Bithumb message."""
    h = _head_dec.decode(raw)
    if h.error is not None:
        return Control.ERROR
    if h.type:
        return Control.IGNORED
    return Control.PONG if h.status else None


class _RestLevel(msgspec.Struct):
    price: float
    quantity: float


class _RestData(msgspec.Struct):
    order_currency: str
    payment_currency: str
    bids: list[_RestLevel] = []
    asks: list[_RestLevel] = []
    timestamp: int | None = None


class _Rest(msgspec.Struct):
    data: _RestData


def parse_rest_orderbook(body: Any) -> BookRecord:
    """The legacy ``GET /public/orderbook/<BASE>_<QUOTE>`` body as a SNAPSHOT whose id is its
    time in µs."""
    d = msgspec.convert(body, _Rest, strict=False).data
    ts = epoch_seconds(d.timestamp)
    return BookRecord(f"{d.order_currency}_{d.payment_currency}", BookKind.SNAPSHOT,
                      [(x.price, x.quantity) for x in d.bids], [(x.price, x.quantity) for x in d.asks],
                      micros(ts), micros(ts), None, ts)
