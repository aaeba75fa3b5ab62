"""Memory: peak RSS of a paper bot on every Binance spot market, and RSS of a long backtest.

1. Paper bot on 1,262 markets. The TRADING spot markets of the shared
   ``rest/binance/binance_spot_exchangeInfo_2021-10-12.json.gz`` (read in place) are streamed by
   the Binance emulator (``arbot_binance.emulator.BinanceEmulator``, 1,000 scripted levels a side:
   a full-depth REST snapshot then diff-depth updates) running in its own process. The bot runs in
   another process: a paper ``Bot`` with the ``live`` source, the Binance connector pointed at the
   emulator (REST weight limit raised for the emulator, nothing else changed), the spatial
   detector and no sinks, until every book is live and 5 s more (at most ``PAPER_SECONDS``).
   The bot process reports its own peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``), how
   long the books took to be live and how many were live at the end.
2. Backtest length. The reference backtest (three venues, BTC/USDT and ETH/USDT, 100 ms updates,
   the execution layer with latency/competition/divergence policies, the SQLite journal)
   configured for each of ``LENGTH_HOURS`` of market time, one child process each, runs its first
   ``LENGTH_EVENTS`` events through the whole pipeline: RSS once the bot is built, at the first
   event and after those events must not depend on the configured length (the simulator
   generates its series a window at a time, it does not prepare it up front).
3. Long backtest. The same backtest over ``BACKTEST_HOURS`` of market time, to its end, in a
   child process; its current RSS (``/proc/self/statm``) is printed at 25/50/75/100 % of the
   events and must stay flat (journal, in-flight maps and impact state bounded).

Run: ``python benchmarks/bench_memory.py``; bounded by the durations below (about a minute).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EXCHANGE_INFO = "rest/binance/binance_spot_exchangeInfo_2021-10-12.json.gz"
LEVELS = 1000
#: the paper bot runs until every book is live, at most this long (a loaded machine syncs slowly)
PAPER_SECONDS = float(os.environ.get("ARBOT_BENCH_PAPER_SECONDS", "180"))
BACKTEST_HOURS = float(os.environ.get("ARBOT_BENCH_BACKTEST_HOURS", "4"))
GOAL_BYTES = 1 << 30
LENGTH_HOURS = (1.0, 6.0, 24.0)
LENGTH_EVENTS = 200_000


def trading_symbols() -> list[str]:
    """Unified names of every TRADING spot market of the shared exchangeInfo."""
    from arbot.testing.data import shared_data

    with gzip.open(Path(shared_data(EXCHANGE_INFO)), "rb") as fh:
        info = json.load(fh)
    return [f"{s['baseAsset']}/{s['quoteAsset']}" for s in info["symbols"] if s["status"] == "TRADING"]


def rss_now() -> int:
    """Current resident set size of this process, bytes."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    """Peak RSS of this process, bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# -- child roles ---------------------------------------------------------------------------------


def serve_emulator(lifetime: float) -> None:
    """Run the Binance emulator on every TRADING market; print its settings; exit after lifetime."""
    from arbot_binance.connector import BinanceConnector
    from arbot_binance.emulator import BinanceEmulator

    async def go() -> None:
        emulator = BinanceEmulator(trading_symbols(), levels=LEVELS, seed=1)
        await emulator.start()
        print(json.dumps(BinanceConnector.emulated_settings(emulator)), flush=True)
        await asyncio.sleep(lifetime)
        await emulator.stop()

    asyncio.run(go())


def paper_bot(settings_json: str, out_dir: str) -> None:
    """A paper bot on every market against the emulator; prints a JSON result line."""
    from arbot.bot import Bot
    from arbot.config import config_from_dict

    symbols = trading_symbols()
    conn = json.loads(settings_json)
    conn.update({"weight_limit": 10_000_000, "depth_limit": LEVELS, "messages_per_second": 50.0})
    cfg = config_from_dict({
        "output_dir": out_dir, "symbols": symbols,
        "system": {"execution_mode": "paper"}, "exchanges": {"enabled": ["binance"]},
        "source": {"name": "live", "live": {"emulate": False, "trades": True}},
        "connectors": {"binance": conn},
        "detector": {"spatial": {"enabled": True}}, "sinks": {"enabled": []},
    })
    bot = Bot(cfg)
    before = rss_now()
    live: list[int] = []
    all_live: list[float] = []

    async def go() -> dict[str, Any]:
        stop = asyncio.Event()

        async def count_live() -> None:
            # run until every book is live (full depth held for each market), at most PAPER_SECONDS,
            # then a few seconds more of streaming with every book held
            t0 = time.monotonic()
            while time.monotonic() - t0 < PAPER_SECONDS:
                await asyncio.sleep(1.0)
                n_live = sum(bot.ctx.market.is_live("binance", s) for s in symbols)
                if n_live == len(symbols):
                    all_live.append(time.monotonic() - t0)
                    await asyncio.sleep(5.0)
                    break
            live.append(sum(bot.ctx.market.is_live("binance", s) for s in symbols))
            stop.set()

        task = asyncio.create_task(count_live())
        summary = await bot.arun(stop, duration_s=PAPER_SECONDS + 10.0)
        await task
        return summary

    summary = asyncio.run(go())
    stats = summary["source"]["binance"]
    print(json.dumps({"peak_rss": peak_rss(), "start_rss": before, "markets": len(symbols),
                      "live_books": live[0], "events": summary["events"],
                      "all_live_after_s": all_live[0] if all_live else None,
                      "snapshots": stats.get("snapshots", 0), "deltas": stats.get("deltas", 0),
                      "messages": stats.get("messages", 0)}), flush=True)


def reference_bot(out_dir: str, hours: float) -> Any:
    """The reference spatial backtest bot, configured for ``hours`` of market time."""
    from arbot.bot import Bot
    from arbot.config import load_config

    root = Path(__file__).resolve().parent.parent
    cfg = load_config(root / "examples" / "spatial_backtest.toml")
    cfg = cfg.model_copy(update={"output_dir": out_dir,
                                 "backtest": cfg.backtest.model_copy(update={"duration_s": hours * 3600.0})})
    return Bot(cfg, mode="backtest")


def backtest_start(out_dir: str, hours: float) -> None:
    """RSS of the reference backtest configured for ``hours``: built, at the first event, after
    LENGTH_EVENTS events through the engine; prints a JSON line."""
    built_before = rss_now()
    bot = reference_bot(out_dir, hours)
    built = rss_now()
    marks: dict[str, int] = {}

    def first_events() -> Any:
        for n, ev in enumerate(bot.source.events(), 1):
            if n == 1:
                marks["first"] = rss_now()
            yield ev
            if n >= LENGTH_EVENTS:
                break
        marks["last"] = rss_now()

    t0 = time.process_time()
    summary = bot.run_backtest(events=first_events())
    print(json.dumps({"hours": hours, "imports": built_before, "built": built, "first": marks["first"],
                      "after": marks["last"], "events": summary["events"], "peak_rss": peak_rss(),
                      "cpu_seconds": time.process_time() - t0}), flush=True)


def long_backtest(out_dir: str) -> None:
    """The reference spatial backtest over BACKTEST_HOURS; prints RSS at each quarter."""
    duration = BACKTEST_HOURS * 3600.0
    bot = reference_bot(out_dir, BACKTEST_HOURS)
    samples: list[tuple[int, int, int]] = []

    def sampled() -> Any:
        start: float | None = None
        quarter = 1
        n = 0
        for ev in bot.source.events():
            n += 1
            if start is None:
                start = ev.ts
                samples.append((0, n, rss_now()))
            if quarter < 4 and ev.ts - start >= duration * quarter / 4:
                samples.append((quarter * 25, n, rss_now()))
                quarter += 1
            yield ev
        samples.append((100, n, rss_now()))

    t0 = time.perf_counter()
    summary = bot.run_backtest(events=sampled())
    print(json.dumps({"samples": samples, "events": summary["events"], "seconds": time.perf_counter() - t0,
                      "peak_rss": peak_rss()}), flush=True)


# -- parent --------------------------------------------------------------------------------------


def run_child(*args: str, timeout: float) -> dict[str, Any]:
    res = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed ({res.returncode}):\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    mib = 1 << 20
    with tempfile.TemporaryDirectory() as tmp:
        lifetime = PAPER_SECONDS + 60.0
        emu = subprocess.Popen([sys.executable, __file__, "emulator", str(lifetime)],
                               stdout=subprocess.PIPE, text=True)
        try:
            assert emu.stdout is not None
            settings = emu.stdout.readline().strip()
            if not settings:
                raise RuntimeError("the emulator did not start")
            paper = run_child("paper", settings, tmp, timeout=PAPER_SECONDS + 90.0)
        finally:
            emu.terminate()
            emu.wait(10)
        lengths = [run_child("backtest_start", tmp, str(h), timeout=600.0) for h in LENGTH_HOURS]
        backtest = run_child("backtest", tmp, timeout=900.0)

    print(f"Memory 1: paper bot, Binance emulator streaming all {paper['markets']} TRADING markets of the "
          f"2021-10-12 exchangeInfo, {LEVELS} levels a side, until every book is live "
          f"(<= {PAPER_SECONDS:.0f} s)")
    when = paper["all_live_after_s"]
    print("  every book live after " + (f"{when:.0f} s" if when is not None else
                                         f"NOT within {PAPER_SECONDS:.0f} s: RSS below is for fewer books"))
    print(f"  books live at the end: {paper['live_books']} / {paper['markets']}; snapshots "
          f"{paper['snapshots']}, deltas {paper['deltas']}, messages {paper['messages']}, events "
          f"{paper['events']}")
    print(f"  RSS after start-up imports {paper['start_rss'] / mib:.0f} MiB, peak RSS "
          f"{paper['peak_rss'] / mib:.0f} MiB (goal <= 1024 MiB: "
          f"{'met' if paper['peak_rss'] <= GOAL_BYTES else 'NOT met'})")
    hours = ", ".join(f"{h:g} h" for h in LENGTH_HOURS)
    print(f"Memory 2: reference spatial backtest configured for {hours}; "
          f"RSS (MiB) as it starts and after its first {LENGTH_EVENTS:,} events")
    print(f"  {'length':>8}{'imports':>10}{'bot built':>11}{'1st event':>11}{'after':>9}{'peak':>8}")
    for r in lengths:
        print(f"  {r['hours']:>6g} h{r['imports'] / mib:>10.0f}{r['built'] / mib:>11.0f}"
              f"{r['first'] / mib:>11.0f}{r['after'] / mib:>9.0f}{r['peak_rss'] / mib:>8.0f}")
    spread = (max(r["peak_rss"] for r in lengths) - min(r["peak_rss"] for r in lengths)) / mib
    print(f"  peak RSS spread across lengths: {spread:.1f} MiB "
          f"({LENGTH_HOURS[-1] / LENGTH_HOURS[0]:.0f}x the market time)")
    print(f"Memory 3: reference spatial backtest over {BACKTEST_HOURS:g} h of market time "
          f"({backtest['events']} events, {backtest['seconds']:.1f} s)")
    first, *quarters = backtest["samples"]
    print(f"  at the first event: RSS {first[2] / mib:7.1f} MiB")
    base = quarters[0][2]
    for pct, n, rss in quarters:
        growth = (rss - base) / mib
        print(f"  {pct:3d} %: {n:>9,} events  RSS {rss / mib:7.1f} MiB  ({growth:+.1f} MiB vs 25 %)")
    last = backtest["samples"][-1][2]
    print(f"  growth 25 % -> 100 %: {(last - base) / mib:+.1f} MiB over "
          f"{quarters[-1][1] - quarters[0][1]:,} events; peak {backtest['peak_rss'] / mib:.0f} MiB")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "emulator":
        serve_emulator(float(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "paper":
        paper_bot(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "backtest":
        long_backtest(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "backtest_start":
        backtest_start(sys.argv[2], float(sys.argv[3]))
    else:
        main()
