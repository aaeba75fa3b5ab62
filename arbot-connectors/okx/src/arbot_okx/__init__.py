"""ArBot's OKX (v5) spot connector (``okx``).

Modules: :mod:`~arbot_okx.symbols` (instId <-> unified symbol, core ``SymbolMap``),
:mod:`~arbot_okx.markets` (instrument metadata -> :class:`~arbot.market.MarketInfo`),
:mod:`~arbot_okx.messages` (typed decoding of ``books``/``trades`` pushes), :mod:`~arbot_okx.sync`
(seqId rule for core ``BookSync``, when the core CRC32 checksum applies),
:mod:`~arbot_okx.handler` (the book handler shared by live and replay), :mod:`~arbot_okx.replay` (a
:class:`~arbot.components.ReplayDecoder`), :mod:`~arbot_okx.connector` (the live connector) and
:mod:`~arbot_okx.emulator` (an OKX emulator for tests).
"""

from arbot_okx.connector import OkxConnector, OkxSettings
from arbot_okx.handler import VENUE
from arbot_okx.replay import OkxReplayDecoder

__all__ = ["VENUE", "OkxConnector", "OkxReplayDecoder", "OkxSettings"]
