"""ArBot KuCoin spot connector (``kucoin``): ``/market/level2`` books synced against REST
level-2 snapshots, ``/market/match`` trades, symbol metadata, capture replay and an emulator.

Modules: :mod:`~arbot_kucoin.symbols`, :mod:`~arbot_kucoin.markets`,
:mod:`~arbot_kucoin.messages`, :mod:`~arbot_kucoin.protocol`, :mod:`~arbot_kucoin.replay` (the
book bootstrap shared by the live connector and replay), :mod:`~arbot_kucoin.connector`,
:mod:`~arbot_kucoin.emulator`.
"""

from arbot_kucoin.connector import KucoinConnector, KucoinSettings
from arbot_kucoin.replay import VENUE, KucoinReplayDecoder

__all__ = ["VENUE", "KucoinConnector", "KucoinReplayDecoder", "KucoinSettings"]
