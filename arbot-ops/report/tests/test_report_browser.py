"""`arbot backtest --report` writes a report that headless Chromium renders offline without errors.

Debian's ``chromium`` is driven by playwright (which cannot download its own browser here). Every
request the page makes beyond its own file is recorded and fails the test: the report must not
need the network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Debian package chromium not installed (under CI, which installs it, the test fails instead)",
)


def test_backtest_report_renders_every_chart_in_headless_chromium(tmp_path):
    from playwright.sync_api import sync_playwright

    run_dir = tmp_path / "run"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "arbot",
            "backtest",
            "examples/spatial_backtest.toml",
            "--no-progress",
            "--output-dir",
            str(run_dir),
            "--report",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    report = run_dir / "report.html"
    assert f"report: {report}" in res.stdout.replace("\n", "")

    errors: list[str] = []
    external: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "request",
                lambda r: external.append(r.url) if not r.url.startswith(("file:", "data:")) else None,
            )
            page.goto(report.as_uri(), wait_until="load")
            page.wait_for_function(
                "() => [...document.querySelectorAll('.plotly-graph-div')]"
                ".every(d => d.querySelector('svg.main-svg'))",
                timeout=60_000,
            )
            charts = page.eval_on_selector_all(
                ".plotly-graph-div", "ds => ds.map(d => [d.id, d.querySelectorAll('svg.main-svg').length])"
            )
            # the funnel's numbers are drawn from the journal
            funnel_text = page.inner_text("#chart-funnel")
            equity_points = page.evaluate("() => document.getElementById('chart-equity').data[0].y.length")
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()

    assert not errors, errors
    assert not external, f"the report fetched from the network: {external[:5]}"
    ids = [c[0] for c in charts]
    assert ids == [
        f"chart-{k}"
        for k in ("equity", "pnl", "funnel", "edge", "spreads", "inventory", "latency", "daily", "episodes")
    ]
    assert all(n >= 1 for _, n in charts)
    assert "detected" in funnel_text and "executed" in funnel_text
    assert equity_points > 2
    assert shot.stat().st_size > 50_000
    shutil.copyfile(shot, ROOT / "docs" / "img" / "report.png")
