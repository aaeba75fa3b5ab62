"""ArBot Upbit connector (``upbit``): full top-N ``orderbook`` and ``trade`` streams, market
metadata, capture replay and an emulator. Bithumb's current API clones Upbit's; the
``arbot-bithumb`` package builds on this one.
"""

from arbot_upbit.connector import UpbitConnector, UpbitSettings
from arbot_upbit.replay import UpbitReplayDecoder

VENUE = "upbit"

__all__ = ["VENUE", "UpbitConnector", "UpbitReplayDecoder", "UpbitSettings"]
