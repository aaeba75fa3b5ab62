"""Start-up reconciliation: settle what the journal says may be live before trading again.

On start (live mode) :class:`Reconciler` reads the journal's open orders and episodes, asks each
venue (through the order manager, throttled) for those orders, their fills and its open orders
and balances, and resolves everything it can:

* every journaled open order is adopted and settled by client id (found: its state applies;
  never sent: rejected after bounded lookups); resting leftovers of a crashed episode are
  cancelled;
* fills the venue has and the journal lacks (a crash between a fill and its persistence) are
  journaled, so replaying the journal gives the venue's positions;
* an open order at a venue that the journal does not know is tagged external: never
  cancelled, its symbol blocked until an operator clears the flag;
* every episode the journal left open -- or HELD (an UNKNOWN leg, a hold) -- is resolved per
  policy once its orders are settled: with a :class:`~arbot.execution.legs.LegRiskMachine`
  it is *completed* (legs balanced), *unwound* or hedged by the divergence policy (a failed
  unwind halts), or *reported* (HELD with its residual exposure); without one it is closed
  as flat or held and reported;
* venue balances are the truth: a drift from the expected balances beyond the tolerance puts
  the bot in reduce-only mode and is reported; amounts are never adjusted silently.

Trading stays refused (a journal flag) until every episode is resolved and no order is left
UNKNOWN.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import attrs

from arbot.events import Side
from arbot.execution.events import Alert, EpisodeTransition, ExecutionEvent, ResidualExposure
from arbot.execution.journal import EpisodeRecord, JournalStore, Transition
from arbot.execution.killswitch import RECONCILE_FLAG, REDUCE_ONLY_FLAG, KillSwitch, blocked_flag
from arbot.execution.orders import ManagedOrder, OrderManager
from arbot.execution.runtime import Runtime
from arbot.market import split_symbol
from arbot.trading.errors import TradingError
from arbot.trading.types import Fill, OrderStatus

if TYPE_CHECKING:
    from arbot.execution.legs import LegRiskMachine

__all__ = ["RESUMED_EPISODE_STATES", "BalanceDrift", "ReconcileReport", "Reconciler"]

#: settled episode states that a restart still resolves (a HELD episode may be unwound now)
RESUMED_EPISODE_STATES = frozenset({"HELD"})


@attrs.frozen(slots=True)
class BalanceDrift:
    """A venue balance that differs from what the bot expected beyond the tolerance."""

    venue: str
    asset: str
    expected: float
    actual: float


@attrs.define(slots=True)
class ReconcileReport:
    """What reconciliation found and did."""

    resolved: dict[str, OrderStatus] = attrs.field(factory=dict)
    still_unknown: list[str] = attrs.field(factory=list)
    fills_recovered: int = 0
    external: list[tuple[str, str, str]] = attrs.field(factory=list)
    episodes: dict[str, str] = attrs.field(factory=dict)
    residuals: list[ResidualExposure] = attrs.field(factory=list)
    drift: list[BalanceDrift] = attrs.field(factory=list)
    queries: int = 0

    @property
    def ready(self) -> bool:
        """True when trading may resume: no order is left UNKNOWN."""
        return not self.still_unknown


class Reconciler:
    """Reconciles the journal with the venues; see the module docstring."""

    def __init__(
        self,
        journal: JournalStore,
        manager: OrderManager,
        kill: KillSwitch,
        runtime: Runtime,
        drift_tolerance: float = 1e-6,
        listener: Callable[[ExecutionEvent], None] | None = None,
        dust_fraction: float = 0.005,
        machine: LegRiskMachine | None = None,
    ) -> None:
        self.dust_fraction = dust_fraction
        #: resolves open episodes per policy (without it they are only closed or reported)
        self.machine = machine
        self.journal = journal
        self.manager = manager
        self.kill = kill
        self.runtime = runtime
        self.drift_tolerance = drift_tolerance
        self.listener = listener

    def _emit(self, event: ExecutionEvent) -> None:
        if self.listener is not None:
            self.listener(event)

    async def run(self, expected_balances: Mapping[tuple[str, str], float] | None = None) -> ReconcileReport:
        """Reconcile everything; trading stays blocked unless the report is ``ready``."""
        rep = ReconcileReport()
        mgr = self.manager
        self.kill.set_flag(RECONCILE_FLAG, "reconciling the journal with the venues")
        fills_by_client: dict[str, list[Fill]] = {}
        for f in self.journal.fills():
            fills_by_client.setdefault(f.client_id, []).append(f)
        open_episodes = {
            e.episode_id: e
            for e in self.journal.episodes()
            if e.is_open or (self.machine is not None and e.state in RESUMED_EPISODE_STATES)
        }
        records = [
            r for r in self.journal.orders() if not r.status.is_terminal or r.episode_id in open_episodes
        ]
        adopted = [mgr.adopt(r, fills_by_client.get(r.client_id, ())) for r in records]
        for o in adopted:
            if o.status in (OrderStatus.PENDING_NEW, OrderStatus.UNKNOWN):
                await mgr.resolve(o)
            elif not o.status.is_terminal:
                await mgr.query(o)
            if o.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
                await mgr.cancel(o)
            rep.resolved[o.client_id] = o.status
            if o.status is OrderStatus.UNKNOWN:
                rep.still_unknown.append(o.client_id)
        # fills the journal may have missed (crash between a fill and its persistence)
        since: dict[tuple[str, str], float] = {}
        for o in adopted:
            key = (o.request.venue, o.request.symbol)
            since[key] = min(since.get(key, o.sent_ts), o.sent_ts)
        by_client: dict[str, ManagedOrder] = {o.client_id: o for o in adopted}
        for (venue, symbol), ts in sorted(since.items()):
            await mgr.throttle(venue)
            try:
                fills = await mgr.gateways[venue].recent_fills(symbol, ts - 1.0)
            except TradingError as exc:
                self._emit(
                    Alert(self.runtime.now(), "warning", f"reconcile: fills of {venue} {symbol}: {exc}")
                )
                continue
            by_order_id = {o.order_id: o for o in adopted if o.order_id and o.request.venue == venue}
            for f in fills:
                # some venues' fill lists carry only the venue order id (Binance myTrades)
                owner = by_client.get(f.client_id) or by_order_id.get(f.order_id)
                if owner is not None:
                    rep.fills_recovered += mgr.record_fills(owner, (f,))
        await self._external(rep)
        if self.machine is not None:
            await self._resume_episodes(rep, open_episodes, self.machine)
        else:
            self._episodes(rep, open_episodes)
        if expected_balances is not None:
            await self._drift(rep, expected_balances)
        rep.queries = mgr.queries
        if rep.ready:
            self.kill.set_flag(RECONCILE_FLAG, None)
        else:
            self._emit(
                Alert(
                    self.runtime.now(),
                    "critical",
                    f"reconcile: {len(rep.still_unknown)} order(s) still UNKNOWN",
                )
            )
        return rep

    async def _external(self, rep: ReconcileReport) -> None:
        for venue, gw in self.manager.gateways.items():
            await self.manager.throttle(venue)
            try:
                open_orders = await gw.open_orders()
            except TradingError as exc:
                self._emit(Alert(self.runtime.now(), "critical", f"reconcile: open orders of {venue}: {exc}"))
                rep.still_unknown.append(f"{venue}:open_orders")
                continue
            for st in open_orders:
                if st.client_id in self.manager.orders:
                    continue
                rep.external.append((venue, st.symbol, st.client_id))
                self.kill.set_flag(blocked_flag(venue, st.symbol), f"external order {st.client_id}")
                self._emit(
                    Alert(
                        self.runtime.now(),
                        "warning",
                        f"external open order {st.client_id} on {venue} {st.symbol}: "
                        "left alone, symbol blocked",
                    )
                )

    async def _resume_episodes(
        self, rep: ReconcileReport, open_episodes: Mapping[str, EpisodeRecord], machine: LegRiskMachine
    ) -> None:
        """Resolve each open (or HELD) episode per policy through the leg-risk machine."""
        for eid, ep in open_episodes.items():
            orders = [o for o in self.manager.orders.values() if o.episode_id == eid]
            res = await machine.resume(ep, orders)
            rep.episodes[eid] = res.state
            rep.residuals.extend(res.residuals)
            for o in res.orders:
                rep.resolved[o.client_id] = o.status
                if o.status is OrderStatus.UNKNOWN and o.client_id not in rep.still_unknown:
                    rep.still_unknown.append(o.client_id)

    def _episodes(self, rep: ReconcileReport, open_episodes: Mapping[str, EpisodeRecord]) -> None:
        now = self.runtime.now()
        for eid, ep in open_episodes.items():
            orders = [o for o in self.manager.orders.values() if o.episode_id == eid]
            net: dict[tuple[str, str], float] = {}
            for o in orders:
                base = split_symbol(o.request.symbol)[0]
                sign = 1.0 if o.request.side is Side.BUY else -1.0
                key = (o.request.venue, base)
                fee = o.fee if o.fee_asset == base else 0.0
                net[key] = net.get(key, 0.0) + sign * o.filled - fee
            by_asset: dict[str, float] = {}
            for (_, asset), q in net.items():
                by_asset[asset] = by_asset.get(asset, 0.0) + q
            # fees charged in the base asset leave dust: reported, not called one-sided
            dust = self.dust_fraction * max((o.request.quantity for o in orders), default=0.0)
            open_assets = {a for a, q in by_asset.items() if abs(q) > max(dust, 1e-9)}
            dust_assets = {a for a, q in by_asset.items() if 1e-9 < abs(q) <= dust}
            if any(o.status is OrderStatus.UNKNOWN for o in orders):
                state, reason = "HELD", "an order is still UNKNOWN after the restart"
            elif open_assets:
                state, reason = "HELD", "found one-sided after the restart: exposure reported"
                for (venue, asset), q in net.items():
                    if asset in open_assets and abs(q) > 1e-9:
                        self._residual(rep, ResidualExposure(now, eid, venue, asset, q, reason))
            elif any(o.filled > 0.0 for o in orders):
                state, reason = "DONE", "legs balanced (settled at restart)"
                for asset in sorted(dust_assets):
                    q = by_asset[asset]
                    venue = max(
                        (k for k in net if k[1] == asset and net[k] * q > 0), key=lambda k: abs(net[k])
                    )[0]
                    self._residual(
                        rep, ResidualExposure(now, eid, venue, asset, q, "dust: fees in the base asset")
                    )
            else:
                state, reason = "MISSED", "nothing filled (settled at restart)"
            self.journal.put_episode(attrs.evolve(ep, state=state, reason=reason, ts=now))
            self.journal.log(Transition(now, "episode", eid, state, reason))
            self._emit(EpisodeTransition(now, eid, ep.opportunity_id, ep.state, state, reason))
            if state == "HELD":
                self._emit(Alert(now, "warning", f"episode {eid}: {reason}", eid))
            rep.episodes[eid] = state

    def _residual(self, rep: ReconcileReport, ev: ResidualExposure) -> None:
        rep.residuals.append(ev)
        self._emit(ev)

    async def _drift(self, rep: ReconcileReport, expected: Mapping[tuple[str, str], float]) -> None:
        for venue, gw in self.manager.gateways.items():
            await self.manager.throttle(venue)
            try:
                actual = await gw.balances()
            except TradingError as exc:
                self._emit(Alert(self.runtime.now(), "critical", f"reconcile: balances of {venue}: {exc}"))
                continue
            assets = {a for (v, a) in expected if v == venue} | set(actual)
            for asset in sorted(assets):
                exp = expected.get((venue, asset), 0.0)
                got = actual[asset].total if asset in actual else 0.0
                if abs(got - exp) > self.drift_tolerance * max(1.0, abs(exp)):
                    rep.drift.append(BalanceDrift(venue, asset, exp, got))
        if rep.drift:
            worst = ", ".join(f"{d.venue} {d.asset} {d.expected:.8g}->{d.actual:.8g}" for d in rep.drift)
            self.kill.set_flag(REDUCE_ONLY_FLAG, f"balance drift beyond tolerance: {worst}")
            self._emit(Alert(self.runtime.now(), "critical", f"balance drift, reduce-only mode: {worst}"))
