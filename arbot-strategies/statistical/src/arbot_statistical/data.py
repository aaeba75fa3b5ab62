"""Readers for the bar files used to study pairs (the shared real-data set's ``bars/`` folder)."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import polars as pl

__all__ = ["read_bitstamp_daily_closes", "read_lean_quote_mids", "read_lean_quotes"]


def _read_csv(path: Path, skip_rows: int = 0) -> pl.DataFrame:
    raw = Path(path).read_bytes()
    if str(path).endswith(".gz"):
        raw = gzip.decompress(raw)
    return pl.read_csv(io.BytesIO(raw), skip_rows=skip_rows)


def read_lean_quotes(path: str | Path) -> pl.DataFrame:
    """Minute bid/ask bars (LEAN layout) as a long frame: ``ts`` (seconds, bar open time),
    ``exchange``, ``symbol`` (venue spelling, e.g. ``BTCUSD``), ``bid``, ``ask`` (bar closes)."""
    df = _read_csv(Path(path))
    return df.select(
        (pl.col("time_utc_ms") / 1000.0).alias("ts"),
        pl.col("exchange"),
        pl.col("symbol"),
        pl.col("bid_close").cast(pl.Float64).alias("bid"),
        pl.col("ask_close").cast(pl.Float64).alias("ask"),
    ).sort("ts", "exchange", "symbol")


def read_lean_quote_mids(path: str | Path, symbols: list[str] | None = None) -> pl.DataFrame:
    """Minute mid prices, one column per symbol, only minutes where every chosen symbol has a
    quote (``ts`` first, then the symbols in sorted order)."""
    q = read_lean_quotes(path)
    if symbols is not None:
        q = q.filter(pl.col("symbol").is_in(symbols))
    wide = (
        q.with_columns(((pl.col("bid") + pl.col("ask")) / 2.0).alias("mid"))
        .pivot(on="symbol", index="ts", values="mid", aggregate_function="last")
        .drop_nulls()
        .sort("ts")
    )
    cols = sorted(c for c in wide.columns if c != "ts")
    return wide.select("ts", *cols)


def read_bitstamp_daily_closes(path: str | Path) -> pl.DataFrame:
    """Daily closes of the CryptoDataDownload Bitstamp BTC/ETH/LTC file: ``date``, ``BTC``,
    ``ETH``, ``LTC``, only days where all three traded."""
    df = _read_csv(Path(path))
    first = df.columns[0]
    return (
        df.select(
            pl.col(first).alias("date"),
            *(pl.col(f"{c}:close").cast(pl.Float64).alias(c) for c in ("BTC", "ETH", "LTC")),
        )
        .drop_nulls()
        .sort("date")
    )
