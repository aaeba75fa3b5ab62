"""The Grafana dashboard, built as code: ``python -m arbot_prometheus.dashboard > dashboards/arbot.json``.

Each panel is a title, a unit and its PromQL targets; :func:`build` turns them into Grafana's
dashboard JSON (schema 39, a ``${datasource}`` Prometheus variable so it imports anywhere).
The package's tests check the shipped JSON equals :func:`build`'s output and run every target
against a real Prometheus scraping a paper run.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import attrs

__all__ = ["PANELS", "Panel", "build"]


@attrs.define(frozen=True)
class Panel:
    """One dashboard panel: a title, its targets as (PromQL, legend) pairs, a Grafana unit."""

    title: str
    targets: tuple[tuple[str, str], ...]
    unit: str = "short"
    kind: str = "timeseries"
    description: str = ""


def _quantile(q: float, histogram: str, window: str, by: str = "le") -> str:
    """PromQL of the ``q`` quantile of ``histogram`` over ``window``, aggregated by ``by``."""
    return f"histogram_quantile({q}, sum by ({by}) (rate({histogram}_bucket[{window}])))"


#: Rows of panels, top to bottom.
PANELS: tuple[tuple[str, tuple[Panel, ...]], ...] = (
    (
        "Market data",
        (
            Panel(
                "Market events / s",
                (("sum by (venue) (rate(arbot_market_events_total[1m]))", "{{venue}}"),),
                "ops",
            ),
            Panel(
                "WebSocket messages / s",
                (("sum by (venue) (rate(arbot_connector_messages_total[1m]))", "{{venue}}"),),
                "ops",
            ),
            Panel(
                "Book age (max)",
                (("max by (venue, symbol) (arbot_book_age_seconds)", "{{venue}} {{symbol}}"),),
                "s",
            ),
            Panel("Live books", (("sum by (venue) (arbot_book_live)", "{{venue}}"),), "short", "stat"),
            Panel(
                "Resyncs, gaps, reconnects (5m)",
                (
                    ("sum by (venue) (increase(arbot_book_resyncs_total[5m]))", "resyncs {{venue}}"),
                    ("sum by (venue) (increase(arbot_book_gaps_total[5m]))", "gaps {{venue}}"),
                    (
                        "sum by (venue) (increase(arbot_connector_reconnects_total[5m]))",
                        "reconnects {{venue}}",
                    ),
                    (
                        "sum by (venue) (increase(arbot_book_checksum_failures_total[5m]))",
                        "checksum failures {{venue}}",
                    ),
                ),
            ),
            Panel(
                "Top-of-book spread",
                (("max by (venue, symbol) (arbot_book_spread_ratio)", "{{venue}} {{symbol}}"),),
                "percentunit",
            ),
        ),
    ),
    (
        "Opportunities",
        (
            Panel(
                "Opportunities / s by status",
                (
                    (
                        "sum by (strategy, status) (rate(arbot_opportunities_total[1m]))",
                        "{{strategy}} {{status}}",
                    ),
                ),
                "ops",
            ),
            Panel(
                "Rejections / s by rule",
                (("sum by (rule) (rate(arbot_opportunities_rejected_total[1m]))", "{{rule}}"),),
                "ops",
            ),
            Panel(
                "Net spread of opportunities (p50, p90)",
                (
                    (
                        _quantile(0.5, "arbot_opportunity_net_spread_ratio", "1m", "le"),
                        "p50",
                    ),
                    (
                        _quantile(0.9, "arbot_opportunity_net_spread_ratio", "1m", "le"),
                        "p90",
                    ),
                ),
                "percentunit",
            ),
            Panel(
                "Tick to decision (p50, p99)",
                (
                    (
                        _quantile(0.5, "arbot_tick_to_decision_seconds", "1m", "le"),
                        "p50",
                    ),
                    (
                        _quantile(0.99, "arbot_tick_to_decision_seconds", "1m", "le"),
                        "p99",
                    ),
                ),
                "s",
            ),
        ),
    ),
    (
        "Execution",
        (
            Panel(
                "Orders (5m) by venue and status",
                (("sum by (venue, status) (increase(arbot_orders_total[5m]))", "{{venue}} {{status}}"),),
            ),
            Panel(
                "Fills (5m) by venue", (("sum by (venue) (increase(arbot_fills_total[5m]))", "{{venue}}"),)
            ),
            Panel(
                "Order round trip p99 by venue",
                (
                    (
                        _quantile(0.99, "arbot_order_round_trip_seconds", "5m", "venue, le"),
                        "{{venue}}",
                    ),
                ),
                "s",
            ),
            Panel(
                "Episodes by final state (5m)",
                (("sum by (state) (increase(arbot_episodes_total[5m]))", "{{state}}"),),
            ),
            Panel(
                "Execution alerts (5m) by level",
                (("sum by (level) (increase(arbot_execution_alerts_total[5m]))", "{{level}}"),),
            ),
            Panel(
                "Executed vs missed (5m)",
                (("sum by (outcome) (increase(arbot_executions_total[5m]))", "{{outcome}}"),),
            ),
        ),
    ),
    (
        "Money",
        (
            Panel(
                "Net PnL",
                (("arbot_pnl_usd", "run"), ("sum by (strategy) (arbot_realized_pnl_usd)", "{{strategy}}")),
                "currencyUSD",
            ),
            Panel("Fees", (("arbot_fees_paid_usd", "fees"),), "currencyUSD"),
            Panel(
                "Equity",
                (("arbot_equity_usd", "equity"), ("arbot_portfolio_value_usd", "marked to market")),
                "currencyUSD",
            ),
            Panel(
                "Drawdown",
                (("arbot_drawdown_ratio", "now"), ("arbot_max_drawdown_ratio", "max")),
                "percentunit",
            ),
            Panel("Balances by venue", (("sum by (venue) (arbot_balance_usd)", "{{venue}}"),), "currencyUSD"),
            Panel(
                "Exposure by venue and asset",
                (("sum by (venue, asset) (arbot_exposure_usd)", "{{venue}} {{asset}}"),),
                "currencyUSD",
            ),
            Panel(
                "Residual exposure (netted across venues)",
                (("sum by (asset) (arbot_residual_exposure_usd)", "{{asset}}"),),
                "currencyUSD",
            ),
        ),
    ),
    (
        "Safety",
        (
            Panel("Circuit breaker", (("max(arbot_circuit_breaker_open)", "open"),), "short", "stat"),
            Panel("Kill switch", (("max(arbot_kill_switch_engaged)", "engaged"),), "short", "stat"),
            Panel("Consecutive losses", (("max(arbot_consecutive_losses)", "losses"),), "short", "stat"),
            Panel("Sinks up", (("min by (sink) (arbot_sink_up)", "{{sink}}"),), "short", "stat"),
            Panel(
                "Sink spills (5m)",
                (('sum by (sink) (increase(arbot_sink_events_total{counter="spilled"}[5m]))', "{{sink}}"),),
            ),
        ),
    ),
)


def _panel(panel: Panel, pid: int, x: int, y: int) -> dict[str, Any]:
    return {
        "id": pid,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 8, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {},
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "expr": expr,
                "legendFormat": legend,
            }
            for i, (expr, legend) in enumerate(panel.targets)
        ],
    }


def build() -> dict[str, Any]:
    """The dashboard as Grafana JSON."""
    panels: list[dict[str, Any]] = []
    pid, y = 1, 0
    for row_title, row in PANELS:
        panels.append(
            {
                "id": pid,
                "type": "row",
                "title": row_title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        pid, y = pid + 1, y + 1
        for i, panel in enumerate(row):
            panels.append(_panel(panel, pid, (i % 3) * 8, y + (i // 3) * 8))
            pid += 1
        y += ((len(row) + 2) // 3) * 8
    return {
        "uid": "arbot-overview",
        "title": "ArBot",
        "tags": ["arbot"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "10s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"}
            ]
        },
        "panels": panels,
    }


def main() -> None:
    """Print the dashboard JSON."""
    sys.stdout.write(json.dumps(build(), indent=2) + "\n")


if __name__ == "__main__":
    main()
