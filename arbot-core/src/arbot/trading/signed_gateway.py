"""A :class:`~arbot.trading.rest_gateway.RestTradingGateway` for venues whose answers are JSON
documents read whole, and whose signatures may be used only once (a JWT nonce).

The order-safety rules (lookup of an ambiguous client id before any resend, a duplicate id
answered by a lookup, precision and minimums before sending, the clock offset) are the base's.
This layer changes how a request goes out and how answers are read:

* :meth:`SignedRestGateway.call` signs every attempt afresh (new timestamp, new nonce): the REST
  client resends nothing itself; a 429/418 blocks the rate limiter for ``Retry-After`` and the
  request is re-signed and resent, a clock-skew answer re-syncs the clock first, a read that got
  no answer is asked again; a timeout,
  dropped connection or 5xx of a request that changes state is
  :class:`~arbot.trading.errors.AmbiguousOrderState`;
* a venue writes :meth:`~SignedRestGateway.sign`, :meth:`~SignedRestGateway.error_for` (the
  typed error of an answer), :meth:`~SignedRestGateway.unwrap` (the payload of a 200),
  :meth:`~SignedRestGateway.order_call` / :meth:`~SignedRestGateway.order_ack` (the order request
  and the state its answer gives), its public time and markets;
* :meth:`~SignedRestGateway.updates` yields what the private stream :meth:`~SignedRestGateway.publish`\\es,
  or polls REST (the base's fallback) when the gateway runs without a stream;
* after the private stream came back from a drop (:meth:`~SignedRestGateway.stream_opened`,
  called by the venue on every connect), the gateway catches up through REST: the state and
  fills of every order it tracks are published (``source="rest"``), so a fill that happened
  while the stream was down is not missed.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import abstractmethod
from collections.abc import AsyncIterator, Mapping

import msgspec

from arbot.connectors.ratelimit import RateLimitPolicy
from arbot.connectors.rest import RestError
from arbot.market import MarketInfo
from arbot.trading.errors import (
    AmbiguousOrderState,
    ClockSkew,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TradingError,
)
from arbot.trading.precision import PreparedOrder as PreparedSizes
from arbot.trading.precision import prepare_order
from arbot.trading.rest_gateway import RestTradingGateway
from arbot.trading.signing import ApiCredentials, SignedRequest
from arbot.trading.types import OrderRequest, OrderState, OrderUpdate

__all__ = ["JsonValue", "PreparedOrder", "SignedRestGateway"]

#: A decoded JSON document.
JsonValue = dict[str, "JsonValue"] | list["JsonValue"] | str | int | float | bool | None

_MUTATING = frozenset({"POST", "DELETE", "PUT", "PATCH"})


class PreparedOrder:
    """An order with its market and its price and size as the wire carries them."""

    __slots__ = ("market", "price", "quantity", "request")

    def __init__(self, request: OrderRequest, market: MarketInfo, price: str | None, quantity: str) -> None:
        self.request = request
        self.market = market
        self.price = price
        self.quantity = quantity


class SignedRestGateway(RestTradingGateway):
    """Base of the KuCoin, Gate, Upbit and Bithumb gateways (see the module docstring)."""

    #: Attempts per request when the venue says "rate limited" (not taken).
    max_attempts: int = 3
    #: False where a client id may never be sent twice, even after a rejection (Upbit).
    client_id_resendable: bool = True
    #: False runs without the private stream (:meth:`updates` then polls REST).
    stream_enabled: bool = True
    #: False where the venue takes a second order with a client id already used (Gate's
    #: ``text``): a client id this gateway did not mint (:meth:`minted`) and never sent is
    #: looked up before it is sent, since the venue would not answer "duplicate".
    venue_refuses_duplicate_ids: bool = True

    def __init__(
        self,
        credentials: ApiCredentials,
        rest_url: str,
        markets: Mapping[str, MarketInfo] | None = None,
        *,
        limiter: RateLimitPolicy | None = None,
        timeout: float = 10.0,
    ) -> None:
        budget = limiter or self.default_limiter(rest_url, credentials)
        super().__init__(credentials, rest_url=rest_url, markets=markets, limiter=budget, timeout=timeout)
        self.rest.retries = 0  # every attempt is re-signed here (a JWT nonce is good once)
        #: the request budget (429/418 answers block it for ``Retry-After``): the venue host's,
        #: shared with its market-data connector (and the key's, where the venue counts per key)
        self.limiter: RateLimitPolicy = budget
        self._updates: asyncio.Queue[OrderUpdate] = asyncio.Queue()
        self._minted: set[str] = set()
        #: private-stream connects so far, and REST catch-ups run after reconnects
        self.stream_opens = 0
        self.catch_ups = 0
        self._catch_up_tasks: set[asyncio.Task[None]] = set()

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

    @abstractmethod
    def order_call(self, order: PreparedOrder) -> tuple[str, Mapping[str, str]]:
        """The path and JSON body that place ``order``."""

    @abstractmethod
    def order_ack(self, order: PreparedOrder, body: JsonValue) -> OrderState:
        """The state of a just-placed order from the venue's answer."""

    async def start_stream(self) -> None:
        """Open the private stream (venues without one rely on polling)."""

    # -- the base's hooks --------------------------------------------------------------------

    def _sign(self, method: str, path: str, params: Mapping[str, object], ts_ms: int) -> SignedRequest:
        text = {k: str(v) for k, v in params.items()}
        if method in ("GET", "DELETE"):
            return self.sign(method, path, text or None, None, ts_ms)
        return self.sign(method, path, None, text, ts_ms)

    def _classify(self, status: int, code: str, message: str) -> TradingError:
        # only the base's own request helpers call this; this layer's requests go through
        # :meth:`call`, which reads the venue's error documents with :meth:`error_for`
        return TradingError(self.venue, message, code)

    async def _server_time_ms(self) -> int:
        return await self.server_time_ms()

    async def _load_markets(self) -> list[MarketInfo]:
        return await self.fetch_markets()

    async def _submit(self, request: OrderRequest, prepared: PreparedSizes | None) -> OrderState:
        if prepared is None:
            prepared = self.prepare_market_order(request)
        order = PreparedOrder(request, self.market(request.symbol), prepared.price, prepared.quantity)
        path, body = self.order_call(order)
        answer = await self.call("POST", path, body=body, resend=self.client_id_resendable)
        return self.order_ack(order, answer)

    def prepare_market_order(self, request: OrderRequest) -> PreparedSizes:
        """The size of a market order rounded to the step (and checked against the minimums
        at its reference price, when it has one)."""
        sizes = prepare_order(
            self.market(request.symbol), request.quantity, request.price, request.side.value == "BUY"
        )
        if sizes.problem:
            raise OrderRejected(self.venue, f"{request.symbol} {request.client_id}: {sizes.problem}", "local")
        return sizes

    def prepare(self, request: OrderRequest) -> PreparedSizes:
        """Rounded price and size, minimums checked (a market order at its reference price)."""
        sizes = super().prepare(request)
        return sizes if sizes is not None else self.prepare_market_order(request)

    def prepared(self, request: OrderRequest) -> PreparedOrder:
        """:meth:`prepare` with the order's market, as :meth:`order_call` takes it."""
        sizes = self.prepare(request)
        return PreparedOrder(request, self.market(request.symbol), sizes.price, sizes.quantity)

    async def place_order(self, request: OrderRequest) -> OrderState:
        """As the base; in addition a client id this gateway already placed (and still tracks)
        is looked up, not sent again: venues whose client ids need not be unique (Gate's
        ``text``) would otherwise take a second order."""
        cid = request.client_id
        if cid in self._tracked and cid not in self._ambiguous:
            found = await self._lookup(request.symbol, cid)
            if found is not None:
                return found
        elif not self.venue_refuses_duplicate_ids and cid not in self._tracked and cid not in self._minted:
            # an id from elsewhere (a restarted process resending): the venue would take it
            # twice, so it is looked up first; an error of the lookup itself is raised (sending
            # blind could double the order)
            self.stats.lookups += 1
            try:
                found = await self.get_order(request.symbol, cid)
            except OrderNotFound:
                found = None
            if found is not None:
                self.stats.recovered_by_lookup += 1
                self._tracked[cid] = request.symbol
                return found
        self._minted.discard(cid)
        return await super().place_order(request)

    def minted(self, client_id: str) -> str:
        """Remember ``client_id`` as made by this gateway and not sent yet; returns it."""
        self._minted.add(client_id)
        return client_id

    async def start(self) -> None:
        """Sync the clock, load the markets when none were given, open the private stream."""
        await super().start()
        if self.stream_enabled:
            await self.start_stream()

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
        """One signed request, re-signed per attempt (see the module docstring)."""
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
                err = self._error_of(method, path, exc)
                if exc.status == 0 and method not in _MUTATING and attempt < self.max_attempts:
                    continue  # a read lost on the way (a stale pooled connection): ask again
                if isinstance(err, RateLimited) and resend and attempt < self.max_attempts:
                    self.stats.rate_limited += 1
                    continue  # the limiter is blocked for Retry-After: acquire waits
                if isinstance(err, ClockSkew) and resend and not resynced:
                    resynced = True
                    self.stats.clock_skew_retries += 1
                    await self.sync_clock()
                    continue
                raise err from exc
            payload: JsonValue = raw
            return self.unwrap(payload)

    def _error_of(self, method: str, path: str, exc: RestError) -> TradingError:
        status = exc.status
        if status == 0 or status >= 500:
            text = f"{method} {path}: no definite answer ({exc})"
            if method in _MUTATING:
                return AmbiguousOrderState(self.venue, text, str(status) if status else None)
            return TradingError(self.venue, text, str(status) if status else None)
        if status in (418, 429):
            return RateLimited(self.venue, f"{method} {path}: rate limited ({status})", str(status))
        body: JsonValue = None
        try:
            body = msgspec.json.decode(exc.body)
        except msgspec.DecodeError:
            body = None
        return self.error_for(status, body, exc.body)

    # -- stream ------------------------------------------------------------------------------

    async def stream_opened(self, session: object = None) -> None:
        """Call on every connect of the private stream (a ``WsSession`` ``on_open``): after a
        reconnect, a REST catch-up (:meth:`catch_up`) runs once the stream is subscribed again."""
        self.stream_opens += 1
        if self.stream_opens > 1:
            task = asyncio.get_running_loop().create_task(self._catch_up_when_settled())
            self._catch_up_tasks.add(task)
            task.add_done_callback(self._catch_up_tasks.discard)

    async def stream_settled(self) -> None:
        """Wait until the reconnected stream is subscribed (venues with a subscription answer
        override this); the catch-up queries REST only then, so nothing falls between the two."""

    async def _catch_up_when_settled(self) -> None:
        with contextlib.suppress(TimeoutError):  # catch up anyway: REST is the reference
            await asyncio.wait_for(self.stream_settled(), 10.0)
        await self.catch_up()

    async def catch_up(self) -> list[OrderUpdate]:
        """Publish the REST state and fills of every tracked order (:meth:`reconcile_tracked`);
        returns them."""
        self.catch_ups += 1
        updates = await self.reconcile_tracked()
        for update in updates:
            self.publish(update)
        return updates

    async def close(self) -> None:
        """Stop a running catch-up, then close the REST session."""
        for task in list(self._catch_up_tasks):
            task.cancel()
        await super().close()

    def publish(self, update: OrderUpdate) -> None:
        """Hand an order update from the private stream to :meth:`updates`."""
        self._updates.put_nowait(update)

    async def updates(self) -> AsyncIterator[OrderUpdate]:
        """Updates from the private stream, or REST polling when it is off."""
        if not self.stream_enabled:
            async for update in super().updates():
                yield update
            return
        while True:
            yield await self._updates.get()
