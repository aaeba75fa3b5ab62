"""Typed decoding of KuCoin spot pushes (``trade.l2update``, ``trade.l3match``) and REST books.

:func:`parse` takes JSON-decoded messages, :func:`decode` raw bytes, :func:`parse_snapshot` the
body of ``GET /api/v3/market/orderbook/level2`` (or ``level2_20``/``level2_100``).
"""

from __future__ import annotations

from typing import Any

import msgspec
from arbot.connectors.parsing import TradeMsg
from arbot.events import Side

__all__ = [
    "BookMsg", "SnapshotMsg", "TradeMsg", "decode", "frame_type", "parse", "parse_snapshot",
]


class BookMsg(msgspec.Struct, gc=False):
    """One ``l2update``: entries are (price, size, entry sequence)."""

    symbol: str
    bids: list[tuple[float, float, int]]
    asks: list[tuple[float, float, int]]
    first_id: int
    last_id: int
    ts: float | None


class SnapshotMsg(msgspec.Struct, gc=False):
    """A REST order book with its ``sequence``."""

    symbol: str
    sequence: int
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    ts: float | None


class _Changes(msgspec.Struct):
    asks: list[tuple[float, float, int]] = []
    bids: list[tuple[float, float, int]] = []


class _L2(msgspec.Struct):
    symbol: str
    sequenceStart: int  # noqa: N815 - venue field name
    sequenceEnd: int  # noqa: N815
    changes: _Changes
    time: int | None = None


class _Match(msgspec.Struct):
    symbol: str
    price: float
    size: float
    side: str
    time: int | None = None
    tradeId: str = ""  # noqa: N815


class _L2Push(msgspec.Struct):
    data: _L2


class _MatchPush(msgspec.Struct):
    data: _Match


class _RestBody(msgspec.Struct):
    sequence: int
    bids: list[tuple[float, float]] = []
    asks: list[tuple[float, float]] = []
    time: int | None = None


class _Rest(msgspec.Struct):
    data: _RestBody


class _Head(msgspec.Struct):
    type: str = ""
    subject: str = ""


_head_dec = msgspec.json.Decoder(_Head)
_l2_dec = msgspec.json.Decoder(_L2Push, strict=False)
_match_dec = msgspec.json.Decoder(_MatchPush, strict=False)


def _book(d: _L2) -> BookMsg:
    ts = d.time / 1000.0 if d.time else None
    return BookMsg(d.symbol, d.changes.bids, d.changes.asks, d.sequenceStart, d.sequenceEnd, ts)


def _trade(d: _Match) -> TradeMsg:
    ts = d.time / 1e9 if d.time else None  # nanoseconds
    return TradeMsg(d.symbol, d.price, d.size, Side.BUY if d.side == "buy" else Side.SELL, ts,
                    d.tradeId)


def parse(msg: Any) -> list[BookMsg | TradeMsg] | None:
    """Records of one JSON-decoded message; None for welcome/ack/pong/ticker/candles."""
    if not isinstance(msg, dict) or msg.get("type") != "message":
        return None
    subject = msg.get("subject")
    if subject == "trade.l2update":
        return [_book(msgspec.convert(msg, _L2Push, strict=False).data)]
    if subject == "trade.l3match":
        return [_trade(msgspec.convert(msg, _MatchPush, strict=False).data)]
    return None


def decode(raw: bytes | str) -> list[BookMsg | TradeMsg] | None:
    """Records of one raw frame (same result as ``parse(json.loads(raw))``)."""
    head = _head_dec.decode(raw)
    if head.type != "message":
        return None
    if head.subject == "trade.l2update":
        return [_book(_l2_dec.decode(raw).data)]
    if head.subject == "trade.l3match":
        return [_trade(_match_dec.decode(raw).data)]
    return None


def frame_type(raw: bytes | str) -> str:
    """The ``type`` of a raw frame (``welcome``, ``ack``, ``pong``, ``message``, ``error``...);
    ``""`` when absent. Raises a decode error for a frame that is not JSON."""
    return _head_dec.decode(raw).type


def parse_snapshot(url: str, body: Any) -> SnapshotMsg | None:
    """The REST level-2 book of ``.../orderbook/level2*?symbol=...``; None otherwise."""
    if "/orderbook/level2" not in url or "symbol=" not in url:
        return None
    symbol = url.split("symbol=", 1)[1].split("&", 1)[0]
    b = msgspec.convert(body, _Rest, strict=False).data
    return SnapshotMsg(symbol, b.sequence, b.bids, b.asks, b.time / 1000.0 if b.time else None)
