"""The simulated venue gateway of backtest and paper mode: it implements ``TradingGateway``.

An order reaches the simulated venue ``latency_s`` after it is sent and fills against the bot's
:class:`~arbot.market.MarketState` book **as it is at arrival**, consuming the liquidity it
takes. IOC/FOK/market orders cancel their remainder; GTC limit orders rest and are matched
again against the book whenever the order is queried or cancelled (so fills can come late).

Other traders compete for a dislocation (:class:`CompetitionModel`): when the executor announces
one (venue, symbol, side, its size in percent, when it was seen), the first order arriving for
it finds it contested with probability ``1 - exp(-rate * elapsed_s * edge_pct)`` -- growing
with the latency and the size of the dislocation -- and a competitor first takes a random share
(``take_min``..``take_max``, capped at all of it) of the liquidity priced better than where the
dislocation ends: the order then misses or fills partially. Everything is seeded: the same
events give the same fills.

The venue remembers the last ``history`` orders, fills and updates (memory stays flat in long
backtests; older closed orders answer "not found", as real venues' do). Each gateway keeps its
venue's ledger (free balance per asset): orders larger than the balance
are rejected, fills move it, fees are charged in the quote asset.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence

import attrs

from arbot.events import Side
from arbot.execution.runtime import Runtime
from arbot.market import MarketState, split_symbol
from arbot.trading.errors import DuplicateClientId, OrderNotFound, OrderRejected
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

__all__ = ["CompetitionModel", "ImpactRecorder", "SimulatedGateway"]

#: called with (venue, symbol, ts, quantity taken, worst price, was a buy) for every fill
ImpactRecorder = Callable[[str, str, float, float, float, bool], None]


@attrs.define(slots=True)
class CompetitionModel:
    """Other traders taking a dislocation before the bot's orders arrive (seeded).

    A competitor is an arbitrageur too: when it takes a dislocation it takes both sides, so one
    draw decides for every leg of an opportunity (its ``group``); how much of each side it takes
    is drawn per leg. Both sides gone: a miss; one side gone: diverged legs.
    """

    rate: float = 0.0
    take_min: float = 0.3
    take_max: float = 1.5
    seed: int = 7
    rng: random.Random = attrs.field(init=False)
    _seen: dict[tuple[str, str, Side], tuple[str, float, float, float]] = attrs.field(
        init=False, factory=dict
    )
    _decided: dict[str, bool] = attrs.field(init=False, factory=dict)
    _legs_left: dict[str, int] = attrs.field(init=False, factory=dict)
    contested: int = 0
    uncontested: int = 0

    def __attrs_post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def announce(
        self,
        venue: str,
        symbol: str,
        side: Side,
        seen_ts: float,
        edge_pct: float,
        fair_price: float,
        group: str = "",
    ) -> None:
        """A dislocation the bot is about to trade: ``side`` on ``venue``'s ``symbol``.

        ``fair_price`` is where the dislocation ends (for a buy, the price the other venue
        bids): a competitor takes liquidity priced better than it. Legs announced with the same
        ``group`` (the opportunity) are taken or left together.
        """
        if self.rate > 0.0:
            key = (venue, symbol, side)
            old = self._seen.get(key)
            if old is not None:
                self._leg_done(old[0])
            group = group or f"{venue}:{symbol}:{side.value}:{seen_ts}"
            self._seen[key] = (group, seen_ts, max(edge_pct, 0.0), fair_price)
            self._legs_left[group] = self._legs_left.get(group, 0) + 1

    def _leg_done(self, group: str) -> None:
        left = self._legs_left.get(group, 0) - 1
        if left <= 0:
            self._legs_left.pop(group, None)
            self._decided.pop(group, None)
        else:
            self._legs_left[group] = left

    def probability(self, elapsed_s: float, edge_pct: float) -> float:
        """Chance someone else took a dislocation of ``edge_pct`` within ``elapsed_s``."""
        return 1.0 - math.exp(-self.rate * max(elapsed_s, 0.0) * edge_pct)

    def contest(self, venue: str, symbol: str, side: Side, arrival_ts: float) -> tuple[float, float] | None:
        """(share of the dislocated liquidity a competitor took first, fair price); None: uncontested."""
        seen = self._seen.pop((venue, symbol, side), None)
        if seen is None:
            return None
        group, seen_ts, edge, fair = seen
        taken = self._decided.get(group)
        if taken is None:
            taken = self.rng.random() < self.probability(arrival_ts - seen_ts, edge)
            self._decided[group] = taken
            if taken:
                self.contested += 1
            else:
                self.uncontested += 1
        self._leg_done(group)
        if not taken:
            return None
        return min(self.rng.uniform(self.take_min, self.take_max), 1.0), fair


@attrs.define(slots=True, eq=False)
class _SimOrder:
    request: OrderRequest
    order_id: str
    status: OrderStatus
    filled: float = 0.0
    cost: float = 0.0
    ts: float = 0.0

    def state(self, venue: str) -> OrderState:
        r = self.request
        return OrderState(
            venue,
            r.symbol,
            self.order_id,
            r.client_id,
            self.status,
            r.side,
            r.quantity,
            self.filled,
            r.price,
            self.cost / self.filled if self.filled > 0.0 else None,
            self.ts,
        )


class SimulatedGateway:
    """One simulated venue behind the ``TradingGateway`` protocol."""

    def __init__(
        self,
        venue: str,
        market: MarketState,
        runtime: Runtime,
        *,
        latency_s: float,
        taker_fee: Callable[[str], float],
        ledger: dict[str, float] | None = None,
        competition: CompetitionModel | None = None,
        reject_probability: float = 0.0,
        seed: int = 7,
        client_prefix: str = "sim",
        on_impact: ImpactRecorder | None = None,
        history: int = 10_000,
    ) -> None:
        self.venue = venue
        self.history = history
        self.market = market
        self.runtime = runtime
        self.latency_s = latency_s
        self.taker_fee = taker_fee
        self.ledger: dict[str, float] = ledger if ledger is not None else {}
        self.competition = competition
        self.reject_probability = reject_probability
        self.rng = random.Random(f"{seed}:{venue}")
        self.client_prefix = client_prefix
        self.on_impact = on_impact
        self._orders: dict[str, _SimOrder] = {}
        self._fills: deque[Fill] = deque(maxlen=history)
        self._updates: deque[OrderUpdate] = deque(maxlen=history)
        self._n = 0
        self._trade_n = 0
        #: every place_order that reached the venue (ground truth for "exactly one venue order")
        self.orders_received = 0

    def new_client_id(self) -> str:
        """``<prefix>-<venue>-<n>``; the prefix carries the run id, so ids are unique across restarts."""
        self._n += 1
        return f"{self.client_prefix}-{self.venue}-{self._n}"

    async def start(self) -> None:
        """Nothing to connect."""

    async def close(self) -> None:
        """Nothing to close."""

    def _fee_asset(self, symbol: str) -> str:
        return split_symbol(symbol)[1]

    def _affordable(self, req: OrderRequest, price: float) -> bool:
        base, quote = split_symbol(req.symbol)
        if req.side is Side.BUY:
            need = req.quantity * price * (1.0 + self.taker_fee(req.symbol))
            return self.ledger.get(quote, 0.0) >= need * (1.0 - 1e-9)
        return self.ledger.get(base, 0.0) >= req.quantity * (1.0 - 1e-9)

    def _match(self, o: _SimOrder, now: float) -> None:
        """Fill what the book allows now, up to the order's limit; move the ledger."""
        req = o.request
        book = self.market.get(self.venue, req.symbol)
        remaining = req.quantity - o.filled
        if book is None or remaining <= 0.0:
            return
        buy = req.side is Side.BUY
        side = book.asks if buy else book.bids
        limit = req.price if req.order_type is OrderType.LIMIT else None
        walk = side.walk_qty(remaining, limit)
        if req.time_in_force is TimeInForce.FOK and walk.qty < remaining * (1.0 - 1e-9):
            return
        if walk.qty <= 0.0:
            return
        side.consume(walk.qty, limit)
        price = walk.cost / walk.qty
        fee_rate = self.taker_fee(req.symbol)
        fee = walk.cost * fee_rate
        base, quote = split_symbol(req.symbol)
        led = self.ledger
        if buy:
            led[quote] = led.get(quote, 0.0) - walk.cost - fee
            led[base] = led.get(base, 0.0) + walk.qty
        else:
            led[base] = led.get(base, 0.0) - walk.qty
            led[quote] = led.get(quote, 0.0) + walk.cost - fee
        o.filled += walk.qty
        o.cost += walk.cost
        o.ts = now
        self._trade_n += 1
        fill = Fill(
            self.venue,
            req.symbol,
            o.order_id,
            req.client_id,
            f"{self.venue}-t{self._trade_n}",
            req.side,
            price,
            walk.qty,
            fee,
            quote,
            now,
        )
        self._fills.append(fill)
        o.status = (
            OrderStatus.FILLED if o.filled >= req.quantity * (1.0 - 1e-9) else OrderStatus.PARTIALLY_FILLED
        )
        self._updates.append(OrderUpdate(o.state(self.venue), (fill,), now, "stream"))
        if self.on_impact is not None:
            self.on_impact(self.venue, req.symbol, now, walk.qty, walk.worst_price, buy)

    def _contest(self, req: OrderRequest, now: float) -> None:
        comp = self.competition
        if comp is None:
            return
        contested = comp.contest(self.venue, req.symbol, req.side, now)
        book = self.market.get(self.venue, req.symbol)
        if contested is None or book is None:
            return
        share, fair = contested
        buy = req.side is Side.BUY
        side = book.asks if buy else book.bids
        dislocated, _ = side.notional_within(fair)
        taken = side.consume(dislocated * share, fair)
        if taken > 0.0 and self.on_impact is not None:
            self.on_impact(self.venue, req.symbol, now, taken, fair, buy)

    async def place_order(self, request: OrderRequest) -> OrderState:
        """The order arrives after the latency and fills against the book as it is then."""
        await self.runtime.sleep(self.latency_s)
        now = self.runtime.now()
        self.orders_received += 1
        if request.client_id in self._orders:
            raise DuplicateClientId(self.venue, f"client id {request.client_id} already used")
        self._n += 1
        o = _SimOrder(request, f"{self.venue}-o{len(self._orders) + 1}", OrderStatus.NEW, ts=now)
        book = self.market.get(self.venue, request.symbol)
        ref = request.price
        if ref is None and book is not None:
            ref = book.best_ask if request.side is Side.BUY else book.best_bid
        if self.reject_probability > 0.0 and self.rng.random() < self.reject_probability:
            o.status = OrderStatus.REJECTED
            self._orders[request.client_id] = o
            raise OrderRejected(self.venue, "simulated venue rejection")
        if ref is None or ref != ref or not self._affordable(request, ref):
            o.status = OrderStatus.REJECTED
            self._orders[request.client_id] = o
            raise OrderRejected(self.venue, "insufficient balance", "balance")
        self._orders[request.client_id] = o
        if len(self._orders) > self.history:
            self._forget_closed()
        self._contest(request, now)
        self._match(o, now)
        if o.status is not OrderStatus.FILLED and request.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            o.status = OrderStatus.CANCELLED if o.filled > 0.0 else OrderStatus.EXPIRED
            o.ts = now
        if request.order_type is OrderType.MARKET and o.status is OrderStatus.NEW:
            o.status = OrderStatus.EXPIRED
        self._updates.append(OrderUpdate(o.state(self.venue), (), now, "stream"))
        return o.state(self.venue)

    def _forget_closed(self) -> None:
        """Forget the older half of the closed orders (a venue keeps history for a while only)."""
        closed = [cid for cid, o in self._orders.items() if o.status.is_terminal]
        for cid in closed[: len(closed) // 2 + 1]:
            del self._orders[cid]

    def _known(self, client_id: str) -> _SimOrder:
        o = self._orders.get(client_id)
        if o is None or o.status is OrderStatus.REJECTED:
            raise OrderNotFound(self.venue, f"order {client_id} not found")
        return o

    async def cancel_order(self, symbol: str, client_id: str) -> OrderState:
        """Cancel a resting order (matched once more first); OrderNotFound when unknown or closed."""
        await self.runtime.sleep(self.latency_s)
        o = self._known(client_id)
        if o.status.is_terminal:
            raise OrderNotFound(self.venue, f"order {client_id} is closed")
        self._match(o, self.runtime.now())
        if not o.status.is_terminal:
            o.status = OrderStatus.CANCELLED
            o.ts = self.runtime.now()
            self._updates.append(OrderUpdate(o.state(self.venue), (), o.ts, "stream"))
        return o.state(self.venue)

    async def cancel_all(self, symbol: str) -> Sequence[OrderState]:
        """Cancel every open order of ``symbol``."""
        out = []
        for o in list(self._orders.values()):
            if o.request.symbol == symbol and not o.status.is_terminal:
                out.append(await self.cancel_order(symbol, o.request.client_id))
        return out

    async def get_order(self, symbol: str, client_id: str) -> OrderState:
        """The order by client id (a resting order is matched against the book first)."""
        await self.runtime.sleep(self.latency_s)
        o = self._known(client_id)
        if not o.status.is_terminal:
            self._match(o, self.runtime.now())
        return o.state(self.venue)

    async def open_orders(self, symbol: str | None = None) -> Sequence[OrderState]:
        """Resting orders."""
        return [
            o.state(self.venue)
            for o in self._orders.values()
            if not o.status.is_terminal and (symbol is None or o.request.symbol == symbol)
        ]

    async def recent_fills(self, symbol: str, since: float | None = None) -> Sequence[Fill]:
        """Fills of ``symbol`` at or after ``since``."""
        return [f for f in self._fills if f.symbol == symbol and (since is None or f.ts >= since)]

    async def balances(self) -> dict[str, Balance]:
        """The ledger (nothing is locked in the simulation)."""
        return {a: Balance(a, q, 0.0) for a, q in self.ledger.items()}

    async def trading_fees(self, symbols: Sequence[str]) -> dict[str, TradingFee]:
        """Taker fee for both roles (the simulation only takes liquidity)."""
        return {s: TradingFee(s, self.taker_fee(s), self.taker_fee(s)) for s in symbols}

    async def networks(self, asset: str) -> Sequence[DepositWithdrawNetwork]:
        """The simulation moves no funds between venues."""
        return ()

    async def updates(self) -> AsyncIterator[OrderUpdate]:
        """The updates produced so far, in venue order (the simulation has no push stream)."""
        pending = list(self._updates)
        self._updates.clear()
        for u in pending:
            yield u

    def all_fills(self) -> list[Fill]:
        """Ground truth: every fill this venue made."""
        return list(self._fills)
