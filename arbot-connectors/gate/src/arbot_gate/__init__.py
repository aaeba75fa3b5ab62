"""ArBot Gate.io spot connector (``gate``): ``spot.order_book_update`` books synced against
REST ``order_book`` snapshots (``spot.obu`` full books understood too), ``spot.trades``,
currency-pair metadata, capture replay and an emulator.
"""

from arbot_gate.connector import GateConnector, GateSettings
from arbot_gate.replay import VENUE, GateReplayDecoder

__all__ = ["VENUE", "GateConnector", "GateReplayDecoder", "GateSettings"]
