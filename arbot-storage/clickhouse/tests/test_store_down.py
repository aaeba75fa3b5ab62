"""Zero loss with chdb's data folder unwritable: a paper run against the venue emulators while the
folder is made read-only and writable again; and a folder that stays read-only past
``max_outage_s`` fails the run.

How the folder is made unwritable: the tests run as root, for whom ``chmod`` changes nothing, so
the folder is covered by a read-only bind mount of itself (``mount --bind DIR DIR`` then
``mount -o remount,bind,ro DIR``): every write below it fails with EROFS, for root too -- as when
a disk is remounted read-only -- until ``umount DIR`` uncovers it. That needs CAP_SYS_ADMIN; where
mounting is not permitted the tests skip and say so. The spill folder is elsewhere
(``<output_dir>/spill/clickhouse``) and stays writable.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot_clickhouse.backends import ChdbBackend
from arbot_clickhouse.schema import TABLE_COLUMNS

ARBOT = [sys.executable, "-m", "arbot"]


class ReadOnly:
    """Make a folder read-only (for root too) with a read-only bind mount, and undo it."""

    def __init__(self) -> None:
        self.mounted: list[Path] = []

    def cover(self, path: Path) -> None:
        """Every write under ``path`` fails with EROFS from now on."""
        subprocess.run(["mount", "--bind", str(path), str(path)], check=True, capture_output=True)
        self.mounted.append(path)
        for _ in range(100):  # the remount is refused while a file is open for writing through it
            cmd = ["mount", "-o", "remount,bind,ro", str(path)]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode == 0:
                return
            time.sleep(0.02)
        raise RuntimeError(f"cannot remount {path} read-only: {res.stderr.strip()}")

    def uncover(self, path: Path) -> None:
        """Writable again."""
        subprocess.run(["umount", str(path)], check=True, capture_output=True)
        self.mounted.remove(path)


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[ReadOnly]:
    probe = tmp_path / "mount-probe"
    probe.mkdir()
    res = subprocess.run(["mount", "--bind", str(probe), str(probe)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(
            f"cannot make a folder read-only here (bind mounts need CAP_SYS_ADMIN): {res.stderr.strip()}"
        )
    subprocess.run(["umount", str(probe)], check=True)
    ro = ReadOnly()
    try:
        yield ro
    finally:
        for path in list(ro.mounted):
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _sink(**over: Any) -> dict[str, Any]:
    return {
        "backend": "chdb", "book_interval_s": 0.2, "book_depth": 5, "spread_pairs": [["binance", "okx"]],
        "spread_interval_s": 0.2, "flush_interval_s": 0.1, "batch_size": 50, "retries": 1,
        "retry_backoff_s": 0.05, **over,
    }  # fmt: skip


def _paper(tmp_path: Path, sink: dict[str, Any]) -> dict[str, Any]:
    return {
        "output_dir": str(tmp_path / "out"),
        "symbols": ["BTC/USDT", "ETH/USDT"],
        "system": {"execution_mode": "paper"},
        "exchanges": {"enabled": ["binance", "okx"]},
        "source": {"name": "live", "live": {"emulate": True, "emulator_seed": 3}},
        "detector": {"spatial": {"enabled": True, "min_spread_pct": 0.1, "min_depth_usd": 100}},
        "sinks": {"enabled": ["clickhouse"], "clickhouse": sink},
    }


def _counts(db: ChdbBackend) -> dict[str, int]:
    return {t: int(db.query(f"SELECT count() AS n FROM arbot.{t}")["n"][0]) for t in TABLE_COLUMNS}


def test_chdb_folder_unwritable_mid_run_loses_nothing_and_stores_nothing_twice(
    tmp_path: Path, read_only: ReadOnly
) -> None:
    bot = Bot(config_from_dict(_paper(tmp_path, _sink(max_outage_s=60))))
    folder = tmp_path / "out" / "clickhouse"
    result: dict[str, Any] = {}

    def run() -> None:
        result["summary"] = asyncio.run(bot.arun(duration_s=20.0))

    runner = threading.Thread(target=run)
    runner.start()
    deadline = time.monotonic() + 15.0
    while not (folder / "store").is_dir() and time.monotonic() < deadline:
        time.sleep(0.1)
    db = ChdbBackend(folder)  # the sink's own session (chdb opens one folder per process)
    try:
        while sum(_counts(db).values()) == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        read_only.cover(folder)
        time.sleep(0.3)  # an insert that was committing as the mount came is counted here
        before = _counts(db)
        time.sleep(3.0)
        during = _counts(db)
        read_only.uncover(folder)
        runner.join(timeout=120)
        assert not runner.is_alive()
        after = _counts(db)
        parts = db.query(
            "SELECT _part AS part, exchange, min(timestamp) AS lo, max(timestamp) AS hi "
            "FROM arbot.orderbook_snapshots GROUP BY part, exchange"
        )
    finally:
        db.close()
    stats = result["summary"]["sinks"]["clickhouse"]
    # the outage happened, was spilled and replayed in full, nothing is left behind
    assert sum(before.values()) > 0, "nothing reached chdb before its folder was made read-only"
    assert stats["write_errors"] > 0 and stats["spilled"] > 0 and stats["replayed"] == stats["spilled"]
    assert stats["lost"] == 0 and stats["spill_pending"] == 0 and stats["buffered"] == 0
    assert during == before, "rows were stored while the folder was read-only"
    # exact: every row the sink received is in chdb once (inserts carry deduplication tokens)
    assert stats["written"] == stats["received"] == sum(after.values())
    assert after["tick_trades"] > before["tick_trades"] and after["spread_history"] > before["spread_history"]
    # in emit order: per venue, each insert (part: all_<first block>_<last block>_<level>) holds
    # snapshots no older than those of every insert before it
    by_venue: dict[str, list[tuple[int, float, float]]] = {}
    for part, venue, lo, hi in zip(parts["part"], parts["exchange"], parts["lo"], parts["hi"], strict=True):
        by_venue.setdefault(venue, []).append((int(part.split("_")[1]), lo, hi))
    for venue, spans in by_venue.items():
        spans.sort()
        for (_, _, hi), (_, lo, _) in itertools.pairwise(spans):
            assert hi <= lo, f"{venue}: a later insert holds older snapshots (replayed out of order)"


def test_a_folder_unwritable_past_the_limit_ends_the_run_with_an_error(
    tmp_path: Path, read_only: ReadOnly
) -> None:
    data = _paper(tmp_path, _sink(max_outage_s=2.0))
    lines = [
        'symbols = ["BTC/USDT", "ETH/USDT"]',
        "[system]",
        'execution_mode = "paper"',
        "[exchanges]",
        'enabled = ["binance", "okx"]',
        "[source]",
        'name = "live"',
        "[source.live]",
        "emulate = true",
        "[detector.spatial]",
        "enabled = true",
        "[sinks]",
        'enabled = ["clickhouse"]',
        "[sinks.clickhouse]",
    ]
    for key, value in data["sinks"]["clickhouse"].items():
        text = str(value).lower() if isinstance(value, bool) else repr(value).replace("'", '"')
        lines.append(f"{key} = {text}")
    cfg = tmp_path / "paper.toml"
    cfg.write_text("\n".join(lines) + "\n")
    out = tmp_path / "o"
    folder = out / "clickhouse"
    proc = subprocess.Popen(
        [*ARBOT, "run", str(cfg), "--duration", "20", "--output-dir", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (folder / "store").is_dir() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert (folder / "store").is_dir(), "the sink never created its tables"
        time.sleep(1.0)
        read_only.cover(folder)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, stderr  # runtime failure (2 is a usage/config error)
    assert "sink 'clickhouse': store down for" in stderr and "(limit 2 s)" in stderr, stderr
    assert "Read-only file system" in stderr and "spill file(s) kept in" in stderr, stderr
