"""Gate's private API (APIv4) inside the emulator, on the shared :class:`EmulatedExchange`.

Verifies requests with its own copy of Gate's rule (``SIGN = hex(HMAC-SHA512(secret,
METHOD\\npath\\nquery\\nhex(SHA512(body))\\ntimestamp))``, the query as sent but percent-decoded,
``Timestamp`` in seconds within 60 s of the server clock) and answers failures as Gate does:
HTTP 401 ``{"label": "MISSING_REQUIRED_HEADER" | "INVALID_KEY" | "REQUEST_EXPIRED" |
"INVALID_SIGNATURE", "message": ...}``. Serves ``/api/v4/spot/orders`` (place, list open or
finished, cancel all), ``/api/v4/spot/orders/{id}`` (the order id, or its ``text`` only while
the order is open: otherwise 404 ``CLIENT_ID_NOT_FOUND``; a ``text`` is not unique, as at Gate: a
second order with it is taken and the text then names the latest), ``/spot/my_trades``,
``/spot/accounts``, ``/wallet/fee``, ``/wallet/withdraw_status``, ``/wallet/currency_chains``,
``/spot/time``, the wallet's ``POST /withdrawals``, ``/wallet/withdrawals`` and
``/wallet/deposits`` (a key withdraws only once granted: 403 ``FORBIDDEN`` otherwise; transfers
confirm after the network's delay), and the private channels ``spot.orders`` /
``spot.usertrades`` (each request signed with ``auth``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Coroutine
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote

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

__all__ = ["GatePrivateApi"]

_enc = msgspec.json.encode
_WINDOW_S = 60
_TIF = {"gtc": TimeInForce.GTC, "ioc": TimeInForce.IOC, "fok": TimeInForce.FOK, "poc": TimeInForce.POST_ONLY}
_TIF_TEXT = {v: k for k, v in _TIF.items()}
_REJECT = {
    RejectReason.INSUFFICIENT_BALANCE: ("BALANCE_NOT_ENOUGH", "Not enough balance"),
    RejectReason.MIN_NOTIONAL: ("INVALID_PARAM_VALUE", "Your order size is too small"),
    RejectReason.LOT_SIZE: ("INVALID_PRECISION", "Invalid precision"),
    RejectReason.PRICE_FILTER: ("INVALID_PRECISION", "Invalid precision"),
    RejectReason.POST_ONLY_WOULD_TAKE: ("POC_FILL_IMMEDIATELY", "Order would match and take immediately"),
    RejectReason.UNKNOWN_SYMBOL: ("INVALID_CURRENCY_PAIR", "Invalid currency pair"),
    RejectReason.ORDER_NOT_FOUND: ("ORDER_NOT_FOUND", "Order not found"),
    RejectReason.INVALID_REQUEST: ("INVALID_PARAM_VALUE", "Invalid parameter value"),
    RejectReason.NETWORK_UNAVAILABLE: ("INVALID_CURRENCY", "Invalid chain"),
    RejectReason.WITHDRAW_MIN: ("INVALID_PARAM_VALUE", "Withdrawal amount too small"),
}


def _err(status: int, label: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=_enc({"label": label, "message": message}),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def _ok(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=_enc(body), status=status, content_type="application/json")


def _sha512_hmac(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha512).hexdigest()


Handler = Callable[[web.Request, Account], Awaitable[web.Response]]


class _ClientIdNotFound(ExchangeError):
    """A ``text`` that names no pending order (Gate: 404 ``CLIENT_ID_NOT_FOUND``)."""

    def __init__(self, text_id: str) -> None:
        super().__init__(f"no pending order with text {text_id}")
        self.text = text_id


class GatePrivateApi(AccountBook):
    """The private REST API and channels of the Gate emulator (see the module docstring)."""

    drops_stream_on_tick = False  # pump_feed polls for the drop

    def __init__(
        self,
        books: dict[str, ScriptedBook],
        spawn: Callable[[Coroutine[Any, Any, None]], object],
    ) -> None:
        rules: dict[str, tuple[ScriptedBook, MarketRules]] = {}
        self._pair_of: dict[str, str] = {}
        for pair, book in books.items():
            base, _, quote = pair.partition("_")
            rules[pair] = (
                book,
                MarketRules(
                    f"{base}/{quote}",
                    base,
                    quote,
                    tick=Decimal(repr(book.tick)),
                    step=Decimal("0.000001"),
                    min_qty=Decimal("0.0001"),
                    min_notional=Decimal("3"),
                ),
            )
            self._pair_of[f"{base}/{quote}"] = pair
        self.exchange: EmulatedExchange
        # Gate does not keep ``text`` unique: a second order with the same text is taken, and
        # a lookup by that text finds the latest (Gate's answer in gateio/gateapi-go#41)
        self.exchange, self.account = scripted_exchange("gate", rules, client_id_scope="none")
        for asset in {r.base for _b, r in rules.values()} | {"USDT"}:
            fee = Decimal("1") if asset == "USDT" else Decimal("0.0005")
            self.exchange.add_network(
                NetworkSpec(asset, asset, fee, fee * 10, confirmations=3, confirm_seconds=1.0)
            )
        self._spawn = spawn

    # -- authentication ----------------------------------------------------------------------

    def authenticate(self, request: web.Request, body: str) -> Account | web.Response:
        """The account of a correctly signed request, or Gate's 401 answer."""
        key, ts, sign = (
            request.headers.get("KEY"),
            request.headers.get("Timestamp"),
            request.headers.get("SIGN"),
        )
        if not key or not ts or not sign:
            return _err(401, "MISSING_REQUIRED_HEADER", "Missing required header: KEY, Timestamp or SIGN")
        account = self.exchange.accounts.get(key)
        if account is None:
            return _err(401, "INVALID_KEY", "Invalid key provided")
        try:
            stamp = float(ts)
        except ValueError:
            return _err(401, "REQUEST_EXPIRED", "Request timestamp is invalid")
        if abs(stamp - self.exchange.server_time()) > _WINDOW_S:
            return _err(401, "REQUEST_EXPIRED", "Request timestamp far from server time")
        payload = "\n".join(
            (
                request.method,
                request.path,
                unquote(request.query_string),
                hashlib.sha512(body.encode()).hexdigest(),
                ts,
            )
        )
        if not hmac.compare_digest(sign, _sha512_hmac(account.secret, payload)):
            return _err(401, "INVALID_SIGNATURE", "Signature mismatch")
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
            except _ClientIdNotFound as exc:
                return _err(404, "CLIENT_ID_NOT_FOUND", f"Order with client ID {exc.text} not found")
            except ExchangeRateLimited as exc:
                return _err(
                    429,
                    "TOO_MANY_REQUESTS",
                    "Request Rate limit Exceeded",
                    {"Retry-After": f"{exc.retry_after:g}"},
                )
            except ExchangeServerError as exc:
                return _err(exc.status, "SERVER_ERROR", "Internal server error")
            except ExchangeReject as exc:
                label, msg = _REJECT[exc.reason]
                return _err(404 if exc.reason is RejectReason.ORDER_NOT_FOUND else 400, label, msg)
            except ExchangeError as exc:
                return _err(400, "INVALID_PARAM_VALUE", str(exc))

        return wrapped

    # -- routes ------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """Gate's private paths and the public time / chain lists they rely on."""
        p = self._private
        return [
            web.post("/api/v4/spot/orders", p(self._place)),
            web.get("/api/v4/spot/orders", p(self._list)),
            web.delete("/api/v4/spot/orders", p(self._cancel_all)),
            web.get("/api/v4/spot/open_orders", p(self._open_all)),
            web.get("/api/v4/spot/orders/{oid}", p(self._get)),
            web.delete("/api/v4/spot/orders/{oid}", p(self._cancel)),
            web.get("/api/v4/spot/my_trades", p(self._trades)),
            web.get("/api/v4/spot/accounts", p(self._accounts)),
            web.get("/api/v4/wallet/fee", p(self._fee)),
            web.get("/api/v4/wallet/withdraw_status", p(self._withdraw_status)),
            web.get("/api/v4/wallet/currency_chains", self._chains),
            web.post("/api/v4/withdrawals", p(self._withdraw)),
            web.get("/api/v4/wallet/withdrawals", p(self._withdrawals)),
            web.get("/api/v4/wallet/deposits", p(self._deposits)),
            web.get("/api/v4/spot/time", self._time),
            web.get("/api/v4/spot/currencies", self._currencies),
            web.get("/api/v4/margin/currency_pairs", self._margin_pairs),
        ]

    def render_order(self, o: OrderSnapshot) -> dict[str, Any]:
        """An order as Gate's order document."""
        is_open = o.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
        if is_open:
            status, finish = "open", "open"
        elif o.status is OrderStatus.FILLED:
            status, finish = "closed", "filled"
        else:
            status = "cancelled"
            finish = (
                {TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok", TimeInForce.POST_ONLY: "poc"}.get(
                    o.time_in_force, "cancelled"
                )
                if o.status is OrderStatus.EXPIRED
                else "cancelled"
            )
        avg = o.average_price
        return {
            "id": str(o.order_id),
            "text": o.client_id,
            "amend_text": "-",
            "create_time": str(int(o.created)),
            "update_time": str(int(o.updated)),
            "create_time_ms": int(o.created * 1000),
            "update_time_ms": int(o.updated * 1000),
            "status": status,
            "currency_pair": self._pair_of[o.symbol],
            "type": o.order_type.value,
            "account": "spot",
            "side": o.side.value.lower(),
            "amount": text(o.quote_qty or o.qty),
            "price": text(o.price) or "0",
            "time_in_force": _TIF_TEXT[o.time_in_force],
            "iceberg": "0",
            "left": text(o.remaining) if is_open or o.quote_qty is None else "0",
            "filled_amount": text(o.filled),
            "fill_price": text(o.filled_quote),
            "filled_total": text(o.filled_quote),
            "avg_deal_price": text(avg) if avg is not None else "",
            "fee": text(o.fee),
            "fee_currency": o.fee_asset,
            "point_fee": "0",
            "gt_fee": "0",
            "gt_maker_fee": "0",
            "gt_taker_fee": "0",
            "gt_discount": False,
            "rebated_fee": "0",
            "rebated_fee_currency": "",
            "finish_as": finish,
        }

    def _symbol(self, pair: str) -> str:
        base, _, quote = pair.partition("_")
        return f"{base}/{quote}"

    async def _place(self, request: web.Request, account: Account) -> web.Response:
        try:
            body = msgspec.json.decode(await request.read())
            symbol = self._symbol(str(body["currency_pair"]))
            side = Side(str(body["side"]).upper())
            kind = OrderType(str(body.get("type", "limit")))
            amount = Decimal(str(body["amount"]))
            price = Decimal(str(body["price"])) if body.get("price") not in (None, "") else None
            tif = _TIF[str(body.get("time_in_force", "gtc"))]
        except (KeyError, ValueError, TypeError, InvalidOperation, msgspec.DecodeError) as exc:
            raise ExchangeReject(RejectReason.INVALID_REQUEST, f"bad parameter {exc}") from None
        text_id = str(body.get("text") or "")
        if text_id and (not text_id.startswith("t-") or len(text_id.encode()) > 30):
            raise ExchangeReject(RejectReason.INVALID_REQUEST, "text must be t- and at most 28 bytes")
        quote_qty = amount if kind is OrderType.MARKET and side is Side.BUY else None
        snap = self.exchange.place(
            account.api_key,
            symbol,
            side,
            kind,
            qty=None if quote_qty is not None else amount,
            price=price,
            quote_qty=quote_qty,
            time_in_force=tif if kind is OrderType.LIMIT else TimeInForce.IOC,
            client_id=text_id or None,
        )
        return _ok(self.render_order(snap), 201)

    def _find(self, account: Account, request: web.Request) -> OrderSnapshot:
        oid = request.match_info["oid"]
        pair = request.query.get("currency_pair")
        symbol = self._symbol(pair) if pair else None
        if oid.startswith("t-"):
            try:
                snap = self.exchange.get_order(account.api_key, symbol, client_id=oid)
            except ExchangeReject:
                raise _ClientIdNotFound(oid) from None
            if snap.status not in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
                raise _ClientIdNotFound(oid)  # a text is an id only while the order is pending
            return snap
        try:
            return self.exchange.get_order(account.api_key, symbol, order_id=int(oid))
        except ValueError:
            raise ExchangeReject(RejectReason.ORDER_NOT_FOUND, oid) from None

    async def _get(self, request: web.Request, account: Account) -> web.Response:
        return _ok(self.render_order(self._find(account, request)))

    async def _cancel(self, request: web.Request, account: Account) -> web.Response:
        snap = self._find(account, request)
        return _ok(self.render_order(self.exchange.cancel(account.api_key, order_id=snap.order_id)))

    async def _cancel_all(self, request: web.Request, account: Account) -> web.Response:
        pair = request.query.get("currency_pair", "")
        done = self.exchange.cancel_all(account.api_key, self._symbol(pair))
        return _ok([self.render_order(o) for o in done])

    async def _list(self, request: web.Request, account: Account) -> web.Response:
        pair = request.query.get("currency_pair", "")
        symbol = self._symbol(pair)
        self.exchange.rules(symbol)
        if request.query.get("status", "open") == "open":
            orders = self.exchange.open_orders(account.api_key, symbol)
        else:
            orders = [
                o
                for o in self.exchange.all_orders(account.api_key, symbol)
                if o.status not in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
            ]
        return _ok([self.render_order(o) for o in orders])

    async def _open_all(self, request: web.Request, account: Account) -> web.Response:
        by_pair: dict[str, list[dict[str, Any]]] = {}
        for o in self.exchange.open_orders(account.api_key):
            by_pair.setdefault(self._pair_of[o.symbol], []).append(self.render_order(o))
        return _ok([{"currency_pair": p, "total": len(v), "orders": v} for p, v in by_pair.items()])

    def render_trade(self, f: ExchangeFill) -> dict[str, Any]:
        """A fill as Gate's ``my_trades`` / ``spot.usertrades`` document."""
        return {
            "id": str(f.trade_id),
            "create_time": str(int(f.ts)),
            "create_time_ms": f"{f.ts * 1000:.3f}",
            "currency_pair": self._pair_of[f.symbol],
            "side": f.side.value.lower(),
            "role": "maker" if f.is_maker else "taker",
            "amount": text(f.qty),
            "price": text(f.price),
            "order_id": str(f.order_id),
            "fee": text(f.fee),
            "fee_currency": f.fee_asset,
            "point_fee": "0",
            "gt_fee": "0",
            "text": f.client_id,
        }

    async def _trades(self, request: web.Request, account: Account) -> web.Response:
        pair = request.query.get("currency_pair")
        since = request.query.get("from")
        fills = self.exchange.fills(
            account.api_key, self._symbol(pair) if pair else None, float(since) if since else None
        )
        return _ok([self.render_trade(f) for f in reversed(fills)])

    async def _accounts(self, request: web.Request, account: Account) -> web.Response:
        return _ok(
            [
                {"currency": a, "available": text(free), "locked": text(locked), "update_id": 1}
                for a, (free, locked) in self.exchange.balances(account.api_key).items()
            ]
        )

    async def _fee(self, request: web.Request, account: Account) -> web.Response:
        tier = self.exchange.fee_tier(account.api_key)
        return _ok(
            {
                "user_id": account.uid,
                "taker_fee": text(tier.taker),
                "maker_fee": text(tier.maker),
                "gt_discount": False,
                "gt_taker_fee": "0",
                "gt_maker_fee": "0",
                "loan_fee": "0.18",
                "point_type": "1",
                "futures_taker_fee": "0.0005",
                "futures_maker_fee": "0",
                "delivery_taker_fee": "0.0005",
                "delivery_maker_fee": "0",
                "debit_fee": 3,
                "currency_pair": request.query.get("currency_pair"),
            }
        )

    async def _withdraw_status(self, request: web.Request, account: Account) -> web.Response:
        want = request.query.get("currency")
        out = []
        for asset, nets in sorted(self.exchange.networks.items()):
            if want and asset != want:
                continue
            out.append(
                {
                    "currency": asset,
                    "name": asset,
                    "name_cn": asset,
                    "deposit": "0",
                    "withdraw_percent": "0%",
                    "withdraw_fix": text(nets[0].withdraw_fee),
                    "withdraw_day_limit": "1000000",
                    "withdraw_amount_mini": text(nets[0].withdraw_min),
                    "withdraw_day_limit_remain": "1000000",
                    "withdraw_eachtime_limit": "1000000",
                    "withdraw_fix_on_chains": {n.network: text(n.withdraw_fee) for n in nets},
                }
            )
        return _ok(out)

    # -- wallet ------------------------------------------------------------------------------

    def render_transfer(self, t: Transfer) -> dict[str, Any]:
        """A withdrawal or deposit as Gate's wallet record (``status`` ``DONE`` or pending)."""
        done = t.status is TransferStatus.COMPLETED
        doc: dict[str, Any] = {
            "id": f"{'w' if t.kind == 'withdrawal' else 'd'}{t.transfer_id}",
            "timestamp": str(int(t.created)),
            "currency": t.asset,
            "address": t.address,
            "txid": t.txid,
            "amount": text(t.amount),
            "memo": "",
            "status": "DONE" if done else "PEND" if t.kind == "deposit" else "REQUEST",
            "chain": t.network,
        }
        if t.kind == "withdrawal":
            doc["fee"] = text(t.fee)
            doc["withdraw_order_id"] = ""
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
            return _err(403, "FORBIDDEN", "API key has no withdrawal permission")
        return _ok(self.render_transfer(transfer), 202)

    def _transfer_query(self, request: web.Request, account: Account, kind: str) -> web.Response:
        want = request.query.get("withdraw_id") if kind == "withdrawal" else None
        rows = [
            self.render_transfer(t)
            for t in self.transfers_of(account, kind, request.query.get("currency") or None)
        ]
        return _ok([r for r in rows if want is None or r["id"] == want])

    async def _withdrawals(self, request: web.Request, account: Account) -> web.Response:
        return self._transfer_query(request, account, "withdrawal")

    async def _deposits(self, request: web.Request, account: Account) -> web.Response:
        return self._transfer_query(request, account, "deposit")

    def _chain(self, n: NetworkSpec) -> dict[str, Any]:
        return {
            "chain": n.network,
            "name_cn": n.network,
            "name_en": n.network,
            "contract_address": "",
            "is_disabled": 0,
            "is_deposit_disabled": 0 if n.deposit_enabled else 1,
            "is_withdraw_disabled": 0 if n.withdraw_enabled else 1,
            "decimal": "8",
        }

    async def _chains(self, request: web.Request) -> web.Response:
        return _ok([self._chain(n) for n in self.exchange.network_list(request.query.get("currency", ""))])

    async def _margin_pairs(self, request: web.Request) -> web.Response:
        return _ok([])  # spot only: no margin pairs

    async def _currencies(self, request: web.Request) -> web.Response:
        assets = sorted({a for m in self.exchange.markets.values() for a in (m.rules.base, m.rules.quote)})
        out = []
        for asset in assets:
            nets = self.exchange.network_list(asset)
            out.append(
                {
                    "currency": asset,
                    "name": asset,
                    "delisted": False,
                    "withdraw_disabled": not nets,
                    "withdraw_delayed": False,
                    "deposit_disabled": not nets,
                    "trade_disabled": False,
                    "chain": nets[0].network if nets else "",
                    "chains": [
                        {
                            "name": n.network,
                            "addr": "",
                            "withdraw_disabled": not n.withdraw_enabled,
                            "withdraw_delayed": False,
                            "deposit_disabled": not n.deposit_enabled,
                        }
                        for n in nets
                    ],
                }
            )
        return _ok(out)

    async def _time(self, request: web.Request) -> web.Response:
        return _ok({"server_time": int(self.exchange.server_time() * 1000)})

    # -- private channels --------------------------------------------------------------------

    async def on_ws_request(self, client: EmulatorClient, req: dict[str, Any]) -> dict[str, Any] | None:
        """A ``spot.orders`` / ``spot.usertrades`` request: its answer (``result`` or
        ``error``); None for a request that is not a private channel."""
        channel = req.get("channel")
        if channel not in ("spot.orders", "spot.usertrades"):
            return None
        auth = req.get("auth") or {}
        account = self.exchange.accounts.get(str(auth.get("KEY", "")))
        payload = f"channel={channel}&event={req.get('event')}&time={req.get('time')}"
        if account is None or not hmac.compare_digest(
            str(auth.get("SIGN", "")), _sha512_hmac(account.secret, payload)
        ):
            return {"error": {"code": 11, "message": "Signature mismatch"}}
        if req.get("event") == "subscribe":
            client.topics.add(channel)
            if "pump" not in client.state:
                client.state["pump"] = True
                feed = self.exchange.subscribe(account.api_key)
                self._spawn(pump_feed(self.exchange, feed, client, lambda e: self.render_event(client, e)))
        elif req.get("event") == "unsubscribe":
            client.topics.discard(channel)
        return {"result": {"status": "success"}}

    def render_event(self, client: EmulatorClient, event: ExchangeEvent) -> list[str]:
        """``spot.orders`` (put / update / finish) and ``spot.usertrades`` frames of an event."""
        frames = []
        o = event.order
        if "spot.orders" in client.topics:
            doc = self.render_order(o)
            doc["event"] = "finish" if o.status.is_terminal else "put" if o.seq <= 1 else "update"
            frames.append(
                _enc(
                    {
                        "time": int(o.updated),
                        "time_ms": int(o.updated * 1000),
                        "channel": "spot.orders",
                        "event": "update",
                        "result": [doc],
                    }
                ).decode()
            )
        if event.fill is not None and "spot.usertrades" in client.topics:
            frames.append(
                _enc(
                    {
                        "time": int(o.updated),
                        "time_ms": int(o.updated * 1000),
                        "channel": "spot.usertrades",
                        "event": "update",
                        "result": [self.render_trade(event.fill)],
                    }
                ).decode()
            )
        return frames
