"""ArBot Upbit connector (``upbit``): full top-N ``orderbook`` and ``trade`` streams, market
metadata, capture replay and an emulator, on core's full-book bootstrap
(:class:`arbot.connectors.bootstrap.FullBook`).
"""

from arbot_upbit.connector import UpbitConnector, UpbitSettings
from arbot_upbit.replay import UpbitReplayDecoder

VENUE = "upbit"

__all__ = ["VENUE", "UpbitConnector", "UpbitReplayDecoder", "UpbitSettings"]
