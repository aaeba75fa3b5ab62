"""The ``arbot`` entry point of arbot-redis: the price cache and bus sinks, the bus source."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Sink, Source

from arbot_redis.bus import BusPublisher, BusSource
from arbot_redis.prices import PriceCache


@hookimpl
def arbot_register_sinks() -> Sequence[type[Sink]]:
    """``redis_prices`` (latest-price cache) and ``redis_bus`` (the feed's publisher)."""
    return [PriceCache, BusPublisher]


@hookimpl
def arbot_register_sources() -> Sequence[type[Source]]:
    """``redis_bus`` (the engine's source)."""
    return [BusSource]
