"""KuCoin's private API inside the emulator, on the shared :class:`EmulatedExchange`.

Verifies requests with its own copy of KuCoin's rule (key version 2: ``KC-API-SIGN =
base64(HMAC-SHA256(secret, ts + METHOD + path?query + body))``, ``KC-API-PASSPHRASE =
base64(HMAC-SHA256(secret, passphrase))``; version 1 sends the passphrase in clear) and answers
failures as KuCoin does: HTTP 401 with ``{"code": "400001".."400005", "msg": ...}`` (missing
header, stale timestamp beyond 5 s, unknown key, wrong passphrase, bad signature). Serves the
HF order endpoints (``/api/v1/hf/orders...``) and the classic ones ccxt uses
(``/api/v1/orders...``), fills, accounts, fees, currencies (networks), the private bullet
token, and ``/spotMarket/tradeOrdersV2`` on the emulator's WebSocket. Faults come from
:attr:`EmulatedExchange.faults` (ack lost: the connection is cut after the order is taken).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from aiohttp import web
from arbot.events import Side
from arbot.testing.emulator import EmulatorClient
from arbot.testing.emulator.exchange import EmulatedExchange
from arbot.testing.emulator.exchange_models import (
    Account,
    AckLost,
    ExchangeError,
    ExchangeEvent,
    ExchangeFill,
    ExchangeRateLimited,
    ExchangeReject,
    ExchangeServerError,
    MarketRules,
    NetworkSpec,
    OrderSnapshot,
    RejectReason,
    Transfer,
    TransferStatus,
)
from arbot.testing.emulator.private import AccountBook, WithdrawForbidden, pump_feed, scripted_exchange
from arbot.testing.emulator.private import decimal_str as text
from arbot.testing.emulator.private import drop_response as drop_answer
from arbot.testing.emulator.scripted import ScriptedBook
from arbot.trading.types import OrderStatus, OrderType, TimeInForce

__all__ = ["KucoinPrivateApi"]

_enc = msgspec.json.encode
_WINDOW_MS = 5000
_REJECT_MSG = {
    RejectReason.INSUFFICIENT_BALANCE: ("200004", "Balance insufficient!"),
    RejectReason.MIN_NOTIONAL: ("400100", "Order funds below the minimum requirement."),
    RejectReason.LOT_SIZE: ("400100", "Order size below the minimum requirement."),
    RejectReason.PRICE_FILTER: ("400100", "Price increment invalid."),
    RejectReason.POST_ONLY_WOULD_TAKE: ("400100", "Post-only order would take liquidity."),
    RejectReason.DUPLICATE_CLIENT_ID: ("400100", "clientOid duplicated"),
    RejectReason.UNKNOWN_SYMBOL: ("400100", "Unsupported trading pair."),
    RejectReason.ORDER_NOT_FOUND: ("400100", "order_not_exist_or_not_allow_to_cancel"),
    RejectReason.INVALID_REQUEST: ("400100", "Parameter error"),
    RejectReason.NETWORK_UNAVAILABLE: ("400100", "Unsupported chain"),
    RejectReason.WITHDRAW_MIN: ("400100", "The withdrawal amount is below the minimum requirement."),
}


def _ok(data: Any) -> web.Response:
    return web.Response(body=_enc({"code": "200000", "data": data}), content_type="application/json")


def _err(status: int, code: str, msg: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=_enc({"code": code, "msg": msg}), status=status, headers=headers, content_type="application/json"
    )


def _b64mac(secret: str, payload: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()).decode()


Handler = Callable[[web.Request, Account], Awaitable[web.Response]]


class KucoinPrivateApi(AccountBook):
    """The private REST API and stream of the KuCoin emulator (see the module docstring).

    ``books`` maps KuCoin symbols (``BTC-USDT``) to the emulator's scripted books; one funded
    account is created (:attr:`account`); more with ``exchange.create_account``.
    """

    needs_passphrase = True
    drops_stream_on_tick = False  # pump_feed polls for the drop

    def __init__(
        self,
        books: dict[str, ScriptedBook],
        ws_url: Callable[[], str],
        spawn: Callable[[Coroutine[Any, Any, None]], object],
    ) -> None:
        rules: dict[str, tuple[ScriptedBook, MarketRules]] = {}
        self._venue_of: dict[str, str] = {}
        for vs, book in books.items():
            base, _, quote = vs.partition("-")
            rules[vs] = (
                book,
                MarketRules(
                    f"{base}/{quote}",
                    base,
                    quote,
                    tick=Decimal(repr(book.tick)),
                    step=Decimal("0.00000001"),
                    min_qty=Decimal("0.00001"),
                    min_notional=Decimal("0.1"),
                ),
            )
            self._venue_of[f"{base}/{quote}"] = vs
        self.exchange: EmulatedExchange
        self.exchange, self.account = scripted_exchange(
            "kucoin", rules, passphrase="arbot-emulator", client_id_scope="all"
        )
        for asset in {r.base for _b, r in rules.values()} | {"USDT"}:
            self.exchange.add_network(
                NetworkSpec(
                    asset,
                    asset,
                    Decimal("0.0005") if asset != "USDT" else Decimal("1"),
                    Decimal("0.001") if asset != "USDT" else Decimal("10"),
                    confirmations=2,
                    confirm_seconds=1.0,
                )
            )
        self._ws_url = ws_url
        self._spawn = spawn
        self.private_tokens: dict[str, str] = {}  # token -> api key
        #: API key -> (permissions, IP whitelist) as ``/api/v1/user/api-key`` shows them
        self.key_info: dict[str, tuple[str, str]] = {}

    # -- authentication (KuCoin's rule, this module's own copy) -------------------------------

    def authenticate(self, request: web.Request, body: str) -> Account | web.Response:
        """The account of a correctly signed request, or KuCoin's 401 answer."""
        h = request.headers
        key, sign, ts, passphrase = (
            h.get("KC-API-KEY"),
            h.get("KC-API-SIGN"),
            h.get("KC-API-TIMESTAMP"),
            h.get("KC-API-PASSPHRASE"),
        )
        if not key or not sign or not ts or not passphrase:
            return _err(
                401,
                "400001",
                "Please check the header of your request for KC-API-KEY, KC-API-SIGN, "
                "KC-API-TIMESTAMP, KC-API-PASSPHRASE",
            )
        account = self.exchange.accounts.get(key)
        if account is None:
            return _err(401, "400003", "KC-API-KEY not exists")
        try:
            stamp = int(ts)
        except ValueError:
            return _err(401, "400002", "KC-API-TIMESTAMP Invalid")
        if abs(stamp - self.exchange.server_time() * 1000) > _WINDOW_MS:
            return _err(
                401,
                "400002",
                "KC-API-TIMESTAMP Invalid -- Time differs from server time by more than 5 seconds",
            )
        expected_pp = (
            _b64mac(account.secret, account.passphrase or "")
            if h.get("KC-API-KEY-VERSION") == "2"
            else account.passphrase or ""
        )
        if not hmac.compare_digest(passphrase, expected_pp):
            return _err(401, "400004", "KC-API-PASSPHRASE error")
        expected = _b64mac(account.secret, ts + request.method + request.raw_path + body)
        if not hmac.compare_digest(sign, expected):
            return _err(401, "400005", "Signature error - Please check your signature")
        return account

    def _private(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def wrapped(request: web.Request) -> web.Response:
            body = await request.text()
            auth = self.authenticate(request, body)
            if isinstance(auth, web.Response):
                return auth
            try:
                self.exchange.check_request(auth.api_key)
                return await handler(request, auth)
            except AckLost:
                return drop_answer(request)
            except ExchangeRateLimited as exc:
                return _err(
                    429,
                    "429000",
                    "Too many requests. System-level rate limit exceeded.",
                    {"Retry-After": f"{exc.retry_after:g}"},
                )
            except ExchangeServerError as exc:
                return _err(exc.status, str(exc.status), "Internal Server Error")
            except ExchangeReject as exc:
                code, msg = _REJECT_MSG[exc.reason]
                return _err(400, code, msg)
            except ExchangeError as exc:
                return _err(400, "400100", str(exc))

        return wrapped

    # -- routes ------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """KuCoin's private paths (HF and classic orders, fills, accounts, fees, bullet)."""
        p = self._private
        return [
            web.post("/api/v1/bullet-private", p(self._bullet)),
            web.post("/api/v1/hf/orders", p(self._place_hf)),
            web.post("/api/v1/orders", p(self._place_classic)),
            web.get("/api/v1/hf/orders/active", p(self._active)),
            web.get("/api/v1/hf/orders/client-order/{cid}", p(self._get_by_cid)),
            web.delete("/api/v1/hf/orders/client-order/{cid}", p(self._cancel_by_cid)),
            web.get("/api/v1/hf/orders/{oid}", p(self._get_by_id)),
            web.delete("/api/v1/hf/orders/{oid}", p(self._cancel_by_id)),
            web.delete("/api/v1/hf/orders", p(self._cancel_all)),
            web.get("/api/v1/hf/fills", p(self._fills)),
            web.get("/api/v1/fills", p(self._fills_classic)),
            web.get("/api/v1/orders", p(self._list_classic)),
            web.get("/api/v1/order/client-order/{cid}", p(self._get_by_cid)),
            web.get("/api/v1/orders/{oid}", p(self._get_by_id)),
            web.delete("/api/v1/orders/{oid}", p(self._cancel_classic)),
            web.delete("/api/v1/order/client-order/{cid}", p(self._cancel_by_cid)),
            web.get("/api/v1/accounts", p(self._accounts)),
            web.post("/api/v1/withdrawals", p(self._withdraw)),
            web.get("/api/v1/withdrawals", p(self._withdrawals)),
            web.get("/api/v1/deposits", p(self._deposits)),
            web.get("/api/v1/trade-fees", p(self._fees)),
            web.get("/api/ua/v1/account/mode", p(self._account_mode)),
            web.get("/api/v3/margin/symbols", p(self._margin_symbols)),
            web.get("/api/v1/isolated/symbols", p(self._isolated_symbols)),
            web.get("/api/v1/user/api-key", p(self._api_key_info)),
            web.get("/api/v1/hf/accounts/opened", p(self._hf_opened)),
            web.get("/api/v3/currencies/{currency}", self._currency),
            web.get("/api/v3/currencies", self._currencies),
        ]

    def _symbol(self, venue_symbol: str) -> str:
        base, _, quote = venue_symbol.partition("-")
        return f"{base}/{quote}"

    def render_order(self, o: OrderSnapshot) -> dict[str, Any]:
        """An order as KuCoin's HF order document."""
        active = o.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
        cancelled = o.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
        tif = {TimeInForce.POST_ONLY: "GTC"}.get(o.time_in_force, o.time_in_force.value)
        return {
            "id": str(o.order_id),
            "clientOid": o.client_id,
            "symbol": self._venue_of[o.symbol],
            "opType": "DEAL",
            "type": o.order_type.value,
            "side": o.side.value.lower(),
            "price": text(o.price) or "0",
            "size": text(o.qty),
            "funds": text(o.quote_qty) or "0",
            "dealSize": text(o.filled),
            "dealFunds": text(o.filled_quote),
            "fee": text(o.fee),
            "feeCurrency": o.fee_asset,
            "timeInForce": tif,
            "postOnly": o.time_in_force is TimeInForce.POST_ONLY,
            "hidden": False,
            "iceberg": False,
            "cancelExist": cancelled,
            "active": active,
            "isActive": active,
            "inOrderBook": active,
            "createdAt": int(o.created * 1000),
            "lastUpdatedAt": int(o.updated * 1000),
            "remainSize": text(o.remaining) if active else "0",
            "cancelledSize": text(o.remaining) if cancelled else "0",
            "tradeType": "TRADE",
            "stp": "",
            "channel": "API",
        }

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = msgspec.json.decode(await request.read())
        except msgspec.DecodeError:
            raise ExchangeReject(RejectReason.INVALID_REQUEST, "body is not JSON") from None
        if not isinstance(body, dict):
            raise ExchangeReject(RejectReason.INVALID_REQUEST, "body is not an object")
        return body

    def _place(self, account: Account, body: dict[str, Any]) -> OrderSnapshot:
        try:
            symbol = self._symbol(str(body["symbol"]))
            side = Side(str(body["side"]).upper())
            kind = OrderType(str(body.get("type", "limit")))
            size = Decimal(str(body["size"])) if body.get("size") not in (None, "") else None
            funds = Decimal(str(body["funds"])) if body.get("funds") not in (None, "") else None
            price = Decimal(str(body["price"])) if body.get("price") not in (None, "") else None
        except (KeyError, ValueError, InvalidOperation) as exc:
            raise ExchangeReject(RejectReason.INVALID_REQUEST, f"bad parameter {exc}") from None
        tif = TimeInForce(str(body.get("timeInForce", "GTC")))
        if str(body.get("postOnly", "")).lower() == "true":
            tif = TimeInForce.POST_ONLY
        cid = str(body.get("clientOid") or uuid.uuid4().hex)
        return self.exchange.place(
            account.api_key,
            symbol,
            side,
            kind,
            qty=size,
            price=price,
            quote_qty=funds,
            time_in_force=tif,
            client_id=cid,
        )

    async def _place_hf(self, request: web.Request, account: Account) -> web.Response:
        snap = self._place(account, await self._json(request))
        return _ok({"orderId": str(snap.order_id), "clientOid": snap.client_id})

    async def _place_classic(self, request: web.Request, account: Account) -> web.Response:
        snap = self._place(account, await self._json(request))
        return _ok({"orderId": str(snap.order_id)})

    def _symbol_arg(self, request: web.Request) -> str | None:
        vs = request.query.get("symbol")
        return self._symbol(vs) if vs else None

    async def _get_by_cid(self, request: web.Request, account: Account) -> web.Response:
        snap = self.exchange.get_order(
            account.api_key, self._symbol_arg(request), client_id=request.match_info["cid"]
        )
        return _ok(self.render_order(snap))

    async def _get_by_id(self, request: web.Request, account: Account) -> web.Response:
        try:
            oid = int(request.match_info["oid"])
        except ValueError:
            raise ExchangeReject(RejectReason.ORDER_NOT_FOUND, request.match_info["oid"]) from None
        return _ok(self.render_order(self.exchange.get_order(account.api_key, order_id=oid)))

    async def _cancel_by_cid(self, request: web.Request, account: Account) -> web.Response:
        snap = self.exchange.cancel(
            account.api_key, self._symbol_arg(request), client_id=request.match_info["cid"]
        )
        return _ok({"clientOid": snap.client_id, "cancelledOrderId": str(snap.order_id)})

    async def _cancel_by_id(self, request: web.Request, account: Account) -> web.Response:
        try:
            oid = int(request.match_info["oid"])
        except ValueError:
            raise ExchangeReject(RejectReason.ORDER_NOT_FOUND, request.match_info["oid"]) from None
        snap = self.exchange.cancel(account.api_key, order_id=oid)
        return _ok({"orderId": str(snap.order_id)})

    async def _cancel_classic(self, request: web.Request, account: Account) -> web.Response:
        try:
            oid = int(request.match_info["oid"])
        except ValueError:
            raise ExchangeReject(RejectReason.ORDER_NOT_FOUND, request.match_info["oid"]) from None
        snap = self.exchange.cancel(account.api_key, order_id=oid)
        return _ok({"cancelledOrderIds": [str(snap.order_id)]})

    async def _cancel_all(self, request: web.Request, account: Account) -> web.Response:
        symbol = self._symbol_arg(request)
        if symbol is None:
            raise ExchangeReject(RejectReason.INVALID_REQUEST, "symbol is required")
        self.exchange.cancel_all(account.api_key, symbol)
        return _ok("success")

    async def _active(self, request: web.Request, account: Account) -> web.Response:
        return _ok(
            [
                self.render_order(o)
                for o in self.exchange.open_orders(account.api_key, self._symbol_arg(request))
            ]
        )

    async def _list_classic(self, request: web.Request, account: Account) -> web.Response:
        symbol = self._symbol_arg(request)
        if request.query.get("status", "active") == "active":
            orders = self.exchange.open_orders(account.api_key, symbol)
        else:
            orders = [
                o
                for o in self.exchange.all_orders(account.api_key, symbol)
                if o.status not in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
            ]
        items = [self.render_order(o) for o in orders]
        return _ok(
            {"currentPage": 1, "pageSize": len(items), "totalNum": len(items), "totalPage": 1, "items": items}
        )

    def render_fill(self, f: ExchangeFill) -> dict[str, Any]:
        """A fill as KuCoin's fill document."""
        return {
            "id": f.trade_id,
            "symbol": self._venue_of[f.symbol],
            "tradeId": str(f.trade_id),
            "orderId": str(f.order_id),
            "counterOrderId": "0",
            "side": f.side.value.lower(),
            "liquidity": "maker" if f.is_maker else "taker",
            "forceTaker": False,
            "price": text(f.price),
            "size": text(f.qty),
            "funds": text(f.quote_qty),
            "fee": text(f.fee),
            "feeRate": "0.001",
            "feeCurrency": f.fee_asset,
            "stop": "",
            "type": "limit",
            "createdAt": int(f.ts * 1000),
            "tradeType": "TRADE",
        }

    def _fill_list(self, request: web.Request, account: Account) -> list[dict[str, Any]]:
        since = request.query.get("startAt")
        fills = self.exchange.fills(
            account.api_key, self._symbol_arg(request), int(since) / 1000.0 if since else None
        )
        return [self.render_fill(f) for f in reversed(fills)]

    async def _fills(self, request: web.Request, account: Account) -> web.Response:
        items = self._fill_list(request, account)
        return _ok({"items": items, "lastId": items[-1]["id"] if items else 0})

    async def _fills_classic(self, request: web.Request, account: Account) -> web.Response:
        items = self._fill_list(request, account)
        return _ok(
            {"currentPage": 1, "pageSize": len(items), "totalNum": len(items), "totalPage": 1, "items": items}
        )

    # -- wallet ------------------------------------------------------------------------------

    def render_transfer(self, t: Transfer) -> dict[str, Any]:
        """A withdrawal or deposit as KuCoin's record (``SUCCESS`` or ``PROCESSING``)."""
        doc: dict[str, Any] = {
            "currency": t.asset,
            "chain": t.network,
            "status": "SUCCESS" if t.status is TransferStatus.COMPLETED else "PROCESSING",
            "address": t.address,
            "memo": "",
            "isInner": False,
            "amount": text(t.amount),
            "fee": text(t.fee),
            "walletTxId": t.txid,
            "createdAt": int(t.created * 1000),
            "updatedAt": int(t.created * 1000),
            "remark": "",
        }
        if t.kind == "withdrawal":
            doc["id"] = f"w{t.transfer_id:023d}"
        return doc

    async def _withdraw(self, request: web.Request, account: Account) -> web.Response:
        try:
            body = msgspec.json.decode(await request.read())
            asset, address = str(body["currency"]), str(body.get("address", ""))
            amount = Decimal(str(body["amount"]))
            chain = str(body.get("chain") or asset)
        except (KeyError, ValueError, TypeError, InvalidOperation, msgspec.DecodeError) as exc:
            raise ExchangeReject(RejectReason.INVALID_REQUEST, f"bad parameter {exc}") from None
        try:
            transfer = self.withdraw_for(account, asset, chain, amount, address)
        except WithdrawForbidden:
            return _err(400, "400007", "Access denied, require more permission.")
        return _ok({"withdrawalId": self.render_transfer(transfer)["id"]})

    def _page(self, request: web.Request, account: Account, kind: str) -> web.Response:
        asset = request.query.get("currency")
        items = [self.render_transfer(t) for t in self.transfers_of(account, kind, asset)]
        return _ok({"currentPage": 1, "pageSize": 50, "totalNum": len(items), "totalPage": 1, "items": items})

    async def _withdrawals(self, request: web.Request, account: Account) -> web.Response:
        return self._page(request, account, "withdrawal")

    async def _deposits(self, request: web.Request, account: Account) -> web.Response:
        return self._page(request, account, "deposit")

    async def _accounts(self, request: web.Request, account: Account) -> web.Response:
        kind = request.query.get("type")
        out = []
        for asset, (free, locked) in self.exchange.balances(account.api_key).items():
            for t in ("trade", "trade_hf"):
                if kind is None or kind == t:
                    out.append(
                        {
                            "id": f"{t}-{asset}",
                            "currency": asset,
                            "type": t,
                            "balance": text(free + locked),
                            "available": text(free),
                            "holds": text(locked),
                        }
                    )
        return _ok(out)

    async def _fees(self, request: web.Request, account: Account) -> web.Response:
        tier = self.exchange.fee_tier(account.api_key)
        return _ok(
            [
                {"symbol": s, "takerFeeRate": text(tier.taker), "makerFeeRate": text(tier.maker)}
                for s in request.query.get("symbols", "").split(",")
                if s
            ]
        )

    def _chain(self, n: NetworkSpec) -> dict[str, Any]:
        return {
            "chainName": n.network,
            "chainId": n.network.lower(),
            "withdrawalMinSize": text(n.withdraw_min),
            "withdrawalMinFee": text(n.withdraw_fee),
            "isWithdrawEnabled": n.withdraw_enabled,
            "isDepositEnabled": n.deposit_enabled,
            "confirms": n.confirmations,
            "preConfirms": 1,
            "contractAddress": "",
            "depositMinSize": "0",
            "needTag": False,
            "withdrawPrecision": 8,
            "maxWithdraw": None,
            "maxDeposit": None,
            "depositFeeRate": "0",
            "withdrawFeeRate": "0",
        }

    def _currency_doc(self, asset: str) -> dict[str, Any]:
        return {
            "currency": asset,
            "name": asset,
            "fullName": asset,
            "precision": 8,
            "confirms": None,
            "contractAddress": None,
            "isMarginEnabled": False,
            "isDebitEnabled": False,
            "chains": [self._chain(n) for n in self.exchange.network_list(asset)],
        }

    async def _currency(self, request: web.Request) -> web.Response:
        asset = request.match_info["currency"]
        if not self.exchange.network_list(asset):
            return _err(400, "900003", "Currency not exists")
        return _ok(self._currency_doc(asset))

    async def _currencies(self, request: web.Request) -> web.Response:
        return _ok([self._currency_doc(a) for a in sorted(self.exchange.networks)])

    async def _margin_symbols(self, request: web.Request, account: Account) -> web.Response:
        return _ok({"timestamp": int(self.exchange.server_time() * 1000), "items": []})  # spot only

    async def _api_key_info(self, request: web.Request, account: Account) -> web.Response:
        permission, whitelist = self.key_info.get(account.api_key, ("General,Spot", ""))
        return _ok(
            {
                "remark": "emulator",
                "apiKey": account.api_key,
                "apiVersion": 3,
                "permission": permission,
                "ipWhitelist": whitelist,
                "createdAt": 1700000000000,
                "uid": account.uid,
                "isMaster": True,
            }
        )

    async def _isolated_symbols(self, request: web.Request, account: Account) -> web.Response:
        return _ok([])  # no isolated margin

    async def _hf_opened(self, request: web.Request, account: Account) -> web.Response:
        return _ok(True)  # the account trades through the HF endpoints

    async def _account_mode(self, request: web.Request, account: Account) -> web.Response:
        return _ok({"selfAccountMode": "CLASSIC"})  # a classic (non-unified) spot account

    async def _bullet(self, request: web.Request, account: Account) -> web.Response:
        token = uuid.uuid4().hex
        self.private_tokens[token] = account.api_key
        return _ok(
            {
                "token": token,
                "instanceServers": [
                    {
                        "endpoint": self._ws_url() + "/",
                        "encrypt": False,
                        "protocol": "websocket",
                        "pingInterval": 18000,
                        "pingTimeout": 10000,
                    }
                ],
            }
        )

    # -- private stream ----------------------------------------------------------------------

    def owns(self, token: str) -> bool:
        """True for a private bullet token."""
        return token in self.private_tokens

    async def subscribe(self, client: EmulatorClient, token: str, topic: str) -> bool:
        """``/spotMarket/tradeOrdersV2`` on a private connection: start its event pump."""
        if topic != "/spotMarket/tradeOrdersV2" or not self.owns(token):
            return False
        if "pump" not in client.state:
            feed = self.exchange.subscribe(self.private_tokens[token])
            client.state["pump"] = True
            self._spawn(pump_feed(self.exchange, feed, client, self.render_event))
        return True

    def render_event(self, event: ExchangeEvent) -> list[str]:
        """One order event as ``orderChange`` frames (a fill as a ``match``)."""
        o = event.order
        f = event.fill
        if f is not None:
            kind = "match"
        elif o.status is OrderStatus.NEW:
            kind = "open"
        elif o.status is OrderStatus.FILLED:
            kind = "filled"
        elif o.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            kind = "canceled"
        else:
            kind = "update"
        data: dict[str, Any] = {
            "symbol": self._venue_of[o.symbol],
            "orderType": o.order_type.value,
            "side": o.side.value.lower(),
            "type": kind,
            "orderId": str(o.order_id),
            "clientOid": o.client_id,
            "price": text(o.price),
            "size": text(o.qty),
            "filledSize": text(o.filled),
            "remainSize": text(o.remaining),
            "status": "done" if o.status.is_terminal else "open" if kind != "match" else "match",
            "orderTime": int(o.created * 1e9),
            "ts": int(o.updated * 1e9),
        }
        if f is not None:
            data.update(
                matchPrice=text(f.price),
                matchSize=text(f.qty),
                tradeId=str(f.trade_id),
                liquidity="maker" if f.is_maker else "taker",
            )
        return [
            _enc(
                {
                    "type": "message",
                    "topic": "/spotMarket/tradeOrdersV2",
                    "subject": "orderChange",
                    "channelType": "private",
                    "data": data,
                }
            ).decode()
        ]
