"""Replay of recorded market data: Parquet written by ArBot, or NDJSON captures.

The NDJSON capture format is the one of ``../shared/data`` (``local_ts`` or ``local_ts_ns``,
``dir``, ``msg``; REST snapshot lines with ``url`` and ``body``). Messages are handed to the
venue connector's :class:`~arbot.components.ReplayDecoder`, which applies the venue's own
synchronisation rules, so a replay exercises the same parser as live trading.
"""

from __future__ import annotations

import asyncio
import collections
import gzip
import heapq
import logging
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any, ClassVar, Literal, cast

import msgspec
from pydantic import Field

from arbot._parquet import require_polars
from arbot.components import BotContext, Connector, MarketEvent, ReplayDecoder, Source
from arbot.config import ComponentSettings
from arbot.errors import ConfigError, DataError
from arbot.events import BookUpdate, FxRate, Side, TradeTick

__all__ = ["ReplaySettings", "ReplaySource", "iter_capture", "iter_capture_lines", "read_parquet_events"]

log = logging.getLogger("arbot.sources.replay")


class ReplaySettings(ComponentSettings):
    """Settings of the replay source (``[source.replay]``)."""

    format: Literal["parquet", "capture"] = Field(
        "parquet",
        description=(
            "`parquet`: ArBot recordings; `capture`: raw NDJSON captures decoded by a venue's "
            "connector."
        ),
    )
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


def iter_capture_lines(path: Path) -> Iterator[tuple[float, str, Any, str | None, int]]:
    """(ts, kind, payload, url, line number) per line of an NDJSON capture.

    A malformed line, a ``.gz`` file that is not gzip or is truncated, or an unreadable file
    raises :class:`~arbot.errors.DataError` naming the file and the line.
    """
    lineno = 0
    try:
        with _open(path) as fh:
            for lineno, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                try:
                    line = _line_decoder.decode(raw)
                    ts = line.local_ts if line.local_ts is not None else (line.local_ts_ns or 0) / 1e9
                    if len(line.body):
                        yield ts, "rest", _any_decoder.decode(line.body), line.url, lineno
                    elif len(line.msg):
                        yield ts, line.dir or "in", _any_decoder.decode(line.msg), line.url, lineno
                    else:
                        yield ts, line.dir or "open", None, line.url, lineno
                except msgspec.DecodeError as exc:
                    raise DataError(f"{path}:{lineno}: malformed capture line: {exc}") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        after = f" after line {lineno}" if lineno else ""
        raise DataError(f"{path}{after}: not a readable gzip file (corrupt or truncated): {exc}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None


def iter_capture(path: Path) -> Iterator[tuple[float, str, Any, str | None]]:
    """(ts, kind, payload, url) per line of an NDJSON capture; kind is "in", "out", "open" or "rest".

    Malformed lines raise :class:`~arbot.errors.DataError` naming the file and line.
    """
    for ts, kind, payload, url, _ in iter_capture_lines(path):
        yield ts, kind, payload, url


#: Columns of ArBot's Parquet recordings, in order.
PARQUET_COLUMNS = (
    "ts", "exchange_ts", "venue", "symbol", "kind", "bid_px", "bid_qty", "ask_px", "ask_qty",
    "price", "size", "side",
)


def read_parquet_events(paths: list[Path], symbols: set[str] | None = None) -> Iterator[MarketEvent]:
    """Events from Parquet files written by the recorder, in time order.

    A file that is not Parquet, or lacks the recorder's columns, raises
    :class:`~arbot.errors.DataError` naming the file and what is missing.
    """
    require_polars("Parquet replay")
    import polars as pl

    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.glob("*.parquet")) if p.is_dir() else [p])
    if not files:
        raise DataError(f"no Parquet files in {', '.join(map(str, paths))}")
    frames = []
    for f in files:
        try:
            frame = pl.read_parquet(f)
        except Exception as exc:  # polars raises several error types for a bad file
            raise DataError(f"{f}: not a readable Parquet file: {type(exc).__name__}: {exc}") from None
        missing = [c for c in PARQUET_COLUMNS if c not in frame.columns]
        if missing:
            raise DataError(
                f"{f}: not an ArBot recording: missing columns {', '.join(missing)} "
                f"(expected {', '.join(PARQUET_COLUMNS)})"
            )
        frames.append(frame.select(PARQUET_COLUMNS))
    frame = pl.concat(frames, how="vertical").sort("ts", maintain_order=True)
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
        self._counters: collections.Counter[str] = collections.Counter()
        #: Problems that did not stop the replay (an empty input); the summary shows them.
        self.warnings: list[str] = []
        if settings.format == "parquet":
            require_polars("source replay with format = 'parquet'")
        if settings.format == "capture":
            if not settings.venue:
                raise ConfigError("source.replay.venue is required for format = 'capture'")
            if ctx.host is None:
                raise ConfigError("capture replay needs the plugin registry to find the decoder")
            decoder_cls = ctx.host.decoders().get(settings.venue)
            if decoder_cls is not None:
                self._decoder = decoder_cls()
            else:
                cls = ctx.host.resolve("connector", settings.venue)
                if not issubclass(cls, Connector):
                    raise ConfigError(f"source.replay.venue: {settings.venue!r} is not a connector")
                self._decoder = cls.replay_decoder()

    def venues(self) -> list[str]:
        """The venue of a capture, or the configured venues."""
        if self.settings.venue:
            return [self.settings.venue]
        return super().venues()

    def events(self) -> Iterator[MarketEvent]:
        """Recorded events in time order; counters in :meth:`stats`, an empty input warns."""
        symbols = set(self.settings.symbols) if self.settings.symbols else None
        counters = self._counters
        last_ts = -float("inf")
        source = read_parquet_events(self.paths, symbols) if self._decoder is None else self._decoded(symbols)
        for ev in source:
            if ev.ts < last_ts:
                counters["backwards_timestamps"] += 1
            else:
                last_ts = ev.ts
            counters["events"] += 1
            yield ev
        if counters["events"] == 0:
            warning = f"replay of {', '.join(map(str, self.paths))} produced no events"
            self.warnings.append(warning)
            log.warning(warning)

    def _decoded(self, symbols: set[str] | None) -> Iterator[MarketEvent]:
        decoder = self._decoder
        assert decoder is not None
        counters = self._counters
        streams = [((ts, kind, payload, url, n, p) for ts, kind, payload, url, n in iter_capture_lines(p))
                   for p in self.paths]
        for ts, kind, payload, url, lineno, path in heapq.merge(*streams, key=lambda r: r[0]):
            counters["lines"] += 1
            try:
                if kind == "rest":
                    evs = decoder.snapshot(url or "", payload, ts)
                elif kind == "in":
                    evs = decoder.feed(payload, ts)
                else:
                    counters["lines_skipped"] += 1
                    continue
            except DataError as exc:
                raise DataError(f"{path}:{lineno}: {exc}") from None
            except Exception as exc:  # a decoder meeting a message of the wrong shape
                raise DataError(
                    f"{path}:{lineno}: the {self.settings.venue} decoder cannot read this message: "
                    f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                ) from None
            for ev in evs:
                if symbols is None or isinstance(ev, FxRate) or ev.symbol in symbols:
                    yield ev

    def stats(self) -> dict[str, int]:
        """lines, events, lines_skipped, backwards_timestamps, and the decoder's gaps/resyncs."""
        out = dict(self._counters)
        if self._decoder is not None:
            out.update(self._decoder.stats())
        return out

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
