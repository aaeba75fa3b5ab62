"""Typed decoding of Upbit's WebSocket messages, both formats, into core records.

SIMPLE (``ty``, ``cd``, ``tms``, ``obu`` with ``ap``/``bp``/``as``/``bs``; trades
``tp``/``tv``/``ab``/``sid``/``ttms``) and DEFAULT (long keys). Every ``orderbook`` message is
the whole top-N book: a FULL :class:`~arbot.connectors.records.BookRecord` (empty levels
dropped); trades become :class:`~arbot.connectors.records.TradeMsg`. :func:`decode` takes a
raw (binary or text) frame, :func:`parse` a JSON-decoded message, :func:`head` routes a frame.
"""

from __future__ import annotations

from typing import Any

import msgspec
from arbot.connectors.records import BookKind, BookRecord, Control, Record, TradeMsg
from arbot.events import Side

__all__ = ["Head", "control", "decode", "epoch_seconds", "head", "parse"]


def epoch_seconds(value: float | int | str | None) -> float | None:
    """Venue timestamp (ms, or µs in newer messages; number or string) -> seconds."""
    if value in (None, ""):
        return None
    v = float(value)
    return v / 1e6 if v > 1e14 else v / 1e3


class _SUnit(msgspec.Struct):
    ap: float = 0.0
    bp: float = 0.0
    as_: float = msgspec.field(default=0.0, name="as")
    bs: float = 0.0


class _SBook(msgspec.Struct):
    cd: str
    obu: list[_SUnit]
    tms: int | None = None


class _STrade(msgspec.Struct):
    cd: str
    tp: float
    tv: float
    ab: str
    ttms: int | None = None
    tms: int | None = None
    sid: int | str = ""


class _DUnit(msgspec.Struct):
    ask_price: float = 0.0
    bid_price: float = 0.0
    ask_size: float = 0.0
    bid_size: float = 0.0


class _DBook(msgspec.Struct):
    code: str
    orderbook_units: list[_DUnit]
    timestamp: int | str | None = None


class _DTrade(msgspec.Struct):
    code: str
    trade_price: float
    trade_volume: float
    ask_bid: str
    trade_timestamp: int | str | None = None
    timestamp: int | str | None = None
    sequential_id: int | str = ""


class _Head(msgspec.Struct):
    ty: str = ""
    type: str = ""
    status: str = ""
    error: Any = None


class Head(msgspec.Struct, gc=False):
    """The routing fields of a raw frame: ``kind`` is ``orderbook``/``trade`` (a market
    message, either format), ``other`` (another message type such as ``ticker``), ``status``
    (the ``{"status":"UP"}`` keep-alive reply), ``error`` or ``""`` (not a venue message)."""

    kind: str
    error: Any


_head_dec = msgspec.json.Decoder(_Head)
_TYPES: dict[str, type] = {"s:orderbook": _SBook, "s:trade": _STrade, "d:orderbook": _DBook,
                           "d:trade": _DTrade}
_decs: dict[str, msgspec.json.Decoder[Any]] = {
    k: msgspec.json.Decoder(t, strict=False) for k, t in _TYPES.items()}


def _side(ab: str) -> Side:
    return Side.BUY if ab == "BID" else Side.SELL


def _record(obj: Any) -> Record:
    if type(obj) is _SBook:
        bids = [(u.bp, u.bs) for u in obj.obu if u.bp > 0.0 and u.bs > 0.0]
        asks = [(u.ap, u.as_) for u in obj.obu if u.ap > 0.0 and u.as_ > 0.0]
        return BookRecord(obj.cd, BookKind.FULL, bids, asks, ts=epoch_seconds(obj.tms))
    if type(obj) is _DBook:
        units = obj.orderbook_units
        bids = [(u.bid_price, u.bid_size) for u in units if u.bid_price > 0.0 and u.bid_size > 0.0]
        asks = [(u.ask_price, u.ask_size) for u in units if u.ask_price > 0.0 and u.ask_size > 0.0]
        return BookRecord(obj.code, BookKind.FULL, bids, asks, ts=epoch_seconds(obj.timestamp))
    if type(obj) is _STrade:
        return TradeMsg(obj.cd, obj.tp, obj.tv, _side(obj.ab),
                        epoch_seconds(obj.ttms or obj.tms), str(obj.sid))
    assert type(obj) is _DTrade
    return TradeMsg(obj.code, obj.trade_price, obj.trade_volume, _side(obj.ask_bid),
                    epoch_seconds(obj.trade_timestamp or obj.timestamp), str(obj.sequential_id))


def _key(ty: str, typ: str) -> str | None:
    if ty in ("orderbook", "trade"):
        return "s:" + ty
    if typ in ("orderbook", "trade"):
        return "d:" + typ
    return None


def parse(msg: object) -> list[Record] | None:
    """Records of one JSON-decoded message; None for tickers, errors and the rest."""
    if not isinstance(msg, dict):
        return None
    key = _key(str(msg.get("ty", "")), str(msg.get("type", "")))
    if key is None:
        return None
    return [_record(msgspec.convert(msg, _TYPES[key], strict=False))]


def head(raw: bytes | str) -> Head:
    """Classify one raw frame (text or binary); raises a decode error when it is not JSON."""
    h = _head_dec.decode(raw)
    if h.error is not None:
        return Head("error", h.error)
    kind = h.ty or h.type
    if kind in ("orderbook", "trade"):
        return Head(kind, None)
    if kind:
        return Head("other", None)
    return Head("status" if h.status else "", None)


def decode(raw: bytes | str) -> list[Record] | None:
    """Records of one raw (binary or text) frame (same result as ``parse(json.loads(raw))``)."""
    h = _head_dec.decode(raw)
    key = _key(h.ty, h.type)
    if key is None:
        return None
    return [_record(_decs[key].decode(raw))]


_CONTROLS = {"error": Control.ERROR, "status": Control.PONG, "other": Control.IGNORED}


def control(raw: bytes | str) -> Control | None:
    """What a frame without market data is: an error reply, the ``{"status":"UP"}`` answer to
    ``PING``, another message type (tickers); None when it is not an Upbit message."""
    return _CONTROLS.get(head(raw).kind)
