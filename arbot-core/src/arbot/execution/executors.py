"""Built-in executors: backtest and paper (simulated fills after a latency) and live."""

from __future__ import annotations

import asyncio
import functools
import math
import os
import time
from collections import deque
from typing import ClassVar, Literal

from pydantic import Field

from arbot.book import OrderBook
from arbot.components import BookObserver, BotContext, Executor
from arbot.config import ComponentSettings
from arbot.errors import LiveTradingNotEnabledError
from arbot.events import ExecutionReport, Fill, FillStatus, Opportunity, Side
from arbot.execution.events import ExecutionEvent
from arbot.execution.journal import JournalStore, MemoryJournal, SqliteJournal
from arbot.execution.killswitch import KillSwitch
from arbot.execution.legs import EpisodeResult, LegPolicy, LegRiskMachine
from arbot.execution.orders import OrderManager
from arbot.execution.reconcile import Reconciler, ReconcileReport
from arbot.execution.runtime import AsyncioRuntime, VirtualRuntime
from arbot.execution.simulated import CompetitionModel, SimulatedGateway
from arbot.market import split_symbol
from arbot.trading.gateway import TradingGateway
from arbot.trading.types import OrderStatus

__all__ = [
    "BacktestExecutor",
    "LiveExecutor",
    "PaperExecutor",
    "SimulatedExecutor",
    "SimulatedSettings",
    "episode_report",
    "leg_policy",
    "report_pnl",
]

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
    """Settings of the simulated executors: latency, competition and the leg-risk policy."""

    latency_ms: float = Field(50.0, ge=0, description="one-way time for an order to reach the venue")
    leg_failure_probability: float = Field(0.0, ge=0, le=1, description="chance a venue rejects an order")
    slippage_tolerance_pct: float = Field(0.05, ge=0, description="IOC limit beyond the leg's price")
    impact_decay_s: float = Field(
        5.0, ge=0, description="liquidity a fill took stays gone, refilling linearly over this time"
    )
    seed: int = 7
    competition_rate: float = Field(
        0.0,
        ge=0,
        description="others take a dislocation with probability 1-exp(-rate * latency_s * edge_pct)",
    )
    competition_take_min: float = Field(
        0.3, ge=0, description="smallest share of the order a competitor takes"
    )
    competition_take_max: float = Field(
        1.5, ge=0, description="largest share of the order a competitor takes"
    )
    on_divergence: list[Literal["retry", "hedge", "unwind", "hold"]] = Field(
        default_factory=lambda: ["retry", "unwind"],  # type: ignore[arg-type]
        description="policy steps when legs diverge, in order",
    )
    retry_attempts: int = Field(1, ge=0)
    retry_price_limit_pct: float = Field(0.1, ge=0, description="a retry's limit beyond the leg's tolerance")
    retry_window_s: float = Field(2.0, ge=0)
    hedge_venues: list[str] = Field(default_factory=list)
    hedge_price_limit_pct: float = Field(0.2, ge=0)
    unwind_max_slippage_pct: float = Field(0.5, ge=0, description="an unwind's limit from the fill's price")
    unwind_attempts: int = Field(2, ge=1)
    unknown_wait_s: float = Field(
        5.0, ge=0, description="how long an UNKNOWN leg is waited for before holding"
    )
    journal: Literal["memory", "sqlite"] = Field(
        "memory", description="sqlite: write-ahead journal execution.sqlite in the output folder"
    )


def leg_policy(settings: SimulatedSettings) -> LegPolicy:
    """The leg-risk policy a simulated or live executor's settings describe."""
    return LegPolicy(
        on_divergence=tuple(settings.on_divergence),
        slippage_tolerance_pct=settings.slippage_tolerance_pct,
        retry_attempts=settings.retry_attempts,
        retry_price_limit_pct=settings.retry_price_limit_pct,
        retry_window_s=settings.retry_window_s,
        hedge_venues=tuple(settings.hedge_venues),
        hedge_price_limit_pct=settings.hedge_price_limit_pct,
        unwind_max_slippage_pct=settings.unwind_max_slippage_pct,
        unwind_attempts=settings.unwind_attempts,
        unknown_wait_s=settings.unknown_wait_s,
    )


_FILL_STATUS = {
    OrderStatus.FILLED: FillStatus.FILLED,
    OrderStatus.UNKNOWN: FillStatus.PENDING,
    OrderStatus.PENDING_NEW: FillStatus.PENDING,
    OrderStatus.NEW: FillStatus.PENDING,
    OrderStatus.PARTIALLY_FILLED: FillStatus.PARTIAL,
}


def episode_report(
    ctx: BotContext, result: EpisodeResult, ts: float, latency_ms: float, mode: str
) -> ExecutionReport:
    """The execution report of a settled episode: one fill record per order, realised vs expected PnL."""
    opp = result.opportunity
    fills = []
    for o in result.orders:
        r = o.request
        leg_price = r.price if r.price is not None else math.nan
        if o.purpose.startswith("leg") and o.purpose[3:].isdigit():
            leg_price = opp.legs[int(o.purpose[3:])].price
        status = _FILL_STATUS.get(o.status)
        if status is None:
            status = FillStatus.FAILED if o.filled <= 0.0 else FillStatus.PARTIAL
        fills.append(
            Fill(
                opp.id,
                r.venue,
                r.symbol,
                r.side,
                "IOC",
                r.quantity,
                leg_price,
                o.filled,
                o.average_price if o.filled > 0.0 else math.nan,
                o.fee,
                o.fee_asset or split_symbol(r.symbol)[1],
                status,
                ts,
                latency_ms,
                mode,
            )
        )
    fills_t = tuple(fills)
    pnl, fees = report_pnl(ctx, fills_t)
    reason = "" if result.state == "DONE" else f"{result.state}: {result.reason}"
    residual = tuple((e.venue, e.asset, e.amount) for e in result.residuals)
    return ExecutionReport(opp, fills_t, ts, pnl, fees, reason, opp.estimated_profit, result.state, residual)


class SimulatedExecutor(Executor[SimulatedSettings], BookObserver):
    """Runs every opportunity through the order manager and leg-risk machine on simulated venues.

    The same :class:`~arbot.execution.orders.OrderManager` and
    :class:`~arbot.execution.legs.LegRiskMachine` as live trading run here on a deterministic
    virtual-time runtime; each venue is a :class:`~arbot.execution.simulated.SimulatedGateway`
    over the bot's books: orders arrive ``latency_ms`` after submission and fill against the
    book as it is then, other traders may take the dislocation first (``competition_rate``), and
    a venue may reject an order (``leg_failure_probability``). Diverged legs are retried,
    hedged or unwound by the configured policy, with their cost in the report.

    Market impact: the liquidity a fill took does not come back with the next snapshot of the
    book. It stays removed at prices up to the fill's worst price and refills linearly over
    ``impact_decay_s`` (as a :class:`~arbot.components.BookObserver`, the engine calls
    :meth:`on_book_update` after each book update), so one dislocation cannot be harvested
    again on every tick.
    """

    name: ClassVar[str] = "simulated"
    Settings: ClassVar[type[ComponentSettings]] = SimulatedSettings
    mode: ClassVar[str] = "BACKTEST"

    def __init__(self, settings: SimulatedSettings, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self._latency_s = settings.latency_ms / 1000.0
        self._tolerance = settings.slippage_tolerance_pct / 100.0
        self._decay = settings.impact_decay_s
        #: (venue, symbol) -> [start time, quantity taken, worst price, was a buy] per fill
        self.impacts: dict[tuple[str, str], list[tuple[float, float, float, bool]]] = {}
        self.runtime = VirtualRuntime(ctx.clock.now())
        self.journal: JournalStore = (
            SqliteJournal(ctx.output_path / "execution.sqlite")
            if settings.journal == "sqlite"
            else MemoryJournal(retain_settled=False)
        )
        self.competition = CompetitionModel(
            settings.competition_rate,
            settings.competition_take_min,
            settings.competition_take_max,
            settings.seed,
        )
        self.gateways: dict[str, SimulatedGateway] = {}
        #: every execution event (order/episode transitions, residuals, alerts), newest last
        self.events: deque[ExecutionEvent] = deque(maxlen=10_000)
        self.manager = OrderManager(self.gateways, self.journal, self.runtime, listener=self.events.append)
        self.kill = KillSwitch(self.journal, self.runtime, self.events.append)
        self.machine = LegRiskMachine(
            self.manager,
            self.journal,
            self.runtime,
            ctx.market,
            self.kill,
            leg_policy(settings),
            self.events.append,
            ctx.taker_fee,
        )
        self._ready: list[ExecutionReport] = []
        self._pending = 0

    def _record_impact(self, venue: str, symbol: str, ts: float, qty: float, worst: float, buy: bool) -> None:
        if self._decay > 0.0 and qty > 0.0 and worst == worst:
            self.impacts.setdefault((venue, symbol), []).append((ts, qty, worst, buy))

    def gateway(self, venue: str) -> SimulatedGateway:
        """The simulated venue ``venue``; its ledger starts as the portfolio's balances there."""
        gw = self.gateways.get(venue)
        if gw is None:
            ctx = self.ctx
            ledger = {a: q for (v, a), q in ctx.portfolio.balances.items() if v == venue}
            gw = SimulatedGateway(
                venue,
                ctx.market,
                self.runtime,
                latency_s=self._latency_s,
                taker_fee=functools.partial(ctx.taker_fee, venue),
                ledger=ledger,
                competition=self.competition,
                reject_probability=self.settings.leg_failure_probability,
                seed=self.settings.seed,
                client_prefix=ctx.run_id,
                on_impact=self._record_impact,
            )
            self.gateways[venue] = gw
        return gw

    def _available(self, venue: str, symbol: str, side: Side, price: float, fee: float) -> float:
        base, quote = split_symbol(symbol)
        pf = self.ctx.portfolio
        if side is Side.BUY:
            limit = price * (1.0 + self._tolerance)
            return float(max(pf.balance(venue, quote), 0.0) / (limit * (1.0 + fee)))
        return max(pf.balance(venue, base), 0.0)

    def _sized(self, opp: Opportunity) -> Opportunity:
        """Shrink every leg (sequential strategies: the first) to what the balances allow."""
        legs = opp.legs[:1] if opp.strategy in self.machine.policy.sequential_strategies else opp.legs
        scale = 1.0
        for leg in legs:
            if leg.qty <= 0.0:
                continue
            fee = self.ctx.taker_fee(leg.venue, leg.symbol)
            scale = min(scale, self._available(leg.venue, leg.symbol, leg.side, leg.price, fee) / leg.qty)
        return opp if scale >= 1.0 else opp.scaled(max(scale, 0.0))

    def submit(self, opportunity: Opportunity, now: float) -> None:
        """Start the episode now; its orders reach the venues ``latency_ms`` later."""
        self.runtime.run_until(now)
        opp = self._sized(opportunity)
        for leg in opp.legs:
            self.gateway(leg.venue)
            other = next((lg for lg in opp.legs if lg.symbol == leg.symbol and lg.side is not leg.side), None)
            if other is not None:
                self.competition.announce(
                    leg.venue, leg.symbol, leg.side, opp.ts, opp.net_spread_pct, other.price, opp.id
                )
        for venue in self.machine.policy.hedge_venues:
            self.gateway(venue)
        self._pending += 1
        self.runtime.spawn(self.machine.run(opp.id, opp), self._finished)

    def _finished(self, result: EpisodeResult) -> None:
        ctx = self.ctx
        report = episode_report(ctx, result, self.runtime.now(), self.settings.latency_ms, self.mode)
        for f in report.fills:
            ctx.portfolio.apply_fill(f)
        counters = ctx.counters
        counters[f"episodes:{result.state}"] += 1
        if result.residuals:
            counters["episodes_with_residual"] += 1
        for f in report.fills:
            counters[f"orders:{f.status.value}"] += 1
        self.manager.forget(result.episode_id)
        self._ready.append(report)

    def drain_events(self) -> list[ExecutionEvent]:
        """Execution events (order and episode transitions, residuals, alerts) since the last call."""
        out = list(self.events)
        self.events.clear()
        return out

    def pending(self) -> int:
        """Episodes submitted and not yet reported."""
        return self._pending

    def next_due(self) -> float:
        """When the next order reaches a venue or an episode step wakes (now, when a report is ready)."""
        if self._ready:
            return self.runtime.now()
        return self.runtime.next_due()

    def due(self, now: float) -> list[ExecutionReport]:
        """Run every step due by ``now`` against the books as they are now; settled episodes' reports."""
        self.runtime.run_until(now)
        out, self._ready = self._ready, []
        self._pending -= len(out)
        return out

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
            impacts[key] = live
        else:
            impacts.pop(key, None)

    async def aclose(self) -> None:
        """Close the journal."""
        self.journal.close()


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
    journal: Literal["memory", "sqlite"] = Field(
        "sqlite", description="live trading always journals to execution.sqlite in the output folder"
    )


class LiveExecutor(Executor[LiveSettings]):
    """Real orders through the venues' trading gateways, with the same machinery as paper.

    Needs both ``live_trading_opt_in = true`` and ``ARBOT_LIVE_TRADING=1`` in the environment;
    otherwise construction fails. The bot attaches one :class:`~arbot.trading.gateway.TradingGateway`
    per venue to :attr:`gateways`. Before the first episode the :class:`Reconciler` settles what the
    write-ahead journal (``execution.sqlite``) says may be live; episodes wait for it, and are
    BLOCKED while it has not finished, the kill switch is engaged or the symbol is blocked.
    """

    name: ClassVar[str] = "live"
    Settings: ClassVar[type[ComponentSettings]] = LiveSettings
    mode: ClassVar[str] = "LIVE"

    def __init__(self, settings: LiveSettings, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        if not settings.live_trading_opt_in or os.environ.get(LIVE_ENV) != "1":
            raise LiveTradingNotEnabledError(
                "live trading needs [executor] live_trading_opt_in = true and "
                f"{LIVE_ENV}=1 in the environment; use execution_mode = 'paper' to trade on paper"
            )
        #: one trading gateway per venue, attached by the bot before the first opportunity
        self.gateways: dict[str, TradingGateway] = {}
        self.runtime = AsyncioRuntime(time.time)
        self.journal: JournalStore = SqliteJournal(ctx.output_path / "execution.sqlite")
        self.events: deque[ExecutionEvent] = deque(maxlen=10_000)
        self.manager = OrderManager(self.gateways, self.journal, self.runtime, listener=self.events.append)
        self.kill = KillSwitch(self.journal, self.runtime, self.events.append)
        self.machine = LegRiskMachine(
            self.manager,
            self.journal,
            self.runtime,
            ctx.market,
            self.kill,
            leg_policy(settings),
            self.events.append,
            ctx.taker_fee,
        )
        self.reconciled: asyncio.Task[ReconcileReport] | None = None
        self._tasks: list[asyncio.Task[ExecutionReport]] = []
        self._followers: list[asyncio.Task[None]] = []

    async def reconcile(self) -> ReconcileReport:
        """Settle the journal with the venues (start-up); trading waits for it."""
        return await Reconciler(
            self.journal, self.manager, self.kill, self.runtime, listener=self.events.append
        ).run()

    def submit(self, opportunity: Opportunity, now: float) -> None:
        """Start the episode (needs a running event loop); the first one starts reconciliation."""
        loop = asyncio.get_running_loop()
        if self.reconciled is None:
            self.reconciled = loop.create_task(self.reconcile())
            self._followers = [loop.create_task(self.manager.follow(v)) for v in self.gateways]
        self.kill.refresh()  # a kill switch engaged from outside applies to the next episode
        self._tasks.append(loop.create_task(self._episode(opportunity)))

    async def _episode(self, opp: Opportunity) -> ExecutionReport:
        assert self.reconciled is not None
        await asyncio.shield(self.reconciled)
        result = await self.machine.run(opp.id, opp)
        report = episode_report(self.ctx, result, self.runtime.now(), 0.0, self.mode)
        for f in report.fills:
            self.ctx.portfolio.apply_fill(f)
        self.ctx.counters[f"episodes:{result.state}"] += 1
        self.manager.forget(result.episode_id)
        return report

    def drain_events(self) -> list[ExecutionEvent]:
        """Execution events (order and episode transitions, residuals, alerts) since the last call."""
        out = list(self.events)
        self.events.clear()
        return out

    def pending(self) -> int:
        """Episodes not reported yet."""
        return len(self._tasks)

    def next_due(self) -> float:
        """Now (0.0) when an episode has settled, else never: the engine then drains it."""
        return 0.0 if any(t.done() for t in self._tasks) else math.inf

    def due(self, now: float) -> list[ExecutionReport]:
        """Reports of settled episodes (an episode that raised is a bug: it propagates)."""
        done = [t for t in self._tasks if t.done()]
        self._tasks = [t for t in self._tasks if not t.done()]
        return [t.result() for t in done]

    async def aclose(self) -> None:
        """Wait for the episodes in flight, then close the journal."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.reconciled is not None:
            await asyncio.gather(self.reconciled, return_exceptions=True)
        for task in self._followers:
            task.cancel()
        await asyncio.gather(*self._followers, return_exceptions=True)
        self.journal.close()
