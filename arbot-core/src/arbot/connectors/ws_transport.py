"""The WebSocket transports under :class:`~arbot.connectors.ws.WsSession`.

A transport opens one connection and pushes every complete message (``str`` for a text
message, ``bytes`` for a binary one) to the session's ``deliver`` callback as soon as it is
read, with no per-message task, queue or future in between:

* ``picows`` (the ``arbot-core[fast]`` extra): a Cython WebSocket client; frames are parsed
  from each socket read and handed over in the same call. TLS, extra upgrade headers,
  protocol pings (sent when the connection is idle, with a reply timeout), automatic pongs
  and fragmented messages are supported; per-message deflate is not.
* ``websockets`` (always installed): the pure-Python fallback; a reader task receives each
  message and delivers it.

:func:`choose_transport` picks one for the ``[system] ws_transport`` setting
(``auto`` | ``picows`` | ``websockets``) and says why when it cannot honour it: ``auto``
takes picows when it is installed and the session needs nothing it lacks (compression), and
``websockets`` otherwise; an explicit ``picows`` that cannot serve a session falls back with a
logged reason instead of failing the venue.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import importlib.util
import logging
from collections.abc import Callable, Mapping
from typing import Protocol

import attrs
import websockets
from websockets.asyncio.client import ClientConnection, connect

__all__ = [
    "ConnectOptions",
    "TransportChoice",
    "WebsocketsTransport",
    "WsClosed",
    "WsConnection",
    "WsTransport",
    "WsTransportKind",
    "choose_transport",
    "picows_available",
]

log = logging.getLogger("arbot.connectors.ws")

Frame = str | bytes
Deliver = Callable[[Frame], None]


class WsTransportKind(enum.StrEnum):
    """The ``[system] ws_transport`` values."""

    AUTO = "auto"
    PICOWS = "picows"
    WEBSOCKETS = "websockets"


class WsClosed(ConnectionError):
    """Sending on a connection that is closed (or closing)."""


@attrs.define(frozen=True, slots=True)
class ConnectOptions:
    """What one connect needs: timeouts, protocol pings, size limit, headers, compression."""

    open_timeout: float = 10.0
    ping_interval: float | None = None
    ping_timeout: float | None = None
    max_size: int | None = 16 * 2**20
    headers: Mapping[str, str] | None = None
    #: ``"deflate"``: negotiate per-message deflate (only the ``websockets`` transport can).
    compression: str | None = None


class WsConnection(Protocol):
    """One open connection of a transport."""

    @property
    def closed(self) -> asyncio.Future[None]:
        """Done once the connection has ended (by either side, or by an error)."""
        ...

    async def send(self, data: Frame) -> None:
        """Send one message (``str``: text, ``bytes``: binary); :class:`WsClosed` if closed."""
        ...

    async def close(self) -> None:
        """Close the connection (a close handshake, bounded) and wait until it has ended."""
        ...


class WsTransport(Protocol):
    """Opens connections that deliver every message to a callback."""

    name: str

    async def connect(self, url: str, deliver: Deliver, options: ConnectOptions) -> WsConnection:
        """Open ``url``; every complete message goes to ``deliver`` in arrival order."""
        ...


# -- websockets -----------------------------------------------------------------------------


class _WebsocketsConnection:
    """A ``websockets`` client connection and the task reading it."""

    def __init__(self, ws: ClientConnection, deliver: Deliver) -> None:
        self._ws = ws
        self._closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.get_running_loop().create_task(self._read(deliver), name="ws-reader")

    @property
    def closed(self) -> asyncio.Future[None]:
        """Done once the reader has stopped."""
        return self._closed

    async def _read(self, deliver: Deliver) -> None:
        ws = self._ws
        try:
            while True:
                deliver(await ws.recv())
        except websockets.ConnectionClosed:
            pass
        except Exception as exc:  # the session logs how the connection ended
            log.debug("websockets reader stopped: %r", exc)
        finally:
            if not self._closed.done():
                self._closed.set_result(None)

    async def send(self, data: Frame) -> None:
        """Send one message."""
        try:
            await self._ws.send(data)
        except websockets.ConnectionClosed as exc:
            raise WsClosed(str(exc)) from exc

    async def close(self) -> None:
        """Close handshake, then wait for the reader."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._ws.close(), 2.0)
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader
        if not self._closed.done():
            self._closed.set_result(None)


class WebsocketsTransport:
    """The pure-Python transport (``websockets``)."""

    name = "websockets"

    async def connect(self, url: str, deliver: Deliver, options: ConnectOptions) -> WsConnection:
        """Open ``url`` with ``websockets``."""
        ws = await connect(
            url,
            open_timeout=options.open_timeout,
            ping_interval=options.ping_interval,
            ping_timeout=options.ping_timeout,
            max_size=options.max_size,
            close_timeout=2.0,
            compression="deflate" if options.compression == "deflate" else None,
            additional_headers=dict(options.headers) if options.headers is not None else None,
        )
        return _WebsocketsConnection(ws, deliver)


def picows_available() -> bool:
    """True when the ``picows`` package is installed (``pip install 'arbot-core[fast]'``)."""
    return importlib.util.find_spec("picows") is not None


# -- choice ---------------------------------------------------------------------------------


@attrs.define(frozen=True, slots=True)
class TransportChoice:
    """The transport a session uses, and why it is not the one asked for (``""``: it is)."""

    transport: WsTransport
    reason: str = ""


def choose_transport(kind: WsTransportKind | str, *, compression: str | None = None) -> TransportChoice:
    """The transport for the ``[system] ws_transport`` setting ``kind`` and a session that
    needs ``compression`` (see the module docstring); ``reason`` says why a session asking for
    picows (or ``auto``) gets ``websockets``."""
    kind = WsTransportKind(kind)
    if kind is WsTransportKind.WEBSOCKETS:
        return TransportChoice(WebsocketsTransport())
    if compression is not None:
        reason = f"per-message {compression} is needed and picows cannot negotiate it"
    elif not picows_available():
        reason = "picows is not installed (pip install 'arbot-core[fast]')"
    else:
        try:  # installed but unusable (a build for another Python or libc): websockets instead
            from arbot.connectors.ws_picows import PicowsTransport
        except ImportError as exc:
            reason = f"picows is installed but cannot be imported ({exc})"
        else:
            return TransportChoice(PicowsTransport())
    return TransportChoice(WebsocketsTransport(), reason)
