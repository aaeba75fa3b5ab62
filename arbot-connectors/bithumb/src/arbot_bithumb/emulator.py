"""A Bithumb emulator: the core full-book emulator
(:class:`~arbot.testing.emulator.FullBookEmulator`) with Bithumb's differences -- text frames,
a 16-digit µs ``timestamp`` sent as a string (as in ccxt's captured message), and no
``/v1/orderbook/instruments`` endpoint (the base serves none) -- and the private API
(:class:`~arbot_bithumb.private_api.BithumbPrivateApi`: orders, accounts, ``myOrder`` on
``/websocket/v1/private``)."""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Any, ClassVar

import msgspec
from aiohttp import web
from arbot.testing.emulator import EmulatorClient, EmulatorServer, FullBookEmulator, fast_settings

from arbot_bithumb.private_api import BithumbPrivateApi

__all__ = ["BithumbEmulator", "emulator_settings"]


class BithumbEmulator(FullBookEmulator):
    """Bithumb emulator (see the module docstring)."""

    venue = "bithumb"
    private: BithumbPrivateApi
    binary_frames: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: the private API (accounts, orders, ``myOrder``) on the emulated exchange
        self.private = BithumbPrivateApi(self.books, self.spawn)

    def routes(self) -> list[web.RouteDef]:
        """Market list, REST book and the private API."""
        return [*super().routes(), *self.private.routes()]

    async def on_ws_connect(self, client: EmulatorClient) -> None:
        """``/websocket/v1/private`` needs a valid JWT in the upgrade request."""
        if client.path.startswith("/websocket/v1/private"):
            await self.private.on_connect(client)

    async def on_ws_message(self, client: EmulatorClient, message: str | bytes) -> None:
        """Private connections subscribe ``myOrder``; the rest is the public protocol."""
        if client.state.get("private") and message not in ("PING", b"PING"):
            try:
                req = msgspec.json.decode(message)
            except msgspec.DecodeError:
                req = None
            if isinstance(req, list):
                await self.private.on_message(client, req)
                return
        await super().on_ws_message(client, message)

    async def tick(self) -> None:
        """Book changes; resting orders the book crosses fill."""
        await super().tick()
        self.private.exchange.match()

    async def _market_all(self, request: web.Request) -> web.Response:
        """The market list, with the exchange's clock (skew included) in its ``Date`` header
        (what the gateway syncs to: Bithumb has no time endpoint)."""
        resp = await super()._market_all(request)
        resp.headers["Date"] = formatdate(self.private.exchange.server_time(), usegmt=True)
        return resp

    def stamp(self) -> int | str:
        """µs, as a string."""
        return str(time.time_ns() // 1000)


def emulator_settings(emulator: EmulatorServer, **extra: Any) -> Any:
    """:class:`~arbot_bithumb.connector.BithumbSettings` pointing at ``emulator`` with
    test-sized timers; ``extra`` overrides."""
    from arbot_bithumb.connector import BithumbConnector

    return fast_settings(BithumbConnector, emulator, **extra)
