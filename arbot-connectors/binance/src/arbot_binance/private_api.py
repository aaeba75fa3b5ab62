"""Binance's private API for the emulator, over :class:`~arbot.testing.emulator.exchange.EmulatedExchange`.

Verifies requests by Binance's rule with its own code (not :mod:`arbot_binance.signing`):
``X-MBX-APIKEY`` names the key; ``signature`` is ``hex(HMAC_SHA256(secret, totalParams))`` where
``totalParams`` is the query string (without ``signature``) followed by the form body; the
``timestamp`` must be within ``recvWindow`` (default 5000 ms) behind and less than 1000 ms ahead
of the server clock. Errors are answered as Binance does (``{"code": -1022, "msg": ...}``).

REST (signed): ``POST/GET/DELETE /api/v3/order``, ``GET/DELETE /api/v3/openOrders``,
``GET /api/v3/allOrders``, ``GET /api/v3/myTrades``, ``GET /api/v3/account``,
``GET /api/v3/account/commission``, ``GET /sapi/v1/capital/config/getall``,
``GET /sapi/v1/account/apiRestrictions``, ``POST /sapi/v1/capital/withdraw/apply`` (keys in
:attr:`BinancePrivateApi.withdraw_keys` only), ``GET /sapi/v1/capital/withdraw/history``,
``GET /sapi/v1/capital/deposit/hisrec`` (an incoming deposit is made in-process with
``exchange.deposit``: it is credited after the network's confirmation delay); (key only)
``POST/PUT/DELETE /api/v3/userDataStream``. WebSocket ``/ws/<listenKey>``: ``executionReport``
and ``outboundAccountPosition`` events.

Wire it into an emulator with a couple of lines: build it with the emulator's books, add
:meth:`BinancePrivateApi.routes` to the routes, hand ``/ws/<listenKey>`` connections to
:meth:`BinancePrivateApi.on_ws_connect`, call :meth:`BinancePrivateApi.on_tick` after each book step.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from aiohttp import web
from arbot.events import Side
from arbot.testing.emulator.exchange import EmulatedExchange
from arbot.testing.emulator.exchange_models import (
    Account,
    AckLost,
    ExchangeEvent,
    ExchangeFill,
    ExchangeRateLimited,
    ExchangeReject,
    ExchangeServerError,
    OrderSnapshot,
    RejectReason,
    TransferStatus,
)
from arbot.testing.emulator.private import (
    AccountBook,
    decimal_str,
    drop_response,
    hmac_sha256,
    pump_events,
    verify_window,
)
from arbot.testing.emulator.scripted import ScriptedBook
from arbot.testing.emulator.server import EmulatorClient
from arbot.trading.types import OrderStatus, OrderType, TimeInForce

__all__ = ["BinancePrivateApi"]

_enc = msgspec.json.encode
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_STATUS = {
    OrderStatus.NEW: "NEW",
    OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELLED: "CANCELED",
    OrderStatus.EXPIRED: "EXPIRED",
    OrderStatus.REJECTED: "REJECTED",
}
_REJECT: dict[RejectReason, tuple[int, str]] = {
    RejectReason.INSUFFICIENT_BALANCE: (-2010, "Account has insufficient balance for requested action."),
    RejectReason.DUPLICATE_CLIENT_ID: (-2010, "Duplicate order sent."),
    RejectReason.POST_ONLY_WOULD_TAKE: (-2010, "Order would immediately match and take."),
    RejectReason.PRICE_FILTER: (-1013, "Filter failure: PRICE_FILTER"),
    RejectReason.LOT_SIZE: (-1013, "Filter failure: LOT_SIZE"),
    RejectReason.MIN_NOTIONAL: (-1013, "Filter failure: NOTIONAL"),
    RejectReason.UNKNOWN_SYMBOL: (-1121, "Invalid symbol."),
    RejectReason.INVALID_REQUEST: (-1102, "Mandatory parameter was not sent, was empty/null, or malformed."),
    RejectReason.NETWORK_UNAVAILABLE: (-4019, "The network is not available."),
    RejectReason.WITHDRAW_MIN: (-4022, "The withdrawal amount is below the minimum."),
}


class _Refused(Exception):
    """An error answer, raised inside a handler."""

    def __init__(self, status: int, code: int, msg: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(msg)
        self.response = web.json_response({"code": code, "msg": msg}, status=status, headers=headers)


def _err(code: int, msg: str, status: int = 400) -> _Refused:
    return _Refused(status, code, msg)


class BinancePrivateApi(AccountBook):
    """Binance's private REST API and user data stream over one emulated exchange.

    ``books`` maps Binance symbols (``BTCUSDT``) to (unified symbol, scripted book); each becomes
    a market with Binance's filters (tick 0.01, step 0.00001, min notional 5, as the
    emulator's ``exchangeInfo`` says).
    """

    def __init__(
        self, books: Mapping[str, tuple[str, ScriptedBook]], exchange: EmulatedExchange | None = None
    ) -> None:
        self.exchange = exchange or EmulatedExchange("binance", client_id_scope="open")
        self._by_venue, self._by_unified = self.add_books(
            books,
            {
                "tick": Decimal("0.01"),
                "step": Decimal("0.00001"),
                "min_qty": Decimal("0.00001"),
                "min_notional": Decimal("5"),
            },
        )
        self.add_networks(
            (
                ("USDT", "TRX", "1", "10"),
                ("USDT", "ETH", "3.2", "20"),
                ("BTC", "BTC", "0.0002", "0.001"),
                ("ETH", "ETH", "0.0012", "0.01"),
            )
        )
        self._listen_keys: dict[str, str] = {}  # listen key -> api key
        #: API keys allowed to withdraw, and keys bound to an IP whitelist
        #: (``/sapi/v1/account/apiRestrictions``); by default a key only trades.
        self.ip_restricted_keys: set[str] = set()

    # -- wiring ------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """The private REST routes."""
        s = self._signed
        return [
            web.post("/api/v3/order", s(self._place)),
            web.get("/api/v3/order", s(self._query)),
            web.delete("/api/v3/order", s(self._cancel)),
            web.get("/api/v3/openOrders", s(self._open_orders)),
            web.delete("/api/v3/openOrders", s(self._cancel_all)),
            web.get("/api/v3/allOrders", s(self._all_orders)),
            web.get("/api/v3/myTrades", s(self._my_trades)),
            web.get("/api/v3/account", s(self._account)),
            web.get("/api/v3/account/commission", s(self._commission)),
            web.get("/sapi/v1/capital/config/getall", s(self._capital_config)),
            web.get("/sapi/v1/account/apiRestrictions", s(self._api_restrictions)),
            web.post("/sapi/v1/capital/withdraw/apply", s(self._withdraw)),
            web.get("/sapi/v1/capital/withdraw/history", s(self._withdraw_history)),
            web.get("/sapi/v1/capital/deposit/hisrec", s(self._deposit_history)),
            web.post("/api/v3/userDataStream", self._listen_key_create),
            web.put("/api/v3/userDataStream", self._listen_key_keepalive),
            web.delete("/api/v3/userDataStream", self._listen_key_keepalive),
        ]

    async def on_ws_connect(self, client: EmulatorClient) -> bool:
        """Serve ``/ws/<listenKey>``; False when the path is not a listen key of this API."""
        path = client.path.split("?", 1)[0]
        if not path.startswith("/ws/"):
            return False
        api_key = self._listen_keys.get(path[4:])
        if api_key is None:
            return False
        feed = self.exchange.subscribe(api_key)

        async def render(event: ExchangeEvent) -> list[bytes]:
            return self._render_events(event)

        client.state["private"] = True
        await pump_events(feed, client, render)
        return True

    # -- authentication ----------------------------------------------------------------------

    def _signed(self, handler: Callable[[Account, dict[str, str]], Awaitable[Any]]) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                account, params = await self._authenticate(request)
                self.exchange.check_request(account.api_key)
                result = await handler(account, params)
            except _Refused as refused:
                return refused.response
            except AckLost:
                return drop_response(request)
            except ExchangeRateLimited as rl:
                return web.json_response(
                    {
                        "code": -1003,
                        "msg": "Too many requests; current limit is 6000 request weight per 1 MINUTE.",
                    },
                    status=429,
                    headers={"Retry-After": str(max(1, round(rl.retry_after)))},
                )
            except ExchangeServerError as se:
                return web.json_response(
                    {
                        "code": -1007,
                        "msg": "Timeout waiting for response from backend server. "
                        "Send status unknown; execution status unknown.",
                    },
                    status=se.status,
                )
            return web.Response(body=_enc(result), content_type="application/json")

        return wrapped

    async def _authenticate(self, request: web.Request) -> tuple[Account, dict[str, str]]:
        key = request.headers.get("X-MBX-APIKEY", "")
        if not key:
            raise _err(-2014, "API-key format invalid.", 401)
        account = self.exchange.accounts.get(key)
        if account is None:
            raise _err(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        raw_query = request.raw_path.partition("?")[2]
        body = (await request.read()).decode()
        query_sig, query_rest = _split_signature(raw_query)
        body_sig, body_rest = _split_signature(body)
        signature = query_sig or body_sig
        if not signature:
            raise _err(-1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
        total = query_rest + body_rest
        if not secrets.compare_digest(hmac_sha256(account.secret, total), signature.lower()):
            raise _err(-1022, "Signature for this request is not valid.")
        params = dict(parse_qsl(query_rest, keep_blank_values=True))
        params.update(parse_qsl(body_rest, keep_blank_values=True))
        try:
            ts = int(params["timestamp"])
            window = int(params.get("recvWindow", "5000"))
        except (KeyError, ValueError):
            raise _err(
                -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
            ) from None
        if window > 60000:
            raise _err(-1131, "recvWindow must be less than 60000")
        verdict = verify_window(ts, self.server_time_ms(), window)
        if verdict == "ahead":
            raise _err(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        if verdict == "behind":
            raise _err(-1021, "Timestamp for this request is outside of the recvWindow.")
        return account, params

    # -- helpers -----------------------------------------------------------------------------

    def _symbol(self, params: Mapping[str, str]) -> str:
        vs = params.get("symbol", "")
        if not vs:
            raise _err(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        unified = self._by_venue.get(vs)
        if unified is None:
            raise _err(-1121, "Invalid symbol.")
        return unified

    def _reject(self, exc: ExchangeReject) -> _Refused:
        code, msg = _REJECT.get(exc.reason, (-1013, exc.detail or exc.reason.value))
        return _err(code, msg)

    def _order_json(
        self,
        o: OrderSnapshot,
        *,
        full: bool = False,
        fills: list[ExchangeFill] | None = None,
        orig_client_id: str | None = None,
    ) -> dict[str, Any]:
        otype = {OrderType.MARKET: "MARKET"}.get(o.order_type, "LIMIT")
        if o.time_in_force is TimeInForce.POST_ONLY:
            otype = "LIMIT_MAKER"
        out: dict[str, Any] = {
            "symbol": self._by_unified[o.symbol],
            "orderId": o.order_id,
            "orderListId": -1,
            "clientOrderId": o.client_id,
            "price": decimal_str(o.price or Decimal(0), 8),
            "origQty": decimal_str(o.qty, 8),
            "executedQty": decimal_str(o.filled, 8),
            "cummulativeQuoteQty": decimal_str(o.filled_quote, 8),
            "status": _STATUS[o.status],
            "timeInForce": "GTC" if o.time_in_force is TimeInForce.POST_ONLY else o.time_in_force.value,
            "type": otype,
            "side": o.side.value,
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }
        if orig_client_id is not None:
            out["origClientOrderId"] = orig_client_id
            out["transactTime"] = int(o.updated * 1000)
        elif full:
            out["transactTime"] = int(o.created * 1000)
            out["workingTime"] = int(o.created * 1000)
            out["fills"] = [
                {
                    "price": decimal_str(f.price, 8),
                    "qty": decimal_str(f.qty, 8),
                    "commission": decimal_str(f.fee, 8),
                    "commissionAsset": f.fee_asset,
                    "tradeId": f.trade_id,
                }
                for f in (fills or [])
            ]
        else:
            out.update(
                stopPrice="0.00000000",
                icebergQty="0.00000000",
                time=int(o.created * 1000),
                updateTime=int(o.updated * 1000),
                isWorking=o.status is not OrderStatus.EXPIRED,
                workingTime=int(o.created * 1000),
                origQuoteOrderQty=decimal_str(o.quote_qty or Decimal(0), 8),
            )
        return out

    def _find(self, account: Account, params: Mapping[str, str], symbol: str) -> dict[str, Any]:
        if params.get("orderId"):
            return {"order_id": int(params["orderId"])}
        if params.get("origClientOrderId"):
            return {"client_id": params["origClientOrderId"]}
        raise _err(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")

    # -- endpoints ---------------------------------------------------------------------------

    async def _place(self, account: Account, p: dict[str, str]) -> dict[str, Any]:
        symbol = self._symbol(p)
        side = {"BUY": Side.BUY, "SELL": Side.SELL}.get(p.get("side", ""))
        if side is None:
            raise _err(-1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.")
        otype = p.get("type", "")
        try:
            qty = Decimal(p["quantity"]) if p.get("quantity") else None
            price = Decimal(p["price"]) if p.get("price") else None
            quote_qty = Decimal(p["quoteOrderQty"]) if p.get("quoteOrderQty") else None
        except InvalidOperation:
            raise _err(-1100, "Illegal characters found in a parameter.") from None
        if otype == "LIMIT":
            tif_text = p.get("timeInForce", "")
            if tif_text not in ("GTC", "IOC", "FOK"):
                raise _err(
                    -1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."
                )
            order_type, tif = OrderType.LIMIT, TimeInForce(tif_text)
        elif otype == "LIMIT_MAKER":
            order_type, tif = OrderType.LIMIT, TimeInForce.POST_ONLY
        elif otype == "MARKET":
            order_type, tif = OrderType.MARKET, TimeInForce.IOC
            if qty is None and quote_qty is None:
                raise _err(
                    -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."
                )
        else:
            raise _err(-1116, "Invalid orderType.")
        cid = p.get("newClientOrderId") or f"x-{secrets.token_hex(10)}"
        if len(cid) > 36:
            raise _err(
                -1100,
                "Illegal characters found in parameter 'newClientOrderId'; legal range is "
                "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
            )
        try:
            snap = self.exchange.place(
                account.api_key,
                symbol,
                side,
                order_type,
                qty=qty,
                price=price,
                quote_qty=quote_qty,
                time_in_force=tif,
                client_id=cid,
            )
        except ExchangeReject as exc:
            raise self._reject(exc) from None
        order = self.exchange.orders[snap.order_id]
        return self._order_json(snap, full=True, fills=[f for f in order.fills if f.ts <= snap.updated])

    async def _query(self, account: Account, p: dict[str, str]) -> dict[str, Any]:
        symbol = self._symbol(p)
        try:
            snap = self.exchange.get_order(account.api_key, symbol, **self._find(account, p, symbol))
        except ExchangeReject:
            raise _err(-2013, "Order does not exist.") from None
        return self._order_json(snap)

    async def _cancel(self, account: Account, p: dict[str, str]) -> dict[str, Any]:
        symbol = self._symbol(p)
        try:
            snap = self.exchange.cancel(account.api_key, symbol, **self._find(account, p, symbol))
        except ExchangeReject:
            raise _err(-2011, "Unknown order sent.") from None
        return self._order_json(snap, orig_client_id=snap.client_id) | {
            "clientOrderId": p.get("newClientOrderId") or secrets.token_hex(11)
        }

    async def _cancel_all(self, account: Account, p: dict[str, str]) -> list[dict[str, Any]]:
        symbol = self._symbol(p)
        done = self.exchange.cancel_all(account.api_key, symbol)
        if not done:
            raise _err(-2011, "Unknown order sent.")
        return [
            self._order_json(o, orig_client_id=o.client_id) | {"clientOrderId": secrets.token_hex(11)}
            for o in done
        ]

    async def _open_orders(self, account: Account, p: dict[str, str]) -> list[dict[str, Any]]:
        symbol = self._symbol(p) if p.get("symbol") else None
        return [self._order_json(o) for o in self.exchange.open_orders(account.api_key, symbol)]

    async def _all_orders(self, account: Account, p: dict[str, str]) -> list[dict[str, Any]]:
        symbol = self._symbol(p)
        return [self._order_json(o) for o in self.exchange.all_orders(account.api_key, symbol)]

    async def _my_trades(self, account: Account, p: dict[str, str]) -> list[dict[str, Any]]:
        symbol = self._symbol(p)
        since = int(p["startTime"]) / 1000.0 if p.get("startTime") else None
        return [
            {
                "symbol": self._by_unified[f.symbol],
                "id": f.trade_id,
                "orderId": f.order_id,
                "orderListId": -1,
                "price": decimal_str(f.price, 8),
                "qty": decimal_str(f.qty, 8),
                "quoteQty": decimal_str(f.quote_qty, 8),
                "commission": decimal_str(f.fee, 8),
                "commissionAsset": f.fee_asset,
                "time": int(f.ts * 1000),
                "isBuyer": f.side is Side.BUY,
                "isMaker": f.is_maker,
                "isBestMatch": True,
            }
            for f in self.exchange.fills(account.api_key, symbol, since)
        ]

    async def _account(self, account: Account, p: dict[str, str]) -> dict[str, Any]:
        tier = account.tier
        balances = self.exchange.balances(account.api_key)
        omit = p.get("omitZeroBalances") == "true"
        return {
            "makerCommission": int(tier.maker * 10000),
            "takerCommission": int(tier.taker * 10000),
            "buyerCommission": 0,
            "sellerCommission": 0,
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "updateTime": self.server_time_ms(),
            "accountType": "SPOT",
            "uid": account.uid,
            "balances": [
                {"asset": a, "free": decimal_str(f, 8), "locked": decimal_str(lk, 8)}
                for a, (f, lk) in balances.items()
                if not (omit and f == 0 and lk == 0)
            ],
            "permissions": ["SPOT"],
        }

    async def _commission(self, account: Account, p: dict[str, str]) -> dict[str, Any]:
        vs = self._by_unified[self._symbol(p)]
        tier = account.tier
        zero = "0.00000000"
        return {
            "symbol": vs,
            "standardCommission": {
                "maker": decimal_str(tier.maker, 8),
                "taker": decimal_str(tier.taker, 8),
                "buyer": zero,
                "seller": zero,
            },
            "taxCommission": {"maker": zero, "taker": zero, "buyer": zero, "seller": zero},
            "discount": {
                "enabledForAccount": False,
                "enabledForSymbol": False,
                "discountAsset": "BNB",
                "discount": "0.75000000",
            },
        }

    async def _capital_config(self, account: Account, p: dict[str, str]) -> list[dict[str, Any]]:
        out = []
        for asset, nets in self.exchange.networks.items():
            free, locked = account.balance(asset)
            out.append(
                {
                    "coin": asset,
                    "depositAllEnable": any(n.deposit_enabled for n in nets),
                    "withdrawAllEnable": any(n.withdraw_enabled for n in nets),
                    "name": asset,
                    "free": decimal_str(free, 8),
                    "locked": decimal_str(locked, 8),
                    "trading": True,
                    "networkList": [
                        {
                            "network": n.network,
                            "coin": asset,
                            "withdrawFee": decimal_str(n.withdraw_fee),
                            "withdrawMin": decimal_str(n.withdraw_min),
                            "withdrawMax": "9999999",
                            "depositEnable": n.deposit_enabled,
                            "withdrawEnable": n.withdraw_enabled,
                            "minConfirm": n.confirmations,
                            "unLockConfirm": n.confirmations,
                            "isDefault": i == 0,
                            "busy": False,
                            "name": n.network,
                            "estimatedArrivalTime": max(1, round(n.confirm_seconds / 60)),
                        }
                        for i, n in enumerate(nets)
                    ],
                }
            )
        return out

    async def _withdraw(self, account: Account, p: dict[str, str]) -> dict[str, Any]:
        if account.api_key not in self.withdraw_keys:
            raise _err(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        try:
            amount = Decimal(p["amount"])
            coin, address = p["coin"], p["address"]
        except (KeyError, InvalidOperation):
            raise _err(-1102, "Mandatory parameter 'coin', 'address' or 'amount' was not sent.") from None
        network = p.get("network") or next((n.network for n in self.exchange.network_list(coin)), "")
        try:
            transfer = self.exchange.withdraw(account.api_key, coin, network, amount, address)
        except ExchangeReject as exc:
            if exc.reason is RejectReason.INSUFFICIENT_BALANCE:
                raise _err(-4026, "User has insufficient balance") from None
            raise self._reject(exc) from None
        return {"id": str(transfer.transfer_id)}

    @staticmethod
    def _when(ts: float) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))

    async def _withdraw_history(self, account: Account, p: dict[str, str]) -> list[dict[str, Any]]:
        out = []
        for t in reversed(self.exchange.transfer_history(account.api_key, "withdrawal")):
            if p.get("coin") and t.asset != p["coin"]:
                continue
            done = t.status is TransferStatus.COMPLETED
            out.append(
                {
                    "id": str(t.transfer_id),
                    "amount": decimal_str(t.amount - t.fee),
                    "transactionFee": decimal_str(t.fee),
                    "coin": t.asset,
                    "status": 6 if done else 4,
                    "address": t.address,
                    "txId": t.txid,
                    "applyTime": self._when(t.created),
                    "network": t.network,
                    "transferType": 0,
                    "info": "",
                    "confirmNo": 1 if done else 0,
                    "walletType": 0,
                    "completeTime": self._when(t.completes_at) if done else "",
                }
            )
        return out

    async def _deposit_history(self, account: Account, p: dict[str, str]) -> list[dict[str, Any]]:
        out = []
        for t in reversed(self.exchange.transfer_history(account.api_key, "deposit")):
            if p.get("coin") and t.asset != p["coin"]:
                continue
            done = t.status is TransferStatus.COMPLETED
            need = next(
                (n.confirmations for n in self.exchange.network_list(t.asset) if n.network == t.network), 1
            )
            out.append(
                {
                    "id": str(t.transfer_id),
                    "amount": decimal_str(t.amount),
                    "coin": t.asset,
                    "network": t.network,
                    "status": 1 if done else 0,
                    "address": t.address,
                    "addressTag": "",
                    "txId": t.txid,
                    "insertTime": int(t.created * 1000),
                    "transferType": 0,
                    "confirmTimes": f"{need if done else 0}/{need}",
                    "unlockConfirm": need,
                    "walletType": 0,
                }
            )
        return out

    async def _api_restrictions(self, account: Account, p: dict[str, str]) -> dict[str, Any]:
        key = account.api_key
        return {
            "ipRestrict": key in self.ip_restricted_keys,
            "createTime": self.server_time_ms(),
            "enableReading": True,
            "enableSpotAndMarginTrading": True,
            "enableWithdrawals": key in self.withdraw_keys,
            "enableInternalTransfer": False,
            "enableMargin": False,
            "enableFutures": False,
            "permitsUniversalTransfer": False,
            "enableVanillaOptions": False,
            "enableFixApiTrade": False,
            "enableFixReadOnly": False,
            "enablePortfolioMarginTrading": False,
        }

    # -- user data stream --------------------------------------------------------------------

    def _key_only(self, request: web.Request) -> str:
        key = request.headers.get("X-MBX-APIKEY", "")
        if not key:
            raise _err(-2014, "API-key format invalid.", 401)
        if key not in self.exchange.accounts:
            raise _err(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        return key

    async def _listen_key_create(self, request: web.Request) -> web.StreamResponse:
        try:
            key = self._key_only(request)
        except _Refused as refused:
            return refused.response
        listen_key = secrets.token_urlsafe(45)[:60]
        self._listen_keys[listen_key] = key
        return web.json_response({"listenKey": listen_key})

    async def _listen_key_keepalive(self, request: web.Request) -> web.StreamResponse:
        try:
            key = self._key_only(request)
        except _Refused as refused:
            return refused.response
        body = dict(parse_qsl((await request.read()).decode()))
        listen_key = request.query.get("listenKey") or body.get("listenKey", "")
        if self._listen_keys.get(listen_key) != key:
            return web.json_response({"code": -1125, "msg": "This listenKey does not exist."}, status=400)
        if request.method == "DELETE":
            del self._listen_keys[listen_key]
        return web.json_response({})

    def _render_events(self, event: ExchangeEvent) -> list[bytes]:
        o, f = event.order, event.fill
        now = self.server_time_ms()
        if f is not None:
            exec_type = "TRADE"
        elif o.status is OrderStatus.NEW and o.seq == 1:
            exec_type = "NEW"
        else:
            exec_type = {OrderStatus.CANCELLED: "CANCELED", OrderStatus.EXPIRED: "EXPIRED"}.get(
                o.status, "NEW"
            )
        cancelled = o.status is OrderStatus.CANCELLED
        report = {
            "e": "executionReport",
            "E": now,
            "s": self._by_unified[o.symbol],
            "c": secrets.token_hex(11) if cancelled else o.client_id,
            "S": o.side.value,
            "o": "MARKET"
            if o.order_type is OrderType.MARKET
            else ("LIMIT_MAKER" if o.time_in_force is TimeInForce.POST_ONLY else "LIMIT"),
            "f": "GTC" if o.time_in_force is TimeInForce.POST_ONLY else o.time_in_force.value,
            "q": decimal_str(o.qty, 8),
            "p": decimal_str(o.price or Decimal(0), 8),
            "P": "0.00000000",
            "F": "0.00000000",
            "g": -1,
            "C": o.client_id if cancelled else "",
            "x": exec_type,
            "X": _STATUS[o.status],
            "r": "NONE",
            "i": o.order_id,
            "l": decimal_str(f.qty if f else Decimal(0), 8),
            "z": decimal_str(o.filled, 8),
            "L": decimal_str(f.price if f else Decimal(0), 8),
            "n": decimal_str(f.fee, 8) if f else "0",
            "N": f.fee_asset if f else None,
            "T": int(o.updated * 1000),
            "t": f.trade_id if f else -1,
            "I": o.seq,
            "w": o.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED),
            "m": bool(f and f.is_maker),
            "M": False,
            "O": int(o.created * 1000),
            "Z": decimal_str(o.filled_quote, 8),
            "Y": decimal_str(f.quote_qty if f else Decimal(0), 8),
            "Q": decimal_str(o.quote_qty or Decimal(0), 8),
            "W": int(o.created * 1000),
            "V": "EXPIRE_MAKER",
        }
        frames = [_enc(report)]
        account = self.exchange.accounts.get(event.api_key)
        if account is not None and (f is not None or exec_type != "TRADE"):
            rules = self.exchange.rules(o.symbol)
            frames.append(
                _enc(
                    {
                        "e": "outboundAccountPosition",
                        "E": now,
                        "u": now,
                        "B": [
                            {
                                "a": a,
                                "f": decimal_str(account.balance(a)[0], 8),
                                "l": decimal_str(account.balance(a)[1], 8),
                            }
                            for a in (rules.base, rules.quote)
                        ],
                    }
                )
            )
        return frames


def _split_signature(text: str) -> tuple[str, str]:
    """(signature value, the text without its ``signature`` parameter)."""
    if not text:
        return "", ""
    parts = text.split("&")
    sig = ""
    rest = []
    for part in parts:
        if part.startswith("signature="):
            sig = part[len("signature=") :]
        else:
            rest.append(part)
    return sig, "&".join(rest)
