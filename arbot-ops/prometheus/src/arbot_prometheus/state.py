"""Metrics read from the running bot's components at scrape time (a custom collector).

Connector counters, book health and age, engine counters, portfolio balances and exposure, the
strategy's equity and drawdown, the circuit breaker and every sink's health are the components'
own state: nothing is copied on the hot path, they are read when Prometheus scrapes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping

from arbot.bot import Bot
from arbot.market import BookHealth
from arbot.risk.rules import CircuitBreakerRule
from arbot.sinks.base import BatchingSink
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["CONNECTOR_COUNTERS", "BotStateCollector"]

#: Connector counters exported under their own metric name: (stats key, metric name, help).
CONNECTOR_COUNTERS = (
    ("messages", "arbot_connector_messages", "WebSocket messages received"),
    ("reconnects", "arbot_connector_reconnects", "WebSocket reconnections"),
    ("resyncs", "arbot_book_resyncs", "Order book resynchronisations"),
    ("gaps", "arbot_book_gaps", "Sequence gaps detected in book streams"),
    ("checksum_failures", "arbot_book_checksum_failures", "Book checksum mismatches"),
    (
        "rest_rate_limited",
        "arbot_connector_rate_limited",
        "REST requests the venue answered with a rate limit",
    ),
    ("garbage_frames", "arbot_connector_garbage_frames", "Frames that could not be decoded"),
)
#: Sink counters exported even before they first count (a BatchingSink counts them lazily).
_SINK_COUNTERS = ("written", "batches", "retries", "write_errors", "spilled", "replayed")
_STATES = (BookHealth.SYNCING, BookHealth.LIVE, BookHealth.STALE, BookHealth.RESYNCING)


def _stable(read: Callable[[], Mapping[str, object]]) -> dict[str, object]:
    """A component's stats dict, re-read if the event loop changed it while it was copied."""
    for _ in range(5):
        try:
            return dict(read())
        except RuntimeError:  # "dictionary changed size during iteration" on another thread
            continue
    return {}


class BotStateCollector(Collector):
    """Yields the bot's component state as metric families on every scrape."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.torn_reads = 0

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        """Every family, built fresh from the components.

        The engine keeps running while a scrape (or a backtest's textfile write) reads its
        state from another thread, without a lock on the hot path; a section that meets a
        structure changing under it (a dict resized, a book level removed) is read again. A
        section that stays torn for five reads is left out of this scrape and counted in
        ``arbot_scrape_torn_reads_total``; the next scrape reads it again.
        """
        sections = (self._connectors, self._books, self._engine, self._portfolio, self._risk, self._sinks)
        for section in sections:
            for _ in range(5):
                try:
                    families = list(section())
                except (RuntimeError, KeyError, IndexError, ValueError):
                    self.torn_reads += 1
                    continue
                yield from families
                break
        torn = CounterMetricFamily(
            "arbot_scrape_torn_reads", "State reads retried because the engine changed it mid-read"
        )
        torn.add_metric([], float(self.torn_reads))
        yield torn

    def _connectors(self) -> Iterable[CounterMetricFamily]:
        families = {
            key: CounterMetricFamily(name, help_, labels=["venue"]) for key, name, help_ in CONNECTOR_COUNTERS
        }
        generic = CounterMetricFamily(
            "arbot_connector_events",
            "Every connector counter by name (see the connector's stats())",
            labels=["venue", "counter"],
        )
        source_stats = _stable(self.bot.source.stats)
        for venue in self.bot.source.venues():
            raw = source_stats.get(venue)
            stats: dict[str, object] = raw if isinstance(raw, dict) else {}
            for key, fam in families.items():
                value = stats.get(key, 0)
                fam.add_metric([venue], float(value) if isinstance(value, int | float) else 0.0)
            for key, value in sorted(stats.items()):
                if ":" not in key and isinstance(value, int | float):
                    generic.add_metric([venue, key], float(value))
        yield from families.values()
        yield generic

    def _books(self) -> Iterable[GaugeMetricFamily]:
        market = self.bot.ctx.market
        now = self.bot.ctx.clock.now()
        age = GaugeMetricFamily(
            "arbot_book_age_seconds", "Time since the book last changed", labels=["venue", "symbol"]
        )
        live = GaugeMetricFamily(
            "arbot_book_live", "1 when the book is live and tradable", labels=["venue", "symbol"]
        )
        state = GaugeMetricFamily(
            "arbot_book_state",
            "Book health state (one series per state, 1 for the current one)",
            labels=["venue", "symbol", "state"],
        )
        depth = GaugeMetricFamily(
            "arbot_book_levels", "Price levels held per side", labels=["venue", "symbol", "side"]
        )
        spread = GaugeMetricFamily(
            "arbot_book_spread_ratio", "Best ask over best bid minus one", labels=["venue", "symbol"]
        )
        for book in list(market):
            v, s = book.venue, book.symbol
            health = market.health(v, s)
            if not math.isnan(book.ts):
                age.add_metric([v, s], max(0.0, now - book.ts))
            live.add_metric([v, s], 1.0 if health == BookHealth.LIVE else 0.0)
            for st in _STATES:
                state.add_metric([v, s, st], 1.0 if health == st else 0.0)
            depth.add_metric([v, s, "bid"], float(len(book.bids)))
            depth.add_metric([v, s, "ask"], float(len(book.asks)))
            bid, ask = book.bids.best(), book.asks.best()
            if bid is not None and ask is not None and bid[0] > 0:
                spread.add_metric([v, s], ask[0] / bid[0] - 1.0)
        yield from (age, live, state, depth, spread)

    def _engine(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
        engine = self.bot.engine
        events = CounterMetricFamily("arbot_engine_events", "Market events the engine processed")
        events.add_metric([], float(engine.events_processed))
        counters = CounterMetricFamily(
            "arbot_engine_named_events",
            "Engine counters by name (crossed books, suppressed, resized...)",
            labels=["counter"],
        )
        for key, value in sorted(_stable(self.bot.ctx.counters.as_dict).items()):
            if isinstance(value, int | float):
                counters.add_metric([key], float(value))
        perf = engine.performance
        decided = CounterMetricFamily(
            "arbot_engine_opportunities", "Opportunities by engine outcome", labels=["outcome"]
        )
        for outcome, n in (
            ("detected", perf.detected),
            ("executed", perf.executed),
            ("missed", perf.missed),
            ("rejected", perf.rejected),
        ):
            decided.add_metric([outcome], float(n))
        episodes = CounterMetricFamily(
            "arbot_episodes",
            "Execution episodes by final state (DONE, HEDGED, UNWOUND, HELD...)",
            labels=["state"],
        )
        executor_orders = CounterMetricFamily(
            "arbot_executor_orders", "Orders the executor finished, by final fill status", labels=["status"]
        )
        residual = CounterMetricFamily(
            "arbot_episodes_with_residual", "Episodes that left a residual exposure"
        )
        tallies = _stable(self.bot.ctx.counters.as_dict)
        residual.add_metric([], float(tallies.get("episodes_with_residual", 0) or 0))  # type: ignore[arg-type]
        for key, value in sorted(tallies.items()):
            if not isinstance(value, int | float):
                continue
            kind, _, label = key.partition(":")
            if kind == "episodes" and label:
                episodes.add_metric([label], float(value))
            elif kind == "orders" and label:
                executor_orders.add_metric([label], float(value))
        yield from (events, counters, decided, episodes, executor_orders, residual)

    def _portfolio(self) -> Iterable[GaugeMetricFamily]:
        pf = self.bot.ctx.portfolio
        perf = self.bot.engine.performance
        balance = GaugeMetricFamily(
            "arbot_balance", "Balance in units of the asset", labels=["venue", "asset"]
        )
        balance_usd = GaugeMetricFamily(
            "arbot_balance_usd", "USD value of a balance", labels=["venue", "asset"]
        )
        exposure = GaugeMetricFamily(
            "arbot_exposure_usd",
            "USD value of the change in holdings since the start, per venue and asset",
            labels=["venue", "asset"],
        )
        for (venue, asset), qty in sorted(dict(pf.balances).items()):
            price = pf.usd_price(asset)
            balance.add_metric([venue, asset], qty)
            if price == price:
                balance_usd.add_metric([venue, asset], qty * price)
            exposure.add_metric([venue, asset], pf.inventory_change_usd(venue, asset))
        residual = GaugeMetricFamily(
            "arbot_residual_exposure_usd",
            "Unhedged change in holdings netted across venues, per asset",
            labels=["asset"],
        )
        for asset in sorted({a for (_, a) in pf.balances} - set(pf.usd_assets)):
            residual.add_metric([asset], pf.net_position_usd(asset))
        equity = GaugeMetricFamily("arbot_equity_usd", "Strategy equity: capital plus realised PnL")
        mtm = GaugeMetricFamily("arbot_portfolio_value_usd", "Every balance marked to market")
        drawdown = GaugeMetricFamily("arbot_drawdown_ratio", "Fall of equity from its peak (0.05 = 5 %)")
        max_dd = GaugeMetricFamily("arbot_max_drawdown_ratio", "Largest drawdown of the run so far")
        pnl = GaugeMetricFamily("arbot_pnl_usd", "Realised PnL of the run, net of fees")
        fees = GaugeMetricFamily("arbot_fees_paid_usd", "Fees paid in the run")
        curve = list(perf.equity)
        current = (perf.capital or 0.0) + perf.pnl if perf.capital is not None else float("nan")
        peak = max([*curve, current]) if curve else current
        equity.add_metric([], current)
        drawdown.add_metric([], (peak - current) / peak if peak and peak > 0 else 0.0)
        max_dd.add_metric([], perf.max_drawdown()[1])
        mtm.add_metric([], pf.value_usd())
        pnl.add_metric([], perf.pnl)
        fees.add_metric([], perf.fees)
        yield from (balance, balance_usd, exposure, residual, equity, mtm, drawdown, max_dd, pnl, fees)

    def _risk(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
        now = self.bot.ctx.clock.now()
        open_ = GaugeMetricFamily("arbot_circuit_breaker_open", "1 while the circuit breaker halts trading")
        trips = CounterMetricFamily("arbot_circuit_breaker_trips", "Times the circuit breaker opened")
        losses = GaugeMetricFamily("arbot_consecutive_losses", "Losing executions in a row")
        breakers = [r for r in self.bot.risk_rules if isinstance(r, CircuitBreakerRule)]
        open_.add_metric([], 1.0 if any(now < b.halted_until for b in breakers) else 0.0)
        trips.add_metric([], float(sum(b.trips for b in breakers)))
        losses.add_metric([], float(max((b.consecutive_losses for b in breakers), default=0)))
        yield from (open_, trips, losses)

    def _sinks(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
        healthy = GaugeMetricFamily(
            "arbot_sink_up", "1 while the sink's store accepts writes", labels=["sink"]
        )
        counters = CounterMetricFamily(
            "arbot_sink_events",
            "Sink counters by name (written, retries, spilled, replayed...)",
            labels=["sink", "counter"],
        )
        for sink in self.bot.sinks:
            healthy.add_metric(
                [sink.name], 1.0 if not isinstance(sink, BatchingSink) or sink.healthy else 0.0
            )
            stats = {**dict.fromkeys(_SINK_COUNTERS, 0), **_stable(sink.stats)}
            for key, value in sorted(stats.items()):
                if isinstance(value, int | float):
                    counters.add_metric([sink.name, key], float(value))
        yield from (healthy, counters)
