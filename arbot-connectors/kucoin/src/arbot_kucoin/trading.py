"""KuCoin spot trading gateway: HF orders, balances, fees, networks and the private stream.

REST (``shared/exchanges/kucoin.md`` §8): ``POST /api/v1/hf/orders`` (``clientOid``; limit GTC,
IOC, FOK, post-only; market), cancel/query by client id at
``/api/v1/hf/orders/client-order/{clientOid}``, ``DELETE /api/v1/hf/orders?symbol=`` (cancel
all), ``GET /api/v1/hf/orders/active``, ``GET /api/v1/hf/fills``, ``GET /api/v1/accounts``,
``GET /api/v1/trade-fees``, ``GET /api/v3/currencies/{currency}``, ``GET /api/v1/timestamp``.
Answers are ``{"code": "200000", "data": ...}``; anything else is an error with KuCoin's code.
The private stream: a token from ``POST /api/v1/bullet-private`` (signed), then
``/spotMarket/tradeOrdersV2`` (order changes with fills) on the venue's WebSocket.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from arbot.connectors.ratelimit import RateLimitPolicy
from arbot.connectors.ws import Backoff, GarbageFrame, Heartbeat, WsSession
from arbot.events import Side
from arbot.market import MarketInfo
from arbot.trading.errors import (
    AuthenticationFailed,
    ClockSkew,
    DuplicateClientId,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TradingError,
)
from arbot.trading.signed_gateway import JsonValue, PreparedOrder, SignedRestGateway
from arbot.trading.signing import ApiCredentials, SignedRequest
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

from arbot_kucoin.markets import parse_symbols
from arbot_kucoin.signing import KucoinSigner

__all__ = ["KucoinTradingGateway"]

log = logging.getLogger("arbot_kucoin.trading")

VENUE = "kucoin"
_OK = "200000"
_AUTH_CODES = {"400001", "400003", "400004", "400005", "400006", "400007"}
_NOT_FOUND = ("not exist", "not_exist", "does not exist")


def _obj(value: JsonValue) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TradingError(VENUE, f"unexpected answer {value!r:.200}")
    return value


def _f(value: Any) -> float:
    return float(value) if value not in (None, "") else 0.0


class KucoinTradingGateway(SignedRestGateway):
    """The :class:`~arbot.trading.gateway.TradingGateway` of KuCoin spot (module docstring)."""

    venue = VENUE
    supports_withdrawals = True
    #: per IP (KuCoin's public pool, shared with the market-data connector) and the key's
    #: (UID's) spot pool
    rate_limit = {"type": "weight", "limit": 2000, "window": 30.0}
    rate_limit_per_key = {"type": "weight", "limit": 4000, "window": 30.0}
    venue_symbol_separator = "-"

    def __init__(
        self,
        credentials: ApiCredentials,
        markets: Mapping[str, MarketInfo] | None = None,
        *,
        rest_url: str = "https://api.kucoin.com",
        limiter: RateLimitPolicy | None = None,
        timeout: float = 10.0,
        stream: bool = True,
    ) -> None:
        super().__init__(
            credentials,
            rest_url,
            markets or {},
            limiter=limiter,
            timeout=timeout,
        )
        self.signer = KucoinSigner(credentials)
        self.stream_enabled = stream
        self.ws: WsSession | None = None
        self._msg_ids = itertools.count(1)
        self._ws_url = ""
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sub_id = ""
        #: set once the venue acknowledged the order-channel subscription of this connection
        self.subscribed = asyncio.Event()

    # -- signing and errors ------------------------------------------------------------------

    def sign(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: Mapping[str, str] | None,
        now_ms: int,
    ) -> SignedRequest:
        """KuCoin key-version-2 headers."""
        return self.signer.sign(method, path, now_ms, query, body)

    def _error(self, code: str, msg: str) -> TradingError:
        low = msg.lower()
        if code == "400002":
            return ClockSkew(VENUE, msg, code)
        if code in _AUTH_CODES:
            return AuthenticationFailed(VENUE, msg, code)
        if code in ("429000", "200002"):
            return RateLimited(VENUE, msg, code)
        if "clientoid" in low and "duplicat" in low:
            return DuplicateClientId(VENUE, msg, code)
        if any(s in low for s in _NOT_FOUND):
            return OrderNotFound(VENUE, msg, code)
        return OrderRejected(VENUE, msg, code)

    def error_for(self, status: int, body: JsonValue, text: str) -> TradingError:
        """KuCoin's ``{"code", "msg"}`` error body as a typed error."""
        if isinstance(body, dict):
            return self._error(str(body.get("code", status)), str(body.get("msg", text)))
        return TradingError(VENUE, f"HTTP {status}: {text[:200]}", str(status))

    def unwrap(self, body: JsonValue) -> JsonValue:
        """``data`` of a ``200000`` answer; any other code raises."""
        obj = _obj(body)
        code = str(obj.get("code", ""))
        if code != _OK:
            raise self._error(code, str(obj.get("msg", "")))
        data: JsonValue = obj.get("data")
        return data

    # -- public ------------------------------------------------------------------------------

    async def server_time_ms(self) -> int:
        """``GET /api/v1/timestamp``."""
        body = await self.rest.get("/api/v1/timestamp")
        return int(_obj(body)["data"])

    async def fetch_markets(self) -> list[MarketInfo]:
        """``GET /api/v2/symbols``."""
        return parse_symbols(await self.rest.get("/api/v2/symbols", weight=4), VENUE)

    # -- orders ------------------------------------------------------------------------------

    def order_call(self, order: PreparedOrder) -> tuple[str, Mapping[str, str]]:
        """``POST /api/v1/hf/orders`` with the order's JSON body."""
        req = order.request
        body: dict[str, str] = {
            "clientOid": req.client_id,
            "side": req.side.value.lower(),
            "symbol": order.market.venue_symbol,
            "type": req.order_type.value,
        }
        if req.order_type is OrderType.LIMIT:
            assert order.price is not None
            body["price"] = order.price
            body["size"] = order.quantity
            if req.time_in_force is TimeInForce.POST_ONLY:
                body["timeInForce"] = "GTC"
                body["postOnly"] = "true"
            else:
                body["timeInForce"] = req.time_in_force.value
        else:
            body["size"] = order.quantity
        return "/api/v1/hf/orders", body

    def order_ack(self, order: PreparedOrder, body: JsonValue) -> OrderState:
        """The ack carries the order id only: the order is NEW until queried or streamed."""
        order_id = str(_obj(body).get("orderId", ""))
        return self.accepted(order.request, order.quantity, order.price, order_id, time.time())

    def _symbol_of(self, venue_symbol: str) -> str:
        return self.unified_symbol(venue_symbol)  # BTC-USDT -> BTC/USDT when not loaded

    def parse_order(self, raw: Mapping[str, Any]) -> OrderState:
        """An HF order document as an :class:`OrderState`."""
        size = _f(raw.get("size"))
        filled = _f(raw.get("dealSize"))
        funds = _f(raw.get("dealFunds"))
        active = bool(raw.get("active"))
        if active:
            status = OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.NEW
        elif size > 0 and filled >= size:
            status = OrderStatus.FILLED
        elif raw.get("cancelExist") or filled < size:
            status = OrderStatus.CANCELLED
        else:
            status = OrderStatus.FILLED
        price = _f(raw.get("price")) or None
        return OrderState(
            VENUE,
            self._symbol_of(str(raw.get("symbol", ""))),
            str(raw.get("id", "")),
            str(raw.get("clientOid", "")),
            status,
            Side(str(raw.get("side", "buy")).upper()),
            size,
            filled,
            price,
            funds / filled if filled > 0 else None,
            _f(raw.get("lastUpdatedAt")) / 1000.0,
        )

    async def get_order(self, symbol: str, client_id: str) -> OrderState:
        """``GET /api/v1/hf/orders/client-order/{clientOid}``."""
        vs = self.market(symbol).venue_symbol
        data = await self.call("GET", f"/api/v1/hf/orders/client-order/{client_id}", {"symbol": vs})
        if data is None:
            raise OrderNotFound(VENUE, f"no order with clientOid {client_id}")
        return self.parse_order(_obj(data))

    async def cancel_order(self, symbol: str, client_id: str) -> OrderState:
        """``DELETE /api/v1/hf/orders/client-order/{clientOid}``, then the order as it ended."""
        vs = self.market(symbol).venue_symbol
        await self.call("DELETE", f"/api/v1/hf/orders/client-order/{client_id}", {"symbol": vs})
        return await self.get_order(symbol, client_id)

    async def cancel_all(self, symbol: str) -> Sequence[OrderState]:
        """The open orders of ``symbol``, cancelled with ``DELETE /api/v1/hf/orders?symbol=``."""
        before = await self.open_orders(symbol)
        await self.call("DELETE", "/api/v1/hf/orders", {"symbol": self.market(symbol).venue_symbol})
        return [await self.get_order(symbol, o.client_id) for o in before]

    async def open_orders(self, symbol: str | None = None) -> Sequence[OrderState]:
        """``GET /api/v1/hf/orders/active`` per symbol (KuCoin needs the symbol)."""
        out: list[OrderState] = []
        for sym in [symbol] if symbol is not None else list(self.markets):
            data = await self.call(
                "GET", "/api/v1/hf/orders/active", {"symbol": self.market(sym).venue_symbol}
            )
            out.extend(self.parse_order(o) for o in (data if isinstance(data, list) else []))
        return out

    async def recent_fills(self, symbol: str, since: float | None = None) -> Sequence[Fill]:
        """``GET /api/v1/hf/fills`` with the venue's trade ids."""
        query = {"symbol": self.market(symbol).venue_symbol}
        if since is not None:
            query["startAt"] = str(int(since * 1000))
        items = _obj(await self.call("GET", "/api/v1/hf/fills", query)).get("items") or []
        return [
            Fill(
                VENUE,
                symbol,
                str(f.get("orderId", "")),
                str(f.get("clientOid", "")),
                str(f.get("tradeId", "")),
                Side(str(f.get("side", "buy")).upper()),
                _f(f.get("price")),
                _f(f.get("size")),
                _f(f.get("fee")),
                str(f.get("feeCurrency", "")),
                _f(f.get("createdAt")) / 1000.0,
                f.get("liquidity") == "maker",
            )
            for f in items
        ]

    async def balances(self) -> dict[str, Balance]:
        """``GET /api/v1/accounts?type=trade``: available and held per currency."""
        data = await self.call("GET", "/api/v1/accounts", {"type": "trade"})
        out: dict[str, Balance] = {}
        for a in data if isinstance(data, list) else []:
            if isinstance(a, dict):
                cur = str(a.get("currency"))
                out[cur] = Balance(cur, _f(a.get("available")), _f(a.get("holds")))
        return out

    async def trading_fees(self, symbols: Sequence[str]) -> dict[str, TradingFee]:
        """``GET /api/v1/trade-fees?symbols=`` (at most 10 symbols per request)."""
        out: dict[str, TradingFee] = {}
        syms = list(symbols)
        for i in range(0, len(syms), 10):
            chunk = syms[i : i + 10]
            by_venue = {self.market(s).venue_symbol: s for s in chunk}
            data = await self.call("GET", "/api/v1/trade-fees", {"symbols": ",".join(by_venue)})
            for f in data if isinstance(data, list) else []:
                if isinstance(f, dict) and f.get("symbol") in by_venue:
                    sym = by_venue[str(f["symbol"])]
                    out[sym] = TradingFee(sym, _f(f.get("makerFeeRate")), _f(f.get("takerFeeRate")))
        return out

    async def networks(self, asset: str) -> Sequence[DepositWithdrawNetwork]:
        """``GET /api/v3/currencies/{currency}`` chains: fee, minimum, confirmations, flags."""
        body = _obj(await self.rest.get(f"/api/v3/currencies/{asset}", weight=3))
        data = _obj(self.unwrap(body))
        return [
            DepositWithdrawNetwork(
                asset,
                str(c.get("chainName") or c.get("chainId")),
                _f(c.get("withdrawalMinFee")),
                _f(c.get("withdrawalMinSize")),
                bool(c.get("isDepositEnabled")),
                bool(c.get("isWithdrawEnabled")),
                int(c.get("confirms") or 0),
            )
            for c in data.get("chains") or []
        ]

    async def start(self) -> None:
        """Sync the clock, load markets, check the key (a trading key that can withdraw is warned
        about, TRD §7; the IP whitelist state is logged), open the private stream."""
        await self.sync_clock()
        if not self.markets:
            self.markets = {m.symbol: m for m in await self.fetch_markets()}
        await self.check_key()
        if self.stream_enabled:
            await self.start_stream()

    async def check_key(self) -> dict[str, Any] | None:
        """``GET /api/v1/user/api-key``: warn when the key can withdraw; None when unreadable."""
        try:
            info = _obj(await self.call("GET", "/api/v1/user/api-key"))
        except TradingError as exc:
            log.warning("kucoin: could not read the API key's permissions: %s", exc)
            return None
        permissions = {p.strip().lower() for p in str(info.get("permission", "")).split(",")}
        if "withdrawal" in permissions or "withdraw" in permissions:
            log.warning("kucoin: the trading API key can WITHDRAW funds; use a key without withdrawal rights")
        whitelist = str(info.get("ipWhitelist") or "")
        log.info(
            "kucoin: API key IP whitelist %s",
            f"on ({whitelist})" if whitelist else "OFF (any IP may use the key)",
        )
        return info

    # -- wallet ------------------------------------------------------------------------------

    def parse_transfer(self, kind: str, r: Mapping[str, Any]) -> WalletTransfer:
        """A KuCoin withdrawal/deposit record (``SUCCESS``; ``FAILURE`` failed)."""
        status = str(r.get("status", ""))
        state = (
            TransferState.COMPLETED
            if status == "SUCCESS"
            else TransferState.FAILED
            if status == "FAILURE"
            else TransferState.PENDING
        )
        return WalletTransfer(
            VENUE,
            kind,
            str(r.get("id") or r.get("walletTxId") or ""),
            str(r.get("currency", "")),
            str(r.get("chain", "")),
            _f(r.get("amount")),
            _f(r.get("fee")),
            state,
            str(r.get("address", "")),
            str(r.get("walletTxId", "")),
            _f(r.get("createdAt")) / 1000.0,
        )

    async def _records(self, path: str, kind: str, asset: str | None) -> list[WalletTransfer]:
        data = _obj(await self.call("GET", path, {"currency": asset} if asset else None))
        items = data.get("items")
        return [self.parse_transfer(kind, r) for r in (items if isinstance(items, list) else [])]

    async def withdraw(self, asset: str, network: str, amount: float, address: str) -> str:
        """``POST /api/v1/withdrawals`` (``currency``, ``address``, ``amount``, ``chain``)."""
        body = {"currency": asset, "address": address, "amount": amount_text(amount), "chain": network}
        data = _obj(await self.call("POST", "/api/v1/withdrawals", body=body, resend=False))
        return str(data["withdrawalId"])

    async def withdrawal(self, withdrawal_id: str) -> WalletTransfer:
        """``GET /api/v1/withdrawals`` (the record with that id)."""
        for t in await self._records("/api/v1/withdrawals", "withdrawal", None):
            if t.transfer_id == withdrawal_id:
                return t
        raise OrderNotFound(VENUE, f"no withdrawal {withdrawal_id}")

    async def deposits(self, asset: str | None = None) -> Sequence[WalletTransfer]:
        """``GET /api/v1/deposits``."""
        return await self._records("/api/v1/deposits", "deposit", asset)

    # -- private stream ----------------------------------------------------------------------

    async def start_stream(self) -> None:
        """A private bullet token, then ``/spotMarket/tradeOrdersV2`` on its WebSocket."""
        if not self.stream_enabled:
            return
        self.ws = WsSession(
            self._private_url,
            self._on_frame,
            on_close=self._on_close,
            on_open=self.stream_opened,
            heartbeat=Heartbeat(
                ping_interval=None, ping_timeout=None, app_ping=self._ping, app_ping_interval=15.0
            ),
            backoff=Backoff(0.05, 2.0),
            name="kucoin-private",
        )
        await self._bullet()
        await self.ws.start(wait=True, timeout=10.0)
        await asyncio.wait_for(self.subscribed.wait(), 10.0)

    async def _bullet(self) -> None:
        data = _obj(await self.call("POST", "/api/v1/bullet-private", body={}))
        server = data["instanceServers"][0]
        self._ws_url = f"{server['endpoint']}?token={data['token']}&connectId=arb{next(self._msg_ids)}"

    def _private_url(self) -> str:
        return self._ws_url

    def _ping(self) -> str:
        return msgspec.json.encode({"id": str(next(self._msg_ids)), "type": "ping"}).decode()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stream_settled(self) -> None:
        """The reconnected stream's subscription is acknowledged."""
        await self.subscribed.wait()

    def _on_close(self, session: WsSession) -> None:
        self.subscribed.clear()
        if not session.closing:  # a fresh token for the next connect
            self._spawn(self._bullet())

    def _on_frame(self, frame: str | bytes, recv_time: float) -> None:
        msg = msgspec.json.decode(frame)
        if not isinstance(msg, dict):
            raise GarbageFrame("not an object")
        kind = msg.get("type")
        if kind == "ack" and msg.get("id") == self._sub_id:
            self.subscribed.set()
            return
        if kind == "welcome" and self.ws is not None:
            self._sub_id = str(next(self._msg_ids))
            sub = {
                "id": self._sub_id,
                "type": "subscribe",
                "topic": "/spotMarket/tradeOrdersV2",
                "privateChannel": True,
                "response": True,
            }
            self._spawn(self.ws.send(sub))
            return
        if kind != "message" or msg.get("topic") != "/spotMarket/tradeOrdersV2":
            return
        self.publish(self.parse_stream_update(msg.get("data") or {}))

    def parse_stream_update(self, d: Mapping[str, Any]) -> OrderUpdate:
        """One ``orderChange`` push as an :class:`OrderUpdate` (a ``match`` carries a fill)."""
        size = _f(d.get("size"))
        filled = _f(d.get("filledSize"))
        kind = str(d.get("type", ""))
        status = {
            "open": OrderStatus.NEW,
            "received": OrderStatus.NEW,
            "match": OrderStatus.PARTIALLY_FILLED,
            "filled": OrderStatus.FILLED,
            "canceled": OrderStatus.CANCELLED,
        }.get(kind, OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.NEW)
        if kind == "match" and size > 0 and filled >= size:
            status = OrderStatus.FILLED
        symbol = self._symbol_of(str(d.get("symbol", "")))
        side = Side(str(d.get("side", "buy")).upper())
        ts = _f(d.get("ts")) / 1e9
        state = OrderState(
            VENUE,
            symbol,
            str(d.get("orderId", "")),
            str(d.get("clientOid", "")),
            status,
            side,
            size,
            filled,
            _f(d.get("price")) or None,
            None,
            ts,
        )
        fills: tuple[Fill, ...] = ()
        if kind == "match":
            fills = (
                Fill(
                    VENUE,
                    symbol,
                    state.order_id,
                    state.client_id,
                    str(d.get("tradeId", "")),
                    side,
                    _f(d.get("matchPrice")),
                    _f(d.get("matchSize")),
                    0.0,
                    "",
                    ts,
                    d.get("liquidity") == "maker",
                ),
            )
        return OrderUpdate(state, fills, ts, "stream")

    async def close(self) -> None:
        """Close the private stream and the REST session."""
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
        for task in list(self._tasks):
            task.cancel()
        await super().close()
