"""Gate connector specifics: plugin registration, ``spot.ping``/``spot.pong``, subscription
errors, REST failures while fetching a snapshot, pair metadata."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from arbot.errors import ArbotError
from arbot.plugins import PluginHost
from arbot.testing.emulator import make_context
from arbot_gate import GateConnector
from arbot_gate.emulator import GateEmulator, emulator_settings


def test_the_plugin_resolves_gate() -> None:
    assert PluginHost().resolve("connector", "gate") is GateConnector


async def _wait(pred: Callable[[], bool], limit: float = 5.0) -> None:
    async with asyncio.timeout(limit):
        while not pred():
            await asyncio.sleep(0.005)


def test_pairs_metadata_and_snapshot_after_http_errors() -> None:
    async def main() -> None:
        async with GateEmulator(("ETH/USDT",), seed=5) as emu:
            ctx = make_context()
            conn = GateConnector(emulator_settings(emu), ctx)
            (info,) = await conn.load_markets()
            assert (info.symbol, info.venue_symbol) == ("ETH/USDT", "ETH_USDT")
            assert info.tick_size == pytest.approx(0.01) and info.taker_fee == pytest.approx(0.002)
            with pytest.raises(ArbotError):
                conn.venue_symbol("ETH/BTC")
            await conn.connect()
            emu.fail_http(503, count=2, retry_after=None)
            await conn.subscribe_orderbook(["ETH/USDT"])
            await _wait(lambda: ctx.market.is_live("gate", "ETH/USDT"))
            assert emu.stats.http_failures == 2 and conn.stats()["snapshots"] >= 1
            await conn.close()

    asyncio.run(main())


def test_spot_ping_gets_spot_pong_and_errors_are_counted() -> None:
    async def main() -> None:
        async with GateEmulator(("BTC/USDT",), tick_interval=None) as emu:
            conn = GateConnector(emulator_settings(emu, ping_interval=0.03, idle_timeout=None),
                                 make_context())
            await conn.connect()
            await _wait(lambda: conn.feeds[0].ws.stats.messages >= 3)  # only pongs come back
            assert conn.stats()["garbage_frames"] == 0
            await conn.feeds[0].ws.send({"time": 0, "channel": "spot.nope", "event": "subscribe",
                                "payload": ["BTC_USDT"]})
            await _wait(lambda: conn.stats()["control_errors"] == 1)
            assert conn.stats()["reconnects"] == 0
            await conn.close()

    asyncio.run(main())


def test_explicit_resync_rebuilds_one_book_from_rest() -> None:
    async def main() -> None:
        async with GateEmulator(("BTC/USDT", "ETH/USDT"), seed=6) as emu:
            ctx = make_context()
            conn = GateConnector(emulator_settings(emu), ctx)
            await conn.connect()
            await conn.subscribe_orderbook(["BTC/USDT", "ETH/USDT"])
            await _wait(lambda: ctx.market.is_live("gate", "BTC/USDT")
                        and ctx.market.is_live("gate", "ETH/USDT"))
            n0 = emu.stats.http_requests
            conn.resync("BTC/USDT")
            assert len(ctx.market.book("gate", "BTC/USDT").bids) == 0
            await _wait(lambda: ctx.market.is_live("gate", "BTC/USDT"))
            st = conn.stats()
            assert st["resyncs:BTC/USDT"] == 1 and st.get("resyncs:ETH/USDT", 0) == 0
            assert emu.stats.http_requests > n0  # a new REST snapshot
            await conn.close()

    asyncio.run(main())
