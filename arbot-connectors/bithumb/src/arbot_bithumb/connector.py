"""The Bithumb connector, on the current public WebSocket (``ws-api``, "v1" message spec).

Bithumb's current API deliberately mirrors Upbit's (``shared/exchanges/bithumb.md``): same
market codes, request frame, full top-N ``orderbook`` messages and ``PING`` keep-alive, so the
connector is the core full-book connector
(:class:`~arbot.connectors.fullbook.FullBookConnector`) with Bithumb's endpoints, limits, fees,
``isDetails`` spelling, no depth suffix (not confirmed for Bithumb) and no tick-size endpoint.
The legacy ``pubwss`` feed (the 2021 capture) is only replayed
(:class:`~arbot_bithumb.replay.BithumbReplayDecoder`): Bithumb marks it legacy.
"""

from __future__ import annotations

from typing import Any, ClassVar

from arbot.config import ComponentSettings
from arbot.connectors.fullbook import FullBookConnector, FullBookSettings
from arbot.market import MarketInfo
from pydantic import Field

from arbot_bithumb.markets import parse_market_all
from arbot_bithumb.replay import BithumbReplayDecoder

__all__ = ["BithumbConnector", "BithumbSettings"]


class BithumbSettings(FullBookSettings):
    """Settings of the Bithumb connector (``[connectors.bithumb]``)."""

    rest_url: str = Field("https://api.bithumb.com", description="REST base URL")
    ws_url: str = Field("wss://ws-api.bithumb.com/websocket/v1", description="public WebSocket")
    requests_per_second: int = Field(120, gt=0, description="public REST requests/s")
    fee: float = Field(0.0025, ge=0.0, description="maker/taker fee (coupons lower it)")


class BithumbConnector(FullBookConnector):
    """Bithumb market data: full top-N books and trades (see the module docstring)."""

    name: ClassVar[str] = "bithumb"
    Settings: ClassVar[type[ComponentSettings]] = BithumbSettings
    description: ClassVar[str] = "Bithumb: top-N books, trades, market list (KRW/BTC/USDT)"
    market_all_query: ClassVar[str] = "isDetails=true"
    emulator_class: ClassVar[str] = "arbot_bithumb.emulator:BithumbEmulator"
    replay_class = BithumbReplayDecoder

    def book_code(self, code: str) -> str:
        """Plain market code: the ``.n`` depth suffix is not confirmed for Bithumb."""
        return code

    def parse_markets(self, body: list[Any], ticks: dict[str, float]) -> list[MarketInfo]:
        """Markets of ``/v1/market/all`` with the configured fee."""
        s: BithumbSettings = self.settings
        return parse_market_all(body, self.name, s.fee)
