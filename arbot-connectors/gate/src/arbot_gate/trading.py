"""Gate spot trading gateway (APIv4): orders, balances, fees, networks and the private stream.

REST (``shared/exchanges/gate.md`` §7): ``POST /spot/orders`` (client id in ``text`` = ``t-`` +
at most 28 bytes; ``time_in_force`` ``gtc``/``ioc``/``fok``/``poc`` = post-only; market orders
``ioc``, a market buy sized in quote), ``GET``/``DELETE /spot/orders/{order_id}`` (the id, or
the ``text`` while the order is pending), ``DELETE /spot/orders?currency_pair=`` (cancel all),
``GET /spot/orders?status=open|finished``, ``GET /spot/my_trades``, ``GET /spot/accounts``,
``GET /wallet/fee``, ``GET /wallet/withdraw_status`` + ``GET /wallet/currency_chains``,
``GET /spot/time``. Errors are ``{"label", "message"}``. A ``text`` is only queryable while the
order is pending, so :meth:`GateTradingGateway.get_order` falls back to the open and finished
order lists. Gate does not refuse a ``text`` used before (a second order is taken: Gate's answer
in gateio/gateapi-go#41), so a client id this gateway did not mint itself (a restarted process
resending) is looked up before it is sent. Private stream: ``spot.orders`` and
``spot.usertrades`` with a signed ``auth``; after a reconnect the tracked orders are caught up
through REST.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import msgspec
from arbot.connectors.ratelimit import RateLimitPolicy
from arbot.connectors.ws import Backoff, GarbageFrame, Heartbeat, WsSession
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
from arbot.trading.signed_gateway import JsonValue, PreparedOrder, SignedRestGateway
from arbot.trading.signing import ApiCredentials, SignedRequest
from arbot.trading.types import (
    Balance,
    DepositWithdrawNetwork,
    Fill,
    OrderState,
    OrderStatus,
    OrderType,
    OrderUpdate,
    TimeInForce,
    TradingFee,
    TransferState,
    WalletTransfer,
)
from arbot.trading.wallet import amount_text

from arbot_gate.markets import parse_currency_pairs
from arbot_gate.signing import API_PREFIX, GateSigner

__all__ = ["GateTradingGateway"]

VENUE = "gate"
_AUTH = {"INVALID_KEY", "INVALID_SIGNATURE", "MISSING_REQUIRED_HEADER", "FORBIDDEN", "INVALID_CREDENTIALS"}
_TIF = {TimeInForce.GTC: "gtc", TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok", TimeInForce.POST_ONLY: "poc"}
_MAX_TEXT = 28  # bytes after "t-"


def _f(value: Any) -> float:
    return float(value) if value not in (None, "") else 0.0


def _obj(value: JsonValue) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TradingError(VENUE, f"unexpected answer {value!r:.200}")
    return value


class GateTradingGateway(SignedRestGateway):
    """The :class:`~arbot.trading.gateway.TradingGateway` of Gate spot (module docstring)."""

    venue = VENUE
    #: per IP (Gate's public budget, shared with the market-data connector) and per key (UID)
    rate_limit = {"type": "count", "limit": 200, "window": 10.0}
    rate_limit_per_key = {"type": "count", "limit": 50, "window": 1.0}
    venue_symbol_separator = "_"
    client_id_max_len = _MAX_TEXT  # after the "t-"
    venue_refuses_duplicate_ids = False  # Gate takes a second order with the same text
    supports_withdrawals = True

    def __init__(
        self,
        credentials: ApiCredentials,
        markets: Mapping[str, MarketInfo] | None = None,
        *,
        rest_url: str = "https://api.gateio.ws",
        ws_url: str = "wss://api.gateio.ws/ws/v4/",
        limiter: RateLimitPolicy | None = None,
        timeout: float = 10.0,
        stream: bool = True,
    ) -> None:
        super().__init__(
            credentials, rest_url, markets or {}, limiter=limiter, timeout=timeout
        )
        self.signer = GateSigner(credentials)
        self.ws_url = ws_url
        self.stream_enabled = stream
        self.ws: WsSession | None = None
        self._req_ids = itertools.count(1)

    def sign(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: Mapping[str, str] | None,
        now_ms: int,
    ) -> SignedRequest:
        """APIv4 ``KEY``/``Timestamp``/``SIGN`` headers (seconds)."""
        return self.signer.sign(method, path, now_ms // 1000, query, body)

    def error_for(self, status: int, body: JsonValue, text: str) -> TradingError:
        """Gate's ``{"label", "message"}`` as a typed error."""
        if not isinstance(body, dict):
            return TradingError(VENUE, f"HTTP {status}: {text[:200]}", str(status))
        label = str(body.get("label", status))
        msg = str(body.get("message", "")) or label
        if label == "REQUEST_EXPIRED":
            return ClockSkew(VENUE, msg, label)
        if label in _AUTH:
            return AuthenticationFailed(VENUE, msg, label)
        if label == "TOO_MANY_REQUESTS":
            return RateLimited(VENUE, msg, label)
        if label in ("ORDER_NOT_FOUND", "CLIENT_ID_NOT_FOUND", "ORDER_CLOSED", "ORDER_CANCELLED"):
            return OrderNotFound(VENUE, msg, label)
        if label == "DUPLICATE_REQUEST":
            return DuplicateClientId(VENUE, msg, label)
        return OrderRejected(VENUE, msg, label)

    async def server_time_ms(self) -> int:
        """``GET /api/v4/spot/time``."""
        return int(_obj(await self.rest.get(API_PREFIX + "/spot/time"))["server_time"])

    async def fetch_markets(self) -> list[MarketInfo]:
        """``GET /api/v4/spot/currency_pairs``."""
        return parse_currency_pairs(await self.rest.get(API_PREFIX + "/spot/currency_pairs"), VENUE)

    def new_client_id(self) -> str:
        """``t-`` + at most 28 bytes (letters, digits, ``-``), remembered as never sent (Gate
        takes a second order with a used ``text``: any other id is looked up before sending)."""
        return self.minted("t-" + self._ids())

    # -- orders ------------------------------------------------------------------------------

    def order_call(self, order: PreparedOrder) -> tuple[str, Mapping[str, str]]:
        """``POST /spot/orders``; a market buy is sized in quote at the book's best ask."""
        req = order.request
        if not req.client_id.startswith("t-") or len(req.client_id.encode()) > _MAX_TEXT + 2:
            raise OrderRejected(VENUE, f"client id {req.client_id!r} must be 't-' + at most 28 bytes", "text")
        body = {
            "text": req.client_id,
            "currency_pair": order.market.venue_symbol,
            "type": req.order_type.value,
            "account": "spot",
            "side": req.side.value.lower(),
        }
        if req.order_type is OrderType.LIMIT:
            assert order.price is not None
            body.update(amount=order.quantity, price=order.price, time_in_force=_TIF[req.time_in_force])
        else:
            amount = order.quantity
            if req.side is Side.BUY:
                if req.price is None:
                    raise OrderRejected(
                        VENUE, "a Gate market buy is sized in quote: give a reference price", "price"
                    )
                amount = decimal_text(Decimal(order.quantity) * Decimal(repr(req.price)))
            body.update(amount=amount, time_in_force="fok" if req.time_in_force is TimeInForce.FOK else "ioc")
        return "/spot/orders", body

    def order_ack(self, order: PreparedOrder, body: JsonValue) -> OrderState:
        """Gate answers the whole order (status after matching)."""
        return self.parse_order(_obj(body))

    def _symbol_of(self, venue_symbol: str) -> str:
        return self.unified_symbol(venue_symbol)  # BTC_USDT -> BTC/USDT when not loaded

    def parse_order(self, o: Mapping[str, Any]) -> OrderState:
        """A Gate order document as an :class:`OrderState`."""
        amount, left = _f(o.get("amount")), _f(o.get("left"))
        filled = _f(o.get("filled_amount")) if o.get("filled_amount") not in (None, "") else amount - left
        finish = str(o.get("finish_as", ""))
        status_text = str(o.get("status", ""))
        if status_text == "open":
            status = OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.NEW
        elif finish == "filled" or (status_text == "closed" and left <= 0):
            status = OrderStatus.FILLED
        elif finish in ("ioc", "poc", "fok") and filled <= 0:
            status = OrderStatus.EXPIRED
        else:
            status = OrderStatus.CANCELLED
        avg = _f(o.get("avg_deal_price")) or None
        return OrderState(
            VENUE,
            self._symbol_of(str(o.get("currency_pair", ""))),
            str(o.get("id", "")),
            str(o.get("text", "")),
            status,
            Side(str(o.get("side", "buy")).upper()),
            amount,
            filled,
            _f(o.get("price")) or None,
            avg,
            _f(o.get("update_time_ms")) / 1000.0,
        )

    async def get_order(self, symbol: str, client_id: str) -> OrderState:
        """``GET /spot/orders/{text}`` while the order is pending; after that Gate no longer
        knows the ``text`` as an id, so the open and finished order lists are searched."""
        pair = self.market(symbol).venue_symbol
        try:
            return self.parse_order(
                _obj(await self.call("GET", f"/spot/orders/{client_id}", {"currency_pair": pair}))
            )
        except OrderNotFound:
            pass
        for status in ("open", "finished"):
            data = await self.call("GET", "/spot/orders", {"currency_pair": pair, "status": status})
            for o in data if isinstance(data, list) else []:
                if isinstance(o, dict) and o.get("text") == client_id:
                    return self.parse_order(o)
        raise OrderNotFound(VENUE, f"no order with text {client_id!r}")

    async def cancel_order(self, symbol: str, client_id: str) -> OrderState:
        """``DELETE /spot/orders/{text}``: Gate answers the order as cancelled."""
        pair = self.market(symbol).venue_symbol
        return self.parse_order(
            _obj(await self.call("DELETE", f"/spot/orders/{client_id}", {"currency_pair": pair}))
        )

    async def cancel_all(self, symbol: str) -> Sequence[OrderState]:
        """``DELETE /spot/orders?currency_pair=``."""
        data = await self.call("DELETE", "/spot/orders", {"currency_pair": self.market(symbol).venue_symbol})
        return [self.parse_order(o) for o in data if isinstance(o, dict)] if isinstance(data, list) else []

    async def open_orders(self, symbol: str | None = None) -> Sequence[OrderState]:
        """``GET /spot/orders?status=open`` per symbol."""
        out: list[OrderState] = []
        for sym in [symbol] if symbol is not None else list(self.markets):
            data = await self.call(
                "GET", "/spot/orders", {"currency_pair": self.market(sym).venue_symbol, "status": "open"}
            )
            out.extend(self.parse_order(o) for o in (data if isinstance(data, list) else []))
        return out

    async def recent_fills(self, symbol: str, since: float | None = None) -> Sequence[Fill]:
        """``GET /spot/my_trades`` (trade ids are Gate's)."""
        query = {"currency_pair": self.market(symbol).venue_symbol}
        if since is not None:
            query["from"] = str(int(since))
        data = await self.call("GET", "/spot/my_trades", query)
        return [
            Fill(
                VENUE,
                symbol,
                str(t.get("order_id", "")),
                str(t.get("text", "")),
                str(t.get("id", "")),
                Side(str(t.get("side", "buy")).upper()),
                _f(t.get("price")),
                _f(t.get("amount")),
                _f(t.get("fee")),
                str(t.get("fee_currency", "")),
                _f(t.get("create_time_ms")) / 1000.0,
                t.get("role") == "maker",
            )
            for t in (data if isinstance(data, list) else [])
        ]

    async def balances(self) -> dict[str, Balance]:
        """``GET /spot/accounts``."""
        data = await self.call("GET", "/spot/accounts")
        return {
            str(a["currency"]): Balance(str(a["currency"]), _f(a.get("available")), _f(a.get("locked")))
            for a in (data if isinstance(data, list) else [])
        }

    async def trading_fees(self, symbols: Sequence[str]) -> dict[str, TradingFee]:
        """``GET /wallet/fee?currency_pair=`` per symbol."""
        out: dict[str, TradingFee] = {}
        for sym in symbols:
            data = _obj(
                await self.call("GET", "/wallet/fee", {"currency_pair": self.market(sym).venue_symbol})
            )
            out[sym] = TradingFee(sym, _f(data.get("maker_fee")), _f(data.get("taker_fee")))
        return out

    async def networks(self, asset: str) -> Sequence[DepositWithdrawNetwork]:
        """Chains (``/wallet/currency_chains``) with fees and minimums (``/wallet/withdraw_status``)."""
        chains = await self.rest.get(API_PREFIX + "/wallet/currency_chains", {"currency": asset})
        status = await self.call("GET", "/wallet/withdraw_status", {"currency": asset})
        info = next(
            (s for s in (status if isinstance(status, list) else []) if s.get("currency") == asset), {}
        )
        fees = info.get("withdraw_fix_on_chains") or {}
        return [
            DepositWithdrawNetwork(
                asset,
                str(c.get("chain")),
                _f(fees.get(c.get("chain"), info.get("withdraw_fix"))),
                _f(info.get("withdraw_amount_mini")),
                not int(c.get("is_deposit_disabled") or 0),
                not int(c.get("is_withdraw_disabled") or 0),
            )
            for c in (chains if isinstance(chains, list) else [])
        ]

    # -- wallet ------------------------------------------------------------------------------

    def parse_transfer(self, kind: str, r: Mapping[str, Any]) -> WalletTransfer:
        """A Gate wallet record (``status`` ``DONE``; ``CANCEL``/``FAIL``/``INVALID`` failed)."""
        status = str(r.get("status", ""))
        state = (
            TransferState.COMPLETED
            if status == "DONE"
            else TransferState.FAILED
            if status in ("CANCEL", "FAIL", "INVALID")
            else TransferState.PENDING
        )
        fee = _f(r.get("fee"))
        return WalletTransfer(
            VENUE,
            kind,
            str(r.get("id", "")),
            str(r.get("currency", "")),
            str(r.get("chain", "")),
            _f(r.get("amount")),
            fee,
            state,
            str(r.get("address", "")),
            str(r.get("txid", "")),
            _f(r.get("timestamp")),
        )

    async def withdraw(self, asset: str, network: str, amount: float, address: str) -> str:
        """``POST /withdrawals`` (``currency``, ``address``, ``amount``, ``chain``); Gate's id."""
        body = {"currency": asset, "address": address, "amount": amount_text(amount), "chain": network}
        return str(_obj(await self.call("POST", "/withdrawals", body=body, resend=False))["id"])

    async def withdrawal(self, withdrawal_id: str) -> WalletTransfer:
        """``GET /wallet/withdrawals?withdraw_id=``."""
        rows = await self.call("GET", "/wallet/withdrawals", {"withdraw_id": withdrawal_id})
        for r in rows if isinstance(rows, list) else []:
            if isinstance(r, dict) and str(r.get("id")) == withdrawal_id:
                return self.parse_transfer("withdrawal", r)
        raise OrderNotFound(VENUE, f"no withdrawal {withdrawal_id}")

    async def deposits(self, asset: str | None = None) -> Sequence[WalletTransfer]:
        """``GET /wallet/deposits`` (of one currency)."""
        rows = await self.call("GET", "/wallet/deposits", {"currency": asset} if asset else None)
        items = rows if isinstance(rows, list) else []
        return [self.parse_transfer("deposit", r) for r in items if isinstance(r, dict)]

    # -- private stream ----------------------------------------------------------------------

    async def start_stream(self) -> None:
        """``spot.orders`` + ``spot.usertrades`` for every pair, with a signed ``auth``."""
        if not self.stream_enabled:
            return
        self.ws = WsSession(
            self.ws_url,
            self._on_frame,
            on_open=self._login,
            heartbeat=Heartbeat(ping_interval=10.0, ping_timeout=10.0),
            backoff=Backoff(0.05, 2.0),
            name="gate-private",
        )
        await self.ws.start(wait=True, timeout=10.0)

    async def _login(self, session: WsSession) -> None:
        for channel in ("spot.orders", "spot.usertrades"):
            t = self.now_ms() // 1000
            await session.send(
                {
                    "time": t,
                    "id": next(self._req_ids),
                    "channel": channel,
                    "event": "subscribe",
                    "payload": ["!all"],
                    "auth": self.signer.ws_auth(channel, "subscribe", t),
                }
            )
        await self.stream_opened(session)

    def _on_frame(self, frame: str | bytes, recv_time: float) -> None:
        msg = msgspec.json.decode(frame)
        if not isinstance(msg, dict):
            raise GarbageFrame("not an object")
        if msg.get("event") != "update":
            return
        result = msg.get("result")
        items = result if isinstance(result, list) else [result]
        channel = msg.get("channel")
        for item in items:
            if not isinstance(item, dict):
                continue
            if channel == "spot.orders":
                state = self.parse_order(
                    {
                        **item,
                        "status": "open"
                        if item.get("event") != "finish"
                        else "closed"
                        if item.get("finish_as") == "filled"
                        else "cancelled",
                    }
                )
                self.publish(OrderUpdate(state, (), _f(item.get("update_time_ms")) / 1000.0, "stream"))
            elif channel == "spot.usertrades":
                symbol = self._symbol_of(str(item.get("currency_pair", "")))
                fill = Fill(
                    VENUE,
                    symbol,
                    str(item.get("order_id", "")),
                    str(item.get("text", "")),
                    str(item.get("id", "")),
                    Side(str(item.get("side", "buy")).upper()),
                    _f(item.get("price")),
                    _f(item.get("amount")),
                    _f(item.get("fee")),
                    str(item.get("fee_currency", "")),
                    _f(item.get("create_time_ms")) / 1000.0,
                    item.get("role") == "maker",
                )
                state = OrderState(
                    VENUE,
                    symbol,
                    fill.order_id,
                    fill.client_id,
                    OrderStatus.PARTIALLY_FILLED,
                    fill.side,
                    0.0,
                    0.0,
                    None,
                    None,
                    fill.ts,
                )
                self.publish(OrderUpdate(state, (fill,), fill.ts, "stream"))

    async def close(self) -> None:
        """Close the private stream and the REST session."""
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
        await super().close()
