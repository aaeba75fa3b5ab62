"""Shared machinery of the exchange connectors.

* :mod:`arbot.connectors.ws` — a resilient WebSocket session (reconnect, heartbeats, rotation,
  resubscription, counters);
* :mod:`arbot.connectors.rest` — an async REST client with the rate limiter applied;
* :mod:`arbot.connectors.ratelimit` — the TRD's rate-limit policies and subscription pacing;
* :mod:`arbot.connectors.booksync` — the one order-book integrity layer every connector uses;
* :mod:`arbot.connectors.records` — the typed records a venue's frames decode into;
* :mod:`arbot.connectors.protocol` — the :class:`~arbot.connectors.protocol.WireProtocol` a
  venue provides (and two reusable request families);
* :mod:`arbot.connectors.bootstrap` — the three book bootstraps (REST snapshot, stream
  snapshot, full book);
* :mod:`arbot.connectors.base` — :class:`~arbot.connectors.base.StreamingConnector`, the one
  base connector composed of those parts;
* :mod:`arbot.connectors.replay` — the replay decoder over a venue's protocol and bootstrap.
"""

from arbot.connectors.base import FeedSpec, StreamingConnector, StreamingSettings
from arbot.connectors.booksync import (
    BinanceFuturesRule,
    BinanceSpotRule,
    BookSync,
    ContiguousRule,
    NoSequenceRule,
    PrevSeqRule,
    RangeRule,
    SequenceRule,
    Verdict,
)
from arbot.connectors.bootstrap import FullBook, RestSnapshot, StreamSnapshot
from arbot.connectors.protocol import Channel, Subscription, WireProtocol
from arbot.connectors.ratelimit import (
    CountLimiter,
    PerEndpointLimiter,
    RateLimitPolicy,
    SubscriptionPacer,
    TokenBucket,
    WeightLimiter,
    policy_from_spec,
    shared_limiter,
)
from arbot.connectors.records import BookKind, BookRecord, Control, TradeMsg
from arbot.connectors.replay import RecordReplayDecoder
from arbot.connectors.rest import RestClient, RestError
from arbot.connectors.symbols import MarketType, SymbolMap
from arbot.connectors.ws import Backoff, GarbageFrame, Heartbeat, WsSession, WsStats

__all__ = [
    "Backoff",
    "BinanceFuturesRule",
    "BinanceSpotRule",
    "BookKind",
    "BookRecord",
    "BookSync",
    "Channel",
    "ContiguousRule",
    "Control",
    "CountLimiter",
    "FeedSpec",
    "FullBook",
    "GarbageFrame",
    "Heartbeat",
    "MarketType",
    "NoSequenceRule",
    "PerEndpointLimiter",
    "PrevSeqRule",
    "RangeRule",
    "RateLimitPolicy",
    "RecordReplayDecoder",
    "RestClient",
    "RestError",
    "RestSnapshot",
    "SequenceRule",
    "StreamSnapshot",
    "StreamingConnector",
    "StreamingSettings",
    "Subscription",
    "SubscriptionPacer",
    "SymbolMap",
    "TokenBucket",
    "TradeMsg",
    "Verdict",
    "WeightLimiter",
    "WireProtocol",
    "WsSession",
    "WsStats",
    "policy_from_spec",
    "shared_limiter",
]
