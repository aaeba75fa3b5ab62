"""The Binance connector: spot (``api.binance.com`` / ``stream.binance.com``) and USDⓈ-M
futures (``fapi.binance.com`` / ``fstream.binance.com``), each a combined-stream socket of
diff-depth + trades with books bridged to REST snapshots, and exchangeInfo metadata.

The parts: :class:`~arbot_binance.decode.BinanceProtocol` (wire protocol), the REST-snapshot
bootstrap (:func:`~arbot_binance.replay.binance_bootstrap`: Binance's spot or futures
sequence rule), the exchangeInfo parsers (:mod:`arbot_binance.markets`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import ClassVar

from arbot.config import ComponentSettings
from arbot.connectors.base import FeedSpec, StreamingConnector, StreamingSettings
from arbot.connectors.bootstrap import SnapshotRequest
from arbot.connectors.ratelimit import RateLimitPolicy, WeightLimiter
from arbot.connectors.records import BookRecord
from arbot.connectors.rest import RestClient
from arbot.connectors.symbols import MarketType
from arbot.market import MarketInfo
from arbot.trading.gateway import TradingGateway
from arbot.trading.signing import ApiCredentials
from arbot.trading.urls import origin
from pydantic import Field

from arbot_binance.decode import BinanceProtocol, DepthSnapshot, snapshot_record
from arbot_binance.markets import (
    ExchangeInfo,
    depth_weight,
    futures_depth_weight,
    parse_exchange_info,
    parse_futures_exchange_info,
)
from arbot_binance.replay import BinanceReplayDecoder, binance_bootstrap

__all__ = ["BinanceConnector", "BinanceSettings", "depth_weight", "parse_exchange_info"]


class BinanceSettings(StreamingSettings):
    """Settings of the Binance connector (``[connectors.binance]``); URLs overridable for tests."""

    rest_url: str = Field("https://api.binance.com", description="spot REST base URL")
    ws_url: str = Field("wss://stream.binance.com:9443", description="spot WebSocket base URL")
    futures_rest_url: str = Field("https://fapi.binance.com", description="USDⓈ-M REST base URL")
    futures_ws_url: str = Field("wss://fstream.binance.com", description="USDⓈ-M WebSocket base URL")
    depth_limit: int = Field(1000, ge=5, le=5000, description="REST snapshot depth")
    update_speed_ms: int = Field(100, description="diff-depth speed: 100 or 1000 ms")
    taker_fee: float = Field(0.001, ge=0.0, description="spot taker fee fraction (0.001 = 0.1 %)")
    maker_fee: float = Field(0.001, description="spot maker fee fraction")
    futures_taker_fee: float = Field(0.0005, ge=0.0, description="USDⓈ-M taker fee fraction")
    futures_maker_fee: float = Field(0.0002, description="USDⓈ-M maker fee fraction")
    weight_limit: int = Field(6000, gt=0, description="spot REST weight per minute (per IP)")
    futures_weight_limit: int = Field(2400, gt=0, description="USDⓈ-M REST weight per minute")
    idle_timeout: float | None = Field(60.0, description="reconnect after this long silent")
    messages_per_second: float = Field(4.0, gt=0, description="outgoing control messages/s")


def depth_request(path: str, limit: int, weight: int) -> SnapshotRequest:
    """A REST depth snapshot request (``path`` = ``/api/v3/depth`` or ``/fapi/v1/depth``)."""

    async def request(rest: RestClient, venue_symbol: str) -> BookRecord:
        snap = await rest.get(path, {"symbol": venue_symbol, "limit": limit}, weight=weight,
                              decode=DepthSnapshot)
        return snapshot_record(venue_symbol, snap)

    return request


class BinanceConnector(StreamingConnector):
    """Binance market data, spot and USDⓈ-M: local books from ``<s>@depth@100ms`` + REST
    snapshots (the official procedures) and trades (``@trade`` spot, ``@aggTrade``
    futures), one combined-stream connection per market."""

    name: ClassVar[str] = "binance"
    Settings: ClassVar[type[ComponentSettings]] = BinanceSettings
    description: ClassVar[str] = "Binance spot and USDⓈ-M: diff-depth books, trades, market metadata"
    emulator_class: ClassVar[str] = "arbot_binance.emulator:BinanceEmulator"

    @classmethod
    def trading_gateway(cls, settings: ComponentSettings, credentials: ApiCredentials) -> TradingGateway:
        """The binance trading gateway on the same REST host and stream host as ``settings``."""
        from arbot_binance.trading import BinanceTradingGateway

        if not isinstance(settings, BinanceSettings):
            raise TypeError(f"binance trading gateway needs BinanceSettings, got {type(settings).__name__}")
        return BinanceTradingGateway(credentials, rest_url=settings.rest_url, ws_url=origin(settings.ws_url))

    emulator_paths: ClassVar[dict[str, str]] = {"ws_url": "", "futures_ws_url": "/fapi"}
    emulator_rest_paths: ClassVar[dict[str, str]] = {"rest_url": "", "futures_rest_url": ""}
    replay_class = BinanceReplayDecoder

    def build_feeds(self) -> list[FeedSpec]:
        """A spot feed and, with ``linear`` in ``market_types``, a USDⓈ-M feed."""
        s: BinanceSettings = self.settings
        market, emit = self.ctx.market, self.emit
        feeds = []
        if MarketType.SPOT in s.market_types:
            feeds.append(FeedSpec(
                (MarketType.SPOT,), s.ws_url.rstrip("/") + "/stream",
                BinanceProtocol(s.update_speed_ms, "trade"),
                binance_bootstrap(market, emit, retry_delay=s.snapshot_retry_delay, request=depth_request(
                    "/api/v3/depth", s.depth_limit, depth_weight(s.depth_limit)))))
        if MarketType.LINEAR in s.market_types:
            limit = min(s.depth_limit, 1000)
            self.futures_rest = RestClient(s.futures_rest_url,
                                           WeightLimiter(s.futures_weight_limit, 60.0))
            feeds.append(FeedSpec(
                (MarketType.LINEAR,), s.futures_ws_url.rstrip("/") + "/stream",
                BinanceProtocol(s.update_speed_ms, "aggTrade"),
                binance_bootstrap(market, emit, linear=True, retry_delay=s.snapshot_retry_delay,
                                  request=depth_request("/fapi/v1/depth", limit,
                                                        futures_depth_weight(limit))),
                rest=self.futures_rest))
        return feeds

    def new_limiter(self) -> RateLimitPolicy:
        """Spot: ``weight_limit`` per minute (6000), synced from ``X-MBX-USED-WEIGHT-1M``."""
        return WeightLimiter(self.settings.weight_limit, 60.0)

    def on_rest_headers(self, headers: Mapping[str, str]) -> None:
        """Sync the spot limiter with the weight the venue counted."""
        used = headers.get("X-MBX-USED-WEIGHT-1M")
        if used is not None and isinstance(self.limiter, WeightLimiter):
            with contextlib.suppress(ValueError):
                self.limiter.sync_used(float(used))

    async def fetch_markets(self, market_type: MarketType) -> list[MarketInfo]:
        """Spot ``GET /api/v3/exchangeInfo`` or USDⓈ-M ``GET /fapi/v1/exchangeInfo``."""
        s: BinanceSettings = self.settings
        if market_type is MarketType.LINEAR:
            body = await self.futures_rest.get("/fapi/v1/exchangeInfo", weight=1, decode=ExchangeInfo)
            return parse_futures_exchange_info(body, s.futures_taker_fee, s.futures_maker_fee)
        body = await self.rest.get("/api/v3/exchangeInfo", weight=20, decode=ExchangeInfo)
        return parse_exchange_info(body, s.taker_fee, s.maker_fee)
