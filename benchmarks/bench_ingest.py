"""Ingest: depth messages per second one process sustains from a loopback socket, books applied.

Frames: the real Binance BTCUSDT ``@depth@100ms`` capture
``ws/binance/hbt_binance_spot_btcusdt_2024-08-08T2354.ndjson.gz`` (shared data, read in place;
~1.3 KB and 36 levels a frame on average), repeated ``--passes`` times with ``U``/``u`` shifted
so the sequence stays gap-free. A separate process (``blast_server.py``) serves its REST snapshot
and writes every frame, pre-framed, to the socket as fast as the socket takes it, so the consumer
is the bottleneck. Contenders, each with a fresh server:

* ArBot live path, once per WebSocket transport (``[system] ws_transport`` = ``picows`` and
  ``websockets``) -- a paper ``Bot`` with the ``live`` source and the Binance connector pointed
  at the server: ``WsSession`` -> ``BinanceProtocol.decode`` -> REST-snapshot bootstrap ->
  ``OrderBook`` -> the live source's buffer -> engine (spatial detector, risk, no sinks); the
  run fails if a sequence gap was seen or fewer book updates than frames reached the engine;
* ccxt.pro -- ``ccxt.pro.binance`` ``watch_order_book('BTC/USDT')`` in a loop (aiohttp, orjson,
  ccxt's book), until its nonce reaches the last ``u``.

Stages, so the report says where the time goes: raw receive on each transport (no decode),
decode alone and book apply alone (in memory, on the same frames; the apply is checked to have
applied every delta), the engine's own share measured inside the ArBot live run, and what is
left of the end-to-end time per message (the session, the hand-off to the engine, the loop).

Rates are messages / (time of the last message handled - time of the first), on the wall clock
and on the consuming process's CPU clock (``msg/CPU-s``: what one core sustains, independent of
other load on the machine). Bounded: every server lives at most 60 s.
Run: ``python benchmarks/bench_ingest.py [--passes N]``.
"""

from __future__ import annotations

import argparse
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


class Rate:
    """Messages over a wall-clock and a CPU-clock interval."""

    def __init__(self, n: int, wall_s: float, cpu_s: float) -> None:
        self.n = n
        self.wall = n / wall_s if wall_s > 0 else float("nan")
        self.cpu = n / cpu_s if cpu_s > 0 else float("nan")


class Server:
    """The blasting server in its own process."""

    def __init__(self, capture: Path, n_passes: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "blast_server.py"), str(capture), str(n_passes), "--lifetime", "60"],
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


def release(server: Server) -> None:
    """Fetch the REST snapshot: the server then blasts the rest of the frames."""
    import urllib.request

    urllib.request.urlopen(server.http + "/api/v3/depth?symbol=BTCUSDT").read()


SUBSCRIBE = orjson.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 1}).decode()


async def raw_websockets(server: Server) -> Rate:
    """``websockets`` client: SUBSCRIBE, then receive every frame, nothing else."""
    import websockets

    async with websockets.connect(server.ws + "/stream", max_size=None, compression=None) as ws:
        await ws.send(SUBSCRIBE)
        await ws.recv()  # the reply
        await ws.recv()
        release(server)
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(server.frames - 1):
            await ws.recv()
        return Rate(server.frames - 1, time.perf_counter() - t0, time.process_time() - c0)


async def raw_picows(server: Server) -> Rate:
    """``picows`` client: SUBSCRIBE, then count every text frame (payload taken as ``str``)."""
    import picows

    done = asyncio.get_running_loop().create_future()
    marks: dict[str, float] = {}

    class Counter(picows.WSListener):
        n = 0

        def on_ws_frame(self, transport: picows.WSTransport, frame: picows.WSFrame) -> None:
            if frame.msg_type is not picows.WSMsgType.TEXT:
                return
            frame.get_payload_as_utf8_text()
            self.n += 1
            if self.n == 2:
                marks["t0"], marks["c0"] = time.perf_counter(), time.process_time()
            elif self.n == server.frames + 1 and not done.done():  # + the SUBSCRIBE reply
                marks["t1"], marks["c1"] = time.perf_counter(), time.process_time()
                done.set_result(None)

    transport, _ = await picows.ws_connect(Counter, server.ws + "/stream", max_frame_size=2**24)
    transport.send(picows.WSMsgType.TEXT, SUBSCRIBE.encode())
    await asyncio.sleep(0.05)
    await asyncio.to_thread(release, server)
    await asyncio.wait_for(done, 45.0)
    transport.disconnect()
    return Rate(server.frames - 1, marks["t1"] - marks["t0"], marks["c1"] - marks["c0"])


def in_memory_stages(capture: Path, n_passes: int) -> tuple[Rate, Rate]:
    """(decode, book apply) of the connector's own decode and bootstrap, in memory."""
    import msgspec
    from arbot.market import MarketState
    from arbot_binance.decode import BinanceProtocol, DepthSnapshot, snapshot_record
    from arbot_binance.replay import binance_bootstrap

    snapshot, frames = load(capture)
    combined, _, _ = passes(frames, n_passes)
    protocol = BinanceProtocol()
    t0, c0 = time.perf_counter(), time.process_time()
    decoded = [protocol.decode(f) for f in combined]
    decode = Rate(len(combined), time.perf_counter() - t0, time.process_time() - c0)
    boot = binance_bootstrap(MarketState(), None, unified={"BTCUSDT": "BTC/USDT"})
    snap = msgspec.json.decode(orjson.dumps(snapshot), type=DepthSnapshot, strict=False)
    boot.records([snapshot_record("BTCUSDT", snap)], 0.0)
    records = boot.records
    t0, c0 = time.perf_counter(), time.process_time()
    for out in decoded:
        records(out, 0.0)  # type: ignore[arg-type]
    apply = Rate(len(decoded), time.perf_counter() - t0, time.process_time() - c0)
    book = boot.sync.book("BTC/USDT")
    if book is None or book.best_bid is None or boot.sync.stats.deltas < len(decoded) - 1:
        raise RuntimeError(f"the book was not built: {boot.sync.stats.deltas} deltas of {len(decoded)}")
    return decode, apply


def has_transport_setting() -> bool:
    """True when this ArBot has ``[system] ws_transport`` (to bench an older checkout too)."""
    from arbot.config import SystemConfig

    return "ws_transport" in SystemConfig.model_fields


async def arbot_live(server: Server, tmp: Path, transport: str | None) -> tuple[Rate, Rate, str]:
    """(end to end, engine only, transport used) of a paper Bot on the server."""
    from arbot.bot import Bot
    from arbot.config import config_from_dict
    from arbot.events import BookUpdate

    system: dict[str, Any] = {"execution_mode": "paper"}
    if transport is not None:
        system["ws_transport"] = transport
    cfg = config_from_dict({
        "output_dir": str(tmp), "symbols": ["BTC/USDT"],
        "system": system, "exchanges": {"enabled": ["binance"]},
        "source": {"name": "live", "live": {"emulate": False, "trades": False}},
        "connectors": {"binance": {"rest_url": server.http, "ws_url": server.ws, "depth_limit": 1000}},
        "detector": {"spatial": {"enabled": True}}, "sinks": {"enabled": []},
    })
    bot = Bot(cfg)
    process = bot.engine.process
    seen = {"n": 0, "first": 0.0, "last": 0.0, "cpu0": 0.0, "cpu1": 0.0, "engine_ns": 0}
    clock = time.perf_counter_ns
    stop = asyncio.Event()

    def spy(ev: Any) -> None:
        if type(ev) is BookUpdate:
            now = time.perf_counter()
            if not seen["n"]:
                seen["first"], seen["cpu0"] = now, time.process_time()
            seen["n"] += 1
            seen["last"] = now
            t = clock()
            process(ev)
            seen["engine_ns"] += clock() - t
            if seen["n"] == server.frames:
                seen["cpu1"] = time.process_time()
                stop.set()
            return
        process(ev)

    bot.engine.process = spy  # type: ignore[method-assign]

    async def watch() -> None:
        quiet = 0
        prev = -1
        while quiet < 20:  # 1 s without a new update: the server is done (or stuck)
            await asyncio.sleep(0.05)
            quiet = quiet + 1 if seen["n"] == prev and seen["n"] > 0 else 0
            prev = seen["n"]
        stop.set()

    watcher = asyncio.create_task(watch())
    summary = await bot.arun(stop, duration_s=45.0)
    watcher.cancel()
    stats = summary["source"]["binance"]
    n = seen["n"]
    if stats.get("gaps", 0):
        raise RuntimeError(f"ArBot saw sequence gaps: {stats}")
    if n != server.frames:
        raise RuntimeError(f"ArBot's engine saw {n} book updates of {server.frames} frames: {stats}")
    conn = bot.source.connectors["binance"]  # type: ignore[attr-defined]
    used = conn.feeds[0].ws.transport_name if hasattr(conn.feeds[0].ws, "transport_name") else "websockets"
    wall = seen["last"] - seen["first"]
    e2e = Rate(n - 1, wall, seen["cpu1"] - seen["cpu0"])
    engine_s = seen["engine_ns"] / 1e9
    return e2e, Rate(n, engine_s, engine_s), used


async def ccxt_pro(server: Server) -> Rate:
    """ccxt.pro's binance watch_order_book on the server."""
    import ccxt.pro as ccxtpro
    from arbot.testing.emulator.emulate_process import rebase_urls

    ex = ccxtpro.binance({"timeout": 10000})
    rebase_urls(ex.urls["api"], server.http)
    ex.urls["api"]["ws"]["spot"] = server.ws + "/ws"
    ex.options.update({"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False})
    seen = {"n": 0, "first": 0.0, "last": 0.0, "cpu0": 0.0, "cpu1": 0.0}
    handle = ex.handle_message

    def counting(client: Any, message: Any) -> Any:
        now = time.perf_counter()
        if isinstance(message, dict) and message.get("e") == "depthUpdate":
            if not seen["n"]:
                seen["first"], seen["cpu0"] = now, time.process_time()
            seen["n"] += 1
            seen["last"] = now
            seen["cpu1"] = time.process_time()
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
    return Rate(seen["n"] - 1, seen["last"] - seen["first"], seen["cpu1"] - seen["cpu0"])


def with_server(capture: Path, n_passes: int, fn: Any) -> Any:
    server = Server(capture, n_passes)
    try:
        return server, fn(server)
    finally:
        server.close()


def main() -> None:
    import importlib.util
    import tempfile

    ap = argparse.ArgumentParser()
    ap.add_argument("--passes", type=int, default=PASSES, help="passes over the capture (3,448 frames each)")
    args = ap.parse_args()
    n_passes = args.passes
    capture = capture_path()
    has_picows = importlib.util.find_spec("picows") is not None
    transports: list[str | None] = ["picows", "websockets"] if has_transport_setting() else [None]
    if not has_picows:
        transports = [t for t in transports if t != "picows"]

    stages: dict[str, Rate] = {}
    if has_picows:
        server, stages["raw receive, picows"] = with_server(
            capture, n_passes, lambda s: asyncio.run(raw_picows(s)))
    server, stages["raw receive, websockets"] = with_server(
        capture, n_passes, lambda s: asyncio.run(raw_websockets(s)))
    frames = server.frames
    stages["decode (BinanceProtocol, in memory)"], stages["book apply (bootstrap, in memory)"] = (
        in_memory_stages(capture, n_passes))
    e2e: dict[str, Rate] = {}
    engine: dict[str, Rate] = {}
    for transport in transports:
        with tempfile.TemporaryDirectory() as tmp:
            _, (rate, eng, used) = with_server(
                capture, n_passes, lambda s, tr=transport, d=tmp: asyncio.run(arbot_live(s, Path(d), tr)))
        if transport is not None and used != transport:
            raise RuntimeError(f"asked for the {transport} transport, the session used {used}")
        e2e[f"ArBot live, {used}"] = rate
        engine[used] = eng
    _, e2e["ccxt.pro watch_order_book"] = with_server(capture, n_passes, lambda s: asyncio.run(ccxt_pro(s)))

    def us(rate: float) -> float:
        return 1e6 / rate

    print(f"Ingest: {frames} real Binance BTCUSDT depth frames ({n_passes} passes of the capture), loopback")
    print(f"  {'stage':44s} {'msg/s':>12s} {'msg/CPU-s':>12s} {'us/msg (CPU)':>13s}")
    for name, r in stages.items():
        print(f"  {name:44s} {r.wall:>12,.0f} {r.cpu:>12,.0f} {us(r.cpu):>13.2f}")
    for used, r in engine.items():
        print(f"  {'engine only (inside the live run, ' + used + ')':44s} {r.wall:>12,.0f} {r.cpu:>12,.0f} "
              f"{us(r.cpu):>13.2f}")
    print("  end to end (every frame applied to the book and handed to the engine):")
    for name, r in e2e.items():
        print(f"  {name:44s} {r.wall:>12,.0f} {r.cpu:>12,.0f} {us(r.cpu):>13.2f}")
    decode_us = us(stages["decode (BinanceProtocol, in memory)"].cpu)
    apply_us = us(stages["book apply (bootstrap, in memory)"].cpu)
    for used, eng in engine.items():
        total = us(e2e[f"ArBot live, {used}"].cpu)
        raw = us(stages[f"raw receive, {used}"].cpu)
        rest = total - raw - decode_us - apply_us - us(eng.cpu)
        print(f"  ArBot {used} per message (CPU us): receive {raw:.2f} + decode {decode_us:.2f} + apply "
              f"{apply_us:.2f} + engine {us(eng.cpu):.2f} + session/hand-off/loop {rest:.2f} = {total:.2f}")
    pro = e2e["ccxt.pro watch_order_book"]
    for name, r in e2e.items():
        if name.startswith("ArBot"):
            print(f"  {name} / ccxt.pro: {r.wall / pro.wall:.2f}x wall, {r.cpu / pro.cpu:.2f}x CPU; "
                  f"goal >= {GOAL:,} msg/s: {r.wall / GOAL:.0%} of it (wall), {r.cpu / GOAL:.0%} (CPU)")
    print(f"  messages handled: {', '.join(f'{k} {v.n + 1}' for k, v in e2e.items())} (of {frames})")


if __name__ == "__main__":
    main()
