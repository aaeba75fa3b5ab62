"""ArBot's Bybit v5 spot connector (``bybit``).

Modules: :mod:`~arbot_bybit.symbols` (core ``SymbolMap`` with Bybit ids),
:mod:`~arbot_bybit.markets` (instruments-info -> ``MarketInfo``), :mod:`~arbot_bybit.messages`
(typed ``orderbook.*``/``publicTrade.*`` decoding), :mod:`~arbot_bybit.sync` (the ``u`` rule for
core ``BookSync``), :mod:`~arbot_bybit.protocol` (the wire protocol),
:mod:`~arbot_bybit.replay`, :mod:`~arbot_bybit.connector` and :mod:`~arbot_bybit.emulator`.
"""

from arbot_bybit.connector import BybitConnector, BybitSettings
from arbot_bybit.replay import BybitReplayDecoder

VENUE = "bybit"

__all__ = ["VENUE", "BybitConnector", "BybitReplayDecoder", "BybitSettings"]
