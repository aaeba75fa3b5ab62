"""The connector conformance suite (full-book flavour) against the Bithumb emulator."""

from __future__ import annotations

from typing import ClassVar

from arbot.testing.emulator import ConformanceSession, FullBookConformance
from arbot_bithumb import BithumbConnector


class TestBithumbConformance(FullBookConformance):
    """Every conformance test, Bithumb flavour (KRW markets)."""

    connector_class = BithumbConnector
    emulator_seed = 8
    symbols: ClassVar[tuple[str, ...]] = ("BTC/KRW", "XRP/KRW")

    def test_load_markets(self) -> None:
        """Bithumb publishes no tick sizes (``/v1/market/all`` lists codes and names only):
        the markets carry tick 0 ("no rounding"), step 1e-8 and the configured fee."""

        async def scenario(s: ConformanceSession) -> None:
            infos = {i.symbol: i for i in await s.connector.load_markets()}
            for sym in self.symbols:
                info = infos[sym]
                assert info.venue == "bithumb" and f"{info.base}/{info.quote}" == sym
                assert info.tick_size == 0.0 and info.step_size == 1e-8
                assert info.taker_fee == 0.0025

        self.run(scenario, subscribe=False)
