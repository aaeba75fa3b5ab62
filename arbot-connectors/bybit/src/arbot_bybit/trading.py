"""Bybit v5 spot trading gateway: signed REST orders, balances, fees, networks and the private
``order``/``execution`` topics, on top of :class:`arbot.trading.rest_gateway.RestTradingGateway`.

Venue rules applied here (``shared/exchanges/bybit.md`` §7): ``category=spot``; ``side``
``Buy``/``Sell``; ``orderType`` ``Limit``/``Market`` with ``timeInForce`` ``GTC``/``IOC``/``FOK``/
``PostOnly``; a market order's ``qty`` is in base (``marketUnit=baseCoin``); client ids in
``orderLinkId`` (at most 36 characters; a duplicate is 170141 or 10014); errors come as
``retCode``/``retMsg`` in the body; 10002 (timestamp outside recv_window) is a clock skew;
10000/10016 and 5xx are ambiguous. The place answer is an ack (``orderId``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from arbot.connectors.parsing import number
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
from arbot.trading.private_stream import LoginVerdict, private_stream
from arbot.trading.rest_gateway import RestTradingGateway
from arbot.trading.signing import ApiCredentials, SignedRequest, compact_json
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
from arbot.trading.wallet import amount_text

from arbot_bybit.markets import parse_instruments
from arbot_bybit.signing import BybitSigner

__all__ = ["BybitTradingGateway", "order_state_from_bybit"]

VENUE = "bybit"
_STATUS = {
    "New": OrderStatus.NEW,
    "Created": OrderStatus.PENDING_NEW,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELLED,
    "PartiallyFilledCanceled": OrderStatus.CANCELLED,
    "Rejected": OrderStatus.REJECTED,
    "Deactivated": OrderStatus.CANCELLED,
}
_AUTH = {"10003", "10004", "10005", "10007", "33004"}
_NOT_FOUND = {"170213", "110001", "170142"}
_TIF = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "PostOnly",
}


def order_state_from_bybit(raw: Mapping[str, Any], symbol: str) -> OrderState:
    """An order record (realtime/history list, ``order`` topic) as an OrderState."""
    filled = number(raw.get("cumExecQty"))
    value = number(raw.get("cumExecValue"))
    return OrderState(
        venue=VENUE,
        symbol=symbol,
        order_id=str(raw.get("orderId", "")),
        client_id=str(raw.get("orderLinkId", "")),
        status=_STATUS.get(str(raw.get("orderStatus")), OrderStatus.UNKNOWN),
        side=Side.BUY if raw.get("side") == "Buy" else Side.SELL,
        quantity=number(raw.get("qty")),
        filled=filled,
        price=number(raw.get("price")) or None,
        average_price=value / filled if filled > 0 else None,
        ts=number(raw.get("updatedTime") or raw.get("createdTime")) / 1000.0,
    )


class BybitTradingGateway(RestTradingGateway):
    """Bybit v5 spot private API (see the module docstring). ``ws_url`` is the WebSocket base
    (``wss://stream.bybit.com``); the private stream is ``<ws_url>/v5/private``."""

    #: requests per 5 s per IP (TRD §3.1).
    rate_limit = {"type": "count", "limit": 600, "window": 5}

    venue = VENUE
    client_id_max_len = 36

    def __init__(
        self,
        credentials: ApiCredentials,
        *,
        rest_url: str = "https://api.bybit.com",
        ws_url: str = "wss://stream.bybit.com",
        recv_window: int = 5000,
        **kwargs: Any,
    ) -> None:
        super().__init__(credentials, rest_url=rest_url, **kwargs)
        self.signer = BybitSigner(credentials, recv_window)
        self.ws_url = ws_url.rstrip("/")
        self._pending_fills: dict[str, list[Fill]] = {}

    # -- venue parts -------------------------------------------------------------------------

    def _sign(self, method: str, path: str, params: Mapping[str, object], ts_ms: int) -> SignedRequest:
        return self.signer.sign(method, path, params, ts_ms)

    def _error_fields(self, body: Any) -> tuple[str, str] | None:
        if isinstance(body, dict) and "retCode" in body and body["retCode"] != 0:
            return str(body["retCode"]), str(body.get("retMsg", ""))
        return None

    def _classify(self, status: int, code: str, message: str) -> TradingError:
        if code == "10002":
            return ClockSkew(VENUE, message, code)
        if code in _AUTH or status == 401:
            return AuthenticationFailed(VENUE, message, code)
        if code in ("10006", "10018") or status in (403, 429):
            return RateLimited(VENUE, message, code)
        if code in ("10000", "10016") or status >= 500:
            return AmbiguousOrderState(VENUE, message, code)
        if code in ("170141", "10014") or "duplicate" in message.lower():
            return DuplicateClientId(VENUE, message, code)
        if code in _NOT_FOUND:
            return OrderNotFound(VENUE, message, code)
        return OrderRejected(VENUE, message, code)

    async def _server_time_ms(self) -> int:
        body = await self.public("/v5/market/time")
        return int(body["result"]["timeNano"]) // 1_000_000

    async def _load_markets(self) -> list[MarketInfo]:
        return parse_instruments(await self.public("/v5/market/instruments-info", {"category": "spot"}))

    # -- orders ------------------------------------------------------------------------------

    async def _submit(self, request: OrderRequest, prepared: PreparedOrder | None) -> OrderState:
        assert prepared is not None
        params: dict[str, object] = {
            "category": "spot",
            "symbol": self.venue_symbol(request.symbol),
            "side": "Buy" if request.side is Side.BUY else "Sell",
            "qty": prepared.quantity,
            "orderLinkId": request.client_id,
        }
        if request.order_type is OrderType.MARKET:
            params["orderType"] = "Market"
            params["marketUnit"] = "baseCoin"
        else:
            params["orderType"] = "Limit"
            params["price"] = prepared.price
            params["timeInForce"] = _TIF[request.time_in_force]
        body = await self.signed("POST", "/v5/order/create", params, order_entry=True)
        order_id, ts = str(body["result"].get("orderId", "")), number(body.get("time")) / 1000.0
        return self.accepted(request, prepared.quantity, prepared.price, order_id, ts)

    async def get_order(self, symbol: str, client_id: str) -> OrderState:
        """The order by ``orderLinkId`` (open or recently closed: ``realtime``)."""
        body = await self.signed(
            "GET",
            "/v5/order/realtime",
            {"category": "spot", "symbol": self.venue_symbol(symbol), "orderLinkId": client_id},
        )
        rows = body["result"].get("list") or []
        if not rows:
            raise OrderNotFound(VENUE, f"order {client_id} does not exist", "170213")
        return order_state_from_bybit(rows[0], symbol)

    async def cancel_order(self, symbol: str, client_id: str) -> OrderState:
        """Cancel by ``orderLinkId``; the state after the cancel (a query)."""
        await self.signed(
            "POST",
            "/v5/order/cancel",
            {"category": "spot", "symbol": self.venue_symbol(symbol), "orderLinkId": client_id},
        )
        return await self.get_order(symbol, client_id)

    async def cancel_all(self, symbol: str) -> Sequence[OrderState]:
        """``cancel-all`` of ``symbol``; the states after it."""
        body = await self.signed(
            "POST", "/v5/order/cancel-all", {"category": "spot", "symbol": self.venue_symbol(symbol)}
        )
        return [await self.get_order(symbol, str(o["orderLinkId"])) for o in body["result"].get("list") or []]

    async def open_orders(self, symbol: str | None = None) -> Sequence[OrderState]:
        """``realtime`` open orders."""
        params: dict[str, object] = {"category": "spot"}
        if symbol:
            params["symbol"] = self.venue_symbol(symbol)
        body = await self.signed("GET", "/v5/order/realtime", params)
        rows = body["result"]["list"]
        return [order_state_from_bybit(o, symbol or self.unified_symbol(o["symbol"])) for o in rows]

    def _fill(self, e: Mapping[str, Any], symbol: str) -> Fill:
        return Fill(
            venue=VENUE,
            symbol=symbol,
            order_id=str(e["orderId"]),
            client_id=str(e.get("orderLinkId", "")),
            trade_id=str(e["execId"]),
            side=Side.BUY if e.get("side") == "Buy" else Side.SELL,
            price=number(e["execPrice"]),
            quantity=number(e["execQty"]),
            fee=number(e.get("execFee")),
            fee_asset=str(e.get("feeCurrency", "")),
            ts=number(e.get("execTime")) / 1000.0,
            is_maker=bool(e.get("isMaker")),
        )

    async def recent_fills(self, symbol: str, since: float | None = None) -> Sequence[Fill]:
        """``execution/list`` of ``symbol``."""
        params: dict[str, object] = {"category": "spot", "symbol": self.venue_symbol(symbol)}
        if since is not None:
            params["startTime"] = int(since * 1000)
        body = await self.signed("GET", "/v5/execution/list", params)
        return [self._fill(e, symbol) for e in body["result"]["list"]]

    async def balances(self) -> dict[str, Balance]:
        """Unified wallet: free = wallet balance - locked."""
        body = await self.signed("GET", "/v5/account/wallet-balance", {"accountType": "UNIFIED"})
        out: dict[str, Balance] = {}
        for acct in body["result"]["list"]:
            for c in acct.get("coin", []):
                locked = number(c.get("locked"))
                out[c["coin"]] = Balance(c["coin"], number(c.get("walletBalance")) - locked, locked)
        return out

    async def trading_fees(self, symbols: Sequence[str]) -> dict[str, TradingFee]:
        """``account/fee-rate`` per symbol."""
        out: dict[str, TradingFee] = {}
        for symbol in symbols:
            body = await self.signed(
                "GET", "/v5/account/fee-rate", {"category": "spot", "symbol": self.venue_symbol(symbol)}
            )
            row = body["result"]["list"][0]
            out[symbol] = TradingFee(symbol, number(row["makerFeeRate"]), number(row["takerFeeRate"]))
        return out

    async def networks(self, asset: str) -> Sequence[DepositWithdrawNetwork]:
        """``asset/coin/query-info``: the chains of ``asset`` (an empty fee: not withdrawable)."""
        body = await self.signed("GET", "/v5/asset/coin/query-info", {"coin": asset})
        return [
            DepositWithdrawNetwork(
                asset=asset,
                network=str(ch["chain"]),
                withdraw_fee=number(ch.get("withdrawFee")),
                withdraw_min=number(ch.get("withdrawMin")),
                deposit_enabled=ch.get("chainDeposit") == "1",
                withdraw_enabled=ch.get("chainWithdraw") == "1" and ch.get("withdrawFee") not in (None, ""),
                confirmations=int(number(ch.get("confirmation"))),
            )
            for row in body["result"].get("rows", [])
            if row.get("coin") == asset
            for ch in row.get("chains", [])
        ]

    # -- wallet ------------------------------------------------------------------------------

    supports_withdrawals = True

    async def withdraw(self, asset: str, network: str, amount: float, address: str) -> str:
        """``POST /v5/asset/withdraw/create`` from the funding account; the withdrawal id."""
        params = {
            "coin": asset,
            "chain": network,
            "address": address,
            "amount": amount_text(amount),
            "timestamp": self.now_ms(),
            "forceChain": 1,
            "accountType": "FUND",
        }
        body = await self.signed("POST", "/v5/asset/withdraw/create", params, order_entry=True)
        return str(body["result"]["id"])

    async def withdrawal(self, withdrawal_id: str) -> WalletTransfer:
        """``GET /v5/asset/withdraw/query-record?withdrawID=`` (``success`` done; ``Fail``,
        ``Reject``, ``CancelByUser`` failed)."""
        body = await self.signed("GET", "/v5/asset/withdraw/query-record", {"withdrawID": withdrawal_id})
        for r in body["result"]["rows"]:
            if str(r.get("withdrawId")) == withdrawal_id:
                status = str(r.get("status", ""))
                state = (
                    TransferState.COMPLETED
                    if status in ("success", "BlockchainConfirmed")
                    else TransferState.FAILED
                    if status in ("Fail", "Reject", "CancelByUser", "MoreInformationRequired")
                    else TransferState.PENDING
                )
                return WalletTransfer(
                    VENUE, "withdrawal", withdrawal_id, str(r.get("coin")), str(r.get("chain")),
                    number(r.get("amount")), number(r.get("withdrawFee")), state,
                    str(r.get("toAddress", "")), str(r.get("txID", "")), number(r.get("createTime")) / 1000.0,
                )
        raise OrderNotFound(VENUE, f"no withdrawal {withdrawal_id}")

    async def deposits(self, asset: str | None = None) -> Sequence[WalletTransfer]:
        """``GET /v5/asset/deposit/query-record`` (``status`` 3 = success, 4 failed)."""
        body = await self.signed("GET", "/v5/asset/deposit/query-record", {"coin": asset} if asset else {})
        out = []
        for r in body["result"]["rows"]:
            status = int(number(r.get("status")))
            state = (
                TransferState.COMPLETED
                if status == 3
                else TransferState.FAILED
                if status == 4
                else TransferState.PENDING
            )
            out.append(
                WalletTransfer(
                    VENUE, "deposit", str(r.get("id", "")), str(r.get("coin")), str(r.get("chain")),
                    number(r.get("amount")), number(r.get("depositFee")), state,
                    str(r.get("toAddress", "")), str(r.get("txID", "")), number(r.get("successAt")) / 1000.0,
                )
            )
        return out

    # -- private stream ----------------------------------------------------------------------

    def updates(self) -> AsyncIterator[OrderUpdate]:
        """The ``order`` and ``execution`` topics of ``/v5/private``: executions are held until
        the order change they belong to, then delivered with it."""
        return private_stream(
            VENUE,
            self.ws_url + "/v5/private",
            login=lambda: compact_json({"op": "auth", "args": self.signer.auth_args(self.now_ms() + 10_000)}),
            login_reply=_auth_reply,
            subscribe=[compact_json({"op": "subscribe", "args": ["order", "execution"]})],
            parse=self._parse_push,
            reconcile=self.reconcile_tracked,
        )

    def _parse_push(self, msg: Any) -> list[OrderUpdate]:
        if not isinstance(msg, dict):
            return []
        topic = msg.get("topic")
        if topic == "execution":
            for e in msg.get("data") or []:
                fill = self._fill(e, self.unified_symbol(str(e.get("symbol"))))
                self._pending_fills.setdefault(fill.order_id, []).append(fill)
            return []
        if topic != "order":
            return []
        out = []
        for o in msg.get("data") or []:
            state = order_state_from_bybit(o, self.unified_symbol(str(o.get("symbol"))))
            fills = tuple(self._pending_fills.pop(state.order_id, []))
            self.forget_if_done(state)
            out.append(
                OrderUpdate(state=state, fills=fills, seq=number(o.get("updatedTime")), source="stream")
            )
        return out


def _auth_reply(msg: Any) -> LoginVerdict:
    if isinstance(msg, dict) and msg.get("op") == "auth":
        return True if msg.get("success") else str(msg.get("ret_msg"))
    return None
