"""The part of every venue's REST trading gateway that is not venue specific.

:class:`RestTradingGateway` implements the order-safety rules of the trading interface once:

* **clock**: a per-venue offset from ``server time`` (:meth:`RestTradingGateway.sync_clock`);
  every signed request is timed with :meth:`RestTradingGateway.now_ms`;
* **clock skew** (the venue's timestamp error) means "not accepted": resync, resend with the
  same client id (at most ``clock_retries`` times; every signed request, orders included);
* **ambiguous answers** (timeout, dropped connection, 5xx, a venue's "status unknown") are not
  failures: the gateway looks the client id up at once; when the venue knows the order its state
  is returned, otherwise :class:`AmbiguousOrderState` is raised and the client id is remembered,
  so that a retry of the same request first looks it up again: an order is never placed twice;
* a **duplicate client id** answer leads to a lookup of that id, never to a new order;
* **precision**: size and price rounded to step and tick, minimums checked before sending
  (:func:`arbot.trading.precision.prepare_order`), decimal strings on the wire;
* **429/418** back off for ``Retry-After`` through the shared limiter (the REST client retries
  them; what is left raises :class:`RateLimited`).

A venue subclass supplies signing (:meth:`_sign`), error classification (:meth:`_classify`,
:meth:`_check_body`), the server time, market loading, and the endpoints. :meth:`updates` polls
REST (orders and fills) unless the venue overrides it with its private stream.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import attrs
import msgspec

from arbot.connectors.ratelimit import (
    CombinedLimiter,
    RateLimitPolicy,
    host_limiter,
    key_limiter,
    policy_from_spec,
)
from arbot.connectors.rest import RestClient, RestError
from arbot.errors import ArbotError
from arbot.events import Side
from arbot.market import MarketInfo
from arbot.trading.client_ids import ClientIdFactory
from arbot.trading.errors import (
    AmbiguousOrderState,
    ClockSkew,
    DuplicateClientId,
    NotSupported,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TradingError,
)
from arbot.trading.precision import PreparedOrder, prepare_order
from arbot.trading.signing import ApiCredentials, SignedRequest
from arbot.trading.types import (
    Balance,
    DepositWithdrawNetwork,
    Fill,
    OrderRequest,
    OrderState,
    OrderStatus,
    OrderType,
    OrderUpdate,
    TradingFee,
    TransferState,
    WalletTransfer,
)

__all__ = ["GatewayStats", "RestTradingGateway"]

#: The budget of a venue that names none: 20 requests per second.
_DEFAULT_BUDGET: Mapping[str, Any] = {"type": "count", "limit": 20, "window": 1.0}


@attrs.define(slots=True)
class GatewayStats:
    """What the gateway did about the venue's answers (tests and metrics read these)."""

    clock_resyncs: int = 0
    clock_skew_retries: int = 0
    ambiguous: int = 0
    lookups: int = 0
    recovered_by_lookup: int = 0
    duplicates: int = 0
    rate_limited: int = 0
    orders_sent: int = 0


class RestTradingGateway(ABC):
    """Base of a venue's REST :class:`~arbot.trading.gateway.TradingGateway` (module docstring).

    ``markets`` (unified symbol -> MarketInfo) may be given; otherwise :meth:`start` loads them
    from the venue. ``clock`` is local time in seconds (injectable).
    """

    venue: str = ""
    #: Longest client id the venue accepts.
    client_id_max_len: int = 32
    #: The venue's REST budget per IP in the TRD §3.1 form; every gateway of the venue host in
    #: this process shares one limiter with the venue's market-data connector
    #: (:func:`~arbot.connectors.ratelimit.host_limiter`; the first client of a host sets it).
    rate_limit: Mapping[str, Any] | None = None
    #: The venue's budget per API key where it counts private requests per key or account
    #: (None: per IP only): every gateway signed with the key shares it, and each request is
    #: booked in both budgets.
    rate_limit_per_key: Mapping[str, Any] | None = None

    def __init__(
        self,
        credentials: ApiCredentials,
        *,
        rest_url: str,
        markets: Mapping[str, MarketInfo] | None = None,
        timeout: float = 10.0,
        limiter: RateLimitPolicy | None = None,
        clock: Callable[[], float] = time.time,
        client_id_prefix: str = "arb",
        clock_retries: int = 2,
        poll_interval: float = 1.0,
    ) -> None:
        self.credentials = credentials
        if limiter is None:
            limiter = self.default_limiter(rest_url, credentials)
        self.rest = RestClient(rest_url, limiter, timeout=timeout, retries=2)
        self.markets: dict[str, MarketInfo] = dict(markets or {})
        self.clock = clock
        self.clock_retries = clock_retries
        self.poll_interval = poll_interval
        self.offset_ms = 0.0
        self._by_venue_symbol: dict[str, str] = {}  # venue symbol -> unified (unified_symbol)
        self.stats = GatewayStats()
        self._ids = ClientIdFactory(client_id_prefix, self.client_id_max_len, clock)
        self._ambiguous: set[str] = set()
        self._tracked: dict[str, str] = {}  # client id -> symbol, for polling

    def default_limiter(self, rest_url: str, credentials: ApiCredentials) -> RateLimitPolicy:
        """The host's shared limiter (:attr:`rate_limit`), combined with the key's
        (:attr:`rate_limit_per_key`) where the venue counts per key."""
        spec = self.rate_limit or _DEFAULT_BUDGET
        host = host_limiter(rest_url, lambda: policy_from_spec(spec))
        per_key = self.rate_limit_per_key
        if per_key is None or not credentials.api_key:
            return host
        key = key_limiter(rest_url, credentials.api_key, lambda: policy_from_spec(per_key))
        return CombinedLimiter(host, key)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.venue}, {self.credentials!r})"

    # -- venue parts -------------------------------------------------------------------------

    @abstractmethod
    def _sign(self, method: str, path: str, params: Mapping[str, object], ts_ms: int) -> SignedRequest:
        """The venue's signed form of a request."""

    @abstractmethod
    def _classify(self, status: int, code: str, message: str) -> TradingError:
        """The trading error for a venue error answer (HTTP ``status``, venue ``code``)."""

    def _error_fields(self, body: Any) -> tuple[str, str] | None:
        """(code, message) of an error body, None when the body is not an error."""
        return None

    def _check_body(self, body: Any) -> None:
        """Raise for venues that answer errors with HTTP 200 (OKX, Bybit, Bitget)."""
        fields = self._error_fields(body)
        if fields is not None:
            raise self._classify(200, *fields)

    @abstractmethod
    async def _server_time_ms(self) -> int:
        """The venue's server time in ms (public endpoint)."""

    @abstractmethod
    async def _load_markets(self) -> list[MarketInfo]:
        """The venue's spot markets (public endpoint)."""

    @abstractmethod
    async def _submit(self, request: OrderRequest, prepared: PreparedOrder | None) -> OrderState:
        """Send one order (no retries: :meth:`place_order` applies the rules)."""

    # -- lifecycle ---------------------------------------------------------------------------

    def new_client_id(self) -> str:
        """A client order id in the venue's format, unique across restarts."""
        return self._ids()

    async def start(self) -> None:
        """Sync the clock and load markets (when none were given)."""
        await self.sync_clock()
        if not self.markets:
            self.markets = {m.symbol: m for m in await self._load_markets()}

    async def close(self) -> None:
        """Close the HTTP session."""
        await self.rest.close()

    # -- clock -------------------------------------------------------------------------------

    def now_ms(self) -> int:
        """The venue's time now, as far as the gateway knows (ms)."""
        return int(self.clock() * 1000.0 + self.offset_ms)

    async def sync_clock(self) -> float:
        """Measure the offset to the venue's clock (midpoint of the round trip); returns it."""
        before = self.clock()
        server = await self._server_time_ms()
        after = self.clock()
        self.offset_ms = server - (before + after) * 500.0
        self.stats.clock_resyncs += 1
        return self.offset_ms

    # -- requests ----------------------------------------------------------------------------

    def market(self, symbol: str) -> MarketInfo:
        """The market of a unified symbol; ArbotError naming it when unknown."""
        try:
            return self.markets[symbol]
        except KeyError:
            raise ArbotError(
                f"{self.venue}: unknown market {symbol!r} (call start() to load markets)"
            ) from None

    #: What stands between base and quote in the venue's market names, where a market has none.
    venue_symbol_separator: str = ""

    def venue_symbol(self, symbol: str) -> str:
        """The venue's name of a unified symbol's market (``BTC/USDT`` -> ``BTCUSDT``);
        ArbotError when the market is unknown."""
        market = self.market(symbol)
        return market.venue_symbol or symbol.replace("/", self.venue_symbol_separator)

    def unified_symbol(self, venue_symbol: str, default: str | None = None) -> str:
        """The unified symbol of the market the venue calls ``venue_symbol``. When no loaded
        market has that name: ``default``, or else ``venue_symbol`` with
        :attr:`venue_symbol_separator` read as ``/`` (``BTC-USDT`` -> ``BTC/USDT``), or else
        ``venue_symbol`` itself. A dict lookup: the reverse index is rebuilt whenever it misses
        or disagrees with :attr:`markets`."""
        symbol = self._by_venue_symbol.get(venue_symbol)
        if symbol is None or (m := self.markets.get(symbol)) is None or m.venue_symbol != venue_symbol:
            self._by_venue_symbol = {m.venue_symbol: m.symbol for m in self.markets.values()}
            symbol = self._by_venue_symbol.get(venue_symbol)
        if symbol is not None:
            return symbol
        if default is not None:
            return default
        sep = self.venue_symbol_separator
        return venue_symbol.replace(sep, "/") if sep else venue_symbol

    async def public(
        self, path: str, params: Mapping[str, object] | None = None, *, weight: float = 1.0
    ) -> Any:
        """An unsigned GET."""
        try:
            body = await self.rest.get(path, params, weight=weight)
        except RestError as exc:
            raise self._from_rest(exc, order_entry=False) from exc
        self._check_body(body)
        return body

    async def signed(
        self,
        method: str,
        path: str,
        params: Mapping[str, object] | None = None,
        *,
        weight: float = 1.0,
        endpoint: str | None = None,
        order_entry: bool = False,
    ) -> Any:
        """A signed request; venue errors raise :mod:`arbot.trading.errors`. With
        ``order_entry``, a missing answer raises AmbiguousOrderState. A clock-skew answer (the
        request was not accepted) resyncs the clock and resends, at most ``clock_retries``
        times; then ClockSkew is raised."""
        attempt = 0
        while True:
            req = self._sign(method, path, params or {}, self.now_ms())
            try:
                return await self.send_signed(
                    req, weight=weight, endpoint=endpoint or path, order_entry=order_entry
                )
            except ClockSkew:
                if attempt >= self.clock_retries:
                    raise
                attempt += 1
                self.stats.clock_skew_retries += 1
                await self.sync_clock()

    async def send_signed(
        self,
        req: SignedRequest,
        *,
        weight: float = 1.0,
        endpoint: str | None = None,
        order_entry: bool = False,
    ) -> Any:
        """Send an already signed request (batch bodies a venue signs itself); errors as
        :meth:`signed`."""
        try:
            body = await self.rest.request(
                req.method,
                req.path_with_query,
                data=req.body,
                headers=req.headers,
                weight=weight,
                endpoint=endpoint or req.path,
            )
        except RestError as exc:
            raise self._from_rest(exc, order_entry=order_entry) from exc
        self._check_body(body)
        return body

    def _from_rest(self, exc: RestError, *, order_entry: bool) -> TradingError:
        if exc.status in (418, 429):
            self.stats.rate_limited += 1
            return RateLimited(self.venue, f"rate limited (HTTP {exc.status})", str(exc.status))
        fields: tuple[str, str] | None = None
        if exc.body:
            try:
                fields = self._error_fields(msgspec.json.decode(exc.body))
            except msgspec.DecodeError:
                fields = None
        if fields is not None:
            return self._classify(exc.status, *fields)
        if exc.status == 0 or exc.status >= 500:
            what = "no answer" if exc.status == 0 else f"HTTP {exc.status}"
            cls = AmbiguousOrderState if order_entry else TradingError
            return cls(self.venue, f"{what}: {exc}", str(exc.status) if exc.status else None)
        return OrderRejected(self.venue, f"HTTP {exc.status}: {exc.body[:200]}", str(exc.status))

    # -- orders ------------------------------------------------------------------------------

    def prepare(self, request: OrderRequest) -> PreparedOrder | None:
        """Round and check ``request`` against its market; OrderRejected (code ``local``) when it
        breaks a minimum. None for a market order without a price (nothing to round but size)."""
        market = self.market(request.symbol)
        price = request.price if request.order_type is OrderType.LIMIT else None
        if request.order_type is OrderType.LIMIT and price is None:
            raise OrderRejected(self.venue, f"{request.client_id}: a limit order needs a price", "local")
        prepared = prepare_order(market, request.quantity, price, request.side is Side.BUY)
        if prepared.problem:
            raise OrderRejected(
                self.venue, f"{request.symbol} {request.client_id}: {prepared.problem}", "local"
            )
        return prepared

    def accepted(
        self, request: OrderRequest, quantity: str, price: str | None, order_id: str, ts: float
    ) -> OrderState:
        """The state of an order the venue acknowledged with its id only: NEW, nothing filled,
        ``quantity`` and ``price`` as sent (until a query or the private stream says more)."""
        return OrderState(
            self.venue,
            request.symbol,
            order_id,
            request.client_id,
            OrderStatus.NEW,
            request.side,
            float(quantity),
            0.0,
            float(price) if price is not None else None,
            None,
            ts,
        )

    async def place_order(self, request: OrderRequest) -> OrderState:
        """Send one order under the rules of the module docstring."""
        prepared = self.prepare(request)
        cid = request.client_id
        self._tracked[cid] = request.symbol
        if cid in self._ambiguous:
            found = await self._lookup(request.symbol, cid)
            if found is not None:
                self._ambiguous.discard(cid)
                return found
        try:
            self.stats.orders_sent += 1
            state = await self._submit(request, prepared)
        except DuplicateClientId:
            self.stats.duplicates += 1
            return await self.get_order(request.symbol, cid)
        except AmbiguousOrderState:
            self.stats.ambiguous += 1
            self._ambiguous.add(cid)
            found = await self._lookup(request.symbol, cid)
            if found is None:
                raise
            self._ambiguous.discard(cid)
            return found
        except TradingError:
            # an explicit answer (rejected, rate limited, refused key, clock skew after the
            # retries): the order does not exist at the venue
            self._tracked.pop(cid, None)
            raise
        self._ambiguous.discard(cid)
        return state

    async def _lookup(self, symbol: str, client_id: str) -> OrderState | None:
        self.stats.lookups += 1
        try:
            state = await self.get_order(symbol, client_id)
        except OrderNotFound:
            return None
        except TradingError:
            return None
        self.stats.recovered_by_lookup += 1
        return state

    @abstractmethod
    async def cancel_order(self, symbol: str, client_id: str) -> OrderState:
        """Cancel by client id; OrderNotFound when the venue does not know it (or it is closed)."""

    @abstractmethod
    async def cancel_all(self, symbol: str) -> Sequence[OrderState]:
        """Cancel every open order of ``symbol``."""

    @abstractmethod
    async def get_order(self, symbol: str, client_id: str) -> OrderState:
        """The order by client id; OrderNotFound when the venue does not know it."""

    @abstractmethod
    async def open_orders(self, symbol: str | None = None) -> Sequence[OrderState]:
        """Open orders (of one symbol, or all)."""

    @abstractmethod
    async def recent_fills(self, symbol: str, since: float | None = None) -> Sequence[Fill]:
        """Recent fills of ``symbol`` with the venue's trade ids."""

    @abstractmethod
    async def balances(self) -> dict[str, Balance]:
        """Free and locked balance per asset."""

    @abstractmethod
    async def trading_fees(self, symbols: Sequence[str]) -> dict[str, TradingFee]:
        """The account's maker/taker fees."""

    @abstractmethod
    async def networks(self, asset: str) -> Sequence[DepositWithdrawNetwork]:
        """Deposit/withdrawal networks of ``asset``."""

    # -- wallet (WalletGateway) ----------------------------------------------------------------

    #: True where the venue's API can withdraw and this gateway implements it.
    supports_withdrawals: bool = False

    async def withdraw(self, asset: str, network: str, amount: float, address: str) -> str:
        """Request a withdrawal; the venue's id (see :class:`~arbot.trading.gateway.WalletGateway`)."""
        raise NotSupported(self.venue, "this gateway cannot withdraw")

    async def withdrawal(self, withdrawal_id: str) -> WalletTransfer:
        """The withdrawal's state now."""
        raise NotSupported(self.venue, "this gateway cannot read withdrawals")

    async def withdrawal_completed(self, withdrawal_id: str) -> bool:
        """True once the withdrawal is sent and confirmed; a failed one raises TradingError."""
        state = (await self.withdrawal(withdrawal_id)).state
        if state is TransferState.FAILED:
            raise TradingError(self.venue, f"withdrawal {withdrawal_id} failed")
        return state is TransferState.COMPLETED

    async def deposits(self, asset: str | None = None) -> Sequence[WalletTransfer]:
        """Recent deposits, pending ones included."""
        raise NotSupported(self.venue, "this gateway cannot read deposits")

    async def reconcile_tracked(self) -> list[OrderUpdate]:
        """The REST state of every order this gateway placed and has not seen end (after a
        private stream reconnect), each with its fills from the venue's recent fills (what
        filled while the stream was down is not missed; the trade ids deduplicate it against
        the stream); ended orders stop being tracked."""
        out = []
        fills_of: dict[str, Sequence[Fill]] = {}
        for cid, symbol in list(self._tracked.items()):
            try:
                state = await self.get_order(symbol, cid)
            except TradingError:
                continue
            fills: tuple[Fill, ...] = ()
            if state.filled > 0:
                if symbol not in fills_of:
                    try:
                        fills_of[symbol] = await self.recent_fills(symbol)
                    except TradingError:
                        fills_of[symbol] = ()
                fills = tuple(f for f in fills_of[symbol] if f.order_id == state.order_id)
            if state.status.is_terminal:
                self._tracked.pop(cid, None)
            out.append(OrderUpdate(state=state, fills=fills, seq=state.ts * 1000.0, source="rest"))
        return out

    def forget_if_done(self, state: OrderState) -> None:
        """Stop tracking an order a stream reported ended."""
        if state.status.is_terminal:
            self._tracked.pop(state.client_id, None)

    async def updates(self) -> AsyncIterator[OrderUpdate]:
        """Order updates by polling REST every ``poll_interval`` s: the state of every order this
        gateway placed, when it changes, with its new fills (deduplicated by trade id). Venues
        with a private stream override this; the order manager reconciles through REST anyway."""
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
                    fills = tuple(
                        f
                        for f in await self.recent_fills(symbol)
                        if f.order_id == state.order_id and f.trade_id not in seen
                    )
                    seen.update(f.trade_id for f in fills)
                if state.status.is_terminal:
                    self._tracked.pop(cid, None)
                yield OrderUpdate(state=state, fills=fills, seq=state.ts, source="poll")
            await asyncio.sleep(self.poll_interval)
