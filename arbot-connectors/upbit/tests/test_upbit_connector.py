"""Upbit connector specifics: plugin, binary and text frames, ``PING`` keep-alive, request
errors, tick sizes from the instruments endpoint, SIMPLE format."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from arbot.errors import ArbotError
from arbot.events import BookUpdate, TradeTick
from arbot.plugins import PluginHost
from arbot.testing.emulator import books_equal, make_context
from arbot_upbit import UpbitConnector
from arbot_upbit.emulator import UpbitEmulator, emulator_settings


def test_upbit_is_registered() -> None:
    assert PluginHost().resolve("connector", "upbit") is UpbitConnector


async def _poll(check: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not check():
            await asyncio.sleep(0.005)


class _TextUpbit(UpbitEmulator):
    binary_frames = False


@pytest.mark.parametrize("emulator_cls", [UpbitEmulator, _TextUpbit])
@pytest.mark.parametrize("fmt", ["DEFAULT", "SIMPLE"])
def test_binary_and_text_frames_in_both_formats(emulator_cls: type[UpbitEmulator],
                                                 fmt: str) -> None:
    async def main() -> None:
        async with emulator_cls(("BTC/KRW",), seed=9) as emu:
            ctx = make_context()
            events: list[object] = []
            conn = UpbitConnector(emulator_settings(emu, format=fmt), ctx, events.append)
            await conn.connect()
            await conn.subscribe_orderbook(["BTC/KRW"])
            await conn.subscribe_trades(["BTC/KRW"])
            await _poll(lambda: any(isinstance(e, TradeTick) for e in events)
                        and any(isinstance(e, BookUpdate) and not e.snapshot for e in events))
            emu.pause()
            book = ctx.market.book("upbit", "BTC/KRW")
            await _poll(lambda: books_equal(book, emu.true_book("BTC/KRW")))
            assert conn.stats()["garbage_frames"] == 0
            await conn.close()

    asyncio.run(main())


def test_ping_status_and_request_errors() -> None:
    async def main() -> None:
        async with UpbitEmulator(("BTC/KRW",), tick_interval=None) as emu:
            conn = UpbitConnector(emulator_settings(emu, ping_interval=0.03, idle_timeout=None),
                                  make_context())
            await conn.connect()
            await _poll(lambda: conn.feeds[0].ws.stats.messages >= 3)  # {"status":"UP"} replies
            assert conn.stats()["garbage_frames"] == 0 and conn.stats()["control_errors"] == 0
            await conn.feeds[0].ws.send('[{"type":"orderbook","codes":["KRW-BTC"]}]')  # no ticket
            await _poll(lambda: conn.stats()["control_errors"] == 1)
            await conn.close()

    asyncio.run(main())


def test_markets_with_tick_sizes() -> None:
    async def main() -> None:
        async with UpbitEmulator(("BTC/KRW", "ETH/KRW", "XRP/KRW")) as emu:
            conn = UpbitConnector(emulator_settings(emu), make_context())
            infos = {i.symbol: i for i in await conn.load_markets()}
            assert infos["BTC/KRW"].tick_size == 1000.0 and infos["XRP/KRW"].tick_size == 1.0
            assert infos["BTC/KRW"].min_notional == 5000 and infos["BTC/KRW"].taker_fee == 0.0005
            assert conn.venue_symbol("XRP/KRW") == "KRW-XRP"
            with pytest.raises(ArbotError):
                conn.venue_symbol("XRP/BTC")
            await conn.close()

    asyncio.run(main())

