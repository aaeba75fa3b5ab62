"""The Bitget spot connector (API v2): ``books`` (WS snapshot + updates verified by CRC32
checksum) and ``trade`` over one public WebSocket, symbols metadata over REST.

Bitget's public WebSocket has OKX's protocol shape, so the connector is core
:class:`arbot.connectors.stream.OpArgsConnector` with Bitget's settings, handler, subscribe
args (``instType``), metadata endpoint and rate limits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import attrs
from arbot.components import ReplayDecoder
from arbot.config import ComponentSettings
from arbot.connectors.ratelimit import CountLimiter, RateLimitPolicy
from arbot.connectors.stream import OpArgsConnector, OpArgsSettings
from arbot.connectors.streambook import StreamBookHandler
from arbot.errors import ArbotError
from arbot.market import MarketInfo
from pydantic import Field

from arbot_bitget.handler import BitgetBookHandler
from arbot_bitget.markets import DEFAULT_MAKER_FEE, DEFAULT_TAKER_FEE, parse_products
from arbot_bitget.replay import BitgetReplayDecoder

__all__ = ["BitgetConnector", "BitgetSettings"]


class BitgetSettings(OpArgsSettings):
    """Settings of the Bitget connector (``[connectors.bitget]``); URLs overridable for tests."""

    rest_url: str = Field("https://api.bitget.com", description="REST base URL")
    ws_url: str = Field("wss://ws.bitget.com/v2/ws/public", description="public WebSocket URL")
    inst_type: str = Field("SPOT", description="instType of the WS channels")
    book_channel: str = Field("books", description="books (all levels), books1/5/15 (full)")
    taker_fee: float = Field(DEFAULT_TAKER_FEE, ge=0.0, description="default when the "
                             "metadata has no fee rate")
    maker_fee: float = Field(DEFAULT_MAKER_FEE, description="default maker fee fraction")
    ping_interval: float = Field(30.0, gt=0, description="send the text 'ping' this often "
                                 "(Bitget closes after 2 min without one)")
    idle_timeout: float | None = Field(45.0, description="reconnect after this long silent")
    messages_per_second: float = Field(5.0, gt=0, le=10, description="outgoing messages/s "
                                       "(Bitget: at most 10 per connection, pings included)")
    rest_per_second: int = Field(20, gt=0, description="public REST requests per second")


class BitgetConnector(OpArgsConnector):
    """Bitget spot market data. Each ``books`` subscription starts with a WS snapshot; every
    update is verified by its CRC32 checksum over the top 25 levels (Bitget's only integrity
    check: ``seq`` only orders messages), a failure resubscribes that one symbol. Keep-alive:
    the text ``ping`` every ``ping_interval`` seconds."""

    name: ClassVar[str] = "bitget"
    Settings: ClassVar[type[ComponentSettings]] = BitgetSettings
    description: ClassVar[str] = "Bitget spot v2: WS books with CRC32 checksum, trades, symbols"
    emulator_class: ClassVar[str] = "arbot_bitget.emulator:BitgetEmulator"
    emulator_ws_path: ClassVar[str] = "/v2/ws/public"
    replay_class: ClassVar[Callable[[], ReplayDecoder]] = BitgetReplayDecoder
    handler_class: ClassVar[type[StreamBookHandler]] = BitgetBookHandler
    trade_channel: ClassVar[str] = "trade"

    def new_limiter(self) -> RateLimitPolicy:
        """Public market endpoints: ``rest_per_second`` requests per second per IP."""
        return CountLimiter(self.settings.rest_per_second, 1.0)

    def channel_arg(self, channel: str, venue_symbol: str) -> dict[str, str]:
        """``{"instType": "SPOT", "channel": .., "instId": ..}``."""
        return {"instType": self.settings.inst_type, "channel": channel, "instId": venue_symbol}

    async def fetch_markets(self) -> list[MarketInfo]:
        """Markets from ``GET /api/v2/spot/public/symbols`` (precisions, minimums, fees)."""
        s: BitgetSettings = self.settings
        body = await self.rest.get("/api/v2/spot/public/symbols")
        if not isinstance(body, dict) or str(body.get("code")) != "00000":
            raise ArbotError(f"bitget: symbols request failed: {str(body)[:200]}")
        return [
            m if any(k in p for k in ("takerFeeRate", "makerFeeRate"))
            else attrs.evolve(m, taker_fee=s.taker_fee, maker_fee=s.maker_fee)
            for m, p in zip(parse_products(body), body.get("data", []), strict=True)
        ]
