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
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import attrs
import msgspec
from arbot.connectors.ratelimit import RateLimitPolicy
from arbot.connectors.ws import Backoff, Heartbeat, WsSession
from arbot.events import Side
from arbot.market import MarketInfo
from arbot.trading.errors import (
    AuthenticationFailed,
    ClockSkew,
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
    OrderState,
    OrderStatus,
    OrderType,
    OrderUpdate,
    TimeInForce,
)
from arbot.trading.upbit_family import UpbitFamilyGateway, json_object
from arbot.trading.upbit_family import iso_time as _ts
from arbot.trading.upbit_family import number as _f

from arbot_bithumb.markets import parse_market_all
from arbot_bithumb.signing import BithumbSigner

__all__ = ["BithumbTradingGateway"]

VENUE = "bithumb"
#: Minimum order total of KRW markets.
MIN_TOTAL_KRW = 5000.0
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


class BithumbTradingGateway(UpbitFamilyGateway):
    """The :class:`~arbot.trading.gateway.TradingGateway` of Bithumb (module docstring)."""

    venue = VENUE
    #: per IP (shared with the market-data connector) and per key
    rate_limit = {"type": "count", "limit": 120, "window": 1.0}
    rate_limit_per_key = {"type": "count", "limit": 120, "window": 1.0}

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

    def error_for(self, status: int, body: JsonValue, text: str) -> TradingError:
        """Bithumb's ``{"error": {"name", "message"}}`` as a typed error."""
        err = body.get("error") if isinstance(body, dict) else None
        if not isinstance(err, dict):
            return TradingError(VENUE, f"HTTP {status}: {text[:200]}", str(status))
        name, msg = str(err.get("name", status)), str(err.get("message", ""))
        if name in ("expired_jwt", "invalid_timestamp"):
            return ClockSkew(VENUE, msg, name)
        if name in _AUTH or status == 401:
            return AuthenticationFailed(VENUE, msg, name)
        if name == "too_many_requests":
            return RateLimited(VENUE, msg, name)
        if name == "order_not_found":
            return OrderNotFound(VENUE, msg, name)
        if name in ("duplicate_identifier", "duplicate_client_order_id"):
            return DuplicateClientId(VENUE, msg, name)
        return OrderRejected(VENUE, msg, name)

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

    def new_client_id(self) -> str:
        """A fresh ``client_order_id`` (a UUID, unique across restarts)."""
        return f"arb-{uuid.uuid4()}"

    # -- orders ------------------------------------------------------------------------------

    def order_call(self, order: PreparedOrder) -> tuple[str, Mapping[str, str]]:
        """``POST /v2/orders``."""
        req = order.request
        body = {"market": order.market.venue_symbol, "side": _SIDE[req.side]}
        if req.order_type is OrderType.LIMIT:
            assert order.price is not None
            body.update(order_type="limit", price=order.price, volume=order.quantity)
            if req.time_in_force in _TIF:
                body["time_in_force"] = _TIF[req.time_in_force]
        elif req.side is Side.BUY:
            if req.price is None:
                raise OrderRejected(
                    VENUE, "a Bithumb market buy is sized in KRW: give a reference price", "price"
                )
            body.update(
                order_type="price", price=decimal_text(Decimal(order.quantity) * Decimal(repr(req.price)))
            )
        else:
            body.update(order_type="market", volume=order.quantity)
        body["client_order_id"] = req.client_id
        return "/v2/orders", body

    def order_ack(self, order: PreparedOrder, body: JsonValue) -> OrderState:
        """Bithumb answers the order id only: NEW until queried or streamed."""
        data = _obj(body)
        req = order.request
        return OrderState(
            VENUE,
            req.symbol,
            str(data.get("order_id", "")),
            req.client_id,
            OrderStatus.NEW,
            req.side,
            float(order.quantity),
            0.0,
            float(order.price) if order.price is not None else None,
            None,
            time.time(),
        )

    def parse_order(self, o: Mapping[str, Any]) -> OrderState:
        """A Bithumb (Upbit-shaped) order document as an :class:`OrderState`."""
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
            str(o.get("client_order_id") or ""),
            status,
            Side.BUY if o.get("side") == "bid" else Side.SELL,
            volume,
            executed,
            _f(o.get("price")) or None,
            avg,
            _ts(o.get("created_at")),
        )

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
        return [self.parse_order(o) for o in (data if isinstance(data, list) else [])]

    async def recent_fills(self, symbol: str, since: float | None = None) -> Sequence[Fill]:
        """Trades of the market's recent orders (Bithumb has no fill list: each order's detail
        carries its ``trades``, with per-order fees only)."""
        code = self.market(symbol).venue_symbol
        orders: list[Any] = []
        for state in ("wait", "done", "cancel"):
            data = await self.call("GET", "/v1/orders", {"market": code, "state": state})
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
                            str(detail.get("client_order_id") or ""),
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
            str(m.get("client_order_id") or ""),
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
