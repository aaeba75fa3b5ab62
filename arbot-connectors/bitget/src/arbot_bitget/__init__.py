"""ArBot Bitget connector package: the I/O-free protocol layer (spot, API v1 and v2).

Modules: :mod:`~arbot_bitget.symbols`, :mod:`~arbot_bitget.markets`,
:mod:`~arbot_bitget.messages` (typed ``books``/``trade`` decoding), :mod:`~arbot_bitget.sync`
(CRC32 checksum, ``seq`` ordering) and :mod:`~arbot_bitget.replay` (the replay decoder).
"""

from arbot_bitget.replay import BitgetReplayDecoder

VENUE = "bitget"

__all__ = ["VENUE", "BitgetReplayDecoder"]
