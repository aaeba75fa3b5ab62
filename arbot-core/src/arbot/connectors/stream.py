"""Connector bases for venues that send the book snapshot on the stream, in reply to a
subscribe (OKX, Bitget, Bybit).

:class:`StreamConnector`: one public WebSocket, resync of one symbol by unsubscribing and
subscribing again, books dropped on every disconnect, an application ping. A subclass
provides: ``Settings`` (a :class:`StreamSettings`), :meth:`~StreamConnector.new_handler` (an
object with ``frame(raw, ts) -> str``, ``sync`` (core ``BookSync``), ``symbols`` (core
``SymbolMap``) and the counters ``errors``, ``pongs``, ``dropped_unsynced``),
:meth:`~StreamConnector.new_limiter`, :meth:`~StreamConnector.fetch_markets`,
:meth:`~StreamConnector.request` (a subscribe/unsubscribe message),
:meth:`~StreamConnector.book_item` / :meth:`~StreamConnector.trade_item` (what to subscribe),
:meth:`~StreamConnector.ping_message`, and the class attributes
:attr:`~StreamConnector.emulator_class`, :attr:`~StreamConnector.emulator_ws_path` and
:attr:`~StreamConnector.replay_class` behind ``emulator()``, ``emulated_settings()`` and
``replay_decoder()``.

:class:`OpArgsConnector`: the ``{"op": .., "args": [{"channel": .., "instId": ..}]}`` request
family (OKX, Bitget) on top of it, with a
:class:`~arbot.connectors.streambook.StreamBookHandler` subclass as the handler, the text
``ping`` and the CRC32 checksum counter.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from pydantic import Field
from typing_extensions import TypeVar

from arbot.components import BotContext, MarketEvent
from arbot.config import ComponentSettings
from arbot.connectors.booksync import BookSync
from arbot.connectors.ratelimit import RateLimitPolicy, SubscriptionPacer
from arbot.connectors.rest import RestClient
from arbot.connectors.scaffold import ScaffoldConnector
from arbot.connectors.streambook import StreamBookHandler
from arbot.connectors.symbols import SymbolMap
from arbot.connectors.ws import Backoff, Heartbeat, WsSession
from arbot.market import MarketInfo

if TYPE_CHECKING:
    from arbot.testing.emulator import EmulatorServer

__all__ = ["OpArgsConnector", "OpArgsSettings", "StreamConnector", "StreamSettings"]

log = logging.getLogger("arbot.connectors.stream")


class StreamSettings(ComponentSettings):
    """Settings shared by the stream-snapshot connectors (subclasses set the URLs)."""

    rest_url: str = Field("", description="REST base URL")
    ws_url: str = Field("", description="public WebSocket URL")
    ping_interval: float = Field(20.0, gt=0, description="send the venue's ping this often")
    idle_timeout: float | None = Field(29.0, description="reconnect after this long silent")
    stale_after: float | None = Field(10.0, description="mark a book stale after this long")
    resubscribe_after: float = Field(5.0, gt=0, description="ask again for a snapshot that "
                                     "has not come after this long")
    max_lifetime: float | None = Field(None, description="rotate connections after this long")
    backoff_initial: float = Field(0.5, gt=0)
    backoff_max: float = Field(30.0, gt=0)
    messages_per_second: float = Field(2.0, gt=0, description="outgoing control messages/s")
    args_per_message: int = Field(20, gt=0, description="channels per subscribe request")


#: The settings model of a stream connector.
SS = TypeVar("SS", bound=StreamSettings, default=StreamSettings, covariant=True)


class StreamConnector(ScaffoldConnector[SS]):
    """Base of the connectors whose books start with a snapshot sent after each subscribe
    (see the module docstring)."""

    #: Path of the public WebSocket endpoint, appended to the emulator's ``ws_url``.
    emulator_ws_path: ClassVar[str]

    def __init__(
        self,
        settings: Any,
        ctx: BotContext,
        on_event: Callable[[MarketEvent], None] | None = None,
        *,
        limiter: RateLimitPolicy | None = None,
    ) -> None:
        super().__init__(settings, ctx, on_event)
        s: StreamSettings = settings
        self.limiter = limiter or self.new_limiter()
        self.rest = RestClient(s.rest_url, self.limiter)
        self.handler = self.new_handler()
        self.symbol_map: SymbolMap = self.handler.symbols
        self.sync: BookSync = self.handler.sync
        self._markets_loaded = False
        self._items: list[Any] = []
        self._asked: dict[str, float] = {}
        self._resubscribing: dict[str, asyncio.Task[None]] = {}
        self._aux: list[asyncio.Task[None]] = []
        self._closed = False
        self.resubscribes = 0
        self.ws = WsSession(
            s.ws_url,
            self._on_frame,
            on_close=self._on_ws_close,
            heartbeat=Heartbeat(ping_interval=None, ping_timeout=None, app_ping=self.ping_message,
                                app_ping_interval=s.ping_interval, idle_timeout=s.idle_timeout),
            backoff=Backoff(initial=s.backoff_initial, maximum=s.backoff_max),
            max_lifetime=s.max_lifetime,
            pacer=SubscriptionPacer(s.messages_per_second, burst=max(1, int(s.messages_per_second))),
            name=self.name,
        )

    # -- venue hooks -------------------------------------------------------------------------

    @abstractmethod
    def new_handler(self) -> Any:
        """The venue's book handler, built with ``self._emit`` and ``self._want_snapshot``."""

    @abstractmethod
    def new_limiter(self) -> RateLimitPolicy:
        """The REST rate limiter."""

    @abstractmethod
    async def fetch_markets(self) -> list[MarketInfo]:
        """Every market of the venue's metadata endpoint."""

    @abstractmethod
    def request(self, op: str, items: list[Any]) -> str:
        """A ``subscribe``/``unsubscribe`` message for ``items``."""

    @abstractmethod
    def book_item(self, venue_symbol: str) -> Any:
        """The subscription item of a book."""

    @abstractmethod
    def trade_item(self, venue_symbol: str) -> Any:
        """The subscription item of a trade stream."""

    @abstractmethod
    def ping_message(self) -> str:
        """The application ping."""

    # -- events ------------------------------------------------------------------------------

    def _on_frame(self, frame: str | bytes, ts: float) -> None:
        if self.handler.frame(frame, ts) == "error":
            log.warning("%s: request failed: %r", self.name, frame[:300])

    def _on_ws_close(self, _session: WsSession) -> None:
        self.sync.drop_all()
        now = time.time()
        for sym in self.sync.symbols():
            self._asked[sym] = now  # the resubscription after the reconnect brings snapshots

    # -- snapshots (by resubscribing) --------------------------------------------------------

    def _want_snapshot(self, symbol: str) -> None:
        if self._closed:
            return
        self._asked[symbol] = time.time()
        task = self._resubscribing.get(symbol)
        if task is None or task.done():
            self._resubscribing[symbol] = asyncio.get_running_loop().create_task(
                self._resubscribe(symbol), name=f"{self.name}-resubscribe-{symbol}")

    async def _resubscribe(self, symbol: str) -> None:
        item = [self.book_item(self.venue_symbol(symbol))]
        self.resubscribes += 1
        await self.ws.send(self.request("unsubscribe", item))
        await self.ws.send(self.request("subscribe", item))

    async def _watch_loop(self, every: float) -> None:
        s: StreamSettings = self.settings
        while not self._closed:
            await asyncio.sleep(every)
            now = time.time()
            if s.stale_after is not None:
                self.sync.check_stale(now, s.stale_after)
            if self.ws.connected:
                for sym in self.sync.symbols():
                    if not self.sync.is_live(sym) and now - self._asked.get(sym, now) > s.resubscribe_after:
                        self._want_snapshot(sym)

    # -- Connector API -----------------------------------------------------------------------

    async def load_markets(self) -> list[MarketInfo]:
        """Markets from the venue's metadata endpoint (:meth:`fetch_markets`), registered in
        the market state and the symbol map."""
        infos = await self.fetch_markets()
        for info in infos:
            self.ctx.market.add_market(info)
            self.symbol_map.add(info.venue_symbol, info.symbol)
        self._markets_loaded = True
        return infos

    def venue_symbol(self, symbol: str) -> str:
        """The venue's id of a unified symbol."""
        return self.symbol_map.to_venue(symbol)

    async def connect(self) -> None:
        """Load markets if needed and open the public WebSocket."""
        self._closed = False
        if not self._markets_loaded:
            await self.load_markets()
        await self.ws.start(wait=True, timeout=self.ws.open_timeout + 5.0)
        if not self._aux:
            s: StreamSettings = self.settings
            every = min(1.0, s.resubscribe_after / 4, (s.stale_after or 4.0) / 2)
            self._aux.append(asyncio.get_running_loop().create_task(self._watch_loop(every)))

    async def _subscribe(self, items: list[Any]) -> None:
        new = [a for a in items if a not in self._items]
        n = self.settings.args_per_message
        for i in range(0, len(new), n):
            chunk = new[i:i + n]
            self._items.extend(chunk)
            await self.ws.subscribe(self.request("subscribe", chunk))

    async def subscribe_orderbook(self, symbols: list[str], depth: int = 10) -> None:
        """Book channels (``depth`` is ignored: the book holds what the channel sends)."""
        now = time.time()
        for sym in symbols:
            self.sync.track(sym)
            self._asked.setdefault(sym, now)
        await self._subscribe([self.book_item(self.venue_symbol(sym)) for sym in symbols])

    async def subscribe_trades(self, symbols: list[str]) -> None:
        """Trade channels."""
        await self._subscribe([self.trade_item(self.venue_symbol(sym)) for sym in symbols])

    async def close(self) -> None:
        """Close the connection, stop background tasks, close the HTTP session."""
        self._closed = True
        await self.ws.close()
        tasks = [*self._resubscribing.values(), *self._aux]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._resubscribing.clear()
        self._aux.clear()
        await self.rest.close()

    @classmethod
    def emulated_settings(cls, emulator: EmulatorServer) -> dict[str, Any]:
        """Settings pointing at a started emulator."""
        return {"rest_url": emulator.http_url, "ws_url": emulator.ws_url + cls.emulator_ws_path}

    def stats(self) -> dict[str, int]:
        """Counters: connection, book synchronisation, REST, protocol."""
        out = self.base_stats()
        h = self.handler
        out.update(control_errors=h.errors, pongs=h.pongs, dropped_unsynced=h.dropped_unsynced,
                   resubscribes=self.resubscribes)
        return out


class OpArgsSettings(StreamSettings):
    """Settings of the ``op``/``args`` connectors (OKX, Bitget); subclasses set the URLs."""

    book_channel: str = Field("books", description="the book channel subscribed")
    verify_checksum: bool = Field(True, description="check the checksums that apply")


class OpArgsConnector(StreamConnector[OpArgsSettings]):
    """A :class:`StreamConnector` for the ``{"op": .., "args": [..]}`` request family: one
    ``args`` entry per channel and instrument (:meth:`channel_arg`), the text ``ping``, a
    :attr:`handler_class` (a :class:`~arbot.connectors.streambook.StreamBookHandler`) with
    its CRC32 checksum counted in ``stats()["checksum_ok"]``. Settings: an
    :class:`OpArgsSettings`."""

    #: The venue's book handler class, and the trade channel subscribed.
    handler_class: ClassVar[type[StreamBookHandler]]
    trade_channel: ClassVar[str] = "trades"

    def new_handler(self) -> StreamBookHandler:
        """:attr:`handler_class` on the context's market."""
        return self.handler_class(self.ctx.market, self._emit, self._want_snapshot,
                                  verify_checksum=self.settings.verify_checksum)

    def channel_arg(self, channel: str, venue_symbol: str) -> dict[str, str]:
        """One ``args`` entry of a subscribe/unsubscribe request."""
        return {"channel": channel, "instId": venue_symbol}

    def request(self, op: str, items: list[Any]) -> str:
        """``{"op": op, "args": [{"channel": .., "instId": ..}, ...]}``."""
        return msgspec.json.encode(
            {"op": op, "args": [self.channel_arg(c, i) for c, i in items]}).decode()

    def book_item(self, venue_symbol: str) -> tuple[str, str]:
        """``(book_channel, instId)``."""
        return (self.settings.book_channel, venue_symbol)

    def trade_item(self, venue_symbol: str) -> tuple[str, str]:
        """``(trade_channel, instId)``."""
        return (self.trade_channel, venue_symbol)

    def ping_message(self) -> str:
        """The text ``ping``."""
        return "ping"

    def stats(self) -> dict[str, int]:
        """Counters: connection, book synchronisation, REST, protocol, verified checksums."""
        out = super().stats()
        out["checksum_ok"] = self.handler.checksum.ok
        return out
