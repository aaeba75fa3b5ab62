"""Typed decoding of Bybit v5 public pushes: ``orderbook.{depth}.{symbol}`` and
``publicTrade.{symbol}`` (spot, linear, inverse: same shapes).

:func:`parse` takes JSON-decoded messages, :func:`decode` raw bytes.
"""

from __future__ import annotations

from typing import Any

import msgspec
from arbot.connectors.records import BookKind, BookRecord, Record, TradeMsg
from arbot.events import Side

__all__ = ["control_of", "decode", "parse"]


class _BookData(msgspec.Struct):
    s: str
    u: int
    b: list[tuple[float, float]] = []
    a: list[tuple[float, float]] = []
    seq: int | None = None


class _BookPush(msgspec.Struct):
    topic: str
    type: str
    data: _BookData
    ts: int | None = None


class _Trade(msgspec.Struct):
    s: str
    p: float
    v: float
    S: str
    T: int | None = None
    i: str = ""


class _TradePush(msgspec.Struct):
    topic: str
    data: list[_Trade]


class _Head(msgspec.Struct):
    topic: str = ""


class _Control(msgspec.Struct):
    op: str | None = None
    success: bool | None = None
    ret_msg: str = ""


_head_dec = msgspec.json.Decoder(_Head)
_book_dec = msgspec.json.Decoder(_BookPush, strict=False)
_trade_dec = msgspec.json.Decoder(_TradePush, strict=False)
_control_dec = msgspec.json.Decoder(_Control)


def _book(p: _BookPush) -> list[Record]:
    """A ``snapshot`` push, or any push with ``u == 1`` (a service restart: Bybit says to
    overwrite the book), is a SNAPSHOT of id ``u``; the rest are deltas of id ``u``."""
    d = p.data
    kind = BookKind.SNAPSHOT if p.type == "snapshot" or d.u == 1 else BookKind.DELTA
    return [BookRecord(d.s, kind, d.b, d.a, d.u, d.u, None, p.ts / 1000.0 if p.ts else None)]


def _trades(p: _TradePush) -> list[Record]:
    return [
        TradeMsg(t.s, t.p, t.v, Side.BUY if t.S == "Buy" else Side.SELL,
                 t.T / 1000.0 if t.T else None, t.i)
        for t in p.data
    ]


def parse(msg: Any) -> list[Record] | None:
    """Records of one JSON-decoded push; None for acks, pongs, tickers and the rest."""
    if not isinstance(msg, dict):
        return None
    topic = msg.get("topic")
    if not isinstance(topic, str) or "data" not in msg:
        return None
    if topic.startswith("orderbook."):
        return _book(msgspec.convert(msg, _BookPush, strict=False))
    if topic.startswith("publicTrade."):
        return _trades(msgspec.convert(msg, _TradePush, strict=False))
    return None


def decode(raw: bytes | str) -> list[Record] | None:
    """Records of one raw frame (same result as ``parse(json.loads(raw))``)."""
    topic = _head_dec.decode(raw).topic
    if topic.startswith("orderbook."):
        return _book(_book_dec.decode(raw))
    if topic.startswith("publicTrade."):
        return _trades(_trade_dec.decode(raw))
    return None


def control_of(raw: bytes | str) -> tuple[str, bool] | None:
    """``(op, success)`` of a control reply (subscribe ack, ``pong``...); None for a frame
    that is not one. The spot pong is ``{"success":true,"ret_msg":"pong","op":"ping"}``, the
    private one ``{"op":"pong",...}``: both give ``("pong", True)``."""
    c = _control_dec.decode(raw)
    if c.op is None:
        return None
    op = "pong" if c.op == "pong" or c.ret_msg == "pong" else c.op
    return op, c.success is not False
