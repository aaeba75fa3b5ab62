"""Building a bot from a configuration: resolve components by name, wire the engine, run it."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

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
from arbot.config import BotConfig, load_config, validate_settings
from arbot.engine import Engine
from arbot.market import MarketState
from arbot.plugins import PluginHost
from arbot.portfolio import Portfolio
from arbot.stats import Counters

__all__ = ["Bot"]


def _run_id(config: BotConfig) -> str:
    """A run id that is the same for the same configuration and seed."""
    text = config.model_dump_json() + str(config.source_file or "")
    return hashlib.sha256(text.encode()).hexdigest()[:12]


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
            run_id=_run_id(config),
            host=self.host,
        )
        self.source: Source = self._make(
            "source", config.source.name, config.source.settings, "source.settings"
        )  # type: ignore[assignment]
        for info in self.source.markets():
            market.add_market(info)
        self._fund(portfolio)
        self.detectors: list[Detector] = [
            self._make("detector", name, settings, f"detector.{name}")  # type: ignore[misc]
            for name, settings in config.enabled_detectors().items()
        ]
        self.risk_rules: list[RiskRule] = [
            self._make("risk_rule", name, config.risk.settings.get(name, {}), f"risk.settings.{name}")  # type: ignore[misc]
            for name in config.risk.rules
        ]
        self.executor: Executor | None = self._make_executor()
        self.sinks: list[Sink] = [
            self._make("sink", name, config.sinks.settings.get(name, {}), f"sinks.settings.{name}")  # type: ignore[misc]
            for name in config.sinks.enabled
        ]
        self.engine = Engine(self.ctx, self.detectors, self.risk_rules, self.executor, self.sinks)
        self.summary: dict[str, Any] = {}

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> Bot:
        """Load a TOML configuration and build the bot."""
        return cls(load_config(path), **kwargs)

    def _make(self, kind: str, name: str, settings: dict[str, Any], where: str) -> Component:
        cls = self.host.resolve(kind, name)
        validated = validate_settings(cls.Settings, settings, where, self.config.source_file)
        return cls(validated, self.ctx)

    def _make_executor(self) -> Executor | None:
        ex = self.config.executor
        name = ex.name or self.mode
        if name == "none":
            return None
        cls = self.host.resolve("executor", name)
        fields = cls.Settings.model_fields
        data = {k: v for k, v in ex.model_dump().items() if k in fields and k != "name"}
        if "seed" in fields:
            data["seed"] = self.config.backtest.seed
        validated = validate_settings(cls.Settings, data, "executor", self.config.source_file)
        return cls(validated, self.ctx)  # type: ignore[return-value]

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

    def _stop(self, wall_s: float) -> dict[str, Any]:
        self.summary = self._summarise(wall_s)
        self.host.hook.arbot_stopping(bot=self, summary=self.summary)
        for sink in self.sinks:
            sink.close()
        self.summary["sinks"] = {s.name: s.stats() for s in self.sinks}
        return self.summary

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
            self.engine.run(self.source.events() if events is None else events)
        finally:
            wall = time.perf_counter() - t0
        return self._stop(wall)

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
        finally:
            if timer is not None:
                timer.cancel()
        return self._stop(time.perf_counter() - t0)

    async def _until(self, stop: asyncio.Event) -> Any:
        agen = self.source.aevents()
        stopper = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                nxt = asyncio.ensure_future(agen.__anext__())
                done, _ = await asyncio.wait({nxt, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if nxt not in done:
                    nxt.cancel()
                    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                        await nxt
                    break
                try:
                    yield nxt.result()
                except StopAsyncIteration:
                    break
        finally:
            stopper.cancel()
            aclose = getattr(agen, "aclose", None)
            if aclose is not None:
                await aclose()

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
            "capital_usd": perf.capital if perf.capital is not None else mtm_start,
            "mark_to_market_start_usd": mtm_start,
            "mark_to_market_end_usd": pf.value_usd(),
            "counters": self.ctx.counters.as_dict(),
            "source": self.source.stats(),
        }
