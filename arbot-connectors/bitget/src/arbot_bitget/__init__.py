"""ArBot's Bitget spot connector (``bitget``; API v2 live, v1 and v2 captures in replay).

Modules: :mod:`~arbot_bitget.symbols` (core ``SymbolMap`` with Bitget ids),
:mod:`~arbot_bitget.markets` (products/symbols -> ``MarketInfo``), :mod:`~arbot_bitget.messages`
(typed ``books``/``trade`` decoding), :mod:`~arbot_bitget.sync` (``seq`` rule for core
``BookSync``; the CRC32 checksum, shared with OKX), :mod:`~arbot_bitget.handler`,
:mod:`~arbot_bitget.replay`, :mod:`~arbot_bitget.connector` and :mod:`~arbot_bitget.emulator`.
"""

from arbot_bitget.connector import BitgetConnector, BitgetSettings
from arbot_bitget.handler import VENUE
from arbot_bitget.replay import BitgetReplayDecoder

__all__ = ["VENUE", "BitgetConnector", "BitgetReplayDecoder", "BitgetSettings"]
