"""The leg-risk state machine: one per arbitrage episode.

Legs go out concurrently (spatial) or in sequence, each sized by the previous fill
(triangular). When they diverge -- one filled, another rejected, partially filled, or UNKNOWN
-- the configured policy runs, step by step, until the episode is flat:

* ``retry``: send the missing quantity of the lagging leg again, within a price limit, an
  attempt count and a time window;
* ``hedge``: send the missing quantity on another venue within a price limit;
* ``unwind``: reverse the excess of the filled leg(s) with IOC orders within a maximum
  slippage; an unwind that cannot complete halts trading (kill switch) and alerts;
* ``hold``: stop and report the residual exposure (amount, venue, asset) with an alert.

A leg that is UNKNOWN blocks every step (no unwind, no hedge: that could double the exposure)
until the order manager settles it; past ``unknown_wait_s`` the episode is held and alerted.
Every transition is journaled with its reason and emitted as an event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from arbot.events import Leg, Opportunity, Side
from arbot.execution.events import Alert, EpisodeTransition, ExecutionEvent, ResidualExposure
from arbot.execution.journal import EpisodeRecord, JournalStore, Transition
from arbot.execution.killswitch import KillSwitch
from arbot.execution.orders import ManagedOrder, OrderManager
from arbot.execution.runtime import Runtime
from arbot.market import MarketState, split_symbol
from arbot.trading.types import OrderRequest, OrderStatus, OrderType, TimeInForce

__all__ = ["EpisodeResult", "LegPolicy", "LegRiskMachine"]

POLICY_STEPS = frozenset({"retry", "hedge", "unwind", "hold"})


@attrs.frozen(slots=True)
class LegPolicy:
    """What the leg-risk machine does when legs diverge, and its bounds."""

    on_divergence: tuple[str, ...] = ("retry", "unwind")
    slippage_tolerance_pct: float = 0.05
    retry_attempts: int = 1
    retry_price_limit_pct: float = 0.1
    retry_window_s: float = 2.0
    hedge_venues: tuple[str, ...] = ()
    hedge_price_limit_pct: float = 0.2
    unwind_max_slippage_pct: float = 0.5
    unwind_attempts: int = 2
    unknown_wait_s: float = 5.0
    #: how long an IOC order the venue still shows open is polled before it is cancelled
    order_timeout_s: float = 2.0
    sequential_strategies: tuple[str, ...] = ("triangular",)
    min_qty: float = 1e-9
    #: an imbalance below this fraction of the largest leg (fees in base) is reported, not traded
    dust_fraction: float = 0.005

    def __attrs_post_init__(self) -> None:
        bad = [s for s in self.on_divergence if s not in POLICY_STEPS]
        if bad:
            raise ValueError(f"on_divergence: unknown step(s) {bad}; use {sorted(POLICY_STEPS)}")


@attrs.define(slots=True, eq=False)
class EpisodeResult:
    """How an episode ended: its final state and reason, every order, and what exposure is left."""

    episode_id: str
    opportunity: Opportunity
    state: str
    reason: str
    orders: list[ManagedOrder] = attrs.field(factory=list)
    residuals: list[ResidualExposure] = attrs.field(factory=list)
    steps: list[str] = attrs.field(factory=list)

    @property
    def unknown(self) -> int:
        """Orders of the episode still UNKNOWN."""
        return sum(1 for o in self.orders if o.status is OrderStatus.UNKNOWN)


def _flows(orders: Sequence[ManagedOrder]) -> dict[tuple[str, str], float]:
    """Net change per (venue, asset) of the orders' fills, fees included in their asset."""
    out: dict[tuple[str, str], float] = {}
    for o in orders:
        q = o.filled
        if q <= 0.0:
            continue
        r = o.request
        base, quote = split_symbol(r.symbol)
        avg = o.average_price
        sign = 1.0 if r.side is Side.BUY else -1.0
        out[(r.venue, base)] = out.get((r.venue, base), 0.0) + sign * q
        out[(r.venue, quote)] = out.get((r.venue, quote), 0.0) - sign * q * avg
        if o.fee and o.fee_asset:
            out[(r.venue, o.fee_asset)] = out.get((r.venue, o.fee_asset), 0.0) - o.fee
    return out


def _leg_index(purpose: str) -> int | None:
    """The leg number of an order's purpose (``leg2``, ``retry2``), None for other orders."""
    for prefix in ("leg", "retry"):
        rest = purpose.removeprefix(prefix)
        if rest != purpose and rest.isdigit():
            return int(rest)
    return None


class LegRiskMachine:
    """Runs episodes through the order manager under a :class:`LegPolicy`."""

    def __init__(
        self,
        manager: OrderManager,
        journal: JournalStore,
        runtime: Runtime,
        market: MarketState,
        kill: KillSwitch,
        policy: LegPolicy | None = None,
        listener: Callable[[ExecutionEvent], None] | None = None,
        taker_fee: Callable[[str, str], float] | None = None,
    ) -> None:
        self.taker_fee = taker_fee or self._market_fee
        self.manager = manager
        self.journal = journal
        self.runtime = runtime
        self.market = market
        self.kill = kill
        self.policy = policy or LegPolicy()
        self.listener = listener
        self.halted_by: str | None = None

    def _market_fee(self, venue: str, symbol: str) -> float:
        info = self.market.market(venue, symbol)
        return info.taker_fee if info is not None else 0.0

    # -- bookkeeping ----------------------------------------------------------------------

    def _move(self, res: EpisodeResult, new: str, reason: str) -> None:
        old = res.state
        res.state = new
        res.reason = reason
        res.steps.append(new)
        now = self.runtime.now()
        opp = res.opportunity
        self.journal.put_episode(
            EpisodeRecord(res.episode_id, opp.id, opp.strategy, new, reason, now, opp.estimated_profit)
        )
        self.journal.log(Transition(now, "episode", res.episode_id, new, reason))
        if self.listener is not None:
            self.listener(EpisodeTransition(now, res.episode_id, opp.id, old, new, reason))

    def _alert(self, res: EpisodeResult, level: str, message: str) -> None:
        if self.listener is not None:
            self.listener(Alert(self.runtime.now(), level, message, res.episode_id))

    def _request(self, venue: str, symbol: str, side: Side, qty: float, price: float) -> OrderRequest:
        gw = self.manager.gateways[venue]
        return OrderRequest(
            venue, symbol, side, OrderType.LIMIT, qty, gw.new_client_id(), price, TimeInForce.IOC
        )

    async def _order(
        self, res: EpisodeResult, venue: str, symbol: str, side: Side, qty: float, price: float, purpose: str
    ) -> ManagedOrder:
        order = self.manager.prepare(self._request(venue, symbol, side, qty, price), res.episode_id, purpose)
        res.orders.append(order)
        await self.manager.send(order)
        if order.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
            # an IOC order the venue still shows open (stuck, or slow to report): poll, then cancel
            await self.manager.settle(order, self.policy.order_timeout_s)
        return order

    def _limit(self, leg: Leg, extra_pct: float = 0.0) -> float:
        tol = (self.policy.slippage_tolerance_pct + extra_pct) / 100.0
        return leg.price * (1.0 + tol) if leg.side is Side.BUY else leg.price * (1.0 - tol)

    async def _settle_unknown(self, res: EpisodeResult) -> bool:
        """Wait (bounded) for every UNKNOWN order to settle; False when one is still UNKNOWN."""
        rt = self.runtime
        deadline = rt.now() + self.policy.unknown_wait_s
        pending = [o for o in res.orders if o.status is OrderStatus.UNKNOWN]
        if not pending:
            return True
        self._move(
            res, "WAITING_UNKNOWN", f"{len(pending)} order(s) UNKNOWN: no unwind or hedge until settled"
        )
        while pending and rt.now() < deadline:
            await rt.sleep(self.policy.unknown_wait_s / 10.0)
            for o in pending:
                await self.manager.resolve(o)
            pending = [o for o in pending if o.status is OrderStatus.UNKNOWN]
        return not pending

    def _hold(self, res: EpisodeResult, reason: str, state: str = "HELD") -> EpisodeResult:
        self._report_residual(res, reason)
        self._move(res, state, reason)
        self._alert(
            res, "critical" if state == "HALTED" else "warning", f"episode {res.episode_id}: {reason}"
        )
        return res

    # -- entry ----------------------------------------------------------------------------

    async def run(self, episode_id: str, opp: Opportunity) -> EpisodeResult:
        """Run one episode to a settled state."""
        res = EpisodeResult(episode_id, opp, "PLANNED", "")
        self._move(res, "PLANNED", f"{opp.strategy}: {len(opp.legs)} legs")
        for leg in opp.legs:
            why = self.kill.blocks(leg.venue, leg.symbol)
            if why is not None:
                self._move(res, "BLOCKED", why)
                return res
        if opp.strategy in self.policy.sequential_strategies:
            return await self._sequential(res)
        return await self._concurrent(res)

    # -- restart: resolve an episode the journal left open or held ---------------------------

    async def resume(self, record: EpisodeRecord, orders: Sequence[ManagedOrder]) -> EpisodeResult:
        """Resolve an episode found open (or HELD) in the journal at start-up, per policy.

        ``orders`` are the episode's orders, already adopted and reconciled with the venues. Any
        order still UNKNOWN is waited for (bounded) first: nothing is sent while one may be live.
        Then the episode is *complete* (legs balanced: DONE, or MISSED when nothing filled), or
        the divergence policy runs on what the venues say was filled -- ``unwind`` and ``hedge``
        as in a live episode (a failed unwind halts), ``retry`` never (the opportunity's prices
        are gone after a restart) -- or, when no step closes it, it is *reported*: HELD with its
        residual exposure and an alert.
        """
        legs = self._journaled_legs(orders)
        opp = Opportunity(
            record.opportunity_id,
            record.ts,
            record.strategy,
            legs[0].symbol if legs else "",
            tuple(legs),
            0.0,
            0.0,
            record.expected_pnl_usd,
        )
        res = EpisodeResult(record.episode_id, opp, record.state, record.reason, list(orders))
        self._move(res, "RESUMING", f"restart: found {record.state} ({record.reason})")
        if not await self._settle_unknown(res):
            return self._hold(
                res, f"an order is still UNKNOWN {self.policy.unknown_wait_s}s after the restart"
            )
        steps = tuple(s for s in self.policy.on_divergence if s != "retry")
        if record.strategy in self.policy.sequential_strategies:
            chain: list[ManagedOrder] = []
            for _, leg_order in sorted(
                ((_leg_index(o.purpose), o) for o in orders if _leg_index(o.purpose) is not None),
                key=lambda io: io[0] or 0,
            ):
                if leg_order.filled > self.policy.min_qty:
                    chain.append(leg_order)
            if not chain:
                self._move(res, "MISSED", "nothing filled (settled at restart)")
                return res
            first = chain[0].request
            b0, q0 = split_symbol(first.symbol)
            spent = q0 if first.side is Side.BUY else b0
            if len(chain) > 1 and self._produced(chain[-1])[0] == spent:
                self._move(res, "DONE", "every leg filled (settled at restart)")
                self._report_residual(res, "dust left by partial fills along the chain")
                return res
            if "unwind" in steps:
                return await self._unwind_chain(res, chain)
            return self._hold(res, "chain found broken after the restart: exposure reported")
        imbalance = self._base_imbalance(res)
        if not imbalance:
            if all(o.filled <= self.policy.min_qty for o in res.orders):
                self._move(res, "MISSED", "nothing filled (settled at restart)")
            else:
                self._report_residual(res, "dust: fees charged in the base asset")
                self._move(res, "DONE", "legs balanced (settled at restart)")
            return res
        self._move(
            res,
            "DIVERGED",
            "found one-sided after the restart: " + ", ".join(f"{a} {q:+.8g}" for a, q in imbalance.items()),
        )
        return await self._apply_policy(res, steps)

    @staticmethod
    def _journaled_legs(orders: Sequence[ManagedOrder]) -> list[Leg]:
        """The legs of an episode as its journaled ``leg<i>`` orders describe them, in order."""
        found = sorted(
            (
                (int(o.purpose[3:]), o)
                for o in orders
                if o.purpose.startswith("leg") and o.purpose[3:].isdigit()
            ),
            key=lambda io: io[0],
        )
        legs = []
        for _, o in found:
            r = o.request
            price = r.price if r.price is not None else o.average_price
            legs.append(Leg(r.venue, r.symbol, r.side, price, r.quantity))
        return legs

    # -- spatial: legs at once ----------------------------------------------------------

    def _base_imbalance(self, res: EpisodeResult) -> dict[str, float]:
        """Net base received minus given per base asset over every order of the episode.

        Fees charged in the base asset count (they are base the account no longer has); an
        imbalance within ``dust_fraction`` of the largest leg is dust: reported, not traded.
        """
        out: dict[str, float] = {}
        for o in res.orders:
            base = split_symbol(o.request.symbol)[0]
            sign = 1.0 if o.request.side is Side.BUY else -1.0
            fee = o.fee if o.fee_asset == base else 0.0
            out[base] = out.get(base, 0.0) + sign * o.filled - fee
        biggest = max((leg.qty for leg in res.opportunity.legs), default=0.0)
        tol = max(self.policy.min_qty, self.policy.dust_fraction * biggest)
        return {a: q for a, q in out.items() if abs(q) > tol}

    async def _concurrent(self, res: EpisodeResult) -> EpisodeResult:
        opp = res.opportunity
        self._move(res, "SENDING", "legs sent concurrently")
        await self.runtime.gather(
            *(
                self._order(res, leg.venue, leg.symbol, leg.side, leg.qty, self._limit(leg), f"leg{i}")
                for i, leg in enumerate(opp.legs)
            )
        )
        if not await self._settle_unknown(res):
            return self._hold(
                res, f"leg UNKNOWN after {self.policy.unknown_wait_s}s: held, exposure reported"
            )
        imbalance = self._base_imbalance(res)
        if not imbalance:
            if all(o.filled <= self.policy.min_qty for o in res.orders):
                self._move(res, "MISSED", "no leg filled")
            else:
                self._report_residual(res, "dust: fees charged in the base asset")
                self._move(res, "DONE", "legs balanced")
            return res
        self._move(
            res, "DIVERGED", "legs diverged: " + ", ".join(f"{a} {q:+.8g}" for a, q in imbalance.items())
        )
        return await self._apply_policy(res, self.policy.on_divergence)

    async def _apply_policy(self, res: EpisodeResult, steps: Sequence[str]) -> EpisodeResult:
        """Run the divergence policy's ``steps`` in order until the episode is flat; else hold."""
        for step in steps:
            if step == "hold":
                break
            if step == "retry":
                await self._retry(res)
            elif step == "hedge":
                await self._hedge(res)
            elif step == "unwind":
                outcome = await self._unwind(res)
                if outcome == "unknown":
                    return self._hold(res, "an unwind order stayed UNKNOWN: held, no second unwind sent")
                if outcome == "failed":
                    return await self._halt(res, "unwind could not complete within its slippage and attempts")
            if not await self._settle_unknown(res):
                return self._hold(res, "an order stayed UNKNOWN during the divergence policy")
            if not self._base_imbalance(res):
                final = {"retry": "DONE", "hedge": "HEDGED", "unwind": "UNWOUND"}[step]
                self._report_residual(res, "dust: fees charged in the base asset")
                self._move(res, final, f"flat after {step}")
                return res
        return self._hold(res, "legs diverged and no policy step closed the exposure")

    async def _retry(self, res: EpisodeResult) -> None:
        opp = res.opportunity
        p = self.policy
        self._move(res, "RETRYING", f"retry the missing leg(s): {p.retry_attempts} attempt(s)")
        deadline = self.runtime.now() + p.retry_window_s
        for _ in range(p.retry_attempts):
            if self.runtime.now() > deadline:
                break
            imbalance = self._base_imbalance(res)
            if not imbalance:
                return
            for i, leg in enumerate(opp.legs):
                base = split_symbol(leg.symbol)[0]
                net = imbalance.get(base, 0.0)
                missing_side = Side.SELL if net > 0 else Side.BUY
                if net == 0.0 or leg.side is not missing_side:
                    continue
                await self._order(
                    res,
                    leg.venue,
                    leg.symbol,
                    leg.side,
                    abs(net),
                    self._limit(leg, p.retry_price_limit_pct),
                    f"retry{i}",
                )
                if not await self._settle_unknown(res):
                    return  # never send a second retry while one may be live
                imbalance = self._base_imbalance(res)

    async def _hedge(self, res: EpisodeResult) -> None:
        opp = res.opportunity
        p = self.policy
        self._move(res, "HEDGING", f"hedge on {list(p.hedge_venues)}")
        for base, net in self._base_imbalance(res).items():
            side = Side.SELL if net > 0 else Side.BUY
            leg = next(
                (lg for lg in opp.legs if lg.side is side and split_symbol(lg.symbol)[0] == base), None
            )
            if leg is None:
                continue
            limit = self._limit(leg, p.hedge_price_limit_pct)
            best: tuple[float, str] | None = None
            for venue in p.hedge_venues:
                if venue not in self.manager.gateways:
                    continue
                book = self.market.get(venue, leg.symbol)
                if book is None or book.is_empty:
                    continue
                px = book.best_bid if side is Side.SELL else book.best_ask
                ok = px >= limit if side is Side.SELL else px <= limit
                if ok and (best is None or (px > best[0] if side is Side.SELL else px < best[0])):
                    best = (px, venue)
            if best is not None:
                await self._order(res, best[1], leg.symbol, side, abs(net), limit, "hedge")

    async def _unwind(self, res: EpisodeResult) -> str:
        """Reverse the excess: "flat", "failed" (attempts exhausted) or "unknown" (an unwind is UNKNOWN)."""
        p = self.policy
        self._move(
            res, "UNWINDING", f"reverse the excess with IOC within {p.unwind_max_slippage_pct}% slippage"
        )
        for _ in range(p.unwind_attempts):
            if not await self._settle_unknown(res):
                return "unknown"
            imbalance = self._base_imbalance(res)
            if not imbalance:
                return "flat"
            for base, net in imbalance.items():
                # reverse on the venue(s) where the excess was bought (net > 0) or sold (net < 0)
                excess_side = Side.BUY if net > 0 else Side.SELL
                remaining = abs(net)
                for o in list(res.orders):
                    r = o.request
                    if remaining <= p.min_qty or r.side is not excess_side or o.filled <= 0.0:
                        continue
                    if split_symbol(r.symbol)[0] != base:
                        continue
                    qty = min(o.filled, remaining)
                    avg = o.average_price
                    slip = p.unwind_max_slippage_pct / 100.0
                    limit = avg * (1.0 - slip) if excess_side is Side.BUY else avg * (1.0 + slip)
                    back = Side.SELL if excess_side is Side.BUY else Side.BUY
                    u = await self._order(res, r.venue, r.symbol, back, qty, limit, "unwind")
                    if u.status is OrderStatus.UNKNOWN:
                        break
                    remaining -= u.filled
        if not await self._settle_unknown(res):
            return "unknown"
        return "failed" if self._base_imbalance(res) else "flat"

    async def _halt(self, res: EpisodeResult, reason: str) -> EpisodeResult:
        self.halted_by = reason
        self._hold(res, reason, "HALTED")
        await self.kill.engage(f"episode {res.episode_id}: {reason}", self.manager, self.manager.gateways)
        return res

    # -- triangular: legs in sequence -----------------------------------------------------

    def _produced(self, order: ManagedOrder) -> tuple[str, float]:
        """The asset an order produced and how much of it, net of a fee charged in it."""
        base, quote = split_symbol(order.request.symbol)
        if order.request.side is Side.BUY:
            got = order.filled
            return base, got - (order.fee if order.fee_asset == base else 0.0)
        got = order.filled * order.average_price
        return quote, got - (order.fee if order.fee_asset == quote else 0.0)

    def _size_from(self, asset: str, amount: float, leg: Leg) -> float:
        base, quote = split_symbol(leg.symbol)
        if leg.side is Side.SELL and base == asset:
            return min(leg.qty, amount)
        if leg.side is Side.BUY and quote == asset:
            fee = self.taker_fee(leg.venue, leg.symbol)
            return min(leg.qty, amount / (self._limit(leg) * (1.0 + fee)))
        return 0.0

    async def _advance(
        self, res: EpisodeResult, chain: list[ManagedOrder], extra_pct: float, prefix: str
    ) -> bool:
        """Send the legs after ``chain`` in order, each sized by the previous fill.

        Returns False when a leg stayed UNKNOWN (the caller holds); a leg that fills nothing
        stops the chain.
        """
        opp = res.opportunity
        p = self.policy
        for i in range(len(chain), len(opp.legs)):
            leg = opp.legs[i]
            qty = leg.qty
            if chain:
                asset, amount = self._produced(chain[-1])
                qty = self._size_from(asset, amount, leg)
            if qty <= p.min_qty:
                return True
            limit = self._limit(leg, extra_pct)
            o = await self._order(res, leg.venue, leg.symbol, leg.side, qty, limit, f"{prefix}{i}")
            if not await self._settle_unknown(res):
                return False
            if o.filled <= p.min_qty:
                return True
            chain.append(o)
        return True

    async def _sequential(self, res: EpisodeResult) -> EpisodeResult:
        opp = res.opportunity
        p = self.policy
        self._move(res, "SENDING", "legs sent in sequence, each sized by the previous fill")
        chain: list[ManagedOrder] = []
        if not await self._advance(res, chain, 0.0, "leg"):
            return self._hold(res, f"a leg stayed UNKNOWN after {p.unknown_wait_s}s: held, exposure reported")
        if not chain:
            self._move(res, "MISSED", "the first leg did not fill")
            return res
        if len(chain) == len(opp.legs):
            self._move(res, "DONE", "every leg filled in sequence")
            self._report_residual(res, "dust left by partial fills along the chain")
            return res
        self._move(res, "DIVERGED", f"leg {len(chain)} did not fill after leg {len(chain) - 1}")
        for step in p.on_divergence:
            if step == "hold":
                break
            if step == "retry":
                self._move(res, "RETRYING", f"retry from leg {len(chain)} within {p.retry_price_limit_pct}%")
                for _ in range(p.retry_attempts):
                    if not await self._advance(res, chain, p.retry_price_limit_pct, "retry"):
                        return self._hold(res, "a retried leg stayed UNKNOWN: held")
                    if len(chain) == len(opp.legs):
                        self._move(res, "DONE", "every leg filled after a retry")
                        self._report_residual(res, "dust left by partial fills along the chain")
                        return res
            elif step == "unwind":
                return await self._unwind_chain(res, chain)
        return self._hold(res, f"chain stopped after leg {len(chain) - 1}; exposure held")

    async def _unwind_chain(self, res: EpisodeResult, chain: list[ManagedOrder]) -> EpisodeResult:
        """Reverse the filled legs of a triangular chain, last first; halt when one cannot complete."""
        p = self.policy
        self._move(res, "UNWINDING", "reverse the filled legs, last first")
        for prev in reversed(chain):
            _, amount = self._held(res, prev)
            if amount <= p.min_qty:
                continue
            r = prev.request
            slip = p.unwind_max_slippage_pct / 100.0
            avg = prev.average_price
            back = Side.SELL if r.side is Side.BUY else Side.BUY
            qty = amount if back is Side.SELL else amount / (avg * (1.0 + slip))
            limit = avg * (1.0 - slip) if back is Side.SELL else avg * (1.0 + slip)
            u = await self._order(res, r.venue, r.symbol, back, qty, limit, "unwind")
            if not await self._settle_unknown(res):
                return self._hold(res, "an unwind order stayed UNKNOWN: held")
            if u.filled < qty * (1.0 - 1e-6):
                return await self._halt(res, "unwind of the triangular chain could not complete")
        self._move(res, "UNWOUND", "chain reversed")
        self._report_residual(res, "dust left by the unwind")
        return res

    def _held(self, res: EpisodeResult, order: ManagedOrder) -> tuple[str, float]:
        asset, _ = self._produced(order)
        flow = _flows(res.orders).get((order.request.venue, asset), 0.0)
        return asset, flow

    def _report_residual(self, res: EpisodeResult, reason: str) -> None:
        """Emit one ResidualExposure per (venue, asset) the episode left open."""
        opp = res.opportunity
        flows = _flows(res.orders)
        if opp.strategy in self.policy.sequential_strategies:
            first = opp.legs[0]
            b0, q0 = split_symbol(first.symbol)
            settle = {q0 if first.side is Side.BUY else b0}
            items = [(k, v) for k, v in flows.items() if k[1] not in settle]
        else:
            quotes = {split_symbol(leg.symbol)[1] for leg in opp.legs}
            by_asset: dict[str, float] = {}
            for (_, a), v in flows.items():
                if a not in quotes:
                    by_asset[a] = by_asset.get(a, 0.0) + v
            items = []
            for asset, net in by_asset.items():
                if abs(net) <= self.policy.min_qty:
                    continue
                venues = [(k, v) for k, v in flows.items() if k[1] == asset and v * net > 0]
                venues.sort(key=lambda kv: -abs(kv[1]))
                items.append((venues[0][0], net))
        now = self.runtime.now()
        for (venue, asset), amount in items:
            if abs(amount) <= max(self.policy.min_qty, 1e-9):
                continue
            ev = ResidualExposure(now, res.episode_id, venue, asset, amount, reason)
            res.residuals.append(ev)
            if self.listener is not None:
                self.listener(ev)
