"""The arbot-core connector conformance suite, run against the OKX emulator (checksum 0, as
the live venue sends since June 2026, and real CRC32 checksums)."""

from __future__ import annotations

from typing import Any, ClassVar

from arbot.testing.emulator import ConnectorConformance, EmulatorServer
from arbot_okx import OkxConnector
from arbot_okx.emulator import OkxEmulator


class TestOkxConformance(ConnectorConformance):
    """Every conformance test, OKX flavour (seqId/prevSeqId only; checksum fixed to 0)."""

    connector_class = OkxConnector
    emulator_seed = 5


class TestOkxConformanceCrc32(TestOkxConformance):
    """The same with the historical CRC32 checksum on every push (bad-checksum fault runs)."""

    def make_emulator(self) -> EmulatorServer:
        return OkxEmulator(self.symbols, seed=6, tick_interval=0.02, checksum=True)


class TestOkxSpotAndSwapConformance(TestOkxConformance):
    """The whole suite on one connector serving a spot book and the linear perpetual of the
    same pair (``BTC-USDT`` and ``BTC-USDT-SWAP`` on one socket): what a spot-perp basis bot
    watches. Each book must converge on its own symbol."""

    symbols: ClassVar[tuple[str, ...]] = ("BTC/USDT", "BTC/USDT:USDT")
    connector_settings: ClassVar[dict[str, Any]] = {"market_types": ["spot", "linear"]}
