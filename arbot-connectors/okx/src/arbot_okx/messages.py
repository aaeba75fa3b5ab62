"""Typed decoding of OKX v5 public pushes (``books*``, ``bbo-tbt``, ``trades``).

Two entry points produce the same normalized records: :func:`parse` takes a message that is
already JSON-decoded (the capture replay), :func:`decode` takes the raw frame bytes (the live
path: one msgspec pass over a small header struct, one typed pass over the whole frame).
The records are core :class:`~arbot.connectors.records.BookRecord` (levels keep their original
strings in ``raw_bids``/``raw_asks`` because the CRC32 checksum is computed over them;
``prev`` is ``prevSeqId`` and ``first``/``last`` are ``seqId`` -- ``prev`` None and ids 0 in
pre-2023 messages; a push with ``prevSeqId == -1`` or ``action: snapshot`` is a SNAPSHOT,
``books5``/``bbo-tbt`` pushes are FULL books; ``checksum`` is 0 once OKX deprecated it) and
:class:`~arbot.connectors.records.TradeMsg`.
Control frames are classified by core :func:`~arbot.connectors.parsing.event_of`.
"""

from __future__ import annotations

from typing import Any

import msgspec
from arbot.connectors.parsing import ChannelArg, push_head_decoder
from arbot.connectors.records import BookKind, BookRecord, Record, TradeMsg
from arbot.events import Side

__all__ = ["BOOK_CHANNELS", "FULL_BOOK_CHANNELS", "decode", "parse"]

#: Channels with a snapshot followed by incremental updates.
BOOK_CHANNELS = frozenset({"books", "books-l2-tbt", "books50-l2-tbt"})
#: Channels where every push is a full snapshot.
FULL_BOOK_CHANNELS = frozenset({"books5", "bbo-tbt"})
_TRADE_CHANNELS = frozenset({"trades", "trades-all"})


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
    arg: ChannelArg
    data: list[_BookData]
    action: str = "snapshot"


class _TradesPush(msgspec.Struct):
    arg: ChannelArg
    data: list[_TradeData]


_books_dec = msgspec.json.Decoder(_BooksPush, strict=False)
_trades_dec = msgspec.json.Decoder(_TradesPush, strict=False)


def _ms(value: str) -> float | None:
    return int(value) / 1000.0 if value else None


def _levels(raw: list[list[str]]) -> tuple[list[tuple[float, float]], list[tuple[str, str]]]:
    strs = [(lv[0], lv[1]) for lv in raw]
    return [(float(p), float(q)) for p, q in strs], strs


def _book_records(push: _BooksPush) -> list[Record]:
    channel = push.arg.channel
    full = channel in FULL_BOOK_CHANNELS
    snapshot = push.action == "snapshot"
    out: list[Record] = []
    for d in push.data:
        bids, raw_bids = _levels(d.bids)
        asks, raw_asks = _levels(d.asks)
        kind = (BookKind.FULL if full else BookKind.SNAPSHOT if snapshot or d.prevSeqId == -1
                else BookKind.DELTA)
        seq = d.seqId if d.seqId is not None else 0
        out.append(BookRecord(push.arg.instId or d.instId, kind, bids, asks, seq, seq, d.prevSeqId,
                              _ms(d.ts), d.checksum, raw_bids, raw_asks))
    return out


def _trade_records(push: _TradesPush) -> list[Record]:
    return [
        TradeMsg(t.instId, t.px, t.sz, Side.BUY if t.side == "buy" else Side.SELL, _ms(t.ts), t.tradeId)
        for t in push.data
    ]


def parse(msg: Any) -> list[Record] | None:
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


def decode(raw: bytes | str) -> list[Record] | None:
    """Records of one raw frame (same result as ``parse(json.loads(raw))``)."""
    if raw in ("pong", b"pong"):
        return None
    head = push_head_decoder.decode(raw)
    if head.arg is None or not head.data:
        return None
    channel = head.arg.channel
    if channel in BOOK_CHANNELS or channel in FULL_BOOK_CHANNELS:
        return list(_book_records(_books_dec.decode(raw)))
    if channel in _TRADE_CHANNELS:
        return list(_trade_records(_trades_dec.decode(raw)))
    return None
