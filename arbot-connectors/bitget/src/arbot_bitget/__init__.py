"""ArBot's Bitget connector (``bitget``; API v2 spot and USDT perpetuals live, v1 and v2
spot captures in replay).

Modules: :mod:`~arbot_bitget.symbols` (core ``SymbolMap`` with Bitget ids),
:mod:`~arbot_bitget.markets` (symbols/contracts -> ``MarketInfo``), :mod:`~arbot_bitget.messages`
(typed ``books``/``trade`` decoding into core records), :mod:`~arbot_bitget.sync` (the ``seq``
rule), :mod:`~arbot_bitget.replay` (the book bootstrap and the replay decoder),
:mod:`~arbot_bitget.connector` and :mod:`~arbot_bitget.emulator`.
"""

from arbot_bitget.connector import VENUE, BitgetConnector, BitgetSettings
from arbot_bitget.replay import BitgetReplayDecoder

__all__ = ["VENUE", "BitgetConnector", "BitgetReplayDecoder", "BitgetSettings"]
