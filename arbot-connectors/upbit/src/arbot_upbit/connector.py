"""The Upbit connector: the core full-book connector
(:class:`~arbot.connectors.fullbook.FullBookConnector`: full top-N ``orderbook`` and ``trade``
streams over one WebSocket, binary or text frames, ``PING`` keep-alive) with Upbit's endpoints,
limits, fees and tick sizes from ``/v1/orderbook/instruments``."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import msgspec
from arbot.config import ComponentSettings
from arbot.connectors.fullbook import FullBookConnector, FullBookSettings
from arbot.connectors.rest import RestError
from arbot.market import MarketInfo
from pydantic import Field

from arbot_upbit.markets import VOLUME_STEP, parse_instruments, parse_market_all
from arbot_upbit.replay import UpbitReplayDecoder

__all__ = ["UpbitConnector", "UpbitSettings"]

log = logging.getLogger("arbot_upbit")


class UpbitSettings(FullBookSettings):
    """Settings of the Upbit connector (``[connectors.upbit]``); URLs overridable for tests."""

    rest_url: str = Field("https://api.upbit.com", description="REST base URL")
    ws_url: str = Field("wss://api.upbit.com/websocket/v1", description="public WebSocket URL")
    depth: int = Field(15, description="orderbook units per code: 1, 5, 15 or 30")


class UpbitConnector(FullBookConnector):
    """Upbit market data: full top-N books (``CODE.n`` sets the depth) and trades; markets from
    ``/v1/market/all`` with Upbit's fees and minimums by quote and the tick sizes of
    ``/v1/orderbook/instruments``."""

    name: ClassVar[str] = "upbit"
    Settings: ClassVar[type[ComponentSettings]] = UpbitSettings
    description: ClassVar[str] = "Upbit: top-N books, trades, market metadata (KRW/BTC/USDT)"
    market_all_query: ClassVar[str] = "is_details=true"
    emulator_class: ClassVar[str] = "arbot_upbit.emulator:UpbitEmulator"
    replay_class = UpbitReplayDecoder
    #: Tick sizes endpoint.
    instruments_path: ClassVar[str] = "/v1/orderbook/instruments"

    async def fetch_ticks(self, body: list[Any]) -> dict[str, float]:
        """Tick sizes from the orderbook-instruments endpoint, 100 markets per request (none
        when it fails)."""
        ticks: dict[str, float] = {}
        codes = [str(m["market"]) for m in body]
        for i in range(0, len(codes), 100):
            try:
                ticks.update(parse_instruments(await self.rest.get(
                    self.instruments_path, {"markets": ",".join(codes[i:i + 100])})))
            except (RestError, msgspec.DecodeError) as exc:
                log.warning("%s: tick sizes unavailable: %s", self.name, exc)
                break
        return ticks

    def parse_markets(self, body: list[Any], ticks: dict[str, float]) -> list[MarketInfo]:
        """MarketInfo of a ``/v1/market/all`` body (Upbit fees and minimums by quote)."""
        return parse_market_all(body, self.name, ticks, VOLUME_STEP)
