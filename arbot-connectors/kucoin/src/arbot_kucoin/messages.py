"""Typed decoding of KuCoin spot pushes (``trade.l2update``, ``trade.l3match``) and REST books.

:func:`parse` takes JSON-decoded messages, :func:`decode` raw bytes, :func:`parse_snapshot` the
body of ``GET /api/v3/market/orderbook/level2`` (or ``level2_20``/``level2_100``). The records
are core's: an ``l2update`` is a :class:`~arbot.connectors.records.BookRecord` delta
(``first``/``last`` = ``sequenceStart``/``sequenceEnd``) whose ``entry_seqs`` are the entries'
own sequences (:func:`entry_applies`: entries at or below the book's id are already in it; an
entry with price ``0`` only advances the sequence and is left out); a REST book is a SNAPSHOT
of id ``sequence``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from arbot.connectors.records import BookKind, BookRecord, Record, TradeMsg
from arbot.events import Side

__all__ = ["decode", "entry_applies", "frame_type", "parse", "parse_snapshot"]


def entry_applies(price: float, entry_seq: int, floor: int) -> bool:
    """True when one ``changes`` entry must be applied to a book whose id is ``floor``."""
    return price > 0.0 and entry_seq > floor


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


def _book(d: _L2) -> BookRecord:
    ts = d.time / 1000.0 if d.time else None
    bids = [e for e in d.changes.bids if e[0] > 0.0]
    asks = [e for e in d.changes.asks if e[0] > 0.0]
    return BookRecord(d.symbol, BookKind.DELTA, [(p, q) for p, q, _ in bids],
                      [(p, q) for p, q, _ in asks], d.sequenceStart, d.sequenceEnd, None, ts,
                      entry_seqs=([s for _, _, s in bids], [s for _, _, s in asks]))


def _trade(d: _Match) -> TradeMsg:
    ts = d.time / 1e9 if d.time else None  # nanoseconds
    return TradeMsg(d.symbol, d.price, d.size, Side.BUY if d.side == "buy" else Side.SELL, ts,
                    d.tradeId)


def parse(msg: Any) -> list[Record] | None:
    """Records of one JSON-decoded message; None for welcome/ack/pong/ticker/candles."""
    if not isinstance(msg, dict) or msg.get("type") != "message":
        return None
    subject = msg.get("subject")
    if subject == "trade.l2update":
        return [_book(msgspec.convert(msg, _L2Push, strict=False).data)]
    if subject == "trade.l3match":
        return [_trade(msgspec.convert(msg, _MatchPush, strict=False).data)]
    return None


def decode(raw: bytes | str) -> list[Record] | None:
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


def parse_snapshot(url: str, body: Any) -> BookRecord | None:
    """The REST level-2 book of ``.../orderbook/level2*?symbol=...``; None otherwise."""
    if "/orderbook/level2" not in url or "symbol=" not in url:
        return None
    symbol = url.split("symbol=", 1)[1].split("&", 1)[0]
    b = msgspec.convert(body, _Rest, strict=False).data
    return BookRecord(symbol, BookKind.SNAPSHOT, b.bids, b.asks, b.sequence, b.sequence, None,
                      b.time / 1000.0 if b.time else None)
