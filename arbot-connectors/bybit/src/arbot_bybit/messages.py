"""Typed decoding of Bybit v5 public pushes: ``orderbook.{depth}.{symbol}`` and
``publicTrade.{symbol}`` (spot, linear, inverse: same shapes).

:func:`parse` takes JSON-decoded messages, :func:`decode` raw bytes.
"""

from __future__ import annotations

from typing import Any

import msgspec
from arbot.connectors.parsing import TradeMsg  # the shared trade record
from arbot.events import Side

__all__ = ["BookMsg", "TradeMsg", "control_of", "decode", "parse"]


class BookMsg(msgspec.Struct, gc=False):
    """One book push: ``u`` update id, ``seq`` cross sequence, ``depth`` from the topic."""

    symbol: str
    is_snapshot: bool
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    u: int
    seq: int | None
    depth: str
    ts: float | None


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


def _book(p: _BookPush) -> list[BookMsg | TradeMsg]:
    d = p.data
    depth = p.topic.split(".")[1]
    return [BookMsg(d.s, p.type == "snapshot", d.b, d.a, d.u, d.seq, depth,
                    p.ts / 1000.0 if p.ts else None)]


def _trades(p: _TradePush) -> list[BookMsg | TradeMsg]:
    return [
        TradeMsg(t.s, t.p, t.v, Side.BUY if t.S == "Buy" else Side.SELL,
                 t.T / 1000.0 if t.T else None, t.i)
        for t in p.data
    ]


def parse(msg: Any) -> list[BookMsg | TradeMsg] | None:
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


def decode(raw: bytes | str) -> list[BookMsg | TradeMsg] | None:
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
