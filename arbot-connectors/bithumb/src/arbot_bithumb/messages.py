"""Typed decoding of Bithumb WebSocket messages and the legacy REST order book.

Legacy socket: ``orderbookdepth`` (a list of per-level deltas, possibly for several symbols;
``datetime`` in µs) and ``transaction`` (``buySellGb`` 1 = sell, 2 = buy; ``contDtm`` in KST).
Current socket (Upbit-style DEFAULT format): ``orderbook`` (full book) and ``trade``.
:func:`parse` takes JSON-decoded messages, :func:`decode` raw bytes.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec
from arbot.events import Side

from arbot_bithumb.sync import epoch_seconds

__all__ = ["BookMsg", "TradeMsg", "decode", "parse", "parse_rest_orderbook"]

_KST = timezone(timedelta(hours=9))


class BookMsg(msgspec.Struct, gc=False):
    """Book levels of one symbol: a delta (legacy) or a full book (``is_snapshot``)."""

    symbol: str
    is_snapshot: bool
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    ts: float | None


class TradeMsg(msgspec.Struct, gc=False):
    """One public trade; ``side`` is the taker side."""

    symbol: str
    price: float
    size: float
    side: Side
    ts: float | None
    trade_id: str


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


_TYPES: dict[str, type] = {"orderbookdepth": _DepthPush, "transaction": _TxPush,
                           "orderbook": _Book, "trade": _Trade}
_head_dec = msgspec.json.Decoder(_Head)
_decs: dict[str, msgspec.json.Decoder[Any]] = {
    k: msgspec.json.Decoder(t, strict=False) for k, t in _TYPES.items()
}


def _kst(text: str) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=_KST).timestamp()
    except ValueError:
        return None


def _records(obj: Any) -> list[BookMsg | TradeMsg]:
    out: list[BookMsg | TradeMsg] = []
    if type(obj) is _DepthPush:
        ts = epoch_seconds(obj.content.dt)
        by_symbol: dict[str, BookMsg] = {}
        for d in obj.content.items:
            rec = by_symbol.get(d.symbol)
            if rec is None:
                rec = by_symbol[d.symbol] = BookMsg(d.symbol, False, [], [], ts)
                out.append(rec)
            (rec.bids if d.orderType == "bid" else rec.asks).append((d.price, d.quantity))
    elif type(obj) is _TxPush:
        for t in obj.content.items:
            out.append(TradeMsg(t.symbol, t.contPrice, t.contQty,
                                Side.BUY if t.buySellGb == "2" else Side.SELL, _kst(t.contDtm), ""))
    elif type(obj) is _Book:
        u = obj.orderbook_units
        out.append(BookMsg(
            obj.code, True,
            [(x.bid_price, x.bid_size) for x in u if x.bid_price > 0.0 and x.bid_size > 0.0],
            [(x.ask_price, x.ask_size) for x in u if x.ask_price > 0.0 and x.ask_size > 0.0],
            epoch_seconds(obj.timestamp)))
    else:
        assert type(obj) is _Trade
        out.append(TradeMsg(obj.code, obj.trade_price, obj.trade_volume,
                            Side.BUY if obj.ask_bid == "BID" else Side.SELL,
                            epoch_seconds(obj.trade_timestamp or obj.timestamp),
                            str(obj.sequential_id)))
    return out


def parse(msg: Any) -> list[BookMsg | TradeMsg] | None:
    """Records of one JSON-decoded message; None for status messages, tickers and the rest."""
    if not isinstance(msg, dict):
        return None
    t = _TYPES.get(str(msg.get("type", "")))
    if t is None:
        return None
    return _records(msgspec.convert(msg, t, strict=False))


def decode(raw: bytes | str) -> list[BookMsg | TradeMsg] | None:
    """Records of one raw frame (same result as ``parse(json.loads(raw))``)."""
    dec = _decs.get(_head_dec.decode(raw).type)
    return None if dec is None else _records(dec.decode(raw))


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


def parse_rest_orderbook(body: Any) -> BookMsg:
    """The legacy ``GET /public/orderbook/<BASE>_<QUOTE>`` body as a full book."""
    d = msgspec.convert(body, _Rest, strict=False).data
    return BookMsg(f"{d.order_currency}_{d.payment_currency}", True,
                   [(x.price, x.quantity) for x in d.bids], [(x.price, x.quantity) for x in d.asks],
                   epoch_seconds(d.timestamp))
