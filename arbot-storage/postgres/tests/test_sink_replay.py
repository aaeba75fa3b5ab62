"""The sink's two write paths on the real server: a fresh batch goes through plain inserts, a
batch holding keys already stored (a replay) falls back to the ``ON CONFLICT`` merge and is
stored exactly once -- whole or partly overlapping an earlier one."""

from __future__ import annotations

from pathlib import Path

from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.events import ExecutionReport, Fill, FillStatus, Leg, Opportunity, Side
from arbot.sinks.base import RunInfo
from arbot_postgres.sink import PostgresSink
from arbot_postgres.testing import query

RUN = RunInfo("replay-test", "BACKTEST", "2024-01-01T00:00:00+00:00", instance="i1")


def _reports(first: int, last: int) -> list[tuple[int, object]]:
    """Events numbered ``first..last``, each an execution report with two filled legs."""
    out: list[tuple[int, object]] = []
    for seq in range(first, last + 1):
        buy = Leg("binance", "BTC/USDT", Side.BUY, 60_000.0, 0.1)
        legs = (buy, Leg("okx", "BTC/USDT", Side.SELL, 60_100.0 + seq, 0.1))
        opp = Opportunity(f"o{seq}", 1_700_000_000.0 + seq, "spatial", "BTC/USDT", legs, 0.16, 0.1, 6.0)
        fills = tuple(
            Fill(opp.id, leg.venue, leg.symbol, leg.side, "IOC", 0.1, leg.price, 0.1, leg.price, 6.0, "USDT",
                 FillStatus.FILLED, opp.ts + 0.05, 50.0, "BACKTEST")
            for leg in legs
        )  # fmt: skip
        out.append((seq, ExecutionReport(opp, fills, opp.ts + 0.05, 4.0, 12.0)))
    return out


def _sink(tmp_path: Path, dsn: str) -> PostgresSink:
    cfg = config_from_dict(
        {
            "output_dir": str(tmp_path / "out"),
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["binance", "okx"]},
            "symbols": ["BTC/USDT"],
            "sinks": {"enabled": ["postgres"], "postgres": {"dsn": dsn}},
        }
    )
    sink = Bot(cfg, mode="backtest").sinks[0]
    assert isinstance(sink, PostgresSink)
    sink.open_store()
    return sink


def _stored(dsn: str) -> tuple[list[tuple[int, int, str]], list[int]]:
    trades = query(dsn, "SELECT event_seq, leg, filled_price::text FROM trades ORDER BY event_seq, leg")
    episodes = query(dsn, "SELECT event_seq FROM episodes ORDER BY event_seq")
    return [tuple(r) for r in trades], [r[0] for r in episodes]


def _expected(first: int, last: int) -> tuple[list[tuple[int, int, str]], list[int]]:
    trades = [
        (seq, leg, f"{60_000 if leg == 0 else 60_100 + seq}.00000000")
        for seq in range(first, last + 1)
        for leg in (0, 1)
    ]
    return trades, list(range(first, last + 1))


def test_a_batch_written_twice_is_stored_once(tmp_path: Path, pg_dsn: str) -> None:
    sink = _sink(tmp_path, pg_dsn)
    try:
        sink.write_batch(_reports(1, 10), RUN)
        assert sink.counters["batches_merged"] == 0  # fresh: the plain-insert path
        sink.write_batch(_reports(1, 10), RUN)
        assert sink.counters["batches_merged"] == 1  # a replay: rolled back, merged
        assert _stored(pg_dsn) == _expected(1, 10)
        assert sink.counters["rows:trades"] == 20 and sink.counters["rows:episodes"] == 10
    finally:
        sink.close_store()


def test_a_batch_overlapping_an_earlier_one_stores_the_union(tmp_path: Path, pg_dsn: str) -> None:
    sink = _sink(tmp_path, pg_dsn)
    try:
        sink.write_batch(_reports(1, 10), RUN)
        sink.write_batch(_reports(6, 15), RUN)  # 6..10 stored already, 11..15 new
        assert sink.counters["batches_merged"] == 1
        assert _stored(pg_dsn) == _expected(1, 15)
        assert sink.counters["rows:trades"] == 30 and sink.counters["rows:episodes"] == 15
        sink.write_batch(_reports(16, 20), RUN)  # fresh again after a merge
        assert sink.counters["batches_merged"] == 1
        assert _stored(pg_dsn) == _expected(1, 20)
    finally:
        sink.close_store()
