"""The OKX (v5) spot connector: ``books`` (WS snapshot + seqId-chained updates) and ``trades``
over one public WebSocket, instruments metadata over REST.

The connection machinery and the ``op``/``args`` protocol (shared with Bitget) are core
:class:`arbot.connectors.stream.OpArgsConnector`; this module holds OKX's settings, handler,
metadata endpoint and rate limits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from arbot.components import ReplayDecoder
from arbot.config import ComponentSettings
from arbot.connectors.ratelimit import RATE_LIMITS, RateLimitPolicy, policy_from_spec
from arbot.connectors.stream import OpArgsConnector, OpArgsSettings
from arbot.connectors.streambook import StreamBookHandler
from arbot.errors import ArbotError
from arbot.market import MarketInfo
from pydantic import Field

from arbot_okx.handler import OkxBookHandler
from arbot_okx.markets import DEFAULT_MAKER_FEE, DEFAULT_TAKER_FEE, parse_instruments
from arbot_okx.replay import OkxReplayDecoder

__all__ = ["OkxConnector", "OkxSettings"]


class OkxSettings(OpArgsSettings):
    """Settings of the OKX connector (``[connectors.okx]``); URLs overridable for tests."""

    rest_url: str = Field("https://www.okx.com", description="REST base URL")
    ws_url: str = Field("wss://ws.okx.com:8443/ws/v5/public", description="public WebSocket URL")
    inst_type: str = Field("SPOT", description="instType of load_markets()")
    book_channel: str = Field("books", description="books (400 levels), books5 or bbo-tbt")
    taker_fee: float = Field(DEFAULT_TAKER_FEE, ge=0.0, description="taker fee fraction")
    maker_fee: float = Field(DEFAULT_MAKER_FEE, description="maker fee fraction")
    verify_checksum: bool = Field(True, description="check non-zero checksums (pre-2026 feeds)")
    ping_interval: float = Field(20.0, gt=0, description="send the text 'ping' this often (< 30 s)")


class OkxConnector(OpArgsConnector):
    """OKX spot market data. Each ``books`` subscription starts with a WS snapshot; updates
    chain by ``prevSeqId == seqId`` (core ``BookSync`` with :class:`~arbot_okx.sync.OkxSequenceRule`);
    a gap or a checksum failure resubscribes that one instrument (OKX sends a snapshot only in
    reply to a subscribe). Keep-alive: the text ``ping`` every ``ping_interval`` seconds, and a
    reconnect after ``idle_timeout`` seconds of silence."""

    name: ClassVar[str] = "okx"
    Settings: ClassVar[type[ComponentSettings]] = OkxSettings
    description: ClassVar[str] = "OKX v5 spot: WS books with seqId/checksum, trades, instruments"
    emulator_class: ClassVar[str] = "arbot_okx.emulator:OkxEmulator"
    emulator_ws_path: ClassVar[str] = "/ws/v5/public"
    replay_class: ClassVar[Callable[[], ReplayDecoder]] = OkxReplayDecoder
    handler_class: ClassVar[type[StreamBookHandler]] = OkxBookHandler

    def new_limiter(self) -> RateLimitPolicy:
        """The REST rate limiter (OKX: 20 requests / 2 s per endpoint)."""
        return policy_from_spec(RATE_LIMITS["okx"])

    async def fetch_markets(self) -> list[MarketInfo]:
        """Markets from ``GET /api/v5/public/instruments`` (tick, lot, min size; default fees)."""
        s: OkxSettings = self.settings
        body = await self.rest.get("/api/v5/public/instruments", {"instType": s.inst_type},
                                   endpoint="instruments")
        if not isinstance(body, dict) or str(body.get("code", "0")) != "0":
            raise ArbotError(f"okx: instruments request failed: {str(body)[:200]}")
        return parse_instruments(body, taker_fee=s.taker_fee, maker_fee=s.maker_fee)
