"""Binance spot trading gateway: signed REST orders, balances, fees, networks and the user data
stream (listen key with keep-alive), on top of :class:`arbot.trading.rest_gateway.RestTradingGateway`.

Venue rules applied here (see ``shared/exchanges/binance.md`` §7): client ids go in
``newClientOrderId`` (queried with ``origClientOrderId``), a duplicate among open orders is
``-2010 "Duplicate order sent."``; ``-1021`` (timestamp outside recvWindow) is a clock skew,
``-1007`` (execution status unknown) and 5xx are ambiguous; post-only is ``type=LIMIT_MAKER``.
Order weights: place 1, query 4, cancel 1, open orders 6 (40 for all symbols), account 20,
myTrades 20, commission 20, capital config 10.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import ROUND_DOWN, Decimal
from typing import Any

import msgspec
from arbot.connectors.parsing import number
from arbot.connectors.ratelimit import CountLimiter
from arbot.events import Side
from arbot.market import MarketInfo
from arbot.trading.errors import (
    AmbiguousOrderState,
    AuthenticationFailed,
    ClockSkew,
    DuplicateClientId,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TradingError,
)
from arbot.trading.precision import PreparedOrder
from arbot.trading.rest_gateway import RestTradingGateway
from arbot.trading.signing import ApiCredentials, SignedRequest
from arbot.trading.types import (
    Balance,
    DepositWithdrawNetwork,
    Fill,
    OrderRequest,
    OrderState,
    OrderStatus,
    OrderType,
    OrderUpdate,
    TimeInForce,
    TradingFee,
    TransferState,
    WalletTransfer,
)
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from arbot_binance.connector import parse_exchange_info
from arbot_binance.signing import BinanceSigner

__all__ = ["BinanceTradingGateway", "order_state_from_binance"]

VENUE = "binance"
log = logging.getLogger("arbot_binance.trading")

_STATUS = {
    "PENDING_NEW": OrderStatus.PENDING_NEW,
    "NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELLED,
    "PENDING_CANCEL": OrderStatus.NEW,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}
_SIDE = {Side.BUY: "BUY", Side.SELL: "SELL"}
_TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK"}
_AUTH_CODES = {"-1022", "-2014", "-2015", "-1002"}
_RATE_CODES = {"-1003", "-1015"}
_NOT_FOUND_CODES = {"-2011", "-2013"}


def _amount_str(amount: float) -> str:
    """A withdrawal amount to 8 decimals, rounded down (never more than the balance)."""
    text = format(Decimal(repr(amount)).quantize(Decimal("1e-8"), rounding=ROUND_DOWN), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def order_state_from_binance(raw: Mapping[str, Any], symbol: str) -> OrderState:
    """An order answer (place FULL/RESULT, query, cancel, open orders) as an OrderState."""
    get = raw.get
    filled = number(get("executedQty"))
    return OrderState(
        VENUE,
        symbol,
        str(get("orderId", "")),
        # a cancel's answer carries the order's id in origClientOrderId
        str(get("origClientOrderId") or get("clientOrderId") or ""),
        _STATUS.get(str(get("status")), OrderStatus.UNKNOWN),
        Side.BUY if get("side") == "BUY" else Side.SELL,
        number(get("origQty")),
        filled,
        number(get("price")) or None,
        number(get("cummulativeQuoteQty")) / filled if filled > 0 else None,
        number(get("updateTime") or get("transactTime") or get("time")) / 1000.0,
    )


class BinanceTradingGateway(RestTradingGateway):
    """Binance spot private API (see the module docstring). ``ws_url`` is the user data stream
    base (``wss://stream.binance.com:9443``); ``recv_window`` in ms."""

    #: REST request weight per minute (TRD §3.1; 6000 since 2023).
    rate_limit = {"type": "weight", "limit": 6000, "window": 60}

    venue = VENUE
    supports_withdrawals = True
    client_id_max_len = 36

    def __init__(
        self,
        credentials: ApiCredentials,
        *,
        rest_url: str = "https://api.binance.com",
        ws_url: str = "wss://stream.binance.com:9443",
        recv_window: int = 5000,
        keepalive_interval: float = 30 * 60.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(credentials, rest_url=rest_url, **kwargs)
        self.signer = BinanceSigner(credentials, recv_window)
        self.ws_url = ws_url.rstrip("/")
        self.keepalive_interval = keepalive_interval
        self.listen_key: str | None = None
        #: Binance's unfilled-order count: 100 new orders per 10 s per account (weights are
        #: the shared request limiter's); an order that fills is not counted any more.
        self.order_limiter: CountLimiter = CountLimiter(100, 10.0)
        #: What ``/sapi/v1/account/apiRestrictions`` said at start (None until checked).
        self.restrictions: dict[str, Any] | None = None

    async def start(self) -> None:
        """Sync the clock, load markets, and check the key's permissions: a trading key that
        can withdraw is warned about (TRD §7: trading keys without withdrawal rights), and the
        IP whitelist state is logged."""
        await super().start()
        try:
            self.restrictions = dict(await self.signed("GET", "/sapi/v1/account/apiRestrictions", weight=1))
        except TradingError as exc:
            log.warning("binance: could not read the API key's restrictions: %s", exc)
            return
        if self.restrictions.get("enableWithdrawals"):
            log.warning(
                "binance: the trading API key can WITHDRAW funds; use a key without withdrawal rights"
            )
        log.info(
            "binance: API key IP whitelist %s",
            "on" if self.restrictions.get("ipRestrict") else "OFF (any IP may use the key)",
        )

    # -- venue parts -------------------------------------------------------------------------

    def _sign(self, method: str, path: str, params: Mapping[str, object], ts_ms: int) -> SignedRequest:
        return self.signer.sign(method, path, params, ts_ms)

    def _error_fields(self, body: Any) -> tuple[str, str] | None:
        if isinstance(body, dict) and "code" in body and "msg" in body and body["code"] not in (0, 200):
            return str(body["code"]), str(body["msg"])
        return None

    def _classify(self, status: int, code: str, message: str) -> TradingError:
        if code == "-1021":
            return ClockSkew(VENUE, message, code)
        if code in _AUTH_CODES or status == 401:
            return AuthenticationFailed(VENUE, message, code)
        if code in _RATE_CODES or status in (418, 429):
            return RateLimited(VENUE, message, code)
        if code == "-1007" or status >= 500:
            return AmbiguousOrderState(VENUE, message, code)
        if code == "-2010" and "duplicate" in message.lower():
            return DuplicateClientId(VENUE, message, code)
        if code in _NOT_FOUND_CODES:
            return OrderNotFound(VENUE, message, code)
        return OrderRejected(VENUE, message, code)

    async def _server_time_ms(self) -> int:
        body = await self.public("/api/v3/time")
        return int(body["serverTime"])

    async def _load_markets(self) -> list[MarketInfo]:
        return parse_exchange_info(await self.public("/api/v3/exchangeInfo", weight=20))

    # -- orders ------------------------------------------------------------------------------

    async def _submit(self, request: OrderRequest, prepared: PreparedOrder | None) -> OrderState:
        assert prepared is not None
        params: dict[str, object] = {
            "symbol": self.venue_symbol(request.symbol),
            "side": _SIDE[request.side],
            "newClientOrderId": request.client_id,
            "newOrderRespType": "FULL",
        }
        if request.order_type is OrderType.MARKET:
            params["type"] = "MARKET"
            params["quantity"] = prepared.quantity
        else:
            if request.time_in_force is TimeInForce.POST_ONLY:
                params["type"] = "LIMIT_MAKER"
            else:
                params["type"] = "LIMIT"
                params["timeInForce"] = _TIF[request.time_in_force]
            params["quantity"] = prepared.quantity
            params["price"] = prepared.price
        await self.order_limiter.acquire(1.0, "orders")
        body = await self.signed("POST", "/api/v3/order", params, weight=1, order_entry=True)
        state = order_state_from_binance(body, request.symbol)
        if state.filled > 0:
            self.order_limiter.release(1.0)  # Binance decrements the count of a filled order
        return state

    async def get_order(self, symbol: str, client_id: str) -> OrderState:
        """The order by client id (``origClientOrderId``)."""
        params = {"symbol": self.venue_symbol(symbol), "origClientOrderId": client_id}
        body = await self.signed("GET", "/api/v3/order", params, weight=4)
        return order_state_from_binance(body, symbol)

    async def cancel_order(self, symbol: str, client_id: str) -> OrderState:
        """Cancel by client id."""
        params = {"symbol": self.venue_symbol(symbol), "origClientOrderId": client_id}
        body = await self.signed("DELETE", "/api/v3/order", params, weight=1)
        return order_state_from_binance(body, symbol)

    async def cancel_all(self, symbol: str) -> Sequence[OrderState]:
        """Cancel every open order of ``symbol`` (none open is not an error)."""
        try:
            params = {"symbol": self.venue_symbol(symbol)}
            body = await self.signed("DELETE", "/api/v3/openOrders", params, weight=1)
        except OrderNotFound:
            return []
        return [order_state_from_binance(o, symbol) for o in body]

    async def open_orders(self, symbol: str | None = None) -> Sequence[OrderState]:
        """Open orders of one symbol (weight 6) or all (weight 80)."""
        params = {"symbol": self.venue_symbol(symbol)} if symbol else {}
        body = await self.signed("GET", "/api/v3/openOrders", params, weight=6 if symbol else 80)
        return [order_state_from_binance(o, symbol or self.unified_symbol(o["symbol"])) for o in body]

    async def recent_fills(self, symbol: str, since: float | None = None) -> Sequence[Fill]:
        """``myTrades`` of ``symbol`` (since ``since`` seconds)."""
        params: dict[str, object] = {"symbol": self.venue_symbol(symbol)}
        if since is not None:
            params["startTime"] = int(since * 1000)
        body = await self.signed("GET", "/api/v3/myTrades", params, weight=20)
        return [
            Fill(
                venue=VENUE,
                symbol=symbol,
                order_id=str(t["orderId"]),
                client_id="",
                trade_id=str(t["id"]),
                side=Side.BUY if t.get("isBuyer") else Side.SELL,
                price=number(t["price"]),
                quantity=number(t["qty"]),
                fee=number(t.get("commission")),
                fee_asset=str(t.get("commissionAsset", "")),
                ts=number(t.get("time")) / 1000.0,
                is_maker=bool(t.get("isMaker")),
            )
            for t in body
        ]

    async def balances(self) -> dict[str, Balance]:
        """``/api/v3/account`` balances (zero balances omitted)."""
        body = await self.signed("GET", "/api/v3/account", {"omitZeroBalances": "true"}, weight=20)
        return {
            b["asset"]: Balance(b["asset"], number(b["free"]), number(b["locked"])) for b in body["balances"]
        }

    async def trading_fees(self, symbols: Sequence[str]) -> dict[str, TradingFee]:
        """``/api/v3/account/commission`` per symbol."""
        out: dict[str, TradingFee] = {}
        for symbol in symbols:
            body = await self.signed(
                "GET", "/api/v3/account/commission", {"symbol": self.venue_symbol(symbol)}, weight=20
            )
            std = body["standardCommission"]
            out[symbol] = TradingFee(symbol, number(std["maker"]), number(std["taker"]))
        return out

    async def networks(self, asset: str) -> Sequence[DepositWithdrawNetwork]:
        """``/sapi/v1/capital/config/getall``: networks of ``asset``."""
        body = await self.signed("GET", "/sapi/v1/capital/config/getall", {}, weight=10)
        for coin in body:
            if coin.get("coin") == asset:
                return [
                    DepositWithdrawNetwork(
                        asset=asset,
                        network=str(n["network"]),
                        withdraw_fee=number(n.get("withdrawFee")),
                        withdraw_min=number(n.get("withdrawMin")),
                        deposit_enabled=bool(n.get("depositEnable")),
                        withdraw_enabled=bool(n.get("withdrawEnable")),
                        confirmations=int(number(n.get("minConfirm"))),
                        estimated_minutes=number(n["estimatedArrivalTime"])
                        if n.get("estimatedArrivalTime") is not None
                        else None,
                    )
                    for n in coin.get("networkList", [])
                ]
        return []

    async def withdraw(self, asset: str, network: str, amount: float, address: str) -> str:
        """``POST /sapi/v1/capital/withdraw/apply``; the withdrawal id. Needs a key with
        withdrawal rights (never the trading key: see ``arbot-rebalancer``)."""
        body = await self.signed(
            "POST",
            "/sapi/v1/capital/withdraw/apply",
            {"coin": asset, "network": network, "address": address, "amount": _amount_str(amount)},
            weight=600,
        )
        return str(body["id"])

    async def withdrawal(self, withdrawal_id: str) -> WalletTransfer:
        """``GET /sapi/v1/capital/withdraw/history``: the withdrawal (status 6 = completed;
        1 cancelled, 3 rejected, 5 failure; the rest pending)."""
        history = await self.signed("GET", "/sapi/v1/capital/withdraw/history", {}, weight=1)
        for row in history:
            if str(row.get("id")) == withdrawal_id:
                status = int(row.get("status", -1))
                state = (
                    TransferState.COMPLETED
                    if status == 6
                    else TransferState.FAILED
                    if status in (1, 3, 5)
                    else TransferState.PENDING
                )
                fee = number(row.get("transactionFee"))
                return WalletTransfer(
                    VENUE, "withdrawal", withdrawal_id, str(row.get("coin")), str(row.get("network")),
                    number(row.get("amount")) + fee, fee, state, str(row.get("address", "")),
                    str(row.get("txId", "")),
                )
        raise OrderNotFound(VENUE, f"withdrawal {withdrawal_id} is not in the withdrawal history")

    async def deposits(self, asset: str | None = None) -> Sequence[WalletTransfer]:
        """``GET /sapi/v1/capital/deposit/hisrec`` (status 1 = credited, 0 pending)."""
        params = {"coin": asset} if asset else {}
        rows = await self.signed("GET", "/sapi/v1/capital/deposit/hisrec", params, weight=1)
        return [
            WalletTransfer(
                VENUE, "deposit", str(r.get("id")), str(r.get("coin")), str(r.get("network")),
                number(r.get("amount")), 0.0,
                TransferState.COMPLETED if int(r.get("status", 0)) in (1, 6) else TransferState.PENDING,
                str(r.get("address", "")), str(r.get("txId", "")), number(r.get("insertTime")) / 1000.0,
            )
            for r in rows
        ]

    # -- user data stream --------------------------------------------------------------------

    async def _listen_key(self) -> str:
        body = await self.rest.request(
            "POST", "/api/v3/userDataStream", headers=self.signer.api_key_headers()
        )
        return str(body["listenKey"])

    async def keepalive(self) -> None:
        """Extend the listen key (Binance closes the stream 60 min after the last keep-alive)."""
        if self.listen_key is not None:
            await self.rest.request(
                "PUT",
                f"/api/v3/userDataStream?listenKey={self.listen_key}",
                headers=self.signer.api_key_headers(),
            )

    async def updates(self) -> AsyncIterator[OrderUpdate]:
        """``executionReport`` events of the user data stream. A dropped stream is reopened with
        a fresh listen key, and the orders this gateway placed are re-read through REST
        (``source="rest"``) so that nothing that happened during the gap is missed."""
        reconnect = False
        while True:
            self.listen_key = await self._listen_key()
            keeper = asyncio.ensure_future(self._keepalive_loop())
            try:
                async with connect(f"{self.ws_url}/ws/{self.listen_key}", ping_interval=None) as ws:
                    if reconnect:
                        for update in await self.reconcile_tracked():
                            yield update
                    async for frame in ws:
                        event = msgspec.json.decode(frame)
                        if isinstance(event, dict) and event.get("e") == "executionReport":
                            update = self._execution_update(event)
                            self.forget_if_done(update.state)
                            yield update
            except (OSError, ConnectionClosed, InvalidHandshake, msgspec.DecodeError):
                await asyncio.sleep(0.05)
            finally:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper
            reconnect = True

    async def _keepalive_loop(self) -> None:
        while True:
            await asyncio.sleep(self.keepalive_interval)
            with contextlib.suppress(TradingError, OSError):
                await self.keepalive()

    def _execution_update(self, e: Mapping[str, Any]) -> OrderUpdate:
        symbol = self.unified_symbol(str(e["s"]))
        filled = number(e.get("z"))
        quote = number(e.get("Z"))
        # a cancel's event carries the cancel request's id in "c" and the order's in "C"
        client_id = str(e.get("C")) if e.get("X") == "CANCELED" and e.get("C") else str(e.get("c"))
        state = OrderState(
            venue=VENUE,
            symbol=symbol,
            order_id=str(e["i"]),
            client_id=client_id,
            status=_STATUS.get(str(e.get("X")), OrderStatus.UNKNOWN),
            side=Side.BUY if e.get("S") == "BUY" else Side.SELL,
            quantity=number(e.get("q")),
            filled=filled,
            price=number(e.get("p")) or None,
            average_price=quote / filled if filled > 0 else None,
            ts=number(e.get("T") or e.get("E")) / 1000.0,
        )
        fills: tuple[Fill, ...] = ()
        if e.get("x") == "TRADE":
            fills = (
                Fill(
                    venue=VENUE,
                    symbol=symbol,
                    order_id=state.order_id,
                    client_id=client_id,
                    trade_id=str(e.get("t")),
                    side=state.side,
                    price=number(e.get("L")),
                    quantity=number(e.get("l")),
                    fee=number(e.get("n")),
                    fee_asset=str(e.get("N") or ""),
                    ts=state.ts,
                    is_maker=bool(e.get("m")),
                ),
            )
        return OrderUpdate(state=state, fills=fills, seq=number(e.get("E")), source="stream")
