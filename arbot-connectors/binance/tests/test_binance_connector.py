"""Binance connector specifics: plugin registration, recording-driven emulator, REST 429
recovery, server-shutdown notice, symbol mapping."""

from __future__ import annotations

import asyncio

import pytest
from arbot.errors import ArbotError
from arbot.events import BookUpdate
from arbot.plugins import PluginHost
from arbot.sources.replay import iter_capture
from arbot.testing import shared_data
from arbot.testing.emulator import Recording, make_context
from arbot_binance import BinanceConnector, BinanceReplayDecoder
from arbot_binance.connector import depth_weight
from arbot_binance.emulator import BinanceEmulator
from arbot_binance.emulator import emulator_settings as fast_settings


def test_plugin_registers_the_connector() -> None:
    host = PluginHost()
    assert host.resolve("connector", "binance") is BinanceConnector


def test_depth_weights() -> None:
    assert [depth_weight(n) for n in (5, 100, 500, 1000, 5000)] == [5, 5, 25, 50, 250]


async def _until(cond: object, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():  # type: ignore[operator]
        assert loop.time() < end, "condition not reached"
        await asyncio.sleep(0.005)


def test_symbol_mapping_and_rest_429_recovery() -> None:
    async def main() -> None:
        async with BinanceEmulator(("BTC/USDT",), seed=2) as emu:
            ctx = make_context()
            conn = BinanceConnector(fast_settings(emu), ctx)
            infos = await conn.load_markets()
            assert {i.symbol for i in infos} == {"BTC/USDT"}
            assert conn.venue_symbol("BTC/USDT") == "BTCUSDT"
            assert ctx.market.market("binance", "BTC/USDT") is not None
            with pytest.raises(ArbotError):
                conn.venue_symbol("NOPE/USDT")
            emu.fail_http(429, count=1, retry_after=0.05)
            await conn.connect()
            await conn.subscribe_orderbook(["BTC/USDT"])
            await _until(lambda: ctx.market.is_live("binance", "BTC/USDT"))
            st = conn.stats()
            assert st["rest_rate_limited"] == 1 and st["rest_retries"] >= 1
            await conn.close()

    asyncio.run(main())


def test_server_shutdown_notice_reconnects() -> None:
    async def main() -> None:
        async with BinanceEmulator(("BTC/USDT",), seed=3) as emu:
            ctx = make_context()
            conn = BinanceConnector(fast_settings(emu, idle_timeout=None), ctx)
            await conn.connect()
            await conn.subscribe_orderbook(["BTC/USDT"])
            await _until(lambda: ctx.market.is_live("binance", "BTC/USDT"))
            r0 = conn.stats()["reconnects"]
            for c in list(emu.clients):
                await c.send('{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1}}')
            await _until(lambda: conn.stats()["reconnects"] > r0)
            await _until(lambda: ctx.market.is_live("binance", "BTC/USDT"))
            await conn.close()

    asyncio.run(main())


@pytest.mark.shared_data
def test_recording_driven_emulator_gives_the_replay_book() -> None:
    """The live connector, fed a real capture by the emulator, ends with the same book as the
    replay decoder on the same file."""
    path = shared_data("ws/binance/hbt_binance_spot_btcusdt_first20s_2024-08-08.ndjson")
    dec = BinanceReplayDecoder()
    for ts, kind, payload, url in iter_capture(path):
        if kind == "rest":
            dec.snapshot(url or "", payload, ts)
        elif kind == "in":
            dec.feed(payload, ts)
    expected = dec.market.book("binance", "BTC/USDT")
    n_depth = dec.sync.stats.deltas + dec.sync.stats.stale_deltas

    async def main() -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        emu = BinanceEmulator(("BTC/USDT",), recording=Recording(path))
        async with emu:
            ctx = make_context()
            events: list[object] = []
            conn = BinanceConnector(fast_settings(emu, idle_timeout=None, stale_after=None),
                                    ctx, events.append)
            await conn.connect()
            await conn.subscribe_orderbook(["BTC/USDT"])
            await conn.subscribe_trades(["BTC/USDT"])
            await _until(lambda: conn.sync.stats.deltas + conn.sync.stats.stale_deltas
                         >= n_depth, 20.0)
            st = conn.stats()
            assert st["gaps"] == 0 and st["snapshots"] == 1 and st["resyncs"] == 0
            assert any(isinstance(e, BookUpdate) and e.snapshot for e in events)
            book = ctx.market.book("binance", "BTC/USDT")
            levels = list(book.bids), list(book.asks)
            await conn.close()
            # closing drops the book: nothing stale stays behind
            assert len(book.bids) == 0 and not ctx.market.is_live("binance", "BTC/USDT")
            return levels

    bids, asks = asyncio.run(main())
    assert bids == list(expected.bids) and asks == list(expected.asks)
