"""Bybit v5's private API for the emulator, over :class:`~arbot.testing.emulator.exchange.EmulatedExchange`.

Verifies requests by Bybit's rule with its own code (not :mod:`arbot_bybit.signing`):
``X-BAPI-SIGN = hex(HMAC_SHA256(secret, timestamp + apiKey + recvWindow + payload))`` where the
payload is the raw query string (GET) or the raw JSON body (POST); the timestamp must satisfy
``server - recvWindow <= timestamp < server + 1000`` (else retCode 10002). Answers use Bybit's
envelope ``{"retCode", "retMsg", "result", "retExtInfo", "time"}`` with HTTP 200 (10003 for an
unknown key, 10004 for a bad signature), HTTP 429 with ``Retry-After`` for the rate-limit fault.

REST: ``POST /v5/order/create``, ``/v5/order/cancel``, ``/v5/order/cancel-all``; ``GET
/v5/order/realtime``, ``/v5/order/history``, ``/v5/execution/list``,
``/v5/account/wallet-balance``, ``/v5/account/fee-rate``, ``/v5/asset/coin/query-info``.
WebSocket ``/v5/private``: ``auth`` (``hex(HMAC(secret, "GET/realtime" + expires))``), topics
``order`` and ``execution`` (an execution is pushed before the order change it causes).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

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
    WithdrawForbidden,
    decimal_str,
    drop_response,
    hmac_sha256,
    pump_events,
    verify_window,
)
from arbot.testing.emulator.scripted import ScriptedBook
from arbot.testing.emulator.server import EmulatorClient
from arbot.trading.types import OrderStatus, OrderType, TimeInForce

__all__ = ["BybitPrivateApi"]

_enc = msgspec.json.encode
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_TIF = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "PostOnly": TimeInForce.POST_ONLY,
}
_REJECT: dict[RejectReason, tuple[int, str]] = {
    RejectReason.INSUFFICIENT_BALANCE: (170131, "Insufficient balance."),
    RejectReason.DUPLICATE_CLIENT_ID: (170141, "Duplicate clientOrderId"),
    RejectReason.PRICE_FILTER: (170134, "Order price decimal too long."),
    RejectReason.LOT_SIZE: (170137, "Order quantity decimal too long."),
    RejectReason.MIN_NOTIONAL: (170140, "Order value exceeded lower limit."),
    RejectReason.UNKNOWN_SYMBOL: (170121, "Invalid symbol."),
    RejectReason.INVALID_REQUEST: (10001, "params error"),
}


def _status(o: OrderSnapshot) -> str:
    if o.status is OrderStatus.NEW:
        return "New"
    if o.status is OrderStatus.PARTIALLY_FILLED:
        return "PartiallyFilled"
    if o.status is OrderStatus.FILLED:
        return "Filled"
    if o.status is OrderStatus.REJECTED:
        return "Rejected"
    return "PartiallyFilledCanceled" if o.filled > 0 else "Cancelled"


class _Refused(Exception):
    def __init__(
        self, code: int, msg: str, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(msg)
        body = {
            "retCode": code,
            "retMsg": msg,
            "result": {},
            "retExtInfo": {},
            "time": int(time.time() * 1000),
        }
        self.response = web.json_response(body, status=status, headers=headers)


class BybitPrivateApi(AccountBook):
    """Bybit's private REST API and private WebSocket over one emulated exchange.

    ``books`` maps Bybit symbols (``BTCUSDT``) to (unified symbol, scripted book); markets get
    the emulator's instrument rules (tick 0.01, base precision 0.000001, min qty 0.000048, min
    amount 1). ``orderLinkId`` is unique per account among all orders; a post-only order that
    would take is accepted and cancelled, as Bybit does.
    """

    def __init__(
        self,
        books: Mapping[str, tuple[str, ScriptedBook]],
        spawn: Callable[[Coroutine[Any, Any, None]], object],
        exchange: EmulatedExchange | None = None,
    ) -> None:
        self.exchange = exchange or EmulatedExchange("bybit", client_id_scope="all", post_only_expires=True)
        self.spawn = spawn
        self._by_venue, self._by_unified = self.add_books(
            books,
            {
                "tick": Decimal("0.01"),
                "step": Decimal("0.000001"),
                "min_qty": Decimal("0.000048"),
                "min_notional": Decimal("1"),
            },
        )
        self.add_networks(
            (
                ("USDT", "TRX", "1", "10"),
                ("USDT", "ETH", "3", "20"),
                ("BTC", "BTC", "0.0002", "0.001"),
            )
        )

    # -- REST --------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """The private REST routes."""
        s = self._signed
        return [
            web.post("/v5/order/create", s(self._create)),
            web.post("/v5/order/cancel", s(self._cancel)),
            web.post("/v5/order/cancel-all", s(self._cancel_all)),
            web.get("/v5/order/realtime", s(self._realtime)),
            web.get("/v5/order/history", s(self._history)),
            web.get("/v5/execution/list", s(self._executions)),
            web.get("/v5/account/wallet-balance", s(self._wallet)),
            web.get("/v5/account/fee-rate", s(self._fee_rate)),
            web.get("/v5/asset/coin/query-info", s(self._coin_info)),
            web.post("/v5/asset/withdraw/create", s(self._withdraw)),
            web.get("/v5/asset/withdraw/query-record", s(self._withdraw_records)),
            web.get("/v5/asset/deposit/query-record", s(self._deposit_records)),
        ]

    # -- wallet ------------------------------------------------------------------------------

    _WITHDRAW_REFUSED: ClassVar[dict[RejectReason, tuple[int, str]]] = {
        RejectReason.WITHDRAW_MIN: (131215, "Amount error: less than the minimum withdrawal amount"),
        RejectReason.INSUFFICIENT_BALANCE: (131212, "Insufficient balance"),
        RejectReason.NETWORK_UNAVAILABLE: (131002, "chain not supported for withdrawal"),
        RejectReason.INVALID_REQUEST: (10001, "params error"),
    }

    async def _withdraw(self, account: Account, p: Any) -> Any:
        try:
            asset, amount, chain = str(p["coin"]), Decimal(str(p["amount"])), str(p["chain"])
        except (KeyError, InvalidOperation, TypeError):
            raise _Refused(10001, "params error: coin, chain, amount") from None
        try:
            t = self.withdraw_for(account, asset, chain, amount, str(p.get("address", "")))
        except WithdrawForbidden:
            raise _Refused(10005, "Permission denied, please check your API key permissions.") from None
        except ExchangeReject as exc:
            raise _Refused(*self._WITHDRAW_REFUSED.get(exc.reason, (10001, exc.reason.value))) from None
        return {"id": str(t.transfer_id)}

    async def _withdraw_records(self, account: Account, p: Any) -> Any:
        rows = [
            {
                "withdrawId": str(t.transfer_id),
                "coin": t.asset,
                "chain": t.network,
                "amount": decimal_str(t.amount),
                "withdrawFee": decimal_str(t.fee),
                "status": "success" if t.status is TransferStatus.COMPLETED else "Pending",
                "toAddress": t.address,
                "tag": "",
                "txID": t.txid,
                "createTime": str(int(t.created * 1000)),
                "updateTime": str(int(t.created * 1000)),
                "withdrawType": 0,
            }
            for t in self.transfers_of(account, "withdrawal", p.get("coin"))
            if not p.get("withdrawID") or str(t.transfer_id) == p["withdrawID"]
        ]
        return {"rows": rows, "nextPageCursor": ""}

    async def _deposit_records(self, account: Account, p: Any) -> Any:
        rows = [
            {
                "id": str(t.transfer_id),
                "coin": t.asset,
                "chain": t.network,
                "amount": decimal_str(t.amount),
                "txID": t.txid,
                "status": 3 if t.status is TransferStatus.COMPLETED else 1,
                "toAddress": t.address,
                "tag": "",
                "depositFee": "",
                "successAt": str(int(t.completes_at * 1000)),
                "confirmations": "1",
                "depositType": 0,
            }
            for t in self.transfers_of(account, "deposit", p.get("coin"))
        ]
        return {"rows": rows, "nextPageCursor": ""}

    def _signed(self, handler: Callable[[Account, Any], Awaitable[Any]]) -> Handler:
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
                return _Refused(10006, "Too many visits!", 429, {"Retry-After": str(rl.retry_after)}).response
            except ExchangeServerError as se:
                return _Refused(10016, "Server error.", se.status).response
            body = {
                "retCode": 0,
                "retMsg": "OK",
                "result": result,
                "retExtInfo": {},
                "time": self.server_time_ms(),
            }
            return web.Response(body=_enc(body), content_type="application/json")

        return wrapped

    async def _authenticate(self, request: web.Request) -> tuple[Account, Any]:
        h = request.headers
        key, ts_text, sign = (
            h.get("X-BAPI-API-KEY", ""),
            h.get("X-BAPI-TIMESTAMP", ""),
            h.get("X-BAPI-SIGN", ""),
        )
        window_text = h.get("X-BAPI-RECV-WINDOW", "5000")
        if not key or not ts_text or not sign:
            raise _Refused(
                10003, "API key is invalid." if not key else "params error: missing sign or timestamp"
            )
        account = self.exchange.accounts.get(key)
        if account is None:
            raise _Refused(10003, "API key is invalid.")
        try:
            ts, window = int(ts_text), int(window_text)
        except ValueError:
            raise _Refused(10001, "params error: timestamp or recv_window") from None
        server = self.server_time_ms()
        if verify_window(ts, server, window) is not None:
            raise _Refused(
                10002,
                f"invalid request, please check your server timestamp or recv_window param. "
                f"req_timestamp[{ts}],server_timestamp[{server}],recv_window[{window}]",
            )
        payload = (
            request.raw_path.partition("?")[2] if request.method == "GET" else (await request.read()).decode()
        )
        origin = f"{ts_text}{key}{window_text}{payload}"
        if not secrets.compare_digest(hmac_sha256(account.secret, origin), sign):
            raise _Refused(10004, f"error sign! origin_string[{origin}]")
        if request.method == "GET":
            return account, dict(request.query)
        try:
            return account, msgspec.json.decode(payload) if payload else {}
        except msgspec.DecodeError:
            raise _Refused(10001, "params error: body is not json") from None

    # -- rendering ---------------------------------------------------------------------------

    def _order(self, o: OrderSnapshot) -> dict[str, Any]:
        tif = {TimeInForce.POST_ONLY: "PostOnly"}.get(o.time_in_force, o.time_in_force.value)
        return {
            "orderId": str(o.order_id),
            "orderLinkId": o.client_id,
            "symbol": self._by_unified[o.symbol],
            "price": decimal_str(o.price) if o.price is not None else "0",
            "qty": decimal_str(o.qty),
            "side": "Buy" if o.side is Side.BUY else "Sell",
            "orderStatus": _status(o),
            "timeInForce": tif,
            "orderType": "Market" if o.order_type is OrderType.MARKET else "Limit",
            "avgPrice": decimal_str(o.average_price) if o.average_price else "",
            "leavesQty": decimal_str(
                o.remaining if o.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED) else Decimal(0)
            ),
            "cumExecQty": decimal_str(o.filled),
            "cumExecValue": decimal_str(o.filled_quote),
            "cumExecFee": decimal_str(o.fee),
            "createdTime": str(int(o.created * 1000)),
            "updatedTime": str(int(o.updated * 1000)),
            "rejectReason": "EC_NoError",
            "category": "spot",
            "marketUnit": "quoteCoin" if o.quote_qty is not None else "baseCoin",
            "isLeverage": "0",
        }

    def _execution(self, f: ExchangeFill) -> dict[str, Any]:
        return {
            "category": "spot",
            "symbol": self._by_unified[f.symbol],
            "orderId": str(f.order_id),
            "orderLinkId": f.client_id,
            "side": "Buy" if f.side is Side.BUY else "Sell",
            "execId": str(f.trade_id),
            "execPrice": decimal_str(f.price),
            "execQty": decimal_str(f.qty),
            "execValue": decimal_str(f.quote_qty),
            "execFee": decimal_str(f.fee),
            "feeCurrency": f.fee_asset,
            "execType": "Trade",
            "isMaker": f.is_maker,
            "execTime": str(int(f.ts * 1000)),
        }

    # -- endpoints ---------------------------------------------------------------------------

    def _symbol(self, p: Mapping[str, Any]) -> str:
        if p.get("category") != "spot":
            raise _Refused(10001, "params error: category only support spot")
        unified = self._by_venue.get(str(p.get("symbol", "")))
        if unified is None:
            raise _Refused(170121, "Invalid symbol.")
        return unified

    async def _create(self, account: Account, p: Any) -> dict[str, Any]:
        symbol = self._symbol(p)
        side = {"Buy": Side.BUY, "Sell": Side.SELL}.get(str(p.get("side")))
        otype = str(p.get("orderType"))
        cid = str(p.get("orderLinkId") or "")
        if side is None or otype not in ("Limit", "Market") or len(cid) > 36:
            raise _Refused(10001, "params error: side, orderType or orderLinkId")
        try:
            size = Decimal(str(p["qty"]))
            price = Decimal(str(p["price"])) if otype == "Limit" else None
        except (KeyError, InvalidOperation):
            raise _Refused(10001, "params error: qty or price") from None
        qty: Decimal | None = size
        quote_qty: Decimal | None = None
        if otype == "Market":
            order_type, tif = OrderType.MARKET, TimeInForce.IOC
            if side is Side.BUY and p.get("marketUnit", "quoteCoin") == "quoteCoin":
                qty, quote_qty = None, size
        else:
            order_type = OrderType.LIMIT
            tif = _TIF.get(str(p.get("timeInForce", "GTC")), TimeInForce.GTC)
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
                client_id=cid or None,
            )
        except ExchangeReject as exc:
            code, msg = _REJECT.get(exc.reason, (10001, exc.reason.value))
            raise _Refused(code, msg) from None
        return {"orderId": str(snap.order_id), "orderLinkId": snap.client_id}

    def _find_args(self, p: Mapping[str, Any]) -> dict[str, Any]:
        if p.get("orderId"):
            return {"order_id": int(str(p["orderId"]))}
        return {"client_id": str(p.get("orderLinkId", ""))}

    async def _cancel(self, account: Account, p: Any) -> dict[str, Any]:
        symbol = self._symbol(p)
        try:
            snap = self.exchange.cancel(account.api_key, symbol, **self._find_args(p))
        except (ExchangeReject, ValueError):
            raise _Refused(170213, "Order does not exist.") from None
        return {"orderId": str(snap.order_id), "orderLinkId": snap.client_id}

    async def _cancel_all(self, account: Account, p: Any) -> dict[str, Any]:
        symbol = self._symbol(p)
        done = self.exchange.cancel_all(account.api_key, symbol)
        return {
            "list": [{"orderId": str(o.order_id), "orderLinkId": o.client_id} for o in done],
            "success": "1",
        }

    async def _realtime(self, account: Account, p: Any) -> dict[str, Any]:
        symbol = self._symbol(p) if p.get("symbol") else None
        if p.get("orderId") or p.get("orderLinkId"):
            try:
                orders = [self.exchange.get_order(account.api_key, symbol, **self._find_args(p))]
            except (ExchangeReject, ValueError):
                orders = []
        else:
            orders = list(reversed(self.exchange.open_orders(account.api_key, symbol)))
        return {"category": "spot", "list": [self._order(o) for o in orders], "nextPageCursor": ""}

    async def _history(self, account: Account, p: Any) -> dict[str, Any]:
        symbol = self._symbol(p) if p.get("symbol") else None
        orders = [
            o
            for o in reversed(self.exchange.all_orders(account.api_key, symbol))
            if o.status not in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
        ]
        if p.get("orderId") or p.get("orderLinkId"):
            want = self._find_args(p)
            orders = [
                o
                for o in orders
                if o.order_id == want.get("order_id") or o.client_id == want.get("client_id")
            ]
        return {"category": "spot", "list": [self._order(o) for o in orders], "nextPageCursor": ""}

    async def _executions(self, account: Account, p: Any) -> dict[str, Any]:
        symbol = self._symbol(p) if p.get("symbol") else None
        since = int(p["startTime"]) / 1000.0 if p.get("startTime") else None
        fills = reversed(self.exchange.fills(account.api_key, symbol, since))
        return {"category": "spot", "list": [self._execution(f) for f in fills], "nextPageCursor": ""}

    async def _wallet(self, account: Account, p: Any) -> dict[str, Any]:
        if p.get("accountType") != "UNIFIED":
            raise _Refused(10001, "accountType only support UNIFIED.")
        coins = [
            {
                "coin": a,
                "walletBalance": decimal_str(f + lk),
                "locked": decimal_str(lk),
                "equity": decimal_str(f + lk),
                "usdValue": "0",
                "free": "",
                "availableToWithdraw": decimal_str(f),
                "borrowAmount": "0",
            }
            for a, (f, lk) in self.exchange.balances(account.api_key).items()
        ]
        return {"list": [{"accountType": "UNIFIED", "totalEquity": "0", "coin": coins}]}

    async def _fee_rate(self, account: Account, p: Any) -> dict[str, Any]:
        symbol = self._symbol(p)
        tier = account.tier
        return {
            "list": [
                {
                    "symbol": self._by_unified[symbol],
                    "baseCoin": "",
                    "makerFeeRate": decimal_str(tier.maker),
                    "takerFeeRate": decimal_str(tier.taker),
                }
            ]
        }

    async def _coin_info(self, account: Account, p: Any) -> dict[str, Any]:
        wanted = p.get("coin")
        rows = [
            {
                "coin": asset,
                "name": asset,
                "remainAmount": "9999999",
                "chains": [
                    {
                        "chain": n.network,
                        "chainType": n.network,
                        "confirmation": str(n.confirmations),
                        "withdrawFee": decimal_str(n.withdraw_fee),
                        "depositMin": "0",
                        "withdrawMin": decimal_str(n.withdraw_min),
                        "minAccuracy": "8",
                        "chainDeposit": "1" if n.deposit_enabled else "0",
                        "chainWithdraw": "1" if n.withdraw_enabled else "0",
                        "withdrawPercentageFee": "0",
                    }
                    for n in nets
                ],
            }
            for asset, nets in self.exchange.networks.items()
            if not wanted or asset == wanted
        ]
        return {"rows": rows}

    # -- private WebSocket -------------------------------------------------------------------

    async def on_ws_message(self, client: EmulatorClient, message: str | bytes) -> None:
        """``ping``, ``auth`` and ``subscribe`` on ``/v5/private``."""
        try:
            req = msgspec.json.decode(message)
        except msgspec.DecodeError:
            await client.send(_enc({"success": False, "ret_msg": "Invalid request", "op": ""}))
            return
        op = req.get("op") if isinstance(req, dict) else None
        if op == "ping":
            await client.send(_enc({"success": True, "ret_msg": "pong", "op": "ping", "conn_id": "p"}))
        elif op == "auth":
            await client.send(_enc(self._auth(client, req.get("args") or [])))
        elif op == "subscribe":
            api_key = client.state.get("api_key")
            topics = [t for t in req.get("args") or [] if t in ("order", "execution")]
            ok = api_key is not None and len(topics) == len(req.get("args") or [])
            await client.send(
                _enc(
                    {
                        "success": ok,
                        "ret_msg": "" if ok else "Request not authorized",
                        "op": "subscribe",
                        "conn_id": "p",
                        "req_id": req.get("req_id", ""),
                    }
                )
            )
            if ok and "pump" not in client.state:
                client.topics.update(topics)
                client.state["pump"] = True
                self.spawn(pump_events(self.exchange.subscribe(str(api_key)), client, self._render(client)))
        else:
            await client.send(_enc({"success": False, "ret_msg": f"Invalid op: {op}", "op": str(op)}))

    def _render(self, client: EmulatorClient) -> Callable[[ExchangeEvent], Awaitable[list[bytes]]]:
        async def render(event: ExchangeEvent) -> list[bytes]:
            now = self.server_time_ms()
            frames = []
            if event.fill is not None and "execution" in client.topics:
                frames.append(
                    _enc(
                        {
                            "id": secrets.token_hex(8),
                            "topic": "execution",
                            "creationTime": now,
                            "data": [self._execution(event.fill)],
                        }
                    )
                )
            if "order" in client.topics:
                frames.append(
                    _enc(
                        {
                            "id": secrets.token_hex(8),
                            "topic": "order",
                            "creationTime": now,
                            "data": [self._order(event.order)],
                        }
                    )
                )
            return frames

        return render

    def _auth(self, client: EmulatorClient, args: list[Any]) -> dict[str, Any]:
        fail = {"success": False, "ret_msg": "Request not authorized", "op": "auth", "conn_id": "p"}
        if len(args) != 3:
            return fail | {"ret_msg": "Params Error"}
        account = self.exchange.accounts.get(str(args[0]))
        if account is None:
            return fail | {"ret_msg": "Invalid apikey"}
        try:
            expires = int(args[1])
        except (TypeError, ValueError):
            return fail | {"ret_msg": "Params Error"}
        if expires <= self.server_time_ms():
            return fail | {"ret_msg": "Request expired"}
        if not secrets.compare_digest(hmac_sha256(account.secret, f"GET/realtime{expires}"), str(args[2])):
            return fail | {"ret_msg": "Invalid sign"}
        client.state["api_key"] = account.api_key
        return {"success": True, "ret_msg": "", "op": "auth", "conn_id": "p"}
