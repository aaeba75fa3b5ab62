"""The expected cost of moving inventory back after a cross-venue trade, per asset.

A spatial trade buys the base on one venue and sells it on another: the base piles up where it
was bought and the quote where it was sold, and a rebalancer has to carry both back (paying
withdrawal fees and waiting for confirmations). :class:`TransferCostTable` holds that cost per
asset as a fraction of the value moved; a rebalancer publishes its estimates into the table of
its bot (:func:`transfer_costs`) and the spatial detector, with ``rebalance_cost_aware = true``,
charges it on every opportunity.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping

__all__ = ["TransferCostTable", "transfer_costs"]


class TransferCostTable:
    """Per-asset rebalancing cost as a fraction of the value moved (0.001 = 0.1 %).

    ``defaults`` are configured estimates; :meth:`publish` overrides them with live ones.
    """

    def __init__(self, defaults: Mapping[str, float] | None = None) -> None:
        self._defaults: dict[str, float] = {}
        self._live: dict[str, float] = {}
        if defaults:
            self.set_defaults(defaults)

    def set_defaults(self, defaults: Mapping[str, float]) -> None:
        """Configured estimates (fractions), used until a live estimate is published."""
        for asset, fraction in defaults.items():
            self._defaults[asset] = self._checked(asset, fraction)

    def publish(self, asset: str, fraction: float) -> None:
        """A live estimate for ``asset`` (a rebalancer's cheapest route, per unit of value)."""
        self._live[asset] = self._checked(asset, fraction)

    def cost(self, asset: str) -> float:
        """The estimate for ``asset``: live, else configured, else 0."""
        live = self._live.get(asset)
        if live is not None:
            return live
        return self._defaults.get(asset, 0.0)

    def as_dict(self) -> dict[str, float]:
        """Every estimate, live ones over configured ones."""
        return {**self._defaults, **self._live}

    @staticmethod
    def _checked(asset: str, fraction: float) -> float:
        if not (math.isfinite(fraction) and fraction >= 0.0):
            raise ValueError(f"transfer cost of {asset} must be a finite fraction >= 0, got {fraction!r}")
        return fraction


# by the context's identity (a bot context compares by value, so it cannot be a dict key);
# an entry goes away with its context
_TABLES: dict[int, TransferCostTable] = {}


def transfer_costs(ctx: object) -> TransferCostTable:
    """The table shared by every component of the bot whose context is ``ctx`` (made on first use)."""
    key = id(ctx)
    table = _TABLES.get(key)
    if table is None:
        table = TransferCostTable()
        _TABLES[key] = table
        weakref.finalize(ctx, _TABLES.pop, key, None)
    return table
