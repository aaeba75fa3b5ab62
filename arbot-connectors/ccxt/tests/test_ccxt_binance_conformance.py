"""The arbot-core connector conformance suite, run through ccxt.pro ``binance`` against the
Binance emulator (ccxt's REST and WebSocket URLs pointed at it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from arbot.components import BotContext, Connector, MarketEvent
from arbot.testing.emulator import ConformanceSession, ConnectorConformance, EmulatorServer
from arbot_ccxt import CcxtConnector, CcxtSettings

emulator_mod = pytest.importorskip("arbot_binance.emulator")


def ccxt_binance_settings(emulator: EmulatorServer, **extra: Any) -> CcxtSettings:
    """ccxt ``binance`` pointed at the emulator: spot markets only, no private currency call."""
    values: dict[str, Any] = dict(
        exchange_id="binance",
        venue="ccxt",  # the conformance suite looks books up under ``connector.name``
        urls={"api": {"public": emulator.http_url + "/api/v3",
                      "ws": {"spot": emulator.ws_url + "/ws"}}},
        options={"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False},
        # the emulator enforces no weight limit: shrink ccxt's own REST throttle (binance:
        # 50 ms per weight unit; a 1000-level spot depth snapshot weighs 10, i.e. 500 ms of
        # ccxt's token bucket) so that two books resyncing at once are both rebuilt within the
        # suite's 1 s recovery budget
        config={"rateLimit": 5},
        retry_delay=0.02, retry_delay_max=0.2,
    )
    values.update(extra)
    return CcxtSettings(**values)


class TestCcxtBinanceConformance(ConnectorConformance):
    """Every conformance test, through ccxt.pro binance."""

    def make_emulator(self) -> EmulatorServer:
        emulator: EmulatorServer = emulator_mod.BinanceEmulator(self.symbols, seed=11,
                                                                tick_interval=0.02)
        return emulator

    def make_connector(self, emulator: EmulatorServer, ctx: BotContext,
                       on_event: Callable[[MarketEvent], None]) -> Connector:
        return CcxtConnector(ccxt_binance_settings(emulator), ctx, on_event)

    def test_ccxt_survives_frames_that_stop_plain_ccxt(self) -> None:
        """Frames that, in plain ccxt 4.5, raise inside its receive callback and stop the
        connection's receive loop for good (non-JSON text, broken JSON, undecodable binary) are
        counted as garbage here and the books keep following the stream."""

        async def scenario(s: ConformanceSession) -> None:
            g0, y0 = s.stat("garbage_frames"), s.stat("resyncs")
            for junk in ("{broken json", "not json at all", b"\x80\x81 junk"):
                assert await s.emulator.send_garbage(junk) >= 1
            await s.wait_for(lambda: s.stat("garbage_frames") >= g0 + 3, 1.0, "garbage counted")
            n0 = len(s.events)
            await s.wait_deltas(5)
            assert len(s.events) > n0
            assert s.stat("resyncs") == y0
            await s.check_steady()

        self.run(scenario)
