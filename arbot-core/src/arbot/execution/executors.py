"""Built-in executors: backtest and paper (simulated fills after a latency) and live."""

from __future__ import annotations

import asyncio
import heapq
import math
import os
import random
from typing import Any, ClassVar

from pydantic import Field

from arbot.book import OrderBook
from arbot.components import BookObserver, BotContext, Connector, Executor
from arbot.config import ComponentSettings
from arbot.errors import LiveTradingNotEnabledError
from arbot.events import ExecutionReport, Fill, FillStatus, Opportunity, Side
from arbot.execution.fill import simulate_leg
from arbot.market import split_symbol

__all__ = ["BacktestExecutor", "LiveExecutor", "PaperExecutor", "SimulatedExecutor", "report_pnl"]

LIVE_ENV = "ARBOT_LIVE_TRADING"


def report_pnl(ctx: BotContext, fills: tuple[Fill, ...]) -> tuple[float, float]:
    """(PnL, fees) in USD of a set of fills, base assets marked at the current reference price."""
    pnl = 0.0
    fees = 0.0
    for f in fills:
        if f.filled_qty <= 0.0:
            continue
        base, quote = split_symbol(f.symbol)
        q_usd = ctx.usd_price(quote)
        b_usd = ctx.usd_price(base)
        if b_usd != b_usd:
            b_usd = f.avg_price * q_usd
        notional = f.filled_qty * f.avg_price * q_usd
        base_value = f.filled_qty * b_usd
        fee = f.fee * q_usd
        fees += fee
        if f.side is Side.BUY:
            pnl += base_value - notional - fee
        else:
            pnl += notional - base_value - fee
    return pnl, fees


class SimulatedSettings(ComponentSettings):
    """Settings of the simulated executors (also taken from ``[executor]``)."""

    latency_ms: float = Field(50.0, ge=0)
    leg_failure_probability: float = Field(0.0, ge=0, le=1)
    slippage_tolerance_pct: float = Field(0.05, ge=0)
    impact_decay_s: float = Field(
        5.0, ge=0, description="liquidity a fill took stays gone, refilling linearly over this time"
    )
    seed: int = 7


class SimulatedExecutor(Executor[SimulatedSettings], BookObserver):
    """Fills every leg against the books as they are ``latency_ms`` after submission.

    Legs are sent together as IOC orders; each walks its book up to the leg's price widened by
    the slippage tolerance, pays the taker fee, consumes the liquidity it took, and is capped
    by the balance available on its venue. With ``leg_failure_probability`` a leg is rejected
    by the (simulated) venue, which leaves the other legs' inventory open: the portfolio marks
    it to market.

    Market impact: the liquidity a fill took does not come back with the next snapshot of the
    book. It stays removed at prices up to the fill's worst price and refills linearly over
    ``impact_decay_s`` (as a :class:`~arbot.components.BookObserver`, the engine calls
    :meth:`on_book_update` after each book update), so one dislocation cannot be harvested
    again on every tick.
    """

    name: ClassVar[str] = "simulated"
    Settings: ClassVar[type[ComponentSettings]] = SimulatedSettings
    mode: ClassVar[str] = "BACKTEST"

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self._queue: list[tuple[float, int, Opportunity]] = []
        self._seq = 0
        self._rng = random.Random(settings.seed)
        self._latency_s = settings.latency_ms / 1000.0
        self._tolerance = settings.slippage_tolerance_pct / 100.0
        self._decay = settings.impact_decay_s
        #: (venue, symbol) -> [start time, quantity taken, worst price, was a buy] per fill
        self.impacts: dict[tuple[str, str], list[tuple[float, float, float, bool]]] = {}

    def submit(self, opportunity: Opportunity, now: float) -> None:
        """Queue the opportunity; it fills at ``now + latency``."""
        self._seq += 1
        heapq.heappush(self._queue, (now + self._latency_s, self._seq, opportunity))

    def pending(self) -> int:
        """Opportunities waiting for their latency to pass."""
        return len(self._queue)

    def next_due(self) -> float:
        """When the next queued opportunity fills."""
        return self._queue[0][0] if self._queue else math.inf

    def due(self, now: float) -> list[ExecutionReport]:
        """Fill every opportunity whose latency has passed, against the books as they are now."""
        out: list[ExecutionReport] = []
        while self._queue and self._queue[0][0] <= now:
            due_ts, _, opp = heapq.heappop(self._queue)
            out.append(self._execute(opp, due_ts))
        return out

    def _available(self, venue: str, symbol: str, side: Side, price: float, fee: float) -> float:
        base, quote = split_symbol(symbol)
        pf = self.ctx.portfolio
        if side is Side.BUY:
            limit = price * (1.0 + self._tolerance)
            return float(max(pf.balance(venue, quote), 0.0) / (limit * (1.0 + fee)))
        return max(pf.balance(venue, base), 0.0)

    def _execute(self, opp: Opportunity, ts: float) -> ExecutionReport:
        ctx = self.ctx
        p_fail = self.settings.leg_failure_probability
        fills = []
        for leg in opp.legs:
            fee = ctx.taker_fee(leg.venue, leg.symbol)
            fail = None
            if p_fail > 0.0 and self._rng.random() < p_fail:
                fail = "simulated venue rejection"
            max_qty = self._available(leg.venue, leg.symbol, leg.side, leg.price, fee)
            fill = simulate_leg(
                ctx.market.get(leg.venue, leg.symbol),
                leg,
                opportunity_id=opp.id,
                fee_rate=fee,
                slippage_tolerance=self._tolerance,
                max_qty=max_qty,
                now=ts,
                latency_ms=self.settings.latency_ms,
                mode=self.mode,
                fail_reason=fail,
            )
            ctx.portfolio.apply_fill(fill)
            fills.append(fill)
            if self._decay > 0.0 and fill.filled_qty > 0.0:
                worst = leg.price * (1.0 + self._tolerance if leg.side is Side.BUY else 1.0 - self._tolerance)
                self.impacts.setdefault((leg.venue, leg.symbol), []).append(
                    (ts, fill.filled_qty, worst, leg.side is Side.BUY)
                )
        fills_t = tuple(fills)
        pnl, fees = report_pnl(ctx, fills_t)
        reason = ""
        if not any(f.filled_qty > 0 for f in fills_t):
            reason = "no leg filled: the book moved past the limit within the latency"
        elif any(f.status is not FillStatus.FILLED for f in fills_t):
            reason = "partial: at least one leg did not fill completely"
        return ExecutionReport(opp, fills_t, ts, pnl, fees, reason)


    def on_book_update(self, venue: str, symbol: str, book: OrderBook, now: float) -> None:
        """Remove from a freshly updated book what recent fills took, decayed linearly."""
        impacts = self.impacts
        if not impacts:
            return
        key = (venue, symbol)
        recent = impacts.get(key)
        if recent is None:
            return
        live = []
        for t0, qty, worst, was_buy in recent:
            left = 1.0 - (now - t0) / self._decay
            if left <= 0.0:
                continue
            live.append((t0, qty, worst, was_buy))
            (book.asks if was_buy else book.bids).consume(qty * left, worst)
        if live:
            self.impacts[key] = live
        else:
            self.impacts.pop(key, None)


class BacktestExecutor(SimulatedExecutor):
    """Simulated fills on the virtual clock (``execution_mode = "backtest"``)."""

    name: ClassVar[str] = "backtest"
    mode: ClassVar[str] = "BACKTEST"


class PaperExecutor(SimulatedExecutor):
    """Simulated fills against live books on the wall clock (``execution_mode = "paper"``)."""

    name: ClassVar[str] = "paper"
    mode: ClassVar[str] = "PAPER"


class LiveSettings(SimulatedSettings):
    """Settings of the live executor."""

    live_trading_opt_in: bool = False


class LiveExecutor(Executor[LiveSettings]):
    """Sends every leg as a real IOC order through the venue's connector.

    Needs both ``live_trading_opt_in = true`` in ``[executor]`` and ``ARBOT_LIVE_TRADING=1`` in
    the environment; otherwise construction fails. Connectors that do not implement trading
    fail each leg with their own clear error, which the report carries as its reason.
    """

    name: ClassVar[str] = "live"
    Settings: ClassVar[type[ComponentSettings]] = LiveSettings
    mode: ClassVar[str] = "LIVE"

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        if not settings.live_trading_opt_in or os.environ.get(LIVE_ENV) != "1":
            raise LiveTradingNotEnabledError(
                "live trading needs [executor] live_trading_opt_in = true and "
                f"{LIVE_ENV}=1 in the environment; use execution_mode = 'paper' to trade on paper"
            )
        self.connectors: dict[str, Connector] = {}
        self._tasks: list[asyncio.Task[ExecutionReport]] = []

    def submit(self, opportunity: Opportunity, now: float) -> None:
        """Start sending the legs (needs a running event loop)."""
        self._tasks.append(asyncio.get_running_loop().create_task(self._send(opportunity)))

    async def _send(self, opp: Opportunity) -> ExecutionReport:
        async def leg_order(i: int) -> Fill:
            leg = opp.legs[i]
            conn = self.connectors.get(leg.venue)
            status = FillStatus.FAILED
            filled = 0.0
            avg = math.nan
            fee = 0.0
            try:
                if conn is None:
                    raise LiveTradingNotEnabledError(f"no live connector for venue {leg.venue!r}")
                order = await conn.place_order(leg.symbol, leg.side, "IOC", leg.qty, leg.price)
                filled = float(order.get("filled", 0.0))
                avg = float(order.get("average", math.nan))
                fee = float(order.get("fee", 0.0))
                status = (
                    FillStatus.FILLED
                    if filled >= leg.qty
                    else (FillStatus.PARTIAL if filled > 0 else FillStatus.CANCELLED)
                )
            except Exception as exc:
                self.ctx.counters[f"live_order_errors:{type(exc).__name__}"] += 1
            return Fill(
                opp.id,
                leg.venue,
                leg.symbol,
                leg.side,
                "IOC",
                leg.qty,
                leg.price,
                filled,
                avg,
                fee,
                leg.symbol.partition("/")[2],
                status,
                self.ctx.clock.now(),
                0.0,
                self.mode,
            )

        fills = tuple(await asyncio.gather(*(leg_order(i) for i in range(len(opp.legs)))))
        for f in fills:
            self.ctx.portfolio.apply_fill(f)
        pnl, fees = report_pnl(self.ctx, fills)
        return ExecutionReport(opp, fills, self.ctx.clock.now(), pnl, fees)

    def pending(self) -> int:
        """Opportunities whose orders are still in flight."""
        return sum(1 for t in self._tasks if not t.done())

    def due(self, now: float) -> list[ExecutionReport]:
        """Reports of opportunities whose orders all completed."""
        done = [t for t in self._tasks if t.done()]
        self._tasks = [t for t in self._tasks if not t.done()]
        return [t.result() for t in done]

    async def aclose(self) -> None:
        """Wait for orders in flight."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
