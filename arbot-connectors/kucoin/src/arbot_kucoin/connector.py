"""The KuCoin spot connector: ``/market/level2`` + ``/market/match`` over a bullet-token
WebSocket, books bridged to REST level-2 snapshots, ``/api/v2/symbols`` metadata -- the
REST-snapshot parts on core's :class:`~arbot.connectors.base.StreamingConnector`."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import ClassVar

import msgspec
from arbot.config import ComponentSettings
from arbot.connectors.base import FeedSpec, StreamingConnector, StreamingSettings, stop_tasks
from arbot.connectors.ratelimit import RateLimitPolicy, WeightLimiter
from arbot.connectors.records import BookRecord
from arbot.connectors.rest import RestClient, RestError
from arbot.connectors.symbols import MarketType
from arbot.market import MarketInfo
from arbot.trading.gateway import TradingGateway
from arbot.trading.signing import ApiCredentials
from pydantic import Field

from arbot_kucoin.markets import parse_symbols
from arbot_kucoin.messages import parse_snapshot
from arbot_kucoin.protocol import KucoinProtocol
from arbot_kucoin.replay import VENUE, KucoinReplayDecoder, kucoin_bootstrap

__all__ = ["KucoinConnector", "KucoinSettings"]


class KucoinSettings(StreamingSettings):
    """Settings of the KuCoin connector (``[connectors.kucoin]``); URLs overridable for tests."""

    rest_url: str = Field("https://api.kucoin.com", description="REST base URL")
    ws_url: str = Field("", description="WebSocket endpoint; empty: the one the bullet token names")
    snapshot_path: str = Field(
        "/api/v1/market/orderbook/level2_100",
        description="REST book (public level2_20/level2_100, or the authenticated full book)")
    public_weight_limit: int = Field(2000, gt=0, description="public REST pool per 30 s")
    ping_interval: float | None = Field(
        None, description="JSON ping period (s); None: the bullet's pingInterval")
    messages_per_second: float = Field(9.0, gt=0, description="client messages/s (100 per 10 s)")


class _Server(msgspec.Struct):
    endpoint: str
    pingInterval: int = 18000  # noqa: N815 - venue field names
    pingTimeout: int = 10000  # noqa: N815


class _BulletData(msgspec.Struct):
    token: str
    instanceServers: list[_Server]  # noqa: N815


class _Bullet(msgspec.Struct):
    data: _BulletData


class KucoinConnector(StreamingConnector):
    """KuCoin spot market data: local books from ``/market/level2`` deltas bridged to REST
    level-2 snapshots, trades from ``/market/match``, on one connection obtained with a
    public bullet token (refreshed after a disconnect) and kept alive with JSON pings."""

    name: ClassVar[str] = "kucoin"
    Settings: ClassVar[type[ComponentSettings]] = KucoinSettings
    description: ClassVar[str] = "KuCoin spot: level2 books, trades, market metadata"
    emulator_class: ClassVar[str] = "arbot_kucoin.emulator:KucoinEmulator"

    @classmethod
    def trading_gateway(cls, settings: ComponentSettings, credentials: ApiCredentials) -> TradingGateway:
        """The kucoin trading gateway on the same hosts as ``settings``."""
        from arbot_kucoin.trading import KucoinTradingGateway

        if not isinstance(settings, KucoinSettings):
            raise TypeError(f"kucoin trading gateway needs KucoinSettings, got {type(settings).__name__}")
        return KucoinTradingGateway(credentials, rest_url=settings.rest_url)
    emulator_paths: ClassVar[dict[str, str]] = {}
    replay_class = KucoinReplayDecoder

    def build_feeds(self) -> list[FeedSpec]:
        """The spot socket (its URL carries the bullet token)."""
        self._endpoint = ""
        self._token = ""
        self._refresh: list[asyncio.Task[None]] = []
        return [FeedSpec((MarketType.SPOT,), self._url, KucoinProtocol(),
                         kucoin_bootstrap(self.ctx.market, self.emit, request=self._snapshot,
                                          retry_delay=self.settings.snapshot_retry_delay))]

    def _url(self) -> str:
        """Endpoint + token + a fresh connectId (evaluated at every connect)."""
        sep = "&" if "?" in self._endpoint else "?"
        return f"{self._endpoint}{sep}token={self._token}&connectId={uuid.uuid4().hex}"

    async def _snapshot(self, rest: RestClient, symbol: str) -> BookRecord | None:
        path = f"{self.settings.snapshot_path}?symbol={symbol}"
        weight = 2 if path.endswith("_20") else 4 if "level2_100" in path else 3
        return parse_snapshot(path, await rest.get(path, weight=weight))

    async def bullet(self) -> None:
        """``POST /api/v1/bullet-public``: token, endpoint and ping period."""
        s: KucoinSettings = self.settings
        body = await self.rest.request("POST", "/api/v1/bullet-public", weight=10, decode=_Bullet)
        server = body.data.instanceServers[0]
        self._token = body.data.token
        self._endpoint = s.ws_url or server.endpoint
        self.feeds[0].ws.heartbeat.app_ping_interval = (
            s.ping_interval if s.ping_interval is not None else server.pingInterval / 1000.0)

    async def before_connect(self) -> None:
        """Get a bullet token before connecting."""
        await self.bullet()

    async def _refresh_token(self) -> None:
        with contextlib.suppress(RestError, msgspec.DecodeError, msgspec.ValidationError):
            await self.bullet()

    def on_disconnect(self) -> None:
        """The next connect may need a fresh token (24 h validity)."""
        self._refresh = [t for t in self._refresh if not t.done()]
        self._refresh.append(asyncio.get_running_loop().create_task(self._refresh_token()))

    def new_limiter(self) -> RateLimitPolicy:
        """The public REST pool: ``public_weight_limit`` per 30 s."""
        return WeightLimiter(self.settings.public_weight_limit, 30.0)

    async def fetch_markets(self, market_type: MarketType) -> list[MarketInfo]:
        """Markets from ``GET /api/v2/symbols`` (tick, step, minimum size/funds)."""
        s: KucoinSettings = self.settings
        return parse_symbols(await self.rest.get("/api/v2/symbols", weight=4), VENUE,
                             s.taker_fee, s.maker_fee)

    async def close(self) -> None:
        """Close the feed and stop token refreshes."""
        await super().close()
        await stop_tasks(self._refresh)
