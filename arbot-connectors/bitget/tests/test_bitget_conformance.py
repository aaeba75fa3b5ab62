"""The arbot-core connector conformance suite against Bitget's own emulator."""

from __future__ import annotations

from arbot.testing.emulator import ConnectorConformance
from arbot_bitget import BitgetConnector


class TestBitgetConformance(ConnectorConformance):
    """Every conformance test, Bitget flavour.
    Bitget's ``seq`` only orders messages (no ``prevSeq``, no promised contiguity), so a lost
    update is caught by the next update's checksum: the gap scenario watches
    ``checksum_failures``."""

    connector_class = BitgetConnector
    emulator_seed = 9
    gap_counter = "checksum_failures"
