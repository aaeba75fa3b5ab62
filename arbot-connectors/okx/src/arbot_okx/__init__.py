"""ArBot's OKX (v5) connector (``okx``): spot and swaps.

Modules: :mod:`~arbot_okx.symbols` (instId <-> unified symbol), :mod:`~arbot_okx.markets`
(instrument metadata -> :class:`~arbot.market.MarketInfo`), :mod:`~arbot_okx.messages`
(typed decoding of ``books``/``trades`` pushes into core records), :mod:`~arbot_okx.sync`
(the seqId rule, when the CRC32 checksum applies), :mod:`~arbot_okx.replay` (the replay
decoder and the book bootstrap shared with the live connector), :mod:`~arbot_okx.connector`
(the live connector on core's :class:`~arbot.connectors.base.StreamingConnector`) and
:mod:`~arbot_okx.emulator` (an OKX emulator for tests).
"""

from arbot_okx.connector import VENUE, OkxConnector, OkxSettings
from arbot_okx.replay import OkxReplayDecoder

__all__ = ["VENUE", "OkxConnector", "OkxReplayDecoder", "OkxSettings"]
