"""The Upbit connector: full top-N ``orderbook`` and ``trade`` streams over one WebSocket
(binary or text frames), ``PING`` keep-alive, ``/v1/market/all`` + orderbook-instrument
metadata. Bithumb's current API is a clone: :mod:`arbot_bithumb` subclasses this class."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import msgspec
from arbot.components import BotContext, Connector, MarketEvent, ReplayDecoder
from arbot.config import ComponentSettings
from arbot.connectors.ratelimit import CountLimiter, RateLimitPolicy, SubscriptionPacer
from arbot.connectors.rest import RestClient, RestError
from arbot.connectors.ws import Backoff, GarbageFrame, Heartbeat, WsSession
from arbot.errors import ArbotError
from arbot.market import MarketInfo
from arbot.testing.emulator import EmulatorServer
from pydantic import Field

from arbot_upbit.markets import VOLUME_STEP, parse_instruments, parse_market_all
from arbot_upbit.messages import decode, head
from arbot_upbit.replay import UpbitReplayDecoder
from arbot_upbit.sync import TopBookHandler

__all__ = ["UpbitConnector", "UpbitSettings"]

log = logging.getLogger("arbot_upbit")


class UpbitSettings(ComponentSettings):
    """Settings of the Upbit connector (``[connectors.upbit]``); URLs overridable for tests."""

    rest_url: str = Field("https://api.upbit.com", description="REST base URL")
    ws_url: str = Field("wss://api.upbit.com/websocket/v1", description="public WebSocket URL")
    depth: int = Field(15, description="orderbook units per code: 1, 5, 15 or 30")
    format: str = Field("DEFAULT", description="message format: DEFAULT or SIMPLE")
    requests_per_second: int = Field(10, gt=0, description="quotation REST requests/s (per IP)")
    messages_per_second: float = Field(5.0, gt=0, description="WS data requests/s")
    ping_interval: float = Field(20.0, gt=0, description="'PING' text period (s)")
    idle_timeout: float | None = Field(60.0, description="reconnect after this long silent")
    stale_after: float | None = Field(30.0, description="mark a book stale after this long")
    max_lifetime: float = Field(23.5 * 3600, gt=0, description="rotate the connection")
    backoff_initial: float = Field(0.5, gt=0)
    backoff_max: float = Field(30.0, gt=0)


class UpbitConnector(Connector):
    """Upbit market data: every ``orderbook`` message is the whole top-N book (core
    ``BookSync`` with ``NoSequenceRule`` through :class:`~arbot_upbit.sync.TopBookHandler`:
    first message = snapshot, later ones = the changes), trades from ``trade``. One request
    frame carries the whole subscription set; it is re-sent (with a new ticket) on reconnect
    and to resynchronise a book (the venue answers with fresh ``SNAPSHOT`` books)."""

    name: ClassVar[str] = "upbit"
    Settings: ClassVar[type[ComponentSettings]] = UpbitSettings
    description: ClassVar[str] = "Upbit: top-N books, trades, market metadata (KRW/BTC/USDT)"
    #: ``/v1/market/all`` query (Bithumb spells it ``isDetails``).
    market_all_query: ClassVar[str] = "is_details=true"
    #: Tick sizes endpoint (None: the venue has none).
    instruments_path: ClassVar[str | None] = "/v1/orderbook/instruments"

    def __init__(
        self,
        settings: Any,
        ctx: BotContext,
        on_event: Callable[[MarketEvent], None] | None = None,
        *,
        limiter: RateLimitPolicy | None = None,
    ) -> None:
        super().__init__(settings, ctx, on_event)
        s: UpbitSettings = settings
        self.limiter = limiter or CountLimiter(s.requests_per_second, 1.0)
        self.rest = RestClient(s.rest_url, self.limiter)
        self.handler = TopBookHandler(self.name, ctx.market, self._emit,
                                      request_snapshot=self._want_snapshot)
        self.sync = self.handler.sync
        self._markets_loaded = False
        self._known: set[str] = set()
        self._books: list[str] = []
        self._trades: list[str] = []
        self._request: str | None = None
        self._resend: asyncio.Task[None] | None = None
        self._aux: list[asyncio.Task[None]] = []
        self._closed = False
        self.errors = 0
        self.ws = WsSession(
            s.ws_url,
            self._on_frame,
            on_close=lambda _session: self.handler.reset(),
            heartbeat=Heartbeat(ping_interval=None, ping_timeout=None, app_ping="PING",
                                app_ping_interval=s.ping_interval, idle_timeout=s.idle_timeout),
            backoff=Backoff(initial=s.backoff_initial, maximum=s.backoff_max),
            max_lifetime=s.max_lifetime,
            pacer=SubscriptionPacer(s.messages_per_second, burst=int(s.messages_per_second)),
            name=self.name,
        )

    def _emit(self, ev: MarketEvent) -> None:
        cb = self.on_event
        if cb is not None:
            cb(ev)

    def _on_frame(self, frame: str | bytes, ts: float) -> None:
        h = head(frame)
        if h.kind in ("orderbook", "trade"):
            records = decode(frame)
            if records is not None:
                self.handler.records(records, ts)
        elif h.kind == "error":
            self.errors += 1
            log.warning("%s: error reply %r", self.name, h.error)
        elif h.kind == "":
            raise GarbageFrame(f"not an {self.name} message")

    # -- subscription --------------------------------------------------------------------------

    def _build_request(self) -> str:
        s: UpbitSettings = self.settings
        req: list[dict[str, Any]] = [{"ticket": f"arbot-{uuid.uuid4().hex[:16]}"}]
        if self._books:
            req.append({"type": "orderbook",
                        "codes": [self.book_code(self.venue_symbol(x)) for x in self._books]})
        if self._trades:
            req.append({"type": "trade", "codes": [self.venue_symbol(x) for x in self._trades]})
        req.append({"format": s.format})
        return msgspec.json.encode(req).decode()

    def book_code(self, code: str) -> str:
        """The ``orderbook`` code of a market: ``CODE.n`` sets the depth (1, 5, 15, 30)."""
        s: UpbitSettings = self.settings
        return f"{code}.{s.depth}"

    def _replace_request(self, request: str) -> None:
        if self._request is not None:
            self.ws.unsubscribe_saved(self._request)
        self._request = request

    async def _send_request(self) -> None:
        """Send the whole subscription set (each request replaces the previous one)."""
        self._replace_request(self._build_request())
        assert self._request is not None
        await self.ws.subscribe(self._request)

    def _want_snapshot(self, symbol: str) -> None:
        """Resynchronise: re-send the request; the venue answers with ``SNAPSHOT`` books."""
        if self._closed or not self.ws.connected:
            return
        if self._resend is None or self._resend.done():
            self._resend = asyncio.get_running_loop().create_task(self._send_request())

    def resync(self, symbol: str) -> None:
        """Drop the book of ``symbol`` and ask the venue for a fresh one."""
        self.sync.resync(symbol, "requested")

    async def _watch_stale(self, max_age: float) -> None:
        while not self._closed:
            await asyncio.sleep(min(1.0, max_age / 2))
            self.sync.check_stale(time.time(), max_age)

    # -- Connector API -----------------------------------------------------------------------

    async def load_markets(self) -> list[MarketInfo]:
        """Markets from ``GET /v1/market/all`` (fees and minimum totals by quote currency),
        tick sizes from the orderbook-instruments endpoint where the venue has one."""
        body = await self.rest.get(f"/v1/market/all?{self.market_all_query}")
        ticks: dict[str, float] = {}
        if self.instruments_path is not None:
            codes = [str(m["market"]) for m in body]
            for i in range(0, len(codes), 100):
                try:
                    ticks.update(parse_instruments(await self.rest.get(
                        self.instruments_path, {"markets": ",".join(codes[i:i + 100])})))
                except (RestError, msgspec.DecodeError) as exc:
                    log.warning("%s: tick sizes unavailable: %s", self.name, exc)
                    break
        infos = self.parse_markets(body, ticks)
        for info in infos:
            self.ctx.market.add_market(info)
            self.handler.symbols.add(info.venue_symbol, info.symbol)
            self._known.add(info.symbol)
        self._markets_loaded = True
        return infos

    def parse_markets(self, body: list[Any], ticks: dict[str, float]) -> list[MarketInfo]:
        """MarketInfo of a ``/v1/market/all`` body (Upbit fees and minimums by quote)."""
        return parse_market_all(body, self.name, ticks, VOLUME_STEP)

    def venue_symbol(self, symbol: str) -> str:
        """``BTC/KRW`` -> ``KRW-BTC`` (a listed market)."""
        if symbol not in self._known:
            raise ArbotError(f"{self.name}: unknown symbol {symbol!r} (not in /v1/market/all)")
        return self.handler.symbols.to_venue(symbol)

    async def connect(self) -> None:
        """Load markets if needed and open the connection."""
        self._closed = False
        if not self._markets_loaded:
            await self.load_markets()
        await self.ws.start(wait=True, timeout=self.ws.open_timeout + 5.0)
        s: UpbitSettings = self.settings
        if s.stale_after is not None:
            self._aux.append(asyncio.get_running_loop().create_task(
                self._watch_stale(s.stale_after)))

    async def subscribe_orderbook(self, symbols: list[str], depth: int = 10) -> None:
        """``orderbook`` of ``symbols`` (the books hold ``settings.depth`` units)."""
        for sym in symbols:
            self.venue_symbol(sym)
            if sym not in self._books:
                self._books.append(sym)
                self.sync.track(sym)
        await self._send_request()

    async def subscribe_trades(self, symbols: list[str]) -> None:
        """``trade`` of ``symbols``."""
        for sym in symbols:
            self.venue_symbol(sym)
            if sym not in self._trades:
                self._trades.append(sym)
        await self._send_request()

    async def close(self) -> None:
        """Close the connection and the HTTP session."""
        self._closed = True
        await self.ws.close()
        tasks = [t for t in (*self._aux, self._resend) if t is not None]
        self._aux.clear()
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await self.rest.close()

    @classmethod
    def emulator(cls, symbols: Sequence[str], seed: int = 0) -> EmulatorServer:
        """An Upbit emulator quoting ``symbols`` (scripted random walks)."""
        from arbot_upbit.emulator import UpbitEmulator

        return UpbitEmulator(symbols, seed=seed)

    @classmethod
    def emulated_settings(cls, emulator: EmulatorServer) -> dict[str, Any]:
        """Settings pointing at a started emulator."""
        return {"rest_url": emulator.http_url, "ws_url": emulator.ws_url + "/websocket/v1"}

    @classmethod
    def replay_decoder(cls) -> ReplayDecoder:
        """A decoder replaying captures with the same book rules."""
        return UpbitReplayDecoder(venue=cls.name)

    def stats(self) -> dict[str, int]:
        """Counters: connection, books (snapshots, deltas, resyncs, stale), REST."""
        st = self.sync.stats
        out = {**self.ws.stats.as_dict(), **st.as_dict()}
        out.update({f"resyncs:{k}": v for k, v in st.resyncs_by_symbol.items()})
        out.update({f"rest_{k}": v for k, v in self.rest.stats.as_dict().items()})
        out["stale_books"] = self.handler.stale
        out["control_errors"] = self.errors
        return out
