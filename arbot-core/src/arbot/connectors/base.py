"""The one base connector every native venue connector is built on.

:class:`StreamingConnector` owns what every venue repeats: the WebSocket session(s) (reconnect
with jittered backoff, heartbeats, lifetime rotation, resubscription), the REST client and its
rate limiter, the books (``BookSync`` inside each feed's bootstrap), the symbol maps, market
registration, the stale-book watch and the ``stats()`` counters, all configured by one
settings model (:class:`StreamingSettings`). A venue supplies typed parts, composed:

* one :class:`FeedSpec` per WebSocket endpoint (:meth:`StreamingConnector.build_feeds`): the
  market types it serves, its URL, its :class:`~arbot.connectors.protocol.WireProtocol` and
  its book bootstrap (:class:`~arbot.connectors.bootstrap.RestSnapshot`,
  :class:`~arbot.connectors.bootstrap.StreamSnapshot` or
  :class:`~arbot.connectors.bootstrap.FullBook`, with the venue's sequence rule and checksum);
* its market metadata (:meth:`StreamingConnector.fetch_markets`, one market type at a time);
* its REST limiter (:meth:`StreamingConnector.new_limiter`).

Spot and derivatives of one venue are separate market types (``spot``, ``linear``,
``inverse``; unified symbols follow ccxt: ``BTC/USDT``, ``BTC/USDT:USDT``, ``BTC/USD:BTC``);
``settings.market_types`` picks the ones a bot watches, and each symbol is routed to the feed
of its market type, so a USD-M book never lands on the spot symbol.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from abc import abstractmethod
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
from pydantic import Field
from typing_extensions import TypeVar

from arbot.components import BotContext, Connector, MarketEvent, ReplayDecoder
from arbot.config import ComponentSettings
from arbot.connectors.booksync import BookSync
from arbot.connectors.bootstrap import Bootstrap
from arbot.connectors.protocol import Channel, Subscription, WireProtocol
from arbot.connectors.ratelimit import RateLimitPolicy, SubscriptionPacer, host_limiter
from arbot.connectors.records import Control
from arbot.connectors.rest import RestClient
from arbot.connectors.symbols import MarketType, market_type_of
from arbot.connectors.ws import Backoff, Heartbeat, WsSession, WsTransportKind
from arbot.errors import ArbotError
from arbot.market import MarketInfo

if TYPE_CHECKING:
    from arbot.testing.emulator import EmulatorServer

__all__ = ["Feed", "FeedSpec", "StreamingConnector", "StreamingSettings", "stop_tasks"]

log = logging.getLogger("arbot.connectors.base")


async def stop_tasks(tasks: Sequence[asyncio.Task[None] | None]) -> None:
    """Cancel ``tasks`` (None entries skipped) and wait for them, ignoring their errors."""
    pending = [t for t in tasks if t is not None]
    for t in pending:
        t.cancel()
    for t in pending:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await t


class StreamingSettings(ComponentSettings):
    """Settings every native connector has (``[connectors.<venue>]``); a venue subclass sets
    its URLs and defaults and adds its own keys."""

    rest_url: str = Field("", description="REST base URL")
    ws_url: str = Field("", description="public WebSocket URL")
    market_types: list[MarketType] = Field(
        default_factory=lambda: [MarketType.SPOT],
        description="market types to load and serve: spot, linear (USDT/USDC-settled swaps "
                    "and futures), inverse (coin-settled)")
    ping_interval: float | None = Field(20.0, gt=0, description="send the venue's keep-alive "
                                        "this often (s); None: the period the venue announces")
    ws_ping_interval: float | None = Field(
        None, description="WebSocket protocol pings (s); None: off (servers that ping are answered)")
    idle_timeout: float | None = Field(30.0, description="reconnect after this long without a frame (s)")
    stale_after: float | None = Field(10.0, description="mark a book stale after this long unchanged (s)")
    resubscribe_after: float = Field(5.0, gt=0, description="ask again for a stream snapshot "
                                     "that has not come after this long (s)")
    max_lifetime: float | None = Field(23.5 * 3600, description="rotate a connection after this long (s)")
    backoff_initial: float = Field(0.5, gt=0, description="first reconnect delay (s)")
    backoff_max: float = Field(30.0, gt=0, description="longest reconnect delay (s)")
    messages_per_second: float = Field(5.0, gt=0, description="outgoing control messages per second")
    snapshot_retry_delay: float = Field(0.25, ge=0, description="wait before fetching a failed "
                                        "REST snapshot again (s)")
    taker_fee: float = Field(0.001, ge=0.0, description="taker fee when the metadata lists none")
    maker_fee: float = Field(0.001, description="maker fee when the metadata lists none")


@attrs.define(frozen=True)
class FeedSpec:
    """One WebSocket endpoint of a venue: the market types it serves, its URL (or a callable
    evaluated at each connect), the wire protocol and the book bootstrap; ``rest``: a REST
    client of its own (default: the connector's)."""

    market_types: tuple[MarketType, ...]
    url: str | Callable[[], str]
    protocol: WireProtocol
    bootstrap: Bootstrap
    rest: RestClient | None = None


class Feed:
    """A live :class:`FeedSpec`: its WebSocket session, its subscriptions and its counters.
    It is the :class:`~arbot.connectors.bootstrap.FeedLink` of its bootstrap."""

    def __init__(self, name: str, spec: FeedSpec, settings: StreamingSettings, rest: RestClient,
                 on_disconnect: Callable[[], None] | None = None,
                 transport: WsTransportKind | str = WsTransportKind.AUTO) -> None:
        self.name = name
        self.on_disconnect = on_disconnect
        self.market_types = spec.market_types
        self.protocol = spec.protocol
        self.bootstrap = spec.bootstrap
        self._rest = spec.rest or rest
        self._closed = False
        self.subs: list[Subscription] = []
        self.control_errors = self.pongs = self.resubscribes = 0
        self._asked: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._whole: list[str] = []
        self._welcomed = False
        self.resubscribe_after = settings.resubscribe_after
        ping = self.protocol.ping() is not None
        self.ws = WsSession(
            spec.url,
            self.on_frame,
            on_close=self.on_close,
            heartbeat=Heartbeat(ping_interval=settings.ws_ping_interval,
                                ping_timeout=settings.ws_ping_interval,
                                app_ping=self._ping if ping else None,
                                app_ping_interval=settings.ping_interval or 20.0,
                                idle_timeout=settings.idle_timeout),
            backoff=Backoff(initial=settings.backoff_initial, maximum=settings.backoff_max),
            max_lifetime=settings.max_lifetime,
            pacer=SubscriptionPacer(settings.messages_per_second,
                                    burst=max(1, int(settings.messages_per_second))),
            name=name,
            transport=transport,
        )
        self.bootstrap.attach(self)

    # -- FeedLink ----------------------------------------------------------------------------

    @property
    def rest(self) -> RestClient:
        """The feed's REST client."""
        return self._rest

    @property
    def closed(self) -> bool:
        """True once the connector is closing."""
        return self._closed

    def resubscribe_book(self, symbol: str) -> None:
        """Unsubscribe and subscribe the book of ``symbol`` (the venue answers with a snapshot)."""
        self._asked[symbol] = time.time()
        self._spawn(self._resubscribe(symbol))

    def resend_subscriptions(self) -> None:
        """Send the whole subscription request again (one pending at a time)."""
        if self.ws.connected and not any(t.get_name() == "resend" for t in self._tasks):
            self._spawn(self._send_whole(), "resend")

    # -- frames ------------------------------------------------------------------------------

    def _ping(self) -> str:
        ping = self.protocol.ping()
        assert ping is not None
        return ping

    def on_frame(self, frame: str | bytes, ts: float) -> None:
        """Decode one frame; records go to the bootstrap."""
        out = self.protocol.decode(frame)
        if type(out) is list:
            self.bootstrap.records(out, ts)
            return
        if out is Control.PONG:
            self.pongs += 1
        elif out is Control.ERROR:
            self.control_errors += 1
            log.warning("%s: error reply %r", self.name, frame[:300])
        elif out is Control.WELCOME:
            self._welcomed = True
            self._spawn(self._send_all())
        elif out is Control.RECONNECT:
            log.info("%s: the venue announced a disconnect; reconnecting", self.name)
            self.ws.reconnect()

    def on_close(self, _session: WsSession) -> None:
        """The connection was lost: drop the books (each starts again after reconnecting)."""
        self._welcomed = False
        self.bootstrap.reset()
        if self.on_disconnect is not None and not self._closed:
            self.on_disconnect()
        now = time.time()
        for sym in self.bootstrap.sync.symbols():
            self._asked[sym] = now

    # -- subscriptions -----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[object, object, None], name: str = "") -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name or f"{self.name}-feed")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def add(self, subs: Sequence[Subscription]) -> None:
        """Subscribe ``subs`` (those not subscribed yet); remembered for reconnects."""
        new = [s for s in subs if s not in self.subs]
        if not new:
            return
        self.subs.extend(new)
        now = time.time()
        for s in new:
            if s.channel is Channel.BOOK:
                self._asked.setdefault(self.bootstrap.symbols.to_unified(s.venue_symbol), now)
        if self.protocol.whole_set:
            await self._send_whole()
        elif self.protocol.welcome_first:
            if self._welcomed:
                for m in self.protocol.subscribe(new):
                    await self.ws.send(m)
        else:
            await self.ws.subscribe(*self.protocol.subscribe(new))

    async def _send_whole(self) -> None:
        for m in self._whole:
            self.ws.unsubscribe_saved(m)
        self._whole = self.protocol.subscribe(self.subs)
        await self.ws.subscribe(*self._whole)

    async def _send_all(self) -> None:
        for m in self.protocol.subscribe(self.subs):
            await self.ws.send(m)

    async def _resubscribe(self, symbol: str) -> None:
        sub = Subscription(Channel.BOOK, self.bootstrap.symbols.to_venue(symbol))
        self.resubscribes += 1
        for m in self.protocol.unsubscribe([sub]):
            await self.ws.send(m)
        for m in self.protocol.subscribe([sub]):
            await self.ws.send(m)

    # -- lifecycle ---------------------------------------------------------------------------

    def watch(self, now: float, stale_after: float | None) -> None:
        """Mark unchanged books stale; ask again for stream snapshots that did not come."""
        sync = self.bootstrap.sync
        if stale_after is not None:
            sync.check_stale(now, stale_after)
        if self.bootstrap.reasks_unanswered and self.ws.connected:
            for sym in sync.symbols():
                if not sync.is_live(sym) and now - self._asked.get(sym, now) > self.resubscribe_after:
                    self.bootstrap.want_snapshot(sym)

    async def start(self) -> None:
        """Open the connection (returns once connected)."""
        self._closed = False
        self.bootstrap.open()
        await self.ws.start(wait=True, timeout=self.ws.open_timeout + 5.0)

    async def close(self) -> None:
        """Close the connection and stop background work."""
        self._closed = True
        await self.ws.close()
        await self.bootstrap.close()
        await stop_tasks(list(self._tasks))
        self._tasks.clear()

    def counters(self) -> dict[str, int]:
        """Protocol counters and the bootstrap's."""
        return {"control_errors": self.control_errors, "pongs": self.pongs,
                "resubscribes": self.resubscribes, **self.bootstrap.counters()}


#: The settings model of a streaming connector.
SS = TypeVar("SS", bound=StreamingSettings, default=StreamingSettings, covariant=True)


class StreamingConnector(Connector[SS]):
    """The base of every native connector (see the module docstring).

    A venue subclass sets ``name``, ``Settings`` (a :class:`StreamingSettings`),
    ``description``, :attr:`emulator_class`, :attr:`replay_class` and :attr:`emulator_paths`,
    and implements :meth:`build_feeds`, :meth:`fetch_markets` and :meth:`new_limiter`.
    """

    #: ``"module:Class"`` of the venue's emulator (imported on demand: it is test tooling).
    emulator_class: ClassVar[str]
    #: The venue's replay decoder (a class or factory without arguments).
    replay_class: ClassVar[Callable[[], ReplayDecoder]]
    #: Settings keys -> path appended to the emulator's WebSocket URL (``ws_url``...).
    emulator_paths: ClassVar[Mapping[str, str]] = {"ws_url": ""}
    #: Settings keys -> path appended to the emulator's HTTP URL (``rest_url``...).
    emulator_rest_paths: ClassVar[Mapping[str, str]] = {"rest_url": ""}

    def __init__(
        self,
        settings: Any,
        ctx: BotContext,
        on_event: Callable[[MarketEvent], None] | None = None,
        *,
        limiter: RateLimitPolicy | None = None,
    ) -> None:
        super().__init__(settings, ctx, on_event)
        s: StreamingSettings = settings
        # one limiter per venue host: the trading gateways of this venue share it
        self.limiter = limiter or host_limiter(s.rest_url, self.new_limiter)
        self.rest = RestClient(s.rest_url, self.limiter, on_response=self.on_rest_headers)
        transport = ctx.config.system.ws_transport
        self.feeds = [Feed(f"{self.name}-{'+'.join(spec.market_types)}", spec, s, self.rest,
                           self.on_disconnect, transport)
                      for spec in self.build_feeds()]
        self._by_type: dict[MarketType, Feed] = {}
        for feed in self.feeds:
            for mt in feed.market_types:
                self._by_type.setdefault(mt, feed)
        self._known: dict[str, Feed] = {}
        self._markets_loaded = False
        self._closed = False
        self._watcher: asyncio.Task[None] | None = None

    # -- venue parts -------------------------------------------------------------------------

    @abstractmethod
    def build_feeds(self) -> list[FeedSpec]:
        """The venue's WebSocket endpoints, each with its protocol and bootstrap (events go
        to :meth:`emit`, books to ``self.ctx.market``)."""

    @abstractmethod
    async def fetch_markets(self, market_type: MarketType) -> list[MarketInfo]:
        """Every market of one type from the venue's metadata endpoint (``self.rest``)."""

    @abstractmethod
    def new_limiter(self) -> RateLimitPolicy:
        """The REST rate limiter (the venue's published policy)."""

    async def before_connect(self) -> None:
        """Run before the connections open (e.g. fetch a connection token); default: nothing."""

    def on_disconnect(self) -> None:
        """A feed lost its connection (it reconnects by itself); default: nothing."""

    def on_rest_headers(self, headers: Mapping[str, str]) -> None:
        """Read a REST response's headers (e.g. the weight used); default: nothing."""

    # -- parts for subclasses ----------------------------------------------------------------

    def emit(self, ev: MarketEvent) -> None:
        """Send one event to the bot."""
        cb = self.on_event
        if cb is not None:
            cb(ev)

    def feed_of(self, symbol: str) -> Feed:
        """The feed serving a unified symbol (by its market type)."""
        feed = self._known.get(symbol)
        if feed is not None:
            return feed
        mt = market_type_of(symbol)
        feed = self._by_type.get(mt)
        if feed is None or mt not in self.settings.market_types:
            raise ArbotError(f"{self.name}: {symbol!r} is a {mt} market; market_types = "
                             f"{[str(m) for m in self.settings.market_types]}")
        return feed

    @property
    def sync(self) -> BookSync:
        """The book synchroniser of the first feed (the only one of a single-feed venue)."""
        return self.feeds[0].bootstrap.sync

    # -- Connector API -----------------------------------------------------------------------

    async def load_markets(self) -> list[MarketInfo]:
        """Markets of every configured market type, registered in the market state and in
        the symbol map of the feed serving them."""
        out: list[MarketInfo] = []
        for mt in self.settings.market_types:
            feed = self._by_type.get(mt)
            if feed is None:
                raise ArbotError(f"{self.name}: market type {mt!r} is not served by this connector")
            for info in await self.fetch_markets(mt):
                self.ctx.market.add_market(info)
                feed.bootstrap.symbols.add(info.venue_symbol, info.symbol)
                self._known[info.symbol] = feed
                out.append(info)
        self._markets_loaded = True
        return out

    def venue_symbol(self, symbol: str) -> str:
        """The venue's id of a unified symbol its metadata listed (a clear error otherwise)."""
        feed = self._known.get(symbol)
        if feed is None:
            raise ArbotError(f"{self.name}: unknown symbol {symbol!r} (not in the venue's market "
                             f"metadata for {[str(m) for m in self.settings.market_types]})")
        return feed.bootstrap.symbols.to_venue(symbol)

    async def connect(self) -> None:
        """Load markets if needed and open every feed."""
        self._closed = False
        if not self._markets_loaded:
            await self.load_markets()
        await self.before_connect()
        for feed in self.feeds:
            await feed.start()
        if self._watcher is None or self._watcher.done():
            s = self.settings
            every = min(1.0, s.resubscribe_after / 4, (s.stale_after or 4.0) / 2)
            self._watcher = asyncio.get_running_loop().create_task(self._watch(every))

    async def _watch(self, every: float) -> None:
        stale_after = self.settings.stale_after
        while not self._closed:
            await asyncio.sleep(every)
            now = time.time()
            for feed in self.feeds:
                feed.watch(now, stale_after)

    async def _subscribe(self, channel: Channel, symbols: list[str]) -> None:
        by_feed: dict[int, list[Subscription]] = {}
        for sym in symbols:
            venue_symbol = self.venue_symbol(sym)
            feed = self._known[sym]
            if channel is Channel.BOOK:
                feed.bootstrap.sync.track(sym)
            by_feed.setdefault(id(feed), []).append(Subscription(channel, venue_symbol))
        for feed in self.feeds:
            subs = by_feed.get(id(feed))
            if subs:
                await feed.add(subs)

    async def subscribe_orderbook(self, symbols: list[str], depth: int = 10) -> None:
        """Books of ``symbols`` (``depth`` is ignored: a book holds what its venue sends)."""
        await self._subscribe(Channel.BOOK, symbols)

    async def subscribe_trades(self, symbols: list[str]) -> None:
        """Public trades of ``symbols``."""
        await self._subscribe(Channel.TRADES, symbols)

    def resync(self, symbol: str) -> None:
        """Drop the book of ``symbol`` and rebuild it (the other books are not touched)."""
        self.feed_of(symbol).bootstrap.sync.resync(symbol, "requested")

    async def close(self) -> None:
        """Close every feed, stop the watcher, close the HTTP sessions."""
        self._closed = True
        for feed in self.feeds:
            await feed.close()
        watcher, self._watcher = self._watcher, None
        await stop_tasks([watcher])
        rests = {id(self.rest): self.rest, **{id(f.rest): f.rest for f in self.feeds}}
        for rest in rests.values():
            await rest.close()

    def stats(self) -> dict[str, int]:
        """Counters of every feed summed: connection, book synchronisation (with
        ``resyncs:<symbol>``), REST (``rest_*``), protocol and bootstrap counters."""
        out: dict[str, int] = {}

        def add(values: Mapping[str, int]) -> None:
            for k, v in values.items():
                out[k] = out.get(k, 0) + v

        for feed in self.feeds:
            st = feed.bootstrap.sync.stats
            add(feed.ws.stats.as_dict())
            add(st.as_dict())
            add({f"resyncs:{k}": v for k, v in st.resyncs_by_symbol.items()})
            add(feed.counters())
        rests = {id(self.rest): self.rest, **{id(f.rest): f.rest for f in self.feeds}}
        for rest in rests.values():
            add({f"rest_{k}": v for k, v in rest.stats.as_dict().items()})
        return out

    # -- emulator and replay -----------------------------------------------------------------

    @classmethod
    def emulator(cls, symbols: Sequence[str], seed: int = 0) -> EmulatorServer:
        """The venue's emulator quoting ``symbols`` (scripted random walks)."""
        module, _, name = cls.emulator_class.partition(":")
        server: EmulatorServer = getattr(importlib.import_module(module), name)(symbols, seed=seed)
        return server

    @classmethod
    def emulated_settings(cls, emulator: EmulatorServer) -> dict[str, Any]:
        """Settings pointing at a started emulator (:attr:`emulator_paths`,
        :attr:`emulator_rest_paths`)."""
        out: dict[str, Any] = {k: emulator.http_url + p for k, p in cls.emulator_rest_paths.items()}
        out.update({k: emulator.ws_url + p for k, p in cls.emulator_paths.items()})
        return out

    @classmethod
    def replay_decoder(cls) -> ReplayDecoder:
        """A decoder replaying the venue's captures with the same synchronisation rules."""
        return cls.replay_class()
