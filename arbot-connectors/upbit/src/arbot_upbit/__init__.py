"""ArBot Upbit connector package: the I/O-free protocol layer (KRW, BTC and USDT markets).

Modules: :mod:`~arbot_upbit.symbols` (``KRW-BTC`` <-> ``BTC/KRW``), :mod:`~arbot_upbit.markets`,
:mod:`~arbot_upbit.messages` (SIMPLE and DEFAULT ``orderbook``/``trade`` decoding),
:mod:`~arbot_upbit.sync` (full-snapshot replacement, stale drop) and :mod:`~arbot_upbit.replay`.
"""

from arbot_upbit.replay import UpbitReplayDecoder

VENUE = "upbit"

__all__ = ["VENUE", "UpbitReplayDecoder"]
