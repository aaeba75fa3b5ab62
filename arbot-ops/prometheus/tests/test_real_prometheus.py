"""A real Prometheus server scrapes a paper run against three venue emulators.

The test starts Debian's ``prometheus`` binary itself (loopback, a free port, storage in the
test's tmp dir, the package's alert rules loaded) and ``arbot run`` with the prometheus sink on
another free port. While the bot runs, every PromQL target of every dashboard panel and the
query side of every alert rule must return data through Prometheus' HTTP API, and every rule
must evaluate without error.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from arbot_prometheus.dashboard import PANELS

PKG = Path(__file__).resolve().parents[1]
ROOT = PKG.parents[1]
RULES = PKG / "rules" / "arbot.rules.yml"
PROMETHEUS = shutil.which("prometheus")
pytestmark = pytest.mark.skipif(
    PROMETHEUS is None and not os.environ.get("CI"),
    reason="Debian package prometheus not installed (under CI, which installs it, the test fails instead)",
)

#: `<query> <op> <threshold>`: the form every alert rule is written in.
ALERT_FORM = re.compile(r"^(?P<query>.+?)\s*(?P<op>>|<|==|!=|>=|<=)\s*(?P<threshold>-?[0-9.]+)$", re.S)


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def paper_config(tmp_path: Path, metrics_port: int) -> Path:
    """examples/paper_emulated.toml (three venue emulators, spatial on paper) plus the prometheus sink."""
    text = (ROOT / "examples" / "paper_emulated.toml").read_text()
    text = text.replace('output_dir = "../runs/paper_emulated"', f'output_dir = "{tmp_path / "run"}"')
    text = text.replace(
        'enabled = ["sqlite_journal"]',
        f'enabled = ["sqlite_journal", "prometheus"]\n\n[sinks.prometheus]\nport = {metrics_port}\n',
    )
    path = tmp_path / "paper.toml"
    path.write_text(text)
    return path


def _api(port: int, path: str, **params: str) -> Any:
    url = f"http://127.0.0.1:{port}/api/v1/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=5) as resp:
        body = json.load(resp)
    assert body["status"] == "success", body
    return body["data"]


def _query(port: int, expr: str) -> list[dict[str, Any]]:
    data = _api(port, "query", query=expr)
    assert data["resultType"] == "vector", (expr, data)
    return list(data["result"])


def _finite(result: list[dict[str, Any]]) -> list[float]:
    return [float(r["value"][1]) for r in result if math.isfinite(float(r["value"][1]))]


def _dashboard_targets() -> list[str]:
    return [expr for _, row in PANELS for panel in row for expr, _ in panel.targets]


def _alert_rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def _wait(what: str, check: Any, timeout: float, procs: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            assert p.poll() is None, f"{p.args[0]} exited early while waiting for {what}"
        try:
            if check():
                return
        except (OSError, AssertionError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def prometheus_and_bot(tmp_path: Path):
    metrics_port, prom_port = free_port(), free_port()
    cfg = paper_config(tmp_path, metrics_port)
    prom_cfg = tmp_path / "prometheus.yml"
    prom_cfg.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(RULES)],
                "scrape_configs": [
                    {"job_name": "arbot", "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}]}
                ],
            }
        )
    )
    bot_log = (tmp_path / "bot.log").open("w")
    bot = subprocess.Popen(
        [sys.executable, "-m", "arbot.cli", "run", str(cfg), "--duration", "90"],
        cwd=ROOT,
        stdout=bot_log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    prom_log = (tmp_path / "prometheus.log").open("w")
    prom = subprocess.Popen(
        [
            str(PROMETHEUS),
            f"--config.file={prom_cfg}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
            "--log.level=warn",
        ],
        stdout=prom_log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield bot, prom, prom_port, tmp_path, metrics_port
    finally:
        for p in (bot, prom):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        bot_log.close()
        prom_log.close()


def test_every_dashboard_and_alert_expression_returns_data_from_a_scraped_paper_run(prometheus_and_bot):
    bot, prom, port, tmp_path, metrics_port = prometheus_and_bot
    procs = [bot, prom]

    def ready() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2) as r:
            return r.status == 200

    _wait("prometheus ready", ready, 30, procs)
    _wait("the arbot target up", lambda: _finite(_query(port, 'up{job="arbot"}')) == [1.0], 60, procs)
    # enough scrapes for rate() over [1m] and at least one executed opportunity and failed order series
    _wait(
        "executions and 10 scrapes",
        lambda: (
            sum(_finite(_query(port, 'arbot_executions_total{outcome="executed"}'))) > 0
            and _finite(_query(port, 'count_over_time(up{job="arbot"}[1m])')) >= [10.0]
        ),
        60,
        procs,
    )
    empty = [expr for expr in _dashboard_targets() if not _finite(_query(port, expr))]
    assert not empty, f"dashboard targets without data: {empty}"

    rules = _alert_rules()
    assert len(rules) >= 9
    for rule in rules:
        m = ALERT_FORM.match(rule["expr"].strip())
        assert m, f"alert {rule['alert']} is not written as `<query> <op> <threshold>`"
        assert _finite(_query(port, m["query"])), f"alert {rule['alert']}: {m['query']} returns no data"

    def rules_evaluated() -> bool:
        groups = _api(port, "rules")["groups"]
        loaded = [r for g in groups for r in g["rules"]]
        return len(loaded) == len(rules) and all(
            r["health"] == "ok" and not r["lastEvaluation"].startswith("0001") for r in loaded
        )

    _wait("every alert rule evaluated without error", rules_evaluated, 20, procs)
    # sanity of the values themselves: the emulated books are live and their ages are fresh
    live = _finite(_query(port, "arbot_book_live"))
    assert live and all(v == 1.0 for v in live)
    ages = _finite(_query(port, "arbot_book_age_seconds"))
    assert len(ages) == 6 and max(ages) < 10
    messages = _finite(_query(port, "sum(arbot_connector_messages_total)"))
    assert messages and messages[0] > 100

    # the live exposition passes promtool's lint (naming conventions) too
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as resp:
        exposition = resp.read().decode()
    lint = subprocess.run(
        [str(Path(str(PROMETHEUS)).with_name("promtool")), "check", "metrics"],
        input=exposition,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr

    bot.send_signal(signal.SIGTERM)
    assert bot.wait(timeout=60) == 0, (tmp_path / "bot.log").read_text()[-3000:]
    assert "paper summary" in (tmp_path / "bot.log").read_text()
