"""The emulator kit: scripted book, a tiny emulator on real sockets, fault injection."""

from __future__ import annotations

import asyncio

import aiohttp
import msgspec
from aiohttp import web
from arbot.book import OrderBook
from arbot.testing.emulator import EmulatorClient, EmulatorServer, ScriptedBook, books_equal
from websockets.asyncio.client import connect


def _f(levels: list[tuple[str, str]]) -> list[tuple[float, float]]:
    return [(float(p), float(q)) for p, q in levels]


def test_scripted_book_is_reproducible_and_consistent() -> None:
    a = ScriptedBook("v", "A/B", seed=5)
    b = ScriptedBook("v", "A/B", seed=5)
    c = ScriptedBook("v", "A/B", seed=6)
    mirror = OrderBook("m", "A/B")
    bids, asks = a.levels_text()
    mirror.apply_snapshot(_f(bids), _f(asks), 0.0)
    diverged = False
    for i in range(2000):
        da = a.step(remove_best=i % 50 == 0)
        assert da == b.step(remove_best=i % 50 == 0)
        diverged |= da != c.step()
        mirror.apply_delta(_f(da[0]), _f(da[1]), 0.0)
        assert not a.book.is_crossed and len(a.book.bids) and len(a.book.asks)
    assert diverged
    assert books_equal(mirror, a.book)
    lb, la = a.levels_text()
    assert _f(lb) == list(a.book.bids) and _f(la) == list(a.book.asks)


class EchoEmulator(EmulatorServer):
    """A toy venue: subscribe with the text 'sub', get 'tick N' frames; GET /n."""

    venue = "echo"

    def __init__(self) -> None:
        super().__init__(tick_interval=0.01)
        self.n = 0

    def routes(self) -> list[web.RouteDef]:
        async def n(_: web.Request) -> web.Response:
            return web.json_response({"n": self.n})

        return [web.get("/n", n)]

    async def on_ws_message(self, client: EmulatorClient, message: str | bytes) -> None:
        if message == "sub":
            client.topics.add("t")
            await client.send("ok")

    async def tick(self) -> None:
        self.n += 1
        await self.broadcast("t", f"tick {self.n}")


def test_emulator_serves_ws_and_http_with_faults() -> None:
    async def main() -> None:
        async with EchoEmulator() as emu:
            assert emu.ws_url.startswith("ws://127.0.0.1:") and emu.http_url.startswith("http://127.0.0.1:")
            async with aiohttp.ClientSession() as http:
                async with http.get(emu.http_url + "/n") as r:
                    assert r.status == 200 and "n" in msgspec.json.decode(await r.read())
                emu.fail_http(429, count=1, retry_after=2)
                async with http.get(emu.http_url + "/n") as r:
                    assert r.status == 429 and r.headers["Retry-After"] == "2"
                async with http.get(emu.http_url + "/n") as r:
                    assert r.status == 200
            ws = await connect(emu.ws_url)
            await ws.send("sub")
            assert await ws.recv() == "ok"
            assert (await ws.recv()).startswith("tick ")
            assert await emu.send_garbage("junk") == 1
            frames = [await ws.recv() for _ in range(3)]
            assert "junk" in frames
            # stall: frames are withheld while the emulator keeps ticking
            emu.stall(0.2)
            withheld0 = emu.stats.frames_withheld
            await asyncio.sleep(0.1)
            assert emu.stats.frames_withheld > withheld0
            n_before = emu.n
            msg = await asyncio.wait_for(ws.recv(), 2.0)
            assert int(msg.split()[1]) > n_before  # the ticks of the stall were lost
            # drop: the client sees the connection die
            assert emu.drop_connections() == 1
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 2.0)
            except Exception as exc:
                assert "ConnectionClosed" in type(exc).__name__
            await asyncio.sleep(0.05)
            assert not emu.clients and emu.stats.disconnects == 1
            # slow consumer: a burst then a 1008 close
            ws2 = await connect(emu.ws_url)
            await ws2.send("sub")
            await ws2.recv()
            await emu.slow_consumer(burst=50)
            got = 0
            try:
                while True:
                    await asyncio.wait_for(ws2.recv(), 2.0)
                    got += 1
            except Exception:
                pass
            assert got >= 50 and ws2.close_code == 1008 and emu.stats.kicked == 1
            await ws.close()
            await ws2.close()

    asyncio.run(main())


def test_gap_and_checksum_fault_counters() -> None:
    emu = EchoEmulator()
    emu.inject_gap("A/B", 2)
    emu.inject_bad_checksum("A/B")
    assert [emu.take_gap("A/B") for _ in range(3)] == [True, True, False]
    assert not emu.take_gap("C/D")
    assert [emu.take_bad_checksum("A/B") for _ in range(2)] == [True, False]
    assert emu.stats.gaps_injected == 2 and emu.stats.bad_checksums_injected == 1
