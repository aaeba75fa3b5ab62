"""Typed decoding of Bithumb WebSocket messages and the legacy REST order book.

Legacy socket (API 1.0, ``pubwss``): ``orderbookdepth`` (a list of per-level deltas, possibly
for several symbols; ``datetime`` in µs) and ``transaction`` (``buySellGb`` 1 = sell, 2 = buy;
``contDtm`` in KST). Current socket (``ws-api``, v1 message spec): Upbit's ``orderbook`` (full
book) and ``trade`` messages, decoded by the core :mod:`arbot.connectors.fullbook` into the same
records (:class:`~arbot.connectors.fullbook.FullBookMsg`, ``TradeMsg``).
:func:`parse` takes JSON-decoded messages, :func:`decode` raw frames.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec
from arbot.connectors import fullbook as current
from arbot.connectors.fullbook import FullBookMsg, TradeMsg, epoch_seconds
from arbot.events import Side

__all__ = ["FullBookMsg", "TradeMsg", "decode", "parse", "parse_rest_orderbook"]

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


class _Head(msgspec.Struct):
    type: str = ""


_LEGACY: dict[str, type] = {"orderbookdepth": _DepthPush, "transaction": _TxPush}
_CURRENT = frozenset({"orderbook", "trade"})
_head_dec = msgspec.json.Decoder(_Head)
_decs: dict[str, msgspec.json.Decoder[Any]] = {
    k: msgspec.json.Decoder(t, strict=False) for k, t in _LEGACY.items()
}


def _kst(text: str) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=_KST).timestamp()
    except ValueError:
        return None


def _legacy(obj: Any) -> list[FullBookMsg | TradeMsg]:
    out: list[FullBookMsg | TradeMsg] = []
    if type(obj) is _DepthPush:
        ts = epoch_seconds(obj.content.dt)
        by_symbol: dict[str, FullBookMsg] = {}
        for d in obj.content.items:
            rec = by_symbol.get(d.symbol)
            if rec is None:
                rec = by_symbol[d.symbol] = FullBookMsg(d.symbol, False, [], [], ts)
                out.append(rec)
            (rec.bids if d.orderType == "bid" else rec.asks).append((d.price, d.quantity))
    else:
        assert type(obj) is _TxPush
        for t in obj.content.items:
            out.append(TradeMsg(t.symbol, t.contPrice, t.contQty,
                                Side.BUY if t.buySellGb == "2" else Side.SELL, _kst(t.contDtm), ""))
    return out


def parse(msg: Any) -> list[FullBookMsg | TradeMsg] | None:
    """Records of one JSON-decoded message; None for status messages, tickers and the rest."""
    if not isinstance(msg, dict):
        return None
    kind = str(msg.get("type", ""))
    if kind in _CURRENT:
        return current.parse(msg)
    t = _LEGACY.get(kind)
    return None if t is None else _legacy(msgspec.convert(msg, t, strict=False))


def decode(raw: bytes | str) -> list[FullBookMsg | TradeMsg] | None:
    """Records of one raw frame (same result as ``parse(json.loads(raw))``)."""
    kind = _head_dec.decode(raw).type
    if kind in _CURRENT:
        return current.decode(raw)
    dec = _decs.get(kind)
    return None if dec is None else _legacy(dec.decode(raw))


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


def parse_rest_orderbook(body: Any) -> FullBookMsg:
    """The legacy ``GET /public/orderbook/<BASE>_<QUOTE>`` body as a full book."""
    d = msgspec.convert(body, _Rest, strict=False).data
    return FullBookMsg(f"{d.order_currency}_{d.payment_currency}", True,
                   [(x.price, x.quantity) for x in d.bids], [(x.price, x.quantity) for x in d.asks],
                   epoch_seconds(d.timestamp))
