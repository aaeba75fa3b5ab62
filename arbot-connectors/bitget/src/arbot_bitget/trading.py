"""Bitget v2 spot trading gateway: signed REST orders, balances, fees, networks and the private
``orders`` channel, on top of :class:`arbot.trading.rest_gateway.RestTradingGateway`.

Venue rules applied here (``shared/exchanges/bitget.md`` §7): ``orderType`` ``limit``/``market``
with ``force`` ``gtc``/``ioc``/``fok``/``post_only``; a market **buy**'s ``size`` is the quote
amount (so it needs a reference price: ``quantity * price``); client ids in ``clientOid``;
errors are ``{"code", "msg"}`` bodies (HTTP 400); 40008/40004 (timestamp expired) are a clock
skew; 40010/45001 and 5xx are ambiguous. The place answer is an ack (``orderId``).
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
from arbot.trading.precision import PreparedOrder, quote_size_text
from arbot.trading.private_stream import private_stream
from arbot.trading.rest_gateway import RestTradingGateway
from arbot.trading.signing import ApiCredentials, SignedRequest, compact_json
from arbot.trading.stream_login import op_login_reply
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

from arbot_bitget.markets import parse_products
from arbot_bitget.signing import BitgetSigner

__all__ = ["BitgetTradingGateway", "order_state_from_bitget"]

VENUE = "bitget"
_STATUS = {
    "init": OrderStatus.PENDING_NEW,
    "new": OrderStatus.NEW,
    "live": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "partial_fill": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "full_fill": OrderStatus.FILLED,
    "cancelled": OrderStatus.CANCELLED,
    "canceled": OrderStatus.CANCELLED,
}
_AUTH = {"40001", "40002", "40003", "40006", "40009", "40011", "40012", "40037"}
_SIDE = {Side.BUY: "buy", Side.SELL: "sell"}
_FORCE = {
    TimeInForce.GTC: "gtc",
    TimeInForce.IOC: "ioc",
    TimeInForce.FOK: "fok",
    TimeInForce.POST_ONLY: "post_only",
}


def order_state_from_bitget(raw: Mapping[str, Any], symbol: str) -> OrderState:
    """An order record (orderInfo, unfilled, ``orders`` push) as an OrderState."""
    filled = number(raw.get("accBaseVolume") or raw.get("baseVolume"))
    quote = number(raw.get("quoteVolume"))
    avg = number(raw.get("priceAvg"))
    return OrderState(
        venue=VENUE,
        symbol=symbol,
        order_id=str(raw.get("orderId", "")),
        client_id=str(raw.get("clientOid", "")),
        status=_STATUS.get(str(raw.get("status")), OrderStatus.UNKNOWN),
        side=Side.BUY if raw.get("side") == "buy" else Side.SELL,
        quantity=number(raw.get("size")),
        filled=filled,
        price=number(raw.get("price")) or None,
        average_price=(avg or quote / filled) if filled > 0 else None,
        ts=number(raw.get("uTime") or raw.get("cTime")) / 1000.0,
    )


class BitgetTradingGateway(RestTradingGateway):
    """Bitget spot private API (see the module docstring). ``ws_url`` is the WebSocket base
    (``wss://ws.bitget.com``); the private stream is ``<ws_url>/v2/ws/private``."""

    venue = VENUE
    client_id_max_len = 32
    #: 20 requests/s per endpoint, place-order 10/s per UID (``shared/exchanges/bitget.md`` §6).
    rate_limit = {
        "type": "per_endpoint",
        "default_limit": 20,
        "window": 1.0,
        "limits": {"/api/v2/spot/trade/place-order": 10},
    }

    def __init__(
        self,
        credentials: ApiCredentials,
        *,
        rest_url: str = "https://api.bitget.com",
        ws_url: str = "wss://ws.bitget.com",
        **kwargs: Any,
    ) -> None:
        super().__init__(credentials, rest_url=rest_url, **kwargs)
        self.signer = BitgetSigner(credentials)
        self.ws_url = ws_url.rstrip("/")

    # -- venue parts -------------------------------------------------------------------------

    def _sign(self, method: str, path: str, params: Mapping[str, object], ts_ms: int) -> SignedRequest:
        return self.signer.sign(method, path, params, ts_ms)

    def _error_fields(self, body: Any) -> tuple[str, str] | None:
        if isinstance(body, dict) and "code" in body and str(body["code"]) != "00000":
            return str(body["code"]), str(body.get("msg", ""))
        return None

    def _classify(self, status: int, code: str, message: str) -> TradingError:
        if code in ("40008", "40004"):
            return ClockSkew(VENUE, message, code)
        if code in _AUTH or status == 401:
            return AuthenticationFailed(VENUE, message, code)
        if code == "429" or status == 429:
            return RateLimited(VENUE, message, code)
        if code in ("40010", "45001") or status >= 500:
            return AmbiguousOrderState(VENUE, message, code)
        if "duplicate" in message.lower():
            return DuplicateClientId(VENUE, message, code)
        if code in ("43001", "40768"):
            return OrderNotFound(VENUE, message, code)
        return OrderRejected(VENUE, message, code)

    async def _server_time_ms(self) -> int:
        body = await self.public("/api/v2/public/time")
        return int(body["data"]["serverTime"])

    async def _load_markets(self) -> list[MarketInfo]:
        return parse_products(await self.public("/api/v2/spot/public/symbols"))

    # -- orders ------------------------------------------------------------------------------

    async def _submit(self, request: OrderRequest, prepared: PreparedOrder | None) -> OrderState:
        assert prepared is not None
        params: dict[str, object] = {
            "symbol": self.venue_symbol(request.symbol),
            "side": _SIDE[request.side],
            "clientOid": request.client_id,
        }
        if request.order_type is OrderType.MARKET:
            size = prepared.quantity
            if request.side is Side.BUY:
                if request.price is None:
                    raise OrderRejected(
                        VENUE, "a Bitget market buy is sized in quote: give a reference price", "local"
                    )
                size = quote_size_text(prepared.quantity, request.price)
            params["orderType"] = "market"
            params["size"] = size
        else:
            params["orderType"] = "limit"
            params["force"] = _FORCE[request.time_in_force]
            params["price"] = prepared.price
            params["size"] = prepared.quantity
        body = await self.signed("POST", "/api/v2/spot/trade/place-order", params, order_entry=True)
        order_id, ts = str(body["data"].get("orderId", "")), number(body.get("requestTime")) / 1000.0
        return self.accepted(request, prepared.quantity, prepared.price, order_id, ts)

    async def get_order(self, symbol: str, client_id: str) -> OrderState:
        """The order by ``clientOid``."""
        body = await self.signed("GET", "/api/v2/spot/trade/orderInfo", {"clientOid": client_id})
        if not body.get("data"):
            raise OrderNotFound(VENUE, f"order {client_id} does not exist", "43001")
        return order_state_from_bitget(body["data"][0], symbol)

    async def cancel_order(self, symbol: str, client_id: str) -> OrderState:
        """Cancel by ``clientOid``; the state after the cancel (a query)."""
        params = {"symbol": self.venue_symbol(symbol), "clientOid": client_id}
        await self.signed("POST", "/api/v2/spot/trade/cancel-order", params)
        return await self.get_order(symbol, client_id)

    async def cancel_all(self, symbol: str) -> Sequence[OrderState]:
        """``cancel-symbol-order``; the states of the orders that were open."""
        pending = await self.open_orders(symbol)
        params = {"symbol": self.venue_symbol(symbol)}
        await self.signed("POST", "/api/v2/spot/trade/cancel-symbol-order", params)
        return [await self.get_order(symbol, o.client_id) for o in pending]

    async def open_orders(self, symbol: str | None = None) -> Sequence[OrderState]:
        """``unfilled-orders``."""
        params = {"symbol": self.venue_symbol(symbol)} if symbol else {}
        body = await self.signed("GET", "/api/v2/spot/trade/unfilled-orders", params)
        return [order_state_from_bitget(o, symbol or self.unified_symbol(o["symbol"])) for o in body["data"]]

    async def recent_fills(self, symbol: str, since: float | None = None) -> Sequence[Fill]:
        """``trade/fills`` of ``symbol`` (Bitget's negative fees returned positive)."""
        params: dict[str, object] = {"symbol": self.venue_symbol(symbol)}
        if since is not None:
            params["startTime"] = str(int(since * 1000))
        body = await self.signed("GET", "/api/v2/spot/trade/fills", params)
        return [
            Fill(
                venue=VENUE,
                symbol=symbol,
                order_id=str(f["orderId"]),
                client_id="",
                trade_id=str(f["tradeId"]),
                side=Side.BUY if f.get("side") == "buy" else Side.SELL,
                price=number(f["priceAvg"]),
                quantity=number(f["size"]),
                fee=-number((f.get("feeDetail") or {}).get("totalFee")),
                fee_asset=str((f.get("feeDetail") or {}).get("feeCoin", "")),
                ts=number(f.get("cTime")) / 1000.0,
                is_maker=f.get("tradeScope") == "maker",
            )
            for f in body["data"]
        ]

    async def balances(self) -> dict[str, Balance]:
        """``account/assets``: available and frozen (+ locked) per coin."""
        body = await self.signed("GET", "/api/v2/spot/account/assets")
        return {
            a["coin"]: Balance(
                a["coin"], number(a.get("available")), number(a.get("frozen")) + number(a.get("locked"))
            )
            for a in body["data"]
        }

    async def trading_fees(self, symbols: Sequence[str]) -> dict[str, TradingFee]:
        """``common/trade-rate`` per symbol."""
        out: dict[str, TradingFee] = {}
        for symbol in symbols:
            params = {"symbol": self.venue_symbol(symbol), "businessType": "spot"}
            body = await self.signed("GET", "/api/v2/common/trade-rate", params)
            out[symbol] = TradingFee(
                symbol, number(body["data"]["makerFeeRate"]), number(body["data"]["takerFeeRate"])
            )
        return out

    async def networks(self, asset: str) -> Sequence[DepositWithdrawNetwork]:
        """``spot/public/coins``: the chains of ``asset``."""
        body = await self.public("/api/v2/spot/public/coins", {"coin": asset})
        return [
            DepositWithdrawNetwork(
                asset=asset,
                network=str(ch["chain"]),
                withdraw_fee=number(ch.get("withdrawFee")),
                withdraw_min=number(ch.get("minWithdrawAmount")),
                deposit_enabled=ch.get("rechargeable") == "true",
                withdraw_enabled=ch.get("withdrawable") == "true",
                confirmations=int(number(ch.get("depositConfirm"))),
            )
            for coin in body["data"]
            if coin.get("coin") == asset
            for ch in coin.get("chains", [])
        ]

    # -- wallet ------------------------------------------------------------------------------

    supports_withdrawals = True

    @staticmethod
    def _transfer(kind: str, r: Mapping[str, Any]) -> WalletTransfer:
        """A ``wallet/withdrawal-records`` / ``deposit-records`` entry (``success`` done;
        ``fail``, ``reject``, ``pending_review_fail`` failed)."""
        status = str(r.get("status", ""))
        state = (
            TransferState.COMPLETED
            if status == "success"
            else TransferState.FAILED
            if status in ("fail", "reject", "pending_review_fail")
            else TransferState.PENDING
        )
        return WalletTransfer(
            VENUE, kind, str(r.get("orderId", "")), str(r.get("coin", "")), str(r.get("chain", "")),
            number(r.get("size")), number(r.get("fee")), state, str(r.get("toAddress", "")),
            str(r.get("tradeId", "")), number(r.get("cTime")) / 1000.0,
        )

    def _window(self) -> dict[str, object]:
        """The records' required time window: the last 90 days (Bitget's maximum)."""
        now = self.now_ms()
        return {"startTime": now - 90 * 86_400_000, "endTime": now + 60_000}

    async def withdraw(self, asset: str, network: str, amount: float, address: str) -> str:
        """``POST /api/v2/spot/wallet/withdrawal`` on chain; the ``orderId``."""
        params = {
            "coin": asset,
            "transferType": "on_chain",
            "address": address,
            "chain": network,
            "size": amount_text(amount),
        }
        body = await self.signed("POST", "/api/v2/spot/wallet/withdrawal", params, order_entry=True)
        return str(body["data"]["orderId"])

    async def withdrawal(self, withdrawal_id: str) -> WalletTransfer:
        """``GET /api/v2/spot/wallet/withdrawal-records?orderId=``."""
        params = {**self._window(), "orderId": withdrawal_id}
        body = await self.signed("GET", "/api/v2/spot/wallet/withdrawal-records", params)
        for r in body["data"] or []:
            if str(r.get("orderId")) == withdrawal_id:
                return self._transfer("withdrawal", r)
        raise OrderNotFound(VENUE, f"no withdrawal {withdrawal_id}")

    async def deposits(self, asset: str | None = None) -> Sequence[WalletTransfer]:
        """``GET /api/v2/spot/wallet/deposit-records`` (the last 90 days)."""
        params = {**self._window(), **({"coin": asset} if asset else {})}
        body = await self.signed("GET", "/api/v2/spot/wallet/deposit-records", params)
        return [self._transfer("deposit", r) for r in body["data"] or []]

    # -- private stream ----------------------------------------------------------------------

    def updates(self) -> AsyncIterator[OrderUpdate]:
        """The ``orders`` channel (SPOT) of ``/v2/ws/private``, with login, reconnect and a REST
        reconcile after each reconnect."""
        return private_stream(
            VENUE,
            self.ws_url + "/v2/ws/private",
            login=lambda: compact_json(
                {"op": "login", "args": [self.signer.login_args(self.now_ms() // 1000)]}
            ),
            login_reply=op_login_reply,
            subscribe=[
                compact_json(
                    {
                        "op": "subscribe",
                        "args": [{"instType": "SPOT", "channel": "orders", "instId": "default"}],
                    }
                )
            ],
            parse=self._parse_push,
            reconcile=self.reconcile_tracked,
        )

    def _parse_push(self, msg: Any) -> list[OrderUpdate]:
        if (
            not isinstance(msg, dict)
            or (msg.get("arg") or {}).get("channel") != "orders"
            or "data" not in msg
        ):
            return []
        out = []
        for o in msg["data"]:
            symbol = self.unified_symbol(str(o.get("instId") or o.get("symbol")))
            state = order_state_from_bitget(o, symbol)
            fills: tuple[Fill, ...] = ()
            if o.get("tradeId"):
                fills = (
                    Fill(
                        venue=VENUE,
                        symbol=symbol,
                        order_id=state.order_id,
                        client_id=state.client_id,
                        trade_id=str(o["tradeId"]),
                        side=state.side,
                        price=number(o.get("fillPrice")),
                        quantity=number(o.get("baseVolume")),
                        fee=-number(o.get("fillFee")),
                        fee_asset=str(o.get("fillFeeCoin", "")),
                        ts=number(o.get("fillTime")) / 1000.0,
                        is_maker=o.get("tradeScope") == "M",
                    ),
                )
            self.forget_if_done(state)
            out.append(OrderUpdate(state=state, fills=fills, seq=number(o.get("uTime")), source="stream"))
        return out
