"""Assembling the charts into one self-contained HTML page (plotly.js inlined once)."""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path

import plotly.io as pio
from arbot.errors import ArbotError
from plotly.offline import get_plotlyjs

from arbot_report.charts import build_charts
from arbot_report.journal import RunData, load_run

__all__ = ["render_report", "write_report"]

_CSS = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1280px; padding: 1rem 2rem;
       color: #222; }
h1 { margin-bottom: 0.2rem; } .meta { color: #666; margin-top: 0; }
.kpis { display: flex; flex-wrap: wrap; gap: 0.8rem; margin: 1rem 0; }
.kpi { border: 1px solid #ddd; border-radius: 6px; padding: 0.5rem 0.9rem; min-width: 9rem; }
.kpi b { display: block; font-size: 1.3rem; } section { margin: 1.6rem 0; }
.caption { color: #555; font-size: 0.9rem; margin: 0.2rem 0 0.4rem; }
"""


def _kpis(run: RunData) -> list[tuple[str, str]]:
    status = Counter(str(s["status"]) for s in run.signals)
    pnl = sum(float(s["actual_pnl"] or 0.0) for s in run.signals if s["status"] == "EXECUTED")
    fees = sum(float(d["total_fees"] or 0.0) for d in run.daily)
    wins = sum(1 for s in run.signals if s["status"] == "EXECUTED" and float(s["actual_pnl"] or 0.0) > 0)
    return [
        ("net PnL", f"{pnl:,.2f} USD"),
        ("fees", f"{fees:,.2f} USD"),
        ("opportunities", f"{len(run.signals):,}"),
        ("executed", f"{status['EXECUTED']:,}"),
        ("rejected", f"{status['REJECTED']:,}"),
        ("win rate", f"{wins / status['EXECUTED'] * 100:.1f} %" if status["EXECUTED"] else "n/a"),
        ("orders", f"{len(run.trades):,}"),
    ]


def render_report(run: RunData) -> str:
    """The report of ``run`` as one HTML document that needs no network."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>ArBot report {html.escape(run.run_id)}</title>",
        f"<style>{_CSS}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body>",
        f"<h1>ArBot {html.escape(run.mode.lower())} run {html.escape(run.run_id)}</h1>",
        f'<p class="meta">started {html.escape(run.started_at)}'
        + (f" · config {html.escape(run.config_file)}" if run.config_file else "")
        + "</p>",
        '<div class="kpis">'
        + "".join(f'<div class="kpi">{html.escape(k)}<b>{html.escape(v)}</b></div>' for k, v in _kpis(run))
        + "</div>",
    ]
    for chart in build_charts(run):
        div = pio.to_html(
            chart.figure,
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{chart.key}",
            config={"responsive": True, "displaylogo": False},
        )
        parts.append(
            f'<section id="{chart.key}"><h2>{html.escape(chart.title)}</h2>'
            f'<p class="caption">{html.escape(chart.caption)}</p>{div}</section>'
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(run_dir: Path, run_id: str | None = None, output: Path | None = None) -> Path:
    """Write the report of a run in ``run_dir`` (default ``run_dir/report.html``); returns its path."""
    run = load_run(run_dir, run_id)
    path = output or run_dir / "report.html"
    html = render_report(run)
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise ArbotError(f"cannot write the report to {path}: {exc.strerror or exc}") from None
    return path
