"""Core REST-snapshot fetcher (:mod:`arbot.connectors.snapshots`) and connector scaffolding
(:mod:`arbot.connectors.scaffold`)."""

from __future__ import annotations

import asyncio

from arbot.connectors.rest import RestError
from arbot.connectors.scaffold import stop_tasks
from arbot.connectors.snapshots import SnapshotFetcher


def test_fetcher_retries_failures_and_coalesces_requests() -> None:
    async def main() -> None:
        calls: list[str] = []

        async def fetch(symbol: str) -> None:
            calls.append(symbol)
            if len(calls) <= 2:
                raise RestError("boom")

        f = SnapshotFetcher(fetch, 0.0, name="t")
        f.want("A")
        f.want("A")  # coalesced into the running task
        for _ in range(50):
            await asyncio.sleep(0)
        assert calls == ["A", "A", "A"] and f.failures == 2 and not f.wanted("A")
        await f.close()

    asyncio.run(main())


def test_fetcher_wanted_again_during_a_fetch_fetches_again() -> None:
    async def main() -> None:
        calls: list[str] = []
        f: SnapshotFetcher

        async def fetch(symbol: str) -> None:
            calls.append(symbol)
            if len(calls) == 1:
                f.want(symbol)  # e.g. BookSync found the snapshot too old

        f = SnapshotFetcher(fetch, 0.0)
        f.want("B")
        for _ in range(20):
            await asyncio.sleep(0)
        assert calls == ["B", "B"]
        await f.close()

    asyncio.run(main())


def test_fetcher_close_stops_and_open_resumes() -> None:
    async def main() -> None:
        started = asyncio.Event()
        calls: list[str] = []

        async def fetch(symbol: str) -> None:
            calls.append(symbol)
            started.set()
            await asyncio.sleep(10)

        f = SnapshotFetcher(fetch, 0.0)
        f.want("C")
        await asyncio.wait_for(started.wait(), 1.0)
        await f.close()
        f.want("C")  # ignored while closed
        await asyncio.sleep(0)
        assert calls == ["C"]
        f.open()
        f.want("C")
        await asyncio.sleep(0.01)
        assert calls == ["C", "C"]
        await f.close()

    asyncio.run(main())


def test_stop_tasks_skips_none_and_swallows_errors() -> None:
    async def main() -> None:
        async def fail() -> None:
            raise ValueError("x")

        async def sleep() -> None:
            await asyncio.sleep(10)

        a = asyncio.get_running_loop().create_task(fail())
        b = asyncio.get_running_loop().create_task(sleep())
        await asyncio.sleep(0)
        await stop_tasks([a, None, b])
        assert a.done() and b.cancelled()

    asyncio.run(main())
