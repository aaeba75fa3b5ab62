"""Bybit connector specifics against the emulator: plugin registration, JSON ping/pong, the
``u == 1`` restart snapshot, resync of one symbol by resubscribing, failed requests."""

from __future__ import annotations

import asyncio

from arbot.components import MarketEvent
from arbot.events import BookUpdate
from arbot.plugins import PluginHost
from arbot.testing.emulator import ConformanceSession, books_equal, make_context
from arbot_bybit import BybitConnector, BybitReplayDecoder
from arbot_bybit.emulator import BybitEmulator, emulator_settings

SYMS = ["BTC/USDT", "ETH/USDT"]


def test_bybit_plugin_registers_the_connector() -> None:
    assert PluginHost().resolve("connector", "bybit") is BybitConnector
    assert isinstance(BybitConnector.replay_decoder(), BybitReplayDecoder)



def test_bybit_ping_pong_and_restart_snapshot() -> None:
    async def main() -> None:
        async with BybitEmulator(SYMS, seed=3) as emu:
            ctx = make_context()
            events: list[MarketEvent] = []
            conn = BybitConnector(emulator_settings(emu, ping_interval=0.05), ctx, events.append)
            sess = ConformanceSession(emu, conn, ctx, events, SYMS)
            await conn.connect()
            await conn.subscribe_orderbook(SYMS)
            await sess.wait_for(lambda: all(ctx.market.is_live("bybit", x) for x in SYMS), 5.0, "condition")
            await sess.wait_for(lambda: conn.stats()["pongs"] >= 3, 5.0, "condition")
            assert emu.pings >= 3
            y0 = conn.stats()["resyncs"]
            emu.restart("BTC/USDT")
            await sess.wait_for(lambda: conn.stats()["restarts"] == 1, 5.0, "condition")
            d0 = conn.stats()["deltas"]
            await sess.wait_for(lambda: conn.stats()["deltas"] > d0 + 10, 5.0, "condition")
            st = conn.stats()
            assert st["resyncs"] == y0 and st["gaps"] == 0 and emu.u["BTCUSDT"] < 1000
            emu.pause()
            await asyncio.sleep(0.05)
            assert books_equal(ctx.market.book("bybit", "BTC/USDT"), emu.true_book("BTC/USDT"))
            await conn.close()

    asyncio.run(main())


def test_bybit_resync_one_symbol_and_failed_request() -> None:
    async def main() -> None:
        async with BybitEmulator(SYMS, seed=4) as emu:
            ctx = make_context()
            events: list[MarketEvent] = []
            conn = BybitConnector(emulator_settings(emu), ctx, events.append)
            sess = ConformanceSession(emu, conn, ctx, events, SYMS)
            await conn.connect()
            await conn.subscribe_orderbook(SYMS)
            await sess.wait_for(lambda: all(ctx.market.is_live("bybit", x) for x in SYMS), 5.0, "condition")
            sent0, n0 = emu.snapshots_sent, len(events)
            conn.resync("ETH/USDT")
            assert not ctx.market.is_live("bybit", "ETH/USDT")
            await sess.wait_for(lambda: ctx.market.is_live("bybit", "ETH/USDT"), 5.0, "condition")
            st = conn.stats()
            assert st["resubscribes"] == 1 and st["resyncs:ETH/USDT"] == 1
            assert "resyncs:BTC/USDT" not in st and emu.snapshots_sent == sent0 + 1
            snaps = [e for e in events[n0:] if isinstance(e, BookUpdate) and e.snapshot]
            assert [e.symbol for e in snaps] == ["ETH/USDT"]
            await conn.feeds[0].ws.send('{"op":"subscribe","args":["orderbook.7.NOPE"]}')
            await sess.wait_for(lambda: conn.stats()["control_errors"] == 1, 5.0, "condition")
            assert ctx.market.is_live("bybit", "BTC/USDT")
            await conn.close()

    asyncio.run(main())


def test_bybit_live_frame_path_matches_replay_on_the_real_dump() -> None:
    """The raw lines of the orderbook.500 dump through the live handler give the replay's book."""
    import json

    from arbot.market import MarketState
    from arbot.testing import shared_data
    from arbot_bybit.protocol import BybitProtocol
    from arbot_bybit.replay import bybit_bootstrap

    protocol = BybitProtocol(500)
    live = bybit_bootstrap(MarketState(), None, depth=500, category="linear")
    replay = BybitReplayDecoder(category="linear")
    with shared_data("ws/bybit/bybit_v5_linear_orderbook500_xrpusdt_2024-12-01T0000.ndjson").open() as fh:
        lines = fh.read().splitlines()
    for i, line in enumerate(lines):
        records = protocol.decode(line.encode())
        assert isinstance(records, list)
        live.records(records, float(i))
        replay.feed(json.loads(line), float(i))
    assert live.sync.stats.deltas == 49 and live.sync.stats.gaps == 0
    assert books_equal(live.sync.book("XRP/USDT:USDT"), replay.books["XRP/USDT:USDT"])
