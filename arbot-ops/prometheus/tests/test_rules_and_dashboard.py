"""The shipped alert rules pass promtool (syntax and unit tests); the shipped dashboard is build()."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from arbot_prometheus.dashboard import PANELS, build

PKG = Path(__file__).resolve().parents[1]
PROMTOOL = shutil.which("promtool")


@pytest.mark.skipif(
    PROMTOOL is None and not os.environ.get("CI"),
    reason="Debian package prometheus not installed (under CI, which installs it, the test fails instead)",
)
def test_promtool_check_rules_passes():
    res = subprocess.run(
        [str(PROMTOOL), "check", "rules", "arbot.rules.yml"],
        cwd=PKG / "rules",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS: 9 rules found" in res.stdout


@pytest.mark.skipif(
    PROMTOOL is None and not os.environ.get("CI"),
    reason="Debian package prometheus not installed (under CI, which installs it, the test fails instead)",
)
def test_every_alert_fires_in_promtool_unit_tests():
    res = subprocess.run(
        [str(PROMTOOL), "test", "rules", "arbot.rules.test.yml"],
        cwd=PKG / "rules",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_shipped_dashboard_is_the_generated_one():
    shipped = json.loads((PKG / "dashboards" / "arbot.json").read_text())
    assert shipped == build(), "regenerate: python -m arbot_prometheus.dashboard > dashboards/arbot.json"
    targets = [t["expr"] for p in shipped["panels"] for t in p.get("targets", [])]
    assert len(targets) == sum(len(panel.targets) for _, row in PANELS for panel in row)
    ids = [p["id"] for p in shipped["panels"]]
    assert len(ids) == len(set(ids))
