"""Binance message models (msgspec, lax: numbers arrive as strings) and the book handler
shared by the live connector and the capture replay decoder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec
from arbot.components import MarketEvent, ReplayDecoder
from arbot.connectors.booksync import BinanceFuturesRule, BinanceSpotRule, BookSync
from arbot.connectors.ws import GarbageFrame
from arbot.events import Side, TradeTick
from arbot.market import MarketState

__all__ = [
    "BinanceBookHandler",
    "BinanceReplayDecoder",
    "DepthSnapshot",
    "DepthUpdate",
    "Envelope",
    "Trade",
    "guess_unified",
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
    """A ``<symbol>@trade`` event; ``m`` = the buyer was the maker (the aggressor sold)."""

    s: str
    p: float
    q: float
    m: bool
    T: int = 0


class DepthSnapshot(msgspec.Struct):
    """``GET /api/v3/depth`` body."""

    lastUpdateId: int  # noqa: N815 - the venue's field name
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]


class ServerEvent(msgspec.Struct):
    """Any other event (only ``e`` is read, e.g. ``serverShutdown``)."""

    e: str | None = None


envelope_decoder = msgspec.json.Decoder(Envelope)
depth_decoder = msgspec.json.Decoder(DepthUpdate, strict=False)
trade_decoder = msgspec.json.Decoder(Trade, strict=False)
snapshot_decoder = msgspec.json.Decoder(DepthSnapshot, strict=False)
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


class BinanceBookHandler:
    """Turns decoded Binance messages into book changes (through :class:`BookSync`) and
    trades. The live connector and the replay decoder both use it, so the same rules apply."""

    def __init__(
        self,
        market: MarketState,
        emit: Callable[[MarketEvent], None] | None,
        request_snapshot: Callable[[str], None] | None,
        *,
        futures: bool = False,
        unified: dict[str, str] | None = None,
    ) -> None:
        self.sync = BookSync(
            VENUE, market, BinanceFuturesRule() if futures else BinanceSpotRule(),
            emit=emit, request_snapshot=request_snapshot,
        )
        self.emit = emit
        self.unified: dict[str, str] = unified if unified is not None else {}
        self.ignored = 0
        self.errors = 0

    def unify(self, venue_symbol: str) -> str:
        """The unified symbol of a venue symbol."""
        u = self.unified.get(venue_symbol)
        if u is None:
            u = guess_unified(venue_symbol)
            self.unified[venue_symbol] = u
        return u

    def depth(self, d: DepthUpdate, ts: float) -> None:
        """Apply one diff-depth event."""
        self.sync.on_delta(self.unify(d.s), d.U, d.u, d.b, d.a, ts, d.E * 0.001, d.pu)

    def trade(self, t: Trade, ts: float) -> None:
        """Emit one trade."""
        if self.emit is not None:
            side = Side.SELL if t.m else Side.BUY
            self.emit(TradeTick(ts, VENUE, self.unify(t.s), t.p, t.q, side, t.T * 0.001))

    def snapshot(self, venue_symbol: str, snap: DepthSnapshot, ts: float) -> bool:
        """Apply one REST snapshot; True when the book is live afterwards."""
        return self.sync.on_snapshot(self.unify(venue_symbol), snap.lastUpdateId, snap.bids,
                                     snap.asks, ts)

    def frame(self, frame: str | bytes, ts: float) -> str | None:
        """Handle one raw combined-stream frame; returns the stream name, or the event type of
        a non-market event (``"serverShutdown"``), or None for a control reply.

        Raises :class:`GarbageFrame` (or a decode error) for a frame that is not a Binance
        message.
        """
        env = envelope_decoder.decode(frame)
        data = env.data
        stream = env.stream
        if not data or stream is None:
            if env.id is not None or env.code is not None or "result" in _keys(frame):
                if env.code is not None:
                    self.errors += 1
                return None
            ev = event_decoder.decode(frame)
            if ev.e is not None:
                return ev.e
            raise GarbageFrame("not a Binance message")
        if "@depth" in stream:
            self.depth(depth_decoder.decode(data), ts)
        elif stream.endswith("@trade"):
            self.trade(trade_decoder.decode(data), ts)
        else:
            ev = event_decoder.decode(data)
            if ev.e == "serverShutdown":
                return "serverShutdown"
            self.ignored += 1
        return stream


def _keys(frame: str | bytes) -> set[str]:
    try:
        obj = msgspec.json.decode(frame)
    except msgspec.DecodeError:
        return set()
    return set(obj) if isinstance(obj, dict) else set()


class BinanceReplayDecoder(ReplayDecoder):
    """Replays Binance NDJSON captures (combined streams + REST depth snapshots) with the
    connector's own synchronisation rules. ``futures=True`` uses the USDⓈ-M rule (``pu``)."""

    def __init__(self, futures: bool = False, unified: dict[str, str] | None = None) -> None:
        self.market = MarketState()
        self._out: list[MarketEvent] = []
        self.handler = BinanceBookHandler(self.market, self._out.append, None,
                                          futures=futures, unified=unified)

    @property
    def sync(self) -> BookSync:
        """The book synchroniser (its ``stats`` count snapshots, gaps, resyncs)."""
        return self.handler.sync

    def _take(self) -> list[MarketEvent]:
        out = self._out
        self._out = []
        self.handler.emit = self._out.append
        self.handler.sync.emit = self._out.append
        return out

    def feed(self, msg: Any, ts: float) -> list[MarketEvent]:
        """Events of one recorded message (combined-stream form)."""
        if not isinstance(msg, dict):
            return []
        data = msg.get("data")
        stream = msg.get("stream")
        if not isinstance(data, dict) or not isinstance(stream, str):
            return []
        if "@depth" in stream and "U" in data:
            self.handler.depth(msgspec.convert(data, DepthUpdate, strict=False), ts)
        elif stream.endswith("@trade"):
            self.handler.trade(msgspec.convert(data, Trade, strict=False), ts)
        else:
            return []
        return self._take()

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """Events of one recorded REST depth snapshot (symbol from the URL's query)."""
        symbol = parse_qs(urlsplit(url).query).get("symbol", [""])[0]
        if not symbol or not isinstance(body, dict) or "lastUpdateId" not in body:
            return []
        self.handler.snapshot(symbol, msgspec.convert(body, DepthSnapshot, strict=False), ts)
        return self._take()
