"""The private API shared by the Upbit and Bithumb emulators (Bithumb's current API has Upbit's
shape): see :class:`UpbitFamilyPrivateApi`. Each venue keeps its own copy of its signature rule."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

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
    FeeAsset,
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

__all__ = [
    "Handler",
    "UpbitFamilyPrivateApi",
    "err",
    "kst",
    "ok",
    "order_id_of",
    "order_uuid",
    "transfer_uuid",
]

_enc = msgspec.json.encode
_KST = timezone(timedelta(hours=9))
_TIF = {"ioc": TimeInForce.IOC, "fok": TimeInForce.FOK, "post_only": TimeInForce.POST_ONLY}
_TIF_TEXT = {v: k for k, v in _TIF.items()}
REJECTS: Mapping[RejectReason, tuple[int, str, str]] = {
    RejectReason.INSUFFICIENT_BALANCE: (400, "insufficient_funds_bid", "주문가능한 금액이 부족합니다."),
    RejectReason.MIN_NOTIONAL: (400, "under_min_total_bid", "최소주문금액 이상으로 주문해주세요"),
    RejectReason.LOT_SIZE: (400, "invalid_volume", "주문 수량 단위를 잘못 입력하셨습니다."),
    RejectReason.PRICE_FILTER: (400, "invalid_price_bid", "주문 가격 단위를 잘못 입력하셨습니다."),
    RejectReason.POST_ONLY_WOULD_TAKE: (400, "post_only_would_take", "즉시 체결되는 주문입니다."),
    RejectReason.UNKNOWN_SYMBOL: (404, "market_does_not_exist", "마켓 정보가 없습니다."),
    RejectReason.ORDER_NOT_FOUND: (404, "order_not_found", "주문을 찾지 못했습니다."),
    RejectReason.INVALID_REQUEST: (400, "validation_error", "잘못된 파라미터입니다."),
    RejectReason.NETWORK_UNAVAILABLE: (400, "invalid_net_type", "지원하지 않는 네트워크입니다."),
    RejectReason.WITHDRAW_MIN: (400, "under_min_amount", "최소 출금 수량 미만입니다."),
}


def order_uuid(order_id: int) -> str:
    """The UUID Upbit shows for an emulator order id (and back with :func:`order_id_of`)."""
    return f"00000000-0000-4000-8000-{order_id:012d}"


def transfer_uuid(kind: str, transfer_id: int) -> str:
    """The UUID the family shows for an emulator deposit or withdrawal."""
    return f"00000000-0000-4000-{'9' if kind == 'withdrawal' else 'a'}000-{transfer_id:012d}"


def order_id_of(uuid_text: str) -> int | None:
    """The emulator order id of a :func:`order_uuid` text, None for anything else."""
    head, _, tail = uuid_text.rpartition("-")
    return int(tail) if head == "00000000-0000-4000-8000" and tail.isdigit() else None


def err(status: int, name: str, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    """An error answer in the family's shape: ``{"error": {"name", "message"}}``."""
    return web.Response(
        body=_enc({"error": {"name": name, "message": message}}),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def ok(body: Any, status: int = 200) -> web.Response:
    """A JSON answer."""
    return web.Response(body=_enc(body), status=status, content_type="application/json")


def kst(ts: float) -> str:
    """``ts`` as an ISO time in Korea Standard Time."""
    return datetime.fromtimestamp(ts, UTC).astimezone(_KST).isoformat(timespec="seconds")


#: A private handler: the request, its authenticated account and its parameters.
Handler = Callable[[web.Request, Account, Mapping[str, str]], Awaitable[web.Response]]


class UpbitFamilyPrivateApi(AccountBook, ABC):
    """What Upbit's private API and Bithumb's current (Upbit-shaped) one share in the emulator:
    accounts, order documents, order handlers, balances, order chance, withdrawal chance and the
    ``myOrder`` stream. A venue adds its own copy of its signature rule
    (:meth:`authenticate`, :meth:`params_text`, :meth:`check_claims`) and its paths
    (:meth:`routes`)."""

    drops_stream_on_tick = False  # pump_feed polls for the drop

    #: the venue's name (the exchange's, unless the constructor is given another)
    venue_name: ClassVar[str] = "upbit"
    #: the client id field of the order documents
    id_field: ClassVar[str] = "identifier"
    #: HTTP status, error name and message of each refusal
    rejects: ClassVar[Mapping[RejectReason, tuple[int, str, str]]] = REJECTS

    def __init__(
        self,
        books: dict[str, ScriptedBook],
        spawn: Callable[[Coroutine[Any, Any, None]], object],
        venue: str | None = None,
    ) -> None:
        rules: dict[str, tuple[ScriptedBook, MarketRules]] = {}
        self._code_of: dict[str, str] = {}
        for code, book in books.items():
            quote, _, base = code.partition("-")
            rules[code] = (
                book,
                MarketRules(
                    f"{base}/{quote}",
                    base,
                    quote,
                    tick=Decimal(repr(book.tick)),
                    step=Decimal("0.00000001"),
                    min_notional=Decimal("5000") if quote == "KRW" else Decimal("0.0005"),
                ),
            )
            self._code_of[f"{base}/{quote}"] = code
        self.exchange: EmulatedExchange
        self.exchange, self.account = scripted_exchange(
            venue or self.venue_name, rules, fee_asset=FeeAsset.QUOTE, client_id_scope="all"
        )
        for asset in {r.base for _b, r in rules.values()}:
            self.exchange.add_network(
                NetworkSpec(
                    asset, asset, Decimal("0.0005"), Decimal("0.001"), confirmations=2, confirm_seconds=1.0
                )
            )
        self._spawn = spawn
        self.nonces: set[str] = set()

    @abstractmethod
    def authenticate(self, header: str | None, params_text: str | None) -> Account | web.Response:
        """The account of a correctly signed request, or the venue's 401 answer."""

    @abstractmethod
    def params_text(self, request: web.Request, body: bytes) -> tuple[str, dict[str, str]]:
        """The hashed parameter text of a request and its parameters."""

    @abstractmethod
    def routes(self) -> list[web.RouteDef]:
        """The venue's private paths."""

    def place(self, account: Account, params: Mapping[str, str], type_field: str) -> OrderSnapshot:
        """Place an order (a client id already used by an order of the account is refused)."""
        cid = params.get(self.id_field) or None
        symbol, side, kind, qty, price, quote_qty, tif = self._order_request(params, type_field)
        return self.exchange.place(
            account.api_key,
            symbol,
            side,
            kind,
            qty=qty,
            price=price,
            quote_qty=quote_qty,
            time_in_force=tif,
            client_id=cid,
        )

    def _private(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def wrapped(request: web.Request) -> web.Response:
            try:
                raw = await request.read()
                hashed, params = self.params_text(request, raw)
                auth = self.authenticate(request.headers.get("Authorization"), hashed)
                if isinstance(auth, web.Response):
                    return auth
                self.exchange.check_request(auth.api_key)
                return await handler(request, auth, params)
            except AckLost:
                return drop_answer(request)
            except ExchangeRateLimited as exc:
                return err(
                    429,
                    "too_many_requests",
                    "Too many API requests.",
                    {"Retry-After": f"{exc.retry_after:g}", "Remaining-Req": "group=order; min=0; sec=0"},
                )
            except ExchangeServerError as exc:
                return err(exc.status, "server_error", "Internal server error")
            except ExchangeReject as exc:
                status, name, msg = self.rejects[exc.reason]
                return err(status, name, msg)
            except ExchangeError as exc:
                return err(400, "validation_error", str(exc))

        return wrapped

    def _symbol(self, code: str) -> str:
        quote, _, base = code.partition("-")
        return f"{base}/{quote}"

    def render_trade(self, f: ExchangeFill) -> dict[str, Any]:
        """A fill as an order document's ``trades`` entry."""
        return {
            "market": self._code_of[f.symbol],
            "uuid": order_uuid(f.trade_id),
            "price": text(f.price),
            "volume": text(f.qty),
            "funds": text(f.quote_qty),
            "side": "bid" if f.side is Side.BUY else "ask",
            "created_at": kst(f.ts),
            "trend": "up" if f.side is Side.BUY else "down",
        }

    def render_order(self, o: OrderSnapshot, trades: bool = False) -> dict[str, Any]:
        """An order as Upbit's order document (``trades`` for the single-order answer)."""
        is_open = o.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
        state = "wait" if is_open else "done" if o.status is OrderStatus.FILLED else "cancel"
        if o.order_type is OrderType.MARKET:
            ord_type = "price" if o.side is Side.BUY else "market"
        else:
            ord_type = "limit"
        doc: dict[str, Any] = {
            "uuid": order_uuid(o.order_id),
            "side": "bid" if o.side is Side.BUY else "ask",
            "ord_type": ord_type,
            "price": text(o.quote_qty if ord_type == "price" else o.price) or None,
            "state": state,
            "market": self._code_of[o.symbol],
            "created_at": kst(o.created),
            "volume": text(o.qty) if ord_type != "price" else None,
            "remaining_volume": text(o.remaining) if ord_type != "price" else None,
            "reserved_fee": "0",
            "remaining_fee": "0",
            "paid_fee": text(o.fee),
            "locked": "0",
            "executed_volume": text(o.filled),
            "executed_funds": text(o.filled_quote),
            "trades_count": 0,
            self.id_field: o.client_id,
        }
        if o.time_in_force in _TIF_TEXT:
            doc["time_in_force"] = _TIF_TEXT[o.time_in_force]
        fills = [f for f in self.exchange.fills(o.api_key, o.symbol) if f.order_id == o.order_id]
        doc["trades_count"] = len(fills)
        if trades:
            doc["trades"] = [self.render_trade(f) for f in fills]
        return doc

    def _order_request(
        self, params: Mapping[str, str], type_field: str
    ) -> tuple[str, Side, OrderType, Decimal | None, Decimal | None, Decimal | None, TimeInForce]:
        try:
            symbol = self._symbol(params["market"])
            side = {"bid": Side.BUY, "ask": Side.SELL}[params["side"]]
            kind = params[type_field]
            price = Decimal(params["price"]) if params.get("price") else None
            volume = Decimal(params["volume"]) if params.get("volume") else None
            tif = _TIF[params["time_in_force"]] if params.get("time_in_force") else TimeInForce.GTC
        except (KeyError, InvalidOperation) as exc:
            raise ExchangeReject(RejectReason.INVALID_REQUEST, f"bad parameter {exc}") from None
        if kind == "limit":
            return symbol, side, OrderType.LIMIT, volume, price, None, tif
        if kind == "price" and side is Side.BUY:
            return symbol, side, OrderType.MARKET, None, None, price, TimeInForce.IOC
        if kind == "market" and side is Side.SELL:
            return symbol, side, OrderType.MARKET, volume, None, None, TimeInForce.IOC
        raise ExchangeReject(RejectReason.INVALID_REQUEST, f"{type_field} {kind} with side {params['side']}")

    def find(self, account: Account, params: Mapping[str, str]) -> OrderSnapshot:
        """The order named by ``uuid`` (or ``order_id``) or by the client id field."""
        ref = params.get("uuid") or params.get("order_id")
        if ref:
            oid = order_id_of(ref)
            if oid is None:
                raise ExchangeReject(RejectReason.ORDER_NOT_FOUND, ref)
            return self.exchange.get_order(account.api_key, order_id=oid)
        cid = params.get(self.id_field)
        if not cid:
            raise ExchangeReject(RejectReason.INVALID_REQUEST, f"uuid or {self.id_field} is required")
        return self.exchange.get_order(account.api_key, client_id=cid)

    async def _get(self, request: web.Request, account: Account, params: Mapping[str, str]) -> web.Response:
        return ok(self.render_order(self.find(account, params), trades=True))

    async def _cancel(
        self, request: web.Request, account: Account, params: Mapping[str, str]
    ) -> web.Response:
        snap = self.exchange.cancel(account.api_key, order_id=self.find(account, params).order_id)
        return ok(self.render_order(snap))

    def _market_arg(self, params: Mapping[str, str]) -> str | None:
        code = params.get("market")
        return self._symbol(code) if code else None

    async def _accounts(
        self, request: web.Request, account: Account, params: Mapping[str, str]
    ) -> web.Response:
        return ok(
            [
                {
                    "currency": a,
                    "balance": text(free),
                    "locked": text(locked),
                    "avg_buy_price": "0",
                    "avg_buy_price_modified": False,
                    "unit_currency": "KRW",
                }
                for a, (free, locked) in self.exchange.balances(account.api_key).items()
            ]
        )

    async def _chance(
        self, request: web.Request, account: Account, params: Mapping[str, str]
    ) -> web.Response:
        code = params.get("market", "")
        rules = self.exchange.rules(self._symbol(code))
        tier = self.exchange.fee_tier(account.api_key)
        bal = self.exchange.balances(account.api_key)

        def acct(asset: str) -> dict[str, Any]:
            free, locked = bal.get(asset, (Decimal(0), Decimal(0)))
            return {
                "currency": asset,
                "balance": text(free),
                "locked": text(locked),
                "avg_buy_price": "0",
                "avg_buy_price_modified": False,
                "unit_currency": rules.quote,
            }

        side_rules = {"currency": rules.quote, "min_total": text(rules.min_notional)}
        return ok(
            {
                "bid_fee": text(tier.taker),
                "ask_fee": text(tier.taker),
                "maker_bid_fee": text(tier.maker),
                "maker_ask_fee": text(tier.maker),
                "market": {
                    "id": code,
                    "name": f"{rules.base}/{rules.quote}",
                    "order_types": ["limit"],
                    "order_sides": ["ask", "bid"],
                    "bid_types": ["limit", "price", "limit_ioc", "limit_fok"],
                    "ask_types": ["limit", "market", "limit_ioc", "limit_fok"],
                    "bid": side_rules,
                    "ask": {**side_rules, "currency": rules.base},
                    "max_total": "1000000000",
                    "state": "active",
                },
                "bid_account": acct(rules.quote),
                "ask_account": acct(rules.base),
            }
        )

    async def _withdraw_chance(
        self, request: web.Request, account: Account, params: Mapping[str, str]
    ) -> web.Response:
        asset = params.get("currency", "")
        nets = [n for n in self.exchange.network_list(asset) if n.network == params.get("net_type", asset)]
        if not nets:
            raise ExchangeReject(RejectReason.NETWORK_UNAVAILABLE, asset)
        n = nets[0]
        free, locked = self.exchange.balances(account.api_key).get(asset, (Decimal(0), Decimal(0)))
        support = [x for x, on in (("deposit", n.deposit_enabled), ("withdraw", n.withdraw_enabled)) if on]
        return ok(
            {
                "member_level": {"security_level": 4, "fee_level": 0, "email_verified": True},
                "currency": {
                    "code": asset,
                    "withdraw_fee": text(n.withdraw_fee),
                    "is_coin": True,
                    "wallet_state": "working",
                    "wallet_support": support,
                },
                "account": {"currency": asset, "balance": text(free), "locked": text(locked)},
                "withdraw_limit": {
                    "currency": asset,
                    "minimum": text(n.withdraw_min),
                    "onetime": "100",
                    "daily": "1000",
                    "remaining_daily": "1000",
                    "fixed": 8,
                    "can_withdraw": n.withdraw_enabled,
                },
            }
        )

    # -- wallet ------------------------------------------------------------------------------

    def wallet_routes(self) -> list[web.RouteDef]:
        """``POST /v1/withdraws/coin``, ``GET /v1/withdraw`` (by ``uuid``), ``GET /v1/deposits``."""
        p = self._private
        return [
            web.post("/v1/withdraws/coin", p(self._withdraw_coin)),
            web.get("/v1/withdraw", p(self._withdrawal)),
            web.get("/v1/deposits", p(self._deposits)),
        ]

    def render_transfer(self, t: Transfer) -> dict[str, Any]:
        """A withdrawal or deposit as the family's transfer document (``DONE``/``ACCEPTED``
        once confirmed, ``PROCESSING`` before)."""
        done = t.status is TransferStatus.COMPLETED
        if t.kind == "withdrawal":
            kind, state = "withdraw", "DONE" if done else "PROCESSING"
        else:
            kind, state = "deposit", "ACCEPTED" if done else "PROCESSING"
        return {
            "type": kind,
            "uuid": transfer_uuid(t.kind, t.transfer_id),
            "currency": t.asset,
            "net_type": t.network,
            "txid": t.txid,
            "state": state,
            "created_at": kst(t.created),
            "done_at": kst(t.completes_at) if done else None,
            "amount": text(t.amount),
            "fee": text(t.fee),
            "transaction_type": "default",
        }

    async def _withdraw_coin(
        self, request: web.Request, account: Account, params: Mapping[str, str]
    ) -> web.Response:
        try:
            asset, amount = params["currency"], Decimal(params["amount"])
        except (KeyError, InvalidOperation) as exc:
            raise ExchangeReject(RejectReason.INVALID_REQUEST, f"bad parameter {exc}") from None
        network = params.get("net_type") or asset
        try:
            transfer = self.withdraw_for(account, asset, network, amount, params.get("address", ""))
        except WithdrawForbidden:
            return err(401, "out_of_scope", "권한이 부족합니다.")
        return ok(self.render_transfer(transfer), 201)

    async def _withdrawal(
        self, request: web.Request, account: Account, params: Mapping[str, str]
    ) -> web.Response:
        ref = params.get("uuid", "")
        for t in self.transfers_of(account, "withdrawal"):
            if transfer_uuid(t.kind, t.transfer_id) == ref:
                return ok(self.render_transfer(t))
        return err(404, "withdraw_not_found", "출금 내역이 존재하지 않습니다.")

    async def _deposits(
        self, request: web.Request, account: Account, params: Mapping[str, str]
    ) -> web.Response:
        rows = self.transfers_of(account, "deposit", params.get("currency"))
        return ok([self.render_transfer(t) for t in rows])

    async def on_connect(self, client: EmulatorClient) -> bool:
        """A private WebSocket connection: its JWT (upgrade ``Authorization`` header) must be
        valid; otherwise an ``INVALID_AUTH`` error and the socket is closed."""
        request = client.conn.request
        header = request.headers.get("Authorization") if request is not None else None
        auth = self.authenticate(header, None)
        if isinstance(auth, web.Response):
            await client.send(_enc({"error": {"name": "INVALID_AUTH", "message": "Invalid JWT"}}).decode())
            await client.conn.close(1008, "invalid auth")
            return False
        client.state["private"] = auth.api_key
        return True

    async def on_message(self, client: EmulatorClient, req: list[Any]) -> None:
        """A subscription request on a private connection (``myOrder`` / ``myAsset``)."""
        kinds = {str(p.get("type")) for p in req if isinstance(p, dict) and p.get("type")}
        client.topics = kinds & {"myOrder", "myAsset"}
        if "myOrder" in client.topics and "pump" not in client.state:
            client.state["pump"] = True
            feed = self.exchange.subscribe(str(client.state["private"]))
            self._spawn(pump_feed(self.exchange, feed, client, self.render_event))

    def render_event(self, event: ExchangeEvent) -> list[str]:
        """One ``myOrder`` frame (state ``trade`` when the event carries a fill)."""
        o, f = event.order, event.fill
        if f is not None:
            state = "trade"
        elif o.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
            state = "wait"
        else:
            state = "done" if o.status is OrderStatus.FILLED else "cancel"
        avg = o.average_price
        doc: dict[str, Any] = {
            "type": "myOrder",
            "code": self._code_of[o.symbol],
            "uuid": order_uuid(o.order_id),
            "ask_bid": "BID" if o.side is Side.BUY else "ASK",
            "order_type": o.order_type.value,
            "state": state,
            "price": float(f.price if f is not None else (o.price or 0)),
            "avg_price": float(avg) if avg is not None else 0.0,
            "volume": float(f.qty if f is not None else o.qty),
            "remaining_volume": float(o.remaining),
            "executed_volume": float(o.filled),
            "trades_count": 1 if f is not None else 0,
            "reserved_fee": 0.0,
            "remaining_fee": 0.0,
            "paid_fee": float(o.fee),
            "locked": 0.0,
            "executed_funds": float(o.filled_quote),
            "time_in_force": _TIF_TEXT.get(o.time_in_force),
            self.id_field: o.client_id,
            "order_timestamp": int(o.created * 1000),
            "timestamp": int(o.updated * 1000),
            "stream_type": "REALTIME",
        }
        if f is not None:
            doc.update(
                trade_uuid=order_uuid(f.trade_id),
                trade_fee=float(f.fee),
                is_maker=f.is_maker,
                trade_timestamp=int(f.ts * 1000),
            )
        return [_enc(doc).decode()]
