"""Built-in executors: backtest and paper (simulated fills after a latency) and live."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from arbot.book import OrderBook
from arbot.components import BookObserver, BotContext, Executor
from arbot.config import ComponentSettings
from arbot.errors import ConfigError, LiveTradingNotEnabledError
from arbot.events import ExecutionReport, Fill, FillStatus, Opportunity, Side
from arbot.execution.events import Alert, ExecutionEvent
from arbot.execution.journal import JournalError, JournalStore, MemoryJournal, SqliteJournal
from arbot.execution.killswitch import KILL_FLAG, KillSwitch
from arbot.execution.legs import EpisodeResult, LegPolicy, LegRiskMachine
from arbot.execution.orders import OrderManager
from arbot.execution.reconcile import Reconciler, ReconcileReport
from arbot.execution.runtime import AsyncioRuntime, VirtualRuntime
from arbot.execution.simulated import CompetitionModel, SimulatedGateway
from arbot.market import split_symbol
from arbot.trading.errors import TradingError
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
    "open_journal",
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
    seed: int = Field(
        7,
        description=(
            "seed of the simulated venues' latency jitter, competition and faults (a backtest is "
            "reproducible per seed)"
        ),
    )
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
    retry_attempts: int = Field(
        1, ge=0,
        description="how many times the missing leg is re-sent before the next policy step",
    )
    retry_price_limit_pct: float = Field(0.1, ge=0, description="a retry's limit beyond the leg's tolerance")
    retry_window_s: float = Field(
        2.0, ge=0,
        description="how long after the divergence a retry may still be sent",
    )
    hedge_venues: list[str] = Field(
        default_factory=list,
        description="venues where a filled leg may be hedged (in this order) when the policy has 'hedge'",
    )
    hedge_price_limit_pct: float = Field(
        0.2, ge=0,
        description="a hedge's limit price beyond the filled leg's price, in percent",
    )
    unwind_max_slippage_pct: float = Field(0.5, ge=0, description="an unwind's limit from the fill's price")
    unwind_attempts: int = Field(
        2, ge=1,
        description="IOC orders tried to unwind a filled leg before trading halts and alerts",
    )
    unknown_wait_s: float = Field(
        5.0, ge=0, description="how long an UNKNOWN leg is waited for before holding"
    )
    journal: str = Field(
        "memory",
        description="write-ahead journal: memory (backtests), sqlite (execution.sqlite in the output "
        "folder) or a store a plugin provides (postgres, with arbot-postgres: [sinks.postgres] dsn)",
    )


#: Journals a live executor may use (the rest is asked of the plugins): never the memory one.
_BUILTIN_JOURNALS = ("memory", "sqlite")


def open_journal(name: str, ctx: BotContext, flush_before_send: bool = True) -> JournalStore:
    """The write-ahead journal ``[executor] journal`` names: built in, or from a plugin.

    ``memory`` keeps nothing past the process (settled episodes are dropped as they close);
    ``sqlite`` is ``execution.sqlite`` in the output folder (``flush_before_send``: each intent
    is fsynced before its request leaves; otherwise committed, and flushed later); any other name
    goes to the ``arbot_open_journal`` hook, and no plugin answering is a :class:`ConfigError`.
    """
    if name == "memory":
        return MemoryJournal(retain_settled=False)
    if name == "sqlite":
        return SqliteJournal(ctx.output_path / "execution.sqlite", flush_before_send=flush_before_send)
    store: JournalStore | None = (
        ctx.host.hook.arbot_open_journal(name=name, ctx=ctx) if ctx.host is not None else None
    )
    if store is None:
        raise ConfigError(
            f"[executor] journal = {name!r}: no installed plugin provides that journal "
            f"(built in: {', '.join(_BUILTIN_JOURNALS)}; postgres needs arbot-postgres)"
        )
    return store


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
    #: virtual time: steps run only inside submit() and due()
    due_changes_only_on_calls: ClassVar[bool] = True

    def __init__(self, settings: SimulatedSettings, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self._latency_s = settings.latency_ms / 1000.0
        self._tolerance = settings.slippage_tolerance_pct / 100.0
        #: book updates matter only while a recent fill's impact is decaying
        self.observing = False
        self._decay = settings.impact_decay_s
        #: (venue, symbol) -> [start time, quantity taken, worst price, was a buy] per fill
        self.impacts: dict[tuple[str, str], list[tuple[float, float, float, bool]]] = {}
        self.runtime = VirtualRuntime(ctx.clock.now())
        self.journal: JournalStore = open_journal(settings.journal, ctx)
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
            self.observing = True

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
            self.observing = bool(impacts)  # the engine stops calling until the next fill

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

    live_trading_opt_in: bool = Field(
        False,
        description="first of the two opt-ins of live trading (the other: ARBOT_LIVE_TRADING=1)",
    )
    journal: str = Field(
        "sqlite",
        description="durable write-ahead journal: sqlite (execution.sqlite in the output folder) or a "
        "store a plugin provides (postgres, with arbot-postgres); never memory",
    )
    kill_check_interval_s: float = Field(
        1.0, gt=0, description="how often the kill flag is re-read from the journal (arbot stop)"
    )
    intent_durability: Literal["disk", "process"] = Field(
        "disk",
        description="'disk': each order intent is flushed to stable storage (fsync) before the "
        "request leaves, so it survives a power cut; 'process': it is committed to the journal "
        "(survives a crash of the bot) and flushed later, saving one disk flush per episode of "
        "latency at the risk of losing the last intents with the machine",
    )

    @field_validator("journal")
    @classmethod
    def _durable(cls, v: str) -> str:
        if v == "memory":
            raise ValueError("live trading needs a durable journal (sqlite, or postgres with arbot-postgres)")
        return v


class LiveExecutor(Executor[LiveSettings]):
    """Real orders through the venues' trading gateways, with the same machinery as paper.

    Needs both ``live_trading_opt_in = true`` and ``ARBOT_LIVE_TRADING=1`` in the environment;
    otherwise construction fails. The bot sets :attr:`gateway_factory` (see
    :func:`arbot.execution.live_gateways.open_gateways`); on the first market event (the source is
    open then) the executor builds and starts one :class:`~arbot.trading.gateway.TradingGateway`
    per venue, follows their private streams, and runs the :class:`Reconciler` over what the
    write-ahead journal (``[executor] journal``: ``execution.sqlite`` by default, or a plugin's
    store such as PostgreSQL) says may be live. Episodes wait for that start-up,
    and are BLOCKED while it has not finished, the kill switch is engaged or the symbol is blocked.

    A journal write that cannot be committed raises
    :class:`~arbot.execution.journal.JournalError` before the order it concerns is sent; the
    episode fails with it and the run stops with that error (trading never goes on unjournaled).

    Kill switch: the flag in the journal is re-read every ``kill_check_interval_s``
    (``arbot stop`` sets it from another process); when it is found engaged (also at start-up,
    after a restart) :meth:`KillSwitch.engage` cancels every open order of the bot on every venue.
    :meth:`aclose` applies it one last time, so a stop right after the flag was set still cancels.
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
        #: one trading gateway per venue (filled at start-up from :attr:`gateway_factory`, or
        #: attached directly by a caller that opened them itself)
        self.gateways: dict[str, TradingGateway] = {}
        #: builds the (not started) gateways once the source is open; set by the bot
        self.gateway_factory: Callable[[], Awaitable[Mapping[str, TradingGateway]]] | None = None
        self.runtime = AsyncioRuntime(time.time)
        self.journal: JournalStore = open_journal(
            settings.journal, ctx, flush_before_send=settings.intent_durability == "disk"
        )
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
        self._watcher: asyncio.Task[None] | None = None
        #: the kill-switch reason whose cancellations already ran (None: not applied)
        self.kill_applied: str | None = None
        self._ready = False  # gateways started and the journal reconciled
        self._halts: list[asyncio.Task[None]] = []
        #: the journal failed outside an episode (kill-flag watch): the run must stop with it
        self.journal_failure: JournalError | None = None
        ctx.halt_trading = self.halt

    def halt(self, reason: str) -> None:
        """Engage the kill switch now (the risk manager's circuit breaker calls this): the flag is
        persisted at once; the cancellations run on the event loop (at start-up, if not yet ready)."""
        self.kill.set_flag(KILL_FLAG, reason)
        self.ctx.counters["kill_switch_halts"] += 1
        if self._ready:
            self._halts.append(asyncio.get_running_loop().create_task(self.apply_kill_switch()))

    def _ensure_started(self) -> asyncio.Task[ReconcileReport]:
        if self.reconciled is None:
            self.reconciled = asyncio.get_running_loop().create_task(self._start_up())
        return self.reconciled

    async def _start_up(self) -> ReconcileReport:
        if self.gateway_factory is not None and not self.gateways:
            built = dict(await self.gateway_factory())
            for gw in built.values():
                await gw.start()
            self.gateways.update(built)
            self.ctx.counters["live_gateways"] = len(self.gateways)
        loop = asyncio.get_running_loop()
        self._followers = [loop.create_task(self.manager.follow(v)) for v in self.gateways]
        report = await self.reconcile()
        self._ready = True
        await self.apply_kill_switch()
        self._watcher = loop.create_task(self._watch_kill_flag())
        return report

    async def apply_kill_switch(self) -> None:
        """Re-read the flags; if the kill switch is engaged and its cancellations have not run for
        this engagement, run :meth:`KillSwitch.engage` (cancel every open order on every venue)."""
        self.kill.refresh()
        if not self.kill.engaged:
            self.kill_applied = None
            return
        reason = self.journal.flags().get(KILL_FLAG, "kill switch engaged")
        if self.kill_applied == reason:
            return
        self.kill_applied = reason
        external = await self.kill.engage(reason, self.manager, self.gateways)
        self.ctx.counters["kill_switch_applied"] += 1
        if external:
            self.ctx.counters["kill_switch_external_orders"] += len(external)

    async def _watch_kill_flag(self) -> None:
        while True:
            await asyncio.sleep(self.settings.kill_check_interval_s)
            try:
                await self.apply_kill_switch()
            except TradingError as exc:
                self.events.append(Alert(self.runtime.now(), "critical", f"kill switch: {exc}"))
                self.kill_applied = None  # try again at the next check
            except JournalError as exc:
                # no journal, no trading: the engine's next look at this executor ends the run
                self.journal_failure = exc
                self.events.append(
                    Alert(self.runtime.now(), "critical", f"execution journal lost, trading halted: {exc}")
                )
                return

    async def reconcile(self) -> ReconcileReport:
        """Settle the journal with the venues (start-up); trading waits for it."""
        return await Reconciler(
            self.journal,
            self.manager,
            self.kill,
            self.runtime,
            listener=self.events.append,
            machine=self.machine,
        ).run()

    def submit(self, opportunity: Opportunity, now: float) -> None:
        """Start the episode (needs a running event loop); it waits for the start-up."""
        self._ensure_started()
        self.kill.refresh()  # a kill switch engaged from outside applies to the next episode
        self._tasks.append(asyncio.get_running_loop().create_task(self._episode(opportunity)))

    async def _episode(self, opp: Opportunity) -> ExecutionReport:
        await asyncio.shield(self._ensure_started())
        self.kill.refresh()
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
        """Now (0.0) when an episode has settled, else never: the engine then drains it.

        The engine asks on every market event, so the first one starts the executor (gateways,
        reconciliation, kill-switch watch) even before any opportunity."""
        with contextlib.suppress(RuntimeError):  # no running loop: nothing to start yet
            self._ensure_started()
        if self.journal_failure is not None:
            return 0.0
        return 0.0 if any(t.done() for t in self._tasks) else math.inf

    def due(self, now: float) -> list[ExecutionReport]:
        """Reports of settled episodes. An episode that raised propagates its error (a journal
        that cannot be written, or a bug), and so does a journal failure seen by the kill-flag
        watch: the run stops with it."""
        if self.journal_failure is not None:
            raise self.journal_failure
        done = [t for t in self._tasks if t.done()]
        self._tasks = [t for t in self._tasks if not t.done()]
        # every settled task's outcome is retrieved before the first error propagates (an error
        # left unretrieved would surface later, from the garbage collector, as a stray log)
        failures = [exc for t in done if (exc := t.exception()) is not None]
        if failures:
            raise failures[0]
        return [t.result() for t in done]

    async def settle(self) -> None:
        """Wait until every episode in flight has settled (the bot calls this when it stops, so
        the engine still reports them); each episode's waits are bounded by its policy."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        """Wait for the episodes in flight, apply a kill switch set meanwhile (``arbot stop``,
        SIGTERM with ``--kill-on-sigterm``), then close the gateways and the journal."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._halts:
            await asyncio.gather(*self._halts, return_exceptions=True)
        if self.reconciled is not None:
            await asyncio.gather(self.reconciled, return_exceptions=True)
            if self.reconciled.exception() is None:
                try:
                    await self.apply_kill_switch()
                except (TradingError, JournalError) as exc:
                    self.events.append(Alert(self.runtime.now(), "critical", f"kill switch at stop: {exc}"))
        for task in [*self._followers, *([self._watcher] if self._watcher is not None else [])]:
            task.cancel()
        await asyncio.gather(*self._followers, return_exceptions=True)
        if self._watcher is not None:
            await asyncio.gather(self._watcher, return_exceptions=True)
        for gw in self.gateways.values():
            try:
                await gw.close()
            except TradingError as exc:
                self.events.append(Alert(self.runtime.now(), "warning", f"closing {gw.venue}: {exc}"))
        self.journal.close()
