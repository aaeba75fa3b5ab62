"""The Gate.io spot connector: ``spot.order_book_update`` deltas synced against REST
``/spot/order_book`` snapshots, ``spot.trades``, ``spot.ping`` keep-alive, pair metadata."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from typing import Any, ClassVar

import msgspec
from arbot.components import BotContext, MarketEvent
from arbot.config import ComponentSettings
from arbot.connectors.ratelimit import CountLimiter, RateLimitPolicy, SubscriptionPacer
from arbot.connectors.rest import RestClient
from arbot.connectors.scaffold import ScaffoldConnector
from arbot.connectors.snapshots import SnapshotFetcher
from arbot.connectors.ws import Backoff, GarbageFrame, Heartbeat, WsSession
from arbot.market import MarketInfo
from arbot.testing.emulator import EmulatorServer
from pydantic import Field

from arbot_gate.markets import parse_currency_pairs
from arbot_gate.messages import decode, head, parse_snapshot
from arbot_gate.replay import GateReplayDecoder
from arbot_gate.sync import VENUE, GateBookHandler

__all__ = ["GateConnector", "GateSettings"]

log = logging.getLogger("arbot_gate")


class GateSettings(ComponentSettings):
    """Settings of the Gate connector (``[connectors.gate]``); URLs overridable for tests."""

    rest_url: str = Field("https://api.gateio.ws/api/v4", description="REST base URL (v4)")
    ws_url: str = Field("wss://api.gateio.ws/ws/v4/", description="spot WebSocket URL")
    depth_limit: int = Field(100, ge=1, le=1000, description="REST snapshot depth")
    update_interval: str = Field("100ms", description="order_book_update speed: 100ms/1000ms")
    taker_fee: float = Field(0.001, ge=0.0, description="fee when a pair lists none")
    maker_fee: float = Field(0.001, description="maker fee when a pair lists none")
    requests_per_10s: int = Field(200, gt=0, description="public REST requests per 10 s")
    ping_interval: float = Field(10.0, gt=0, description="spot.ping period (s)")
    idle_timeout: float | None = Field(30.0, description="reconnect after this long silent")
    stale_after: float | None = Field(10.0, description="mark a book stale after this long")
    max_lifetime: float = Field(23.5 * 3600, gt=0, description="rotate the connection")
    backoff_initial: float = Field(0.5, gt=0)
    backoff_max: float = Field(30.0, gt=0)
    snapshot_retry_delay: float = Field(0.25, ge=0, description="before re-fetching a snapshot")
    messages_per_second: float = Field(10.0, gt=0, description="outgoing control messages/s")


class GateConnector(ScaffoldConnector):
    """Gate.io spot market data: local books from ``spot.order_book_update`` (legacy v1
    deltas) bridged to REST snapshots with ``with_id=true`` (core ``BookSync`` +
    ``RangeRule``), trades from ``spot.trades``, on one connection kept alive with
    ``spot.ping``."""

    name: ClassVar[str] = "gate"
    Settings: ClassVar[type[ComponentSettings]] = GateSettings
    description: ClassVar[str] = "Gate.io spot: order-book deltas, trades, pair metadata"
    emulator_class: ClassVar[str] = "arbot_gate.emulator:GateEmulator"
    replay_class = GateReplayDecoder

    def __init__(
        self,
        settings: Any,
        ctx: BotContext,
        on_event: Callable[[MarketEvent], None] | None = None,
        *,
        limiter: RateLimitPolicy | None = None,
    ) -> None:
        super().__init__(settings, ctx, on_event)
        s: GateSettings = settings
        self.limiter = limiter or CountLimiter(s.requests_per_10s, 10.0)
        self.rest = RestClient(s.rest_url, self.limiter)
        self.snapshots = SnapshotFetcher(self._fetch_snapshot, s.snapshot_retry_delay, name="gate")
        self.handler = GateBookHandler(ctx.market, self._emit, self.snapshots.want)
        self.sync = self.handler.sync
        self._markets_loaded = False
        self._known: set[str] = set()
        self._subscribed: set[tuple[str, str]] = set()
        self._ids = itertools.count(1)
        self._closed = False
        self.errors = 0
        self.ws = WsSession(
            s.ws_url,
            self._on_frame,
            on_close=lambda _session: self.sync.drop_all(),
            heartbeat=Heartbeat(ping_interval=None, ping_timeout=None, app_ping=self._ping,
                                app_ping_interval=s.ping_interval, idle_timeout=s.idle_timeout),
            backoff=Backoff(initial=s.backoff_initial, maximum=s.backoff_max),
            max_lifetime=s.max_lifetime,
            pacer=SubscriptionPacer(s.messages_per_second, burst=int(s.messages_per_second)),
            name="gate",
        )

    def _ping(self) -> str:
        return msgspec.json.encode({"time": int(time.time()), "channel": "spot.ping"}).decode()

    def _on_frame(self, frame: str | bytes, ts: float) -> None:
        h = head(frame)
        if h.event == "update":
            records = decode(frame)
            if records is not None:
                self.handler.records(records, ts)
            return
        if h.error is not None:
            self.errors += 1
            log.warning("gate: error reply %r", frame)
        elif h.channel != "spot.pong" and h.event not in ("subscribe", "unsubscribe"):
            raise GarbageFrame("not a Gate message")

    # -- snapshots ---------------------------------------------------------------------------

    async def _fetch_snapshot(self, symbol: str) -> None:
        """Fetch and apply one REST book of ``symbol`` (``with_id=true``)."""
        s: GateSettings = self.settings
        path = (f"/spot/order_book?currency_pair={self.handler.symbols.to_venue(symbol)}"
                f"&limit={s.depth_limit}&with_id=true")
        snap = parse_snapshot(path, await self.rest.get(path))
        if snap is not None:
            self.handler.snapshot(snap, time.time())

    # -- Connector API -----------------------------------------------------------------------

    async def load_markets(self) -> list[MarketInfo]:
        """Markets from ``GET /spot/currency_pairs`` (precision, minimums, the pair's fee)."""
        s: GateSettings = self.settings
        infos = parse_currency_pairs(await self.rest.get("/spot/currency_pairs"), VENUE,
                                     s.taker_fee, s.maker_fee)
        return self.register_markets(infos, self.handler.symbols)

    def venue_symbol(self, symbol: str) -> str:
        """``BTC/USDT`` -> ``BTC_USDT`` (from the currency pairs)."""
        return self.listed_venue_symbol(symbol, self.handler.symbols, "/spot/currency_pairs")

    async def connect(self) -> None:
        """Load markets if needed and open the connection."""
        self._closed = False
        if not self._markets_loaded:
            await self.load_markets()
        self.snapshots.open()
        await self.ws.start(wait=True, timeout=self.ws.open_timeout + 5.0)
        self.start_stale_watch(self.settings.stale_after)

    async def _send_subscribe(self, channel: str, payload: list[str]) -> None:
        msg = {"time": int(time.time()), "id": next(self._ids), "channel": channel,
               "event": "subscribe", "payload": payload}
        await self.ws.subscribe(msgspec.json.encode(msg).decode())

    async def subscribe_orderbook(self, symbols: list[str], depth: int = 10) -> None:
        """``spot.order_book_update`` (one pair per request); books sync from REST snapshots
        (``depth`` is ignored: the book holds ``depth_limit`` levels and the deltas)."""
        s: GateSettings = self.settings
        for sym in symbols:
            pair = self.venue_symbol(sym)
            if ("book", sym) in self._subscribed:
                continue
            self._subscribed.add(("book", sym))
            self.sync.track(sym)
            await self._send_subscribe("spot.order_book_update", [pair, s.update_interval])

    async def subscribe_trades(self, symbols: list[str]) -> None:
        """``spot.trades`` for the pairs not subscribed yet (one request)."""
        new = [x for x in symbols if ("trades", x) not in self._subscribed]
        pairs = [self.venue_symbol(x) for x in new]
        self._subscribed.update(("trades", x) for x in new)
        if pairs:
            await self._send_subscribe("spot.trades", pairs)

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
        return {"rest_url": emulator.http_url + "/api/v4", "ws_url": emulator.ws_url + "/ws/v4/"}

    def stats(self) -> dict[str, int]:
        """Counters: connection, book synchronisation (per-symbol resyncs) and REST."""
        out = self.base_stats()
        out["control_errors"] = self.errors
        return out
