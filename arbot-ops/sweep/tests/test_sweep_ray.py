"""``arbot sweep --ray auto`` really starts a local Ray cluster and runs the backtests on it.

Needs Ray, which ``arbot-sweep[test]`` installs (so ``nox -s tests`` has it). Without Ray the
test is skipped on a developer's machine and fails under CI.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import polars as pl
import pytest
from arbot.bot import Bot
from arbot.config import load_config
from arbot_sweep.command import sweep
from arbot_sweep.runner import METRICS
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "spatial_backtest.toml"

pytestmark = [
    pytest.mark.ray,
    pytest.mark.skipif(
        importlib.util.find_spec("ray") is None and not os.environ.get("CI"),
        reason="Ray not installed: pip install 'arbot-sweep[test]' (under CI, which installs it, it fails)",
    ),
]


def test_ray_auto_starts_a_local_cluster_and_runs_the_grid(tmp_path: Path):
    out = tmp_path / "sweep"
    args = [
        str(EXAMPLE),
        "--set",
        "backtest.duration_s=30",
        "--set",
        "source.simulator.dislocations_per_hour=720",
        "--grid",
        "executor.latency_ms=20,400",
        "--ray",
        "auto",
        "--workers",
        "2",
        "--out",
        str(out),
        "--no-progress",
    ]
    res = CliRunner().invoke(sweep, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    import ray

    assert not ray.is_initialized()  # the sweep shut its cluster down
    table = pl.read_parquet(out / "results.parquet")
    assert table["status"].to_list() == ["ok", "ok"]
    for row in table.iter_rows(named=True):
        assert (out / row["folder"] / "journal.sqlite").is_file()
        overrides = [
            "backtest.duration_s=30",
            "source.simulator.dislocations_per_hour=720",
            f"executor.latency_ms={row['executor.latency_ms']}",
        ]
        cfg = load_config(EXAMPLE, overrides)
        cfg.output_dir = str(tmp_path / f"alone-{row['run']}")
        alone = Bot(cfg, mode="backtest").run_backtest()
        assert {m: row[m] for m in METRICS} == {m: alone[m] for m in METRICS}
    assert table["executed"][0] != table["executed"][1] or table["pnl_usd"][0] != table["pnl_usd"][1]
