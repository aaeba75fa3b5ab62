"""The Bybit v5 spot connector: ``orderbook.{depth}`` (WS snapshot + ``u``-chained deltas)
and ``publicTrade`` over one public WebSocket, instruments-info metadata over REST.

The connection, resubscription and bookkeeping machinery is the stream-snapshot base shared
with OKX and Bitget (core :class:`arbot.connectors.stream.StreamConnector`); this module holds Bybit's
protocol: topics, ``req_id``/``op`` requests, the JSON ping, the metadata endpoint.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, ClassVar

import msgspec
from arbot.components import ReplayDecoder
from arbot.config import ComponentSettings
from arbot.connectors.ratelimit import RATE_LIMITS, RateLimitPolicy, policy_from_spec
from arbot.connectors.stream import StreamConnector, StreamSettings
from arbot.errors import ArbotError
from arbot.market import MarketInfo
from pydantic import Field

from arbot_bybit.handler import BybitBookHandler
from arbot_bybit.markets import parse_instruments
from arbot_bybit.replay import BybitReplayDecoder

__all__ = ["BybitConnector", "BybitSettings"]

#: ``req_id`` of outgoing requests (unique per process, echoed in the replies).
_REQ_IDS = itertools.count(1)


class BybitSettings(StreamSettings):
    """Settings of the Bybit connector (``[connectors.bybit]``); URLs overridable for tests."""

    rest_url: str = Field("https://api.bybit.com", description="REST base URL")
    ws_url: str = Field("wss://stream.bybit.com/v5/public/spot", description="public WS URL")
    category: str = Field("spot", description="instruments-info category (the socket's market)")
    depth: int = Field(1000, description="orderbook depth: spot 1, 50, 200 or 1000; gaps are "
                       "detected strictly (u + 1) from 500 levels, shallower books only "
                       "require u to grow")
    ping_interval: float = Field(20.0, gt=0, description='send {"op":"ping"} this often')
    idle_timeout: float | None = Field(30.0, description="reconnect after this long silent")
    messages_per_second: float = Field(5.0, gt=0, description="outgoing control messages/s")
    args_per_message: int = Field(10, gt=0, le=10, description="topics per subscribe (spot: 10)")


class BybitConnector(StreamConnector):
    """Bybit v5 spot market data. Each ``orderbook.{depth}`` subscription starts with a WS
    snapshot, deltas chain by ``u`` (core ``BookSync`` with
    :class:`~arbot_bybit.sync.BybitSequenceRule`), ``u == 1`` or a new snapshot replaces the
    book; a gap resubscribes that one topic. Keep-alive: ``{"op":"ping"}`` every
    ``ping_interval`` seconds, reconnect after ``idle_timeout`` seconds of silence."""

    name: ClassVar[str] = "bybit"
    Settings: ClassVar[type[ComponentSettings]] = BybitSettings
    description: ClassVar[str] = "Bybit v5 spot: WS orderbook snapshot+delta, trades, instruments"
    emulator_class: ClassVar[str] = "arbot_bybit.emulator:BybitEmulator"
    emulator_ws_path: ClassVar[str] = "/v5/public/spot"
    replay_class: ClassVar[Callable[[], ReplayDecoder]] = BybitReplayDecoder

    def new_handler(self) -> BybitBookHandler:
        """The Bybit handler on the context's market, with the depth's ``u`` rule."""
        return BybitBookHandler(self.ctx.market, self._emit, self._want_snapshot,
                                depth=self.settings.depth)

    def new_limiter(self) -> RateLimitPolicy:
        """Bybit's REST limit: 600 requests / 5 s per IP."""
        return policy_from_spec(RATE_LIMITS["bybit"])

    def request(self, op: str, items: list[Any] | None = None) -> str:
        """``{"req_id": n, "op": op, "args": [topic, ...]}``."""
        msg: dict[str, Any] = {"req_id": str(next(_REQ_IDS)), "op": op}
        if items is not None:
            msg["args"] = items
        return msgspec.json.encode(msg).decode()

    def book_item(self, venue_symbol: str) -> str:
        """``orderbook.{depth}.{symbol}``."""
        return f"orderbook.{self.settings.depth}.{venue_symbol}"

    def trade_item(self, venue_symbol: str) -> str:
        """``publicTrade.{symbol}``."""
        return f"publicTrade.{venue_symbol}"

    def ping_message(self) -> str:
        """``{"req_id": n, "op": "ping"}``."""
        return self.request("ping")

    async def fetch_markets(self) -> list[MarketInfo]:
        """Markets from ``GET /v5/market/instruments-info`` (tick, step, minimums, fees)."""
        s: BybitSettings = self.settings
        body = await self.rest.get("/v5/market/instruments-info",
                                   {"category": s.category, "limit": 1000})
        if not isinstance(body, dict) or body.get("retCode", 0) != 0:
            raise ArbotError(f"bybit: instruments-info failed: {str(body)[:200]}")
        return parse_instruments(body, s.category)

    def stats(self) -> dict[str, int]:
        """Counters: connection, book synchronisation, REST, protocol, ``u == 1`` restarts."""
        out = super().stats()
        out["restarts"] = self.handler.restarts
        return out
