"""ArBot Bybit (v5) connector package: the I/O-free protocol layer.

Modules: :mod:`~arbot_bybit.symbols`, :mod:`~arbot_bybit.markets`,
:mod:`~arbot_bybit.messages` (typed ``orderbook.*``/``publicTrade.*`` decoding),
:mod:`~arbot_bybit.sync` (``u`` continuity, ``u == 1`` reset) and :mod:`~arbot_bybit.replay`.
"""

from arbot_bybit.replay import BybitReplayDecoder

VENUE = "bybit"

__all__ = ["VENUE", "BybitReplayDecoder"]
