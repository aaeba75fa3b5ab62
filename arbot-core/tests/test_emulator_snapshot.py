"""Emulator kit: the public ``paused`` flag and the snapshot-holding base."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from arbot.components import Connector
from arbot.testing.emulator import EmulatorClient, EmulatorServer, StreamSnapshotEmulator, fast_settings


class _Recorder(StreamSnapshotEmulator):
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
    from arbot.connectors.base import StreamingSettings
    from arbot.testing.emulator import TEST_TIMERS

    class Conn(Connector):
        name = "t"
        Settings = StreamingSettings

        @classmethod
        def emulated_settings(cls, emulator: EmulatorServer) -> dict[str, Any]:
            return {"ws_url": "ws://x"}

    s = fast_settings(Conn, EmulatorServer(tick_interval=None), idle_timeout=1.0)
    assert isinstance(s, StreamingSettings)
    assert s.ws_url == "ws://x" and s.idle_timeout == 1.0
    assert s.stale_after == TEST_TIMERS["stale_after"] == 0.2


class _NoEmulator(Connector):
    """A connector that ships no emulator (the base ``emulator()`` raises)."""

    name = "bare"

    async def connect(self) -> None: ...
    async def subscribe_orderbook(self, symbols: list[str], depth: int = 10) -> None: ...
    async def subscribe_trades(self, symbols: list[str]) -> None: ...
    async def load_markets(self) -> list[Any]:
        return []
    async def close(self) -> None: ...


def test_a_connector_without_an_emulator_fails_conformance_clearly() -> None:
    import pytest
    from arbot.testing.emulator import ConnectorConformance

    class Suite(ConnectorConformance):
        connector_class = _NoEmulator

    with pytest.raises(pytest.fail.Exception,
                       match=r"'bare' ships no emulator.*part of the connector contract"):
        Suite().test_books_converge()

    class Unnamed(ConnectorConformance):
        pass

    with pytest.raises(pytest.fail.Exception, match="set connector_class"):
        Unnamed().test_books_converge()
