"""A resilient WebSocket session, shared by every connector.

:class:`WsSession` connects through a transport (:mod:`arbot.connectors.ws_transport`:
``picows`` when installed, the pure-Python ``websockets`` otherwise, per ``[system]
ws_transport``), calls the connector's ``on_message`` for every message in the very call that
read it from the socket (no per-message task, queue or timer), and keeps the connection alive:

* reconnect with jittered exponential backoff (reset after a connection that worked);
* heartbeats configured per venue (:class:`Heartbeat`): protocol pings, an application ping
  message (``"ping"``, ``{"op": "ping"}``...) every N seconds, and an idle timeout after which a
  silent connection is considered dead;
* rotation before the venue's maximum connection lifetime (Binance: 24 h);
* resubscription after every reconnect: the messages given to :meth:`WsSession.subscribe` are
  sent again, paced by a :class:`~arbot.connectors.ratelimit.SubscriptionPacer`;
* counters (:class:`WsStats`): connects, reconnects, rotations, messages, garbage frames,
  handler errors. A frame the handler cannot decode is counted and skipped; no frame can stop
  the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs
import msgspec

from arbot.connectors.ratelimit import SubscriptionPacer
from arbot.connectors.ws_transport import (
    ConnectOptions,
    WsClosed,
    WsConnection,
    WsTransport,
    WsTransportKind,
    choose_transport,
)

__all__ = ["Backoff", "GarbageFrame", "Heartbeat", "WsSession", "WsStats", "WsTransportKind"]

log = logging.getLogger("arbot.connectors.ws")

Frame = str | bytes


class GarbageFrame(ValueError):
    """Raised by a message handler for a frame that is not a valid venue message."""


@attrs.define(slots=True)
class Heartbeat:
    """Keep-alive rules of one venue.

    ``ping_interval``/``ping_timeout``: protocol-level pings sent by the client (None: off;
    servers that ping the client are answered automatically). ``app_ping``: a message sent every
    ``app_ping_interval`` seconds (text, bytes, or a callable returning one). ``idle_timeout``:
    reconnect when nothing at all was received for that long (None: never).
    """

    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    app_ping: Frame | Callable[[], Frame] | None = None
    app_ping_interval: float = 20.0
    idle_timeout: float | None = None


@attrs.define(slots=True)
class Backoff:
    """Jittered exponential backoff: ``initial * factor**n`` capped at ``maximum``, times a
    random factor in ``[1 - jitter, 1]``."""

    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    jitter: float = 0.5

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Delay before reconnect attempt number ``attempt`` (0 = first retry)."""
        base = min(self.maximum, self.initial * self.factor ** min(attempt, 64))
        return base * (1.0 - self.jitter * rng.random())


@attrs.define(slots=True)
class WsStats:
    """Counters of one session."""

    connects: int = 0
    reconnects: int = 0
    failed_connects: int = 0
    rotations: int = 0
    idle_timeouts: int = 0
    messages: int = 0
    garbage_frames: int = 0
    handler_errors: int = 0
    sent: int = 0
    last_message: float = 0.0

    def as_dict(self) -> dict[str, int]:
        """Counters as a dict (without the last message time)."""
        return {k: v for k, v in attrs.asdict(self).items() if k != "last_message"}


OnMessage = Callable[[Frame, float], None]
OnOpen = Callable[["WsSession"], Awaitable[None]]
OnClose = Callable[["WsSession"], None]


class WsSession:
    """One logical WebSocket subscription that survives disconnects.

    ``url`` may be a callable (evaluated at each connect). ``on_message(frame, recv_time)`` is
    called synchronously for each message (``str`` text, ``bytes`` binary), from the socket
    read that completed it; raise :class:`GarbageFrame` (or a msgspec/JSON decode error) for an
    invalid frame. ``on_open`` runs after each connect, before resubscription; ``on_close``
    after each disconnect (drop the books there). ``headers()`` gives extra HTTP headers for
    each connect's upgrade request (a fresh signed token, e.g. Upbit's JWT). ``transport``:
    ``auto`` (picows when installed), ``picows`` or ``websockets`` (see
    :func:`~arbot.connectors.ws_transport.choose_transport`; a session picows cannot serve
    falls back to ``websockets`` with a logged reason); ``compression="deflate"`` negotiates
    per-message deflate (``websockets`` only).
    """

    def __init__(
        self,
        url: str | Callable[[], str],
        on_message: OnMessage,
        *,
        on_open: OnOpen | None = None,
        on_close: OnClose | None = None,
        heartbeat: Heartbeat | None = None,
        backoff: Backoff | None = None,
        max_lifetime: float | None = 23.5 * 3600,
        pacer: SubscriptionPacer | None = None,
        open_timeout: float = 10.0,
        max_size: int | None = 16 * 2**20,
        name: str = "ws",
        seed: int | None = None,
        clock: Callable[[], float] = time.time,
        headers: Callable[[], Mapping[str, str]] | None = None,
        transport: WsTransportKind | str = WsTransportKind.AUTO,
        compression: str | None = None,
    ) -> None:
        self._url = url
        self.headers = headers
        self.on_message = on_message
        self.on_open = on_open
        self.on_close = on_close
        self.heartbeat = heartbeat or Heartbeat()
        self.backoff = backoff or Backoff()
        self.max_lifetime = max_lifetime
        self.pacer = pacer
        self.open_timeout = open_timeout
        self.max_size = max_size
        self.name = name
        self.clock = clock
        self.compression = compression
        self.stats = WsStats()
        choice = choose_transport(transport, compression=compression)
        self.transport: WsTransport = choice.transport
        if choice.reason:
            level = logging.INFO if WsTransportKind(transport) is WsTransportKind.AUTO else logging.WARNING
            log.log(level, "%s: WebSocket transport %s: %s", name, choice.transport.name, choice.reason)
        self._rng = random.Random(seed)
        self._subs: list[Frame] = []
        self._ws: WsConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._connected = asyncio.Event()
        self._restart = False
        self._closer: asyncio.Future[None] | None = None
        self._last_rx = 0.0

    # -- public ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The URL the next connection uses."""
        return self._url() if callable(self._url) else self._url

    @property
    def transport_name(self) -> str:
        """``picows`` or ``websockets``: the transport this session connects with."""
        return self.transport.name

    @property
    def closing(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closing

    @property
    def connected(self) -> bool:
        """True while a connection is open."""
        return self._ws is not None

    async def start(self, wait: bool = True, timeout: float | None = None) -> None:
        """Start the session task; with ``wait``, return once the first connection is open."""
        if self._task is None or self._task.done():
            self._closing = False
            self._task = asyncio.create_task(self._run(), name=f"{self.name}-session")
        if wait:
            await asyncio.wait_for(self._connected.wait(), timeout)

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until a connection is open."""
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def subscribe(self, *messages: Frame) -> None:
        """Remember ``messages`` (re-sent after every reconnect) and send them now if connected."""
        self._subs.extend(messages)
        if self._ws is not None:
            for m in messages:
                await self.send(m)

    def unsubscribe_saved(self, message: Frame) -> None:
        """Forget a remembered subscription message (it is not sent again on reconnect)."""
        with contextlib.suppress(ValueError):
            self._subs.remove(message)

    @property
    def subscriptions(self) -> list[Frame]:
        """Messages re-sent after each reconnect."""
        return list(self._subs)

    async def send(self, message: Frame | dict[str, Any] | list[Any]) -> bool:
        """Send one message (dicts and lists as JSON), paced; False when not connected."""
        ws = self._ws
        if ws is None:
            return False
        if self.pacer is not None:
            await self.pacer.wait()
        data: Frame = msgspec.json.encode(message).decode() if isinstance(message, dict | list) else message
        try:
            await ws.send(data)
        except WsClosed:
            return False
        self.stats.sent += 1
        return True

    def reconnect(self) -> None:
        """Drop the current connection and reconnect at once (e.g. on a server-shutdown notice)."""
        ws = self._ws
        if ws is not None:
            self._restart = True
            self._closer = asyncio.ensure_future(ws.close())

    async def close(self) -> None:
        """Close for good."""
        self._closing = True
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 3.0)
        task = self._task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._task = None

    # -- internals ---------------------------------------------------------------------------

    def _deliver(self, frame: Frame) -> None:
        """One message from the transport: count it and hand it to ``on_message``."""
        now = self.clock()
        self._last_rx = now
        stats = self.stats
        stats.messages += 1
        stats.last_message = now
        try:
            self.on_message(frame, now)
        except (
            GarbageFrame,
            msgspec.DecodeError,
            msgspec.ValidationError,
            ValueError,
            UnicodeDecodeError,
        ):
            stats.garbage_frames += 1
        except Exception:
            stats.handler_errors += 1
            log.exception("%s: message handler failed; frame skipped", self.name)

    async def _run(self) -> None:
        attempt = 0
        first = True
        hb = self.heartbeat
        while not self._closing:
            immediate = False
            options = ConnectOptions(
                open_timeout=self.open_timeout,
                ping_interval=hb.ping_interval,
                ping_timeout=hb.ping_timeout,
                max_size=self.max_size,
                headers=self.headers() if self.headers is not None else None,
                compression=self.compression,
            )
            try:
                ws = await self.transport.connect(self.url, self._deliver, options)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.stats.failed_connects += 1
                log.warning("%s: connect to %s failed: %r", self.name, self.url, exc)
            else:
                self.stats.connects += 1
                if not first:
                    self.stats.reconnects += 1
                first = False
                attempt = 0
                try:
                    immediate = await self._serve(ws)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("%s: connection lost: %r", self.name, exc)
                finally:
                    self._ws = None
                    self._connected.clear()
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(ws.close(), 3.0)
                    if self.on_close is not None:
                        try:
                            self.on_close(self)
                        except Exception:
                            log.exception("%s: on_close failed", self.name)
            if self.closing:
                break
            if not immediate:
                await asyncio.sleep(self.backoff.delay(attempt, self._rng))
                attempt += 1

    async def _serve(self, ws: WsConnection) -> bool:
        """Run one connection; True when it ended by rotation/request (reconnect at once).

        Messages arrive through :meth:`_deliver`; this task only waits for the end of the
        connection or the next timer: application ping, idle timeout, lifetime rotation.
        """
        self._ws = ws
        opened = self.clock()
        self._last_rx = opened
        if self.on_open is not None:
            await self.on_open(self)
        for m in list(self._subs):
            await self.send(m)
        self._connected.set()
        hb = self.heartbeat
        next_ping = opened + hb.app_ping_interval if hb.app_ping is not None else float("inf")
        stats = self.stats
        clock = self.clock
        closed = ws.closed
        while True:
            now = clock()
            deadline = next_ping
            if self.max_lifetime is not None:
                deadline = min(deadline, opened + self.max_lifetime)
            if hb.idle_timeout is not None:
                deadline = min(deadline, self._last_rx + hb.idle_timeout)
            timeout = max(0.0, deadline - now) if deadline != float("inf") else None
            done, _ = await asyncio.wait((closed,), timeout=timeout)
            if done:
                if self._restart:
                    self._restart = False
                    return True
                return False
            now = clock()
            if self.max_lifetime is not None and now >= opened + self.max_lifetime:
                stats.rotations += 1
                return True
            if hb.idle_timeout is not None and now >= self._last_rx + hb.idle_timeout:
                stats.idle_timeouts += 1
                return True
            if now >= next_ping and hb.app_ping is not None:
                ping = hb.app_ping() if callable(hb.app_ping) else hb.app_ping
                with contextlib.suppress(WsClosed):
                    await ws.send(ping)
                next_ping = now + hb.app_ping_interval
