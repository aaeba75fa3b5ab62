"""Configurations shared by the ClickHouse tests (as fixtures returning builders)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Builder = Callable[..., dict[str, Any]]


def _sinks(enabled: list[str], settings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"enabled": enabled, **settings}


def _source(name: str, settings: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, name: settings}


@pytest.fixture
def ch_config(tmp_path: Path) -> Builder:
    """``ch_config(sink_settings=None, source=None)``: a two-venue simulator backtest an hour ago
    (inside every TTL), two minutes long, recording to ``clickhouse`` when sink settings are given,
    or reading from the given source table."""

    def build(sink: dict[str, Any] | None = None, source: dict[str, Any] | None = None) -> dict[str, Any]:
        sim = {
            "venues": ["a", "b"],
            "duration_s": 120,
            "start_ts": float(int(time.time()) - 3600),
            "trades_per_second": 5.0,
        }
        return {
            "output_dir": str(tmp_path / "out"),
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["a", "b"]},
            "symbols": ["BTC/USDT"],
            "source": _source(*source) if source else _source("simulator", sim),
            "detector": {"spatial": {"enabled": True, "min_spread_pct": 0.25, "min_depth_usd": 100}},
            "sinks": _sinks(["clickhouse"], {"clickhouse": sink}) if sink is not None else _sinks([], {}),
        }

    return build
