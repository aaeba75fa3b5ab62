"""Replay of recorded market data: Parquet written by ArBot, or NDJSON captures.

The NDJSON capture format is the one of ``../shared/data`` (``local_ts`` or ``local_ts_ns``,
``dir``, ``msg``; REST snapshot lines with ``url`` and ``body``). Messages are handed to the
venue connector's :class:`~arbot.components.ReplayDecoder`, which applies the venue's own
synchronisation rules, so a replay exercises the same parser as live trading.
"""

from __future__ import annotations

import asyncio
import gzip
import heapq
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any, ClassVar, Literal, cast

import msgspec
import polars as pl
from pydantic import Field

from arbot.components import BotContext, Connector, MarketEvent, ReplayDecoder, Source
from arbot.config import ComponentSettings
from arbot.errors import ConfigError, DataError
from arbot.events import BookUpdate, FxRate, Side, TradeTick

__all__ = ["ReplaySettings", "ReplaySource", "iter_capture", "read_parquet_events"]


class ReplaySettings(ComponentSettings):
    """Settings of the replay source (``[source.replay]``)."""

    format: Literal["parquet", "capture"] = "parquet"
    path: list[str] = Field(description="Parquet folder/files, or NDJSON capture files (.gz ok)")
    venue: str | None = Field(None, description="capture format: the venue whose connector decodes")
    symbols: list[str] | None = Field(None, description="only these unified symbols")
    speed: float = Field(1.0, gt=0, description="paper mode: market seconds per wall second")


class _CaptureLine(msgspec.Struct):
    dir: str | None = None
    msg: msgspec.Raw = msgspec.Raw()
    url: str | None = None
    body: msgspec.Raw = msgspec.Raw()
    local_ts: float | None = None
    local_ts_ns: int | None = None


_line_decoder = msgspec.json.Decoder(_CaptureLine)
_any_decoder = msgspec.json.Decoder()


def _open(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def iter_capture(path: Path) -> Iterator[tuple[float, str, Any, str | None]]:
    """(ts, kind, payload, url) per line of an NDJSON capture; kind is "in", "out", "open" or "rest".

    Malformed lines raise :class:`~arbot.errors.DataError` naming the file and line.
    """
    with _open(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                line = _line_decoder.decode(raw)
                ts = line.local_ts if line.local_ts is not None else (line.local_ts_ns or 0) / 1e9
                if len(line.body):
                    yield ts, "rest", _any_decoder.decode(line.body), line.url
                elif len(line.msg):
                    yield ts, line.dir or "in", _any_decoder.decode(line.msg), line.url
                else:
                    yield ts, line.dir or "open", None, line.url
            except msgspec.DecodeError as exc:
                raise DataError(f"{path}:{lineno}: malformed capture line: {exc}") from None


def read_parquet_events(paths: list[Path], symbols: set[str] | None = None) -> Iterator[MarketEvent]:
    """Events from Parquet files written by the recorder, in time order."""
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.glob("*.parquet")) if p.is_dir() else [p])
    if not files:
        raise DataError(f"no Parquet files in {', '.join(map(str, paths))}")
    frame = pl.concat([pl.read_parquet(f) for f in files], how="vertical").sort("ts", maintain_order=True)
    if symbols:
        frame = frame.filter(pl.col("symbol").is_in(sorted(symbols)) | (pl.col("kind") == "fx"))
    for row in frame.iter_rows():
        ts, ets, venue, symbol, kind, bp, bq, ap, aq, price, size, side = row
        if kind == "trade":
            yield TradeTick(ts, venue, symbol, price, size, Side(side), ets)
        elif kind == "fx":
            yield FxRate(ts, symbol, price)
        else:
            yield BookUpdate(
                ts,
                venue,
                symbol,
                list(zip(bp, bq, strict=True)),
                list(zip(ap, aq, strict=True)),
                kind == "snapshot",
                ets,
            )


class ReplaySource(Source[ReplaySettings]):
    """Replays a recording: ArBot's Parquet, or raw NDJSON captures through a venue decoder."""

    name: ClassVar[str] = "replay"
    Settings: ClassVar[type[ComponentSettings]] = ReplaySettings

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self.paths = [ctx.config.resolve_path(p) for p in settings.path]
        missing = [str(p) for p in self.paths if not p.exists()]
        if missing:
            raise ConfigError(f"source.replay.path: no such file or folder: {', '.join(missing)}")
        self._decoder: ReplayDecoder | None = None
        if settings.format == "capture":
            if not settings.venue:
                raise ConfigError("source.replay.venue is required for format = 'capture'")
            if ctx.host is None:
                raise ConfigError("capture replay needs the plugin registry to find the connector")
            cls = ctx.host.resolve("connector", settings.venue)
            assert issubclass(cls, Connector)
            self._decoder = cls.replay_decoder()

    def venues(self) -> list[str]:
        """The venue of a capture, or the configured venues."""
        if self.settings.venue:
            return [self.settings.venue]
        return super().venues()

    def events(self) -> Iterator[MarketEvent]:
        """Recorded events in time order."""
        symbols = set(self.settings.symbols) if self.settings.symbols else None
        if self._decoder is None:
            yield from read_parquet_events(self.paths, symbols)
            return
        decoder = self._decoder
        streams = [iter_capture(p) for p in self.paths]
        for ts, kind, payload, url in heapq.merge(*streams, key=lambda r: r[0]):
            if kind == "rest":
                evs = decoder.snapshot(url or "", payload, ts)
            elif kind == "in":
                evs = decoder.feed(payload, ts)
            else:
                continue
            for ev in evs:
                if symbols is None or isinstance(ev, FxRate) or ev.symbol in symbols:
                    yield ev

    async def aevents(self) -> AsyncIterator[MarketEvent]:
        """Recorded events paced at ``speed`` (timestamps are the recorded ones)."""
        wall0 = time.monotonic()
        first: float | None = None
        for ev in self.events():
            if first is None:
                first = ev.ts
            delay = (ev.ts - first) / self.settings.speed - (time.monotonic() - wall0)
            if delay > 0:
                await asyncio.sleep(delay)
            yield ev
