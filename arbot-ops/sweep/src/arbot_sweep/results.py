"""The results of a sweep as one table: a row per run with its parameters, status and metrics.

Written as ``results.parquet`` (and ``results.csv``) in the sweep's folder. Parameter columns
keep their type when every value of a column has one (integers, numbers, booleans, instants);
otherwise the column holds the values as text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from arbot_sweep.grid import SweepPlan
from arbot_sweep.runner import METRICS, RunOutcome

__all__ = ["STATUS_FAILED", "STATUS_OK", "results_table", "top_runs", "write_results"]

STATUS_OK, STATUS_FAILED = "ok", "failed"


def _column(values: list[Any]) -> pl.Series | list[Any]:
    """A parameter column: typed when the values agree on a type, else their text."""
    kinds = {type(v) for v in values}
    if kinds <= {bool} or kinds <= {int} or kinds <= {str} or kinds <= {datetime}:
        return values
    if kinds <= {int, float}:
        return [float(v) for v in values]
    return [v if isinstance(v, str) else json.dumps(v, default=str) for v in values]


def results_table(plan: SweepPlan, outcomes: Sequence[RunOutcome]) -> pl.DataFrame:
    """One row per run of ``plan`` (in run order) from its ``outcomes``; ``folder`` is the run's
    folder (its journal) inside the sweep's folder."""
    by_index = {o.index: o for o in outcomes}
    runs = plan.runs
    data: dict[str, Any] = {
        "run": [r.index for r in runs],
        "folder": [Path(by_index[r.index].output_dir).name for r in runs],
    }
    for key in plan.param_keys:
        data[key] = _column([r.params[key] for r in runs])
    data["status"] = [STATUS_OK if by_index[r.index].ok else STATUS_FAILED for r in runs]
    data["error"] = [by_index[r.index].error for r in runs]
    for metric in METRICS:
        data[metric] = [by_index[r.index].metrics.get(metric) for r in runs]
    data["run_id"] = [by_index[r.index].run_id for r in runs]
    schema = {"edge_capture": pl.Float64, "win_rate": pl.Float64, "sharpe": pl.Float64}
    frame = pl.DataFrame(data, schema_overrides={k: v for k, v in schema.items() if k in data}, strict=False)
    return frame.with_columns(pl.col(c).cast(pl.Float64) for c in METRICS if frame.schema[c] == pl.Null)


def write_results(frame: pl.DataFrame, out: Path) -> list[Path]:
    """Write the table as Parquet and CSV into ``out``; the files written."""
    parquet, csv = out / "results.parquet", out / "results.csv"
    frame.write_parquet(parquet)
    frame.write_csv(csv)
    return [parquet, csv]


def top_runs(frame: pl.DataFrame, rank_by: str, n: int, ascending: bool = False) -> pl.DataFrame:
    """The ``n`` successful runs best by ``rank_by`` (largest first unless ``ascending``);
    ties and missing values keep run order, missing values last."""
    ok = frame.filter(pl.col("status") == STATUS_OK)
    return ok.sort([rank_by, "run"], descending=[not ascending, False], nulls_last=True).head(n)
