"""Typed decoding of OKX v5 public pushes (``books*``, ``bbo-tbt``, ``trades``).

Two entry points produce the same normalized records: :func:`parse` takes a message that is
already JSON-decoded (the capture replay), :func:`decode` takes the raw frame bytes (the live
path: one msgspec pass over a small header struct, one typed pass over the whole frame).
Book levels keep their original strings in ``raw_bids``/``raw_asks`` because the CRC32
checksum is computed over them.
"""

from __future__ import annotations

from typing import Any

import msgspec
from arbot.events import Side

__all__ = [
    "BOOK_CHANNELS",
    "FULL_BOOK_CHANNELS",
    "BookMsg",
    "TradeMsg",
    "decode",
    "event_of",
    "parse",
]

#: Channels with a snapshot followed by incremental updates.
BOOK_CHANNELS = frozenset({"books", "books-l2-tbt", "books50-l2-tbt"})
#: Channels where every push is a full snapshot.
FULL_BOOK_CHANNELS = frozenset({"books5", "bbo-tbt"})
_TRADE_CHANNELS = frozenset({"trades", "trades-all"})


class BookMsg(msgspec.Struct, gc=False):
    """One normalized book push of one instrument.

    ``prev_seq``/``seq`` are OKX's ``prevSeqId``/``seqId`` (None in pre-2023 messages),
    ``checksum`` the signed CRC32 the venue sent (0 once OKX deprecated it), ``ts`` the
    venue time in seconds.
    """

    symbol: str
    is_snapshot: bool
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    raw_bids: list[tuple[str, str]]
    raw_asks: list[tuple[str, str]]
    prev_seq: int | None
    seq: int | None
    checksum: int | None
    ts: float | None
    channel: str = "books"


class TradeMsg(msgspec.Struct, gc=False):
    """One public trade; ``side`` is the taker side."""

    symbol: str
    price: float
    size: float
    side: Side
    ts: float | None
    trade_id: str


class _Arg(msgspec.Struct):
    channel: str = ""
    instId: str = ""  # noqa: N815 - venue field name


class _BookData(msgspec.Struct):
    asks: list[list[str]] = []
    bids: list[list[str]] = []
    ts: str = ""
    checksum: int | None = None
    seqId: int | None = None  # noqa: N815
    prevSeqId: int | None = None  # noqa: N815
    instId: str = ""  # noqa: N815


class _TradeData(msgspec.Struct):
    instId: str  # noqa: N815
    px: float
    sz: float
    side: str
    ts: str = ""
    tradeId: str = ""  # noqa: N815


class _BooksPush(msgspec.Struct):
    arg: _Arg
    data: list[_BookData]
    action: str = "snapshot"


class _TradesPush(msgspec.Struct):
    arg: _Arg
    data: list[_TradeData]


class _Head(msgspec.Struct):
    arg: _Arg | None = None
    event: str | None = None
    data: msgspec.Raw = msgspec.Raw(b"")


_head_dec = msgspec.json.Decoder(_Head)
_books_dec = msgspec.json.Decoder(_BooksPush, strict=False)
_trades_dec = msgspec.json.Decoder(_TradesPush, strict=False)


def _ms(value: str) -> float | None:
    return int(value) / 1000.0 if value else None


def _levels(raw: list[list[str]]) -> tuple[list[tuple[float, float]], list[tuple[str, str]]]:
    strs = [(lv[0], lv[1]) for lv in raw]
    return [(float(p), float(q)) for p, q in strs], strs


def _book_records(push: _BooksPush) -> list[BookMsg]:
    channel = push.arg.channel
    snapshot = push.action == "snapshot" or channel in FULL_BOOK_CHANNELS
    out = []
    for d in push.data:
        bids, raw_bids = _levels(d.bids)
        asks, raw_asks = _levels(d.asks)
        out.append(
            BookMsg(
                push.arg.instId or d.instId, snapshot, bids, asks, raw_bids, raw_asks,
                d.prevSeqId, d.seqId, d.checksum, _ms(d.ts), channel,
            )
        )
    return out


def _trade_records(push: _TradesPush) -> list[TradeMsg]:
    return [
        TradeMsg(t.instId, t.px, t.sz, Side.BUY if t.side == "buy" else Side.SELL, _ms(t.ts), t.tradeId)
        for t in push.data
    ]


def parse(msg: Any) -> list[BookMsg | TradeMsg] | None:
    """Records of one JSON-decoded push; None for anything that is not book or trade data
    (subscribe acks, errors, tickers)."""
    if not isinstance(msg, dict) or "data" not in msg:
        return None
    arg = msg.get("arg")
    channel = arg.get("channel") if isinstance(arg, dict) else None
    if channel in BOOK_CHANNELS or channel in FULL_BOOK_CHANNELS:
        return list(_book_records(msgspec.convert(msg, _BooksPush, strict=False)))
    if channel in _TRADE_CHANNELS:
        return list(_trade_records(msgspec.convert(msg, _TradesPush, strict=False)))
    return None


def decode(raw: bytes | str) -> list[BookMsg | TradeMsg] | None:
    """Records of one raw frame (same result as ``parse(json.loads(raw))``)."""
    if raw in ("pong", b"pong"):
        return None
    head = _head_dec.decode(raw)
    if head.arg is None or not head.data:
        return None
    channel = head.arg.channel
    if channel in BOOK_CHANNELS or channel in FULL_BOOK_CHANNELS:
        return list(_book_records(_books_dec.decode(raw)))
    if channel in _TRADE_CHANNELS:
        return list(_trade_records(_trades_dec.decode(raw)))
    return None


def event_of(raw: bytes | str) -> str | None:
    """The ``event`` of a control frame (``subscribe``, ``unsubscribe``, ``error``...), ``""``
    for a push with an ``arg`` but no event, None for a frame that has neither (not OKX)."""
    head = _head_dec.decode(raw)
    if head.event is not None:
        return head.event
    return "" if head.arg is not None else None
