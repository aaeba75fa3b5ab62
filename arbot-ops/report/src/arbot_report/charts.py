"""The report's charts: one function per chart, each turning a run's rows into a plotly figure.

A chart with nothing to show still renders (an empty axis with a note), so a report of a quiet
run has the same sections as any other.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

import attrs
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from arbot_report.journal import Row, RunData

__all__ = ["CHARTS", "Chart", "build_charts", "rejecting_rule"]


@attrs.define(frozen=True)
class Chart:
    """A titled figure with a sentence saying how to read it."""

    key: str
    title: str
    caption: str
    figure: go.Figure


def rejecting_rule(reason: str | None) -> str:
    """The rule name in a rejection reason ``"<rule>: <text>"``."""
    rule, sep, _ = (reason or "").partition(":")
    return rule.strip() if sep and rule.strip() else "other"


def _layout(fig: go.Figure, empty: bool, height: int = 380, **kw: object) -> go.Figure:
    fig.update_layout(
        template="plotly_white", height=height, margin={"l": 60, "r": 20, "t": 30, "b": 50}, **kw
    )
    if empty:
        fig.add_annotation(
            text="no data in this run", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
        )
    return fig


def _route(s: Row) -> str:
    return f"{s['buy_exchange'] or '?'} → {s['sell_exchange'] or '?'}"


def equity_and_drawdown(run: RunData) -> Chart:
    """Strategy equity (capital + cumulative realised PnL), marked-to-market value, and drawdown."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35], vertical_spacing=0.06)
    mtm: dict[str, float] = defaultdict(float)
    for s in run.snapshots:
        mtm[s["timestamp"]] += float(s["usd_value"])
    times = sorted(mtm)
    executed = sorted(
        (s for s in run.signals if s["status"] == "EXECUTED" and s["actual_pnl"] is not None),
        key=lambda s: s["executed_at"] or s["detected_at"],
    )
    capital = mtm[times[0]] if times else 0.0
    eq_t = [times[0]] if times else []
    eq_v = [capital] if times else []
    total = 0.0
    for s in executed:
        total += float(s["actual_pnl"])
        eq_t.append(s["executed_at"] or s["detected_at"])
        eq_v.append(capital + total)
    peak = -float("inf")
    dd: list[float] = []
    for v in eq_v:
        peak = max(peak, v)
        dd.append((v - peak) / peak * 100.0 if peak > 0 else 0.0)
    fig.add_trace(go.Scatter(x=eq_t, y=eq_v, name="strategy equity", line={"shape": "hv"}), row=1, col=1)
    fig.add_trace(go.Scatter(x=times, y=[mtm[t] for t in times], name="marked to market"), row=1, col=1)
    fig.add_trace(
        go.Scatter(x=eq_t, y=dd, name="drawdown %", fill="tozeroy", line={"shape": "hv"}), row=2, col=1
    )
    fig.update_yaxes(title_text="USD", row=1, col=1)
    fig.update_yaxes(title_text="drawdown %", row=2, col=1)
    return Chart(
        "equity",
        "Equity and drawdown",
        "Strategy equity is the starting portfolio value plus realised PnL; the marked-to-market "
        "line values every balance at the books' prices. Drawdown is from the strategy equity's peak.",
        _layout(fig, not times and not executed, height=480),
    )


def _pnl_bars(run: RunData, key: Callable[[Row], str]) -> tuple[list[str], list[float], list[int]]:
    pnl: dict[str, float] = defaultdict(float)
    count: Counter[str] = Counter()
    for s in run.signals:
        if s["status"] == "EXECUTED" and s["actual_pnl"] is not None:
            pnl[key(s)] += float(s["actual_pnl"])
            count[key(s)] += 1
    names = sorted(pnl, key=lambda k: -pnl[k])
    return names, [pnl[k] for k in names], [count[k] for k in names]


def pnl_breakdown(run: RunData) -> Chart:
    """Realised PnL by strategy, by route (buy venue → sell venue) and by symbol."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=("by strategy", "by route", "by symbol"))
    empty = True
    for col, key in enumerate((lambda s: str(s["strategy"]), _route, lambda s: str(s["symbol"])), start=1):
        names, values, counts = _pnl_bars(run, key)
        empty = empty and not names
        fig.add_trace(
            go.Bar(
                x=names,
                y=values,
                text=[f"{n} trades" for n in counts],
                showlegend=False,
                marker_color=["#2a9d8f" if v >= 0 else "#e76f51" for v in values],
            ),
            row=1,
            col=col,
        )
    fig.update_yaxes(title_text="realised PnL, USD", row=1, col=1)
    return Chart(
        "pnl",
        "PnL by strategy, route and symbol",
        "Realised PnL net of fees of executed opportunities.",
        _layout(fig, empty),
    )


def funnel(run: RunData) -> Chart:
    """Detected → passed risk → executed, and the rejections by rule."""
    statuses = Counter(str(s["status"]) for s in run.signals)
    detected = len(run.signals)
    passed = detected - statuses["REJECTED"]
    rules = Counter(rejecting_rule(s["reason"]) for s in run.signals if s["status"] == "REJECTED")
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.55, 0.45],
        subplot_titles=("funnel", "rejected by rule"),
        specs=[[{"type": "funnel"}, {"type": "bar"}]],
    )
    fig.add_trace(
        go.Funnel(
            y=["detected", "passed risk", "executed"],
            x=[detected, passed, statuses["EXECUTED"]],
            textinfo="value+percent initial",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    names = [r for r, _ in rules.most_common()]
    fig.add_trace(
        go.Bar(x=[rules[n] for n in names], y=names, orientation="h", showlegend=False), row=1, col=2
    )
    return Chart(
        "funnel",
        "Opportunity funnel",
        f"{detected} detected, {statuses['REJECTED']} rejected by risk rules, "
        f"{statuses['EXECUTED']} executed, "
        f"{statuses['MISSED']} missed (approved, nothing filled), {statuses['DETECTED']} detect-only.",
        _layout(fig, detected == 0),
    )


def expected_vs_realised(run: RunData) -> Chart:
    """Each executed opportunity: estimated profit at detection against realised PnL."""
    rows = [s for s in run.signals if s["status"] == "EXECUTED" and s["actual_pnl"] is not None]
    xs = [float(s["estimated_pnl"] or 0.0) for s in rows]
    ys = [float(s["actual_pnl"]) for s in rows]
    fig = go.Figure(go.Scatter(x=xs, y=ys, mode="markers", text=[_route(s) for s in rows], name="executed"))
    if xs:
        lo, hi = min(xs + ys), max(xs + ys)
        fig.add_trace(
            go.Scatter(
                x=[lo, hi],
                y=[lo, hi],
                mode="lines",
                name="realised = expected",
                line={"dash": "dot", "color": "grey"},
            )
        )
    fig.update_xaxes(title_text="expected profit at detection, USD")
    fig.update_yaxes(title_text="realised PnL, USD")
    ratio = sum(ys) / sum(xs) if xs and sum(xs) else None
    cap = "Points below the diagonal realised less than the detector expected (slippage, latency, fees)."
    if ratio is not None:
        cap += f" Realised / expected over the run: {ratio:.2f}."
    return Chart("edge", "Expected vs realised edge", cap, _layout(fig, not rows))


def spreads(run: RunData) -> Chart:
    """Distributions of gross and net spreads of every detected opportunity, by strategy."""
    fig = go.Figure()
    by_strategy: dict[str, list[Row]] = defaultdict(list)
    for s in run.signals:
        by_strategy[str(s["strategy"])].append(s)
    for strategy, rows in sorted(by_strategy.items()):
        fig.add_trace(
            go.Histogram(
                x=[float(s["gross_spread"]) for s in rows], name=f"{strategy} gross", opacity=0.6, nbinsx=60
            )
        )
        fig.add_trace(
            go.Histogram(
                x=[float(s["net_spread"]) for s in rows], name=f"{strategy} net", opacity=0.6, nbinsx=60
            )
        )
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text="spread, %")
    fig.update_yaxes(title_text="opportunities")
    return Chart(
        "spreads",
        "Spread distributions",
        "Gross and net (after fees) spreads at detection.",
        _layout(fig, not run.signals),
    )


def inventory(run: RunData) -> Chart:
    """USD value held per venue over time, and each asset's balance per venue."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("USD value per venue", "balance per venue and asset"))
    per_venue: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    per_asset: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for s in run.snapshots:
        per_venue[s["exchange"]][s["timestamp"]] += float(s["usd_value"])
        per_asset[(s["exchange"], s["asset"])].append((s["timestamp"], float(s["balance"])))
    for venue, series in sorted(per_venue.items()):
        ts = sorted(series)
        fig.add_trace(go.Scatter(x=ts, y=[series[t] for t in ts], name=venue), row=1, col=1)
    for (venue, asset), pts in sorted(per_asset.items()):
        fig.add_trace(
            go.Scatter(
                x=[t for t, _ in pts],
                y=[b for _, b in pts],
                name=f"{venue} {asset}",
                visible="legendonly" if asset in ("USDT", "USD", "USDC", "KRW") else True,
            ),
            row=1,
            col=2,
        )
    return Chart(
        "inventory",
        "Inventory per venue over time",
        "From the portfolio snapshots; stablecoin and fiat balances start hidden (click the legend).",
        _layout(fig, not run.snapshots, height=420),
    )


def latency(run: RunData) -> Chart:
    """Order latency (submission to fill) by venue."""
    fig = go.Figure()
    by_venue: dict[str, list[float]] = defaultdict(list)
    for t in run.trades:
        if t["latency_ms"] is not None:
            by_venue[str(t["exchange"])].append(float(t["latency_ms"]))
    for venue, values in sorted(by_venue.items()):
        fig.add_trace(go.Histogram(x=values, name=venue, opacity=0.7, nbinsx=40))
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text="order latency, ms")
    return Chart(
        "latency",
        "Order latency",
        "Submission to final state of each order (leg).",
        _layout(fig, not by_venue),
    )


def daily(run: RunData) -> Chart:
    """The daily performance rows as a table."""
    cols = [
        "date",
        "total_signals",
        "executed_trades",
        "total_pnl",
        "total_fees",
        "net_pnl",
        "sharpe_ratio",
        "max_drawdown",
        "win_rate",
    ]

    def fmt(v: object) -> str:
        return f"{v:,.4g}" if isinstance(v, float) else ("" if v is None else str(v))

    fig = go.Figure(
        go.Table(header={"values": cols}, cells={"values": [[fmt(r[c]) for r in run.daily] for c in cols]})
    )
    return Chart(
        "daily",
        "Daily performance",
        "One row per UTC day of the run.",
        _layout(fig, not run.daily, height=260),
    )


def episodes(run: RunData) -> Chart:
    """Episode outcomes (when the journal has an ``episodes`` table with an outcome column)."""
    column = next((c for c in ("outcome", "state", "status") if run.episodes and c in run.episodes[0]), None)
    outcomes = Counter(str(e[column]) for e in run.episodes) if column else Counter[str]()
    names = [n for n, _ in outcomes.most_common()]
    fig = go.Figure(go.Bar(x=names, y=[outcomes[n] for n in names]))
    return Chart(
        "episodes",
        "Episode outcomes",
        "Final state of each execution episode (leg-risk machine)."
        if column
        else "This journal has no episodes (written by the execution layer's order journal).",
        _layout(fig, not names, height=300),
    )


#: Every chart of the report, in page order.
CHARTS: tuple[Callable[[RunData], Chart], ...] = (
    equity_and_drawdown,
    pnl_breakdown,
    funnel,
    expected_vs_realised,
    spreads,
    inventory,
    latency,
    daily,
    episodes,
)


def build_charts(run: RunData, charts: Iterable[Callable[[RunData], Chart]] = CHARTS) -> list[Chart]:
    """Every chart of ``run``."""
    return [make(run) for make in charts]
