"""The arbot-core connector conformance suite against Upbit's own emulator."""

from __future__ import annotations

from typing import ClassVar

from arbot.testing.emulator import FullBookConformance
from arbot_upbit import UpbitConnector


class TestUpbitConformance(FullBookConformance):
    """Every conformance test, Upbit flavour."""

    connector_class = UpbitConnector
    emulator_seed = 5
    symbols: ClassVar[tuple[str, ...]] = ("BTC/KRW", "ETH/KRW")
