"""What the Upbit and Bithumb trading gateways share: Bithumb's current private API has Upbit's
shape, so balances (``/v1/accounts``), fees (``/v1/orders/chance``), networks
(``/v1/withdraws/chance``), order documents, the order request's fields, the
``{"error": {"name", "message"}}`` answers, the ``myOrder`` stream frames and the market codes
(``KRW-BTC``) are read and written the same way. Where the two differ only in a name, the
gateway's class attributes say it (:attr:`UpbitFamilyGateway.client_id_field`,
:attr:`~UpbitFamilyGateway.order_path`, :attr:`~UpbitFamilyGateway.order_type_field`, the error
names). A venue's gateway keeps its signing, its clock, its market list, its order query and
cancel paths, the answer to a new order and its private stream.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import ClassVar

import msgspec

from arbot.connectors.ws import GarbageFrame, WsSession
from arbot.events import Side
from arbot.trading.errors import (
    AuthenticationFailed,
    ClockSkew,
    DuplicateClientId,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TradingError,
)
from arbot.trading.precision import quote_size_text
from arbot.trading.signed_gateway import JsonValue, PreparedOrder, SignedRestGateway
from arbot.trading.signing import uuid4_text
from arbot.trading.types import (
    Balance,
    DepositWithdrawNetwork,
    Fill,
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

__all__ = ["UpbitFamilyGateway", "iso_time", "json_object", "number"]


def number(value: JsonValue) -> float:
    """A number of an answer (text or number); 0.0 for a missing or empty one."""
    if value is None or value == "" or isinstance(value, (dict, list)):
        return 0.0
    return float(value)


def iso_time(text: JsonValue) -> float:
    """An ISO 8601 time of an answer in epoch seconds (local time when it has no offset); 0.0
    when it is not one."""
    try:
        t = datetime.fromisoformat(str(text))
    except ValueError:
        return 0.0
    return (t - _EPOCH).total_seconds() if t.tzinfo is not None else t.timestamp()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def json_object(venue: str, value: JsonValue) -> dict[str, JsonValue]:
    """``value`` as a JSON object; a :class:`TradingError` naming the venue otherwise."""
    if not isinstance(value, dict):
        raise TradingError(venue, f"unexpected answer {value!r:.200}")
    return value


def _object_or_empty(value: JsonValue) -> dict[str, JsonValue]:
    return value if isinstance(value, dict) else {}


def _list_or_empty(value: JsonValue) -> list[JsonValue]:
    return value if isinstance(value, list) else []


#: Error names of a refused key or token (both venues).
AUTH_ERRORS = frozenset(
    {
        "jwt_verification",
        "invalid_access_key",
        "expired_access_key",
        "no_authorization_token",
        "nonce_used",
        "invalid_query_payload",
        "out_of_scope",
        "no_authorization_ip",
    }
)

_SIDE = {Side.BUY: "bid", Side.SELL: "ask"}
_TIF = {TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok", TimeInForce.POST_ONLY: "post_only"}
_STREAM_STATUS = {
    "wait": OrderStatus.NEW,
    "watch": OrderStatus.NEW,
    "trade": OrderStatus.PARTIALLY_FILLED,
    "done": OrderStatus.FILLED,
    "cancel": OrderStatus.CANCELLED,
}


class UpbitFamilyGateway(SignedRestGateway):
    """Base of the Upbit and Bithumb gateways (see the module docstring)."""

    #: The private stream, while it runs.
    ws: WsSession | None = None
    #: The client order id's field, in the order request and in the venue's order documents.
    client_id_field: ClassVar[str] = "identifier"
    #: The path that places an order.
    order_path: ClassVar[str] = "/v1/orders"
    #: The order request's order type field.
    order_type_field: ClassVar[str] = "ord_type"
    #: Error names meaning "the key or token was refused".
    auth_errors: ClassVar[frozenset[str]] = AUTH_ERRORS
    #: Error names meaning "the token's time was off" (the request was not taken).
    clock_errors: ClassVar[frozenset[str]] = frozenset()
    #: Error names meaning "this client id was used already".
    duplicate_errors: ClassVar[frozenset[str]] = frozenset({"duplicate_identifier"})

    @abstractmethod
    async def recent_orders(self, code: str) -> list[JsonValue]:
        """The open and recently closed order documents of the market ``code`` (``KRW-BTC``)."""

    def _symbol_of(self, code: str) -> str:
        symbol = self.unified_symbol(code, "")
        if symbol:
            return symbol
        quote, _, base = code.partition("-")  # KRW-BTC: quote first
        return f"{base}/{quote}"

    def new_client_id(self) -> str:
        """A fresh client order id (a UUID: never reused, across restarts too)."""
        return f"arb-{uuid4_text()}"

    def error_for(self, status: int, body: JsonValue, text: str) -> TradingError:
        """The venue's ``{"error": {"name", "message"}}`` as a typed error."""
        err = body.get("error") if isinstance(body, dict) else None
        if not isinstance(err, dict):
            return TradingError(self.venue, f"HTTP {status}: {text[:200]}", str(status))
        name, msg = str(err.get("name", status)), str(err.get("message", ""))
        if name in self.clock_errors:
            return ClockSkew(self.venue, msg, name)
        if name in self.auth_errors or status == 401:
            return AuthenticationFailed(self.venue, msg, name)
        if name == "too_many_requests":
            return RateLimited(self.venue, msg, name)
        if name == "order_not_found":
            return OrderNotFound(self.venue, msg, name)
        if name in self.duplicate_errors:
            return DuplicateClientId(self.venue, msg, name)
        return OrderRejected(self.venue, msg, name)

    def order_call(self, order: PreparedOrder) -> tuple[str, Mapping[str, str]]:
        """The order request: ``side`` bid/ask; a limit order with its ``time_in_force``
        (ioc/fok/post_only), a market buy by KRW total (type ``price``, sized at the request's
        reference price), a market sell by volume (type ``market``); the client id last."""
        req = order.request
        type_field = self.order_type_field
        body = {"market": order.market.venue_symbol, "side": _SIDE[req.side]}
        if req.order_type is OrderType.LIMIT:
            assert order.price is not None
            body[type_field] = "limit"
            body["price"] = order.price
            body["volume"] = order.quantity
            tif = _TIF.get(req.time_in_force)
            if tif is not None:
                body["time_in_force"] = tif
        elif req.side is Side.BUY:
            if req.price is None:
                raise OrderRejected(
                    self.venue,
                    f"a {self.venue.capitalize()} market buy is sized in KRW: give a reference price",
                    "price",
                )
            body[type_field] = "price"
            body["price"] = quote_size_text(order.quantity, req.price)
        else:
            body[type_field] = "market"
            body["volume"] = order.quantity
        body[self.client_id_field] = req.client_id
        return self.order_path, body

    def parse_order(self, o: Mapping[str, JsonValue]) -> OrderState:
        """An order document (``state`` wait/watch/done/cancel, with its ``trades``) as an
        :class:`OrderState`."""
        executed = number(o.get("executed_volume"))
        volume = number(o.get("volume")) or executed
        state = str(o.get("state", ""))
        if state in ("wait", "watch"):
            status = OrderStatus.PARTIALLY_FILLED if executed > 0 else OrderStatus.NEW
        elif state == "done":
            status = OrderStatus.FILLED
        elif executed > 0 or state == "cancel":
            status = OrderStatus.CANCELLED
        else:
            status = OrderStatus.EXPIRED
        trades = o.get("trades")
        funds = sum(number(_object_or_empty(t).get("funds")) for t in _list_or_empty(trades))
        avg = funds / executed if funds and executed else None
        return OrderState(
            self.venue,
            self._symbol_of(str(o.get("market", ""))),
            str(o.get("uuid", "")),
            str(o.get(self.client_id_field) or ""),
            status,
            Side.BUY if o.get("side") == "bid" else Side.SELL,
            volume,
            executed,
            number(o.get("price")) or None,
            avg,
            iso_time(o.get("created_at")),
        )

    async def recent_fills(self, symbol: str, since: float | None = None) -> Sequence[Fill]:
        """Trades of the market's recent orders (neither venue has a fill list: each order's
        detail, ``GET /v1/order?uuid=``, carries its ``trades``, with per-order fees only)."""
        code = self.market(symbol).venue_symbol
        orders = [
            o
            for o in map(_object_or_empty, await self.recent_orders(code))
            if number(o.get("executed_volume"))
        ]
        fills: list[Fill] = []
        for o in orders:
            detail = json_object(self.venue, await self.call("GET", "/v1/order", {"uuid": str(o["uuid"])}))
            for t in map(_object_or_empty, _list_or_empty(detail.get("trades"))):
                ts = iso_time(t.get("created_at"))
                if since is None or ts >= since:
                    fills.append(
                        Fill(
                            self.venue,
                            symbol,
                            str(detail.get("uuid")),
                            str(detail.get(self.client_id_field) or ""),
                            str(t.get("uuid")),
                            Side.BUY if t.get("side") == "bid" else Side.SELL,
                            number(t.get("price")),
                            number(t.get("volume")),
                            0.0,
                            code.partition("-")[0],
                            ts,
                        )
                    )
        return sorted(fills, key=lambda f: f.ts)

    def parse_my_order(self, m: Mapping[str, JsonValue]) -> OrderUpdate:
        """One ``myOrder`` push (a ``trade`` state carries the fill)."""
        symbol = self._symbol_of(str(m.get("code", "")))
        side = Side.BUY if m.get("ask_bid") == "BID" else Side.SELL
        executed = number(m.get("executed_volume"))
        state = str(m.get("state", ""))
        # on a ``trade`` push ``volume``/``price`` are the trade's; the order's size is the rest
        volume = executed + number(m.get("remaining_volume")) if state == "trade" else number(m.get("volume"))
        status = _STREAM_STATUS.get(state, OrderStatus.NEW)
        if state == "trade" and volume and executed >= volume:
            status = OrderStatus.FILLED
        ts = number(m.get("timestamp")) / 1000.0
        order_id, client_id = str(m.get("uuid", "")), str(m.get(self.client_id_field) or "")
        average = number(m.get("avg_price")) or None
        fills: tuple[Fill, ...] = ()
        price = number(m.get("price")) or None
        if state == "trade":
            fills = (
                Fill(
                    self.venue,
                    symbol,
                    order_id,
                    client_id,
                    str(m.get("trade_uuid", "")),
                    side,
                    number(m.get("price")),
                    number(m.get("volume")),
                    number(m.get("trade_fee")),
                    str(m.get("code", "")).partition("-")[0],
                    number(m.get("trade_timestamp")) / 1000.0,
                    bool(m.get("is_maker")),
                ),
            )
            price = None  # the trade's price, not the order's
        st = OrderState(
            self.venue, symbol, order_id, client_id, status, side, volume, executed, price, average, ts
        )
        return OrderUpdate(st, fills, ts, "stream")

    async def balances(self) -> dict[str, Balance]:
        """``GET /v1/accounts``: ``balance`` (free) and ``locked``."""
        data = await self.call("GET", "/v1/accounts")
        rows = [_object_or_empty(a) for a in (data if isinstance(data, list) else [])]
        return {
            str(a["currency"]): Balance(str(a["currency"]), number(a.get("balance")), number(a.get("locked")))
            for a in rows
        }

    async def trading_fees(self, symbols: Sequence[str]) -> dict[str, TradingFee]:
        """``GET /v1/orders/chance``: ``maker_bid_fee`` / ``bid_fee``."""
        out: dict[str, TradingFee] = {}
        for sym in symbols:
            answer = await self.call("GET", "/v1/orders/chance", {"market": self.market(sym).venue_symbol})
            d = json_object(self.venue, answer)
            out[sym] = TradingFee(
                sym, number(d.get("maker_bid_fee", d.get("bid_fee"))), number(d.get("bid_fee"))
            )
        return out

    async def networks(self, asset: str) -> Sequence[DepositWithdrawNetwork]:
        """``GET /v1/withdraws/chance?currency=&net_type=`` (the asset's own network)."""
        answer = await self.call("GET", "/v1/withdraws/chance", {"currency": asset, "net_type": asset})
        d = json_object(self.venue, answer)
        cur, lim = _object_or_empty(d.get("currency")), _object_or_empty(d.get("withdraw_limit"))
        support = cur.get("wallet_support")
        ways = [str(s) for s in support] if isinstance(support, list) else []
        return [
            DepositWithdrawNetwork(
                asset,
                asset,
                number(cur.get("withdraw_fee")),
                number(lim.get("minimum")),
                "deposit" in ways,
                "withdraw" in ways and bool(lim.get("can_withdraw")),
            )
        ]

    # -- wallet ------------------------------------------------------------------------------

    supports_withdrawals = True

    def parse_transfer(self, d: Mapping[str, JsonValue]) -> WalletTransfer:
        """A withdrawal or deposit document (``DONE``/``ACCEPTED`` completed; ``FAILED``,
        ``CANCELLED``, ``REJECTED``, ``REFUNDED`` failed; the rest pending)."""
        state_text = str(d.get("state", "")).upper()
        if state_text in ("DONE", "ACCEPTED"):
            state = TransferState.COMPLETED
        elif state_text in ("FAILED", "CANCELLED", "CANCELED", "REJECTED", "REFUNDED"):
            state = TransferState.FAILED
        else:
            state = TransferState.PENDING
        return WalletTransfer(
            self.venue,
            "withdrawal" if d.get("type") == "withdraw" else "deposit",
            str(d.get("uuid", "")),
            str(d.get("currency", "")),
            str(d.get("net_type", "")),
            number(d.get("amount")),
            number(d.get("fee")),
            state,
            "",
            str(d.get("txid") or ""),
            iso_time(d.get("created_at")),
        )

    async def withdraw(self, asset: str, network: str, amount: float, address: str) -> str:
        """``POST /v1/withdraws/coin`` (``currency``, ``net_type``, ``amount``, ``address``: the
        venue takes only addresses registered on its site); the withdrawal's ``uuid``."""
        body = {"currency": asset, "net_type": network, "amount": amount_text(amount), "address": address}
        answer = await self.call("POST", "/v1/withdraws/coin", body=body, resend=False)
        return str(json_object(self.venue, answer)["uuid"])

    async def withdrawal(self, withdrawal_id: str) -> WalletTransfer:
        """``GET /v1/withdraw?uuid=``."""
        try:
            answer = await self.call("GET", "/v1/withdraw", {"uuid": withdrawal_id})
        except TradingError as exc:
            if exc.code in ("withdraw_not_found", "notfoundwithdraw"):
                raise OrderNotFound(self.venue, f"no withdrawal {withdrawal_id}", exc.code) from exc
            raise
        return self.parse_transfer(json_object(self.venue, answer))

    async def deposits(self, asset: str | None = None) -> Sequence[WalletTransfer]:
        """``GET /v1/deposits`` (of one currency)."""
        answer = await self.call("GET", "/v1/deposits", {"currency": asset} if asset else None)
        rows = answer if isinstance(answer, list) else []
        return [self.parse_transfer(_object_or_empty(r)) for r in rows]

    async def stream_settled(self) -> None:
        """The reconnected ``myOrder`` subscription is sent (the venue does not answer it)."""
        if self.ws is not None:
            await self.ws.wait_connected()

    def _on_frame(self, frame: str | bytes, recv_time: float) -> None:
        msg = msgspec.json.decode(frame)
        if not isinstance(msg, dict):
            raise GarbageFrame("not an object")
        if msg.get("type") != "myOrder":
            return
        self.publish(self.parse_my_order(msg))

    async def close(self) -> None:
        """Close the private stream and the REST session."""
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
        await super().close()
