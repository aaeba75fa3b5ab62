"""The KuCoin spot connector: ``/market/level2`` + ``/market/match`` over a bullet-token
WebSocket, books synchronised against REST level-2 snapshots, ``/api/v2/symbols`` metadata."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

import msgspec
from arbot.components import BotContext, MarketEvent
from arbot.config import ComponentSettings
from arbot.connectors.ratelimit import RateLimitPolicy, SubscriptionPacer, WeightLimiter
from arbot.connectors.rest import RestClient, RestError
from arbot.connectors.scaffold import ScaffoldConnector, stop_tasks
from arbot.connectors.snapshots import SnapshotFetcher
from arbot.connectors.ws import Backoff, GarbageFrame, Heartbeat, WsSession
from arbot.market import MarketInfo
from arbot.testing.emulator import EmulatorServer
from pydantic import Field

from arbot_kucoin.markets import parse_symbols
from arbot_kucoin.messages import decode, frame_type, parse_snapshot
from arbot_kucoin.replay import KucoinReplayDecoder
from arbot_kucoin.sync import VENUE, KucoinBookHandler

__all__ = ["KucoinConnector", "KucoinSettings"]

log = logging.getLogger("arbot_kucoin")


class KucoinSettings(ComponentSettings):
    """Settings of the KuCoin connector (``[connectors.kucoin]``); URLs overridable for tests."""

    rest_url: str = Field("https://api.kucoin.com", description="REST base URL")
    ws_url: str | None = Field(
        None, description="WebSocket endpoint; None: the one the bullet token names")
    snapshot_path: str = Field(
        "/api/v1/market/orderbook/level2_100",
        description="REST book (public level2_20/level2_100, or the authenticated full book)")
    taker_fee: float = Field(0.001, ge=0.0, description="taker fee fraction")
    maker_fee: float = Field(0.001, description="maker fee fraction")
    public_weight_limit: int = Field(2000, gt=0, description="public REST pool per 30 s")
    ping_interval: float | None = Field(
        None, description="JSON ping period (s); None: the bullet's pingInterval")
    idle_timeout: float | None = Field(30.0, description="reconnect after this long silent")
    stale_after: float | None = Field(10.0, description="mark a book stale after this long")
    max_lifetime: float = Field(23.5 * 3600, gt=0, description="rotate before the 24 h token")
    backoff_initial: float = Field(0.5, gt=0)
    backoff_max: float = Field(30.0, gt=0)
    snapshot_retry_delay: float = Field(0.25, ge=0, description="before re-fetching a snapshot")
    messages_per_second: float = Field(9.0, gt=0, description="client messages/s (100 per 10 s)")


class _Server(msgspec.Struct):
    endpoint: str
    pingInterval: int = 18000  # noqa: N815 - venue field names
    pingTimeout: int = 10000  # noqa: N815


class _BulletData(msgspec.Struct):
    token: str
    instanceServers: list[_Server]  # noqa: N815


class _Bullet(msgspec.Struct):
    data: _BulletData


class KucoinConnector(ScaffoldConnector):
    """KuCoin spot market data: local books from ``/market/level2`` deltas bridged to REST
    level-2 snapshots (core ``BookSync`` + ``RangeRule``), trades from ``/market/match``, on
    one connection obtained with a public bullet token and kept alive with JSON pings."""

    name: ClassVar[str] = "kucoin"
    Settings: ClassVar[type[ComponentSettings]] = KucoinSettings
    description: ClassVar[str] = "KuCoin spot: level2 books, trades, market metadata"
    emulator_class: ClassVar[str] = "arbot_kucoin.emulator:KucoinEmulator"
    replay_class = KucoinReplayDecoder

    def __init__(
        self,
        settings: Any,
        ctx: BotContext,
        on_event: Callable[[MarketEvent], None] | None = None,
        *,
        limiter: RateLimitPolicy | None = None,
    ) -> None:
        super().__init__(settings, ctx, on_event)
        s: KucoinSettings = settings
        self.limiter = limiter or WeightLimiter(s.public_weight_limit, 30.0)
        self.rest = RestClient(s.rest_url, self.limiter)
        self.snapshots = SnapshotFetcher(self._fetch_snapshot, s.snapshot_retry_delay,
                                         name="kucoin")
        self.handler = KucoinBookHandler(ctx.market, self._emit, self.snapshots.want)
        self.sync = self.handler.sync
        self._markets_loaded = False
        self._known: set[str] = set()
        self._topics: set[str] = set()
        self._requests: list[str] = []  # subscribe messages, sent after each ``welcome``
        self._welcomed = False
        self._sender: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._aux: list[asyncio.Task[None]] = []
        self._closed = False
        self._endpoint = ""
        self._token = ""
        self.errors = 0
        self.ws = WsSession(
            self._url,
            self._on_frame,
            on_close=self._on_ws_close,
            heartbeat=Heartbeat(ping_interval=None, ping_timeout=None, app_ping=self._ping,
                                app_ping_interval=s.ping_interval or 18.0,
                                idle_timeout=s.idle_timeout),
            backoff=Backoff(initial=s.backoff_initial, maximum=s.backoff_max),
            max_lifetime=s.max_lifetime,
            pacer=SubscriptionPacer(s.messages_per_second, burst=int(s.messages_per_second)),
            name="kucoin",
        )

    # -- connection ----------------------------------------------------------------------------

    def _url(self) -> str:
        """Endpoint + token + a fresh connectId (evaluated at every connect)."""
        sep = "&" if "?" in self._endpoint else "?"
        return f"{self._endpoint}{sep}token={self._token}&connectId={uuid.uuid4().hex}"

    def _ping(self) -> str:
        return msgspec.json.encode({"id": str(next(self._ids)), "type": "ping"}).decode()

    async def _bullet(self) -> None:
        """``POST /api/v1/bullet-public``: token, endpoint and ping period."""
        s: KucoinSettings = self.settings
        body = await self.rest.request("POST", "/api/v1/bullet-public", weight=10,
                                       decode=_Bullet)
        server = body.data.instanceServers[0]
        self._token = body.data.token
        self._endpoint = s.ws_url or server.endpoint
        if s.ping_interval is None:
            self.ws.heartbeat.app_ping_interval = server.pingInterval / 1000.0

    async def _refresh_token(self) -> None:
        with contextlib.suppress(RestError, msgspec.DecodeError, msgspec.ValidationError):
            await self._bullet()

    def _on_frame(self, frame: str | bytes, ts: float) -> None:
        kind = frame_type(frame)
        if kind == "message":
            records = decode(frame)
            if records is not None:
                self.handler.records(records, ts)
        elif kind == "error":
            self.errors += 1
            log.warning("kucoin: error reply %r", frame)
        elif kind == "welcome":
            # nothing may be sent before the welcome: (re)subscribe now
            self._welcomed = True
            self._sender = asyncio.get_running_loop().create_task(self._send_all())
        elif kind not in ("ack", "pong", "notice"):
            raise GarbageFrame("not a KuCoin message")

    async def _send_all(self) -> None:
        for msg in list(self._requests):
            await self.ws.send(msg)

    def _on_ws_close(self, _session: WsSession) -> None:
        self._welcomed = False
        self.handler.reset()
        if not self._closed:  # the next connect may need a fresh token (24 h validity)
            self._aux = [t for t in self._aux if not t.done()]
            self._aux.append(asyncio.get_running_loop().create_task(self._refresh_token()))

    # -- snapshots ---------------------------------------------------------------------------

    async def _fetch_snapshot(self, symbol: str) -> None:
        """Fetch and apply one REST level-2 book of ``symbol``."""
        s: KucoinSettings = self.settings
        path = f"{s.snapshot_path}?symbol={self.handler.symbols.to_venue(symbol)}"
        weight = 2 if path.endswith("_20") else 4 if "level2_100" in path else 3
        snap = parse_snapshot(path, await self.rest.get(path, weight=weight))
        if snap is not None:
            self.handler.snapshot(snap, time.time())

    # -- Connector API -----------------------------------------------------------------------

    async def load_markets(self) -> list[MarketInfo]:
        """Markets from ``GET /api/v2/symbols`` (tick, step, minimum size/funds)."""
        s: KucoinSettings = self.settings
        body = await self.rest.get("/api/v2/symbols", weight=4)
        infos = parse_symbols(body, VENUE, s.taker_fee, s.maker_fee)
        return self.register_markets(infos, self.handler.symbols)

    def venue_symbol(self, symbol: str) -> str:
        """``BTC/USDT`` -> ``BTC-USDT`` (from the symbols metadata)."""
        return self.listed_venue_symbol(symbol, self.handler.symbols, "/api/v2/symbols")

    async def connect(self) -> None:
        """Load markets if needed, get a bullet token and open the connection."""
        self._closed = False
        if not self._markets_loaded:
            await self.load_markets()
        await self._bullet()
        self.snapshots.open()
        await self.ws.start(wait=True, timeout=self.ws.open_timeout + 5.0)
        self.start_stale_watch(self.settings.stale_after)

    async def _subscribe(self, prefix: str, symbols: list[str]) -> None:
        new = [self.venue_symbol(x) for x in symbols if f"{prefix}:{x}" not in self._topics]
        self._topics.update(f"{prefix}:{x}" for x in symbols)
        for i in range(0, len(new), 100):  # at most 100 symbols per topic
            msg = {"id": str(next(self._ids)), "type": "subscribe",
                   "topic": f"{prefix}:{','.join(new[i:i + 100])}", "privateChannel": False,
                   "response": True}
            text = msgspec.json.encode(msg).decode()
            self._requests.append(text)
            if self._welcomed:
                await self.ws.send(text)

    async def subscribe_orderbook(self, symbols: list[str], depth: int = 10) -> None:
        """``/market/level2`` deltas; each book syncs from a REST snapshot (``depth`` is
        ignored: the book holds what the snapshot and the deltas give)."""
        for sym in symbols:
            self.venue_symbol(sym)
            self.sync.track(sym)
        await self._subscribe("/market/level2", symbols)

    async def subscribe_trades(self, symbols: list[str]) -> None:
        """``/market/match`` trades."""
        await self._subscribe("/market/match", symbols)

    async def close(self) -> None:
        """Close the connection, stop snapshot fetches, close the HTTP session."""
        self._closed = True
        await self.ws.close()
        await self.snapshots.close()
        await self.stop_stale_watch()
        tasks, self._aux = [*self._aux, self._sender], []
        await stop_tasks(tasks)
        await self.rest.close()

    @classmethod
    def emulated_settings(cls, emulator: EmulatorServer) -> dict[str, Any]:
        """Settings pointing at a started emulator (the bullet names its WebSocket)."""
        return {"rest_url": emulator.http_url}

    def stats(self) -> dict[str, int]:
        """Counters: connection, book synchronisation and REST."""
        out = self.base_stats()
        out["control_errors"] = self.errors
        return out
