"""The venue emulator base: a real WebSocket + HTTP server on 127.0.0.1 with fault injection.

Subclass :class:`EmulatorServer` to speak one venue's public protocol:

* :meth:`EmulatorServer.routes` — the HTTP routes (aiohttp ``web.RouteDef`` list; a subclass
  or a mixin extends it with ``[*super().routes(), ...]``);
* :meth:`EmulatorServer.on_ws_connect` / :meth:`EmulatorServer.on_ws_message` — the public
  WebSocket protocol (subscriptions, pings, replies); :meth:`EmulatorServer.ws_routes` adds
  other WebSocket paths (e.g. a private stream) with their own handlers;
* :meth:`EmulatorServer.scripted_books` — the scripted books that drive it (offline runs move
  and dislocate them);
* :meth:`EmulatorServer.tick` — one round of market changes, sent with :meth:`broadcast`;
* :meth:`EmulatorServer.true_book` — the emulator's own book of a unified symbol (what a
  correct connector must converge to).

Both servers listen on random free ports of 127.0.0.1 (:attr:`ws_url`, :attr:`http_url`).
Faults: :meth:`drop_connections`, :meth:`inject_gap`, :meth:`inject_bad_checksum`,
:meth:`send_garbage`, :meth:`stall`, :meth:`slow_consumer`, :meth:`fail_http`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import attrs
from aiohttp import web
from websockets.asyncio.server import Server, ServerConnection, serve

from arbot.book import OrderBook
from arbot.errors import ArbotError
from arbot.sources.replay import iter_capture

__all__ = ["EmulatorClient", "EmulatorServer", "EmulatorStats", "PrivateApi", "Recording", "WsRoute"]

if TYPE_CHECKING:
    from arbot.testing.emulator.exchange import EmulatedExchange
    from arbot.testing.emulator.scripted import ScriptedBook

log = logging.getLogger("arbot.testing.emulator")


class PrivateApi(Protocol):
    """What an emulator's private API offers the tooling (``arbot emulate``, test suites): the
    emulated exchange its accounts, orders and faults live in."""

    @property
    def exchange(self) -> EmulatedExchange:
        """The exchange core under the venue's private API."""
        ...


@attrs.frozen
class WsRoute:
    """A WebSocket path of an emulator with its own handlers: a client whose request path
    starts with ``path`` is served by ``on_connect`` / ``on_message`` instead of the public
    protocol's."""

    path: str
    on_connect: Callable[[EmulatorClient], Awaitable[None]]
    on_message: Callable[[EmulatorClient, str | bytes], Awaitable[None]]


@attrs.define(slots=True)
class EmulatorStats:
    """What the emulator did (tests read these)."""

    bad_checksums_injected: int = 0
    connections: int = 0
    disconnects: int = 0
    frames_sent: int = 0
    frames_withheld: int = 0
    gaps_injected: int = 0
    garbage_sent: int = 0
    http_failures: int = 0
    http_requests: int = 0
    kicked: int = 0

    def as_dict(self) -> dict[str, int]:
        """Counters as a dict."""
        return attrs.asdict(self)


class EmulatorClient:
    """One connected WebSocket client: its connection, path and subscribed topics."""

    def __init__(self, conn: ServerConnection, path: str) -> None:
        self.conn = conn
        self.path = path
        self.topics: set[str] = set()
        self.state: dict[str, Any] = {}

    async def send(self, frame: str | bytes) -> bool:
        """Send one frame; False when the client is gone."""
        try:
            await self.conn.send(frame)
        except Exception:
            return False
        return True

    def abort(self) -> None:
        """Cut the TCP connection without a close frame (a network drop)."""
        transport = self.conn.transport
        if transport is not None:
            transport.abort()


class Recording:
    """An NDJSON capture loaded for an emulator: WebSocket messages and REST bodies, in order."""

    def __init__(self, path: Any) -> None:
        self.messages: list[tuple[float, Any]] = []
        self.rest: list[tuple[float, str, Any]] = []
        for ts, kind, payload, url in iter_capture(path):
            if kind == "in":
                self.messages.append((ts, payload))
            elif kind == "rest":
                self.rest.append((ts, url or "", payload))


class EmulatorServer:
    """Base of a venue emulator (see the module docstring)."""

    #: Venue name of the connector this emulator serves.
    venue: str = "emulator"
    #: True when the venue's protocol carries checksums (the bad-checksum fault applies).
    supports_checksum: bool = False
    #: True when the venue's API keys come with a passphrase (OKX, KuCoin, Bitget).
    passphrase_required: bool = False
    #: The venue's private API (accounts, orders, private stream) on an emulated exchange, for
    #: emulators that trade; None for market data only.
    private: PrivateApi | None = None

    def __init__(self, *, tick_interval: float | None = 0.02, host: str = "127.0.0.1") -> None:
        self.host = host
        self.tick_interval = tick_interval
        self.stats = EmulatorStats()
        #: arrival time (``time.monotonic``) of every HTTP request, for :meth:`busiest`
        self.request_times: list[float] = []
        self.clients: set[EmulatorClient] = set()
        self._ws_server: Server | None = None
        self._runner: web.AppRunner | None = None
        self._ws_port = 0
        self._http_port = 0
        #: (HTTP, WebSocket) ports to listen on; 0 picks a free port
        self.ports_wanted = (0, 0)
        self._ticker: asyncio.Task[None] | None = None
        self._paused = False
        self._stalled_until = 0.0
        self._gaps: dict[str, int] = {}
        self._bad_checksums: dict[str, int] = {}
        self._http_faults: list[tuple[int, float | None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Scripted emulators: unified symbol -> venue id, and the scripted book of each venue
        #: id (what :meth:`symbols`, :meth:`true_book` and :meth:`scripted_books` read).
        self.venue_ids: dict[str, str] = {}
        self.books: dict[str, ScriptedBook] = {}

    # -- to implement ------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """HTTP routes of the venue."""
        return []

    def ws_routes(self) -> list[WsRoute]:
        """WebSocket paths served by their own handlers (default: none; every path speaks the
        public protocol of :meth:`on_ws_connect` / :meth:`on_ws_message`)."""
        return []

    def scripted_books(self) -> list[ScriptedBook]:
        """The scripted books driving this emulator."""
        return list(self.books.values())

    async def on_ws_connect(self, client: EmulatorClient) -> None:
        """A client connected (its path may carry subscriptions)."""

    async def on_ws_message(self, client: EmulatorClient, message: str | bytes) -> None:
        """A client sent a message (subscriptions, pings...)."""

    async def tick(self) -> None:
        """One round of market changes."""

    def true_book(self, symbol: str) -> OrderBook:
        """The emulator's book of a unified symbol (the scripted one)."""
        vid = self.venue_ids.get(symbol)
        if vid is None:
            raise ArbotError(f"{type(self).__name__} keeps no book of {symbol!r} to compare against")
        return self.books[vid].book

    def symbols(self) -> list[str]:
        """Unified symbols the emulator trades."""
        return list(self.venue_ids)

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def ws_url(self) -> str:
        """``ws://127.0.0.1:<port>``."""
        return f"ws://{self.host}:{self._ws_port}"

    @property
    def http_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self.host}:{self._http_port}"

    async def start(self) -> None:
        """Start both servers (random free ports) and the ticker."""
        app = web.Application(middlewares=[self._http_middleware])
        app.add_routes(self.routes())
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.ports_wanted[0])
        await site.start()
        sockets: Any = getattr(site._server, "sockets", None)
        assert sockets, "the HTTP server did not start"
        self._http_port = int(sockets[0].getsockname()[1])
        self._ws_server = await serve(
            self._handle, self.host, self.ports_wanted[1], compression=None, ping_interval=None,
            max_size=2**22,
        )
        self._ws_port = next(iter(self._ws_server.sockets)).getsockname()[1]
        if self.tick_interval is not None:
            self._ticker = asyncio.create_task(self._tick_loop(), name=f"{self.venue}-emulator")

    async def stop(self) -> None:
        """Stop everything."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        for t in list(self._tasks):
            t.cancel()
        if self.private is not None:
            # a private-stream handler waits on its event feed, which a closed socket does not
            # wake: ending the feeds lets the server close at once instead of timing out
            self.private.exchange.drop_streams()
        for c in list(self.clients):
            c.abort()
        if self._ws_server is not None:
            self._ws_server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws_server.wait_closed(), 2.0)
            self._ws_server = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> EmulatorServer:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """Run a background task owned by the emulator (cancelled on stop)."""
        t: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)
        return t

    async def _tick_loop(self) -> None:
        assert self.tick_interval is not None
        while True:
            await asyncio.sleep(self.tick_interval)
            if not self._paused:
                try:
                    await self.tick()
                except Exception:
                    log.exception("emulator tick failed")

    async def _handle(self, conn: ServerConnection) -> None:
        path = conn.request.path if conn.request is not None else "/"
        client = EmulatorClient(conn, path)
        self.clients.add(client)
        self.stats.connections += 1
        route = next((r for r in self.ws_routes() if path.startswith(r.path)), None)
        on_connect = route.on_connect if route is not None else self.on_ws_connect
        on_message = route.on_message if route is not None else self.on_ws_message
        try:
            await on_connect(client)
            async for message in conn:
                await on_message(client, message)
        except Exception:
            pass
        finally:
            self.clients.discard(client)
            self.stats.disconnects += 1

    def busiest(self, window: float) -> int:
        """The most HTTP requests that arrived within any ``window`` seconds (the venue's own
        count of a sliding-window rate limit)."""
        times = sorted(self.request_times)
        most, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] >= window:
                start += 1
            most = max(most, end - start + 1)
        return most

    @web.middleware
    async def _http_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.stats.http_requests += 1
        self.request_times.append(time.monotonic())
        if self._http_faults:
            status, retry_after = self._http_faults.pop(0)
            self.stats.http_failures += 1
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return web.json_response({"code": -1, "msg": "injected failure"}, status=status, headers=headers)
        resp: web.StreamResponse = await handler(request)
        return resp

    # -- sending -----------------------------------------------------------------------------

    @property
    def stalled(self) -> bool:
        """True while a stall is in effect (frames are withheld)."""
        return asyncio.get_running_loop().time() < self._stalled_until

    async def broadcast(
        self, topic: str, frame: str | bytes, clients: Iterable[EmulatorClient] | None = None
    ) -> int:
        """Send ``frame`` to every client subscribed to ``topic``; returns how many got it."""
        if self.stalled:
            self.stats.frames_withheld += 1
            return 0
        n = 0
        for c in list(clients if clients is not None else self.clients):
            if topic in c.topics and await c.send(frame):
                n += 1
        self.stats.frames_sent += n
        return n

    @property
    def paused(self) -> bool:
        """True between :meth:`pause` and :meth:`resume` (the market is frozen)."""
        return self._paused

    def pause(self) -> None:
        """Stop ticking (the book freezes; connections stay open)."""
        self._paused = True

    def resume(self) -> None:
        """Resume ticking."""
        self._paused = False

    # -- faults ------------------------------------------------------------------------------

    def drop_connections(self) -> int:
        """Cut every WebSocket connection without a close frame; returns how many."""
        n = 0
        for c in list(self.clients):
            c.abort()
            n += 1
        return n

    def inject_gap(self, symbol: str, count: int = 1) -> None:
        """The next ``count`` updates of ``symbol`` are lost (applied to the book, never sent)."""
        self._gaps[symbol] = self._gaps.get(symbol, 0) + count

    def take_gap(self, symbol: str) -> bool:
        """For subclasses: True when the next update of ``symbol`` must be withheld."""
        n = self._gaps.get(symbol, 0)
        if n <= 0:
            return False
        self._gaps[symbol] = n - 1
        self.stats.gaps_injected += 1
        return True

    def inject_bad_checksum(self, symbol: str, count: int = 1) -> None:
        """The next ``count`` updates of ``symbol`` carry a wrong checksum."""
        self._bad_checksums[symbol] = self._bad_checksums.get(symbol, 0) + count

    def take_bad_checksum(self, symbol: str) -> bool:
        """For subclasses: True when the next update of ``symbol`` must carry a bad checksum."""
        n = self._bad_checksums.get(symbol, 0)
        if n <= 0:
            return False
        self._bad_checksums[symbol] = n - 1
        self.stats.bad_checksums_injected += 1
        return True

    async def send_garbage(self, frame: str | bytes = "\x00garbage{not json") -> int:
        """Send a frame that is not a valid venue message to every client."""
        n = 0
        for c in list(self.clients):
            if await c.send(frame):
                n += 1
        self.stats.garbage_sent += n
        return n

    def stall(self, seconds: float) -> None:
        """Withhold every market frame for ``seconds`` while the book keeps changing (a frozen
        feed: the connection stays open, the updates of that time are lost)."""
        self._stalled_until = asyncio.get_running_loop().time() + seconds

    async def slow_consumer(self, burst: int = 500, kick: bool = True) -> None:
        """Deliver ``burst`` rounds of updates at once; with ``kick``, then drop the clients as a
        venue drops a consumer that cannot keep up (close code 1008)."""
        for _ in range(burst):
            await self.tick()
        if kick:
            for c in list(self.clients):
                self.stats.kicked += 1
                # in the background: the close handshake waits for the (slow) client to read
                self.spawn(c.conn.close(1008, "slow consumer"))

    def fail_http(self, status: int = 429, count: int = 1, retry_after: float | None = 0.05) -> None:
        """The next ``count`` HTTP requests fail with ``status`` (and ``Retry-After``)."""
        self._http_faults.extend([(status, retry_after)] * count)
