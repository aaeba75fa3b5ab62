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
from typing import Any

from arbot.components import BotContext, Detector, Executor, MarketEvent, RiskRule, Sink
from arbot.events import (
    BookUpdate,
    ExecutionReport,
    FxRate,
    Opportunity,
    RiskAction,
    SignalRecord,
    SignalStatus,
    TradeTick,
)
from arbot.market import BookHealth
from arbot.performance import PerformanceTracker

__all__ = ["Engine"]


def _route(opp: Opportunity) -> tuple[Any, ...]:
    return (opp.strategy, tuple((leg.venue, leg.symbol, leg.side) for leg in opp.legs))


class Engine:
    """Wires resolved components together and processes events."""

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
        self.performance = PerformanceTracker(ctx.mode, ctx.config.portfolio.snapshot_interval_s)
        self._all_symbol_detectors = [d for d in self.detectors if d.symbols() is None]
        self._by_symbol: dict[str, list[Detector]] = {}
        for d in self.detectors:
            syms = d.symbols()
            if syms is not None:
                for s in syms:
                    self._by_symbol.setdefault(s, []).append(d)
        self._in_flight: dict[tuple[Any, ...], Opportunity] = {}
        self._origin: dict[str, Detector] = {}
        self._next_snapshot = -math.inf
        self._snapshot_interval = ctx.config.portfolio.snapshot_interval_s
        self._impacts = executor.impacts if executor is not None else {}
        self.on_progress: Callable[[int], None] | None = None
        self.events_processed = 0

    def _detectors_for(self, symbol: str) -> list[Detector]:
        found = self._by_symbol.get(symbol)
        if found is None:
            return self._all_symbol_detectors
        if self._all_symbol_detectors:
            return found + self._all_symbol_detectors
        return found

    # -- hot path -------------------------------------------------------------------------

    def process(self, ev: MarketEvent) -> None:
        """Handle one market event end to end."""
        ts = ev.ts
        self.clock.advance(ts)
        self.events_processed += 1
        executor = self.executor
        if executor is not None and executor.next_due() <= ts:
            self._drain(ts)
        if ts >= self._next_snapshot:
            self._snapshot(ts)
        for sink in self.market_sinks:
            sink.emit(ev)
        if type(ev) is BookUpdate:
            book = self.market.book(ev.venue, ev.symbol)
            if ev.applied:
                pass  # a live connector's book sync already applied it and owns the health state
            elif ev.snapshot:
                book.apply_snapshot(ev.bids, ev.asks, ts, ev.exchange_ts)
                self.market.set_health(ev.venue, ev.symbol, BookHealth.LIVE)
            else:
                book.apply_delta(ev.bids, ev.asks, ts, ev.exchange_ts)
            if self._impacts and (ev.venue, ev.symbol) in self._impacts:
                executor.reapply_impact(book, ts)  # type: ignore[union-attr]
            if book.is_crossed:
                self.counters["crossed_books"] += 1
                return
            for det in self._detectors_for(ev.symbol):
                opps = det.on_book(ev.venue, ev.symbol, ts)
                if opps:
                    for opp in opps:
                        self._handle(opp, det, ts)
        elif type(ev) is FxRate:
            self.ctx.portfolio.set_fx(ev.currency, ev.per_usd)
        elif type(ev) is TradeTick:
            for det in self._detectors_for(ev.symbol):
                opps = det.on_trade(ev)
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
            decision = rule.evaluate(opp, now)
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

    def _drain(self, now: float) -> None:
        assert self.executor is not None
        for report in self.executor.due(now):
            self._on_report(report)

    def _on_report(self, report: ExecutionReport) -> None:
        opp = report.opportunity
        self._in_flight.pop(_route(opp), None)
        origin = self._origin.pop(opp.id, None)
        self.performance.on_report(report)
        for rule in self.risk_rules:
            rule.on_report(report)
        if origin is not None:
            origin.on_report(report)
        status = SignalStatus.EXECUTED if report.executed else SignalStatus.MISSED
        self._record(SignalRecord(opp, status, report.reason, opp.ts, report.pnl_usd, report.ts))
        for sink in self.result_sinks:
            sink.emit(report)

    def _record(self, record: SignalRecord) -> None:
        for sink in self.result_sinks:
            sink.emit(record)

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
                for sink in self.result_sinks:
                    sink.emit(snap)
        self._next_snapshot = (math.floor(ts / interval) + 1.0) * interval

    # -- drivers --------------------------------------------------------------------------

    def run(self, events: Iterable[MarketEvent], progress_every: int = 10_000) -> None:
        """Process a finite stream (backtest); fills due after the last event complete at its time."""
        process = self.process
        cb = self.on_progress
        for n, ev in enumerate(events, 1):
            process(ev)
            if cb is not None and n % progress_every == 0:
                cb(n)
        self.finish()

    async def arun(self, events: AsyncIterable[MarketEvent], stop: asyncio.Event | None = None) -> None:
        """Process a live stream (paper/live) until it ends or ``stop`` is set."""
        async for ev in events:
            self.process(ev)
            if stop is not None and stop.is_set():
                break
        if self.executor is not None:
            await self.executor.aclose()
        self.finish()

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
            for sink in self.result_sinks:
                sink.emit(row)
