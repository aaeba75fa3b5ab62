"""The ``rebalancer`` sink: checks balances on the run's clock, plans, and moves funds.

It consumes balance snapshots (a check every ``check_interval_minutes``) and execution reports
(their time settles simulated transfers). In backtest and paper runs the plan is simulated in
the portfolio (fee charged, arrival delayed: see :mod:`arbot_rebalancer.transit`); in a live
run it is printed, or executed through :class:`~arbot_rebalancer.transfers.TransferExecutor`
when every opt-in is given. After each check the cheapest route per asset is published as a
cost estimate into the bot's transfer-cost table, which a cost-aware spatial detector charges.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping, Sequence
from typing import ClassVar, Protocol

from arbot.components import BotContext, Sink
from arbot.config import ComponentSettings
from arbot.events import BalanceSnapshot, ExecutionReport
from arbot.sources.live import LiveSource
from arbot.trading.gateway import TradingGateway
from arbot.trading.types import DepositWithdrawNetwork
from arbot_spatial.transfer_costs import transfer_costs

from arbot_rebalancer.networks import FeeTable, NetworkChoice, choose_network
from arbot_rebalancer.planner import RebalancePlan, plan_rebalance
from arbot_rebalancer.settings import RebalancerSettings
from arbot_rebalancer.transfers import TransferExecutor, TransferOutcome, WithdrawalGateway
from arbot_rebalancer.transit import IN_TRANSIT, SimulatedTransfers
from arbot_rebalancer.withdrawal_gateways import (
    open_withdrawal_gateways,
    provision_emulated_keys,
    trading_keys,
)

__all__ = ["RebalancerSink"]

log = logging.getLogger("arbot.rebalancer")


class NetworkSource(Protocol):
    """Anything that lists an asset's deposit/withdrawal networks (every trading gateway)."""

    async def networks(self, asset: str) -> Sequence[DepositWithdrawNetwork]:
        """Networks of ``asset``."""
        ...


class RebalancerSink(Sink[RebalancerSettings]):
    """Keeps each asset's split across venues near its target (TRD §3.6); see the module docstring."""

    name: ClassVar[str] = "rebalancer"
    Settings: ClassVar[type[ComponentSettings]] = RebalancerSettings
    description: ClassVar[str] = "inventory rebalancer across venues: plan, simulate, execute on opt-in"
    config_section: ClassVar[str | None] = "rebalancer"

    def __init__(self, settings: RebalancerSettings, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self.simulate = settings.simulate if settings.simulate is not None else ctx.mode != "LIVE"
        self.fee_table = FeeTable()
        if settings.fee_table is not None:
            self.fee_table = FeeTable.from_csv(ctx.config.resolve_path(settings.fee_table))
        #: live network data by (venue, asset), filled by :meth:`refresh_networks`
        self.live_networks: dict[tuple[str, str], list[DepositWithdrawNetwork]] = {}
        self.transit = SimulatedTransfers(ctx.portfolio)
        self.executor: TransferExecutor | None = None
        self._manual_executor = False
        self.costs = transfer_costs(ctx)
        self.last_plan: RebalancePlan | None = None
        self._interval = settings.check_interval_minutes * 60.0
        self._next_check = -math.inf
        self._tasks: list[asyncio.Task[list[TransferOutcome]]] = []
        self._checks: list[asyncio.Task[RebalancePlan]] = []
        #: live venues' gateways to read networks from before each live check (the plugin sets
        #: the live executor's trading gateways)
        self.network_sources: Mapping[str, NetworkSource] = {}
        #: the open live source: with ``execute = true`` each live check builds its own
        #: withdrawal gateways from ``withdraw_keys`` on its connectors' hosts (the plugin sets it)
        self.live_source: LiveSource | None = None
        #: the live executor's trading gateways (their keys are the trading keys)
        self.trading_gateways: Mapping[str, TradingGateway] = {}
        self.checks = 0
        self.plans = 0
        self.unroutable = 0
        self.max_imbalance_pct = 0.0

    # -- wiring --------------------------------------------------------------------------

    def attach(self, executor: TransferExecutor) -> None:
        """Execute live plans through ``executor`` (its own opt-ins still apply)."""
        self.executor = executor
        self._manual_executor = True

    async def refresh_networks(self, gateways: Mapping[str, NetworkSource], assets: Sequence[str]) -> None:
        """Read every venue's live networks of ``assets`` (a trading or withdrawal gateway)."""
        for venue, gw in gateways.items():
            for asset in assets:
                nets = list(await gw.networks(asset))
                if nets:
                    self.live_networks[(venue, asset)] = nets

    def networks(self, venue: str, asset: str) -> list[DepositWithdrawNetwork]:
        """Networks of ``asset`` on ``venue``: live, else the fee table, else the configured ones."""
        live = self.live_networks.get((venue, asset))
        if live:
            return live
        table = self.fee_table.networks(venue, asset)
        if table:
            return table
        return [
            DepositWithdrawNetwork(
                asset, network, spec.fee, spec.minimum, True, True, estimated_minutes=spec.minutes
            )
            for network, spec in self.settings.networks.get(asset, {}).items()
        ]

    def route(self, asset: str, source: str, destination: str, amount: float) -> NetworkChoice | None:
        """The network to move ``amount`` of ``asset`` from ``source`` to ``destination``."""
        s = self.settings
        return choose_network(
            asset,
            amount,
            self.networks(source, asset),
            self.networks(destination, asset),
            price_usd=self.ctx.usd_price(asset),
            preferred=s.preferred_networks.get(asset, ()),
            minutes=s.network_minutes,
            time_cost_pct_per_hour=s.time_cost_pct_per_hour,
        )

    # -- events ----------------------------------------------------------------------------

    def emit(self, event: object) -> None:
        """Settle simulated arrivals at the event's time; check balances when one is due."""
        if not isinstance(event, BalanceSnapshot | ExecutionReport):
            return
        now = event.ts
        if self.transit.settle(now):
            self.ctx.counters["rebalancer_arrivals"] = self.transit.arrived
        if isinstance(event, BalanceSnapshot) and now >= self._next_check:
            self._next_check = now + self._interval
            if (self.network_sources or self.live_source is not None) and not self.simulate:
                # live: read the venues' networks first (off the hot path), then plan
                self._checks.append(asyncio.get_running_loop().create_task(self._check_live(now)))
            else:
                self.check(now)

    async def _check_live(self, now: float) -> RebalancePlan:
        _, assets = self._scope()
        opened = self._open_withdrawals()
        try:
            sources: dict[str, NetworkSource] = {**opened, **self.network_sources}
            try:
                await self.refresh_networks(sources, assets)
            except Exception as exc:  # a venue that cannot list networks leaves the last data in place
                log.warning("rebalancer: reading networks failed (%s); planning with the last data", exc)
            plan = self.check(now)
            for task in list(self._tasks):
                await task  # sent before this check's gateways close (drain() still returns them)
            return plan
        finally:
            for gw in opened.values():
                await gw.close()

    def _open_withdrawals(self) -> dict[str, WithdrawalGateway]:
        """This check's withdrawal gateways from ``withdraw_keys`` (live, ``execute = true``, no
        executor attached by hand), with a :class:`TransferExecutor` over them."""
        s = self.settings
        if self.live_source is None or not s.execute or not s.withdraw_keys or self._manual_executor:
            return {}
        provision_emulated_keys(s, self.live_source, self.trading_gateways, self.ctx.portfolio.balances)
        gateways = open_withdrawal_gateways(s, self.ctx, self.live_source)
        keys = trading_keys(self.ctx, list(gateways), self.trading_gateways)
        outcomes = self.executor.outcomes if self.executor is not None else []
        self.executor = TransferExecutor(s, gateways, trading_keys=keys)
        self.executor.outcomes = outcomes
        return dict(gateways)

    def _scope(self) -> tuple[list[str], list[str]]:
        held = [k for k in self.ctx.portfolio.balances if k[0] != IN_TRANSIT]
        venues = list(self.settings.venues or sorted({v for v, _ in held}))
        assets = list(self.settings.assets or sorted({a for _, a in held}))
        return venues, assets

    def check(self, now: float) -> RebalancePlan:
        """Plan at ``now``; simulate, execute or print the plan; publish the cost estimates."""
        s = self.settings
        venues, assets = self._scope()
        moving = self.transit.assets_in_flight()
        assets = [a for a in assets if a not in moving]  # wait for what is on its way
        prices = {a: self.ctx.usd_price(a) for a in assets}
        plan = plan_rebalance(
            self.ctx.portfolio.balances,
            venues,
            assets,
            self.route,
            prices=prices,
            threshold_pct=s.imbalance_threshold_pct,
            target_split=s.target_split,
            min_transfer_usd=s.min_transfer_usd,
        )
        self.checks += 1
        self.ctx.counters["rebalancer_checks"] = self.checks
        self.last_plan = plan
        self.unroutable += len(plan.unroutable)
        for c in plan.checks:
            if math.isfinite(c.imbalance_pct):
                self.max_imbalance_pct = max(self.max_imbalance_pct, c.imbalance_pct)
        self._publish_costs(venues, assets, prices)
        if plan.transfers or plan.unroutable:
            self.plans += 1
            log.info("rebalancer plan at %.0f:\n%s", now, plan.describe())
        if not plan.transfers:
            return plan
        if self.simulate:
            for t in plan.transfers:
                if self.transit.send(t, now) is None:
                    log.warning("rebalancer: %s skipped, the source no longer holds it", t.describe())
            self.ctx.counters["rebalancer_transfers"] = self.transit.sent
        elif self.executor is not None:
            loop = asyncio.get_running_loop()
            self._tasks.append(loop.create_task(self.executor.execute(plan.transfers)))
        else:
            print(f"rebalancer dry run (no withdrawal gateways attached):\n{plan.describe()}")
        return plan

    def _publish_costs(
        self, venues: Sequence[str], assets: Sequence[str], prices: Mapping[str, float]
    ) -> None:
        ref = self.settings.cost_reference_usd
        for asset in assets:
            price = prices.get(asset, math.nan)
            if not price > 0.0:
                continue
            best = math.inf
            for src in venues:
                for dst in venues:
                    if src != dst:
                        choice = self.route(asset, src, dst, ref / price)
                        if choice is not None:
                            best = min(best, choice.cost_usd / ref)
            if math.isfinite(best):
                self.costs.publish(asset, best)

    async def drain(self) -> list[TransferOutcome]:
        """Wait for the live checks and the executions they started; outcomes, oldest first."""
        checks, self._checks = self._checks, []
        for check in checks:
            await check
        tasks, self._tasks = self._tasks, []
        out: list[TransferOutcome] = []
        for task in tasks:
            out.extend(await task)
        return out

    # -- results ---------------------------------------------------------------------------

    def stats(self) -> dict[str, int | str]:
        """Checks, transfers, what is in flight, fees paid and the worst imbalance seen."""
        out: dict[str, int | str] = {
            "checks": self.checks,
            "plans": self.plans,
            "transfers_sent": self.transit.sent,
            "transfers_arrived": self.transit.arrived,
            "in_flight": self.transit.in_flight(),
            "unroutable": self.unroutable,
            "transfer_fees_usd": f"{self.transit.fees_usd:.2f}",
            "moved_usd": f"{self.transit.moved_usd:.2f}",
            "max_imbalance_pct": f"{self.max_imbalance_pct:.1f}",
            "mode": "simulated" if self.simulate else ("execute" if self._executing() else "dry_run"),
        }
        if self.executor is not None:
            for status in ("sent", "refused", "failed", "dry_run"):
                out[f"live_{status}"] = sum(1 for o in self.executor.outcomes if o.status == status)
        return out

    def _executing(self) -> bool:
        return self.executor is not None and self.executor.live

    def close(self) -> None:
        """Log what is still in flight (simulated transfers stay on the in-transit venue)."""
        if self.transit.in_flight():
            log.info(
                "rebalancer: %d simulated transfers still in flight at the end", self.transit.in_flight()
            )
