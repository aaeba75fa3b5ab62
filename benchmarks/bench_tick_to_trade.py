"""Tick-to-trade through real sockets: a book change sent by the Binance emulator -> connector ->
market state -> spatial detector -> risk -> order manager -> the signed order request received by
an emulator.

The venues run in a child process (``venues`` role): the Binance emulator (private API present)
whose BTC/USDT book now and then jumps 0.3-0.6 % away for a few steps (the emulator's own scripted
dislocation), and the OKX emulator, which does not jump; each has one funded account. The child
timestamps (``time.perf_counter``, its own clock) the broadcast of the first depth update of each
jump, and the entry of every order-placement request into either emulator's private API
(``POST /api/v3/order``, ``POST /api/v5/trade/order``, after aiohttp parsed it). A sample is the
time from a jump's send to the first order request after it (and before the next jump); jumps that
led to no order are counted.

ArBot: a ``live`` Bot (``execution_mode = "live"``, both opt-ins) in this process, the native Binance
and OKX connectors and trading gateways pointed at the child's emulators, the spatial detector and
the default risk rules, the write-ahead journal (``execution.sqlite``) on. p50/p99 over every
sample of ``SECONDS``. The goal line is the default ``intent_durability = "disk"`` (each intent is
fsynced before its request leaves: one disk flush per episode is in every sample); a second
ArBot run with ``"process"`` (intent committed, flushed later) shows what that flush costs on
this machine's disk.

Run: ``python benchmarks/bench_tick_to_trade.py`` (about two and a half minutes, stops by itself;
``BENCH_T2T_SECONDS`` sets the length of each run).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

SECONDS = float(os.environ.get("BENCH_T2T_SECONDS", "30"))  # per contender run
MID = 60_000.0
TICK = 0.005  # emulator step (s): a jump every ~25 steps, so a few hundred jumps a run
FUNDS = {"USDT": 10_000_000.0, "BTC": 200.0}


# -- the venues (child process) ------------------------------------------------------------------


def venues(lifetime: float) -> None:
    """Run both emulators; answer ``reset`` / ``dump`` lines on stdin (dump: samples as JSON)."""
    from arbot_binance.connector import BinanceConnector
    from arbot_okx.connector import OkxConnector

    jumps: list[float] = []
    orders: list[float] = []
    armed = {"on": False}

    async def go() -> None:
        from arbot_binance.emulator import BinanceEmulator
        from arbot_okx.emulator import OkxEmulator

        binance = BinanceEmulator(["BTC/USDT"], seed=3, tick_interval=TICK)
        okx = OkxEmulator(["BTC/USDT"], seed=4, tick_interval=TICK)
        for emu in (binance, okx):
            for book in emu.scripted_books():
                book.recenter(MID)
        for book in binance.scripted_books():
            book.configure_dislocations(0.08, (0.4, 0.8), (8, 16))
            step = book._dislocation_step

            def watched(step: Any = step, book: Any = book) -> Any:
                before = book._dislocation_left
                out = step()
                if before == 0 and book._dislocation_left > 0:
                    armed["on"] = True
                return out

            book._dislocation_step = watched
        broadcast = binance.broadcast

        async def timed(topic: str, frame: Any, clients: Any = None) -> int:
            if armed["on"] and "@depth" in topic:
                armed["on"] = False
                jumps.append(time.perf_counter())
            return await broadcast(topic, frame, clients)

        binance.broadcast = timed  # type: ignore[method-assign]
        for emu in (binance, okx):
            place = emu.private._place

            async def placed(*args: Any, place: Any = place) -> Any:
                orders.append(time.perf_counter())
                return await place(*args)

            emu.private._place = placed
        keys: dict[str, Any] = {}
        settings: dict[str, Any] = {}
        for venue, cls, emu in (("binance", BinanceConnector, binance), ("okx", OkxConnector, okx)):
            await emu.start()
            creds = cls.emulated_account(emu, FUNDS)
            keys[venue] = [creds.api_key, creds._secret, creds.passphrase_value() or None]
            settings[venue] = cls.emulated_settings(emu)
        print(json.dumps({"keys": keys, "settings": settings}), flush=True)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        end = loop.time() + lifetime
        while loop.time() < end:
            try:
                line = (await asyncio.wait_for(reader.readline(), end - loop.time())).decode().strip()
            except TimeoutError:
                break
            if line == "reset":
                jumps.clear()
                orders.clear()
                print("ok", flush=True)
            elif line == "dump":
                print(json.dumps({"jumps": jumps, "orders": orders}), flush=True)
            elif not line:
                break
        for emu in (binance, okx):
            await emu.stop()

    asyncio.run(go())


def latencies(jumps: list[float], orders: list[float]) -> tuple[list[float], int]:
    """(seconds from each jump to the first order after it, jumps without an order)."""
    out: list[float] = []
    missed = 0
    for i, t in enumerate(jumps):
        nxt = jumps[i + 1] if i + 1 < len(jumps) else float("inf")
        first = next((o for o in orders if t <= o < nxt), None)
        if first is None:
            missed += 1
        else:
            out.append(first - t)
    return out, missed


# -- contenders ----------------------------------------------------------------------------------


async def run_arbot(info: dict[str, Any], out_dir: str, durability: str = "disk") -> dict[str, Any]:
    from arbot.bot import Bot
    from arbot.config import config_from_dict

    conn: dict[str, Any] = {v: dict(s) for v, s in info["settings"].items()}
    for venue, (key, secret, passphrase) in info["keys"].items():
        os.environ[f"{venue.upper()}_API_KEY"] = key
        os.environ[f"{venue.upper()}_API_SECRET"] = secret
        if passphrase:
            os.environ[f"{venue.upper()}_PASSPHRASE"] = passphrase
    os.environ["ARBOT_LIVE_TRADING"] = "1"
    cfg = config_from_dict({
        "output_dir": out_dir, "symbols": ["BTC/USDT"],
        "system": {"execution_mode": "live"}, "exchanges": {"enabled": ["binance", "okx"]},
        "source": {"name": "live", "live": {"emulate": False}},
        "connectors": conn,
        "detector": {"spatial": {"enabled": True, "min_spread_pct": 0.1, "min_depth_usd": 100,
                                 "max_latency_ms": 1000, "max_notional_usd": 600}},
        "risk": {"max_spread_pct": 5.0, "max_book_age_ms": 2000, "max_position_per_coin_usd": 1e9,
                 "max_position_per_exchange_usd": 1e10, "max_total_exposure_usd": 1e10,
                 "consecutive_loss_limit": 1_000_000, "max_daily_loss_pct": 100.0,
                 "max_drawdown_pct": 100.0},
        # a leg that diverges is held and alerted (not unwound then halted: a halt engages the kill
        # switch and would end the sampling); the first order of each episode is unaffected
        "executor": {"live_trading_opt_in": True,
                     "live": {"on_divergence": ["hold"], "intent_durability": durability}},
        "portfolio": {"initial": FUNDS},
        "sinks": {"enabled": []},
    })
    bot = Bot(cfg)
    return await bot.arun(duration_s=SECONDS)


CCXT_OPTIONS: dict[str, dict[str, Any]] = {
    "binance": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False},
    "okx": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False},
}
THRESHOLD = 0.003  # gross cross-venue spread: 0.1 % net after two 0.1 % taker fees, as ArBot's
AMOUNT = 0.01


async def run_ccxt(info: dict[str, Any]) -> int:
    """The same decision on ccxt.pro: watch both books; when one venue's bid crosses the other's
    ask by THRESHOLD, send both legs (limit at the touch) concurrently, once per dislocation.
    Returns how many pairs it sent."""
    import ccxt.pro as ccxtpro
    from arbot.testing.emulator.emulate_process import rebase_urls

    (bkey, bsecret, _), (okey, osecret, opass) = info["keys"]["binance"], info["keys"]["okx"]
    bn = ccxtpro.binance({"apiKey": bkey, "secret": bsecret, "timeout": 10000})
    rebase_urls(bn.urls["api"], info["settings"]["binance"]["rest_url"])
    bn.urls["api"]["ws"]["spot"] = info["settings"]["binance"]["ws_url"] + "/ws"
    ok = ccxtpro.okx({"apiKey": okey, "secret": osecret, "password": opass, "timeout": 10000})
    rebase_urls(ok.urls["api"], info["settings"]["okx"]["rest_url"])
    ok.urls["api"]["ws"] = info["settings"]["okx"]["ws_url"].removesuffix("/public")
    exchanges = {"binance": bn, "okx": ok}
    for name, ex in exchanges.items():
        ex.options.update(CCXT_OPTIONS[name])
    books: dict[str, Any] = {}
    state = {"busy": False, "latched": False, "sent": 0}

    async def decide() -> None:
        if len(books) < 2 or state["busy"]:
            return
        b, o = books["binance"], books["okx"]
        if not (b["bids"] and b["asks"] and o["bids"] and o["asks"]):
            return
        if b["bids"][0][0] > o["asks"][0][0] * (1 + THRESHOLD):
            legs = [(bn, "sell", b["bids"][0][0]), (ok, "buy", o["asks"][0][0])]
        elif o["bids"][0][0] > b["asks"][0][0] * (1 + THRESHOLD):
            legs = [(bn, "buy", b["asks"][0][0]), (ok, "sell", o["bids"][0][0])]
        else:
            state["latched"] = False
            return
        if state["latched"]:
            return
        state["busy"] = state["latched"] = True
        try:
            await asyncio.gather(*(ex.create_order("BTC/USDT", "limit", side, AMOUNT, price)
                                   for ex, side, price in legs), return_exceptions=True)
            state["sent"] += 1
        finally:
            state["busy"] = False

    async def watch(name: str) -> None:
        ex = exchanges[name]
        while True:
            books[name] = await ex.watch_order_book("BTC/USDT")
            await decide()

    try:
        await asyncio.gather(bn.load_markets(), ok.load_markets())
        tasks = [asyncio.create_task(watch(n)) for n in exchanges]
        await asyncio.sleep(SECONDS)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await bn.close()
        await ok.close()
    return state["sent"]


def report(name: str, samples: list[float], missed: int) -> tuple[float, float]:
    ms = sorted(s * 1000.0 for s in samples)
    if len(ms) < 2:
        print(f"  {name:10s} only {len(ms)} samples ({missed} jumps without an order)")
        return float("nan"), float("nan")
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    print(f"  {name:10s} p50 {p50:8.2f} ms  p99 {p99:8.2f} ms  over {len(ms)} jumps "
          f"({missed} jumps without an order)")
    slow = ", ".join(f"{x:.1f}" for x in ms[-5:])
    print(f"  {'':10s} slowest 5 (ms): {slow}; {sum(x > 50 for x in ms)} samples over 50 ms")
    return p50, p99


def main() -> None:
    child = subprocess.Popen([sys.executable, __file__, "venues", str(4 * SECONDS + 60)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None

    def ask(line: str) -> str:
        child.stdin.write(line + "\n")  # type: ignore[union-attr]
        child.stdin.flush()  # type: ignore[union-attr]
        return child.stdout.readline().strip()  # type: ignore[union-attr]

    try:
        info = json.loads(child.stdout.readline())
        with tempfile.TemporaryDirectory() as tmp:
            ask("reset")
            summary = asyncio.run(run_arbot(info, tmp))
            arbot = json.loads(ask("dump"))
        with tempfile.TemporaryDirectory() as tmp:
            ask("reset")
            summary_p = asyncio.run(run_arbot(info, tmp, "process"))
            arbot_p = json.loads(ask("dump"))
        ask("reset")
        sent = asyncio.run(run_ccxt(info))
        pro = json.loads(ask("dump"))
    finally:
        child.stdin.close()
        child.wait(30)
    print(f"Tick-to-trade: Binance emulator book jump -> first signed order request received "
          f"(BTC/USDT, Binance vs OKX emulators, {SECONDS:.0f} s each; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    results = {}
    for name, summ, data in (("ArBot", summary, arbot), ("ArBot/proc", summary_p, arbot_p)):
        samples, missed = latencies(data["jumps"], data["orders"])
        print(f"  {name} run: {summ['events']} events, {len(data['orders'])} order requests, "
              f"{len(data['jumps'])} jumps")
        results[name] = report(name, samples, missed)
    samples, missed = latencies(pro["jumps"], pro["orders"])
    print(f"  ccxt.pro run: {sent} leg pairs sent, {len(pro['orders'])} order requests, "
          f"{len(pro['jumps'])} jumps")
    c50, c99 = report("ccxt.pro", samples, missed)
    a50, a99 = results["ArBot"]
    print(f"  ccxt.pro / ArBot: p50 {c50 / a50:.2f}x, p99 {c99 / a99:.2f}x (goal >= 10x; intents fsynced)")
    p50, p99 = results["ArBot/proc"]
    print(f"  ccxt.pro / ArBot/proc: p50 {c50 / p50:.2f}x, p99 {c99 / p99:.2f}x "
          "(intent_durability = 'process': committed, not fsynced, before the request leaves)")
    if os.environ.get("BENCH_DEBUG"):
        print(json.dumps(summary, default=str, indent=1)[:6000])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "venues":
        venues(float(sys.argv[2]))
    else:
        main()
