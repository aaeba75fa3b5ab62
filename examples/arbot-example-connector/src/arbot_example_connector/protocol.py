"""Toyex's public WebSocket protocol, decoded into core records.

Requests: ``{"op": "sub" | "unsub", "ch": "book" | "trade", "sym": "BTC-USDT"}``, answered by
``{"op": "ack", ...}`` or ``{"op": "error", "msg": ...}``; keep-alive ``{"op": "ping"}`` ->
``{"op": "pong"}``. Pushes: ``{"ch": "book", "sym", "first", "last", "bids", "asks", "ts"}``
(level changes covering update ids ``first``..``last``; size ``"0"`` deletes) and
``{"ch": "trade", "sym", "px", "qty", "side", "id", "ts"}``. Prices and sizes are strings, times
milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from arbot.connectors.protocol import Channel, Subscription
from arbot.connectors.records import BookKind, BookRecord, Control, Record, TradeMsg
from arbot.connectors.ws import GarbageFrame
from arbot.events import Side

__all__ = ["ToyexProtocol", "parse_book"]


class _Push(msgspec.Struct):
    """Every Toyex frame: a push (``ch``) or a reply (``op``)."""

    ch: str = ""
    op: str = ""
    sym: str = ""
    first: int = 0
    last: int = 0
    bids: list[tuple[float, float]] = []
    asks: list[tuple[float, float]] = []
    px: float = 0.0
    qty: float = 0.0
    side: str = ""
    id: int = 0
    ts: int = 0


class _RestBook(msgspec.Struct):
    sym: str
    id: int
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]


# strict=False: number strings ("100.5") become floats inside msgspec's C decoder.
_push_dec = msgspec.json.Decoder(_Push, strict=False)
_CHANNELS = {Channel.BOOK: "book", Channel.TRADES: "trade"}


def _records(p: _Push) -> list[Record] | None:
    if p.op:  # a reply (an ack names the channel too): no market data
        return None
    if p.ch == "book":
        return [BookRecord(p.sym, BookKind.DELTA, p.bids, p.asks, p.first, p.last, None,
                           p.ts / 1000.0)]
    if p.ch == "trade":
        return [TradeMsg(p.sym, p.px, p.qty, Side.BUY if p.side == "buy" else Side.SELL,
                         p.ts / 1000.0, str(p.id))]
    return None


def parse_book(body: object) -> BookRecord:
    """A ``GET /book`` body as a SNAPSHOT record whose id is the book's update id."""
    b = msgspec.convert(body, _RestBook, strict=False)
    return BookRecord(b.sym, BookKind.SNAPSHOT, b.bids, b.asks, b.id, b.id)


class ToyexProtocol:
    """Toyex's :class:`~arbot.connectors.protocol.WireProtocol`."""

    #: Each request carries one subscription (not the whole set); nothing waits for a greeting.
    whole_set = False
    welcome_first = False

    def _requests(self, op: str, subs: Sequence[Subscription]) -> list[str]:
        return [msgspec.json.encode({"op": op, "ch": _CHANNELS[s.channel],
                                     "sym": s.venue_symbol}).decode() for s in subs]

    def subscribe(self, subs: Sequence[Subscription]) -> list[str]:
        """One ``sub`` request per subscription."""
        return self._requests("sub", subs)

    def unsubscribe(self, subs: Sequence[Subscription]) -> list[str]:
        """One ``unsub`` request per subscription."""
        return self._requests("unsub", subs)

    def ping(self) -> str:
        """``{"op": "ping"}``."""
        return '{"op":"ping"}'

    def decode(self, frame: str | bytes) -> list[Record] | Control:
        """Records of a push, or what the reply is; anything else is garbage."""
        p = _push_dec.decode(frame)
        records = _records(p)
        if records is not None:
            return records
        if p.op == "pong":
            return Control.PONG
        if p.op == "ack":
            return Control.ACK
        if p.op == "error":
            return Control.ERROR
        raise GarbageFrame("not a Toyex message")

    def parse(self, msg: object) -> list[Record] | None:
        """Records of a JSON-decoded push (capture replay)."""
        if not isinstance(msg, dict) or "ch" not in msg:
            return None
        return _records(msgspec.convert(msg, _Push, strict=False))
