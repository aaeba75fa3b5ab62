"""The market data recorder: book updates and trades to Parquet files (polars), replayable.

Files are ``<dir>/part-<n>.parquet``, one per batch, each with the columns of
:func:`record_schema`; :class:`arbot.sources.replay.ReplaySource` reads a directory back.
polars is imported on first use (the ``parquet`` extra of arbot-core).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import Field

from arbot._parquet import require_polars
from arbot.components import BotContext
from arbot.config import ComponentSettings
from arbot.events import BookUpdate, FxRate, TradeTick
from arbot.sinks.base import BatchingSettings, BatchingSink, RunInfo

if TYPE_CHECKING:
    import polars as pl

__all__ = ["ParquetRecorder", "events_to_frame", "record_schema"]


def record_schema() -> dict[str, Any]:
    """Column names and polars dtypes of a recording, in file order."""
    import polars as pl

    f64 = pl.Float64
    return {
        "ts": f64,
        "exchange_ts": f64,
        "venue": pl.Utf8,
        "symbol": pl.Utf8,
        "kind": pl.Utf8,  # "snapshot" | "delta" | "trade" | "fx"
        "bid_px": pl.List(f64),
        "bid_qty": pl.List(f64),
        "ask_px": pl.List(f64),
        "ask_qty": pl.List(f64),
        "price": f64,
        "size": f64,
        "side": pl.Utf8,
    }


def _split(levels: Any) -> tuple[list[float], list[float]]:
    arr = np.asarray(levels, dtype=np.float64).reshape(-1, 2)
    return arr[:, 0].tolist(), arr[:, 1].tolist()


def events_to_frame(events: list[Any]) -> pl.DataFrame:
    """Book updates and trades as one DataFrame in the recorder's schema."""
    import polars as pl

    schema = record_schema()
    cols: dict[str, list[Any]] = {k: [] for k in schema}
    for ev in events:
        row: tuple[Any, ...]
        if isinstance(ev, BookUpdate):
            bp, bq = _split(ev.bids)
            ap, aq = _split(ev.asks)
            row = (
                ev.ts,
                ev.exchange_ts,
                ev.venue,
                ev.symbol,
                "snapshot" if ev.snapshot else "delta",
                bp,
                bq,
                ap,
                aq,
                None,
                None,
                None,
            )
        elif isinstance(ev, TradeTick):
            row = (
                ev.ts,
                ev.exchange_ts,
                ev.venue,
                ev.symbol,
                "trade",
                None,
                None,
                None,
                None,
                ev.price,
                ev.size,
                ev.side.value,
            )
        elif isinstance(ev, FxRate):  # symbol holds the currency, price the units per USD
            row = (ev.ts, None, "", ev.currency, "fx", None, None, None, None, ev.per_usd, None, None)
        else:
            continue
        for key, value in zip(schema, row, strict=True):
            cols[key].append(value)
    return pl.DataFrame(cols, schema=schema)


class ParquetRecorderSettings(BatchingSettings):
    """Folder for the recording (relative to ``output_dir``)."""

    path: str = Field(
        "market",
        description="Folder of the recording, relative to the run directory unless absolute.",
    )
    batch_size: int = Field(20_000, ge=1, description="Events written per Parquet row group.")
    flush_interval_s: float = Field(2.0, gt=0, description="Seconds between writer passes.")


class ParquetRecorder(BatchingSink[ParquetRecorderSettings]):
    """Records every book update and trade to Parquet for replay."""

    name: ClassVar[str] = "parquet_recorder"
    Settings: ClassVar[type[ComponentSettings]] = ParquetRecorderSettings
    wants_market_data: ClassVar[bool] = True
    wants_results: ClassVar[bool] = False

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        require_polars("the parquet_recorder sink")
        super().__init__(settings, ctx)
        self.dir = ctx.output_path / settings.path
        self._part = 0

    def open_store(self) -> None:
        """Create the folder; continue numbering after the highest existing part."""
        self.dir.mkdir(parents=True, exist_ok=True)
        stems = (p.stem.removeprefix("part-") for p in self.dir.glob("part-*.parquet"))
        self._part = max((int(n) for n in stems if n.isdigit()), default=0)

    def write_batch(self, batch: list[Any], run: RunInfo) -> None:
        """Write one part file (market data carries no run id: ``run`` is not recorded)."""
        frame = events_to_frame(batch)
        if frame.height == 0:
            return
        self._part += 1
        path = self.dir / f"part-{self._part:06d}.parquet"
        tmp = path.with_suffix(".tmp")
        frame.write_parquet(tmp, compression="zstd")
        tmp.replace(path)
