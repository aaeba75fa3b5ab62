"""A small trading world for execution tests: simulated venues over real books, fault injection.

Nothing here is a mock: the venues are :class:`SimulatedGateway` instances matching orders
against :class:`MarketState` books, wrapped in :class:`FaultyGateway` for scheduled faults, and
the order manager, leg-risk machine and journal are the production classes.
"""

from __future__ import annotations

import math
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from arbot.events import Leg, Opportunity, Side
from arbot.execution.faults import FaultyGateway
from arbot.execution.journal import JournalStore, MemoryJournal
from arbot.execution.killswitch import KillSwitch
from arbot.execution.legs import LegPolicy, LegRiskMachine
from arbot.execution.orders import OrderManager, OrderPolicy
from arbot.execution.runtime import VirtualRuntime
from arbot.execution.simulated import SimulatedGateway
from arbot.market import MarketState

T = TypeVar("T")
SYMBOL = "BTC/USDT"
FEE = 0.001
START = {"USDT": 1_000_000.0, "BTC": 10.0}


class World:
    """Venues ``a`` and ``b`` (and more) quoting BTC/USDT; a is cheap, b is rich."""

    def __init__(
        self,
        venues: Sequence[str] = ("a", "b"),
        schedules: dict[str, dict[str, list[str]]] | None = None,
        journal: JournalStore | None = None,
        policy: LegPolicy | None = None,
        order_policy: OrderPolicy | None = None,
        depth: float = 1.0,
        start: float = 1000.0,
        run_id: str = "run1",
        market: MarketState | None = None,
        sims: dict[str, SimulatedGateway] | None = None,
        runtime: VirtualRuntime | None = None,
    ) -> None:
        self.rt = runtime or VirtualRuntime(start)
        self.market = market or MarketState()
        if market is None:
            for v in venues:
                bid, ask = (60_400.0, 60_410.0) if v == "b" else (59_990.0, 60_000.0)
                self.market.book(v, SYMBOL).apply_snapshot([(bid, depth)], [(ask, depth)], start)
        self.sims = sims or {
            v: SimulatedGateway(
                v,
                self.market,
                self.rt,
                latency_s=0.05,
                taker_fee=lambda s: FEE,
                ledger=dict(START),
                client_prefix=run_id,
            )
            for v in venues
        }
        for sim in self.sims.values():
            sim.client_prefix = run_id
            sim.runtime = self.rt
        schedules = schedules or {}
        self.gws = {v: FaultyGateway(self.sims[v], schedules.get(v)) for v in venues}
        self.journal = journal or MemoryJournal()
        self.events: list[Any] = []
        self.manager = OrderManager(self.gws, self.journal, self.rt, order_policy, self.events.append)
        self.kill = KillSwitch(self.journal, self.rt, self.events.append)
        self.machine = LegRiskMachine(
            self.manager,
            self.journal,
            self.rt,
            self.market,
            self.kill,
            policy or LegPolicy(),
            self.events.append,
            lambda venue, symbol: FEE,
        )

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run one coroutine on the virtual runtime to completion and return its result."""
        box: list[T] = []
        self.rt.spawn(coro, box.append)
        self.rt.drain()
        assert box, "the coroutine did not finish"
        return box[0]

    def opportunity(self, qty: float = 1.0, oid: str = "opp-1") -> Opportunity:
        """Buy on a at 60 000, sell on b at 60 400."""
        legs = (Leg("a", SYMBOL, Side.BUY, 60_000.0, qty), Leg("b", SYMBOL, Side.SELL, 60_400.0, qty))
        return Opportunity(oid, self.rt.now(), "spatial", SYMBOL, legs, 0.67, 0.47, 282.0 * qty)

    def ledger_delta(self) -> dict[tuple[str, str], float]:
        """Ground truth: each venue's balance change since the start."""
        out = {}
        for v, sim in self.sims.items():
            for asset, q in sim.ledger.items():
                d = q - START.get(asset, 0.0)
                if abs(d) > 1e-9:
                    out[(v, asset)] = d
        return out


def approx_dict(a: dict[tuple[str, str], float], b: dict[tuple[str, str], float], tol: float = 1e-6) -> bool:
    """Same keys (ignoring ~0 values) and values within ``tol`` (relative to 1 or the value)."""
    keys = {k for k, v in a.items() if abs(v) > tol} | {k for k, v in b.items() if abs(v) > tol}
    return all(math.isclose(a.get(k, 0.0), b.get(k, 0.0), rel_tol=1e-9, abs_tol=tol) for k in keys)
