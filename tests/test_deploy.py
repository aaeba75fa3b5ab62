"""The docker-compose setup (not run here: no Docker) at least names real things: its bot
config validates with the storage plugins installed, and the bot migrates before it runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_bot_migrates_then_runs_a_valid_config() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "clickhouse", "redis", "prometheus", "grafana", "arbot"} <= set(services)
    assert services["postgres"]["image"] == "postgres:16" and services["redis"]["image"].startswith("redis:7")
    assert services["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:24")
    command = " ".join(services["arbot"]["entrypoint"])
    assert "arbot db migrate /app/configs/bot.toml && exec arbot run /app/configs/bot.toml" in command
    config = ROOT / "deploy" / "configs" / "bot.toml"
    res = subprocess.run(
        [sys.executable, "-m", "arbot", "config", "validate", str(config)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "3 sink(s)" in res.stdout
