"""Which transfers restore the target split of each asset, at the least cost (TRD §3.6 optimizer).

Per asset: the total across the balanced venues is split by the target weights; an asset whose
worst venue is further than the threshold from its target is rebalanced. Each venue short of
its target (largest shortfall first) is filled from the venues above theirs, taking the donor
whose route costs least per unit delivered; a withdrawal is grossed up by its fee so that the
destination receives what it lacks, as far as the donor can spare it without falling below its
own target. Fewer, larger transfers pay fewer fixed fees.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import attrs

from arbot_rebalancer.networks import NetworkChoice

__all__ = ["AssetCheck", "PlannedTransfer", "RebalancePlan", "RouteFinder", "imbalance_pct", "plan_rebalance"]

#: (asset, source venue, destination venue, amount) -> the network to use, or None.
RouteFinder = Callable[[str, str, str, float], NetworkChoice | None]


@attrs.frozen(slots=True)
class PlannedTransfer:
    """One withdrawal: ``amount`` leaves ``source``; ``amount - fee`` reaches ``destination``."""

    asset: str
    source: str
    destination: str
    amount: float
    network: str
    canonical_network: str
    fee: float
    minutes: float
    cost_usd: float

    @property
    def delivered(self) -> float:
        """What arrives."""
        return self.amount - self.fee

    def describe(self) -> str:
        """One line for logs and the dry-run plan."""
        return (
            f"{self.amount:.8g} {self.asset} {self.source} -> {self.destination} via {self.network} "
            f"({self.canonical_network}): fee {self.fee:.8g}, ~{self.minutes:g} min, "
            f"cost ${self.cost_usd:.2f}"
        )


@attrs.frozen(slots=True)
class AssetCheck:
    """One asset's state at a check: balances, targets and how far off the worst venue is."""

    asset: str
    total: float
    balances: dict[str, float]
    targets: dict[str, float]
    imbalance_pct: float
    rebalance: bool


@attrs.frozen(slots=True)
class RebalancePlan:
    """The result of a check: every asset's state, the transfers, and shortfalls no route covers."""

    checks: tuple[AssetCheck, ...]
    transfers: tuple[PlannedTransfer, ...]
    unroutable: tuple[str, ...] = ()

    @property
    def cost_usd(self) -> float:
        """Total cost of the planned transfers."""
        return sum(t.cost_usd for t in self.transfers)

    def describe(self) -> str:
        """The plan as text (what a dry run prints)."""
        lines = [
            f"{c.asset}: imbalance {c.imbalance_pct:.1f}% ({'rebalance' if c.rebalance else 'ok'})"
            for c in self.checks
        ]
        lines += [f"  transfer {t.describe()}" for t in self.transfers]
        lines += [f"  no route: {u}" for u in self.unroutable]
        if self.transfers:
            lines.append(f"  total cost ${self.cost_usd:.2f}")
        return "\n".join(lines)


def _weights(venues: Sequence[str], split: Mapping[str, float] | None) -> dict[str, float]:
    if not split:
        return {v: 1.0 / len(venues) for v in venues}
    raw = {v: max(0.0, split.get(v, 0.0)) for v in venues}
    total = sum(raw.values())
    if total <= 0.0:
        return {v: 1.0 / len(venues) for v in venues}
    return {v: w / total for v, w in raw.items()}


def imbalance_pct(balances: Mapping[str, float], targets: Mapping[str, float]) -> float:
    """How far (percent of its target) the worst venue is from its target; inf when a venue
    meant to hold nothing holds something."""
    worst = 0.0
    for venue, target in targets.items():
        have = balances.get(venue, 0.0)
        if target > 0.0:
            worst = max(worst, abs(have - target) / target * 100.0)
        elif have > 0.0:
            worst = math.inf
    return worst


def plan_rebalance(
    balances: Mapping[tuple[str, str], float],
    venues: Sequence[str],
    assets: Sequence[str],
    route: RouteFinder,
    *,
    prices: Mapping[str, float],
    threshold_pct: float,
    target_split: Mapping[str, Mapping[str, float]] | None = None,
    min_transfer_usd: float = 0.0,
) -> RebalancePlan:
    """The transfers that bring every asset of ``assets`` back to its target split across
    ``venues`` (see the module docstring). ``prices`` are USD per unit (an asset without a
    price is checked but not moved)."""
    checks: list[AssetCheck] = []
    transfers: list[PlannedTransfer] = []
    unroutable: list[str] = []
    if len(venues) < 2:
        return RebalancePlan((), ())
    split = target_split or {}
    for asset in assets:
        have = {v: max(0.0, balances.get((v, asset), 0.0)) for v in venues}
        total = sum(have.values())
        if total <= 0.0:
            continue
        weights = _weights(venues, split.get(asset))
        targets = {v: weights[v] * total for v in venues}
        off = imbalance_pct(have, targets)
        price = prices.get(asset, math.nan)
        act = off > threshold_pct and price > 0.0
        checks.append(AssetCheck(asset, total, have, targets, off, act))
        if not act:
            continue
        surplus = {v: have[v] - targets[v] for v in venues if have[v] > targets[v]}
        deficits = sorted(
            ((targets[v] - have[v], v) for v in venues if have[v] < targets[v]), key=lambda d: (-d[0], d[1])
        )
        for need, dst in deficits:
            while need * price >= max(min_transfer_usd, 1e-9):
                best: tuple[float, PlannedTransfer] | None = None
                for src, spare in sorted(surplus.items()):
                    if spare * price < min_transfer_usd or spare <= 0.0:
                        continue
                    probe = route(asset, src, dst, min(spare, need))
                    if probe is None:
                        continue
                    amount = min(spare, need + probe.fee)
                    choice = route(asset, src, dst, amount)
                    if choice is None or amount <= choice.fee:
                        continue
                    delivered = amount - choice.fee
                    if delivered * price < min_transfer_usd:
                        continue
                    t = PlannedTransfer(
                        asset, src, dst, amount, choice.network, choice.canonical,
                        choice.fee, choice.minutes, choice.cost_usd,
                    )  # fmt: skip
                    per_unit = choice.cost_usd / delivered
                    if best is None or per_unit < best[0]:
                        best = (per_unit, t)
                if best is None:
                    unroutable.append(f"{need:.8g} {asset} to {dst}")
                    break
                t = best[1]
                transfers.append(t)
                surplus[t.source] -= t.amount
                need -= t.delivered
                if need <= t.fee:
                    break  # what is left is the fee itself: moving it would cost as much again
    return RebalancePlan(tuple(checks), tuple(transfers), tuple(unroutable))
