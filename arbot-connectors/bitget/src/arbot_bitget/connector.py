"""The Bitget connector (API v2): spot and USDT-margined perpetuals -- ``books`` (a snapshot
on the stream, then updates verified by CRC32 checksum) and ``trade`` -- and symbols metadata.

Bitget's public WebSocket has OKX's ``op``/``args`` shape (core
:class:`~arbot.connectors.protocol.OpArgsProtocol`, with ``instType`` in every arg). Spot and
futures use the same ids (``BTCUSDT``), so each market type has its own socket and symbol map.
"""

from __future__ import annotations

from typing import ClassVar

import attrs
from arbot.config import ComponentSettings
from arbot.connectors.base import FeedSpec, StreamingConnector, StreamingSettings
from arbot.connectors.protocol import OpArgsProtocol
from arbot.connectors.ratelimit import CountLimiter, RateLimitPolicy
from arbot.connectors.symbols import MarketType
from arbot.errors import ArbotError
from arbot.market import MarketInfo
from arbot.trading.gateway import TradingGateway
from arbot.trading.signing import ApiCredentials
from arbot.trading.urls import origin
from pydantic import Field

from arbot_bitget import messages
from arbot_bitget.markets import DEFAULT_MAKER_FEE, DEFAULT_TAKER_FEE, parse_contracts, parse_products
from arbot_bitget.replay import BitgetReplayDecoder, bitget_bootstrap

__all__ = ["VENUE", "BitgetConnector", "BitgetSettings"]

VENUE = "bitget"

#: WebSocket ``instType`` of each market type.
INST_TYPES = {MarketType.SPOT: "SPOT", MarketType.LINEAR: "USDT-FUTURES"}


class BitgetSettings(StreamingSettings):
    """Settings of the Bitget connector (``[connectors.bitget]``); URLs overridable for tests."""

    rest_url: str = Field("https://api.bitget.com", description="REST base URL")
    ws_url: str = Field("wss://ws.bitget.com/v2/ws/public", description="public WebSocket URL")
    book_channel: str = Field("books", description="books (all levels), books1/5/15 (full)")
    verify_checksum: bool = Field(True, description="check the CRC32 of every update")
    taker_fee: float = Field(DEFAULT_TAKER_FEE, ge=0.0, description="default when the "
                             "metadata has no fee rate")
    maker_fee: float = Field(DEFAULT_MAKER_FEE, description="default maker fee fraction")
    ping_interval: float = Field(30.0, gt=0, description="send the text 'ping' this often "
                                 "(Bitget closes after 2 min without one)")
    idle_timeout: float | None = Field(45.0, description="reconnect after this long silent")
    messages_per_second: float = Field(5.0, gt=0, le=10, description="outgoing messages/s "
                                       "(Bitget: at most 10 per connection, pings included)")
    rest_per_second: int = Field(20, gt=0, description="public REST requests per second")
    args_per_message: int = Field(20, gt=0, description="channels per subscribe request")
    max_lifetime: float | None = Field(None, description="rotate connections after this long")


class BitgetConnector(StreamingConnector):
    """Bitget market data, spot and USDT perpetuals. Each ``books`` subscription starts with
    a WS snapshot; every update is verified by its CRC32 checksum over the top 25 levels
    (Bitget's only integrity check: ``seq`` only orders messages); a failure resubscribes
    that one symbol. Keep-alive: the text ``ping``."""

    name: ClassVar[str] = "bitget"
    Settings: ClassVar[type[ComponentSettings]] = BitgetSettings
    description: ClassVar[str] = "Bitget v2 spot and USDT perpetuals: WS books with CRC32, trades"
    emulator_class: ClassVar[str] = "arbot_bitget.emulator:BitgetEmulator"

    @classmethod
    def trading_gateway(cls, settings: ComponentSettings, credentials: ApiCredentials) -> TradingGateway:
        """The bitget trading gateway on the same hosts as ``settings``."""
        from arbot_bitget.trading import BitgetTradingGateway

        if not isinstance(settings, BitgetSettings):
            raise TypeError(f"bitget trading gateway needs BitgetSettings, got {type(settings).__name__}")
        return BitgetTradingGateway(credentials, rest_url=settings.rest_url, ws_url=origin(settings.ws_url))
    emulator_paths: ClassVar[dict[str, str]] = {"ws_url": "/v2/ws/public"}
    replay_class = BitgetReplayDecoder

    def build_feeds(self) -> list[FeedSpec]:
        """One socket per market type (the ids are the same on spot and futures)."""
        s: BitgetSettings = self.settings
        return [
            FeedSpec((mt,), s.ws_url,
                     OpArgsProtocol(messages.decode, messages.parse, book_channel=s.book_channel,
                                    trade_channel="trade", venue=VENUE,
                                    args_per_message=s.args_per_message,
                                    extra_arg={"instType": INST_TYPES[mt]}),
                     bitget_bootstrap(self.ctx.market, self.emit, verify_checksum=s.verify_checksum))
            for mt in s.market_types if mt in INST_TYPES
        ]

    def new_limiter(self) -> RateLimitPolicy:
        """Public market endpoints: ``rest_per_second`` requests per second per IP."""
        return CountLimiter(self.settings.rest_per_second, 1.0)

    async def fetch_markets(self, market_type: MarketType) -> list[MarketInfo]:
        """Spot: ``GET /api/v2/spot/public/symbols``; linear: ``GET /api/v2/mix/market/contracts``."""
        s: BitgetSettings = self.settings
        if market_type is MarketType.LINEAR:
            body = await self.rest.get("/api/v2/mix/market/contracts", {"productType": "USDT-FUTURES"})
        else:
            body = await self.rest.get("/api/v2/spot/public/symbols")
        if not isinstance(body, dict) or str(body.get("code")) != "00000":
            raise ArbotError(f"bitget: metadata request failed: {str(body)[:200]}")
        if market_type is MarketType.LINEAR:
            return parse_contracts(body)
        return [
            m if any(k in p for k in ("takerFeeRate", "makerFeeRate"))
            else attrs.evolve(m, taker_fee=s.taker_fee, maker_fee=s.maker_fee)
            for m, p in zip(parse_products(body), body.get("data", []), strict=True)
        ]
