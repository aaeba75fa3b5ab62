"""ArBot Gate.io connector package: the I/O-free protocol layer (spot v4).

Modules: :mod:`~arbot_gate.symbols`, :mod:`~arbot_gate.markets`, :mod:`~arbot_gate.messages`
(typed ``spot.order_book_update``/``spot.obu``/``spot.trades`` decoding),
:mod:`~arbot_gate.sync` (``U``/``u`` against the REST ``id``) and :mod:`~arbot_gate.replay`.
"""

from arbot_gate.replay import GateReplayDecoder

VENUE = "gate"

__all__ = ["VENUE", "GateReplayDecoder"]
