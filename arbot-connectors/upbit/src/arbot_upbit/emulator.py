"""An Upbit emulator: the core full-book emulator
(:class:`~arbot.testing.emulator.FullBookEmulator`: binary frames, both formats, depth
suffixes, request errors, ``PING`` -> ``{"status":"UP"}``, snapshots on every request, market
list and REST book) plus Upbit's ``/v1/orderbook/instruments`` (tick sizes) and the private API
(:class:`~arbot_upbit.private_api.UpbitPrivateApi`: orders, accounts, ``myOrder`` on
``/websocket/v1/private``)."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web
from arbot.testing.emulator import EmulatorClient, EmulatorServer, FullBookEmulator, fast_settings

from arbot_upbit.private_api import UpbitPrivateApi

__all__ = ["UpbitEmulator", "emulator_settings"]


class UpbitEmulator(FullBookEmulator):
    """Upbit emulator (see the module docstring)."""

    venue = "upbit"
    private: UpbitPrivateApi

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: the private API (accounts, orders, ``myOrder``) on the emulated exchange
        self.private = UpbitPrivateApi(self.books, self.spawn)

    def routes(self) -> list[web.RouteDef]:
        """Market list, REST book, tick sizes and the private API."""
        return [*super().routes(), web.get("/v1/orderbook/instruments", self._instruments),
                *self.private.routes()]

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

    async def _instruments(self, request: web.Request) -> web.Response:
        wanted = request.query.get("markets", "").split(",")
        return web.json_response([
            {"market": c, "quote_currency": c.partition("-")[0],
             "tick_size": f"{self.books[c].tick:g}", "supported_levels": ["0"]}
            for c in wanted if c in self.books])


def emulator_settings(emulator: EmulatorServer, **extra: Any) -> Any:
    """:class:`~arbot_upbit.connector.UpbitSettings` pointing at ``emulator`` with test-sized
    timers; ``extra`` overrides."""
    from arbot_upbit.connector import UpbitConnector

    return fast_settings(UpbitConnector, emulator, **extra)
