"""Metrics computed from the events a sink receives: market data, signals, execution reports.

Every label set is bounded: venues, symbols and strategies come from the configuration, statuses
from ArBot's enums, and a rejection is labelled with the *rule* that rejected it, never with its
free-text reason.
"""

from __future__ import annotations

from collections.abc import Iterable

from arbot.events import (
    BalanceSnapshot,
    BookUpdate,
    ExecutionReport,
    FillStatus,
    Side,
    SignalRecord,
    SignalStatus,
    TradeTick,
)
from arbot.execution.events import (
    Alert,
    EpisodeTransition,
    KillSwitchChanged,
    OrderTransition,
    ResidualExposure,
)
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["EventMetrics", "rejecting_rule"]

#: Buckets of the tick-to-decision histogram, in seconds (100 µs .. 2.5 s).
DECISION_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)
#: Buckets of the order round-trip histogram, in seconds.
ORDER_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Buckets of the net spread of detected opportunities, as a ratio (0.0001 = 0.01 %).
SPREAD_BUCKETS = (0.0, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05)


def rejecting_rule(reason: str) -> str:
    """The rule name of a rejection reason written as ``"<rule>: <text>"`` (``"unknown"`` otherwise)."""
    rule, sep, _ = reason.partition(":")
    return rule.strip() if sep and rule.strip() else "unknown"


class EventMetrics:
    """The event-derived metrics of one bot, registered in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.market_events = Counter(
            "arbot_market_events",
            "Market events received, by venue and kind (book, trade)",
            ["venue", "kind"],
            registry=r,
        )
        self.opportunities = Counter(
            "arbot_opportunities",
            "Opportunities by strategy and final status",
            ["strategy", "status"],
            registry=r,
        )
        self.rejections = Counter(
            "arbot_opportunities_rejected",
            "Rejected opportunities by strategy and the rule that rejected them",
            ["strategy", "rule"],
            registry=r,
        )
        self.net_spread = Histogram(
            "arbot_opportunity_net_spread_ratio",
            "Net spread of detected opportunities (0.001 = 0.1 %)",
            ["strategy"],
            buckets=SPREAD_BUCKETS,
            registry=r,
        )
        self.expected_profit = Counter(
            "arbot_opportunity_expected_profit_usd",
            "Estimated profit of executed opportunities",
            ["strategy"],
            registry=r,
        )
        self.decision_latency = Histogram(
            "arbot_tick_to_decision_seconds",
            "Wall time from receiving the market message that revealed an opportunity to the decision "
            "about it (paper and live runs)",
            ["strategy"],
            buckets=DECISION_BUCKETS,
            registry=r,
        )
        self.orders = Counter(
            "arbot_orders",
            "Orders (legs) by venue, side and final status",
            ["venue", "side", "status"],
            registry=r,
        )
        self.fills = Counter(
            "arbot_fills",
            "Orders that filled something, by venue and status",
            ["venue", "status"],
            registry=r,
        )
        self.order_latency = Histogram(
            "arbot_order_round_trip_seconds",
            "Submission to final state of an order, by venue",
            ["venue"],
            buckets=ORDER_BUCKETS,
            registry=r,
        )
        self.pnl = Gauge(
            "arbot_realized_pnl_usd",
            "Realised PnL of executed opportunities, net of fees, by strategy",
            ["strategy"],
            registry=r,
        )
        self.fees = Gauge("arbot_fees_usd", "Fees paid, by strategy", ["strategy"], registry=r)
        self.executions = Counter(
            "arbot_executions",
            "Approved opportunities by outcome (executed, missed)",
            ["strategy", "outcome"],
            registry=r,
        )
        self.order_transitions = Counter(
            "arbot_order_transitions",
            "Order manager transitions by venue and the state entered",
            ["venue", "status"],
            registry=r,
        )
        self.episode_transitions = Counter(
            "arbot_episode_transitions",
            "Leg-risk machine transitions by the state entered",
            ["state"],
            registry=r,
        )
        self.residuals = Counter(
            "arbot_residual_exposures",
            "Exposures episodes left that no policy closed, by venue and asset",
            ["venue", "asset"],
            registry=r,
        )
        self.execution_alerts = Counter(
            "arbot_execution_alerts",
            "Alerts of the execution layer by level",
            ["level"],
            registry=r,
        )
        self.kill_switch = Gauge(
            "arbot_kill_switch_engaged",
            "1 while the execution layer's kill switch blocks new orders",
            registry=r,
        )
        self.snapshot_balance = Gauge(
            "arbot_snapshot_balance_usd",
            "USD value of a balance at the last portfolio snapshot",
            ["venue", "asset"],
            registry=r,
        )

    def initialise(self, venues: Iterable[str], strategies: Iterable[str], rules: Iterable[str]) -> None:
        """Create the known label combinations at 0, so rates and alerts see a series from the start."""
        venues, strategies, rules = list(venues), list(strategies), list(rules)
        for venue in venues:
            for kind in ("book", "trade"):
                self.market_events.labels(venue, kind)
            for status in FillStatus:
                self.fills.labels(venue, status.value)
                for side in Side:
                    self.orders.labels(venue, side.value, status.value)
        for strategy in strategies:
            for sig in SignalStatus:
                self.opportunities.labels(strategy, sig.value)
            for rule in rules:
                self.rejections.labels(strategy, rule)
            for outcome in ("executed", "missed"):
                self.executions.labels(strategy, outcome)
            self.pnl.labels(strategy)
            self.fees.labels(strategy)
        for level in ("warning", "critical"):
            self.execution_alerts.labels(level)

    def observe_batch(self, batch: Iterable[object]) -> None:
        """Update the metrics for a batch: market events are tallied first and counted once per label
        set (they are most of a batch), the rest one by one."""
        tally: dict[tuple[str, str], int] = {}
        observe = self.observe
        for event in batch:
            t = type(event)
            if t is BookUpdate or t is TradeTick:
                key = (event.venue, "book" if t is BookUpdate else "trade")  # type: ignore[attr-defined]
                tally[key] = tally.get(key, 0) + 1
            else:
                observe(event)
        for (venue, kind), n in tally.items():
            self.market_events.labels(venue, kind).inc(n)

    def observe(self, event: object) -> None:
        """Update the metrics for one event."""
        t = type(event)
        if t is BookUpdate or t is TradeTick:
            assert isinstance(event, BookUpdate | TradeTick)
            self.market_events.labels(event.venue, "book" if t is BookUpdate else "trade").inc()
        elif t is SignalRecord:
            assert isinstance(event, SignalRecord)
            self._signal(event)
        elif t is ExecutionReport:
            assert isinstance(event, ExecutionReport)
            self._report(event)
        elif t is BalanceSnapshot:
            assert isinstance(event, BalanceSnapshot)
            self.snapshot_balance.labels(event.venue, event.asset).set(event.usd_value)
        elif isinstance(event, OrderTransition):
            self.order_transitions.labels(event.venue, event.new.value).inc()
        elif isinstance(event, EpisodeTransition):
            self.episode_transitions.labels(event.new).inc()
        elif isinstance(event, ResidualExposure):
            self.residuals.labels(event.venue, event.asset).inc()
        elif isinstance(event, Alert):
            self.execution_alerts.labels(event.level).inc()
        elif isinstance(event, KillSwitchChanged):
            self.kill_switch.set(1.0 if event.engaged else 0.0)

    def _signal(self, rec: SignalRecord) -> None:
        opp = rec.opportunity
        self.opportunities.labels(opp.strategy, rec.status.value).inc()
        self.net_spread.labels(opp.strategy).observe(opp.net_spread_pct / 100.0)
        if rec.status is SignalStatus.REJECTED:
            self.rejections.labels(opp.strategy, rejecting_rule(rec.reason)).inc()
        elif rec.status is SignalStatus.EXECUTED:
            self.expected_profit.labels(opp.strategy).inc(max(opp.estimated_profit, 0.0))

    def _report(self, report: ExecutionReport) -> None:
        strategy = report.opportunity.strategy
        self.executions.labels(strategy, "executed" if report.executed else "missed").inc()
        for fill in report.fills:
            status = fill.status.value
            self.orders.labels(fill.venue, fill.side.value, status).inc()
            if fill.filled_qty > 0.0:
                self.fills.labels(fill.venue, status).inc()
            self.order_latency.labels(fill.venue).observe(fill.latency_ms / 1000.0)
        if report.executed:
            self.pnl.labels(strategy).inc(report.pnl_usd)
            self.fees.labels(strategy).inc(report.fees_usd)
