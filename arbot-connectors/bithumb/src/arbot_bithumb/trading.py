"""Bithumb trading gateway (current API): orders, balances, fees, networks, ``myOrder`` stream.

REST (``shared/exchanges/bithumb.md`` §7, as ccxt 4.5 uses it): ``POST /v2/orders`` (``side``
bid/ask; ``order_type`` ``limit`` with ``time_in_force`` ``ioc``/``fok``/``post_only``,
``price`` = market buy by total, ``market`` = market sell by volume; client id
``client_order_id``), ``GET /v1/order`` and ``DELETE /v2/order`` by ``client_order_id``,
``GET /v1/orders?state=wait`` (open), ``state=done``/``cancel`` (closed), ``GET /v1/accounts``,
``GET /v1/orders/chance`` (fees), ``GET /v1/withdraws/chance`` (network fee and minimum).
Errors are Upbit's ``{"error": {"name", "message"}}``. The JWT carries a millisecond
``timestamp``, so the clock offset is kept (from the ``Date`` header of a public answer; Bithumb
has no time endpoint). Private stream: ``myOrder`` on ``/websocket/v1/private`` (JWT in the
upgrade request's ``Authorization`` header); cancel-all is the open orders cancelled one by one.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any

import attrs
import msgspec
from arbot.connectors.ratelimit import RateLimitPolicy
from arbot.connectors.ws import Backoff, Heartbeat, WsSession
from arbot.market import MarketInfo
from arbot.trading.signed_gateway import JsonValue, PreparedOrder
from arbot.trading.signing import ApiCredentials, SignedRequest
from arbot.trading.types import (
    OrderState,
)
from arbot.trading.upbit_family import UpbitFamilyGateway, json_object

from arbot_bithumb.markets import parse_market_all
from arbot_bithumb.signing import BithumbSigner

__all__ = ["BithumbTradingGateway"]

VENUE = "bithumb"
#: Minimum order total of KRW markets.
MIN_TOTAL_KRW = 5000.0


def _obj(value: JsonValue) -> dict[str, Any]:
    return json_object(VENUE, value)


class BithumbTradingGateway(UpbitFamilyGateway):
    """The :class:`~arbot.trading.gateway.TradingGateway` of Bithumb (module docstring)."""

    venue = VENUE
    #: per IP (shared with the market-data connector) and per key
    rate_limit = {"type": "count", "limit": 120, "window": 1.0}
    rate_limit_per_key = {"type": "count", "limit": 120, "window": 1.0}
    client_id_field = "client_order_id"
    order_path = "/v2/orders"
    order_type_field = "order_type"
    clock_errors = frozenset({"expired_jwt", "invalid_timestamp"})
    duplicate_errors = frozenset({"duplicate_identifier", "duplicate_client_order_id"})

    def __init__(
        self,
        credentials: ApiCredentials,
        markets: Mapping[str, MarketInfo] | None = None,
        *,
        rest_url: str = "https://api.bithumb.com",
        ws_url: str = "wss://ws-api.bithumb.com/websocket/v1/private",
        limiter: RateLimitPolicy | None = None,
        timeout: float = 10.0,
        stream: bool = True,
        tick_sizes: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(
            credentials, rest_url, markets or {}, limiter=limiter, timeout=timeout
        )
        self.signer = BithumbSigner(credentials)
        #: price ticks per unified symbol (Bithumb's market list carries none; KRW ticks depend
        #: on the price band): without one, prices are sent as given
        self.tick_sizes = dict(tick_sizes or {})
        self.ws_url = ws_url
        self.stream_enabled = stream
        self.ws: WsSession | None = None
        self._tickets = itertools.count(1)

    def sign(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: Mapping[str, str] | None,
        now_ms: int,
    ) -> SignedRequest:
        """A fresh JWT (new nonce, venue-clock timestamp) per attempt."""
        return self.signer.sign(method, path, now_ms, query, body)

    async def server_time_ms(self) -> int:
        """The ``Date`` header of ``GET /v1/market/all`` (Bithumb has no time endpoint)."""
        session = self.rest._get_session()
        async with session.get(self.rest.base_url + "/v1/market/all") as resp:
            date = resp.headers.get("Date")
        if not date:
            return int(time.time() * 1000)
        return int(parsedate_to_datetime(date).timestamp() * 1000)

    async def sync_clock(self) -> float:
        """Keep the offset only when the ``Date`` header (1 s resolution) says we are off by more
        than a second."""
        offset = await super().sync_clock()
        self.offset_ms = offset if abs(offset) > 1000.0 else 0.0
        return self.offset_ms

    async def fetch_markets(self) -> list[MarketInfo]:
        """``/v1/market/all``, with :attr:`tick_sizes` applied and the 5,000 KRW minimum order
        total of KRW markets (``/v1/orders/chance`` ``min_total``)."""
        return [
            attrs.evolve(
                m,
                tick_size=self.tick_sizes.get(m.symbol, m.tick_size),
                min_notional=MIN_TOTAL_KRW if m.quote == "KRW" else m.min_notional,
            )
            for m in parse_market_all(await self.rest.get("/v1/market/all"), VENUE)
        ]

    # -- orders ------------------------------------------------------------------------------

    def order_ack(self, order: PreparedOrder, body: JsonValue) -> OrderState:
        """Bithumb answers the order id only: NEW until queried or streamed."""
        order_id = str(_obj(body).get("order_id", ""))
        return self.accepted(order.request, order.quantity, order.price, order_id, time.time())

    async def get_order(self, symbol: str, client_id: str) -> OrderState:
        """``GET /v1/order?client_order_id=``."""
        return self.parse_order(_obj(await self.call("GET", "/v1/order", {"client_order_id": client_id})))

    async def cancel_order(self, symbol: str, client_id: str) -> OrderState:
        """``DELETE /v2/order?client_order_id=``, then the order as it ended."""
        await self.call("DELETE", "/v2/order", {"client_order_id": client_id})
        return await self.get_order(symbol, client_id)

    async def cancel_all(self, symbol: str) -> Sequence[OrderState]:
        """Every open order of ``symbol`` cancelled one by one."""
        return [await self.cancel_order(symbol, o.client_id) for o in await self.open_orders(symbol)]

    async def open_orders(self, symbol: str | None = None) -> Sequence[OrderState]:
        """``GET /v1/orders?state=wait`` (of one market, or all)."""
        query = {"state": "wait"}
        if symbol is not None:
            query = {"market": self.market(symbol).venue_symbol, "state": "wait"}
        data = await self.call("GET", "/v1/orders", query)
        return [self.parse_order(_obj(o)) for o in (data if isinstance(data, list) else [])]

    async def recent_orders(self, code: str) -> list[JsonValue]:
        """``GET /v1/orders`` of the market, ``state`` wait, done and cancel."""
        orders: list[JsonValue] = []
        for state in ("wait", "done", "cancel"):
            data = await self.call("GET", "/v1/orders", {"market": code, "state": state})
            orders.extend(data if isinstance(data, list) else [])
        return orders

    # -- private stream ----------------------------------------------------------------------

    async def start_stream(self) -> None:
        """``myOrder`` on the private WebSocket (a JWT per connect in the upgrade headers)."""
        if not self.stream_enabled:
            return
        self.ws = WsSession(
            self.ws_url,
            self._on_frame,
            heartbeat=Heartbeat(ping_interval=30.0),
            backoff=Backoff(0.05, 2.0),
            name="bithumb-private",
            headers=self._auth_headers,
            on_open=self.stream_opened,
        )
        await self.ws.subscribe(
            msgspec.json.encode(
                [{"ticket": f"arbot-{next(self._tickets)}"}, {"type": "myOrder"}, {"format": "DEFAULT"}]
            ).decode()
        )
        await self.ws.start(wait=True, timeout=10.0)

    def _auth_headers(self) -> dict[str, str]:
        signed = self.signer.sign("GET", "/websocket/v1/private", self.now_ms())
        return {"Authorization": signed.headers["Authorization"]}
