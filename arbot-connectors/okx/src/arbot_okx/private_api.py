"""OKX v5's private API for the emulator, over :class:`~arbot.testing.emulator.exchange.EmulatedExchange`.

Verifies requests by OKX's rule with its own code (not :mod:`arbot_okx.signing`):
``OK-ACCESS-SIGN = base64(HMAC_SHA256(secret, timestamp + METHOD + requestPath + body))`` with
the query inside ``requestPath``; ``OK-ACCESS-TIMESTAMP`` is ISO-8601 with milliseconds and
must be within 30 s of server time (else 50102); the passphrase must match. Errors answer as
OKX does: HTTP 401 ``{"msg": ..., "code": "501xx"}`` for authentication, HTTP 200 with
``code: "1"`` and per-order ``sCode``/``sMsg`` for refused orders.

REST: ``POST /api/v5/trade/order``, ``/trade/cancel-order``, ``/trade/cancel-batch-orders``;
``GET /api/v5/trade/order``, ``/trade/orders-pending``, ``/trade/fills``,
``/account/balance``, ``/account/trade-fee``, ``/asset/currencies``. WebSocket
``/ws/v5/private``: ``login`` (``sign = base64(HMAC(secret, ts_seconds + "GET" +
"/users/self/verify"))``), ``subscribe`` to ``orders``; pushes carry the fill fields.

Wire it in with a couple of lines (see :class:`arbot_okx.emulator.OkxEmulator`).
"""

from __future__ import annotations

import calendar
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
    Transfer,
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

__all__ = ["OkxPrivateApi"]

_enc = msgspec.json.encode
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_STATE = {
    OrderStatus.NEW: "live",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELLED: "canceled",
    OrderStatus.EXPIRED: "canceled",
}
_ORD_TYPES = {
    "limit": (OrderType.LIMIT, TimeInForce.GTC),
    "ioc": (OrderType.LIMIT, TimeInForce.IOC),
    "fok": (OrderType.LIMIT, TimeInForce.FOK),
    "post_only": (OrderType.LIMIT, TimeInForce.POST_ONLY),
    "market": (OrderType.MARKET, TimeInForce.IOC),
}
_REJECT: dict[RejectReason, tuple[str, str]] = {
    RejectReason.INSUFFICIENT_BALANCE: ("51008", "Order failed. Insufficient balance."),
    RejectReason.DUPLICATE_CLIENT_ID: ("51016", "Duplicated clOrdId"),
    RejectReason.PRICE_FILTER: ("51000", "Parameter px error"),
    RejectReason.LOT_SIZE: ("51000", "Parameter sz error"),
    RejectReason.MIN_NOTIONAL: ("51020", "Your order should meet or exceed the minimum order amount."),
    RejectReason.UNKNOWN_SYMBOL: ("51001", "Instrument ID does not exist"),
    RejectReason.INVALID_REQUEST: ("51000", "Parameter error"),
}
_SKEW_MS = 30_000


class _Refused(Exception):
    def __init__(self, code: str, msg: str, status: int = 200, data: list[Any] | None = None) -> None:
        super().__init__(msg)
        self.data: list[Any] = data or []
        body: dict[str, Any] = {"code": code, "msg": msg}
        if data is not None or status == 200:
            body["data"] = data or []
        self.response = web.json_response(body, status=status)


def _iso_ms(text: str) -> int | None:
    try:
        main, _, frac = text.rstrip("Z").partition(".")
        seconds = calendar.timegm(time.strptime(main, "%Y-%m-%dT%H:%M:%S"))
        return seconds * 1000 + int((frac or "0")[:3].ljust(3, "0"))
    except ValueError:
        return None


class OkxPrivateApi(AccountBook):
    """OKX's private REST API and private WebSocket over one emulated exchange.

    ``books`` maps instrument ids (``BTC-USDT``) to (unified symbol, scripted book); ``spawn`` runs
    a background task owned by the emulator (the private stream pumps); markets get
    the emulator's instrument rules (tick 0.1, lot 0.00001). Client ids are unique per account
    among all orders (``clOrdId`` duplicate -> 51016); a post-only order that would take, and an
    unfillable FOK, are accepted and then canceled, as OKX does.
    """

    needs_passphrase = True

    def __init__(
        self,
        books: Mapping[str, tuple[str, ScriptedBook]],
        spawn: Callable[[Coroutine[Any, Any, None]], object],
        exchange: EmulatedExchange | None = None,
    ) -> None:
        self.exchange = exchange or EmulatedExchange("okx", client_id_scope="all", post_only_expires=True)
        self.spawn = spawn
        self._by_inst, self._by_unified = self.add_books(
            books, {"tick": Decimal("0.1"), "step": Decimal("0.00001"), "min_qty": Decimal("0.00001")}
        )
        self.add_networks(
            (
                ("USDT", "TRC20", "1", "10"),
                ("USDT", "ERC20", "3.5", "20"),
                ("BTC", "Bitcoin", "0.0002", "0.001"),
            )
        )

    # -- REST --------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """The private REST routes."""
        s = self._signed
        return [
            web.post("/api/v5/trade/order", s(self._place)),
            web.post("/api/v5/trade/batch-orders", s(self._place_batch)),
            web.post("/api/v5/trade/cancel-order", s(self._cancel)),
            web.post("/api/v5/trade/cancel-batch-orders", s(self._cancel_batch)),
            web.get("/api/v5/trade/order", s(self._query)),
            web.get("/api/v5/trade/orders-pending", s(self._pending)),
            web.get("/api/v5/trade/fills", s(self._fills)),
            web.get("/api/v5/account/balance", s(self._balance)),
            web.get("/api/v5/account/trade-fee", s(self._trade_fee)),
            web.get("/api/v5/asset/currencies", s(self._currencies)),
            web.post("/api/v5/asset/withdrawal", s(self._withdraw)),
            web.get("/api/v5/asset/withdrawal-history", s(self._withdrawal_history)),
            web.get("/api/v5/asset/deposit-history", s(self._deposit_history)),
        ]

    def _signed(self, handler: Callable[[Account, Any], Awaitable[list[Any]]]) -> Handler:
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
                return web.json_response(
                    {"msg": "Too Many Requests", "code": "50011"},
                    status=429,
                    headers={"Retry-After": str(rl.retry_after)},
                )
            except ExchangeServerError as se:
                return web.json_response(
                    {
                        "code": "50001",
                        "msg": "Service temporarily unavailable. Please try again later.",
                        "data": [],
                    },
                    status=se.status,
                )
            now = str(int(time.time() * 1_000_000))
            return web.Response(
                body=_enc({"code": "0", "msg": "", "data": data, "inTime": now, "outTime": now}),
                content_type="application/json",
            )

        return wrapped

    async def _authenticate(self, request: web.Request) -> tuple[Account, Any]:
        h = request.headers
        for header, code in (
            ("OK-ACCESS-KEY", "50103"),
            ("OK-ACCESS-PASSPHRASE", "50105"),
            ("OK-ACCESS-TIMESTAMP", "50107"),
            ("OK-ACCESS-SIGN", "50106"),
        ):
            if not h.get(header):
                raise _Refused(code, f"Request header {header} can't be empty.", 401)
        account = self.exchange.accounts.get(h["OK-ACCESS-KEY"])
        if account is None:
            raise _Refused("50111", "Invalid OK-ACCESS-KEY.", 401)
        ts = _iso_ms(h["OK-ACCESS-TIMESTAMP"])
        if ts is None:
            raise _Refused("50112", "Invalid OK-ACCESS-TIMESTAMP.", 401)
        if abs(self.server_time_ms() - ts) > _SKEW_MS:
            raise _Refused("50102", "Timestamp request expired.", 401)
        if h["OK-ACCESS-PASSPHRASE"] != account.passphrase:
            raise _Refused("50105", "OK-ACCESS-PASSPHRASE incorrect.", 401)
        body = (await request.read()).decode()
        expected = hmac_sha256(
            account.secret, h["OK-ACCESS-TIMESTAMP"] + request.method + request.raw_path + body, "base64"
        )
        if not secrets.compare_digest(expected, h["OK-ACCESS-SIGN"]):
            raise _Refused("50113", "Invalid Sign.", 401)
        if request.method == "GET":
            return account, dict(request.query)
        try:
            return account, msgspec.json.decode(body) if body else {}
        except msgspec.DecodeError:
            raise _Refused("50002", "Json data format error.", 400) from None

    # -- rendering ---------------------------------------------------------------------------

    def _order(self, o: OrderSnapshot) -> dict[str, Any]:
        last = self.exchange.orders[o.order_id].fills
        fill = last[-1] if last else None
        ord_type = {TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok", TimeInForce.POST_ONLY: "post_only"}.get(
            o.time_in_force, "limit"
        )
        return {
            "instType": "SPOT",
            "instId": self._by_unified[o.symbol],
            "ordId": str(o.order_id),
            "clOrdId": o.client_id,
            "tag": "",
            "px": decimal_str(o.price) if o.price is not None else "",
            "sz": decimal_str(o.qty),
            "ordType": "market" if o.order_type is OrderType.MARKET else ord_type,
            "side": o.side.value.lower(),
            "tdMode": "cash",
            "state": _STATE[o.status],
            "accFillSz": decimal_str(o.filled),
            "avgPx": decimal_str(o.average_price) if o.average_price else "",
            "fillPx": decimal_str(fill.price) if fill else "",
            "fillSz": decimal_str(fill.qty) if fill else "0",
            "tradeId": str(fill.trade_id) if fill else "",
            "fillTime": str(int(fill.ts * 1000)) if fill else "",
            "fee": decimal_str(-o.fee),
            "feeCcy": o.fee_asset,
            "tgtCcy": "base_ccy" if o.quote_qty is None else "quote_ccy",
            "cTime": str(int(o.created * 1000)),
            "uTime": str(int(o.updated * 1000)),
            "category": "normal",
            "cancelSource": "",
            "rebate": "0",
            "rebateCcy": "",
        }

    # -- endpoints ---------------------------------------------------------------------------

    def _symbol(self, params: Mapping[str, Any]) -> str:
        unified = self._by_inst.get(str(params.get("instId", "")))
        if unified is None:
            raise _Refused("51001", "Instrument ID does not exist")
        return unified

    def _order_failed(self, code: str, msg: str, cid: str = "") -> _Refused:
        return _Refused(
            "1",
            "All operations failed",
            200,
            [{"clOrdId": cid, "ordId": "", "tag": "", "ts": "", "sCode": code, "sMsg": msg}],
        )

    async def _place(self, account: Account, p: Any) -> list[Any]:
        if not isinstance(p, dict):
            raise _Refused("50002", "Json data format error.", 400)
        symbol = self._symbol(p)
        cid = str(p.get("clOrdId") or "")
        if cid and (len(cid) > 32 or not cid.isalnum()):
            raise self._order_failed("51000", "Parameter clOrdId error", cid)
        kind = _ORD_TYPES.get(str(p.get("ordType")))
        side = {"buy": Side.BUY, "sell": Side.SELL}.get(str(p.get("side")))
        if kind is None or side is None or p.get("tdMode") not in ("cash", None):
            raise self._order_failed("51000", "Parameter ordType error", cid)
        try:
            size = Decimal(str(p["sz"]))
            price = Decimal(str(p["px"])) if p.get("px") not in (None, "") else None
        except (KeyError, InvalidOperation):
            raise self._order_failed("51000", "Parameter sz error", cid) from None
        order_type, tif = kind
        qty: Decimal | None = size
        quote_qty: Decimal | None = None
        if (
            order_type is OrderType.MARKET
            and side is Side.BUY
            and p.get("tgtCcy", "quote_ccy") == "quote_ccy"
        ):
            qty, quote_qty = None, size
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
            code, msg = _REJECT.get(exc.reason, ("51000", exc.reason.value))
            raise self._order_failed(code, msg, cid) from None
        return [
            {
                "clOrdId": cid,
                "ordId": str(snap.order_id),
                "tag": str(p.get("tag", "")),
                "ts": str(int(snap.created * 1000)),
                "sCode": "0",
                "sMsg": "Order placed",
            }
        ]

    async def _place_batch(self, account: Account, p: Any) -> list[Any]:
        if not isinstance(p, list) or not 1 <= len(p) <= 20:
            raise _Refused("50002", "Json data format error.", 400)
        results = []
        for item in p:
            try:
                results.extend(await self._place(account, item))
            except _Refused as refused:
                results.extend(refused.data)
        failed = sum(1 for r in results if r.get("sCode") != "0")
        if failed:
            code = "1" if failed == len(results) else "2"
            raise _Refused(
                code,
                "All operations failed" if code == "1" else "Bulk operation partially succeeded",
                200,
                results,
            )
        return results

    def _find(self, account: Account, p: Mapping[str, Any]) -> OrderSnapshot:
        symbol = self._symbol(p)
        try:
            if p.get("ordId"):
                return self.exchange.get_order(account.api_key, symbol, order_id=int(p["ordId"]))
            return self.exchange.get_order(account.api_key, symbol, client_id=str(p.get("clOrdId", "")))
        except (ExchangeReject, ValueError):
            raise _Refused("51603", "Order does not exist") from None

    async def _cancel_one(self, account: Account, p: Mapping[str, Any]) -> dict[str, Any]:
        symbol = self._symbol(p)
        try:
            if p.get("ordId"):
                snap = self.exchange.cancel(account.api_key, symbol, order_id=int(p["ordId"]))
            else:
                snap = self.exchange.cancel(account.api_key, symbol, client_id=str(p.get("clOrdId", "")))
        except (ExchangeReject, ValueError):
            return {
                "clOrdId": str(p.get("clOrdId", "")),
                "ordId": str(p.get("ordId", "")),
                "sCode": "51400",
                "sMsg": "Order cancellation failed as the order has been filled, canceled or does not exist.",
            }
        return {
            "clOrdId": snap.client_id,
            "ordId": str(snap.order_id),
            "ts": str(int(snap.updated * 1000)),
            "sCode": "0",
            "sMsg": "",
        }

    async def _cancel(self, account: Account, p: Any) -> list[Any]:
        result = await self._cancel_one(account, p if isinstance(p, dict) else {})
        if result["sCode"] != "0":
            raise _Refused("1", "All operations failed", 200, [result])
        return [result]

    async def _cancel_batch(self, account: Account, p: Any) -> list[Any]:
        items = p if isinstance(p, list) else []
        return [await self._cancel_one(account, item) for item in items]

    async def _query(self, account: Account, p: Any) -> list[Any]:
        return [self._order(self._find(account, p))]

    async def _pending(self, account: Account, p: Any) -> list[Any]:
        symbol = self._symbol(p) if p.get("instId") else None
        return [self._order(o) for o in reversed(self.exchange.open_orders(account.api_key, symbol))]

    async def _fills(self, account: Account, p: Any) -> list[Any]:
        symbol = self._symbol(p) if p.get("instId") else None
        since = int(p["begin"]) / 1000.0 if p.get("begin") else None
        return [
            {
                "instType": "SPOT",
                "instId": self._by_unified[f.symbol],
                "tradeId": str(f.trade_id),
                "ordId": str(f.order_id),
                "clOrdId": f.client_id,
                "billId": str(f.trade_id),
                "tag": "",
                "fillPx": decimal_str(f.price),
                "fillSz": decimal_str(f.qty),
                "side": f.side.value.lower(),
                "posSide": "net",
                "execType": "M" if f.is_maker else "T",
                "feeCcy": f.fee_asset,
                "fee": decimal_str(-f.fee),
                "ts": str(int(f.ts * 1000)),
                "fillTime": str(int(f.ts * 1000)),
            }
            for f in reversed(self.exchange.fills(account.api_key, symbol, since))
        ]

    async def _balance(self, account: Account, p: Any) -> list[Any]:
        wanted = set(str(p["ccy"]).split(",")) if p.get("ccy") else None
        details = [
            {
                "ccy": a,
                "availBal": decimal_str(f),
                "frozenBal": decimal_str(lk),
                "cashBal": decimal_str(f + lk),
                "eq": decimal_str(f + lk),
                "availEq": decimal_str(f),
                "ordFrozen": decimal_str(lk),
                "uTime": str(self.server_time_ms()),
            }
            for a, (f, lk) in self.exchange.balances(account.api_key).items()
            if wanted is None or a in wanted
        ]
        return [{"totalEq": "0", "uTime": str(self.server_time_ms()), "details": details}]

    async def _trade_fee(self, account: Account, p: Any) -> list[Any]:
        tier = account.tier
        return [
            {
                "instType": "SPOT",
                "level": "Lv1",
                "maker": decimal_str(-tier.maker),
                "taker": decimal_str(-tier.taker),
                "makerU": "",
                "takerU": "",
                "ts": str(self.server_time_ms()),
            }
        ]

    async def _currencies(self, account: Account, p: Any) -> list[Any]:
        wanted = set(str(p["ccy"]).split(",")) if p.get("ccy") else None
        return [
            {
                "ccy": asset,
                "chain": f"{asset}-{n.network}",
                "canDep": n.deposit_enabled,
                "canWd": n.withdraw_enabled,
                "canInternal": True,
                "fee": decimal_str(n.withdraw_fee),
                "minFee": decimal_str(n.withdraw_fee),
                "maxFee": decimal_str(n.withdraw_fee),
                "minWd": decimal_str(n.withdraw_min),
                "maxWd": "9999999",
                "minDepArrivalConfirm": str(n.confirmations),
                "mainNet": i == 0,
                "name": asset,
            }
            for asset, nets in self.exchange.networks.items()
            if wanted is None or asset in wanted
            for i, n in enumerate(nets)
        ]

    # -- wallet ------------------------------------------------------------------------------

    _WITHDRAW_REFUSED: ClassVar[dict[RejectReason, tuple[str, str]]] = {
        RejectReason.WITHDRAW_MIN: ("58206", "Withdrawal amount is lower than the lower limit"),
        RejectReason.INSUFFICIENT_BALANCE: ("58350", "Insufficient balance"),
        RejectReason.NETWORK_UNAVAILABLE: ("58200", "Withdrawal to this chain is unavailable"),
        RejectReason.INVALID_REQUEST: ("51000", "Parameter error"),
    }

    def _render_transfer(self, t: Transfer) -> dict[str, Any]:
        done = t.status is TransferStatus.COMPLETED
        doc: dict[str, Any] = {
            "ccy": t.asset,
            "chain": f"{t.asset}-{t.network}",
            "amt": decimal_str(t.amount),
            "txId": t.txid,
            "ts": str(int(t.created * 1000)),
            "state": "2" if done else "0" if t.kind == "deposit" else "1",
        }
        if t.kind == "withdrawal":
            doc.update(wdId=str(t.transfer_id), fee=decimal_str(t.fee), toAddr=t.address, clientId="")
        else:
            doc.update(depId=str(t.transfer_id), to=t.address, actualDepBlkConfirm="0")
        return doc

    async def _withdraw(self, account: Account, p: Any) -> list[Any]:
        try:
            asset, amount, chain = str(p["ccy"]), Decimal(str(p["amt"])), str(p.get("chain") or "")
        except (KeyError, InvalidOperation, TypeError):
            raise _Refused("51000", "Parameter ccy, amt error") from None
        network = chain.partition("-")[2] or chain
        try:
            t = self.withdraw_for(account, asset, network, amount, str(p.get("toAddr", "")))
        except WithdrawForbidden:
            raise _Refused("50120", "API key doesn't have permission to withdraw", 401) from None
        except ExchangeReject as exc:
            code, msg = self._WITHDRAW_REFUSED.get(exc.reason, ("51000", exc.reason.value))
            raise _Refused(code, msg) from None
        return [{"amt": decimal_str(t.amount), "wdId": str(t.transfer_id), "ccy": asset, "chain": chain}]

    async def _withdrawal_history(self, account: Account, p: Any) -> list[Any]:
        rows = [self._render_transfer(t) for t in self.transfers_of(account, "withdrawal", p.get("ccy"))]
        return [r for r in rows if not p.get("wdId") or r["wdId"] == p["wdId"]]

    async def _deposit_history(self, account: Account, p: Any) -> list[Any]:
        return [self._render_transfer(t) for t in self.transfers_of(account, "deposit", p.get("ccy"))]

    # -- private WebSocket -------------------------------------------------------------------

    async def on_ws_message(self, client: EmulatorClient, message: str | bytes) -> None:
        """``ping``, ``login`` and ``subscribe`` on ``/ws/v5/private``."""
        if message == "ping":
            await client.send("pong")
            return
        try:
            req = msgspec.json.decode(message)
        except msgspec.DecodeError:
            await client.send(_enc({"event": "error", "code": "60012", "msg": "Invalid request"}))
            return
        op = req.get("op") if isinstance(req, dict) else None
        if op == "login":
            await client.send(_enc(self._login(client, (req.get("args") or [{}])[0])))
        elif op == "subscribe":
            api_key = client.state.get("api_key")
            if api_key is None:
                await client.send(_enc({"event": "error", "code": "60011", "msg": "Please log in"}))
                return
            for arg in req.get("args") or []:
                if not isinstance(arg, dict) or arg.get("channel") != "orders":
                    await client.send(
                        _enc({"event": "error", "code": "60018", "msg": f"Wrong channel: {arg}"})
                    )
                    continue
                await client.send(_enc({"event": "subscribe", "arg": arg, "connId": "p"}))
                if "pump" not in client.state:
                    feed = self.exchange.subscribe(api_key)

                    async def render(event: ExchangeEvent, arg: dict[str, Any] = arg) -> list[bytes]:
                        return [
                            _enc(
                                {
                                    "arg": {**arg, "uid": str(self.exchange.accounts[event.api_key].uid)},
                                    "data": [self._order(event.order) | self._fill_fields(event)],
                                }
                            )
                        ]

                    client.state["pump"] = True
                    self.spawn(pump_events(feed, client, render))
        else:
            await client.send(_enc({"event": "error", "code": "60012", "msg": f"Invalid request: {op}"}))

    def _fill_fields(self, event: ExchangeEvent) -> dict[str, Any]:
        f = event.fill
        if f is None:
            return {
                "fillPx": "",
                "fillSz": "0",
                "tradeId": "",
                "fillFee": "0",
                "fillFeeCcy": "",
                "execType": "",
            }
        return {
            "fillPx": decimal_str(f.price),
            "fillSz": decimal_str(f.qty),
            "tradeId": str(f.trade_id),
            "fillFee": decimal_str(-f.fee),
            "fillFeeCcy": f.fee_asset,
            "execType": "M" if f.is_maker else "T",
            "fillTime": str(int(f.ts * 1000)),
        }

    def _login(self, client: EmulatorClient, arg: Any) -> dict[str, Any]:
        if not isinstance(arg, dict):
            return {"event": "error", "code": "60009", "msg": "Login failed."}
        account = self.exchange.accounts.get(str(arg.get("apiKey", "")))
        if account is None:
            return {"event": "error", "code": "60005", "msg": "Invalid OK-ACCESS-KEY"}
        try:
            ts = int(str(arg.get("timestamp", "")))
        except ValueError:
            return {"event": "error", "code": "60004", "msg": "Invalid timestamp"}
        if abs(self.server_time_ms() // 1000 - ts) > _SKEW_MS // 1000:
            return {"event": "error", "code": "60006", "msg": "Timestamp request expired"}
        if arg.get("passphrase") != account.passphrase:
            return {"event": "error", "code": "60024", "msg": "Wrong passphrase"}
        expected = hmac_sha256(account.secret, f"{ts}GET/users/self/verify", "base64")
        if not secrets.compare_digest(expected, str(arg.get("sign", ""))):
            return {"event": "error", "code": "60007", "msg": "Invalid sign"}
        client.state["api_key"] = account.api_key
        return {"event": "login", "code": "0", "msg": "", "connId": "p"}
