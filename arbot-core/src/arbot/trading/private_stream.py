"""A venue's private WebSocket stream with login, subscription, reconnect and REST reconcile.

:func:`private_stream` connects, sends the venue's login frame, waits for its answer (a refusal
raises :class:`AuthenticationFailed`), subscribes, and yields the order updates the venue's
parser finds in each frame. When the connection drops it reconnects, logs in again,
resubscribes, and first yields the REST view of the orders the gateway placed (``reconcile``),
so that what happened during the gap is not missed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import msgspec
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from arbot.trading.errors import AuthenticationFailed
from arbot.trading.types import OrderUpdate

__all__ = ["LoginVerdict", "private_stream"]

#: What a venue's ``login_reply`` says about a frame: None (not the login answer), True
#: (logged in) or the refusal's text.
LoginVerdict = bool | str | None


async def private_stream(
    venue: str,
    url: str,
    *,
    login: Callable[[], str],
    login_reply: Callable[[Any], LoginVerdict],
    subscribe: Sequence[str],
    parse: Callable[[Any], Sequence[OrderUpdate]],
    reconcile: Callable[[], Awaitable[Sequence[OrderUpdate]]],
    login_timeout: float = 5.0,
    retry_delay: float = 0.05,
) -> AsyncIterator[OrderUpdate]:
    """Order updates from ``url`` (see the module docstring); runs until the consumer stops."""
    reconnect = False
    while True:
        try:
            async with connect(url, ping_interval=20.0, max_size=2**22) as ws:
                await ws.send(login())
                await asyncio.wait_for(_await_login(venue, ws, login_reply), login_timeout)
                for frame in subscribe:
                    await ws.send(frame)
                if reconnect:
                    for update in await reconcile():
                        yield update
                async for raw in ws:
                    if raw == "pong":
                        continue
                    try:
                        msg = msgspec.json.decode(raw)
                    except msgspec.DecodeError:
                        continue
                    for update in parse(msg):
                        yield update
        except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError):
            await asyncio.sleep(retry_delay)
        reconnect = True


async def _await_login(venue: str, ws: Any, login_reply: Callable[[Any], LoginVerdict]) -> None:
    async for raw in ws:
        try:
            msg = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            continue
        verdict = login_reply(msg)
        if verdict is True:
            return
        if isinstance(verdict, str):
            raise AuthenticationFailed(venue, f"private stream login refused: {verdict}")
    raise ConnectionClosed(None, None)
