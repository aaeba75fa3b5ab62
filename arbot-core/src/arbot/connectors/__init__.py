"""Shared machinery of the exchange connectors.

* :mod:`arbot.connectors.ws` — a resilient WebSocket session (reconnect, heartbeats, rotation,
  resubscription, counters);
* :mod:`arbot.connectors.rest` — an async REST client with the rate limiter applied;
* :mod:`arbot.connectors.ratelimit` — the TRD's rate-limit policies and subscription pacing;
* :mod:`arbot.connectors.booksync` — the one order-book integrity layer every connector uses.
* :mod:`arbot.connectors.scaffold` — the connector base with the common scaffolding (stale-book
  watcher, task shutdown, ``stats()`` counters, ``emulator()`` / ``replay_decoder()``);
* :mod:`arbot.connectors.snapshots` — REST snapshot fetching for REST-snapshot venues;
* :mod:`arbot.connectors.fullbook` — the full top-N book venue family (Upbit, Bithumb).
"""

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
from arbot.connectors.ratelimit import (
    RATE_LIMITS,
    CountLimiter,
    PerEndpointLimiter,
    RateLimitPolicy,
    SubscriptionPacer,
    TokenBucket,
    WeightLimiter,
    policy_from_spec,
    shared_limiter,
)
from arbot.connectors.rest import RestClient, RestError
from arbot.connectors.ws import Backoff, GarbageFrame, Heartbeat, WsSession, WsStats

__all__ = [
    "RATE_LIMITS",
    "Backoff",
    "BinanceFuturesRule",
    "BinanceSpotRule",
    "BookSync",
    "ContiguousRule",
    "CountLimiter",
    "GarbageFrame",
    "Heartbeat",
    "NoSequenceRule",
    "PerEndpointLimiter",
    "PrevSeqRule",
    "RangeRule",
    "RateLimitPolicy",
    "RestClient",
    "RestError",
    "SequenceRule",
    "SubscriptionPacer",
    "TokenBucket",
    "Verdict",
    "WeightLimiter",
    "WsSession",
    "WsStats",
    "policy_from_spec",
    "shared_limiter",
]
