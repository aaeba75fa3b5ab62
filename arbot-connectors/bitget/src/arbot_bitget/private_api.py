"""Bitget v2's private API for the emulator, over :class:`~arbot.testing.emulator.exchange.EmulatedExchange`.

Verifies requests by Bitget's rule with its own code (not :mod:`arbot_bitget.signing`):
``ACCESS-SIGN = base64(HMAC_SHA256(secret, timestamp + METHOD + requestPath + ("?" + query) +
body))``, ``ACCESS-TIMESTAMP`` in ms within 30 s of server time (else 40008), the passphrase
must match (40011 when missing, 40012 when wrong). Errors answer as Bitget does: HTTP 400 with
``{"code": "4xxxx", "msg", "requestTime", "data": null}``; 429 ``{"code": "429"}`` with
``Retry-After`` for the rate-limit fault. The duplicate-``clientOid`` code (40786) is not in
Bitget's public error list; the gateway also recognises the message.

REST: ``POST /api/v2/spot/trade/place-order``, ``/cancel-order``, ``/cancel-symbol-order``;
``GET /api/v2/spot/trade/orderInfo``, ``/unfilled-orders``, ``/history-orders``, ``/fills``,
``/api/v2/spot/account/assets``, ``/api/v2/common/trade-rate``; public
``GET /api/v2/spot/public/coins`` and ``/api/v2/margin/currencies`` (empty). WebSocket
``/v2/ws/private``: ``login`` (``sign = base64(HMAC(secret, ts_seconds + "GET" +
"/user/verify"))``), ``subscribe`` to ``orders``.
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
)
from arbot.testing.emulator.scripted import ScriptedBook
from arbot.testing.emulator.server import EmulatorClient
from arbot.trading.types import OrderStatus, OrderType, TimeInForce

__all__ = ["BitgetPrivateApi"]

_enc = msgspec.json.encode
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_STATUS = {
    OrderStatus.NEW: "live",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.EXPIRED: "cancelled",
}
_FORCE = {
    "gtc": TimeInForce.GTC,
    "ioc": TimeInForce.IOC,
    "fok": TimeInForce.FOK,
    "post_only": TimeInForce.POST_ONLY,
}
_REJECT: dict[RejectReason, tuple[str, str]] = {
    RejectReason.INSUFFICIENT_BALANCE: ("43012", "Insufficient balance"),
    RejectReason.DUPLICATE_CLIENT_ID: ("40786", "Duplicate clientOid"),
    RejectReason.PRICE_FILTER: ("41103", "param price scale error error"),
    RejectReason.LOT_SIZE: ("40808", "Parameter verification exception size checkBDScale error"),
    RejectReason.MIN_NOTIONAL: ("45110", "less than the minimum amount 1 USDT"),
    RejectReason.UNKNOWN_SYMBOL: ("40034", "Parameter does not exist"),
    RejectReason.INVALID_REQUEST: ("40017", "Parameter verification failed"),
}
_SKEW_MS = 30_000


class _Refused(Exception):
    def __init__(
        self, code: str, msg: str, status: int = 400, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(msg)
        body = {"code": code, "msg": msg, "requestTime": int(time.time() * 1000), "data": None}
        self.response = web.json_response(body, status=status, headers=headers)


class BitgetPrivateApi(AccountBook):
    """Bitget's private REST API and private WebSocket over one emulated exchange.

    ``books`` maps Bitget symbols (``BTCUSDT``) to (unified symbol, scripted book); markets get
    the emulator's symbol rules (price precision 1, quantity precision 5, min 1 USDT).
    ``clientOid`` is unique per account among all orders; a post-only order that would take is
    accepted and cancelled.
    """

    needs_passphrase = True

    def __init__(
        self,
        books: Mapping[str, tuple[str, ScriptedBook]],
        spawn: Callable[[Coroutine[Any, Any, None]], object],
        exchange: EmulatedExchange | None = None,
    ) -> None:
        self.exchange = exchange or EmulatedExchange("bitget", client_id_scope="all", post_only_expires=True)
        self.spawn = spawn
        self._by_venue, self._by_unified = self.add_books(
            books, {"tick": Decimal("0.1"), "step": Decimal("0.00001"), "min_notional": Decimal("1")}
        )
        self.add_networks(
            (
                ("USDT", "TRC20", "1", "10"),
                ("USDT", "ERC20", "3", "20"),
                ("BTC", "BTC", "0.0002", "0.001"),
            )
        )

    # -- REST --------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """The private REST routes (and the public coin list with networks)."""
        s = self._signed
        return [
            web.post("/api/v2/spot/trade/place-order", s(self._place)),
            web.post("/api/v2/spot/trade/cancel-order", s(self._cancel)),
            web.post("/api/v2/spot/trade/cancel-symbol-order", s(self._cancel_symbol)),
            web.get("/api/v2/spot/trade/orderInfo", s(self._order_info)),
            web.get("/api/v2/spot/trade/unfilled-orders", s(self._unfilled)),
            web.get("/api/v2/spot/trade/history-orders", s(self._history)),
            web.get("/api/v2/spot/trade/fills", s(self._fills)),
            web.get("/api/v2/spot/account/assets", s(self._assets)),
            web.get("/api/v2/common/trade-rate", s(self._trade_rate)),
            web.post("/api/v2/spot/wallet/withdrawal", s(self._withdraw)),
            web.get("/api/v2/spot/wallet/withdrawal-records", s(self._withdrawal_records)),
            web.get("/api/v2/spot/wallet/deposit-records", s(self._deposit_records)),
            web.get("/api/v2/spot/public/coins", self._coins),
            web.get("/api/v2/margin/currencies", self._margin_currencies),
        ]

    # -- wallet ------------------------------------------------------------------------------

    _WITHDRAW_REFUSED: ClassVar[dict[RejectReason, tuple[str, str]]] = {
        RejectReason.WITHDRAW_MIN: ("47001", "The withdrawal amount is less than the minimum"),
        RejectReason.INSUFFICIENT_BALANCE: ("43012", "Insufficient balance"),
        RejectReason.NETWORK_UNAVAILABLE: ("47002", "The chain does not support withdrawals"),
        RejectReason.INVALID_REQUEST: ("40017", "Parameter verification failed"),
    }

    async def _withdraw(self, account: Account, p: Any) -> Any:
        try:
            asset, amount, chain = str(p["coin"]), Decimal(str(p["size"])), str(p["chain"])
        except (KeyError, InvalidOperation, TypeError):
            raise _Refused("40017", "Parameter verification failed: coin, chain, size") from None
        if p.get("transferType") != "on_chain":
            raise _Refused("40017", "transferType must be on_chain or internal_transfer")
        try:
            t = self.withdraw_for(account, asset, chain, amount, str(p.get("address", "")))
        except WithdrawForbidden:
            raise _Refused("40014", "Incorrect permissions", 403) from None
        except ExchangeReject as exc:
            raise _Refused(*self._WITHDRAW_REFUSED.get(exc.reason, ("40017", exc.reason.value))) from None
        return {"orderId": str(t.transfer_id), "clientOid": ""}

    def _records(self, account: Account, p: Any, kind: str) -> list[dict[str, Any]]:
        if not p.get("startTime") or not p.get("endTime"):
            raise _Refused("40019", "Parameter startTime and endTime cannot be empty")
        start, end = float(p["startTime"]) / 1000.0, float(p["endTime"]) / 1000.0
        return [
            {
                "orderId": str(t.transfer_id),
                "tradeId": t.txid,
                "coin": t.asset,
                "type": "withdraw" if kind == "withdrawal" else "deposit",
                "dest": "on_chain",
                "size": decimal_str(t.amount),
                "fee": decimal_str(t.fee) if kind == "withdrawal" else "0",
                "status": "success" if t.status is TransferStatus.COMPLETED else "pending",
                "toAddress": t.address,
                "fromAddress": "",
                "confirm": "1",
                "chain": t.network,
                "cTime": str(int(t.created * 1000)),
                "uTime": str(int(t.created * 1000)),
            }
            for t in self.transfers_of(account, kind, p.get("coin"))
            if start <= t.created <= end and (not p.get("orderId") or str(t.transfer_id) == p["orderId"])
        ]

    async def _withdrawal_records(self, account: Account, p: Any) -> Any:
        return self._records(account, p, "withdrawal")

    async def _deposit_records(self, account: Account, p: Any) -> Any:
        return self._records(account, p, "deposit")

    def _ok(self, data: Any) -> web.Response:
        body = {"code": "00000", "msg": "success", "requestTime": self.server_time_ms(), "data": data}
        return web.Response(body=_enc(body), content_type="application/json")

    def _signed(self, handler: Callable[[Account, Any], Awaitable[Any]]) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                account, params = await self._authenticate(request)
                self.exchange.check_request(account.api_key)
                data = await handler(account, params)
            except _Refused as refused:
                return refused.response
            except AckLost:
                return drop_response(request)
            except ExchangeRateLimited as rl:
                return _Refused(
                    "429", "Too Many Requests", 429, {"Retry-After": str(rl.retry_after)}
                ).response
            except ExchangeServerError as se:
                return _Refused("45001", "Unknown error", se.status).response
            return self._ok(data)

        return wrapped

    async def _authenticate(self, request: web.Request) -> tuple[Account, Any]:
        h = request.headers
        for header, code, msg in (
            ("ACCESS-KEY", "40001", "ACCESS_KEY cannot be empty"),
            ("ACCESS-SIGN", "40003", "Signature cannot be empty"),
            ("ACCESS-TIMESTAMP", "40005", "Invalid ACCESS_TIMESTAMP"),
            ("ACCESS-PASSPHRASE", "40011", "ACCESS_PASSPHRASE cannot be empty"),
        ):
            if not h.get(header):
                raise _Refused(code, msg)
        account = self.exchange.accounts.get(h["ACCESS-KEY"])
        if account is None:
            raise _Refused("40006", "Invalid ACCESS_KEY")
        try:
            ts = int(h["ACCESS-TIMESTAMP"])
        except ValueError:
            raise _Refused("40005", "Invalid ACCESS_TIMESTAMP") from None
        if abs(self.server_time_ms() - ts) > _SKEW_MS:
            raise _Refused("40008", "Request timestamp expired")
        if h["ACCESS-PASSPHRASE"] != account.passphrase:
            raise _Refused("40012", "apikey/password is incorrect")
        body = (await request.read()).decode()
        expected = hmac_sha256(
            account.secret, h["ACCESS-TIMESTAMP"] + request.method + request.raw_path + body, "base64"
        )
        if not secrets.compare_digest(expected, h["ACCESS-SIGN"]):
            raise _Refused("40009", "sign signature error")
        if request.method == "GET":
            return account, dict(request.query)
        try:
            return account, msgspec.json.decode(body) if body else {}
        except msgspec.DecodeError:
            raise _Refused("40017", "Parameter verification failed") from None

    # -- rendering ---------------------------------------------------------------------------

    def _order(self, o: OrderSnapshot) -> dict[str, Any]:
        force = {TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok", TimeInForce.POST_ONLY: "post_only"}.get(
            o.time_in_force, "gtc"
        )
        return {
            "userId": str(self.exchange.accounts[o.api_key].uid),
            "symbol": self._by_unified[o.symbol],
            "orderId": str(o.order_id),
            "clientOid": o.client_id,
            "price": decimal_str(o.price) if o.price is not None else "0",
            "size": decimal_str(o.quote_qty if o.quote_qty is not None else o.qty),
            "orderType": "market" if o.order_type is OrderType.MARKET else "limit",
            "side": o.side.value.lower(),
            "status": _STATUS[o.status],
            "priceAvg": decimal_str(o.average_price) if o.average_price else "0",
            "baseVolume": decimal_str(o.filled),
            "quoteVolume": decimal_str(o.filled_quote),
            "force": force,
            "enterPointSource": "API",
            "orderSource": "normal",
            "feeDetail": msgspec.json.encode(
                {
                    "newFees": {"t": decimal_str(-o.fee), "c": "0", "d": "0", "r": "0"},
                    o.fee_asset or "USDT": {"totalFee": decimal_str(-o.fee)},
                }
            ).decode(),
            "cTime": str(int(o.created * 1000)),
            "uTime": str(int(o.updated * 1000)),
        }

    # -- endpoints ---------------------------------------------------------------------------

    def _symbol(self, p: Mapping[str, Any]) -> str:
        unified = self._by_venue.get(str(p.get("symbol", "")))
        if unified is None:
            raise _Refused("40034", "Parameter does not exist")
        return unified

    async def _place(self, account: Account, p: Any) -> dict[str, Any]:
        symbol = self._symbol(p)
        side = {"buy": Side.BUY, "sell": Side.SELL}.get(str(p.get("side")))
        otype = str(p.get("orderType"))
        cid = str(p.get("clientOid") or "")
        if side is None or otype not in ("limit", "market") or len(cid) > 64:
            raise _Refused("40017", "Parameter verification failed")
        try:
            size = Decimal(str(p["size"]))
            price = Decimal(str(p["price"])) if otype == "limit" else None
        except (KeyError, InvalidOperation):
            raise _Refused("40017", "Parameter verification failed") from None
        qty: Decimal | None = size
        quote_qty: Decimal | None = None
        if otype == "market":
            order_type, tif = OrderType.MARKET, TimeInForce.IOC
            if side is Side.BUY:  # a market buy's size is the quote amount
                qty, quote_qty = None, size
        else:
            order_type, tif = OrderType.LIMIT, _FORCE.get(str(p.get("force", "gtc")), TimeInForce.GTC)
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
            code, msg = _REJECT.get(exc.reason, ("40017", exc.reason.value))
            raise _Refused(code, msg) from None
        return {"orderId": str(snap.order_id), "clientOid": snap.client_id}

    def _find_args(self, p: Mapping[str, Any]) -> dict[str, Any]:
        if p.get("orderId"):
            return {"order_id": int(str(p["orderId"]))}
        return {"client_id": str(p.get("clientOid", ""))}

    async def _cancel(self, account: Account, p: Any) -> dict[str, Any]:
        symbol = self._symbol(p)
        try:
            snap = self.exchange.cancel(account.api_key, symbol, **self._find_args(p))
        except (ExchangeReject, ValueError):
            raise _Refused("43001", "The order does not exist") from None
        return {"orderId": str(snap.order_id), "clientOid": snap.client_id}

    async def _cancel_symbol(self, account: Account, p: Any) -> dict[str, Any]:
        symbol = self._symbol(p)
        self.exchange.cancel_all(account.api_key, symbol)
        return {"symbol": self._by_unified[symbol]}

    async def _order_info(self, account: Account, p: Any) -> list[Any]:
        try:
            snap = self.exchange.get_order(account.api_key, None, **self._find_args(p))
        except (ExchangeReject, ValueError):
            return []
        return [self._order(snap)]

    async def _unfilled(self, account: Account, p: Any) -> list[Any]:
        symbol = self._symbol(p) if p.get("symbol") else None
        return [self._order(o) for o in reversed(self.exchange.open_orders(account.api_key, symbol))]

    async def _history(self, account: Account, p: Any) -> list[Any]:
        symbol = self._symbol(p) if p.get("symbol") else None
        return [
            self._order(o)
            for o in reversed(self.exchange.all_orders(account.api_key, symbol))
            if o.status not in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
        ]

    async def _fills(self, account: Account, p: Any) -> list[Any]:
        symbol = self._symbol(p) if p.get("symbol") else None
        since = int(p["startTime"]) / 1000.0 if p.get("startTime") else None
        return [
            {
                "userId": str(account.uid),
                "symbol": self._by_unified[f.symbol],
                "orderId": str(f.order_id),
                "tradeId": str(f.trade_id),
                "orderType": "limit",
                "side": f.side.value.lower(),
                "priceAvg": decimal_str(f.price),
                "size": decimal_str(f.qty),
                "amount": decimal_str(f.quote_qty),
                "feeDetail": {
                    "deduction": "no",
                    "feeCoin": f.fee_asset,
                    "totalDeductionFee": "0",
                    "totalFee": decimal_str(-f.fee),
                },
                "tradeScope": "maker" if f.is_maker else "taker",
                "cTime": str(int(f.ts * 1000)),
                "uTime": str(int(f.ts * 1000)),
            }
            for f in reversed(self.exchange.fills(account.api_key, symbol, since))
        ]

    async def _assets(self, account: Account, p: Any) -> list[Any]:
        return [
            {
                "coin": a,
                "available": decimal_str(f),
                "frozen": decimal_str(lk),
                "locked": "0",
                "limitAvailable": "0",
                "uTime": str(self.server_time_ms()),
            }
            for a, (f, lk) in self.exchange.balances(account.api_key).items()
            if not p.get("coin") or a == p["coin"]
        ]

    async def _trade_rate(self, account: Account, p: Any) -> dict[str, Any]:
        self._symbol(p)
        return {
            "makerFeeRate": decimal_str(account.tier.maker),
            "takerFeeRate": decimal_str(account.tier.taker),
        }

    async def _margin_currencies(self, request: web.Request) -> web.StreamResponse:
        """No margin pairs (ccxt reads this public list while loading spot markets)."""
        return self._ok([])

    async def _coins(self, request: web.Request) -> web.StreamResponse:
        wanted = request.query.get("coin")
        return self._ok(
            [
                {
                    "coinId": str(i + 1),
                    "coin": asset,
                    "transfer": "true",
                    "chains": [
                        {
                            "chain": n.network,
                            "needTag": "false",
                            "withdrawable": "true" if n.withdraw_enabled else "false",
                            "rechargeable": "true" if n.deposit_enabled else "false",
                            "withdrawFee": decimal_str(n.withdraw_fee),
                            "extraWithdrawFee": "0",
                            "depositConfirm": str(n.confirmations),
                            "withdrawConfirm": str(n.confirmations),
                            "minDepositAmount": "0",
                            "minWithdrawAmount": decimal_str(n.withdraw_min),
                            "browserUrl": "",
                        }
                        for n in nets
                    ],
                }
                for i, (asset, nets) in enumerate(self.exchange.networks.items())
                if not wanted or asset == wanted
            ]
        )

    # -- private WebSocket -------------------------------------------------------------------

    async def on_ws_message(self, client: EmulatorClient, message: str | bytes) -> None:
        """``ping``, ``login`` and ``subscribe`` on ``/v2/ws/private``."""
        if message == "ping":
            await client.send("pong")
            return
        try:
            req = msgspec.json.decode(message)
        except msgspec.DecodeError:
            await client.send(_enc({"event": "error", "code": 30001, "msg": "Invalid request"}))
            return
        op = req.get("op") if isinstance(req, dict) else None
        if op == "login":
            await client.send(_enc(self._login(client, (req.get("args") or [{}])[0])))
        elif op == "subscribe":
            api_key = client.state.get("api_key")
            if api_key is None:
                await client.send(_enc({"event": "error", "code": 30004, "msg": "User not logged in"}))
                return
            for arg in req.get("args") or []:
                if (
                    not isinstance(arg, dict)
                    or arg.get("channel") != "orders"
                    or arg.get("instType") != "SPOT"
                ):
                    await client.send(
                        _enc({"event": "error", "code": 30001, "msg": f"{arg!r:.80} doesn't exist"})
                    )
                    continue
                await client.send(_enc({"event": "subscribe", "arg": arg}))
                if "pump" not in client.state:
                    client.state["pump"] = True
                    self.spawn(pump_events(self.exchange.subscribe(str(api_key)), client, self._render(arg)))
        else:
            await client.send(_enc({"event": "error", "code": 30001, "msg": f"Invalid op: {op}"}))

    def _render(self, arg: Mapping[str, Any]) -> Callable[[ExchangeEvent], Awaitable[list[bytes]]]:
        async def render(event: ExchangeEvent) -> list[bytes]:
            o, f = event.order, event.fill
            data = self._order(o) | {
                "instId": self._by_unified[o.symbol],
                "accBaseVolume": decimal_str(o.filled),
                "notional": decimal_str(o.quote_qty or (o.qty * (o.price or Decimal(0)))),
                "fillPrice": decimal_str(f.price) if f else "",
                "tradeId": str(f.trade_id) if f else "",
                "baseVolume": decimal_str(f.qty) if f else "0",
                "fillTime": str(int(f.ts * 1000)) if f else "",
                "fillFee": decimal_str(-f.fee) if f else "0",
                "fillFeeCoin": f.fee_asset if f else "",
                "tradeScope": ("M" if f.is_maker else "T") if f else "",
            }
            return [
                _enc({"action": "snapshot", "arg": dict(arg), "data": [data], "ts": self.server_time_ms()})
            ]

        return render

    def _login(self, client: EmulatorClient, arg: Any) -> dict[str, Any]:
        if not isinstance(arg, dict):
            return {"event": "error", "code": 30002, "msg": "Illegal request"}
        account = self.exchange.accounts.get(str(arg.get("apiKey", "")))
        if account is None:
            return {"event": "error", "code": 30011, "msg": "Invalid ACCESS_KEY"}
        try:
            ts = int(str(arg.get("timestamp", "")))
        except ValueError:
            return {"event": "error", "code": 30014, "msg": "Invalid ACCESS_TIMESTAMP"}
        if abs(self.server_time_ms() // 1000 - ts) > _SKEW_MS // 1000:
            return {"event": "error", "code": 30008, "msg": "Request timestamp expired"}
        if arg.get("passphrase") != account.passphrase:
            return {"event": "error", "code": 30012, "msg": "Invalid ACCESS_PASSPHRASE"}
        if not secrets.compare_digest(
            hmac_sha256(account.secret, f"{ts}GET/user/verify", "base64"), str(arg.get("sign", ""))
        ):
            return {"event": "error", "code": 30015, "msg": "Invalid signature"}
        client.state["api_key"] = account.api_key
        return {"event": "login", "code": 0, "msg": ""}
