"""The engine: source -> market state -> detectors -> risk rules -> executor -> portfolio -> sinks.

One :class:`Engine` runs every mode. Backtests drive it from a synchronous iterator on a virtual
clock (:meth:`Engine.run`); paper and live runs drive it from an async stream on the wall clock
(:meth:`Engine.arun`). The detector and risk objects are the same in both. Nothing here calls
a hook or validates a model per event.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterable, Callable, Iterable
from typing import Any, ClassVar

import attrs

from arbot.components import (
    BookObserver,
    BotContext,
    Component,
    Detector,
    Executor,
    MarketEvent,
    RiskRule,
    Sink,
)
from arbot.errors import ComponentFailure
from arbot.events import (
    BookUpdate,
    ExecutionReport,
    FxRate,
    Opportunity,
    RiskAction,
    RiskDecision,
    SignalRecord,
    SignalStatus,
    TradeTick,
)
from arbot.performance import PerformanceTracker

__all__ = ["ComponentFault", "Engine"]


def _route(opp: Opportunity) -> tuple[Any, ...]:
    return (opp.strategy, tuple((leg.venue, leg.symbol, leg.side) for leg in opp.legs))


@attrs.frozen
class ComponentFault:
    """A component that raised: which one, on what event, with what exception."""

    component: str
    kind: str
    event: str
    error: str
    action: str

    def __str__(self) -> str:
        return f"{self.kind} {self.component!r} raised {self.error} on {self.event} ({self.action})"


def _describe(ev: object) -> str:
    if isinstance(ev, BookUpdate | TradeTick):
        return f"{type(ev).__name__} {ev.venue} {ev.symbol} at ts={ev.ts:.3f}"
    if isinstance(ev, Opportunity):
        return f"opportunity {ev.id} ({ev.strategy})"
    if isinstance(ev, ExecutionReport):
        return f"execution report of {ev.opportunity.id}"
    return type(ev).__name__


class _FailClosed(RiskRule):
    """Stands in for a risk rule disabled after an error: rejects every opportunity (fail closed)."""

    name: ClassVar[str] = "fail_closed"

    def __init__(self, failed: RiskRule) -> None:
        super().__init__(failed.settings, failed.ctx)
        self.failed_name = failed.name

    def evaluate(self, opportunity: Opportunity, now: float) -> RiskDecision:
        """Reject: trading without a configured check is not allowed."""
        return RiskDecision.reject(self.failed_name, "rule disabled after an error: failing closed")


class Engine:
    """Wires resolved components together and processes events.

    A detector, risk rule, sink or book observer that raises is handled by the policy
    ``[system] on_component_error``: ``stop`` raises :class:`~arbot.errors.ComponentFailure`
    (the bot flushes its sinks and the CLI exits 1), ``disable`` records a
    :class:`ComponentFault`, drops the component and goes on (a risk rule is replaced by one that
    rejects everything, so trading never continues without a configured check).
    """

    def __init__(
        self,
        ctx: BotContext,
        detectors: Iterable[Detector],
        risk_rules: Iterable[RiskRule],
        executor: Executor | None,
        sinks: Iterable[Sink],
    ) -> None:
        self.ctx = ctx
        self.market = ctx.market
        self.clock = ctx.clock
        self.counters = ctx.counters
        self.detectors = list(detectors)
        self.risk_rules = list(risk_rules)
        self.executor = executor
        self.sinks = list(sinks)
        self.result_sinks = [s for s in self.sinks if s.wants_results]
        self.market_sinks = [s for s in self.sinks if s.wants_market_data]
        self.policy = ctx.config.system.component_error_policy(ctx.mode)
        self.faults: list[ComponentFault] = []
        candidates: list[object] = [*self.detectors, *self.risk_rules, *self.sinks, executor]
        self.book_observers: list[BookObserver] = [c for c in candidates if isinstance(c, BookObserver)]
        self.performance = PerformanceTracker(ctx.mode, ctx.config.portfolio.snapshot_interval_s)
        self._all_symbol_detectors = [d for d in self.detectors if d.symbols() is None]
        self._by_symbol: dict[str, list[Detector]] = {}
        for d in self.detectors:
            syms = d.symbols()
            if syms is not None:
                for s in syms:
                    self._by_symbol.setdefault(s, []).append(d)
        #: the detectors of each symbol seen so far (cleared when a detector is disabled)
        self._for_symbol: dict[str, list[Detector]] = {}
        self._in_flight: dict[tuple[Any, ...], Opportunity] = {}
        self._origin: dict[str, Detector] = {}
        self._next_snapshot = -math.inf
        self._snapshot_interval = ctx.config.portfolio.snapshot_interval_s
        self.on_progress: Callable[[int], None] | None = None
        #: ask the executor for its next due time on every event (else ``_due`` is kept current)
        self._poll_due = executor is not None and not executor.due_changes_only_on_calls
        self._due = math.inf
        self._refresh_due()
        self.events_processed = 0

    def _detectors_for(self, symbol: str) -> list[Detector]:
        found = self._for_symbol.get(symbol)
        if found is None:
            listed = self._by_symbol.get(symbol)
            if listed is None:
                found = self._all_symbol_detectors
            elif self._all_symbol_detectors:
                found = listed + self._all_symbol_detectors
            else:
                found = listed
            self._for_symbol[symbol] = found
        return found

    # -- hot path -------------------------------------------------------------------------

    def process(self, ev: MarketEvent) -> None:
        """Handle one market event end to end."""
        ts = ev.ts
        self.clock.advance(ts)
        self.events_processed += 1
        executor = self.executor
        if self._due <= ts or (self._poll_due and executor is not None and executor.next_due() <= ts):
            self._drain(ts)
        if ts >= self._next_snapshot:
            self._snapshot(ts)
        if self.market_sinks:
            for sink in self.market_sinks:
                try:
                    sink.emit(ev)
                except Exception as exc:
                    self._fault(sink, ev, exc)
        if type(ev) is BookUpdate:
            venue = ev.venue
            symbol = ev.symbol
            if ev.snapshot and not ev.applied:
                book = self.market.apply_snapshot(venue, symbol, ev.bids, ev.asks, ts, ev.exchange_ts)
            else:
                book = self.market.book(venue, symbol)
                if not ev.applied:  # else a live connector's book sync applied it and owns its health
                    book.apply_delta(ev.bids, ev.asks, ts, ev.exchange_ts)
            if self.book_observers:
                for observer in self.book_observers:
                    if not observer.observing:
                        continue
                    try:
                        observer.on_book_update(venue, symbol, book, ts)
                    except Exception as exc:
                        self._fault(observer, ev, exc)
            if book.is_crossed:
                self.counters["crossed_books"] += 1
                return
            detectors = self._for_symbol.get(symbol)
            if detectors is None:
                detectors = self._detectors_for(symbol)
            for det in detectors:
                try:
                    opps = det.on_book(venue, symbol, ts)
                except Exception as exc:
                    self._fault(det, ev, exc)
                    continue
                if opps:
                    for opp in opps:
                        self._handle(opp, det, ts)
        elif type(ev) is FxRate:
            self.ctx.portfolio.set_fx(ev.currency, ev.per_usd)
        elif type(ev) is TradeTick:
            for det in self._detectors_for(ev.symbol):
                try:
                    opps = det.on_trade(ev)
                except Exception as exc:
                    self._fault(det, ev, exc)
                    continue
                if opps:
                    for opp in opps:
                        self._handle(opp, det, ts)

    def _handle(self, opp: Opportunity, origin: Detector, now: float) -> None:
        route = _route(opp)
        if route in self._in_flight:
            self.counters["suppressed_in_flight"] += 1
            return
        self.performance.on_detected(now)
        for rule in self.risk_rules:
            try:
                decision = rule.evaluate(opp, now)
            except Exception as exc:
                self._fault(rule, opp, exc)
                decision = RiskDecision.reject(rule.name, f"rule raised {type(exc).__name__}")
            action = decision.action
            if action is RiskAction.APPROVE:
                continue
            if action is RiskAction.REJECT:
                self.performance.on_rejected(decision.rule)
                self._record(
                    SignalRecord(opp, SignalStatus.REJECTED, f"{decision.rule}: {decision.reason}", now)
                )
                return
            opp = opp.scaled(decision.scale)
            self.counters[f"resized:{decision.rule}"] += 1
        if self.executor is None:
            self._record(SignalRecord(opp, SignalStatus.DETECTED, "detect-only: no executor", now))
            return
        self._in_flight[route] = opp
        self._origin[opp.id] = origin
        self.executor.submit(opp, now)
        self._refresh_due()

    def _refresh_due(self) -> None:
        """Cache the executor's next due time (executors whose due time only moves in calls)."""
        ex = self.executor
        if ex is not None and not self._poll_due:
            self._due = ex.next_due()

    def _drain(self, now: float) -> None:
        executor = self.executor
        assert executor is not None
        for report in executor.due(now):
            self._on_report(report)
        self._refresh_due()
        if self.result_sinks:
            for item in executor.drain_events():
                self._emit(item)

    def _on_report(self, report: ExecutionReport) -> None:
        opp = report.opportunity
        self._in_flight.pop(_route(opp), None)
        origin = self._origin.pop(opp.id, None)
        self.performance.on_report(report)
        for rule in self.risk_rules:
            try:
                rule.on_report(report)
            except Exception as exc:
                self._fault(rule, report, exc)
        if origin is not None and origin in self.detectors:
            try:
                origin.on_report(report)
            except Exception as exc:
                self._fault(origin, report, exc)
        status = SignalStatus.EXECUTED if report.executed else SignalStatus.MISSED
        self._record(SignalRecord(opp, status, report.reason, opp.ts, report.pnl_usd, report.ts))
        self._emit(report)

    def _record(self, record: SignalRecord) -> None:
        self._emit(record)

    def _emit(self, item: object) -> None:
        for sink in self.result_sinks:
            try:
                sink.emit(item)
            except Exception as exc:
                self._fault(sink, item, exc)

    # -- faults ---------------------------------------------------------------------------

    def _fault(self, component: Component | BookObserver, ev: object, exc: Exception) -> None:
        """Apply the component-error policy to ``component`` having raised ``exc`` on ``ev``."""
        name = component.name if isinstance(component, Component) else type(component).__name__
        kind = component.kind if isinstance(component, Component) else "book_observer"
        error = f"{type(exc).__name__}: {exc}"
        self.counters[f"component_errors:{name}"] += 1
        if self.policy == "stop":
            self.faults.append(ComponentFault(name, kind, _describe(ev), error, "stopped the run"))
            raise ComponentFailure(f"{kind} {name!r} raised {error} on {_describe(ev)}") from exc
        self.faults.append(ComponentFault(name, kind, _describe(ev), error, "disabled"))
        self._disable(component)

    def _disable(self, component: Component | BookObserver) -> None:
        if isinstance(component, Detector):
            self.detectors = [d for d in self.detectors if d is not component]
            self._all_symbol_detectors = [d for d in self._all_symbol_detectors if d is not component]
            for sym, dets in list(self._by_symbol.items()):
                self._by_symbol[sym] = [d for d in dets if d is not component]
            self._for_symbol.clear()
        elif isinstance(component, RiskRule) and not isinstance(component, _FailClosed):
            self.risk_rules = [_FailClosed(r) if r is component else r for r in self.risk_rules]
        elif isinstance(component, Sink):
            self.result_sinks = [s for s in self.result_sinks if s is not component]
            self.market_sinks = [s for s in self.market_sinks if s is not component]
        if isinstance(component, BookObserver):
            self.book_observers = [o for o in self.book_observers if o is not component]

    def _snapshot(self, ts: float) -> None:
        pf = self.ctx.portfolio
        interval = self._snapshot_interval
        if not pf.fully_priced():
            # no snapshot until every held asset has a price; look again a second later
            self._next_snapshot = ts + min(1.0, interval)
            return
        self.performance.sample_equity(ts, pf.value_usd())
        if self.result_sinks:
            for snap in pf.snapshot(ts):
                self._emit(snap)
        self._next_snapshot = (math.floor(ts / interval) + 1.0) * interval

    # -- drivers --------------------------------------------------------------------------

    def run(self, events: Iterable[MarketEvent], progress_every: int = 10_000) -> None:
        """Process a finite stream (backtest); fills due after the last event complete at its time."""
        process = self.process
        cb = self.on_progress
        if cb is None:
            for ev in events:
                process(ev)
        else:
            for n, ev in enumerate(events, 1):
                process(ev)
                if n % progress_every == 0:
                    cb(n)
        self.finish()

    async def arun(self, events: AsyncIterable[MarketEvent], stop: asyncio.Event | None = None) -> None:
        """Process a live stream (paper/live) until it ends or ``stop`` is set."""
        executor = self.executor
        try:
            async for ev in events:
                self.process(ev)
                if stop is not None and stop.is_set():
                    break
            if executor is not None:
                # episodes in flight (however the loop ended) report before the final drain
                await executor.settle()
            self.finish()  # settle pending executions while the executor's journal is still open
        finally:  # also after a failure: episodes settle, gateways and the journal close
            if executor is not None:
                await executor.aclose()
        if executor is not None:
            # what closing produced (kill switch at stop, gateway errors) reaches the sinks too
            self._drain(self.clock.now())

    def finish(self) -> None:
        """Complete pending executions at their due time and take a final snapshot."""
        ex = self.executor
        if ex is not None:
            while ex.pending():
                due = ex.next_due()
                if due == math.inf:
                    break
                self.clock.advance(due)
                self._drain(due)
        now = self.clock.now()
        self._next_snapshot = -math.inf
        self._snapshot(now)
        for row in self.performance.daily_rows():
            self._emit(row)
