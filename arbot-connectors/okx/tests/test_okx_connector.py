"""OKX connector specifics against the emulator: plugin registration, text ping/pong, the
documented sequence exceptions (heartbeat, maintenance reset), resync of one symbol by
resubscribing, error events, replay decoder of the connector."""

from __future__ import annotations

import asyncio

from arbot.components import MarketEvent
from arbot.events import BookUpdate
from arbot.plugins import PluginHost
from arbot.testing.emulator import ConformanceSession, books_equal, make_context
from arbot_okx import OkxConnector, OkxReplayDecoder
from arbot_okx.emulator import OkxEmulator, emulator_settings


def test_okx_plugin_registers_the_connector() -> None:
    host = PluginHost()
    assert host.resolve("connector", "okx") is OkxConnector
    assert isinstance(OkxConnector.replay_decoder(), OkxReplayDecoder)



def test_okx_ping_pong_heartbeats_and_sequence_reset() -> None:
    async def main() -> None:
        async with OkxEmulator(("BTC/USDT", "ETH/USDT"), seed=3, heartbeat_probability=0.3) as emu:
            ctx = make_context()
            events: list[MarketEvent] = []
            conn = OkxConnector(emulator_settings(emu, ping_interval=0.05), ctx, events.append)
            sess = ConformanceSession(emu, conn, ctx, events, ["BTC/USDT", "ETH/USDT"])
            await conn.connect()
            await conn.subscribe_orderbook(["BTC/USDT", "ETH/USDT"])
            await sess.wait_for(lambda: ctx.market.is_live("okx", "BTC/USDT"), 5.0, "condition")
            await sess.wait_for(lambda: conn.stats()["pongs"] >= 3, 5.0, "condition")
            assert emu.pings >= 3
            # empty heartbeat updates (seqId == prevSeqId) were applied, not gaps
            await sess.wait_for(lambda: conn.stats()["deltas"] > 40, 5.0, "condition")
            assert conn.stats()["gaps"] == 0
            # maintenance: seqId restarts below prevSeqId; accepted without a resync
            y0 = conn.stats()["resyncs"]
            emu.reset_sequence("BTC/USDT")
            await sess.wait_for(lambda: emu.seq["BTC-USDT"] < 100, 5.0, "condition")
            d0 = conn.stats()["deltas"]
            await sess.wait_for(lambda: conn.stats()["deltas"] > d0 + 10, 5.0, "condition")
            st = conn.stats()
            assert st["resyncs"] == y0 and st["gaps"] == 0
            emu.pause()
            await asyncio.sleep(0.05)
            assert books_equal(ctx.market.book("okx", "BTC/USDT"), emu.true_book("BTC/USDT"))
            await conn.close()

    asyncio.run(main())


def test_okx_resync_one_symbol_resubscribes() -> None:
    async def main() -> None:
        async with OkxEmulator(("BTC/USDT", "ETH/USDT"), seed=4) as emu:
            ctx = make_context()
            events: list[MarketEvent] = []
            conn = OkxConnector(emulator_settings(emu), ctx, events.append)
            sess = ConformanceSession(emu, conn, ctx, events, ["BTC/USDT", "ETH/USDT"])
            await conn.connect()
            await conn.subscribe_orderbook(["BTC/USDT", "ETH/USDT"])
            await conn.subscribe_trades(["BTC/USDT"])
            await sess.wait_for(lambda: all(ctx.market.is_live("okx", x) for x in sess.symbols), 5.0,
                                "live books")
            sent0 = emu.snapshots_sent
            n0 = len(events)
            conn.resync("BTC/USDT")
            assert not ctx.market.is_live("okx", "BTC/USDT")
            await sess.wait_for(lambda: ctx.market.is_live("okx", "BTC/USDT"), 5.0, "condition")
            st = conn.stats()
            assert st["resubscribes"] == 1 and st["resyncs:BTC/USDT"] == 1
            assert "resyncs:ETH/USDT" not in st and emu.snapshots_sent == sent0 + 1
            snaps = [e for e in events[n0:] if isinstance(e, BookUpdate) and e.snapshot]
            assert [e.symbol for e in snaps] == ["BTC/USDT"] and all(e.applied for e in snaps)
            # a bad subscription is answered with an error event, counted, harmless
            await conn.feeds[0].ws.send('{"op":"subscribe","args":[{"channel":"books","instId":"NOPE-X"}]}')
            await sess.wait_for(lambda: conn.stats()["control_errors"] == 1, 5.0, "condition")
            assert ctx.market.is_live("okx", "ETH/USDT")
            await conn.close()

    asyncio.run(main())


def test_okx_live_frame_path_matches_replay_on_the_real_capture() -> None:
    """The raw frames of the 2022 capture through the live handler give the replay's books."""
    import msgspec
    from arbot.connectors.records import Control
    from arbot.market import MarketState
    from arbot.sources.replay import iter_capture
    from arbot.testing import shared_data
    from arbot_okx.connector import okx_protocol
    from arbot_okx.replay import okx_bootstrap

    protocol = okx_protocol()
    live = okx_bootstrap(MarketState(), None)
    replay = OkxReplayDecoder()
    for ts, kind, msg, _ in iter_capture(shared_data("ws/okx/cf_okx_books_trades_tickers_2022-05-13.ndjson")):
        if kind == "in":
            out = protocol.decode(msgspec.json.encode(msg))
            if not isinstance(out, Control):
                live.records(out, ts)
            replay.feed(msg, ts)
    assert live.counters()["checksum_ok"] == replay.counters["checksum_ok"] == 290
    assert live.sync.symbols() == replay.sync.symbols()
    for sym in live.sync.symbols():
        assert live.sync.is_live(sym)
        assert books_equal(live.sync.book(sym), replay.books[sym])
