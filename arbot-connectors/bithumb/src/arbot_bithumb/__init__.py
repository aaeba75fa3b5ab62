"""ArBot Bithumb connector package: the I/O-free protocol layer (KRW and BTC markets).

Modules: :mod:`~arbot_bithumb.symbols` (``BTC_KRW`` / ``KRW-BTC`` <-> ``BTC/KRW``),
:mod:`~arbot_bithumb.markets`, :mod:`~arbot_bithumb.messages` (legacy ``orderbookdepth``/
``transaction`` and current ``orderbook``/``trade`` decoding), :mod:`~arbot_bithumb.sync` and
:mod:`~arbot_bithumb.replay`.
"""

from arbot_bithumb.replay import BithumbReplayDecoder

VENUE = "bithumb"

__all__ = ["VENUE", "BithumbReplayDecoder"]
