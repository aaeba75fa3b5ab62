"""An Upbit emulator: the core full-book emulator
(:class:`~arbot.testing.emulator.FullBookEmulator`: binary frames, both formats, depth
suffixes, request errors, ``PING`` -> ``{"status":"UP"}``, snapshots on every request, market
list and REST book) plus Upbit's ``/v1/orderbook/instruments`` (tick sizes)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from arbot.testing.emulator import EmulatorServer, FullBookEmulator, fast_settings

__all__ = ["UpbitEmulator", "emulator_settings"]


class UpbitEmulator(FullBookEmulator):
    """Upbit emulator (see the module docstring)."""

    venue = "upbit"

    def routes(self) -> list[web.RouteDef]:
        """Market list, REST book and tick sizes."""
        return [*super().routes(), web.get("/v1/orderbook/instruments", self._instruments)]

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
