"""KuCoin connector specifics: plugin registration, bullet token + welcome (nothing sent
before it), JSON ping/pong, REST 429 recovery on snapshots, symbol mapping."""

from __future__ import annotations

import asyncio

import pytest
from arbot.errors import ArbotError
from arbot.plugins import PluginHost
from arbot.testing.emulator import make_context
from arbot_kucoin import KucoinConnector
from arbot_kucoin.emulator import KucoinEmulator, emulator_settings


def test_plugin_registers_the_connector() -> None:
    assert PluginHost().resolve("connector", "kucoin") is KucoinConnector


async def _until(cond: object, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():  # type: ignore[operator]
        assert loop.time() < end, "condition not reached"
        await asyncio.sleep(0.005)


def test_symbols_and_snapshot_429_recovery() -> None:
    async def main() -> None:
        async with KucoinEmulator(("BTC/USDT",), seed=2) as emu:
            ctx = make_context()
            conn = KucoinConnector(emulator_settings(emu), ctx)
            infos = await conn.load_markets()
            assert {i.symbol for i in infos} == {"BTC/USDT"}
            assert infos[0].tick_size == 0.1 and infos[0].min_notional == 0.1
            assert conn.venue_symbol("BTC/USDT") == "BTC-USDT"
            with pytest.raises(ArbotError):
                conn.venue_symbol("NOPE/USDT")
            await conn.connect()
            emu.fail_http(429, count=1, retry_after=0.05)  # the first snapshot request
            await conn.subscribe_orderbook(["BTC/USDT"])
            await _until(lambda: ctx.market.is_live("kucoin", "BTC/USDT"))
            st = conn.stats()
            assert st["rest_rate_limited"] == 1 and st["rest_retries"] >= 1
            assert emu.early_messages == 0  # subscriptions waited for the welcome
            await conn.close()

    asyncio.run(main())


def test_token_welcome_and_json_ping() -> None:
    async def main() -> None:
        async with KucoinEmulator(("BTC/USDT",), seed=3, ping_interval_ms=50) as emu:
            ctx = make_context()
            conn = KucoinConnector(emulator_settings(emu, idle_timeout=None), ctx)
            await conn.connect()
            assert conn.feeds[0].ws.heartbeat.app_ping_interval == pytest.approx(0.05)
            assert len(emu.tokens) == 1 and "token=" in conn.feeds[0].ws.url
            emu.pause()
            m0 = conn.feeds[0].ws.stats.messages
            # pings go out every 50 ms and each pong comes back
            await _until(lambda: conn.feeds[0].ws.stats.messages >= m0 + 3)
            assert conn.feeds[0].ws.stats.garbage_frames == 0 and conn.stats()["control_errors"] == 0
            await conn.close()

    asyncio.run(main())


def test_bad_token_is_refused_by_the_emulator() -> None:
    async def main() -> None:
        async with KucoinEmulator(("BTC/USDT",)) as emu:
            ctx = make_context()
            conn = KucoinConnector(emulator_settings(emu), ctx)
            await conn.load_markets()
            await conn.bullet()
            emu.tokens.clear()
            await conn.feeds[0].ws.start(wait=False)
            await _until(lambda: conn.stats()["control_errors"] >= 1)
            await conn.close()

    asyncio.run(main())

