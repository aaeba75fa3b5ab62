"""The Gate.io spot connector: ``spot.order_book_update`` deltas bridged to REST
``/spot/order_book`` snapshots, ``spot.trades``, ``spot.ping`` keep-alive, pair metadata --
the REST-snapshot parts on core's :class:`~arbot.connectors.base.StreamingConnector`."""

from __future__ import annotations

from typing import ClassVar

from arbot.config import ComponentSettings
from arbot.connectors.base import FeedSpec, StreamingConnector, StreamingSettings
from arbot.connectors.ratelimit import CountLimiter, RateLimitPolicy
from arbot.connectors.records import BookRecord
from arbot.connectors.rest import RestClient
from arbot.connectors.symbols import MarketType
from arbot.market import MarketInfo
from arbot.trading.gateway import TradingGateway
from arbot.trading.signing import ApiCredentials
from pydantic import Field

from arbot_gate.markets import parse_currency_pairs
from arbot_gate.messages import parse_snapshot
from arbot_gate.protocol import GateProtocol
from arbot_gate.replay import VENUE, GateReplayDecoder, gate_bootstrap

__all__ = ["GateConnector", "GateSettings"]


class GateSettings(StreamingSettings):
    """Settings of the Gate connector (``[connectors.gate]``); URLs overridable for tests."""

    rest_url: str = Field("https://api.gateio.ws/api/v4", description="REST base URL (v4)")
    ws_url: str = Field("wss://api.gateio.ws/ws/v4/", description="spot WebSocket URL")
    depth_limit: int = Field(100, ge=1, le=1000, description="REST snapshot depth")
    update_interval: str = Field("100ms", description="order_book_update speed: 100ms/1000ms")
    requests_per_10s: int = Field(200, gt=0, description="public REST requests per 10 s")
    ping_interval: float = Field(10.0, gt=0, description="spot.ping period (s)")
    messages_per_second: float = Field(10.0, gt=0, description="outgoing control messages/s")


class GateConnector(StreamingConnector):
    """Gate.io spot market data: local books from ``spot.order_book_update`` bridged to REST
    snapshots with ``with_id=true``, trades from ``spot.trades``, on one connection kept
    alive with ``spot.ping``."""

    name: ClassVar[str] = "gate"
    Settings: ClassVar[type[ComponentSettings]] = GateSettings
    description: ClassVar[str] = "Gate.io spot: order-book deltas, trades, pair metadata"
    emulator_class: ClassVar[str] = "arbot_gate.emulator:GateEmulator"

    @classmethod
    def trading_gateway(cls, settings: ComponentSettings, credentials: ApiCredentials) -> TradingGateway:
        """The gate trading gateway on the same hosts as ``settings``."""
        from arbot_gate.trading import GateTradingGateway

        if not isinstance(settings, GateSettings):
            raise TypeError(f"gate trading gateway needs GateSettings, got {type(settings).__name__}")
        host = settings.rest_url.removesuffix("/api/v4")  # the gateway adds the version itself
        return GateTradingGateway(credentials, rest_url=host, ws_url=settings.ws_url)
    emulator_paths: ClassVar[dict[str, str]] = {"ws_url": "/ws/v4/"}
    emulator_rest_paths: ClassVar[dict[str, str]] = {"rest_url": "/api/v4"}
    replay_class = GateReplayDecoder

    def build_feeds(self) -> list[FeedSpec]:
        """The spot socket."""
        s: GateSettings = self.settings
        return [FeedSpec((MarketType.SPOT,), s.ws_url, GateProtocol(s.update_interval),
                         gate_bootstrap(self.ctx.market, self.emit, request=self._snapshot,
                                        retry_delay=s.snapshot_retry_delay))]

    async def _snapshot(self, rest: RestClient, pair: str) -> BookRecord | None:
        path = f"/spot/order_book?currency_pair={pair}&limit={self.settings.depth_limit}&with_id=true"
        return parse_snapshot(path, await rest.get(path))

    def new_limiter(self) -> RateLimitPolicy:
        """Public endpoints: ``requests_per_10s`` per 10 s per IP."""
        return CountLimiter(self.settings.requests_per_10s, 10.0)

    async def fetch_markets(self, market_type: MarketType) -> list[MarketInfo]:
        """Markets from ``GET /spot/currency_pairs`` (precision, minimums, the pair's fee)."""
        s: GateSettings = self.settings
        return parse_currency_pairs(await self.rest.get("/spot/currency_pairs"), VENUE,
                                    s.taker_fee, s.maker_fee)
