"""The OKX (v5) connector: spot and swaps on one public WebSocket -- ``books`` (a snapshot on
the stream, then seqId-chained updates) and ``trades`` -- and instruments metadata over REST.

The parts: the ``op``/``args`` wire protocol (core
:class:`~arbot.connectors.protocol.OpArgsProtocol` with :mod:`arbot_okx.messages`), the
stream-snapshot bootstrap (core :class:`~arbot.connectors.bootstrap.StreamSnapshot` with
:class:`~arbot_okx.sync.OkxSequenceRule` and the CRC32 checksum where it applies), OKX
symbols and instruments metadata.
"""

from __future__ import annotations

from typing import ClassVar

from arbot.config import ComponentSettings
from arbot.connectors.base import FeedSpec, StreamingConnector, StreamingSettings
from arbot.connectors.protocol import OpArgsProtocol
from arbot.connectors.ratelimit import PerEndpointLimiter, RateLimitPolicy
from arbot.connectors.symbols import MarketType, market_type_of
from arbot.errors import ArbotError
from arbot.market import MarketInfo, MarketState
from arbot.trading.gateway import TradingGateway
from arbot.trading.signing import ApiCredentials
from arbot.trading.urls import origin
from pydantic import Field

from arbot_okx import messages
from arbot_okx.markets import DEFAULT_MAKER_FEE, DEFAULT_TAKER_FEE, parse_instruments
from arbot_okx.replay import OkxReplayDecoder, okx_bootstrap

__all__ = ["OkxConnector", "OkxSettings", "okx_protocol"]

VENUE = "okx"

#: OKX's REST limit for public market data: 20 requests per 2 s per endpoint (per IP).
RATE_LIMIT = (20, 2.0)


class OkxSettings(StreamingSettings):
    """Settings of the OKX connector (``[connectors.okx]``); URLs overridable for tests."""

    rest_url: str = Field("https://www.okx.com", description="REST base URL")
    ws_url: str = Field("wss://ws.okx.com:8443/ws/v5/public", description="public WebSocket URL")
    book_channel: str = Field("books", description="books (400 levels), books5 or bbo-tbt")
    taker_fee: float = Field(DEFAULT_TAKER_FEE, ge=0.0, description="taker fee fraction")
    maker_fee: float = Field(DEFAULT_MAKER_FEE, description="maker fee fraction")
    verify_checksum: bool = Field(True, description="check non-zero checksums (pre-2026 feeds)")
    ping_interval: float = Field(20.0, gt=0, description="send the text 'ping' this often (< 30 s)")
    idle_timeout: float | None = Field(29.0, description="reconnect after this long silent")
    messages_per_second: float = Field(2.0, gt=0, description="outgoing control messages/s")
    args_per_message: int = Field(20, gt=0, description="channels per subscribe request")
    max_lifetime: float | None = Field(None, description="rotate connections after this long")


def okx_protocol(book_channel: str = "books", args_per_message: int = 20) -> OpArgsProtocol:
    """OKX's public wire protocol (``op``/``args`` requests, text ping)."""
    return OpArgsProtocol(messages.decode, messages.parse, book_channel=book_channel,
                          trade_channel="trades", venue=VENUE, args_per_message=args_per_message)


#: instType of each market type's instruments request.
_INST_TYPES = {MarketType.SPOT: "SPOT", MarketType.LINEAR: "SWAP", MarketType.INVERSE: "SWAP"}


class OkxConnector(StreamingConnector):
    """OKX market data, spot and swaps. Each ``books`` subscription starts with a WS
    snapshot; updates chain by ``prevSeqId == seqId``; a gap or a checksum failure
    resubscribes that one instrument (OKX sends a snapshot only in reply to a subscribe).
    Keep-alive: the text ``ping`` every ``ping_interval`` seconds."""

    name: ClassVar[str] = "okx"
    Settings: ClassVar[type[ComponentSettings]] = OkxSettings
    description: ClassVar[str] = "OKX v5 spot and swaps: WS books with seqId/checksum, trades, instruments"
    emulator_class: ClassVar[str] = "arbot_okx.emulator:OkxEmulator"

    @classmethod
    def trading_gateway(cls, settings: ComponentSettings, credentials: ApiCredentials) -> TradingGateway:
        """The okx trading gateway on the same REST host and stream host as ``settings``."""
        from arbot_okx.trading import OkxTradingGateway

        if not isinstance(settings, OkxSettings):
            raise TypeError(f"okx trading gateway needs OkxSettings, got {type(settings).__name__}")
        return OkxTradingGateway(credentials, rest_url=settings.rest_url, ws_url=origin(settings.ws_url))

    emulator_paths: ClassVar[dict[str, str]] = {"ws_url": "/ws/v5/public"}
    replay_class = OkxReplayDecoder

    def build_feeds(self) -> list[FeedSpec]:
        """One public socket for every market type."""
        s: OkxSettings = self.settings
        market: MarketState = self.ctx.market
        boot = okx_bootstrap(market, self.emit, verify_checksum=s.verify_checksum)
        return [FeedSpec((MarketType.SPOT, MarketType.LINEAR, MarketType.INVERSE), s.ws_url,
                         okx_protocol(s.book_channel, s.args_per_message), boot)]

    def new_limiter(self) -> RateLimitPolicy:
        """20 requests / 2 s per endpoint."""
        return PerEndpointLimiter(*RATE_LIMIT)

    async def fetch_markets(self, market_type: MarketType) -> list[MarketInfo]:
        """Markets of ``GET /api/v5/public/instruments`` for the type's ``instType``."""
        s: OkxSettings = self.settings
        body = await self.rest.get("/api/v5/public/instruments",
                                   {"instType": _INST_TYPES[market_type]}, endpoint="instruments")
        if not isinstance(body, dict) or str(body.get("code", "0")) != "0":
            raise ArbotError(f"okx: instruments request failed: {str(body)[:200]}")
        infos = parse_instruments(body, taker_fee=s.taker_fee, maker_fee=s.maker_fee)
        return [i for i in infos if market_type_of(i.symbol) is market_type]

