"""The fast WebSocket transport on ``picows`` (the ``arbot-core[fast]`` extra).

picows parses frames straight out of each socket read and calls the listener once per frame,
in the same call: a complete text message goes to the session as ``str``, a binary one as
``bytes``, with no task, queue or future per message. Fragmented messages are reassembled
(bounded by ``max_size``), a close frame is answered, pings are answered automatically and,
when the session asks for protocol pings, one is sent after ``ping_interval`` seconds without
incoming data and the connection is dropped when its pong does not come within
``ping_timeout``. TLS (``wss://``) uses picows' default client context. Imported only when
picows is installed (see :func:`~arbot.connectors.ws_transport.choose_transport`).
"""

from __future__ import annotations

import asyncio
import contextlib

import picows

from arbot.connectors.ws_transport import ConnectOptions, Deliver, Frame, WsClosed, WsConnection

__all__ = ["PicowsTransport"]

_TEXT = picows.WSMsgType.TEXT
_BINARY = picows.WSMsgType.BINARY
_CONTINUATION = picows.WSMsgType.CONTINUATION
_CLOSE = picows.WSMsgType.CLOSE


class _Listener(picows.WSListener):
    """One connection: delivers messages, reassembles fragments, ends the ``closed`` future."""

    def __init__(self, deliver: Deliver, max_size: int | None) -> None:
        super().__init__()
        self.deliver = deliver
        self.max_size = max_size
        self.transport: picows.WSTransport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.parts: list[bytes] = []
        self.parts_size = 0
        self.parts_text = False

    def on_ws_connected(self, transport: picows.WSTransport) -> None:
        """The upgrade succeeded."""
        self.transport = transport

    def on_ws_frame(self, transport: picows.WSTransport, frame: picows.WSFrame) -> None:
        """One frame: deliver a complete message, collect a fragment, answer a close."""
        mt = frame.msg_type
        if mt is _TEXT:
            if frame.fin:
                self.deliver(frame.get_payload_as_utf8_text())
            else:
                self._start(True, frame.get_payload_as_bytes())
        elif mt is _BINARY:
            if frame.fin:
                self.deliver(frame.get_payload_as_bytes())
            else:
                self._start(False, frame.get_payload_as_bytes())
        elif mt is _CONTINUATION:
            self._continue(transport, frame.get_payload_as_bytes(), frame.fin)
        elif mt is _CLOSE:
            if not transport.is_close_frame_sent:
                transport.send_close(frame.get_close_code())
            transport.disconnect()

    def _start(self, text: bool, part: bytes) -> None:
        self.parts = [part]
        self.parts_size = len(part)
        self.parts_text = text

    def _continue(self, transport: picows.WSTransport, part: bytes, fin: bool) -> None:
        if not self.parts:
            # a continuation with no first fragment breaks the protocol: drop the connection
            transport.send_close(picows.WSCloseCode.PROTOCOL_ERROR)
            transport.disconnect()
            return
        self.parts.append(part)
        self.parts_size += len(part)
        if self.max_size is not None and self.parts_size > self.max_size:
            self.parts = []
            transport.send_close(picows.WSCloseCode.MESSAGE_TOO_BIG)
            transport.disconnect()
            return
        if fin:
            data = b"".join(self.parts)
            self.parts = []
            self.deliver(data.decode() if self.parts_text else data)

    def on_ws_disconnected(self, transport: picows.WSTransport) -> None:
        """The connection ended."""
        if not self.closed.done():
            self.closed.set_result(None)


class _PicowsConnection:
    """The :class:`~arbot.connectors.ws_transport.WsConnection` of one picows connection."""

    def __init__(self, transport: picows.WSTransport, listener: _Listener) -> None:
        self._transport = transport
        self._listener = listener

    @property
    def closed(self) -> asyncio.Future[None]:
        """Done once picows reports the disconnect."""
        return self._listener.closed

    async def send(self, data: Frame) -> None:
        """Send one message (text for ``str``, binary for ``bytes``)."""
        t = self._transport
        if self._listener.closed.done() or t.is_close_frame_sent:
            raise WsClosed("the connection is closed")
        if isinstance(data, str):
            t.send(_TEXT, data.encode())
        else:
            t.send(_BINARY, data)

    async def close(self) -> None:
        """Close frame, disconnect, wait (bounded) for the disconnect."""
        t = self._transport
        closed = self._listener.closed
        if not closed.done():
            with contextlib.suppress(Exception):
                if not t.is_close_frame_sent:
                    t.send_close(picows.WSCloseCode.OK)
                t.disconnect()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(closed), 2.0)
        if not closed.done():
            closed.set_result(None)


class PicowsTransport:
    """The fast transport (``picows``)."""

    name = "picows"

    async def connect(self, url: str, deliver: Deliver, options: ConnectOptions) -> WsConnection:
        """Open ``url`` with picows (TLS for ``wss://``); no per-message compression."""
        if options.compression is not None:
            raise ValueError("picows does not negotiate per-message compression")
        ping = options.ping_interval
        transport, listener = await asyncio.wait_for(
            picows.ws_connect(
                lambda: _Listener(deliver, options.max_size),
                url,
                websocket_handshake_timeout=options.open_timeout,
                enable_auto_ping=ping is not None,
                auto_ping_idle_timeout=ping or 20.0,
                auto_ping_reply_timeout=options.ping_timeout or ping or 20.0,
                enable_auto_pong=True,
                max_frame_size=options.max_size or 2**30,
                extra_headers=dict(options.headers) if options.headers is not None else None,
                logger_name="arbot",
            ),
            options.open_timeout,
        )
        assert isinstance(listener, _Listener)
        return _PicowsConnection(transport, listener)
