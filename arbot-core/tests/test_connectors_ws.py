"""WsSession against a local websockets server: messages, garbage, reconnect, resubscribe,
idle timeout, rotation, application pings."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import msgspec
from arbot.connectors.ws import Backoff, GarbageFrame, Heartbeat, WsSession
from websockets.asyncio.server import ServerConnection, serve


class Server:
    def __init__(self) -> None:
        self.received: list[str] = []
        self.conns: list[ServerConnection] = []
        self.connections = 0

    async def handler(self, conn: ServerConnection) -> None:
        self.connections += 1
        self.conns.append(conn)
        try:
            async for m in conn:
                self.received.append(m if isinstance(m, str) else m.decode())
                if m == "ping":
                    await conn.send("pong")
                else:
                    await conn.send(msgspec.json.encode({"echo": m}).decode())
        except Exception:
            pass


async def until(cond: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "condition not reached"
        await asyncio.sleep(0.005)


def test_backoff_is_jittered_and_capped() -> None:
    b = Backoff(initial=1, maximum=8, factor=2, jitter=0.5)
    rng = random.Random(1)
    ds = [b.delay(n, rng) for n in range(8)]
    assert all(0.5 * min(8, 2**n) <= d <= min(8, 2**n) for n, d in enumerate(ds))
    assert len(set(ds)) == len(ds)


def test_session_messages_garbage_reconnect_resubscribe() -> None:
    async def main() -> None:
        srv = Server()
        got: list[Any] = []
        closes: list[int] = []

        def on_message(frame: str | bytes, ts: float) -> None:
            if frame == "pong":
                return
            obj = msgspec.json.decode(frame)
            if "echo" not in obj:
                raise GarbageFrame("?")
            got.append(obj["echo"])

        async with serve(srv.handler, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            s = WsSession(f"ws://127.0.0.1:{port}", on_message,
                          on_close=lambda _s: closes.append(1),
                          backoff=Backoff(initial=0.01, maximum=0.05), seed=3)
            await s.start(timeout=5)
            await s.subscribe('{"sub":1}')
            await until(lambda: got == ['{"sub":1}'])
            # garbage frames: counted, skipped, the session keeps going
            await srv.conns[-1].send("not json at all")
            await srv.conns[-1].send('{"other": 1}')
            await s.send("after")
            await until(lambda: "after" in got)
            assert s.stats.garbage_frames == 2
            # a dropped connection: reconnect and resubscribe
            srv.conns[-1].transport.abort()
            await until(lambda: srv.connections == 2 and s.connected)
            await until(lambda: srv.received.count('{"sub":1}') == 2)
            assert s.stats.reconnects == 1 and closes == [1]
            await s.close()
            assert not s.connected

    asyncio.run(main())


def test_idle_timeout_rotation_and_app_ping() -> None:
    async def main() -> None:
        srv = Server()
        async with serve(srv.handler, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            s = WsSession(f"ws://127.0.0.1:{port}", lambda f, t: None,
                          heartbeat=Heartbeat(ping_interval=None, app_ping="ping",
                                              app_ping_interval=0.05, idle_timeout=None),
                          max_lifetime=0.3, backoff=Backoff(initial=0.01))
            await s.start(timeout=5)
            await until(lambda: srv.received.count("ping") >= 2)
            await until(lambda: s.stats.rotations >= 1 and srv.connections >= 2)
            await s.close()
            # idle: the server never sends anything
            s2 = WsSession(f"ws://127.0.0.1:{port}", lambda f, t: None,
                           heartbeat=Heartbeat(ping_interval=None, idle_timeout=0.1),
                           max_lifetime=None, backoff=Backoff(initial=0.01))
            await s2.start(timeout=5)
            await until(lambda: s2.stats.idle_timeouts >= 1 and s2.stats.reconnects >= 1)
            await s2.close()

    asyncio.run(main())


def test_unreachable_url_counts_failed_connects() -> None:
    async def main() -> None:
        s = WsSession("ws://127.0.0.1:9", lambda f, t: None, backoff=Backoff(initial=0.01,
                      maximum=0.02), open_timeout=1.0)
        await s.start(wait=False)
        await until(lambda: s.stats.failed_connects >= 2)
        await s.close()

    asyncio.run(main())
