"""The Upbit connector: full top-N ``orderbook`` and ``trade`` streams over one WebSocket
(binary or text frames, ``PING`` keep-alive) -- the full-book parts on core's
:class:`~arbot.connectors.base.StreamingConnector` -- with Upbit's limits, fees, minimums and
the tick sizes of ``/v1/orderbook/instruments``."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import msgspec
from arbot.config import ComponentSettings
from arbot.connectors.base import FeedSpec, StreamingConnector, StreamingSettings
from arbot.connectors.bootstrap import FullBook
from arbot.connectors.protocol import TicketProtocol
from arbot.connectors.ratelimit import CountLimiter, RateLimitPolicy
from arbot.connectors.rest import RestError
from arbot.connectors.symbols import MarketType
from arbot.market import MarketInfo
from arbot.trading.gateway import TradingGateway
from arbot.trading.signing import ApiCredentials
from pydantic import Field

from arbot_upbit import messages
from arbot_upbit.markets import VOLUME_STEP, parse_instruments, parse_market_all
from arbot_upbit.replay import UpbitReplayDecoder
from arbot_upbit.symbols import upbit_symbols

__all__ = ["UpbitConnector", "UpbitSettings"]

log = logging.getLogger("arbot_upbit")


class UpbitSettings(StreamingSettings):
    """Settings of the Upbit connector (``[connectors.upbit]``); URLs overridable for tests."""

    rest_url: str = Field("https://api.upbit.com", description="REST base URL")
    ws_url: str = Field("wss://api.upbit.com/websocket/v1", description="public WebSocket URL")
    depth: int = Field(15, description="orderbook units per code: 1, 5, 15 or 30")
    format: str = Field("DEFAULT", description="message format: DEFAULT or SIMPLE")
    requests_per_second: int = Field(10, gt=0, description="quotation REST requests/s (per IP)")
    idle_timeout: float | None = Field(60.0, description="reconnect after this long silent")
    stale_after: float | None = Field(30.0, description="mark a book stale after this long")


class UpbitConnector(StreamingConnector):
    """Upbit market data: full top-N books (``CODE.n`` sets the depth) and trades; one
    request frame carries the whole subscription set and is re-sent (new ticket) on reconnect
    and to resynchronise a book. Markets from ``/v1/market/all`` with Upbit's fees and
    minimums by quote, tick sizes from ``/v1/orderbook/instruments``."""

    name: ClassVar[str] = "upbit"
    Settings: ClassVar[type[ComponentSettings]] = UpbitSettings
    description: ClassVar[str] = "Upbit: top-N books, trades, market metadata (KRW/BTC/USDT)"
    emulator_class: ClassVar[str] = "arbot_upbit.emulator:UpbitEmulator"

    @classmethod
    def trading_gateway(cls, settings: ComponentSettings, credentials: ApiCredentials) -> TradingGateway:
        """The upbit trading gateway on the same hosts as ``settings``."""
        from arbot_upbit.trading import UpbitTradingGateway

        if not isinstance(settings, UpbitSettings):
            raise TypeError(f"upbit trading gateway needs UpbitSettings, got {type(settings).__name__}")
        private_ws = settings.ws_url.rstrip("/") + "/private"  # the private stream beside the public one
        return UpbitTradingGateway(credentials, rest_url=settings.rest_url, ws_url=private_ws)
    emulator_paths: ClassVar[dict[str, str]] = {"ws_url": "/websocket/v1"}
    replay_class = UpbitReplayDecoder

    def build_feeds(self) -> list[FeedSpec]:
        """The public socket."""
        s: UpbitSettings = self.settings
        protocol = TicketProtocol(messages.decode, messages.parse, messages.control,
                                  venue=self.name, depth=s.depth, fmt=s.format)
        return [FeedSpec((MarketType.SPOT,), s.ws_url, protocol,
                         FullBook(self.name, self.ctx.market, self.emit, symbols=upbit_symbols()))]

    def new_limiter(self) -> RateLimitPolicy:
        """Quotation API: ``requests_per_second`` per IP."""
        return CountLimiter(self.settings.requests_per_second, 1.0)

    async def _ticks(self, body: list[Any]) -> dict[str, float]:
        ticks: dict[str, float] = {}
        codes = [str(m["market"]) for m in body]
        for i in range(0, len(codes), 100):
            try:
                ticks.update(parse_instruments(await self.rest.get(
                    "/v1/orderbook/instruments", {"markets": ",".join(codes[i:i + 100])})))
            except (RestError, msgspec.DecodeError) as exc:
                log.warning("%s: tick sizes unavailable: %s", self.name, exc)
                break
        return ticks

    async def fetch_markets(self, market_type: MarketType) -> list[MarketInfo]:
        """``GET /v1/market/all?is_details=true`` with the tick sizes of the orderbook
        instruments endpoint (100 markets a request; none when it fails)."""
        body = await self.rest.get("/v1/market/all?is_details=true")
        return parse_market_all(body, self.name, await self._ticks(body), VOLUME_STEP)
