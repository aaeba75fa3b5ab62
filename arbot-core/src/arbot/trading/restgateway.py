"""The common half of a venue's private REST gateway: signed calls, error mapping, the clock
offset, and the rules that keep an order from ever being placed twice.

A venue subclass of :class:`SignedRestGateway` supplies how to sign (:meth:`~SignedRestGateway.sign`),
how to read its answers and errors (:meth:`~SignedRestGateway.unwrap`,
:meth:`~SignedRestGateway.error_for`), its server time and its order endpoints. The base:

* signs every attempt afresh (new timestamp / nonce) with the venue clock = local clock +
  offset, and re-syncs the offset once after a clock-skew rejection, then resends;
* maps the transport: a timeout, a dropped connection or a 5xx on a request that changes
  state is :class:`~arbot.trading.errors.AmbiguousOrderState` (never a rejection); 429/418
  block the rate limiter for ``Retry-After`` seconds and the request is re-signed and resent;
* :meth:`SignedRestGateway.place_order`: a client id whose earlier attempt got no definite
  answer is looked up first (:meth:`~SignedRestGateway.lookup`), and a duplicate-id rejection
  is answered with a lookup, not a new order.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence

import msgspec

from arbot.connectors.ratelimit import CountLimiter, RateLimitPolicy
from arbot.connectors.rest import RestClient, RestError
from arbot.events import Side
from arbot.market import MarketInfo
from arbot.trading.errors import (
    AmbiguousOrderState,
    ClockSkew,
    DuplicateClientId,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TradingError,
)
from arbot.trading.precision import prepare_order
from arbot.trading.signing import SignedRequest
from arbot.trading.types import (
    Balance,
    DepositWithdrawNetwork,
    Fill,
    OrderRequest,
    OrderState,
    OrderType,
    OrderUpdate,
    TradingFee,
)

__all__ = ["JsonValue", "PreparedOrder", "SignedRestGateway", "client_id_source"]

log = logging.getLogger("arbot.trading")

#: A decoded JSON document.
JsonValue = dict[str, "JsonValue"] | list["JsonValue"] | str | int | float | bool | None

_MUTATING = frozenset({"POST", "DELETE", "PUT", "PATCH"})


def client_id_source() -> itertools.count[int]:
    """A counter seeded from the clock (µs) and the pid, so ids stay unique across restarts."""
    return itertools.count(((time.time_ns() // 1000) << 8) | (os.getpid() & 0xFF))


class PreparedOrder:
    """An order rounded to the market: ``price`` and ``quantity`` as exact decimal strings."""

    __slots__ = ("market", "price", "quantity", "request")

    def __init__(self, request: OrderRequest, market: MarketInfo, price: str | None, quantity: str) -> None:
        self.request = request
        self.market = market
        self.price = price
        self.quantity = quantity


class SignedRestGateway(ABC):
    """Base of a venue's private REST gateway (see the module docstring)."""

    venue: str = ""
    #: Attempts per request when the venue says "rate limited" or "clock skew" (not sent).
    max_attempts: int = 3
    #: False where a client id may never be sent twice, even after a rejection (Upbit).
    client_id_resendable: bool = True

    def __init__(
        self,
        rest_url: str,
        markets: Mapping[str, MarketInfo],
        *,
        limiter: RateLimitPolicy | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.markets = dict(markets)
        self.limiter = limiter if limiter is not None else CountLimiter(20, 1.0)
        self.rest = RestClient(rest_url, self.limiter, timeout=timeout, retries=0)
        #: venue clock minus local clock, in seconds (kept by :meth:`sync_clock`)
        self.clock_offset = 0.0
        #: client ids whose last attempt had no definite answer (looked up before resending)
        self.unsettled: set[str] = set()
        self._updates: asyncio.Queue[OrderUpdate] = asyncio.Queue()

    # -- to implement ------------------------------------------------------------------------

    @abstractmethod
    def sign(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: Mapping[str, str] | None,
        now_ms: int,
    ) -> SignedRequest:
        """Sign one request at venue time ``now_ms``."""

    @abstractmethod
    def error_for(self, status: int, body: JsonValue, text: str) -> TradingError:
        """The typed error of a non-2xx answer (``body`` is the decoded JSON, or None)."""

    def unwrap(self, body: JsonValue) -> JsonValue:
        """The payload of a 2xx answer; raise the venue's error when a 200 carries one."""
        return body

    @abstractmethod
    async def server_time_ms(self) -> int:
        """The venue's clock (a public request)."""

    @abstractmethod
    async def fetch_markets(self) -> list[MarketInfo]:
        """Tick, step and minimums of every market (the venue's public metadata)."""

    async def start_stream(self) -> None:  # noqa: B027 - optional hook
        """Open the private stream (venues without one poll, or rely on REST)."""

    async def start(self) -> None:
        """Sync the clock, load the markets when none were given, open the private stream."""
        await self.sync_clock()
        if not self.markets:
            self.markets = {m.symbol: m for m in await self.fetch_markets()}
        await self.start_stream()

    @abstractmethod
    def order_call(self, order: PreparedOrder) -> tuple[str, Mapping[str, str]]:
        """The path and JSON body that place ``order``."""

    @abstractmethod
    def order_ack(self, order: PreparedOrder, body: JsonValue) -> OrderState:
        """The state of a just-placed order from the venue's answer."""

    @abstractmethod
    async def get_order(self, symbol: str, client_id: str) -> OrderState:
        """The order by client id; raises OrderNotFound when the venue does not know it."""

    @abstractmethod
    def new_client_id(self) -> str:
        """A client order id in the venue's own format, unique across restarts."""

    @abstractmethod
    async def cancel_order(self, symbol: str, client_id: str) -> OrderState:
        """Cancel by client id; raises OrderNotFound when the venue does not know it."""

    @abstractmethod
    async def cancel_all(self, symbol: str) -> Sequence[OrderState]:
        """Cancel every open order of ``symbol``."""

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
        """Deposit/withdrawal networks of ``asset`` with fees and minimums."""

    # -- clock -------------------------------------------------------------------------------

    def now_ms(self) -> int:
        """The venue's clock in milliseconds (local clock + offset)."""
        return int((time.time() + self.clock_offset) * 1000)

    async def sync_clock(self) -> float:
        """Measure the offset to the venue's clock (half the round trip corrected)."""
        t0 = time.time()
        server = await self.server_time_ms()
        t1 = time.time()
        self.clock_offset = server / 1000.0 - (t0 + t1) / 2.0
        return self.clock_offset

    # -- calls -------------------------------------------------------------------------------

    async def call(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, str] | None = None,
        *,
        weight: float = 1.0,
        resend: bool = True,
    ) -> JsonValue:
        """One signed request; retried (re-signed) only when the venue said it was not taken
        (rate limited, clock skew) and ``resend`` allows it."""
        resynced = False
        attempt = 0
        while True:
            attempt += 1
            signed = self.sign(method, path, query, body, self.now_ms())
            try:
                raw = await self.rest.request(
                    method,
                    signed.path_with_query,
                    data=signed.body.encode() if signed.body is not None else None,
                    headers=signed.headers,
                    weight=weight,
                    endpoint=path,
                )
            except RestError as exc:
                err = self._classify(method, path, exc)
                if isinstance(err, RateLimited) and resend and attempt < self.max_attempts:
                    continue  # the limiter is blocked for Retry-After: acquire waits
                if isinstance(err, ClockSkew) and resend and not resynced:
                    resynced = True
                    await self.sync_clock()
                    continue
                raise err from exc
            payload: JsonValue = raw
            return self.unwrap(payload)

    def _classify(self, method: str, path: str, exc: RestError) -> TradingError:
        status = exc.status
        if status == 0 or status >= 500:
            text = f"{method} {path}: no definite answer ({exc})"
            if method in _MUTATING:
                return AmbiguousOrderState(self.venue, text, str(status) if status else None)
            return TradingError(self.venue, text, str(status) if status else None)
        body: JsonValue = None
        try:
            body = msgspec.json.decode(exc.body)
        except msgspec.DecodeError:
            body = None
        if status in (418, 429):
            return RateLimited(self.venue, f"{method} {path}: rate limited ({status})", str(status))
        return self.error_for(status, body, exc.body)

    # -- orders ------------------------------------------------------------------------------

    def market(self, symbol: str) -> MarketInfo:
        """The rules of ``symbol``; a clear error when the gateway does not know it."""
        info = self.markets.get(symbol)
        if info is None:
            raise OrderRejected(self.venue, f"unknown symbol {symbol!r}", "unknown_symbol")
        return info

    def prepare(self, request: OrderRequest) -> PreparedOrder:
        """Round price (to the tick, never worse for the side) and size (down, to the step) and
        check the minimums before anything is sent (:func:`arbot.trading.precision.prepare_order`)."""
        info = self.market(request.symbol)
        price = request.price if request.order_type is OrderType.LIMIT else None
        if request.order_type is OrderType.LIMIT and (price is None or price <= 0):
            raise OrderRejected(self.venue, f"{request.symbol}: a limit order needs a price", "price")
        prepared = prepare_order(info, request.quantity, price, request.side is Side.BUY)
        if prepared.problem:
            raise OrderRejected(self.venue, f"{request.symbol} {request.client_id}: {prepared.problem}",
                                "local")
        return PreparedOrder(request, info, prepared.price, prepared.quantity)

    async def lookup(self, symbol: str, client_id: str) -> OrderState | None:
        """The order of ``client_id`` if the venue has it, else None (venues whose client id is
        not always queryable override this with open/closed order scans)."""
        try:
            return await self.get_order(symbol, client_id)
        except OrderNotFound:
            return None

    def before_resend(self, request: OrderRequest) -> None:  # noqa: B027 - optional hook
        """Called when a client id whose first attempt was ambiguous turned out not to exist,
        before it is sent again (Upbit refuses a reused identifier: it raises there)."""

    async def place_order(self, request: OrderRequest) -> OrderState:
        """Place ``request`` at most once (see the module docstring)."""
        cid = request.client_id
        if cid in self.unsettled:
            found = await self.lookup(request.symbol, cid)
            if found is not None:
                self.unsettled.discard(cid)
                return found
            self.before_resend(request)
        order = self.prepare(request)
        path, body = self.order_call(order)
        self.unsettled.add(cid)
        try:
            answer = await self.call("POST", path, body=body, resend=self.client_id_resendable)
        except DuplicateClientId:
            found = await self.lookup(request.symbol, cid)
            if found is None:
                raise
            self.unsettled.discard(cid)
            return found
        except AmbiguousOrderState:
            raise
        except TradingError:
            self.unsettled.discard(cid)
            raise
        self.unsettled.discard(cid)
        return self.order_ack(order, answer)

    # -- stream ------------------------------------------------------------------------------

    def publish(self, update: OrderUpdate) -> None:
        """Hand an order update from the private stream (or polling) to :meth:`updates`."""
        self._updates.put_nowait(update)

    async def updates(self) -> AsyncIterator[OrderUpdate]:
        """Order updates and fills as they arrive."""
        while True:
            yield await self._updates.get()

    async def close(self) -> None:
        """Close the REST session."""
        await self.rest.close()

    def symbols(self) -> Sequence[str]:
        """Unified symbols the gateway can trade."""
        return list(self.markets)
