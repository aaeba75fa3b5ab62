"""ArBot Bithumb connector (``bithumb``): the current public WebSocket (Upbit-style full
top-N books and trades, on core's full-book bootstrap), market metadata, replay of both the
current feed and the legacy ``pubwss`` captures, and an emulator.
"""

from arbot_bithumb.connector import BithumbConnector, BithumbSettings
from arbot_bithumb.replay import BithumbReplayDecoder

VENUE = "bithumb"

__all__ = ["VENUE", "BithumbConnector", "BithumbReplayDecoder", "BithumbSettings"]
