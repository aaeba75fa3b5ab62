"""Bitget connector specifics against the emulator: plugin registration, symbols metadata,
text ping/pong, v2 subscribe args, one-symbol resync, error events."""

from __future__ import annotations

import asyncio

from arbot.components import MarketEvent
from arbot.events import BookUpdate
from arbot.plugins import PluginHost
from arbot.testing.emulator import ConformanceSession, make_context
from arbot_bitget import BitgetConnector, BitgetReplayDecoder
from arbot_bitget.emulator import BitgetEmulator, emulator_settings

SYMS = ["BTC/USDT", "ETH/USDT"]


def test_bitget_plugin_registers_the_connector() -> None:
    assert PluginHost().resolve("connector", "bitget") is BitgetConnector
    assert isinstance(BitgetConnector.replay_decoder(), BitgetReplayDecoder)



def test_bitget_markets_ping_resync_and_errors() -> None:
    async def main() -> None:
        async with BitgetEmulator(SYMS, seed=4) as emu:
            ctx = make_context()
            events: list[MarketEvent] = []
            conn = BitgetConnector(emulator_settings(emu, ping_interval=0.05), ctx, events.append)
            sess = ConformanceSession(emu, conn, ctx, events, SYMS)
            infos = {i.symbol: i for i in await conn.load_markets()}
            assert set(infos) == set(SYMS) and conn.venue_symbol("ETH/USDT") == "ETHUSDT"
            assert infos["BTC/USDT"].tick_size == 0.1 and infos["BTC/USDT"].taker_fee == 0.001
            await conn.connect()
            await conn.subscribe_orderbook(SYMS)
            await conn.subscribe_trades(SYMS)
            await sess.wait_for(lambda: all(ctx.market.is_live("bitget", x) for x in SYMS), 5.0, "condition")
            await sess.wait_for(lambda: conn.stats()["pongs"] >= 3 and conn.stats()["checksum_ok"] > 20,
                                5.0, "pongs and checksums")
            assert emu.pings >= 3 and conn.stats()["checksum_failures"] == 0
            sent0, n0 = emu.snapshots_sent, len(events)
            conn.resync("ETH/USDT")
            await sess.wait_for(lambda: ctx.market.is_live("bitget", "ETH/USDT"), 5.0, "condition")
            st = conn.stats()
            assert st["resubscribes"] == 1 and st["resyncs:ETH/USDT"] == 1
            assert "resyncs:BTC/USDT" not in st and emu.snapshots_sent == sent0 + 1
            snaps = [e for e in events[n0:] if isinstance(e, BookUpdate) and e.snapshot]
            assert [e.symbol for e in snaps] == ["ETH/USDT"]
            # the v2 arg shape is required: without instType the emulator answers an error
            await conn.feeds[0].ws.send('{"op":"subscribe","args":[{"channel":"books","instId":"BTCUSDT"}]}')
            await sess.wait_for(lambda: conn.stats()["control_errors"] == 1, 5.0, "condition")
            assert ctx.market.is_live("bitget", "BTC/USDT")
            await conn.close()

    asyncio.run(main())


def test_bitget_live_frame_path_matches_replay_on_the_real_capture() -> None:
    """The raw frames of the v1 capture through the live handler give the replay's books."""
    import msgspec
    from arbot.connectors.records import Control
    from arbot.market import MarketState
    from arbot.sources.replay import iter_capture
    from arbot.testing import shared_data
    from arbot.testing.emulator import books_equal
    from arbot_bitget.replay import bitget_bootstrap

    protocol = BitgetConnector(BitgetConnector.Settings(), make_context()).feeds[0].protocol
    live = bitget_bootstrap(MarketState(), None)
    replay = BitgetReplayDecoder()
    path = shared_data("ws/bitget/cf_bitget_spot_v1_books_trade_ticker_2022-04-07.ndjson.gz")
    for ts, kind, msg, _ in iter_capture(path):
        if kind == "in":
            out = protocol.decode(msgspec.json.encode(msg))
            if not isinstance(out, Control):
                live.records(out, ts)
            replay.feed(msg, ts)
    assert live.counters()["checksum_ok"] == replay.counters["checksum_ok"] == 443
    assert live.sync.stats.checksum_failures == 0 and len(live.sync.symbols()) == 8
    for sym in live.sync.symbols():
        assert books_equal(live.sync.book(sym), replay.books[sym])
