"""The Bybit v5 connector: spot and linear perpetuals, each on its public socket
(``/v5/public/spot``, ``/v5/public/linear``) -- ``orderbook.{depth}`` (a snapshot on the
stream, then ``u``-chained deltas) and ``publicTrade`` -- and instruments-info metadata."""

from __future__ import annotations

from typing import ClassVar

from arbot.config import ComponentSettings
from arbot.connectors.base import FeedSpec, StreamingConnector, StreamingSettings
from arbot.connectors.ratelimit import CountLimiter, RateLimitPolicy
from arbot.connectors.symbols import MarketType
from arbot.errors import ArbotError
from arbot.market import MarketInfo
from arbot.trading.gateway import TradingGateway
from arbot.trading.signing import ApiCredentials
from arbot.trading.urls import origin
from pydantic import Field

from arbot_bybit.markets import parse_instruments
from arbot_bybit.protocol import BybitProtocol
from arbot_bybit.replay import BybitReplayDecoder, bybit_bootstrap

__all__ = ["RATE_LIMIT", "BybitConnector", "BybitSettings"]

#: Bybit's REST limit: 600 requests per 5 s per IP.
RATE_LIMIT = (600, 5.0)


class BybitSettings(StreamingSettings):
    """Settings of the Bybit connector (``[connectors.bybit]``); URLs overridable for tests."""

    rest_url: str = Field("https://api.bybit.com", description="REST base URL")
    ws_url: str = Field("wss://stream.bybit.com/v5/public/spot", description="spot public WS URL")
    linear_ws_url: str = Field("wss://stream.bybit.com/v5/public/linear",
                               description="linear (USDT/USDC perpetuals) public WS URL")
    depth: int = Field(1000, description="spot orderbook depth: 1, 50, 200 or 1000; gaps are "
                       "detected strictly (u + 1) from 500 levels, shallower books only "
                       "require u to grow")
    linear_depth: int = Field(500, description="linear orderbook depth: 1, 50, 200, 500 or 1000")
    ping_interval: float = Field(20.0, gt=0, description='send {"op":"ping"} this often')
    messages_per_second: float = Field(5.0, gt=0, description="outgoing control messages/s")
    args_per_message: int = Field(10, gt=0, le=10, description="topics per subscribe (spot: 10)")
    max_lifetime: float | None = Field(None, description="rotate connections after this long")


class BybitConnector(StreamingConnector):
    """Bybit v5 market data, spot and linear. Each ``orderbook.{depth}`` subscription starts
    with a WS snapshot, deltas chain by ``u``, ``u == 1`` or a new snapshot replaces the book;
    a gap resubscribes that one topic. Keep-alive: ``{"op":"ping"}``."""

    name: ClassVar[str] = "bybit"
    Settings: ClassVar[type[ComponentSettings]] = BybitSettings
    description: ClassVar[str] = "Bybit v5 spot and linear: WS orderbook snapshot+delta, trades"
    emulator_class: ClassVar[str] = "arbot_bybit.emulator:BybitEmulator"

    @classmethod
    def trading_gateway(cls, settings: ComponentSettings, credentials: ApiCredentials) -> TradingGateway:
        """The bybit trading gateway on the same REST host and stream host as ``settings``."""
        from arbot_bybit.trading import BybitTradingGateway

        if not isinstance(settings, BybitSettings):
            raise TypeError(f"bybit trading gateway needs BybitSettings, got {type(settings).__name__}")
        return BybitTradingGateway(credentials, rest_url=settings.rest_url, ws_url=origin(settings.ws_url))

    emulator_paths: ClassVar[dict[str, str]] = {"ws_url": "/v5/public/spot",
                                                "linear_ws_url": "/v5/public/linear"}
    replay_class = BybitReplayDecoder

    def build_feeds(self) -> list[FeedSpec]:
        """One socket per category."""
        s: BybitSettings = self.settings
        feeds = []
        for mt, url, depth in ((MarketType.SPOT, s.ws_url, s.depth),
                               (MarketType.LINEAR, s.linear_ws_url, s.linear_depth)):
            if mt in s.market_types:
                feeds.append(FeedSpec((mt,), url, BybitProtocol(depth, s.args_per_message),
                                      bybit_bootstrap(self.ctx.market, self.emit, depth=depth,
                                                      category=str(mt))))
        return feeds

    def new_limiter(self) -> RateLimitPolicy:
        """600 requests / 5 s per IP."""
        return CountLimiter(*RATE_LIMIT)

    async def fetch_markets(self, market_type: MarketType) -> list[MarketInfo]:
        """Markets from ``GET /v5/market/instruments-info`` (tick, step, minimums, fees)."""
        body = await self.rest.get("/v5/market/instruments-info",
                                   {"category": str(market_type), "limit": 1000})
        if not isinstance(body, dict) or body.get("retCode", 0) != 0:
            raise ArbotError(f"bybit: instruments-info failed: {str(body)[:200]}")
        return parse_instruments(body, str(market_type))
