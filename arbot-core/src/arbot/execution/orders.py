"""The order manager: one state machine per order, settled by facts from the venue, never by guesses.

::

    PENDING_NEW --ack--> NEW --fill--> PARTIALLY_FILLED --fill--> FILLED
        |                 |                   |
        |                 +-------------------+--> CANCELLED | EXPIRED
        +--explicit refusal--> REJECTED
        +--no definite answer--> UNKNOWN --lookup by client id--> any of the above

* The intent (PENDING_NEW) is journaled, and flushed to stable storage, before the request
  leaves; every transition after it.
* REST answers and stream updates are merged monotonically: a status never goes back to a
  lower rank and the filled size never shrinks, whatever the source; within one source an
  update older than the last (``OrderUpdate.seq``) is stale. Sources are not compared by seq
  (a stream numbers in ms of event time, a REST answer in s -- and a gateway's synthesized
  ack may carry a later time than the fill the stream reports), so a REST answer after a
  stream update, or the other way round, always applies what it adds. Fills are deduplicated
  by the venue's trade id. Updates after a terminal state are counted (``late_updates``), not
  applied.
* The ambiguity rules of :mod:`arbot.trading.errors`: AmbiguousOrderState -> UNKNOWN -> lookup;
  ClockSkew -> not accepted, resend with the same client id; DuplicateClientId -> lookup;
  "not found" on cancel -> query and apply the fills (never "lost" after one miss); a "not
  found" for a recent order is transient and changes nothing.
* Queries are throttled per venue (``query_interval_s``), so reconciling hundreds of orders
  stays inside the venues' rate limits.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Iterable, Mapping

import attrs

from arbot.execution.events import ExecutionEvent, OrderTransition
from arbot.execution.journal import JournalStore, OrderRecord, Transition
from arbot.execution.runtime import Runtime
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
from arbot.trading.gateway import TradingGateway
from arbot.trading.types import Fill, OrderRequest, OrderState, OrderStatus, OrderUpdate

__all__ = ["ManagedOrder", "OrderManager", "OrderPolicy"]

S = OrderStatus
_RANK = {
    S.PENDING_NEW: 0,
    S.UNKNOWN: 0,
    S.NEW: 1,
    S.PARTIALLY_FILLED: 2,
    S.FILLED: 3,
    S.CANCELLED: 3,
    S.REJECTED: 3,
    S.EXPIRED: 3,
}
EPS = 1e-12


@attrs.frozen(slots=True)
class OrderPolicy:
    """Bounds of the order manager's retries and waits (seconds on the runtime's clock)."""

    send_attempts: int = 3
    resend_backoff_s: float = 0.2
    lookup_attempts: int = 4
    lookup_backoff_s: float = 0.25
    query_interval_s: float = 0.05
    fill_collect_attempts: int = 4
    #: while a venue's private stream is followed, how often a waiting order looks at what the
    #: stream applied (local state, no request) between two REST queries
    stream_check_s: float = 0.002
    #: while a venue's private stream is followed, how long a filled order waits for the stream
    #: to bring its fills (trade ids, fees) before they are fetched through REST (Binance
    #: ``myTrades`` weighs 20: fetching after every fill would spend the venue's budget)
    stream_fill_wait_s: float = 0.5
    #: after this age a venue may have forgotten an order: "not found" is resolved from fills
    venue_retention_s: float = 3 * 86400.0


@attrs.define(slots=True, eq=False)
class ManagedOrder:
    """One order and everything known about it."""

    request: OrderRequest
    episode_id: str
    purpose: str
    sent_ts: float
    status: OrderStatus = S.PENDING_NEW
    order_id: str = ""
    state_filled: float = 0.0
    state_avg: float | None = None
    fill_qty: float = 0.0
    fill_cost: float = 0.0
    fee: float = 0.0
    fee_asset: str = ""
    #: the newest ``OrderUpdate.seq`` applied, per source ("stream", "rest", "query"...)
    seq_by_source: dict[str, float] = attrs.field(factory=dict)
    late_updates: int = 0
    stale_updates: int = 0
    misses: int = 0
    inferred: bool = False
    reason: str = ""
    trade_ids: set[str] = attrs.field(factory=set)
    fills: list[Fill] = attrs.field(factory=list)

    @property
    def client_id(self) -> str:
        """The client order id (the key at the venue and in the journal)."""
        return self.request.client_id

    @property
    def filled(self) -> float:
        """Cumulative filled size: the venue's statement or the sum of its fills, whichever is larger."""
        return max(self.state_filled, self.fill_qty)

    @property
    def average_price(self) -> float:
        """Average fill price (NaN when nothing filled)."""
        if self.fill_qty > EPS and self.fill_qty >= self.state_filled - 1e-9 * max(1.0, self.state_filled):
            return self.fill_cost / self.fill_qty
        if self.state_avg is not None and self.state_filled > 0.0:
            return self.state_avg
        if self.fill_qty > EPS:
            return self.fill_cost / self.fill_qty
        return math.nan

    @property
    def fills_missing(self) -> float:
        """Filled size the venue stated for which no fill (trade id) is known yet."""
        return max(self.state_filled - self.fill_qty, 0.0)

    def record(self, ts: float) -> OrderRecord:
        """The journal record of this order now."""
        r = self.request
        avg = self.average_price
        return OrderRecord(
            r.client_id,
            self.episode_id,
            self.purpose,
            r.venue,
            r.symbol,
            r.side,
            r.order_type,
            r.time_in_force,
            r.quantity,
            r.price,
            self.status,
            ts,
            self.order_id,
            self.filled,
            self.filled * avg if avg == avg else 0.0,
            self.fee,
        )


class OrderManager:
    """Places, tracks, queries and cancels orders through the venues' trading gateways."""

    def __init__(
        self,
        gateways: Mapping[str, TradingGateway],
        journal: JournalStore,
        runtime: Runtime,
        policy: OrderPolicy | None = None,
        listener: Callable[[ExecutionEvent], None] | None = None,
    ) -> None:
        self.gateways = gateways
        self.journal = journal
        self.runtime = runtime
        self.policy = policy or OrderPolicy()
        self.listener = listener
        self.orders: dict[str, ManagedOrder] = {}
        self._next_query: dict[str, float] = {}
        #: updates for client ids this manager does not know (external orders)
        self.unmatched_updates = 0
        self.queries = 0
        #: venues whose private stream :meth:`follow` is merging now
        self.following: set[str] = set()

    # -- state ----------------------------------------------------------------------------

    def _transition(self, order: ManagedOrder, new: OrderStatus, reason: str) -> None:
        old = order.status
        order.status = new
        order.reason = reason
        now = self.runtime.now()
        self.journal.put_order(order.record(now))
        self.journal.log(Transition(now, "order", order.client_id, new.value, reason))
        if self.listener is not None:
            r = order.request
            self.listener(
                OrderTransition(
                    now,
                    order.episode_id,
                    order.client_id,
                    r.venue,
                    r.symbol,
                    order.purpose,
                    old,
                    new,
                    order.filled,
                    reason,
                )
            )

    def _add_fill(self, order: ManagedOrder, fill: Fill) -> bool:
        if fill.trade_id in order.trade_ids:
            return False
        order.trade_ids.add(fill.trade_id)
        order.fills.append(fill)
        order.fill_qty += fill.quantity
        order.fill_cost += fill.quantity * fill.price
        order.fee += fill.fee
        order.fee_asset = fill.fee_asset
        self.journal.put_fill(fill, order.episode_id)
        return True

    def apply(self, update: OrderUpdate) -> bool:
        """Merge one venue update (REST answer or stream message); True when it changed the order."""
        st = update.state
        order = self.orders.get(st.client_id)
        if order is None:
            self.unmatched_updates += 1
            return False
        if order.status.is_terminal and not order.inferred:
            # the venue already said the last word: only fills completing the stated size are taken
            added = False
            for f in update.fills:
                if (
                    f.trade_id not in order.trade_ids
                    and order.fill_qty + f.quantity <= order.state_filled + 1e-9
                ):
                    added = self._add_fill(order, f) or added
            if not added:
                order.late_updates += 1
            else:
                self.journal.put_order(order.record(self.runtime.now()))
            return added
        old_rank = _RANK[order.status]
        if order.inferred:
            order.inferred = False  # the venue knows it after all: its word replaces our inference
            old_rank = 0
        changed = False
        for f in update.fills:
            changed = self._add_fill(order, f) or changed
        if st.order_id:
            order.order_id = st.order_id
        if update.seq < order.seq_by_source.get(update.source, -math.inf):
            order.stale_updates += 1
            if st.filled > order.state_filled:
                order.state_filled = st.filled
                changed = True
            if changed:
                self.journal.put_order(order.record(self.runtime.now()))
            return changed
        order.seq_by_source[update.source] = update.seq
        if st.filled >= order.state_filled:
            order.state_filled = st.filled
            if st.average_price is not None:
                order.state_avg = st.average_price
        new = st.status
        if new is S.NEW and order.filled > EPS:
            new = S.PARTIALLY_FILLED
        if new is S.UNKNOWN or new is S.PENDING_NEW or _RANK[new] < old_rank:
            new = order.status
        if new is not order.status:
            self._transition(order, new, f"{update.source}: venue says {st.status.value}")
            return True
        if changed:
            self.journal.put_order(order.record(self.runtime.now()))
        return changed

    def record_fills(self, order: ManagedOrder, fills: Iterable[Fill]) -> int:
        """Apply fills found at the venue (reconciliation); returns how many were new."""
        added = sum(1 for f in fills if self._add_fill(order, f))
        if added:
            self.journal.put_order(order.record(self.runtime.now()))
        return added

    def adopt(self, record: OrderRecord, fills: Iterable[Fill] = ()) -> ManagedOrder:
        """Take over an order the journal knows (restart): its last state and journaled fills."""
        order = ManagedOrder(
            record.request,
            record.episode_id,
            record.purpose,
            record.ts,
            status=record.status,
            order_id=record.order_id,
            state_filled=record.filled,
            state_avg=record.cost / record.filled if record.filled > 0 else None,
        )
        for f in fills:
            if f.trade_id not in order.trade_ids:
                order.trade_ids.add(f.trade_id)
                order.fills.append(f)
                order.fill_qty += f.quantity
                order.fill_cost += f.quantity * f.price
                order.fee += f.fee
                order.fee_asset = f.fee_asset
        self.orders[record.client_id] = order
        return order

    # -- actions --------------------------------------------------------------------------

    def prepare(self, request: OrderRequest, episode_id: str, purpose: str) -> ManagedOrder:
        """Write the order's intent (PENDING_NEW) to the journal; nothing is sent yet."""
        order = ManagedOrder(request, episode_id, purpose, self.runtime.now())
        self.orders[request.client_id] = order
        now = self.runtime.now()
        self.journal.put_order(order.record(now))
        self.journal.log(
            Transition(now, "order", request.client_id, S.PENDING_NEW.value, f"intent: {purpose}")
        )
        return order

    async def submit(self, request: OrderRequest, episode_id: str, purpose: str) -> ManagedOrder:
        """Journal the intent, send the order, and settle its immediate answer."""
        return await self.send(self.prepare(request, episode_id, purpose))

    async def send(self, order: ManagedOrder) -> ManagedOrder:
        """Send a prepared order and settle its immediate answer (UNKNOWN is looked up).

        The journal is flushed to stable storage first (the intent, and everything written
        before it, in one flush with the intents of the episode's other legs): the request
        never leaves before its intent is on disk."""
        journal = self.journal
        if journal.needs_flush():
            await self.runtime.blocking(journal.sync)
        await self._send(order)
        if order.status is S.UNKNOWN:
            await self.resolve(order)
        if order.fills_missing > EPS:
            await self._wait_for_stream_fills(order)
        if order.fills_missing > EPS:
            await self.collect_fills(order)
        return order

    async def _wait_for_stream_fills(self, order: ManagedOrder) -> None:
        """Give the followed private stream ``stream_fill_wait_s`` to bring the order's fills."""
        if order.request.venue not in self.following:
            return
        rt = self.runtime
        until = rt.now() + self.policy.stream_fill_wait_s
        step = self.policy.stream_check_s
        while order.fills_missing > EPS and order.request.venue in self.following:
            left = until - rt.now()
            if left <= 0.0:
                return
            await rt.sleep(min(step, left))

    async def _send(self, order: ManagedOrder) -> None:
        gw = self.gateways[order.request.venue]
        p = self.policy
        for attempt in range(1, p.send_attempts + 1):
            try:
                state = await gw.place_order(order.request)
            except OrderRejected as exc:
                self._transition(order, S.REJECTED, f"rejected by venue: {exc.message}")
                return
            except AuthenticationFailed as exc:
                self._transition(order, S.REJECTED, f"authentication failed, nothing placed: {exc.message}")
                return
            except ClockSkew as exc:
                self.journal.log(
                    Transition(
                        self.runtime.now(),
                        "order",
                        order.client_id,
                        S.PENDING_NEW.value,
                        f"clock skew, not accepted (attempt {attempt}): {exc.message}; resend same client id",
                    )
                )
                await self.runtime.sleep(p.resend_backoff_s)
                continue
            except RateLimited as exc:
                self.journal.log(
                    Transition(
                        self.runtime.now(),
                        "order",
                        order.client_id,
                        S.PENDING_NEW.value,
                        f"rate limited (attempt {attempt}), retry after {exc.retry_after}s",
                    )
                )
                await self.runtime.sleep(exc.retry_after)
                continue
            except DuplicateClientId as exc:
                self._transition(order, S.UNKNOWN, f"duplicate client id: look the order up ({exc.message})")
                return
            except AmbiguousOrderState as exc:
                self._transition(order, S.UNKNOWN, f"no definite answer: {exc.message}")
                return
            except TradingError as exc:
                self._transition(order, S.UNKNOWN, f"unclassified error, treated as ambiguous: {exc}")
                return
            self.apply(OrderUpdate(state, (), state.ts, "rest"))
            return
        self._transition(
            order, S.REJECTED, f"not accepted after {p.send_attempts} attempts (clock skew/rate limit)"
        )

    async def throttle(self, venue: str) -> None:
        """Wait for this venue's next request slot (one per ``query_interval_s``): every query,
        fill list and cancel goes through it, so reconciling hundreds of orders stays inside the
        venue's rate limit."""
        rt = self.runtime
        now = rt.now()
        at = self._next_query.get(venue, now)
        if at > now:
            self._next_query[venue] = at + self.policy.query_interval_s
            await rt.sleep(at - now)
        else:
            self._next_query[venue] = now + self.policy.query_interval_s
        self.queries += 1

    async def _get(self, order: ManagedOrder) -> OrderState:
        await self.throttle(order.request.venue)
        r = order.request
        return await self.gateways[r.venue].get_order(r.symbol, r.client_id)

    async def resolve(self, order: ManagedOrder) -> ManagedOrder:
        """Settle an UNKNOWN (or journaled PENDING_NEW) order by looking its client id up.

        Found: the venue's state applies. Definitely "not found" ``lookup_attempts`` times (out of
        at most twice as many tries, errors not counting): REJECTED, marked as inferred (a later
        venue update still overrides it). Otherwise the order stays UNKNOWN and the caller holds.
        """
        p = self.policy
        if order.status is S.PENDING_NEW:
            self._transition(order, S.UNKNOWN, "intent journaled without an answer: it may have been sent")
        not_found = 0
        for attempt in range(2 * p.lookup_attempts):
            if not_found >= p.lookup_attempts:
                break
            if attempt:
                await self.runtime.sleep(p.lookup_backoff_s * min(attempt, p.lookup_attempts))
            try:
                state = await self._get(order)
            except OrderNotFound:
                not_found += 1
                continue
            except TradingError:
                continue
            self.apply(OrderUpdate(state, (), state.ts, "lookup"))
            if order.status is S.UNKNOWN:
                # the venue knows it but states nothing definite yet
                continue
            if order.fills_missing > EPS:
                await self.collect_fills(order)
            return order
        if not_found >= p.lookup_attempts and order.status is S.UNKNOWN:
            self._transition(order, S.REJECTED, f"not found by client id after {not_found} lookups")
            order.inferred = True
        return order

    async def query(self, order: ManagedOrder) -> ManagedOrder:
        """Refresh an order from the venue (scenario 13: a recent "not found" changes nothing)."""
        try:
            state = await self._get(order)
        except OrderNotFound:
            order.misses += 1
            age = self.runtime.now() - order.sent_ts
            if age >= self.policy.venue_retention_s:
                await self._resolve_from_fills(order)
            else:
                self.journal.log(
                    Transition(
                        self.runtime.now(),
                        "order",
                        order.client_id,
                        order.status.value,
                        f"not found (miss {order.misses}), recent order: state kept",
                    )
                )
            return order
        except TradingError:
            return order
        self.apply(OrderUpdate(state, (), state.ts, "query"))
        if order.fills_missing > EPS:
            await self.collect_fills(order)
        return order

    async def _resolve_from_fills(self, order: ManagedOrder) -> None:
        await self.collect_fills(order)
        if order.status.is_terminal:
            return
        new = S.FILLED if order.filled >= order.request.quantity * (1 - 1e-9) else S.CANCELLED
        self._transition(order, new, "older than the venue keeps orders: resolved from its fills")

    async def collect_fills(self, order: ManagedOrder) -> None:
        """Fetch the order's fills (trade ids, fees) from the venue's recent fills."""
        r = order.request
        for attempt in range(self.policy.fill_collect_attempts):
            if attempt:
                await self.runtime.sleep(self.policy.lookup_backoff_s * attempt)
            await self.throttle(r.venue)
            try:
                fills = await self.gateways[r.venue].recent_fills(r.symbol, order.sent_ts - 1.0)
            except TradingError:
                continue
            added = False
            for f in fills:
                if f.client_id == r.client_id or (order.order_id and f.order_id == order.order_id):
                    added = self._add_fill(order, f) or added
            if added:
                self.journal.put_order(order.record(self.runtime.now()))
            if order.fills_missing <= 1e-9 * max(1.0, order.state_filled):
                return

    async def cancel(self, order: ManagedOrder) -> ManagedOrder:
        """Cancel; on "not found" or no answer, query the order and apply what it says."""
        if order.status.is_terminal:
            return order
        r = order.request
        await self.throttle(r.venue)
        try:
            state = await self.gateways[r.venue].cancel_order(r.symbol, r.client_id)
        except (OrderNotFound, AmbiguousOrderState, RateLimited):
            return await self.query(order)
        self.apply(OrderUpdate(state, (), state.ts, "cancel"))
        if order.fills_missing > EPS:
            await self.collect_fills(order)
        return order

    async def settle(self, order: ManagedOrder, timeout_s: float, poll_s: float = 0.1) -> ManagedOrder:
        """Wait until the order is terminal, querying it every ``poll_s``; past ``timeout_s``
        cancel it and query. While the venue's private stream is followed, an update it brings
        ends the wait at once (within ``stream_check_s``), without waiting for the next query."""
        rt = self.runtime
        deadline = rt.now() + timeout_s
        while not order.status.is_terminal and rt.now() < deadline:
            if order.status in (S.UNKNOWN, S.PENDING_NEW):
                await self.resolve(order)
            else:
                await self._wait_for_update(order, poll_s)
                if not order.status.is_terminal:
                    await self.query(order)
        if order.status in (S.NEW, S.PARTIALLY_FILLED):
            await self.cancel(order)
        return order

    async def _wait_for_update(self, order: ManagedOrder, seconds: float) -> None:
        """Sleep ``seconds``, or less when the followed private stream settles the order."""
        rt = self.runtime
        if order.request.venue not in self.following:
            await rt.sleep(seconds)
            return
        until = rt.now() + seconds
        step = self.policy.stream_check_s
        status, filled = order.status, order.filled
        while order.status is status and order.filled == filled:
            left = until - rt.now()
            if left <= 0.0:
                return
            await rt.sleep(min(step, left))

    async def follow(self, venue: str) -> None:
        """Merge a venue's private-stream (or polled) updates until the stream ends.

        Stream and REST answers are merged by :meth:`apply` (venue order, trade-id dedup); a
        dropped stream only loses speed: every decision is settled through REST as well.
        """
        stream = self.gateways[venue].updates()
        self.following.add(venue)
        try:
            async for update in stream:
                self.apply(update)
        except TradingError as exc:
            self.journal.log(
                Transition(self.runtime.now(), "stream", venue, "ENDED", f"private stream: {exc}")
            )
        finally:
            self.following.discard(venue)
            # the stream's own clean-up runs now, before the gateway closes (unless it is still
            # inside a step, as when the whole loop is being torn down)
            if isinstance(stream, types.AsyncGeneratorType) and not stream.ag_running:
                await stream.aclose()

    def open_orders(self) -> Iterable[ManagedOrder]:
        """Orders not in a terminal state."""
        return [o for o in self.orders.values() if not o.status.is_terminal]

    def forget(self, episode_id: str) -> None:
        """Drop the settled orders of a closed episode from memory (the journal keeps them)."""
        self.orders = {
            k: o for k, o in self.orders.items() if o.episode_id != episode_id or not o.status.is_terminal
        }
