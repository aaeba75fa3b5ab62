"""A loopback Binance-shaped server that blasts recorded depth frames as fast as the socket takes
them (used by ``bench_ingest.py``; run as ``python blast_server.py CAPTURE PASSES``).

It serves ``GET /api/v3/exchangeInfo`` (BTCUSDT only), ``GET /api/v3/depth`` (the capture's own
REST snapshot) and WebSocket ``/stream`` (combined frames) and ``/ws`` (raw frames). On the first
``SUBSCRIBE`` of a connection it answers and then writes every depth frame of the capture,
(the first one, then -- once the client fetched the snapshot, as a live venue's snapshot would
be fresh -- the others) ``PASSES`` times over with ``U``/``u`` shifted by the span of one pass
so the sequence stays gap-free. It prints ``PORT <n> FRAMES <m> LAST <u>`` on start and
exits after ``--lifetime`` seconds.

The frames are WebSocket-framed once at start and written to the socket in chunks of whole
frames (flow-controlled by the transport's write buffer), so the server spends next to nothing
per message and even a client receiving millions of messages per second stays the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import struct
import sys
import time
from pathlib import Path

import orjson
from aiohttp import WSMsgType, web


def load(path: Path) -> tuple[dict[str, object], list[dict[str, object]]]:
    """(REST snapshot body, the depth events after it as combined-stream messages)."""
    snapshot: dict[str, object] = {}
    frames: list[dict[str, object]] = []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        for line in fh:
            obj = orjson.loads(line)
            if "body" in obj and "lastUpdateId" in obj["body"]:
                snapshot = obj["body"]
                frames.clear()
            elif obj.get("dir") == "in" and "@depth" in obj.get("msg", {}).get("stream", ""):
                frames.append(obj["msg"])
    last = int(snapshot["lastUpdateId"])  # type: ignore[call-overload]
    frames = [f for f in frames if int(f["data"]["u"]) > last]  # type: ignore[index]
    # The capture's first delta after its snapshot starts a few ids past lastUpdateId + 1 (ids the
    # recorder missed); the snapshot is re-labelled to bridge it so the Binance rule accepts it.
    first = int(frames[0]["data"]["U"])  # type: ignore[index]
    if first > last + 1:
        snapshot = {**snapshot, "lastUpdateId": first - 1}
    return snapshot, frames


def passes(frames: list[dict[str, object]], count: int) -> tuple[list[str], list[str], int]:
    """(combined frames, raw frames, last ``u``) of ``count`` passes, ids shifted per pass."""
    first = int(frames[0]["data"]["U"])  # type: ignore[index]
    span = int(frames[-1]["data"]["u"]) - first + 1  # type: ignore[index]
    combined: list[str] = []
    raw: list[str] = []
    last = 0
    for k in range(count):
        for f in frames:
            data = dict(f["data"])  # type: ignore[call-overload]
            data["U"] += k * span
            data["u"] += k * span
            last = data["u"]
            combined.append(orjson.dumps({"stream": f["stream"], "data": data}).decode())
            raw.append(orjson.dumps(data).decode())
    return combined, raw, last


def ws_frames(texts: list[str], chunk_size: int = 256 * 1024) -> list[bytes]:
    """Unmasked server-to-client text frames of ``texts``, joined into chunks of whole frames."""
    chunks: list[bytes] = []
    part: list[bytes] = []
    size = 0
    for text in texts:
        payload = text.encode()
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x81, n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x81, 126, n)
        else:
            head = struct.pack("!BBQ", 0x81, 127, n)
        part.append(head)
        part.append(payload)
        size += len(head) + n
        if size >= chunk_size:
            chunks.append(b"".join(part))
            part, size = [], 0
    if part:
        chunks.append(b"".join(part))
    return chunks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("capture")
    ap.add_argument("passes", type=int)
    ap.add_argument("--lifetime", type=float, default=60.0)
    args = ap.parse_args()
    snapshot, frames = load(Path(args.capture))
    combined, raw, last = passes(frames, args.passes)
    info = {"timezone": "UTC", "serverTime": int(time.time() * 1000), "rateLimits": [], "symbols": [{
        "symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT",
        "baseAssetPrecision": 8, "quoteAssetPrecision": 8, "quotePrecision": 8,
        "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
        "orderTypes": ["LIMIT", "MARKET"], "permissions": ["SPOT"], "permissionSets": [["SPOT"]],
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000", "tickSize": "0.01"},
            {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000", "stepSize": "0.00001"},
        ]}]}
    framed = {"/stream": ws_frames(combined[1:]), "/ws": ws_frames(raw[1:])}
    info_body = orjson.dumps(info)
    snap_body = orjson.dumps(snapshot)

    async def exchange_info(_: web.Request) -> web.Response:
        return web.Response(body=info_body, content_type="application/json")

    served = asyncio.Event()

    async def depth(_: web.Request) -> web.Response:
        asyncio.get_running_loop().call_later(0.05, served.set)  # once the client holds it
        return web.Response(body=snap_body, content_type="application/json")

    async def ws(request: web.Request) -> web.WebSocketResponse:
        sock = web.WebSocketResponse(max_msg_size=0, compress=False)
        await sock.prepare(request)
        stream = request.path.startswith("/stream")
        out = combined if stream else raw
        chunks = framed["/stream" if stream else "/ws"]
        blasting: asyncio.Task[None] | None = None

        async def blast() -> None:
            await sock.send_str(out[0])
            await asyncio.wait_for(served.wait(), 10.0)
            transport = request.transport
            assert transport is not None
            for chunk in chunks:  # whole frames, straight to the socket
                if transport.is_closing():
                    return
                transport.write(chunk)
                while transport.get_write_buffer_size() > 2**20 and not transport.is_closing():
                    await asyncio.sleep(0.0005)

        async for msg in sock:
            if msg.type != WSMsgType.TEXT:
                continue
            req = orjson.loads(msg.data)
            await sock.send_str(orjson.dumps({"result": None, "id": req.get("id")}).decode())
            if req.get("method") == "SUBSCRIBE" and blasting is None:
                blasting = asyncio.create_task(blast())
        if blasting is not None:
            blasting.cancel()
        return sock

    app = web.Application()
    app.router.add_get("/api/v3/exchangeInfo", exchange_info)
    app.router.add_get("/api/v3/depth", depth)
    app.router.add_get("/stream", ws)
    app.router.add_get("/ws", ws)
    app.router.add_get("/ws/{tail:.*}", ws)

    async def serve() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(f"PORT {port} FRAMES {len(combined)} LAST {last}", flush=True)
        await asyncio.sleep(args.lifetime)
        await runner.cleanup()

    asyncio.run(serve())
    sys.exit(0)


if __name__ == "__main__":
    main()
