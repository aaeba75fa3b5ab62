"""ArBot Upbit connector (``upbit``): full top-N ``orderbook`` and ``trade`` streams, market
metadata, capture replay and an emulator, on the core full-book venue family
(:mod:`arbot.connectors.fullbook`).
"""

from arbot_upbit.connector import UpbitConnector, UpbitSettings
from arbot_upbit.replay import UpbitReplayDecoder

VENUE = "upbit"

__all__ = ["VENUE", "UpbitConnector", "UpbitReplayDecoder", "UpbitSettings"]
