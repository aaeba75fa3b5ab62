"""Binance message models (msgspec, lax: numbers arrive as strings) and the wire protocol of
the combined-stream WebSocket, spot and USDⓈ-M futures alike.

Depth events become core :class:`~arbot.connectors.records.BookRecord` deltas
(``first``/``last`` = ``U``/``u``, ``prev`` = ``pu`` on futures), trades (``@trade``,
``@aggTrade``) core :class:`~arbot.connectors.records.TradeMsg`; a REST depth body becomes a
SNAPSHOT record of id ``lastUpdateId`` (:func:`snapshot_record`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import msgspec
from arbot.connectors.protocol import Channel, Subscription
from arbot.connectors.records import BookKind, BookRecord, Control, Record, TradeMsg
from arbot.connectors.symbols import SymbolMap
from arbot.connectors.ws import GarbageFrame
from arbot.events import Side

__all__ = [
    "BinanceProtocol",
    "DepthSnapshot",
    "DepthUpdate",
    "Envelope",
    "Trade",
    "binance_symbols",
    "guess_unified",
    "parse",
    "snapshot_record",
]

VENUE = "binance"


class Envelope(msgspec.Struct):
    """A combined-stream frame, or a control reply (``result``/``id``, ``code``/``msg``)."""

    stream: str | None = None
    data: msgspec.Raw = msgspec.Raw(b"")
    id: Any = None
    result: Any = None
    code: int | None = None
    msg: str | None = None


class DepthUpdate(msgspec.Struct):
    """A diff-depth event (``pu`` only on futures streams)."""

    s: str
    U: int
    u: int
    b: list[tuple[float, float]]
    a: list[tuple[float, float]]
    E: int = 0
    pu: int | None = None


class Trade(msgspec.Struct):
    """A ``<symbol>@trade`` / ``@aggTrade`` event; ``m`` = the buyer was the maker (the
    aggressor sold)."""

    s: str
    p: float
    q: float
    m: bool
    T: int = 0
    t: int | None = None
    a: int | None = None


class DepthSnapshot(msgspec.Struct):
    """``GET /api/v3/depth`` (spot) / ``GET /fapi/v1/depth`` (futures) body."""

    lastUpdateId: int  # noqa: N815 - the venue's field name
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]


class ServerEvent(msgspec.Struct):
    """Any other event (only ``e`` is read, e.g. ``serverShutdown``)."""

    e: str | None = None


envelope_decoder = msgspec.json.Decoder(Envelope)
depth_decoder = msgspec.json.Decoder(DepthUpdate, strict=False)
trade_decoder = msgspec.json.Decoder(Trade, strict=False)
event_decoder = msgspec.json.Decoder(ServerEvent)

#: Quote assets tried (longest first) when no exchangeInfo is available (capture replay only).
_QUOTES = sorted(
    ["USDT", "BUSD", "USDC", "FDUSD", "TUSD", "USDP", "DAI", "BTC", "ETH", "BNB", "EUR", "GBP",
     "TRY", "BRL", "AUD", "RUB", "UAH", "NGN", "BIDR", "IDRT", "ZAR", "PLN", "RON", "ARS", "JPY",
     "MXN", "COP", "CZK", "XRP", "DOGE", "TRX", "DOT", "PAX", "VAI", "UST"],
    key=len, reverse=True,
)


def guess_unified(venue_symbol: str) -> str:
    """``BTCUSDT`` -> ``BTC/USDT`` by known quote suffixes (only when exchangeInfo is missing)."""
    for q in _QUOTES:
        if venue_symbol.endswith(q) and len(venue_symbol) > len(q):
            return f"{venue_symbol[: -len(q)]}/{q}"
    return venue_symbol


def _guess_linear(venue_symbol: str) -> str:
    spot = guess_unified(venue_symbol.partition("_")[0])
    quote = spot.partition("/")[2]
    return f"{spot}:{quote}" if quote else spot


def _venue_format(unified: str) -> str:
    return unified.partition(":")[0].replace("/", "")


def binance_symbols(linear: bool = False, pairs: dict[str, str] | None = None) -> SymbolMap:
    """The symbol map of the spot or the USDⓈ-M market (the same id, ``BTCUSDT``, is
    ``BTC/USDT`` on spot and ``BTC/USDT:USDT`` on USDⓈ-M)."""
    return SymbolMap((pairs or {}).items(), guess=_guess_linear if linear else guess_unified,
                     to_venue_format=_venue_format)


def _depth(d: DepthUpdate) -> BookRecord:
    return BookRecord(d.s, BookKind.DELTA, d.b, d.a, d.U, d.u, d.pu, d.E * 0.001)


def _trade(t: Trade) -> TradeMsg:
    tid = t.t if t.t is not None else t.a
    return TradeMsg(t.s, t.p, t.q, Side.SELL if t.m else Side.BUY, t.T * 0.001,
                    "" if tid is None else str(tid))


def snapshot_record(venue_symbol: str, snap: DepthSnapshot) -> BookRecord:
    """A REST depth body as a SNAPSHOT record of id ``lastUpdateId``."""
    return BookRecord(venue_symbol, BookKind.SNAPSHOT, snap.bids, snap.asks,
                      snap.lastUpdateId, snap.lastUpdateId)


_TRADE_SUFFIXES = ("@trade", "@aggTrade")
_convert = msgspec.convert


def parse(msg: object) -> list[Record] | None:
    """Records of one JSON-decoded combined-stream message (None: no market data)."""
    if type(msg) is not dict:
        return None
    stream = msg.get("stream")
    data = msg.get("data")
    if type(stream) is not str or type(data) is not dict:
        return None
    if "@depth" in stream:
        return [_depth(_convert(data, DepthUpdate, strict=False))] if "U" in data else None
    if stream.endswith(_TRADE_SUFFIXES):
        return [_trade(_convert(data, Trade, strict=False))]
    return None


#: ``id`` of outgoing requests.
_IDS = itertools.count(1)


class BinanceProtocol:
    """The combined-stream protocol (``/stream``): ``SUBSCRIBE``/``UNSUBSCRIBE`` with up to
    200 streams a request, ``<s>@depth@100ms`` (or ``@depth``) and ``<s>@trade`` (spot) /
    ``<s>@aggTrade`` (futures); the server pings, the client answers (no application ping);
    ``serverShutdown`` asks for a reconnect."""

    whole_set = False
    welcome_first = False

    def __init__(self, update_speed_ms: int = 100, trade_stream: str = "trade") -> None:
        self.depth_suffix = "@depth@100ms" if update_speed_ms == 100 else "@depth"
        self.trade_suffix = "@" + trade_stream
        self.ignored = 0

    def stream(self, sub: Subscription) -> str:
        """The stream name of a subscription."""
        suffix = self.depth_suffix if sub.channel is Channel.BOOK else self.trade_suffix
        return sub.venue_symbol.lower() + suffix

    def _requests(self, method: str, subs: Sequence[Subscription]) -> list[str]:
        streams = [self.stream(s) for s in subs]
        return [msgspec.json.encode({"method": method, "params": streams[i:i + 200],
                                     "id": next(_IDS)}).decode()
                for i in range(0, len(streams), 200)]

    def subscribe(self, subs: Sequence[Subscription]) -> list[str]:
        """``SUBSCRIBE`` requests."""
        return self._requests("SUBSCRIBE", subs)

    def unsubscribe(self, subs: Sequence[Subscription]) -> list[str]:
        """``UNSUBSCRIBE`` requests."""
        return self._requests("UNSUBSCRIBE", subs)

    def ping(self) -> None:
        """None: Binance's server pings (answered by the WebSocket layer)."""
        return None

    def decode(self, frame: str | bytes) -> list[Record] | Control:
        """Records of a stream frame; a control reply; ``serverShutdown`` (reconnect)."""
        env = envelope_decoder.decode(frame)
        data = env.data
        stream = env.stream
        if not data or stream is None:
            if env.code is not None:
                return Control.ERROR
            if env.id is not None or b'"result"' in (frame if isinstance(frame, bytes) else frame.encode()):
                return Control.ACK
            ev = event_decoder.decode(frame)
            if ev.e == "serverShutdown":
                return Control.RECONNECT
            if ev.e is not None:
                return Control.IGNORED
            raise GarbageFrame("not a Binance message")
        if "@depth" in stream:
            return [_depth(depth_decoder.decode(data))]
        if stream.endswith(_TRADE_SUFFIXES):
            return [_trade(trade_decoder.decode(data))]
        if event_decoder.decode(data).e == "serverShutdown":
            return Control.RECONNECT
        self.ignored += 1
        return Control.IGNORED

    def parse(self, msg: object) -> list[Record] | None:
        """Records of a JSON-decoded message."""
        return parse(msg)
