"""Engine throughput on the reference backtest (examples/spatial_backtest.toml).

Prints events/s for the whole pipeline (simulator -> books -> spatial detector -> risk ->
fill simulator -> portfolio), with and without the SQLite journal, median of 3 runs each.
Rates are per second of this process's CPU time (the machine may be shared).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from arbot.bot import Bot
from arbot.config import load_config

ROOT = Path(__file__).resolve().parent.parent


def run_once(journal: bool) -> tuple[float, int, float]:
    cfg = load_config(ROOT / "examples" / "spatial_backtest.toml")
    cfg.output_dir = tempfile.mkdtemp(prefix="arbot-bench-")
    if not journal:
        cfg.sinks.enabled = []
    bot = Bot(cfg, mode="backtest")
    events = list(bot.source.events())  # generate outside the timed loop
    bot._start()
    t0 = time.process_time()
    bot.engine.run(events)
    wall = time.process_time() - t0
    bot._stop(wall)
    return len(events) / wall, len(events), bot.engine.performance.pnl


def main() -> None:
    print("engine: reference spatial backtest (3 venues x 2 symbols, 30 min of 100 ms snapshots)")
    print(f"{'variant':<34}{'events':>10}{'events/s (median of 3)':>26}")
    for journal in (False, True):
        runs = [run_once(journal) for _ in range(3)]
        rate = statistics.median(r[0] for r in runs)
        label = "with SQLite journal" if journal else "no sinks"
        print(f"{label:<34}{runs[0][1]:>10,}{rate:>26,.0f}")
    # end to end including the simulator generating its events
    cfg = load_config(ROOT / "examples" / "spatial_backtest.toml")
    cfg.output_dir = tempfile.mkdtemp(prefix="arbot-bench-")
    t0 = time.process_time()
    s = Bot(cfg, mode="backtest").run_backtest()
    wall = time.process_time() - t0
    print(f"{'end to end (simulator + journal)':<34}{s['events']:>10,}{s['events'] / wall:>26,.0f}")


if __name__ == "__main__":
    main()
