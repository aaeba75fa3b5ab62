"""Trading through ccxt behind ArBot's :class:`~arbot.trading.gateway.TradingGateway`.

Any exchange ccxt supports can then run under the order manager and leg-risk machine. The
gateway speaks ccxt's unified API (``create_order`` with a ``clientOrderId``, ``fetch_order``,
``cancel_order``, ``fetch_open_orders``, ``fetch_my_trades``, ``fetch_balance``,
``fetch_trading_fees``, ``fetch_deposit_withdraw_fees``) and turns ccxt's errors into ArBot's
trading errors with the same meaning:

* ``InsufficientFunds`` / ``InvalidOrder`` (and ``BadRequest``) on a placement: the venue refused
  it, the order does not exist (:class:`OrderRejected`);
* ``RequestTimeout`` / ``NetworkError`` / ``ExchangeNotAvailable`` on a placement: the order may
  be live (:class:`AmbiguousOrderState`); the order manager settles it by client id;
* ``InvalidNonce``: clock skew; ``DuplicateOrderId``: a duplicate client id;
  ``OrderNotFound``, ``AuthenticationError``/``PermissionDenied``, ``RateLimitExceeded``/``DDoSProtection``.

Orders are looked up by the client id ArBot chose: the venue's order id once the gateway knows
it, otherwise ccxt's ``clientOrderId`` parameter (which ccxt maps to each venue's own field),
falling back to the open and closed order lists. ``updates()`` polls the orders this gateway
placed (ccxt's private streams differ too much per venue to rely on; the order manager settles
every decision through REST anyway).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, NoReturn

import ccxt
import ccxt.async_support
from arbot.events import Side
from arbot.trading.client_ids import ClientIdFactory
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
from arbot.trading.signing import ApiCredentials
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
)

__all__ = ["CcxtTradingGateway", "order_state_from_ccxt"]

log = logging.getLogger("arbot_ccxt.trading")

_STATUS = {
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


def _num(value: object) -> float:
    if value is None or value == "":
        return 0.0
    return float(value)  # type: ignore[arg-type]


def order_state_from_ccxt(venue: str, order: Mapping[str, Any]) -> OrderState:
    """ccxt's unified order structure as an :class:`OrderState` (``open`` with a fill is
    PARTIALLY_FILLED; a status ccxt does not know is UNKNOWN, never a guess)."""
    filled = _num(order.get("filled"))
    raw = order.get("status")
    if raw == "open":
        status = OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.NEW
    else:
        status = _STATUS.get(str(raw), OrderStatus.UNKNOWN)
    average = order.get("average")
    price = order.get("price")
    ts = order.get("lastUpdateTimestamp") or order.get("lastTradeTimestamp") or order.get("timestamp")
    return OrderState(
        venue=venue,
        symbol=str(order.get("symbol") or ""),
        order_id=str(order.get("id") or ""),
        client_id=str(order.get("clientOrderId") or ""),
        status=status,
        side=Side.BUY if order.get("side") == "buy" else Side.SELL,
        quantity=_num(order.get("amount")),
        filled=filled,
        price=float(price) if price else None,
        average_price=float(average) if average and filled > 0 else None,
        ts=_num(ts) / 1000.0,
    )


class CcxtTradingGateway:
    """One venue's private API through a ccxt async exchange (see the module docstring).

    ``exchange`` is a ccxt async exchange configured with the credentials (build it with
    :meth:`create`); the gateway closes it in :meth:`close`.
    """

    def __init__(
        self,
        venue: str,
        exchange: Any,
        *,
        client_id_prefix: str = "arb",
        client_id_max_len: int = 32,
        poll_interval: float = 1.0,
    ) -> None:
        self.venue = venue
        self.exchange = exchange
        self.poll_interval = poll_interval
        self._ids = ClientIdFactory(client_id_prefix, client_id_max_len)
        self._order_ids: dict[str, str] = {}  # client id -> venue order id
        self._tracked: dict[str, str] = {}  # client id -> symbol, polled by updates()
        self._symbols: set[str] = set()  # every symbol this gateway placed an order on

    @classmethod
    def create(
        cls,
        venue: str,
        exchange_id: str,
        credentials: ApiCredentials,
        *,
        options: Mapping[str, Any] | None = None,
        urls: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        poll_interval: float = 1.0,
    ) -> CcxtTradingGateway:
        """A gateway over a new ``ccxt.async_support.<exchange_id>`` with these credentials
        (ccxt signs itself: it is handed the secret)."""
        if exchange_id not in ccxt.async_support.exchanges:
            raise ValueError(f"ccxt has no exchange {exchange_id!r}")
        opts = dict(options or {})
        # ArBot lists all open orders at start-up and on the kill switch (Binance's ccxt code
        # refuses that unless told the cost is understood)
        opts.setdefault("warnOnFetchOpenOrdersWithoutSymbol", False)
        settings: dict[str, Any] = {"enableRateLimit": True, "options": opts}
        settings.update(config or {})
        settings["apiKey"] = credentials.api_key
        settings["secret"] = credentials.reveal_secret()
        if credentials.has_passphrase:
            settings["password"] = credentials.passphrase_value()
        exchange = getattr(ccxt.async_support, exchange_id)(settings)
        if urls:
            exchange.urls = exchange.deep_extend(exchange.urls, dict(urls))
        return cls(venue, exchange, poll_interval=poll_interval)

    def __repr__(self) -> str:
        return f"CcxtTradingGateway(venue={self.venue!r}, exchange={self.exchange.id!r})"

    # -- errors ------------------------------------------------------------------------------

    def _raise(self, exc: Exception, *, placing: bool = False) -> NoReturn:
        msg = str(exc)[:300]
        v = self.venue
        if isinstance(exc, ccxt.DuplicateOrderId):
            raise DuplicateClientId(v, msg) from exc
        if isinstance(exc, ccxt.OrderNotFound):
            raise OrderNotFound(v, msg) from exc
        if isinstance(exc, ccxt.InvalidNonce):
            raise ClockSkew(v, msg) from exc
        if isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied | ccxt.AccountSuspended):
            raise AuthenticationFailed(v, msg) from exc
        if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
            raise RateLimited(v, msg) from exc
        if isinstance(exc, ccxt.InsufficientFunds | ccxt.InvalidOrder | ccxt.BadRequest | ccxt.BadSymbol):
            if placing:
                raise OrderRejected(v, msg) from exc
            raise TradingError(v, msg) from exc
        if isinstance(exc, ccxt.NetworkError) and placing:
            raise AmbiguousOrderState(v, msg) from exc
        if isinstance(exc, ccxt.ExchangeError) and placing and not isinstance(exc, ccxt.NotSupported):
            raise OrderRejected(v, msg) from exc
        raise TradingError(v, msg) from exc

    # -- lifecycle ---------------------------------------------------------------------------

    def new_client_id(self) -> str:
        """``arb<ms hex><counter><random>``: alphanumeric, unique across restarts."""
        return self._ids()

    async def start(self) -> None:
        """Load the markets (symbols, precision) ccxt needs to place orders."""
        try:
            await self.exchange.load_markets()
        except ccxt.BaseError as exc:
            self._raise(exc)

    async def close(self) -> None:
        """Close ccxt's HTTP session."""
        await self.exchange.close()

    # -- orders ------------------------------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> OrderState:
        """``create_order`` with the request's client id, time in force and post-only flag."""
        r = request
        params: dict[str, Any] = {"clientOrderId": r.client_id}
        if r.order_type is OrderType.LIMIT:
            if r.time_in_force is TimeInForce.POST_ONLY:
                params["postOnly"] = True
            else:
                params["timeInForce"] = r.time_in_force.value
        if r.reduce_only:
            params["reduceOnly"] = True
        self._tracked[r.client_id] = r.symbol
        self._symbols.add(r.symbol)
        try:
            raw = await self.exchange.create_order(
                r.symbol, r.order_type.value.lower(), r.side.value.lower(), r.quantity, r.price, params
            )
        except ccxt.BaseError as exc:
            if not isinstance(exc, ccxt.NetworkError):  # ambiguous: keep polling it
                self._tracked.pop(r.client_id, None)
            self._raise(exc, placing=True)
        state = order_state_from_ccxt(self.venue, raw)
        if state.order_id:
            self._order_ids[r.client_id] = state.order_id
        if not state.client_id or not state.symbol:
            state = OrderState(
                self.venue, r.symbol, state.order_id, r.client_id, state.status, r.side,
                state.quantity or r.quantity, state.filled, state.price, state.average_price, state.ts,
            )
        if state.status is OrderStatus.UNKNOWN and state.order_id:
            return await self.get_order(r.symbol, r.client_id)
        return state

    async def get_order(self, symbol: str, client_id: str) -> OrderState:
        """The order by client id (raises :class:`OrderNotFound` when the venue does not know it)."""
        ex = self.exchange
        oid = self._order_ids.get(client_id)
        try:
            if oid is not None:
                raw = await ex.fetch_order(oid, symbol)
            else:
                raw = await ex.fetch_order(None, symbol, {"clientOrderId": client_id})
        except (ccxt.ArgumentsRequired, ccxt.NotSupported):
            return await self._find(symbol, client_id)
        except ccxt.BaseError as exc:
            self._raise(exc)
        state = order_state_from_ccxt(self.venue, raw)
        if state.order_id:
            self._order_ids[client_id] = state.order_id
        return state

    async def _find(self, symbol: str, client_id: str) -> OrderState:
        """Look the client id up in the open, then the closed orders."""
        try:
            candidates = list(await self.exchange.fetch_open_orders(symbol))
            if self.exchange.has.get("fetchClosedOrders"):
                candidates += list(await self.exchange.fetch_closed_orders(symbol))
        except ccxt.BaseError as exc:
            self._raise(exc)
        for raw in candidates:
            if raw.get("clientOrderId") == client_id:
                state = order_state_from_ccxt(self.venue, raw)
                self._order_ids[client_id] = state.order_id
                return state
        raise OrderNotFound(self.venue, f"no order with client id {client_id} on {symbol}")

    async def cancel_order(self, symbol: str, client_id: str) -> OrderState:
        """Cancel by client id, then read the order back (its final fills and status)."""
        oid = self._order_ids.get(client_id)
        if oid is None:
            oid = (await self.get_order(symbol, client_id)).order_id
        try:
            await self.exchange.cancel_order(oid, symbol)
        except ccxt.BaseError as exc:
            self._raise(exc)
        return await self.get_order(symbol, client_id)

    async def cancel_all(self, symbol: str) -> Sequence[OrderState]:
        """Cancel every open order of ``symbol`` one by one (answers as they come back)."""
        out = []
        for st in await self.open_orders(symbol):
            self._order_ids.setdefault(st.client_id, st.order_id)
            out.append(await self.cancel_order(symbol, st.client_id))
        return out

    async def open_orders(self, symbol: str | None = None) -> Sequence[OrderState]:
        """``fetch_open_orders`` (of one symbol, or all; a venue that needs a symbol is asked
        for each symbol this gateway traded)."""
        try:
            try:
                raws = list(await self.exchange.fetch_open_orders(symbol))
            except ccxt.ArgumentsRequired:
                if symbol is not None:
                    raise
                raws = []
                for s in sorted(self._symbols):
                    raws += list(await self.exchange.fetch_open_orders(s))
        except ccxt.BaseError as exc:
            self._raise(exc)
        states = [order_state_from_ccxt(self.venue, r) for r in raws]
        for st in states:
            if st.client_id and st.order_id:
                self._order_ids.setdefault(st.client_id, st.order_id)
        return states

    async def recent_fills(self, symbol: str, since: float | None = None) -> Sequence[Fill]:
        """``fetch_my_trades`` since ``since`` (seconds), with the venue's trade ids."""
        since_ms = int(since * 1000) if since is not None else None
        try:
            trades = await self.exchange.fetch_my_trades(symbol, since_ms)
        except ccxt.BaseError as exc:
            self._raise(exc)
        by_order = {oid: cid for cid, oid in self._order_ids.items()}
        out = []
        for t in trades:
            fee = t.get("fee") or {}
            oid = str(t.get("order") or "")
            out.append(
                Fill(
                    venue=self.venue,
                    symbol=str(t.get("symbol") or symbol),
                    order_id=oid,
                    client_id=str((t.get("info") or {}).get("clientOrderId") or by_order.get(oid, "")),
                    trade_id=str(t.get("id")),
                    side=Side.BUY if t.get("side") == "buy" else Side.SELL,
                    price=_num(t.get("price")),
                    quantity=_num(t.get("amount")),
                    fee=_num(fee.get("cost")),
                    fee_asset=str(fee.get("currency") or ""),
                    ts=_num(t.get("timestamp")) / 1000.0,
                    is_maker=t.get("takerOrMaker") == "maker",
                )
            )
        return out

    # -- account -----------------------------------------------------------------------------

    async def balances(self) -> dict[str, Balance]:
        """``fetch_balance``: free and used per asset (zero balances left out)."""
        try:
            bal = await self.exchange.fetch_balance()
        except ccxt.BaseError as exc:
            self._raise(exc)
        free, used = bal.get("free") or {}, bal.get("used") or {}
        out = {}
        for asset in set(free) | set(used):
            f, u = _num(free.get(asset)), _num(used.get(asset))
            if f or u:
                out[asset] = Balance(asset, f, u)
        return out

    async def trading_fees(self, symbols: Sequence[str]) -> dict[str, TradingFee]:
        """``fetch_trading_fees`` where the venue serves it, else the markets' published fees
        (logged: an account's discount is then not known)."""
        ex = self.exchange
        fees: Mapping[str, Any] = {}
        if ex.has.get("fetchTradingFees"):
            try:
                fees = await ex.fetch_trading_fees()
            except (ccxt.AuthenticationError, ccxt.RequestTimeout, ccxt.RateLimitExceeded) as exc:
                self._raise(exc)
            except ccxt.BaseError as exc:  # the venue has no such endpoint for this account (404...)
                log.warning("%s: account fees unavailable (%s); using the markets' fees", self.venue, exc)
        out = {}
        for s in symbols:
            f = fees.get(s) or ex.markets.get(s) or {}
            out[s] = TradingFee(s, _num(f.get("maker")), _num(f.get("taker")))
        return out

    async def networks(self, asset: str) -> Sequence[DepositWithdrawNetwork]:
        """The asset's networks from ``fetch_currencies`` (fee, minimum, open or not)."""
        try:
            currencies = await self.exchange.fetch_currencies()
        except ccxt.BaseError as exc:
            self._raise(exc)
        cur = (currencies or {}).get(asset) or {}
        out = []
        for code, n in (cur.get("networks") or {}).items():
            limits = (n.get("limits") or {}).get("withdraw") or {}
            out.append(
                DepositWithdrawNetwork(
                    asset=asset,
                    network=str(code),
                    withdraw_fee=_num(n.get("fee")),
                    withdraw_min=_num(limits.get("min")),
                    deposit_enabled=bool(n.get("deposit", True)),
                    withdraw_enabled=bool(n.get("withdraw", True)),
                )
            )
        return out

    async def updates(self) -> AsyncIterator[OrderUpdate]:
        """Polls the orders this gateway placed every ``poll_interval`` s; yields each change
        with the fills it brought (deduplicated by trade id)."""
        last: dict[str, OrderState] = {}
        seen: set[str] = set()
        while True:
            for cid, symbol in list(self._tracked.items()):
                try:
                    state = await self.get_order(symbol, cid)
                except TradingError:
                    continue
                if last.get(cid) == state:
                    continue
                last[cid] = state
                fills: tuple[Fill, ...] = ()
                if state.filled > 0:
                    try:
                        recent = await self.recent_fills(symbol, time.time() - 3600.0)
                    except TradingError:
                        recent = []
                    oid = state.order_id
                    fills = tuple(f for f in recent if f.order_id == oid and f.trade_id not in seen)
                    seen.update(f.trade_id for f in fills)
                if state.status.is_terminal:
                    self._tracked.pop(cid, None)
                yield OrderUpdate(state=state, fills=fills, seq=state.ts, source="poll")
            await asyncio.sleep(self.poll_interval)
