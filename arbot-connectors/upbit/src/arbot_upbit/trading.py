"""Upbit trading gateway: orders, balances, fees, networks and the ``myOrder`` private stream.

REST (``shared/exchanges/upbit.md`` §7): ``POST /v1/orders`` (``side`` bid/ask; ``ord_type``
``limit`` with ``time_in_force`` ``ioc``/``fok``/``post_only``, ``price`` = market buy by total,
``market`` = market sell by volume; client id ``identifier``), ``GET``/``DELETE /v1/order``
(by ``identifier``), ``DELETE /v1/orders/open`` (cancel all), ``GET /v1/orders/open``,
``GET /v1/orders/closed``, ``GET /v1/accounts``, ``GET /v1/orders/chance`` (fees),
``GET /v1/withdraws/chance`` (network fee and minimum). Errors are
``{"error": {"name", "message"}}``. An ``identifier`` can never be sent twice, even after a
rejection: the gateway never resends one (:attr:`client_id_resendable` is False) and a retry
after an ambiguous answer looks the order up first. Upbit's auth has no timestamp, so there is
no clock to keep. Private stream: ``myOrder`` on ``/websocket/v1/private`` with the JWT in
the upgrade request's ``Authorization`` header.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from arbot.connectors.ratelimit import RateLimitPolicy
from arbot.connectors.ws import Backoff, Heartbeat, WsSession
from arbot.market import MarketInfo
from arbot.trading.errors import (
    OrderRejected,
)
from arbot.trading.signed_gateway import JsonValue, PreparedOrder
from arbot.trading.signing import ApiCredentials, SignedRequest
from arbot.trading.types import (
    OrderRequest,
    OrderState,
)
from arbot.trading.upbit_family import UpbitFamilyGateway, json_object

from arbot_upbit.markets import VOLUME_STEP, parse_instruments, parse_market_all
from arbot_upbit.signing import UpbitSigner

__all__ = ["UpbitTradingGateway"]

VENUE = "upbit"


def _obj(value: JsonValue) -> dict[str, Any]:
    return json_object(VENUE, value)


class UpbitTradingGateway(UpbitFamilyGateway):
    """The :class:`~arbot.trading.gateway.TradingGateway` of Upbit (module docstring)."""

    venue = VENUE
    #: per IP (the quotation budget, shared with the market-data connector) and per account
    #: (the exchange API's order group)
    rate_limit = {"type": "count", "limit": 10, "window": 1.0}
    rate_limit_per_key = {"type": "count", "limit": 8, "window": 1.0}
    client_id_resendable = False

    def __init__(
        self,
        credentials: ApiCredentials,
        markets: Mapping[str, MarketInfo] | None = None,
        *,
        rest_url: str = "https://api.upbit.com",
        ws_url: str = "wss://api.upbit.com/websocket/v1/private",
        limiter: RateLimitPolicy | None = None,
        timeout: float = 10.0,
        stream: bool = True,
    ) -> None:
        super().__init__(
            credentials, rest_url, markets or {}, limiter=limiter, timeout=timeout
        )
        self.signer = UpbitSigner(credentials)
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
        """A fresh JWT (new nonce) per attempt."""
        return self.signer.sign(method, path, query, body)

    async def server_time_ms(self) -> int:
        """Upbit signs without a timestamp and has no time endpoint: the local clock."""
        return int(time.time() * 1000)

    async def fetch_markets(self) -> list[MarketInfo]:
        """``/v1/market/all`` with tick sizes from ``/v1/orderbook/instruments``."""
        body = await self.rest.get("/v1/market/all")
        codes = [str(m["market"]) for m in body]
        ticks: dict[str, float] = {}
        for i in range(0, len(codes), 100):
            ticks.update(
                parse_instruments(
                    await self.rest.get(
                        "/v1/orderbook/instruments", {"markets": ",".join(codes[i : i + 100])}
                    )
                )
            )
        return parse_market_all(body, VENUE, ticks, VOLUME_STEP)

    async def place_order(self, request: OrderRequest) -> OrderState:
        """As the base, except that an identifier whose first attempt had no definite answer is
        only looked up: Upbit never accepts it again, so an order not found needs a new one."""
        if request.client_id in self._ambiguous:
            found = await self._lookup(request.symbol, request.client_id)
            if found is not None:
                self._ambiguous.discard(request.client_id)
                return found
            self.refuse_resend(request)
        return await super().place_order(request)

    def refuse_resend(self, request: OrderRequest) -> None:
        """An identifier sent once can never be sent again: the caller needs a new one."""
        raise OrderRejected(
            VENUE,
            f"identifier {request.client_id!r} was already sent (Upbit never "
            "accepts it again): place the order under a new client id",
            "identifier_used",
        )

    # -- orders ------------------------------------------------------------------------------

    def order_ack(self, order: PreparedOrder, body: JsonValue) -> OrderState:
        """Upbit answers the accepted order (state ``wait`` or ``done``)."""
        return self.parse_order(_obj(body))

    async def get_order(self, symbol: str, client_id: str) -> OrderState:
        """``GET /v1/order?identifier=``."""
        return self.parse_order(_obj(await self.call("GET", "/v1/order", {"identifier": client_id})))

    async def cancel_order(self, symbol: str, client_id: str) -> OrderState:
        """``DELETE /v1/order?identifier=``, then the order as it ended."""
        await self.call("DELETE", "/v1/order", {"identifier": client_id})
        return await self.get_order(symbol, client_id)

    async def cancel_all(self, symbol: str) -> Sequence[OrderState]:
        """``DELETE /v1/orders/open?pairs=`` (1 request per 2 s at Upbit)."""
        data = _obj(await self.call("DELETE", "/v1/orders/open", {"pairs": self.market(symbol).venue_symbol}))
        done = (data.get("success") or {}).get("orders") or []
        return [await self.get_order(symbol, str(o["identifier"])) for o in done if o.get("identifier")]

    async def open_orders(self, symbol: str | None = None) -> Sequence[OrderState]:
        """``GET /v1/orders/open`` (of one market, or all)."""
        query = {"market": self.market(symbol).venue_symbol} if symbol is not None else None
        data = await self.call("GET", "/v1/orders/open", query)
        return [self.parse_order(_obj(o)) for o in (data if isinstance(data, list) else [])]

    async def recent_orders(self, code: str) -> list[JsonValue]:
        """``GET /v1/orders/open`` and ``/v1/orders/closed`` of the market."""
        orders: list[JsonValue] = []
        for path in ("/v1/orders/open", "/v1/orders/closed"):
            data = await self.call("GET", path, {"market": code})
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
            name="upbit-private",
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
        return {"Authorization": self.signer.sign("GET", "/websocket/v1/private").headers["Authorization"]}
