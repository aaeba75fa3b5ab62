"""``arbot sweep`` on the reference example, cut to a short window: results equal the same
backtests run one by one, bad grids stop with exit 2, a failing run is recorded and exits 1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from arbot.cli import cli
from arbot_sweep.command import sweep
from arbot_sweep.runner import METRICS
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "spatial_backtest.toml"
#: A short window with frequent dislocations: trades in seconds of market time.
SHORT_SET = ("backtest.duration_s=30", "source.simulator.dislocations_per_hour=720")
SHORT = tuple(a for o in SHORT_SET for a in ("--set", o))


def _invoke(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(sweep, [str(EXAMPLE), *SHORT, "--no-progress", *args], catch_exceptions=False)
    return res.exit_code, res.output


def _one_by_one(overrides: list[str], out: Path) -> dict:  # type: ignore[type-arg]
    """The same backtest through ``arbot backtest --set ...`` (in this process)."""
    summary = out / "summary.json"
    args = ["backtest", str(EXAMPLE), "--no-progress", "--output-dir", str(out), "--json", str(summary)]
    for o in (*SHORT_SET, *overrides):
        args += ["--set", o]
    res = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(summary.read_text())  # type: ignore[no-any-return]


def test_local_sweep_equals_the_same_backtests_one_by_one(tmp_path: Path):
    out = tmp_path / "sweep"
    code, output = _invoke(
        "--grid",
        "executor.latency_ms=20,400",
        "--seeds",
        "1,2",
        "--workers",
        "2",
        "--out",
        str(out),
        "--rank-by",
        "executed",
    )
    assert code == 0, output
    assert "top 4 of 4 runs by executed" in output
    table = pl.read_parquet(out / "results.parquet")
    assert table.height == 4
    assert table["status"].to_list() == ["ok"] * 4
    assert table["executor.latency_ms"].to_list() == [20, 20, 400, 400]
    assert table["backtest.seed"].to_list() == [1, 2, 1, 2]
    assert pl.read_csv(out / "results.csv").height == 4
    runs = json.loads((out / "sweep.json").read_text())["runs"]
    distinct = set()
    for row, run in zip(table.iter_rows(named=True), runs, strict=True):
        assert (out / row["folder"] / "journal.sqlite").is_file()  # each run keeps its journal
        alone = _one_by_one(run["overrides"], tmp_path / f"alone-{row['run']}")
        assert {m: row[m] for m in METRICS} == {m: alone[m] for m in METRICS}, row["folder"]
        distinct.add(tuple(row[m] for m in METRICS))
    assert len(distinct) > 1, "the grid must change the outcome, or the comparison proves nothing"


@pytest.mark.parametrize(
    ("grid", "shown"),
    [
        ("detector.spatial.min_sprad_pct=0.1,0.2", "--grid detector.spatial.min_sprad_pct=0.1"),
        ("backtset.seed=1,2", "--grid backtset.seed=1"),
        ("executor.latency_ms=fast", "--grid executor.latency_ms=fast"),
    ],
)
def test_a_bad_grid_key_or_value_is_exit_2_before_anything_runs(tmp_path: Path, grid: str, shown: str):
    code, output = _invoke("--grid", grid, "--out", str(tmp_path / "sweep"))
    assert code == 2, output
    assert shown in output and "invalid configuration" in output
    assert not (tmp_path / "sweep").exists()


def test_a_used_out_folder_is_refused(tmp_path: Path):
    (tmp_path / "results.parquet").write_text("earlier sweep")
    code, output = _invoke("--grid", "executor.latency_ms=20", "--out", str(tmp_path))
    assert code == 2 and "not empty" in output


def test_ray_missing_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    code, output = _invoke("--grid", "executor.latency_ms=20", "--ray", "auto", "--out", str(tmp_path / "s"))
    assert code == 2, output
    assert "pip install 'arbot-sweep[ray]'" in output
    assert not (tmp_path / "s").exists()


BOOM_PLUGIN = """
from arbot import hookimpl
from arbot.components import Detector


class Boom(Detector):
    name = "boom"

    def on_book(self, venue, symbol, now):
        raise RuntimeError(f"boom on {venue} {symbol}")


@hookimpl
def arbot_register_detectors():
    return [Boom]
"""


def test_a_raising_run_is_recorded_and_the_sweep_exits_1(tmp_path: Path):
    """A detector plugin (installed with a real entry point) raises in one run of two."""
    site = tmp_path / "site"
    (site / "sweep_boom-0.1.dist-info").mkdir(parents=True)
    (site / "sweep_boom.py").write_text(BOOM_PLUGIN)
    (site / "sweep_boom-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: sweep-boom\nVersion: 0.1\n"
    )
    (site / "sweep_boom-0.1.dist-info" / "entry_points.txt").write_text("[arbot]\nsweep_boom = sweep_boom\n")
    out = tmp_path / "sweep"
    cmd = [
        sys.executable,
        "-m",
        "arbot",
        "sweep",
        str(EXAMPLE),
        "--set",
        "backtest.duration_s=20",
        "--grid",
        "detector.boom.enabled=false,true",
        "--workers",
        "1",
        "--out",
        str(out),
        "--no-progress",
    ]
    env = dict(os.environ, PYTHONPATH=str(site))
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "1 of 2 runs failed" in res.stderr and "boom on" in res.stderr
    table = pl.read_parquet(out / "results.parquet")
    assert table["status"].to_list() == ["ok", "failed"]
    assert table["error"][0] is None
    assert "RuntimeError: boom on" in table["error"][1]
    assert table["events"][0] > 0
    assert "top 1 of 2 runs" in res.stdout  # the failed run is not ranked


def test_ctrl_c_keeps_the_finished_runs_results_and_exits_1(tmp_path: Path):
    """SIGINT to the sweep once its second run has started: the finished runs are in the results
    table (their journals kept), the others are 'failed' as interrupted, and the exit code is 1."""
    out = tmp_path / "sweep"
    cmd = [
        *(sys.executable, "-m", "arbot", "sweep", str(EXAMPLE), "--workers", "1", "--out", str(out)),
        *("--grid", "backtest.duration_s=20,600,601,602,603,604", "--no-progress"),
    ]
    proc = subprocess.Popen(  # Ctrl-C as a terminal sends it, with Python's default SIGINT handling
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        while not (out / "run-1" / "journal.sqlite").exists():  # run-0 finished (one worker)
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 1, stdout + stderr
    assert "interrupted:" in stderr and "Traceback" not in stderr
    table = pl.read_csv(out / "results.csv")
    assert table.height == 6 and table["status"][0] == "ok" and table["events"][0] > 0
    interrupted = table.filter(pl.col("status") == "failed")["error"].to_list()
    assert interrupted and all(e.startswith("interrupted") for e in interrupted)
    assert (out / "run-0" / "journal.sqlite").exists()


def test_a_huge_grid_is_exit_2_and_random_checks_only_the_drawn_points(tmp_path: Path):
    """Two 100,000-value ranges: 10^10 runs are refused at once (not built in memory); with
    --random 1 only the drawn point's values are checked (not 200,000 bots) and it runs."""
    huge = ("--grid", "backtest.seed=1:100000", "--grid", "executor.latency_ms=1:100000")
    code, output = _invoke(*huge, "--out", str(tmp_path / "a"))
    assert code == 2 and "10,000,000,000 runs (at most 100,000)" in output, output
    assert not (tmp_path / "a").exists()
    code, output = _invoke(*huge, "--random", "1", "--workers", "1", "--out", str(tmp_path / "b"))
    assert code == 0, output
    assert pl.read_parquet(tmp_path / "b" / "results.parquet").height == 1


def test_an_out_folder_that_cannot_be_created_is_exit_2(tmp_path: Path):
    (tmp_path / "file").write_text("not a folder")
    code, output = _invoke("--grid", "executor.latency_ms=20", "--out", str(tmp_path / "file" / "sweep"))
    assert code == 2 and "cannot create the folder" in output, output
