"""ArBot KuCoin connector package: the I/O-free protocol layer (spot).

Modules: :mod:`~arbot_kucoin.symbols`, :mod:`~arbot_kucoin.markets`,
:mod:`~arbot_kucoin.messages` (typed ``trade.l2update``/``trade.l3match`` decoding),
:mod:`~arbot_kucoin.sync` (sequence calibration) and :mod:`~arbot_kucoin.replay`.
"""

from arbot_kucoin.replay import KucoinReplayDecoder

VENUE = "kucoin"

__all__ = ["VENUE", "KucoinReplayDecoder"]
