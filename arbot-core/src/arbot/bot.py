"""Building a bot from a configuration: resolve components by name, wire the engine, run it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import math
import os
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from arbot.clock import Clock, VirtualClock, WallClock
from arbot.components import (
    BotContext,
    Component,
    Detector,
    Executor,
    MarketEvent,
    RiskRule,
    Sink,
    Source,
)
from arbot.config import FEATURE_PACKAGES, BotConfig, load_config, validate_settings
from arbot.engine import Engine
from arbot.errors import ConfigError, UnknownComponentError
from arbot.events import FillStatus
from arbot.execution.executors import LiveExecutor, SimulatedExecutor
from arbot.execution.live_gateways import open_gateways
from arbot.market import MarketState
from arbot.plugins import ComponentInfo, PluginHost
from arbot.portfolio import Portfolio
from arbot.stats import Counters

__all__ = ["Bot"]

log = logging.getLogger("arbot.bot")
C = TypeVar("C", bound=Component)


def _run_id(config: BotConfig, mode: str) -> str:
    """A backtest's id is the same for the same configuration and seed (reproducible runs);
    a paper or live run gets a new id at every start, so two runs never share journal rows."""
    text = config.model_dump_json() + str(config.source_file or "")
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    if mode == "backtest":
        return digest
    return f"{digest}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{os.getpid()}"


class Bot:
    """One bot: its plugin host, its context, its components and its engine.

    Build from a file with :meth:`from_file`, or from a :class:`BotConfig`; pass extra plugins
    (modules or objects with ``arbot_*`` hook implementations) to use components defined in
    your own code.
    """

    def __init__(
        self,
        config: BotConfig,
        *,
        host: PluginHost | None = None,
        plugins: Iterable[object] = (),
        mode: str | None = None,
    ) -> None:
        self.config = config
        self.host = host or PluginHost(plugins)
        if host is not None:
            for p in plugins:
                self.host.register(p)
        self.host.hook.arbot_configure(config=config)
        self.mode = mode or config.system.execution_mode
        clock: Clock = VirtualClock() if self.mode == "backtest" else WallClock()
        market = MarketState()
        portfolio = Portfolio(market, config.portfolio.usd_assets, config.portfolio.fx_per_usd)
        self.ctx = BotContext(
            config=config,
            market=market,
            portfolio=portfolio,
            clock=clock,
            counters=Counters(),
            mode=self.mode.upper(),
            run_id=_run_id(config, self.mode),
            host=self.host,
        )
        self.source: Source = self._make(
            Source, config.source.name, config.source.table(config.source.name),
            key="source.name", where=f"source.{config.source.name}",
        )
        for info in self.source.markets():
            market.add_market(info)
        self._fund(portfolio)
        self.detectors: list[Detector] = [
            self._make(Detector, name, settings, key=f"detector.{name}.enabled", where=f"detector.{name}")
            for name, settings in config.enabled_detectors().items()
        ]
        self.risk_rules: list[RiskRule] = [
            self._make(RiskRule, name, config.risk.table(name), key="risk.rules", where=f"risk.{name}")
            for name in config.risk.rules
        ]
        self.executor: Executor | None = self._make_executor()
        if isinstance(self.executor, LiveExecutor):  # trades on the live source's venues
            self.executor.gateway_factory = functools.partial(open_gateways, self.ctx, self.source)
        self.sinks: list[Sink] = [
            self._make(Sink, name, config.sinks.table(name), key="sinks.enabled", where=f"sinks.{name}")
            for name in self._sink_names()
        ]
        self.engine = Engine(self.ctx, self.detectors, self.risk_rules, self.executor, self.sinks)
        self.summary: dict[str, Any] = {}
        log.info(
            "bot built: mode=%s source=%s detectors=%s rules=%s executor=%s sinks=%s",
            self.mode,
            self.source.name,
            [d.name for d in self.detectors],
            [r.name for r in self.risk_rules],
            self.executor.name if self.executor is not None else None,
            [s.name for s in self.sinks],
        )

    @classmethod
    def from_file(cls, path: str | Path, overrides: list[str] | None = None, **kwargs: Any) -> Bot:
        """Load a TOML or YAML configuration (with ``key=value`` overrides) and build the bot."""
        return cls(load_config(path, overrides), **kwargs)

    def _resolve(self, base: type[C], name: str, key: str) -> type[C]:
        try:
            cls = self.host.resolve(base.kind, name)
        except UnknownComponentError as exc:
            origin = self.config.source_file or "<config>"
            raise UnknownComponentError(f"{origin}: {key} names {name!r}: {exc}") from None
        if not issubclass(cls, base):
            raise ConfigError(f"{key}: {name!r} is registered as a {base.kind} but is not a {base.__name__}")
        return cls

    def _make(self, base: type[C], name: str, settings: dict[str, Any], *, key: str, where: str) -> C:
        cls = self._resolve(base, name, key)
        section = cls.config_section
        if section is not None:
            settings = {**(self.config.feature_section(section) or {}), **settings}
        validated = validate_settings(cls.Settings, settings, where, self.config.source_file)
        return cls(validated, self.ctx)

    def _make_executor(self) -> Executor | None:
        ex = self.config.executor
        name = ex.name or self.mode
        if name == "none":
            return None
        cls = self._resolve(Executor, name, "executor.name")
        data = ex.settings_for(name)
        if "seed" in cls.Settings.model_fields:
            data.setdefault("seed", self.config.backtest.seed)
        if "live_trading_opt_in" in cls.Settings.model_fields:  # [executor] live_trading_opt_in
            data.setdefault("live_trading_opt_in", ex.live_trading_opt_in)
        validated = validate_settings(cls.Settings, data, "executor", self.config.source_file)
        return cls(validated, self.ctx)

    def _sink_names(self) -> list[str]:
        """``[sinks] enabled`` plus the sinks of feature sections that say ``enabled = true``;
        a feature section no installed plugin implements is an error when enabled."""
        names = list(self.config.sinks.enabled)
        claimed: dict[str, list[ComponentInfo]] = {}
        for info in self.host.components():
            if info.cls.config_section is not None:
                claimed.setdefault(info.cls.config_section, []).append(info)
        for section, package in FEATURE_PACKAGES.items():
            table = self.config.feature_section(section)
            if table is None:
                continue
            owners = claimed.get(section, [])
            enabled = bool(table.get("enabled", False))
            if not owners:
                if enabled:
                    raise ConfigError(
                        f"{self.config.source_file or '<config>'}: [{section}] enabled = true, but no "
                        f"installed plugin implements it: pip install {package}"
                    )
                log.warning("[%s] is configured but unused: install %s to use it", section, package)
                continue
            for owner in owners:
                validate_settings(owner.cls.Settings, table, section, self.config.source_file)
                if enabled and owner.kind == "sink" and owner.name not in names:
                    names.append(owner.name)
        return names

    def _fund(self, portfolio: Portfolio) -> None:
        pc = self.config.portfolio
        for venue in self.source.venues():
            for asset, amount in pc.per_venue.get(venue, pc.initial).items():
                portfolio.deposit(venue, asset, amount)

    # -- running ------------------------------------------------------------------------

    def _start(self) -> None:
        for sink in self.sinks:
            sink.start()
        self.host.hook.arbot_started(bot=self)

    def _stop(self, wall_s: float, failure: BaseException | None = None) -> dict[str, Any]:
        """Summarise, tell the plugins, flush and close every sink (also after a failure)."""
        self.summary = self._summarise(wall_s)
        try:
            if failure is None:
                self.host.hook.arbot_stopping(bot=self, summary=self.summary)
        finally:
            close_errors = self._close_sinks()
        self.summary["sinks"] = {s.name: s.stats() for s in self.sinks}
        lost = {s.name: s.lost() for s in self.sinks if s.lost() > 0}
        faults = [str(f) for f in self.engine.faults] + close_errors
        self.summary["lost"] = lost
        self.summary["faults"] = faults
        self.summary["failure"] = None if failure is None else f"{type(failure).__name__}: {failure}"
        self.summary["exit_code"] = 1 if (lost or faults or failure is not None) else 0
        log.info(
            "run finished: events=%d detected=%d executed=%d exit_code=%d",
            self.summary["events"],
            self.summary["detected"],
            self.summary["executed"],
            self.summary["exit_code"],
        )
        return self.summary

    def _close_sinks(self) -> list[str]:
        errors: list[str] = []
        for sink in self.sinks:
            try:
                sink.close()
            except Exception as exc:  # one sink failing to close must not keep the others open
                errors.append(f"sink {sink.name!r} failed to close: {type(exc).__name__}: {exc}")
        return errors

    def run_backtest(
        self,
        on_progress: Callable[[int], None] | None = None,
        events: Iterable[MarketEvent] | None = None,
    ) -> dict[str, Any]:
        """Run the source to its end on the virtual clock (or ``events`` instead of the
        source's, e.g. book updates a script built from bars); returns the summary."""
        self._start()
        t0 = time.perf_counter()
        self.engine.on_progress = on_progress
        try:
            self.engine.run(self._window(self.source.events() if events is None else events))
        except BaseException as exc:
            self._stop(time.perf_counter() - t0, failure=exc)  # flush the journal, then fail
            raise
        return self._stop(time.perf_counter() - t0)

    def _window(self, events: Iterable[MarketEvent]) -> Iterable[MarketEvent]:
        """``events`` within ``[backtest] start`` / ``end`` (events arrive in time order)."""
        start, end = self.config.backtest.start_ts, self.config.backtest.end_ts
        if start is None and end is None:
            return events
        return self._between(events, -math.inf if start is None else start, math.inf if end is None else end)

    def _between(self, events: Iterable[MarketEvent], start: float, end: float) -> Iterator[MarketEvent]:
        skipped = 0
        for ev in events:
            if ev.ts < start:
                skipped += 1
                continue
            if ev.ts >= end:
                break
            yield ev
        self.ctx.counters["events_before_start"] += skipped

    async def arun(
        self, stop: asyncio.Event | None = None, duration_s: float | None = None
    ) -> dict[str, Any]:
        """Run on the wall clock (paper or live) until the source ends, ``stop`` is set or
        ``duration_s`` passes; returns the summary."""
        self._start()
        t0 = time.perf_counter()
        stop = stop or asyncio.Event()
        timer = None
        if duration_s is not None:
            timer = asyncio.get_running_loop().call_later(duration_s, stop.set)
        try:
            await self.engine.arun(self._until(stop), stop)
        except BaseException as exc:
            self._stop(time.perf_counter() - t0, failure=exc)
            raise
        finally:
            if timer is not None:
                timer.cancel()
        return self._stop(time.perf_counter() - t0)

    async def _until(self, stop: asyncio.Event) -> AsyncGenerator[MarketEvent, None]:
        source = self.source
        agen = source.aevents()
        stopper = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                if source.buffered():  # ready events: taken at once, no race with the stop
                    try:
                        ev = await agen.__anext__()
                    except StopAsyncIteration:
                        break
                    yield ev
                    continue
                nxt = asyncio.ensure_future(agen.__anext__())
                done, _ = await asyncio.wait({nxt, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if nxt not in done:
                    nxt.cancel()
                    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                        await nxt
                    break
                if stopper in done:  # the stop came with this event: end here (settling below)
                    with contextlib.suppress(StopAsyncIteration):
                        nxt.result()
                    break
                try:
                    yield nxt.result()
                except StopAsyncIteration:
                    break
        finally:
            stopper.cancel()
            if isinstance(agen, AsyncGenerator):
                await agen.aclose()

    def _execution_model(self) -> str:
        """The fill model in words: what a simulated executor assumes (latency, competition,
        rejections), or who fills the orders."""
        ex = self.executor
        if ex is None:
            return "none (detect only)"
        if isinstance(ex, SimulatedExecutor):
            st = ex.settings
            policy = " then ".join(st.on_divergence) or "nothing"
            return (
                f"simulated venues: latency {st.latency_ms:g} ms, fills against the book at arrival, "
                f"competition_rate {st.competition_rate:g}, leg_failure_probability "
                f"{st.leg_failure_probability:g}, on divergence {policy}"
            )
        return f"{ex.name} executor"

    def _summarise(self, wall_s: float) -> dict[str, Any]:
        perf = self.engine.performance
        dd_usd, dd_frac = perf.max_drawdown()
        events = self.engine.events_processed
        pf = self.ctx.portfolio
        mtm_start = perf.mark_to_market[0] if perf.mark_to_market else pf.value_usd()
        return {
            "run_id": self.ctx.run_id,
            "mode": self.ctx.mode,
            "events": events,
            "wall_seconds": wall_s,
            "events_per_second": events / wall_s if wall_s > 0 else 0.0,
            "detected": perf.detected,
            "executed": perf.executed,
            "missed": perf.missed,
            "rejected": perf.rejected,
            "rejected_by_rule": dict(sorted(perf.rejected_by_rule.items())),
            "pnl_usd": perf.pnl,
            "fees_usd": perf.fees,
            "gross_pnl_usd": perf.pnl + perf.fees,
            "win_rate": perf.win_rate,
            "max_drawdown_usd": dd_usd,
            "max_drawdown_pct": dd_frac * 100.0,
            "sharpe": perf.sharpe(),
            "sharpe_basis": perf.sharpe_basis(),
            "sharpe_mark_to_market": perf.sharpe_mark_to_market(),
            "execution_model": self._execution_model(),
            "orders_partially_filled": self.ctx.counters[f"orders:{FillStatus.PARTIAL.value}"],
            "expected_pnl_usd": perf.expected_pnl,
            "edge_capture": perf.edge_capture,
            "outcomes": dict(sorted(perf.outcomes.items())),
            "episodes_with_residual": perf.with_residual,
            "capital_usd": perf.capital if perf.capital is not None else mtm_start,
            "mark_to_market_start_usd": mtm_start,
            "mark_to_market_end_usd": pf.value_usd(),
            "counters": self.ctx.counters.as_dict(),
            "source_name": self.source.name,
            "source": self.source.stats(),
            "warnings": list(self.source.warnings),
        }
