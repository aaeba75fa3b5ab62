"""ArBot OKX (v5) connector package: the I/O-free protocol layer.

Modules: :mod:`~arbot_okx.symbols` (instId <-> unified symbol), :mod:`~arbot_okx.markets`
(instrument metadata -> :class:`~arbot.market.MarketInfo`), :mod:`~arbot_okx.messages`
(typed decoding of ``books``/``trades`` pushes), :mod:`~arbot_okx.sync` (seqId rule and the
CRC32 checksum) and :mod:`~arbot_okx.replay` (a :class:`~arbot.components.ReplayDecoder`).
"""

from arbot_okx.replay import OkxReplayDecoder

VENUE = "okx"

__all__ = ["VENUE", "OkxReplayDecoder"]
