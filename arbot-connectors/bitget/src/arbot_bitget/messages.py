"""Typed decoding of Bitget spot pushes: ``books`` (v1 and v2) and ``trade``.

:func:`parse` takes a JSON-decoded message (the capture replay), :func:`decode` raw frame
bytes (live). Book levels keep their original strings (``raw_bids``/``raw_asks``) because the
CRC32 checksum is computed over them. The records are core's
(:class:`~arbot.connectors.records.BookRecord`: ``first``/``last`` are ``seq``, -1 in v1
messages, which have none; ``books1/5/15`` pushes are FULL books;
:class:`~arbot.connectors.records.TradeMsg`). v1 trades are arrays
``[ts, price, size, side]``, v2 trades objects ``{ts, price, size, side, tradeId}``; both
are handled.
"""

from __future__ import annotations

from typing import Any

import msgspec
from arbot.connectors.records import BookKind, BookRecord, Record, TradeMsg
from arbot.events import Side

__all__ = ["BOOK_CHANNELS", "FULL_BOOK_CHANNELS", "decode", "parse"]

BOOK_CHANNELS = frozenset({"books"})
FULL_BOOK_CHANNELS = frozenset({"books1", "books5", "books15"})
_TRADE_CHANNELS = frozenset({"trade"})


class _Arg(msgspec.Struct):
    channel: str = ""
    instId: str = ""  # noqa: N815 - venue field name
    instType: str = ""  # noqa: N815


class _BookData(msgspec.Struct):
    asks: list[list[str]] = []
    bids: list[list[str]] = []
    checksum: int | None = None
    seq: int | None = None
    ts: str = ""


class _BooksPush(msgspec.Struct):
    arg: _Arg
    data: list[_BookData]
    action: str = "snapshot"


class _Head(msgspec.Struct):
    arg: _Arg | None = None
    event: str | None = None
    action: str = ""
    data: msgspec.Raw = msgspec.Raw(b"")


_head_dec = msgspec.json.Decoder(_Head)
_books_dec = msgspec.json.Decoder(_BooksPush, strict=False)
_list_dec = msgspec.json.Decoder(list[Any])


def _ms(value: Any) -> float | None:
    return int(value) / 1000.0 if value not in (None, "") else None


def _book_records(push: _BooksPush) -> list[Record]:
    channel = push.arg.channel
    kind = (BookKind.FULL if channel in FULL_BOOK_CHANNELS
            else BookKind.SNAPSHOT if push.action == "snapshot" else BookKind.DELTA)
    out: list[Record] = []
    for d in push.data:
        raw_bids = [(lv[0], lv[1]) for lv in d.bids]
        raw_asks = [(lv[0], lv[1]) for lv in d.asks]
        seq = d.seq if d.seq is not None else -1
        out.append(BookRecord(
            push.arg.instId, kind,
            [(float(p), float(q)) for p, q in raw_bids],
            [(float(p), float(q)) for p, q in raw_asks],
            seq, seq, None, _ms(d.ts), d.checksum, raw_bids, raw_asks,
        ))
    return out


def _trade_records(inst_id: str, data: list[Any]) -> list[Record]:
    out: list[Record] = []
    for t in data:
        if isinstance(t, dict):
            ts, px, sz, side, tid = t["ts"], t["price"], t["size"], t["side"], t.get("tradeId", "")
        else:
            ts, px, sz, side = t[0], t[1], t[2], t[3]
            tid = ""
        out.append(
            TradeMsg(inst_id, float(px), float(sz), Side.BUY if side == "buy" else Side.SELL,
                     _ms(ts), str(tid))
        )
    out.reverse()  # Bitget lists the newest trade first
    return out


def parse(msg: Any) -> list[Record] | None:
    """Records of one JSON-decoded push; None for acks, tickers, candles and anything else."""
    if not isinstance(msg, dict) or "data" not in msg:
        return None
    arg = msg.get("arg")
    channel = arg.get("channel") if isinstance(arg, dict) else None
    if channel in BOOK_CHANNELS or channel in FULL_BOOK_CHANNELS:
        return _book_records(msgspec.convert(msg, _BooksPush, strict=False))
    if channel in _TRADE_CHANNELS and isinstance(arg, dict):
        return _trade_records(str(arg.get("instId", "")), msg["data"])
    return None


def decode(raw: bytes | str) -> list[Record] | None:
    """Records of one raw frame (same result as ``parse(json.loads(raw))``)."""
    if raw in ("pong", b"pong"):
        return None
    head = _head_dec.decode(raw)
    if head.arg is None or not head.data:
        return None
    channel = head.arg.channel
    if channel in BOOK_CHANNELS or channel in FULL_BOOK_CHANNELS:
        return _book_records(_books_dec.decode(raw))
    if channel in _TRADE_CHANNELS:
        return _trade_records(head.arg.instId, _list_dec.decode(head.data))
    return None
