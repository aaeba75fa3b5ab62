"""Bithumb connector specifics: plugin, request frame (no depth suffix, ``isDetails``), text
frames with µs string timestamps."""

from __future__ import annotations

import asyncio

import msgspec
from arbot.plugins import PluginHost
from arbot.testing.emulator import make_context
from arbot_bithumb import BithumbConnector
from arbot_bithumb.emulator import BithumbEmulator, emulator_settings


def test_bithumb_is_registered() -> None:
    assert PluginHost().resolve("connector", "bithumb") is BithumbConnector


def test_request_frame_and_microsecond_timestamps() -> None:
    async def main() -> None:
        async with BithumbEmulator(("BTC/KRW",), seed=4) as emu:
            ctx = make_context()
            conn = BithumbConnector(emulator_settings(emu), ctx)
            await conn.connect()
            await conn.subscribe_orderbook(["BTC/KRW"])
            await conn.subscribe_trades(["BTC/KRW"])
            (request,) = conn.feeds[0].ws.subscriptions
            parts = msgspec.json.decode(request)
            assert parts[1] == {"type": "orderbook", "codes": ["KRW-BTC"]}
            assert parts[2] == {"type": "trade", "codes": ["KRW-BTC"]}
            async with asyncio.timeout(5):
                while not ctx.market.is_live("bithumb", "BTC/KRW"):
                    await asyncio.sleep(0.005)
            book = ctx.market.book("bithumb", "BTC/KRW")
            assert book.exchange_ts is not None
            assert 1.7e9 < book.exchange_ts < 4e9  # µs string normalised to seconds
            await conn.close()

    asyncio.run(main())

