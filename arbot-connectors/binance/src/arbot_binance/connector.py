"""The Binance spot connector: combined-stream diff depth + trades, REST snapshots, metadata."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import msgspec
from arbot.components import BotContext, MarketEvent
from arbot.config import ComponentSettings
from arbot.connectors.ratelimit import RateLimitPolicy, SubscriptionPacer, WeightLimiter
from arbot.connectors.rest import RestClient
from arbot.connectors.scaffold import ScaffoldConnector
from arbot.connectors.snapshots import SnapshotFetcher
from arbot.connectors.ws import Backoff, Heartbeat, WsSession
from arbot.errors import ArbotError
from arbot.market import MarketInfo
from arbot.testing.emulator import EmulatorServer
from pydantic import Field

from arbot_binance.decode import VENUE, BinanceBookHandler, BinanceReplayDecoder, DepthSnapshot

__all__ = ["BinanceConnector", "BinanceSettings", "depth_weight", "parse_exchange_info"]

log = logging.getLogger("arbot_binance")


class BinanceSettings(ComponentSettings):
    """Settings of the Binance connector (``[connectors.binance]``); URLs overridable for tests."""

    rest_url: str = Field("https://api.binance.com", description="REST base URL")
    ws_url: str = Field("wss://stream.binance.com:9443", description="WebSocket base URL")
    depth_limit: int = Field(1000, ge=5, le=5000, description="REST snapshot depth")
    update_speed_ms: int = Field(100, description="diff-depth speed: 100 or 1000 ms")
    taker_fee: float = Field(0.001, ge=0.0, description="taker fee fraction (0.001 = 0.1 %)")
    maker_fee: float = Field(0.001, description="maker fee fraction")
    weight_limit: int = Field(6000, gt=0, description="REST weight per minute (per IP)")
    ping_interval: float | None = Field(None, description="client protocol pings (server pings)")
    idle_timeout: float | None = Field(60.0, description="reconnect after this long silent")
    stale_after: float | None = Field(10.0, description="mark a book stale after this long")
    max_lifetime: float = Field(23.5 * 3600, gt=0, description="rotate before 24 h")
    backoff_initial: float = Field(0.5, gt=0)
    backoff_max: float = Field(30.0, gt=0)
    snapshot_retry_delay: float = Field(0.25, ge=0, description="before re-fetching a snapshot")
    messages_per_second: float = Field(4.0, gt=0, description="outgoing control messages/s")


def depth_weight(limit: int) -> int:
    """Request weight of ``GET /api/v3/depth`` for ``limit``."""
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


class _Filter(msgspec.Struct):
    filterType: str  # noqa: N815
    tickSize: float = 0.0  # noqa: N815
    stepSize: float = 0.0  # noqa: N815
    minQty: float = 0.0  # noqa: N815
    minNotional: float = 0.0  # noqa: N815
    notional: float = 0.0


class _Symbol(msgspec.Struct):
    symbol: str
    baseAsset: str  # noqa: N815
    quoteAsset: str  # noqa: N815
    status: str = "TRADING"
    filters: list[_Filter] = []


class _ExchangeInfo(msgspec.Struct):
    symbols: list[_Symbol]


def parse_exchange_info(
    body: bytes | Mapping[str, Any], taker_fee: float = 0.001, maker_fee: float = 0.001
) -> list[MarketInfo]:
    """MarketInfo for every symbol of an ``exchangeInfo`` body (bytes or decoded JSON)."""
    if isinstance(body, bytes | bytearray | str):
        info = msgspec.json.decode(body, type=_ExchangeInfo, strict=False)
    else:
        info = msgspec.convert(body, _ExchangeInfo, strict=False)
    out = []
    for s in info.symbols:
        tick = step = min_qty = min_notional = 0.0
        for f in s.filters:
            if f.filterType == "PRICE_FILTER":
                tick = f.tickSize
            elif f.filterType == "LOT_SIZE":
                step, min_qty = f.stepSize, f.minQty
            elif f.filterType == "MIN_NOTIONAL" or f.filterType == "NOTIONAL":
                min_notional = max(min_notional, f.minNotional)
        out.append(MarketInfo(
            venue=VENUE, symbol=f"{s.baseAsset}/{s.quoteAsset}", base=s.baseAsset,
            quote=s.quoteAsset, venue_symbol=s.symbol, tick_size=tick, step_size=step,
            min_qty=min_qty, min_notional=min_notional, taker_fee=taker_fee,
            maker_fee=maker_fee, active=s.status == "TRADING",
        ))
    return out


class BinanceConnector(ScaffoldConnector):
    """Binance spot market data: local books from ``<s>@depth@100ms`` + REST snapshots (the
    official procedure, through :class:`~arbot.connectors.booksync.BookSync`) and trades from
    ``<s>@trade``, over one combined-stream connection."""

    name: ClassVar[str] = "binance"
    Settings: ClassVar[type[ComponentSettings]] = BinanceSettings
    description: ClassVar[str] = "Binance spot: diff-depth books, trades, market metadata"
    emulator_class: ClassVar[str] = "arbot_binance.emulator:BinanceEmulator"
    replay_class = BinanceReplayDecoder

    def __init__(
        self,
        settings: Any,
        ctx: BotContext,
        on_event: Callable[[MarketEvent], None] | None = None,
        *,
        limiter: RateLimitPolicy | None = None,
    ) -> None:
        super().__init__(settings, ctx, on_event)
        s: BinanceSettings = settings
        self.limiter = limiter or WeightLimiter(s.weight_limit, 60.0)
        self.rest = RestClient(s.rest_url, self.limiter, on_response=self._on_headers)
        self.snapshots = SnapshotFetcher(self._fetch_snapshot, s.snapshot_retry_delay,
                                         name="binance")
        self.handler = BinanceBookHandler(ctx.market, self._emit, self.snapshots.want)
        self.sync = self.handler.sync
        self._to_venue: dict[str, str] = {}
        self._markets_loaded = False
        self._streams: list[str] = []
        self._next_id = 0
        self._closed = False
        self.ws = WsSession(
            s.ws_url.rstrip("/") + "/stream",
            self._on_frame,
            on_close=self._on_ws_close,
            heartbeat=Heartbeat(ping_interval=s.ping_interval, ping_timeout=s.ping_interval,
                                idle_timeout=s.idle_timeout),
            backoff=Backoff(initial=s.backoff_initial, maximum=s.backoff_max),
            max_lifetime=s.max_lifetime,
            pacer=SubscriptionPacer(s.messages_per_second, burst=int(s.messages_per_second)),
            name="binance",
        )

    # -- events ------------------------------------------------------------------------------

    def _on_headers(self, headers: Mapping[str, str]) -> None:
        used = headers.get("X-MBX-USED-WEIGHT-1M")
        if used is not None:
            with contextlib.suppress(ValueError):
                self.limiter.sync_used(float(used))

    def _on_frame(self, frame: str | bytes, ts: float) -> None:
        kind = self.handler.frame(frame, ts)
        if kind == "serverShutdown":
            log.info("binance: server shutdown announced, reconnecting")
            self.ws.reconnect()

    def _on_ws_close(self, _session: WsSession) -> None:
        self.sync.drop_all()

    # -- snapshots ---------------------------------------------------------------------------

    async def _fetch_snapshot(self, symbol: str) -> None:
        """Fetch and apply one ``/api/v3/depth`` snapshot of ``symbol``."""
        s: BinanceSettings = self.settings
        venue_symbol = self._to_venue.get(symbol) or symbol.replace("/", "")
        snap = await self.rest.get(
            "/api/v3/depth", {"symbol": venue_symbol, "limit": s.depth_limit},
            weight=depth_weight(s.depth_limit), decode=DepthSnapshot,
        )
        self.handler.snapshot(venue_symbol, snap, time.time())

    # -- Connector API -----------------------------------------------------------------------

    async def load_markets(self) -> list[MarketInfo]:
        """Markets from ``GET /api/v3/exchangeInfo`` (tick, step, min notional; default fees)."""
        s: BinanceSettings = self.settings
        body = await self.rest.get("/api/v3/exchangeInfo", weight=20, decode=_ExchangeInfo)
        infos = parse_exchange_info(msgspec.to_builtins(body), s.taker_fee, s.maker_fee)
        for info in infos:
            self.ctx.market.add_market(info)
            self._to_venue[info.symbol] = info.venue_symbol
            self.handler.unified[info.venue_symbol] = info.symbol
        self._markets_loaded = True
        return infos

    def venue_symbol(self, symbol: str) -> str:
        """``BTC/USDT`` -> ``BTCUSDT`` (from exchangeInfo)."""
        v = self._to_venue.get(symbol)
        if v is None:
            raise ArbotError(f"binance: unknown symbol {symbol!r} (not in exchangeInfo)")
        return v

    async def connect(self) -> None:
        """Load markets if needed and open the combined-stream connection."""
        self._closed = False
        if not self._markets_loaded:
            await self.load_markets()
        self.snapshots.open()
        await self.ws.start(wait=True, timeout=self.ws.open_timeout + 5.0)
        self.start_stale_watch(self.settings.stale_after)

    async def _subscribe(self, streams: list[str]) -> None:
        new = [x for x in streams if x not in self._streams]
        for i in range(0, len(new), 200):
            chunk = new[i:i + 200]
            self._next_id += 1
            self._streams.extend(chunk)
            msg = msgspec.json.encode(
                {"method": "SUBSCRIBE", "params": chunk, "id": self._next_id}).decode()
            await self.ws.subscribe(msg)

    async def subscribe_orderbook(self, symbols: list[str], depth: int = 10) -> None:
        """Diff-depth streams; each book syncs from a REST snapshot (``depth`` is ignored:
        the local book holds ``depth_limit`` levels)."""
        s: BinanceSettings = self.settings
        suffix = "@depth@100ms" if s.update_speed_ms == 100 else "@depth"
        streams = []
        for sym in symbols:
            self.sync.track(sym)
            streams.append(self.venue_symbol(sym).lower() + suffix)
        await self._subscribe(streams)

    async def subscribe_trades(self, symbols: list[str]) -> None:
        """``<symbol>@trade`` streams."""
        await self._subscribe([self.venue_symbol(sym).lower() + "@trade" for sym in symbols])

    async def close(self) -> None:
        """Close the connection, stop snapshot fetches, close the HTTP session."""
        self._closed = True
        await self.ws.close()
        await self.snapshots.close()
        await self.stop_stale_watch()
        await self.rest.close()

    @classmethod
    def emulated_settings(cls, emulator: EmulatorServer) -> dict[str, Any]:
        """Settings pointing at a started emulator."""
        return {"rest_url": emulator.http_url, "ws_url": emulator.ws_url}

    def stats(self) -> dict[str, int]:
        """Counters: connection, book synchronisation and REST."""
        out = self.base_stats()
        out["control_errors"] = self.handler.errors
        return out
