"""The market data recorder: book updates and trades to Parquet files (polars), replayable.

Files are ``<dir>/part-<n>.parquet``, one per batch, each with the columns of
:data:`RECORD_SCHEMA`; :class:`arbot.sources.replay.ReplaySource` reads a directory back.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import polars as pl
from pydantic import Field

from arbot.components import BotContext
from arbot.config import ComponentSettings
from arbot.events import BookUpdate, FxRate, TradeTick
from arbot.sinks.base import BatchingSettings, BatchingSink

__all__ = ["RECORD_SCHEMA", "ParquetRecorder", "events_to_frame"]

_F = pl.Float64
RECORD_SCHEMA: dict[str, Any] = {
    "ts": _F,
    "exchange_ts": _F,
    "venue": pl.Utf8,
    "symbol": pl.Utf8,
    "kind": pl.Utf8,  # "snapshot" | "delta" | "trade" | "fx"
    "bid_px": pl.List(_F),
    "bid_qty": pl.List(_F),
    "ask_px": pl.List(_F),
    "ask_qty": pl.List(_F),
    "price": _F,
    "size": _F,
    "side": pl.Utf8,
}


def _split(levels: Any) -> tuple[list[float], list[float]]:
    arr = np.asarray(levels, dtype=np.float64).reshape(-1, 2)
    return arr[:, 0].tolist(), arr[:, 1].tolist()


def events_to_frame(events: list[Any]) -> pl.DataFrame:
    """Book updates and trades as one DataFrame in the recorder's schema."""
    cols: dict[str, list[Any]] = {k: [] for k in RECORD_SCHEMA}
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
        for key, value in zip(RECORD_SCHEMA, row, strict=True):
            cols[key].append(value)
    return pl.DataFrame(cols, schema=RECORD_SCHEMA)


class ParquetRecorderSettings(BatchingSettings):
    """Folder for the recording (relative to ``output_dir``)."""

    path: str = Field("market")
    batch_size: int = Field(20_000, ge=1)
    flush_interval_s: float = Field(2.0, gt=0)


class ParquetRecorder(BatchingSink[ParquetRecorderSettings]):
    """Records every book update and trade to Parquet for replay."""

    name: ClassVar[str] = "parquet_recorder"
    Settings: ClassVar[type[ComponentSettings]] = ParquetRecorderSettings
    wants_market_data: ClassVar[bool] = True
    wants_results: ClassVar[bool] = False

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self.dir = ctx.output_path / settings.path
        self._part = 0

    def open_store(self) -> None:
        """Create the folder; continue numbering after existing parts."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self._part = len(list(self.dir.glob("part-*.parquet")))

    def write_batch(self, batch: list[Any]) -> None:
        """Write one part file."""
        frame = events_to_frame(batch)
        if frame.height == 0:
            return
        self._part += 1
        path = self.dir / f"part-{self._part:06d}.parquet"
        tmp = path.with_suffix(".tmp")
        frame.write_parquet(tmp, compression="zstd")
        tmp.replace(path)
