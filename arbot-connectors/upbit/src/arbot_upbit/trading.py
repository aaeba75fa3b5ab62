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
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import msgspec
from arbot.connectors.ratelimit import RateLimitPolicy
from arbot.connectors.ws import Backoff, Heartbeat, WsSession
from arbot.events import Side
from arbot.market import MarketInfo
from arbot.trading.errors import (
    AuthenticationFailed,
    DuplicateClientId,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TradingError,
)
from arbot.trading.precision import decimal_text
from arbot.trading.signed_gateway import JsonValue, PreparedOrder
from arbot.trading.signing import ApiCredentials, SignedRequest
from arbot.trading.types import (
    Fill,
    OrderRequest,
    OrderState,
    OrderStatus,
    OrderType,
    OrderUpdate,
    TimeInForce,
)
from arbot.trading.upbit_family import UpbitFamilyGateway, json_object
from arbot.trading.upbit_family import iso_time as _ts
from arbot.trading.upbit_family import number as _f

from arbot_upbit.markets import VOLUME_STEP, parse_instruments, parse_market_all
from arbot_upbit.signing import UpbitSigner

__all__ = ["UpbitTradingGateway"]

VENUE = "upbit"
_AUTH = {
    "jwt_verification",
    "invalid_access_key",
    "expired_access_key",
    "no_authorization_token",
    "nonce_used",
    "invalid_query_payload",
    "out_of_scope",
    "no_authorization_ip",
}
_SIDE = {Side.BUY: "bid", Side.SELL: "ask"}
_TIF = {TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok", TimeInForce.POST_ONLY: "post_only"}


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

    def error_for(self, status: int, body: JsonValue, text: str) -> TradingError:
        """Upbit's ``{"error": {"name", "message"}}`` as a typed error."""
        err = body.get("error") if isinstance(body, dict) else None
        if not isinstance(err, dict):
            return TradingError(VENUE, f"HTTP {status}: {text[:200]}", str(status))
        name, msg = str(err.get("name", status)), str(err.get("message", ""))
        if name in _AUTH or status == 401:
            return AuthenticationFailed(VENUE, msg, name)
        if name == "too_many_requests":
            return RateLimited(VENUE, msg, name)
        if name == "order_not_found":
            return OrderNotFound(VENUE, msg, name)
        if name == "duplicate_identifier":
            return DuplicateClientId(VENUE, msg, name)
        return OrderRejected(VENUE, msg, name)

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

    def new_client_id(self) -> str:
        """A fresh ``identifier`` (a UUID: never reused, across restarts too)."""
        return f"arb-{uuid.uuid4()}"

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

    def order_call(self, order: PreparedOrder) -> tuple[str, Mapping[str, str]]:
        """``POST /v1/orders``."""
        req = order.request
        body = {"market": order.market.venue_symbol, "side": _SIDE[req.side]}
        if req.order_type is OrderType.LIMIT:
            assert order.price is not None
            body.update(ord_type="limit", price=order.price, volume=order.quantity)
            if req.time_in_force in _TIF:
                body["time_in_force"] = _TIF[req.time_in_force]
        elif req.side is Side.BUY:
            if req.price is None:
                raise OrderRejected(
                    VENUE, "an Upbit market buy is sized in KRW: give a reference price", "price"
                )
            body.update(
                ord_type="price", price=decimal_text(Decimal(order.quantity) * Decimal(repr(req.price)))
            )
        else:
            body.update(ord_type="market", volume=order.quantity)
        body["identifier"] = req.client_id
        return "/v1/orders", body

    def order_ack(self, order: PreparedOrder, body: JsonValue) -> OrderState:
        """Upbit answers the accepted order (state ``wait`` or ``done``)."""
        return self.parse_order(_obj(body))

    def parse_order(self, o: Mapping[str, Any]) -> OrderState:
        """An Upbit order document as an :class:`OrderState`."""
        executed = _f(o.get("executed_volume"))
        volume = _f(o.get("volume")) or executed
        state = str(o.get("state", ""))
        if state in ("wait", "watch"):
            status = OrderStatus.PARTIALLY_FILLED if executed > 0 else OrderStatus.NEW
        elif state == "done":
            status = OrderStatus.FILLED
        elif executed > 0 or state == "cancel":
            status = OrderStatus.CANCELLED
        else:
            status = OrderStatus.EXPIRED
        funds = sum(_f(t.get("funds")) for t in o.get("trades") or [])
        avg = funds / executed if funds and executed else None
        return OrderState(
            VENUE,
            self._symbol_of(str(o.get("market", ""))),
            str(o.get("uuid", "")),
            str(o.get("identifier") or ""),
            status,
            Side.BUY if o.get("side") == "bid" else Side.SELL,
            volume,
            executed,
            _f(o.get("price")) or None,
            avg,
            _ts(o.get("created_at")),
        )

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
        return [self.parse_order(o) for o in (data if isinstance(data, list) else [])]

    async def recent_fills(self, symbol: str, since: float | None = None) -> Sequence[Fill]:
        """Trades of the market's recent orders (Upbit has no fill list: each order's detail
        carries its ``trades``, with per-order fees only)."""
        code = self.market(symbol).venue_symbol
        orders: list[Any] = []
        for path in ("/v1/orders/open", "/v1/orders/closed"):
            data = await self.call("GET", path, {"market": code})
            orders.extend(o for o in (data if isinstance(data, list) else []) if _f(o.get("executed_volume")))
        fills: list[Fill] = []
        for o in orders:
            detail = _obj(await self.call("GET", "/v1/order", {"uuid": str(o["uuid"])}))
            for t in detail.get("trades") or []:
                ts = _ts(t.get("created_at"))
                if since is None or ts >= since:
                    fills.append(
                        Fill(
                            VENUE,
                            symbol,
                            str(detail.get("uuid")),
                            str(detail.get("identifier") or ""),
                            str(t.get("uuid")),
                            Side.BUY if t.get("side") == "bid" else Side.SELL,
                            _f(t.get("price")),
                            _f(t.get("volume")),
                            0.0,
                            code.partition("-")[0],
                            ts,
                        )
                    )
        return sorted(fills, key=lambda f: f.ts)

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

    def parse_my_order(self, m: Mapping[str, Any]) -> OrderUpdate:
        """One ``myOrder`` push (a ``trade`` state carries the fill)."""
        symbol = self._symbol_of(str(m.get("code", "")))
        side = Side.BUY if m.get("ask_bid") == "BID" else Side.SELL
        executed = _f(m.get("executed_volume"))
        state = str(m.get("state", ""))
        # on a ``trade`` push ``volume``/``price`` are the trade's; the order's size is the rest
        volume = executed + _f(m.get("remaining_volume")) if state == "trade" else _f(m.get("volume"))
        status = {
            "wait": OrderStatus.NEW,
            "watch": OrderStatus.NEW,
            "trade": OrderStatus.PARTIALLY_FILLED,
            "done": OrderStatus.FILLED,
            "cancel": OrderStatus.CANCELLED,
        }.get(state, OrderStatus.NEW)
        if state == "trade" and volume and executed >= volume:
            status = OrderStatus.FILLED
        ts = _f(m.get("timestamp")) / 1000.0
        st = OrderState(
            VENUE,
            symbol,
            str(m.get("uuid", "")),
            str(m.get("identifier") or ""),
            status,
            side,
            volume,
            executed,
            _f(m.get("price")) or None,
            _f(m.get("avg_price")) or None,
            ts,
        )
        fills: tuple[Fill, ...] = ()
        if state == "trade":
            fills = (
                Fill(
                    VENUE,
                    symbol,
                    st.order_id,
                    st.client_id,
                    str(m.get("trade_uuid", "")),
                    side,
                    _f(m.get("price")),
                    _f(m.get("volume")),
                    _f(m.get("trade_fee")),
                    str(m.get("code", "")).partition("-")[0],
                    _f(m.get("trade_timestamp")) / 1000.0,
                    bool(m.get("is_maker")),
                ),
            )
            st = OrderState(
                VENUE,
                symbol,
                st.order_id,
                st.client_id,
                status,
                side,
                volume,
                executed,
                None,
                _f(m.get("avg_price")) or None,
                ts,
            )
        return OrderUpdate(st, fills, ts, "stream")
