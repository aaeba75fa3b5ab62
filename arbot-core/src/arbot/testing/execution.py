"""Execution test kit: a small trading world (simulated venues over real books, fault injection)
and :class:`Renamed` (one emulator software standing for a second venue).

Nothing here is a mock: the venues are :class:`SimulatedGateway` instances matching orders
against :class:`MarketState` books, wrapped in :class:`FaultyGateway` for scheduled faults, and
the order manager, leg-risk machine and journal are the production classes.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Coroutine, Sequence
from typing import Any, TypeVar

import attrs

from arbot.events import Leg, Opportunity, Side
from arbot.execution.faults import FaultyGateway
from arbot.execution.journal import JournalStore, MemoryJournal
from arbot.execution.killswitch import KillSwitch
from arbot.execution.legs import LegPolicy, LegRiskMachine
from arbot.execution.orders import OrderManager, OrderPolicy
from arbot.execution.runtime import VirtualRuntime
from arbot.execution.simulated import SimulatedGateway
from arbot.market import MarketState
from arbot.trading import (
    Balance,
    DepositWithdrawNetwork,
    Fill,
    OrderRequest,
    OrderState,
    OrderUpdate,
    TradingFee,
    TradingGateway,
)

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


class Renamed:
    """A gateway whose states and fills carry ``venue`` instead of the inner gateway's name.

    Two emulators of one venue software (e.g. two Binance emulators) then stand for two venues;
    only the venue field of requests, states and fills is rewritten.
    """

    def __init__(self, inner: TradingGateway, venue: str) -> None:
        self.inner = inner
        self.venue = venue

    def new_client_id(self) -> str:
        """The inner gateway's client id."""
        return self.inner.new_client_id()

    async def start(self) -> None:
        """Start the inner gateway."""
        await self.inner.start()

    async def close(self) -> None:
        """Close the inner gateway."""
        await self.inner.close()

    def _s(self, s: OrderState) -> OrderState:
        return attrs.evolve(s, venue=self.venue)

    def _f(self, f: Fill) -> Fill:
        return attrs.evolve(f, venue=self.venue)

    async def place_order(self, request: OrderRequest) -> OrderState:
        """Place through the inner gateway."""
        return self._s(await self.inner.place_order(attrs.evolve(request, venue=self.inner.venue)))

    async def cancel_order(self, symbol: str, client_id: str) -> OrderState:
        """Cancel through the inner gateway."""
        return self._s(await self.inner.cancel_order(symbol, client_id))

    async def cancel_all(self, symbol: str) -> Sequence[OrderState]:
        """Cancel all through the inner gateway."""
        return [self._s(s) for s in await self.inner.cancel_all(symbol)]

    async def get_order(self, symbol: str, client_id: str) -> OrderState:
        """Query through the inner gateway."""
        return self._s(await self.inner.get_order(symbol, client_id))

    async def open_orders(self, symbol: str | None = None) -> Sequence[OrderState]:
        """Open orders of the inner gateway."""
        return [self._s(s) for s in await self.inner.open_orders(symbol)]

    async def recent_fills(self, symbol: str, since: float | None = None) -> Sequence[Fill]:
        """Fills of the inner gateway."""
        return [self._f(f) for f in await self.inner.recent_fills(symbol, since)]

    async def balances(self) -> dict[str, Balance]:
        """Balances of the inner gateway."""
        return await self.inner.balances()

    async def trading_fees(self, symbols: Sequence[str]) -> dict[str, TradingFee]:
        """Fees of the inner gateway."""
        return await self.inner.trading_fees(symbols)

    async def networks(self, asset: str) -> Sequence[DepositWithdrawNetwork]:
        """Networks of the inner gateway."""
        return await self.inner.networks(asset)

    async def updates(self) -> AsyncIterator[OrderUpdate]:
        """Updates of the inner gateway."""
        async for u in self.inner.updates():
            yield attrs.evolve(u, state=self._s(u.state), fills=tuple(self._f(f) for f in u.fills))
