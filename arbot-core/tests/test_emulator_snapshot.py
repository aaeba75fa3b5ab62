"""Emulator kit: the public ``paused`` flag and the snapshot-holding base."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from arbot.testing.emulator import EmulatorClient, EmulatorServer, SnapshotEmulator, fast_settings


class _Recorder(SnapshotEmulator):
    def __init__(self) -> None:
        super().__init__(tick_interval=None)
        self.sent: list[tuple[Any, str]] = []

    async def send_snapshot(self, client: EmulatorClient, topic: str) -> None:
        self.snapshots_sent += 1
        self.sent.append((client, topic))


def _client(*topics: str) -> Any:
    return SimpleNamespace(topics=set(topics))


def test_paused_property_follows_pause_and_resume() -> None:
    emu = EmulatorServer(tick_interval=None)
    assert emu.paused is False
    emu.pause()
    assert emu.paused is True
    emu.resume()
    assert emu.paused is False


def test_snapshots_are_held_while_paused_and_flushed_after() -> None:
    async def main() -> None:
        emu = _Recorder()
        a, b = _client("books:A"), _client("books:B")
        await emu.snapshot_on_subscribe(a, "books:A")
        assert emu.sent == [(a, "books:A")]
        emu.pause()
        await emu.snapshot_on_subscribe(a, "books:A")
        await emu.snapshot_on_subscribe(b, "books:B")
        assert len(emu.sent) == 1  # held back
        b.topics.discard("books:B")  # unsubscribed meanwhile: its snapshot is not owed any more
        emu.resume()
        await emu.flush_held()
        assert emu.sent == [(a, "books:A"), (a, "books:A")] and emu.snapshots_sent == 2
        await emu.flush_held()
        assert emu.snapshots_sent == 2  # flushed once

    asyncio.run(main())


def test_fast_settings_points_at_the_emulator_with_small_timers() -> None:
    class Conn:
        @staticmethod
        def emulated_settings(emulator: Any) -> dict[str, Any]:
            return {"ws_url": "ws://x"}

        @staticmethod
        def Settings(**values: Any) -> dict[str, Any]:  # noqa: N802 - mimics a class
            return values

    s = fast_settings(Conn, EmulatorServer(tick_interval=None), idle_timeout=1.0)
    assert s["ws_url"] == "ws://x" and s["idle_timeout"] == 1.0 and s["stale_after"] == 0.2
