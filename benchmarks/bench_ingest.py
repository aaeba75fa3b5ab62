"""Ingest: depth messages per second one process sustains from a loopback socket, books applied.

Frames: the real Binance BTCUSDT ``@depth@100ms`` capture
``ws/binance/hbt_binance_spot_btcusdt_2024-08-08T2354.ndjson.gz`` (shared data, read in place),
repeated ``PASSES`` times with ``U``/``u`` shifted so the sequence stays gap-free. A separate
process (``blast_server.py``) serves its REST snapshot and writes every frame to the socket as
fast as the socket takes it, so the consumer is the bottleneck. Contenders, each with a fresh
server:

* ArBot live path -- a paper ``Bot`` with the ``live`` source and the Binance connector pointed at
  the server: ``WsSession`` (``websockets``) -> ``BinanceProtocol.decode`` -> REST-snapshot
  bootstrap -> ``OrderBook`` -> queue -> engine (spatial detector, risk, no sinks);
* ccxt.pro -- ``ccxt.pro.binance`` ``watch_order_book('BTC/USDT')`` in a loop (aiohttp, orjson,
  ccxt's book), until its nonce reaches the last ``u``.

Stages, so the report says where the time goes: raw ``websockets`` receive (no decode), decode
alone and book apply alone (in memory, on the same frames), and the engine's own share measured
inside the ArBot live run (time spent in ``Engine.process`` per message).

Rates are messages / (time of the last message handled - time of the first). Bounded: every
server lives at most 60 s; the whole script takes well under a minute.
Run: ``python benchmarks/bench_ingest.py``.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from blast_server import load, passes  # noqa: E402

CAPTURE = "ws/binance/hbt_binance_spot_btcusdt_2024-08-08T2354.ndjson.gz"
PASSES = 10
GOAL = 100_000


def capture_path() -> Path:
    from arbot.testing.data import shared_data

    return Path(shared_data(CAPTURE))


class Server:
    """The blasting server in its own process."""

    def __init__(self, capture: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "blast_server.py"), str(capture), str(PASSES), "--lifetime", "60"],
            stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "PORT":
            raise RuntimeError(f"blast server did not start: {line}")
        self.port, self.frames, self.last = int(line[1]), int(line[3]), int(line[5])
        self.http = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


async def raw_receive(server: Server) -> float:
    """``websockets`` client: SUBSCRIBE, then receive every frame, nothing else."""
    import websockets

    async with websockets.connect(server.ws + "/stream", max_size=None, compression=None) as ws:
        sub = {"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 1}
        await ws.send(orjson.dumps(sub).decode())
        await ws.recv()  # the reply
        await ws.recv()
        import urllib.request

        urllib.request.urlopen(server.http + "/api/v3/depth?symbol=BTCUSDT").read()  # releases the blast
        t0 = time.perf_counter()
        for _ in range(server.frames - 1):
            await ws.recv()
        return (server.frames - 1) / (time.perf_counter() - t0)


def in_memory_stages(capture: Path) -> tuple[float, float]:
    """(decode msg/s, book apply msg/s) of the connector's own decode and bootstrap."""
    import msgspec
    from arbot.market import MarketState
    from arbot_binance.decode import BinanceProtocol, DepthSnapshot, snapshot_record
    from arbot_binance.replay import binance_bootstrap

    snapshot, frames = load(capture)
    combined, _, _ = passes(frames, PASSES)
    protocol = BinanceProtocol()
    t0 = time.perf_counter()
    decoded = [protocol.decode(f) for f in combined]
    decode_rate = len(combined) / (time.perf_counter() - t0)
    boot = binance_bootstrap(MarketState(), None, unified={"BTCUSDT": "BTC/USDT"})
    snap = msgspec.json.decode(orjson.dumps(snapshot), type=DepthSnapshot, strict=False)
    boot.records([snapshot_record("BTCUSDT", snap)], 0.0)
    records = boot.records
    t0 = time.perf_counter()
    for out in decoded:
        records(out, 0.0)  # type: ignore[arg-type]
    apply_rate = len(decoded) / (time.perf_counter() - t0)
    book = boot.sync.book("BTC/USDT")
    if book is None or book.best_bid is None or boot.sync.stats.deltas < len(decoded) - 1:
        raise RuntimeError(f"the book was not built: {boot.sync.stats.deltas} deltas of {len(decoded)}")
    return decode_rate, apply_rate


async def arbot_live(server: Server, tmp: Path) -> tuple[float, float, int]:
    """(msg/s end to end, engine-only msg/s, BookUpdates seen) of a paper Bot on the server."""
    from arbot.bot import Bot
    from arbot.config import config_from_dict
    from arbot.events import BookUpdate

    cfg = config_from_dict({
        "output_dir": str(tmp), "symbols": ["BTC/USDT"],
        "system": {"execution_mode": "paper"}, "exchanges": {"enabled": ["binance"]},
        "source": {"name": "live", "live": {"emulate": False, "trades": False}},
        "connectors": {"binance": {"rest_url": server.http, "ws_url": server.ws, "depth_limit": 1000}},
        "detector": {"spatial": {"enabled": True}}, "sinks": {"enabled": []},
    })
    bot = Bot(cfg)
    process = bot.engine.process
    seen = {"n": 0, "first": 0.0, "last": 0.0, "engine_ns": 0}
    clock = time.perf_counter_ns
    stop = asyncio.Event()

    def spy(ev: Any) -> None:
        if type(ev) is BookUpdate:
            now = time.perf_counter()
            if not seen["n"]:
                seen["first"] = now
            seen["n"] += 1
            seen["last"] = now
            t = clock()
            process(ev)
            seen["engine_ns"] += clock() - t
            return
        process(ev)

    bot.engine.process = spy  # type: ignore[method-assign]

    async def watch() -> None:
        quiet = 0
        prev = -1
        while quiet < 10:  # 0.5 s without a new update: the server is done
            await asyncio.sleep(0.05)
            quiet = quiet + 1 if seen["n"] == prev and seen["n"] > 0 else 0
            prev = seen["n"]
        stop.set()

    watcher = asyncio.create_task(watch())
    summary = await bot.arun(stop, duration_s=45.0)
    watcher.cancel()
    stats = summary["source"]["binance"]
    received = int(stats.get("messages", seen["n"]))
    n = seen["n"]
    if n < 2:
        raise RuntimeError(f"ArBot saw {n} book updates: {stats}")
    if stats.get("gaps", 0):
        raise RuntimeError(f"ArBot saw sequence gaps: {stats}")
    rate = n / (seen["last"] - seen["first"])
    engine_rate = n / (seen["engine_ns"] / 1e9)
    return rate, engine_rate, min(n, received)


async def ccxt_pro(server: Server) -> tuple[float, int]:
    """(msg/s, messages handled) of ccxt.pro's binance watch_order_book on the server."""
    import ccxt.pro as ccxtpro
    from arbot.testing.emulator.emulate_process import rebase_urls

    ex = ccxtpro.binance({"timeout": 10000})
    rebase_urls(ex.urls["api"], server.http)
    ex.urls["api"]["ws"]["spot"] = server.ws + "/ws"
    ex.options.update({"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False})
    seen = {"n": 0, "first": 0.0, "last": 0.0}
    handle = ex.handle_message

    def counting(client: Any, message: Any) -> Any:
        now = time.perf_counter()
        if isinstance(message, dict) and message.get("e") == "depthUpdate":
            if not seen["n"]:
                seen["first"] = now
            seen["n"] += 1
            seen["last"] = now
        return handle(client, message)

    ex.handle_message = counting
    try:
        await ex.load_markets()
        deadline = time.perf_counter() + 45.0
        while time.perf_counter() < deadline:
            book = await ex.watch_order_book("BTC/USDT")
            if book["nonce"] >= server.last:
                break
        else:
            raise RuntimeError("ccxt.pro did not reach the last update in 45 s")
    finally:
        await ex.close()
    return seen["n"] / (seen["last"] - seen["first"]), seen["n"]


def main() -> None:
    import tempfile

    capture = capture_path()
    results: dict[str, float] = {}
    server = Server(capture)
    try:
        results["raw websockets receive"] = asyncio.run(raw_receive(server))
    finally:
        server.close()
    frames = server.frames
    decode_rate, apply_rate = in_memory_stages(capture)
    results["decode (BinanceProtocol, in memory)"] = decode_rate
    results["book apply (bootstrap+OrderBook, in memory)"] = apply_rate
    server = Server(capture)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            live, engine, n_arbot = asyncio.run(arbot_live(server, Path(tmp)))
    finally:
        server.close()
    results["engine only (inside the live run)"] = engine
    results["ArBot live path end to end"] = live
    server = Server(capture)
    try:
        pro, n_ccxt = asyncio.run(ccxt_pro(server))
    finally:
        server.close()
    results["ccxt.pro watch_order_book end to end"] = pro

    print(f"Ingest: {frames} real Binance BTCUSDT depth frames ({PASSES} passes of the capture), loopback")
    for name, rate in results.items():
        print(f"  {name:45s} {rate:>12,.0f} msg/s   ({1e6 / rate:7.2f} us/msg)")
    print(f"  messages handled: ArBot {n_arbot}, ccxt.pro {n_ccxt} (of {frames})")
    print(f"  ArBot / ccxt.pro end to end: {live / pro:.2f}x")
    per = {k: 1e6 / v for k, v in results.items() if "end to end" not in k}
    stages = ", ".join(f"{k.split(' (')[0]} {v:.1f}" for k, v in per.items())
    print(f"  time per message by stage (us): {stages}")
    print(f"  goal >= {GOAL:,} msg/s: ArBot reaches {live / GOAL:.0%} of it")


if __name__ == "__main__":
    main()
