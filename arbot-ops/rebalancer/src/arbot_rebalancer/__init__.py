"""ArBot rebalancer (TRD §3.6): watches balances per venue, plans the cheapest transfers that
restore the target split, simulates them in paper and backtest runs, and executes them live
only on an explicit opt-in."""

from arbot_rebalancer.networks import FeeTable, NetworkChoice, canonical_network, choose_network
from arbot_rebalancer.planner import PlannedTransfer, plan_rebalance
from arbot_rebalancer.settings import RebalancerSettings

__all__ = [
    "FeeTable",
    "NetworkChoice",
    "PlannedTransfer",
    "RebalancerSettings",
    "canonical_network",
    "choose_network",
    "plan_rebalance",
]
