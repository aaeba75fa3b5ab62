"""Binance order book: per-message decode + apply + top of book on a real capture.

Capture: ``ws/binance/hbt_binance_spot_btcusdt_2024-08-08T2354.ndjson.gz`` (3,451 depth
messages of ``btcusdt@depth@100ms``, REST snapshot inline). Each contender starts from the
snapshot and processes every depth message that follows it, as raw bytes (the frame as it
arrives on the socket):

* ArBot — ``arbot_binance``'s msgspec decoders (envelope + typed ``DepthUpdate``, floats parsed
  from strings in C), :class:`arbot.connectors.booksync.BookSync` (Binance spot rule), the
  :class:`arbot.book.OrderBook`, then ``top()``;
* ccxt — orjson decode, ccxt.pro's ``OrderBook`` (``ccxt.async_support.base.ws.order_book``)
  fed level by level with ``store(float(price), float(qty))`` as ccxt's Binance handler does,
  nonce check, then ``bids[0]`` / ``asks[0]``;
* SortedDict — orjson decode, two ``sortedcontainers.SortedDict`` sides, ``peekitem`` top;
* ccxt.pro binance — ccxt's own Binance WebSocket handler, run as it runs live: a
  ``ccxt.pro.binance`` instance loads its markets with the real ``load_markets`` (the captured
  ``rest/binance/binance_spot_exchangeInfo_2021-10-12.json.gz`` as the HTTP response), subscribes
  with the real ``watch_order_book`` (the subscription reply is fed through ccxt's ``Client``;
  ``handle_order_book_subscription`` spawns ``fetch_order_book_snapshot``, whose REST request gets
  the capture's inline snapshot), then every depth message goes through
  ``Client.handle_text_or_binary_message`` (ccxt's frame decode: orjson when importable) ->
  ``binance.handle_message`` -> ``handle_order_book``, and the top is read as
  ``orderbook['bids'][0]`` / ``['asks'][0]``. The only stand-ins are the network ends
  (``Exchange.fetch`` for HTTP, ``Client.connect`` / ``Client.send`` for the socket). ccxt
  subscribes on the raw ``/ws`` endpoint, so it gets each event without the combined-stream
  ``{"stream", "data"}`` wrapper: its frames are the ``data`` objects as text (what aiohttp
  hands ccxt), prepared before timing.

Timing is per message with ``time.perf_counter_ns``; several passes, the best pass's median
and mean are reported. Run: ``python benchmarks/bench_binance_book.py``.
"""

from __future__ import annotations

import asyncio
import gzip
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

PASSES = 7
CAPTURE = "ws/binance/hbt_binance_spot_btcusdt_2024-08-08T2354.ndjson.gz"
EXCHANGE_INFO = "rest/binance/binance_spot_exchangeInfo_2021-10-12.json.gz"


def load(path: Path) -> tuple[bytes, list[bytes]]:
    """(snapshot body bytes, every depth frame as raw combined-stream bytes)."""
    snapshot = b""
    frames: list[bytes] = []
    with gzip.open(path, "rb") as fh:
        for line in fh:
            obj = orjson.loads(line)
            if "body" in obj:
                snapshot = orjson.dumps(obj["body"])
            elif obj.get("dir") == "in" and "@depth" in obj["msg"].get("stream", ""):
                frames.append(orjson.dumps(obj["msg"]))
    return snapshot, frames


def run_arbot(snapshot: bytes, frames: list[bytes]) -> tuple[list[int], Any]:
    import msgspec
    from arbot.market import MarketState
    from arbot_binance.decode import BinanceProtocol, DepthSnapshot, snapshot_record
    from arbot_binance.replay import binance_bootstrap

    # The live path: the connector's wire protocol decodes a frame, its bootstrap applies it.
    protocol = BinanceProtocol()
    boot = binance_bootstrap(MarketState(), None, unified={"BTCUSDT": "BTC/USDT"})
    book = boot.sync.book("BTC/USDT")
    out: list[int] = []
    clock = time.perf_counter_ns
    decode, records = protocol.decode, boot.records
    snap = msgspec.json.decode(snapshot, type=DepthSnapshot, strict=False)
    boot.records([snapshot_record("BTCUSDT", snap)], 0.0)
    top = None
    for f in frames:
        t0 = clock()
        recs = decode(f)
        if type(recs) is list:
            records(recs, 0.0)
        top = book.top()
        out.append(clock() - t0)
    assert boot.sync.stats.gaps == 0
    return out, top


def run_ccxt(snapshot: bytes, frames: list[bytes]) -> tuple[list[int], Any]:
    from ccxt.async_support.base.ws.order_book import OrderBook

    snap = orjson.loads(snapshot)
    book = OrderBook(
        {
            "bids": [[float(p), float(q)] for p, q in snap["bids"]],
            "asks": [[float(p), float(q)] for p, q in snap["asks"]],
            "nonce": snap["lastUpdateId"],
        }
    )
    bids, asks = book["bids"], book["asks"]
    out: list[int] = []
    clock = time.perf_counter_ns
    loads = orjson.loads
    top = None
    for f in frames:
        t0 = clock()
        d = loads(f)["data"]
        u = d["u"]
        if u > book["nonce"]:
            for p, q in d["b"]:
                bids.store(float(p), float(q))
            for p, q in d["a"]:
                asks.store(float(p), float(q))
            book["nonce"] = u
        top = (bids[0][0], bids[0][1], asks[0][0], asks[0][1])
        out.append(clock() - t0)
    return out, top


def run_sorteddict(snapshot: bytes, frames: list[bytes]) -> tuple[list[int], Any]:
    from sortedcontainers import SortedDict

    snap = orjson.loads(snapshot)
    bids = SortedDict({-float(p): float(q) for p, q in snap["bids"]})
    asks = SortedDict({float(p): float(q) for p, q in snap["asks"]})
    last = snap["lastUpdateId"]
    out: list[int] = []
    clock = time.perf_counter_ns
    loads = orjson.loads
    top = None
    for f in frames:
        t0 = clock()
        d = loads(f)["data"]
        if d["u"] > last:
            for p, q in d["b"]:
                k, v = -float(p), float(q)
                if v:
                    bids[k] = v
                else:
                    bids.pop(k, None)
            for p, q in d["a"]:
                k, v = float(p), float(q)
                if v:
                    asks[k] = v
                else:
                    asks.pop(k, None)
            last = d["u"]
        bk, bq = bids.peekitem(0)
        ak, aq = asks.peekitem(0)
        top = (-bk, bq, ak, aq)
        out.append(clock() - t0)
    return out, top


def make_run_ccxt_binance(exchange_info: bytes) -> Callable[[bytes, list[bytes]], tuple[list[int], Any]]:
    """Contender running ccxt.pro's own Binance handler; ``exchange_info`` is the REST body."""

    def run(snapshot: bytes, frames: list[bytes]) -> tuple[list[int], Any]:
        return asyncio.run(_ccxt_binance(exchange_info, snapshot, frames))

    return run


async def _ccxt_binance(exchange_info: bytes, snapshot: bytes, frames: list[bytes]) -> tuple[list[int], Any]:
    import ccxt.pro

    exchange = ccxt.pro.binance({"options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False}})
    requested: list[str] = []

    async def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        # Stand-in for the HTTP transport only: the captured response bodies.
        requested.append(url)
        if url.endswith("/api/v3/exchangeInfo"):
            return orjson.loads(exchange_info)
        if "/api/v3/depth?symbol=BTCUSDT" in url:
            return orjson.loads(snapshot)
        raise AssertionError(f"unexpected request {url}")

    sent: list[Any] = []
    make_client = exchange.client

    def client(url: str) -> Any:
        # ccxt's real Client; only its socket ends (connect/send) are replaced.
        c = make_client(url)

        def connect(session: Any, backoff_delay: float = 0) -> Any:
            if not c.connected.done():
                c.connected.resolve(url)
            return c.connected

        async def send(message: Any) -> None:
            sent.append(message)

        c.connect = connect
        c.send = send
        return c

    exchange.fetch = fetch
    exchange.client = client
    try:
        await exchange.load_markets()
        watching = asyncio.ensure_future(exchange.watch_order_book("BTC/USDT"))
        for _ in range(1000):  # let watch_multiple "connect" and send the SUBSCRIBE
            if sent:
                break
            await asyncio.sleep(0)
        assert sent and sent[0]["method"] == "SUBSCRIBE", sent
        (ws,) = exchange.clients.values()
        handle_frame = ws.handle_text_or_binary_message
        # the exchange's subscription reply: ccxt then fetches and installs the snapshot
        handle_frame(orjson.dumps({"result": None, "id": sent[0]["id"]}).decode())
        await asyncio.wait_for(watching, 10)
        assert requested[-1].endswith("/api/v3/depth?symbol=BTCUSDT&limit=1000"), requested
        book = exchange.orderbooks["BTC/USDT"]
        assert book["nonce"] == orjson.loads(snapshot)["lastUpdateId"]
        bids, asks = book["bids"], book["asks"]
        texts = [orjson.dumps(orjson.loads(f)["data"]).decode() for f in frames]
        out: list[int] = []
        clock = time.perf_counter_ns
        top = None
        for text in texts:
            t0 = clock()
            handle_frame(text)
            b = bids[0]
            a = asks[0]
            top = (b[0], b[1], a[0], a[1])
            out.append(clock() - t0)
        # a gap would have made ccxt drop the book (ChecksumError -> reject)
        assert exchange.orderbooks.get("BTC/USDT") is book
        assert book["nonce"] == orjson.loads(frames[-1])["data"]["u"]
    finally:
        await exchange.close()
    return out, top


def best_pass(
    fn: Callable[[bytes, list[bytes]], tuple[list[int], Any]], snapshot: bytes, frames: list[bytes]
) -> tuple[float, float, int, Any]:
    """(median µs, mean µs, messages timed, final top) of the pass with the lowest median."""
    best: tuple[float, float, int, Any] | None = None
    for _ in range(PASSES):
        ns, top = fn(snapshot, frames)
        med = statistics.median(ns) / 1000
        mean = statistics.fmean(ns) / 1000
        if best is None or med < best[0]:
            best = (med, mean, len(ns), top)
    assert best is not None
    return best


def main() -> None:
    """Run every contender and print the table."""
    try:
        from arbot.testing.data import shared_data_dir
    except ImportError:
        print("arbot-core is not installed", file=sys.stderr)
        raise SystemExit(1) from None
    base = shared_data_dir()
    if base is None or not (base / CAPTURE).exists():
        print(f"capture {CAPTURE} not found (set ARBOT_SHARED_DATA)", file=sys.stderr)
        raise SystemExit(1)
    snapshot, all_frames = load(base / CAPTURE)
    # Messages the snapshot already contains (u <= lastUpdateId) were received before it;
    # every contender starts from the snapshot and times the messages that follow.
    last_id = orjson.loads(snapshot)["lastUpdateId"]
    frames = [f for f in all_frames if orjson.loads(f)["data"]["u"] > last_id]
    print(f"capture: {CAPTURE}")
    print(
        f"depth messages: {len(all_frames)} ({len(all_frames) - len(frames)} contained in the "
        f"snapshot), timed: {len(frames)}; passes: {PASSES} (best pass reported)"
    )
    rows = []
    contenders: list[tuple[str, Callable[[bytes, list[bytes]], tuple[list[int], Any]]]] = [
        ("ArBot (msgspec + BookSync + OrderBook)", run_arbot),
        ("ccxt.pro OrderBook + orjson", run_ccxt),
        ("SortedDict + orjson", run_sorteddict),
    ]
    if (base / EXCHANGE_INFO).exists():
        with gzip.open(base / EXCHANGE_INFO, "rb") as fh:
            contenders.append(("ccxt.pro binance handle_order_book", make_run_ccxt_binance(fh.read())))
    else:
        print(f"ccxt.pro binance handle_order_book: skipped ({EXCHANGE_INFO} not found)")
    tops = {}
    for name, fn in contenders:
        try:
            med, mean, n, top = best_pass(fn, snapshot, frames)
        except ImportError as exc:
            print(f"{name}: skipped ({exc})")
            continue
        rows.append((name, med, mean, n))
        tops[name] = top
    arbot = rows[0]
    print()
    print(
        f"{'contender':42} {'msgs':>6} {'median µs':>10} {'mean µs':>9} "
        f"{'median ×ArBot':>14} {'mean ×ArBot':>12}"
    )
    for name, med, mean, n in rows:
        print(f"{name:42} {n:>6} {med:>10.2f} {mean:>9.2f} {med / arbot[1]:>14.2f} {mean / arbot[2]:>12.2f}")
    print()
    print("final top of book (bid, bid qty, ask, ask qty):")
    for name, top in tops.items():
        print(f"  {name:42} {tuple(float(x) for x in top)}")
    same = len({tuple(float(x) for x in t) for t in tops.values()}) == 1
    print(f"all contenders agree on the final top of book: {same}")
    assert same, tops
    target = 15.0
    print(
        f"ArBot median {arbot[1]:.2f} µs vs target ≤ {target} µs: "
        f"{'met' if arbot[1] <= target else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
