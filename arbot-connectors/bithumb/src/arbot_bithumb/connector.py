"""The Bithumb connector, on the current public WebSocket (``ws-api``, "v1" message spec).

Bithumb's current API deliberately mirrors Upbit's (``shared/exchanges/bithumb.md``): same
market codes, request frame, full top-N ``orderbook`` messages and ``PING`` keep-alive -- core
:class:`~arbot.connectors.protocol.TicketProtocol` with Bithumb's own decoder
(:mod:`arbot_bithumb.messages`, DEFAULT format, text frames), the full-book bootstrap, Bithumb's
endpoints, limits and fee, the ``isDetails`` spelling, no depth suffix (not confirmed for
Bithumb) and no tick-size endpoint. The legacy ``pubwss`` feed (the 2021 capture) is only
replayed (:class:`~arbot_bithumb.replay.BithumbReplayDecoder`): Bithumb marks it legacy.
"""

from __future__ import annotations

from typing import ClassVar

from arbot.config import ComponentSettings
from arbot.connectors.base import FeedSpec, StreamingConnector, StreamingSettings
from arbot.connectors.bootstrap import FullBook
from arbot.connectors.protocol import TicketProtocol
from arbot.connectors.ratelimit import CountLimiter, RateLimitPolicy
from arbot.connectors.symbols import MarketType
from arbot.market import MarketInfo
from arbot.trading.gateway import TradingGateway
from arbot.trading.signing import ApiCredentials
from pydantic import Field

from arbot_bithumb import messages
from arbot_bithumb.markets import parse_market_all
from arbot_bithumb.replay import BithumbReplayDecoder
from arbot_bithumb.symbols import bithumb_symbols

__all__ = ["BithumbConnector", "BithumbSettings"]


class BithumbSettings(StreamingSettings):
    """Settings of the Bithumb connector (``[connectors.bithumb]``)."""

    rest_url: str = Field("https://api.bithumb.com", description="REST base URL")
    ws_url: str = Field("wss://ws-api.bithumb.com/websocket/v1", description="public WebSocket")
    requests_per_second: int = Field(120, gt=0, description="public REST requests/s")
    fee: float = Field(0.0025, ge=0.0, description="maker/taker fee (coupons lower it)")
    idle_timeout: float | None = Field(60.0, description="reconnect after this long silent")
    stale_after: float | None = Field(30.0, description="mark a book stale after this long")


class BithumbConnector(StreamingConnector):
    """Bithumb market data: full top-N books and trades (see the module docstring)."""

    name: ClassVar[str] = "bithumb"
    Settings: ClassVar[type[ComponentSettings]] = BithumbSettings
    description: ClassVar[str] = "Bithumb: top-N books, trades, market list (KRW/BTC/USDT)"
    emulator_class: ClassVar[str] = "arbot_bithumb.emulator:BithumbEmulator"

    @classmethod
    def trading_gateway(cls, settings: ComponentSettings, credentials: ApiCredentials) -> TradingGateway:
        """The bithumb trading gateway on the same hosts as ``settings``."""
        from arbot_bithumb.trading import BithumbTradingGateway

        if not isinstance(settings, BithumbSettings):
            raise TypeError(f"bithumb trading gateway needs BithumbSettings, got {type(settings).__name__}")
        private_ws = settings.ws_url.rstrip("/") + "/private"  # the private stream beside the public one
        return BithumbTradingGateway(credentials, rest_url=settings.rest_url, ws_url=private_ws)
    emulator_paths: ClassVar[dict[str, str]] = {"ws_url": "/websocket/v1"}
    replay_class = BithumbReplayDecoder

    def build_feeds(self) -> list[FeedSpec]:
        """The public socket."""
        s: BithumbSettings = self.settings
        return [FeedSpec((MarketType.SPOT,), s.ws_url,
                         TicketProtocol(messages.decode, messages.parse, messages.control,
                                        venue=self.name),
                         FullBook(self.name, self.ctx.market, self.emit, symbols=bithumb_symbols()))]

    def new_limiter(self) -> RateLimitPolicy:
        """Public REST: ``requests_per_second`` per IP."""
        return CountLimiter(self.settings.requests_per_second, 1.0)

    async def fetch_markets(self, market_type: MarketType) -> list[MarketInfo]:
        """Markets of ``GET /v1/market/all?isDetails=true`` with the configured fee."""
        s: BithumbSettings = self.settings
        return parse_market_all(await self.rest.get("/v1/market/all?isDetails=true"), self.name, s.fee)
