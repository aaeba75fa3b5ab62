"""Sinks (batching, store outage, spill and replay) and the replay sources."""

from __future__ import annotations

import gzip
import json
from typing import Any, ClassVar

import pytest
from arbot import hookimpl
from arbot.bot import Bot
from arbot.components import Connector, MarketEvent, ReplayDecoder
from arbot.errors import DataError
from arbot.events import BookUpdate, Side, TradeTick
from arbot.market import MarketInfo
from arbot.sinks.base import BatchingSink, RunInfo
from arbot.sinks.parquet_recorder import ParquetRecorder


class FlakyStore(BatchingSink):
    """A store that is down until told otherwise; what it wrote is kept in memory."""

    name: ClassVar[str] = "flaky"
    up = False
    written: ClassVar[list[Any]] = []

    def write_batch(self, batch: list[Any], run: RunInfo) -> None:
        if not FlakyStore.up:
            raise ConnectionError("store is down")
        FlakyStore.written.extend(batch)


class FlakyPlugin:
    @hookimpl
    def arbot_register_sinks(self):
        return [FlakyStore]


def _bot(make_config, sinks, settings=None):
    cfg = make_config(
        {
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["a", "b"]},
            "symbols": ["BTC/USDT"],
            "source": {"name": "simulator", "simulator": {"venues": ["a", "b"], "duration_s": 30}},
            "detector": {"spatial": {"enabled": True}},
            "sinks": {"enabled": sinks, **(settings or {})},
        }
    )
    return Bot(cfg, plugins=[FlakyPlugin()], mode="backtest")


def test_store_outage_spills_to_disk_and_replays_on_recovery(make_config):
    FlakyStore.up = False
    FlakyStore.written.clear()
    bot = _bot(
        make_config,
        ["flaky"],
        {"flaky": {"retries": 1, "retry_backoff_s": 0.0, "flush_interval_s": 0.01, "batch_size": 10}},
    )
    sink = bot.sinks[0]
    sink.start()
    events = [("event", i) for i in range(35)]
    for e in events:
        sink.emit(e)
    sink.flush()
    stats = sink.stats()
    assert stats["spilled"] == 35 and stats["write_errors"] >= 2 and stats["retries"] >= 1
    assert stats["pending_spill_files"] >= 1 and FlakyStore.written == []
    assert not sink.healthy and "store is down" in (sink.last_error or "")
    FlakyStore.up = True
    sink.emit(("event", 35))
    sink.close()
    assert FlakyStore.written == [*events, ("event", 35)]  # nothing lost, order kept
    stats = sink.stats()
    assert stats["replayed"] == 35 and stats["pending_spill_files"] == 0 and sink.healthy


def test_parquet_recording_replays_to_the_same_events(make_config, tmp_path):
    bot = _bot(make_config, ["parquet_recorder"], {"parquet_recorder": {"batch_size": 500}})
    original = list(bot.source.events())
    bot.run_backtest()
    rec = bot.sinks[0]
    assert isinstance(rec, ParquetRecorder) and rec.stats()["written"] == len(original)
    cfg = make_config(
        {
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["a", "b"]},
            "symbols": ["BTC/USDT"],
            "source": {"name": "replay", "replay": {"format": "parquet", "path": [str(rec.dir)]}},
            "detector": {"spatial": {"enabled": True}},
            "sinks": {"enabled": []},
        }
    )
    replayed = list(Bot(cfg, mode="backtest").source.events())
    assert len(replayed) == len(original)
    for a, b in zip(original, replayed, strict=True):
        assert (a.ts, a.venue, a.symbol, type(a)) == (b.ts, b.venue, b.symbol, type(b))
        if isinstance(a, BookUpdate):
            assert [tuple(x) for x in a.bids.tolist()] == list(b.bids)
            assert a.snapshot == b.snapshot


class ToyDecoder(ReplayDecoder):
    """A venue whose messages are {"s": sym, "b": [[p, q]], "a": [...]} or trades {"t": [p, q]}."""

    def feed(self, msg: Any, ts: float) -> list[MarketEvent]:
        if "t" in msg:
            return [TradeTick(ts, "toy", msg["s"], msg["t"][0], msg["t"][1], Side.BUY)]
        return [BookUpdate(ts, "toy", msg["s"], msg["b"], msg["a"], False)]

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        return [BookUpdate(ts, "toy", body["s"], body["b"], body["a"], True)]


class ToyConnector(Connector):
    name: ClassVar[str] = "toy"

    async def connect(self) -> None: ...
    async def subscribe_orderbook(self, symbols: list[str], depth: int = 10) -> None: ...
    async def subscribe_trades(self, symbols: list[str]) -> None: ...
    async def load_markets(self) -> list[MarketInfo]:
        return []

    async def close(self) -> None: ...

    @classmethod
    def replay_decoder(cls) -> ReplayDecoder:
        return ToyDecoder()


class ToyPlugin:
    @hookimpl
    def arbot_register_connectors(self):
        return [ToyConnector]


def _capture_cfg(make_config, path):
    return make_config(
        {
            "system": {"execution_mode": "backtest"},
            "symbols": ["X/USDT"],
            "source": {
                "name": "replay",
                "replay": {"format": "capture", "venue": "toy", "path": [str(path)]},
            },
            "detector": {},
            "sinks": {"enabled": []},
        }
    )


def test_capture_replay_goes_through_the_venue_decoder(make_config, tmp_path):
    lines = [
        {"local_ts": 1.0, "dir": "open", "url": "wss://toy"},
        {"local_ts": 1.1, "url": "https://toy/depth", "body": {"s": "X/USDT", "b": [[9, 1]], "a": [[10, 1]]}},
        {"local_ts_ns": 1_200_000_000, "dir": "in", "msg": {"s": "X/USDT", "b": [[9.5, 2]], "a": []}},
        {"local_ts": 1.3, "dir": "in", "msg": {"s": "X/USDT", "t": [9.7, 0.5]}},
    ]
    path = tmp_path / "toy.ndjson.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(json.dumps(line) for line in lines) + "\n")
    bot = Bot(_capture_cfg(make_config, path), plugins=[ToyPlugin()], mode="backtest")
    evs = list(bot.source.events())
    assert [type(e).__name__ for e in evs] == ["BookUpdate", "BookUpdate", "TradeTick"]
    assert evs[0].snapshot and evs[1].ts == pytest.approx(1.2)
    bot.run_backtest()
    assert bot.ctx.market.get("toy", "X/USDT").top() == (9.5, 2, 10, 1)


def test_malformed_capture_line_names_file_and_line(make_config, tmp_path):
    path = tmp_path / "bad.ndjson"
    path.write_text('{"local_ts": 1.0, "dir": "in", "msg": {"s": "X/USDT", "t": [1, 1]}}\n{not json\n')
    bot = Bot(_capture_cfg(make_config, path), plugins=[ToyPlugin()], mode="backtest")
    with pytest.raises(DataError, match=r"bad\.ndjson:2: malformed capture line"):
        list(bot.source.events())
