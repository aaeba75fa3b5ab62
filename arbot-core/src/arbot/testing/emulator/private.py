"""Pieces every venue's emulated private API shares, on top of :class:`EmulatedExchange`.

* :func:`decimal_str` — an amount as the venue writes it (fixed decimals, or plain);
* :func:`drop_response` — end an HTTP exchange without an answer (the ACK_LOST fault);
* :func:`pump_events` — forward one account's exchange events to a WebSocket client until the
  stream is dropped (then cut the socket, as a venue's private stream dies);
* :func:`verify_window` — the venues' timestamp rule (not older than the window, not ahead);
* :func:`hmac_sha256` — the emulators' own HMAC (they do not use the connectors' signers).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from decimal import Decimal

from aiohttp import web

from arbot.testing.emulator.exchange import EventFeed, FeedDropped
from arbot.testing.emulator.exchange_models import ExchangeEvent
from arbot.testing.emulator.server import EmulatorClient

__all__ = ["decimal_str", "drop_response", "hmac_sha256", "pump_events", "verify_window"]


def decimal_str(value: Decimal | None, places: int | None = None) -> str:
    """``value`` with ``places`` decimals (Binance's ``"0.00100000"``), or plain (``"0.001"``)
    when ``places`` is None; ``""`` for None."""
    if value is None:
        return ""
    if places is not None:
        return f"{value:.{places}f}"
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def drop_response(request: web.Request) -> web.Response:
    """Cut the connection without answering (the client sees the connection drop)."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=500)


def hmac_sha256(secret: str, message: str, encoding: str = "hex") -> str:
    """HMAC-SHA256 of ``message`` keyed by ``secret``, as ``hex`` or ``base64``."""
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


def verify_window(ts_ms: int, server_ms: int, window_ms: int, ahead_ms: int = 1000) -> str | None:
    """None when ``ts_ms`` is inside ``[server - window, server + ahead)``, else "behind" or
    "ahead"."""
    if ts_ms >= server_ms + ahead_ms:
        return "ahead"
    if server_ms - ts_ms > window_ms:
        return "behind"
    return None


async def pump_events(
    feed: EventFeed,
    client: EmulatorClient,
    render: Callable[[ExchangeEvent], Awaitable[list[bytes]]],
) -> None:
    """Send each event of ``feed`` (rendered into venue frames) to ``client`` until the feed is
    dropped or the client leaves; a dropped feed aborts the socket (no close frame)."""
    try:
        while True:
            event = await feed.get()
            for frame in await render(event):
                if not await client.send(frame):
                    return
    except FeedDropped:
        client.abort()
    except asyncio.CancelledError:
        raise
    finally:
        with contextlib.suppress(Exception):
            feed.close()
