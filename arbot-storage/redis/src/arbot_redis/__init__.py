"""ArBot on Redis: the latest-price cache, the Streams bus between feed and engine processes,
and a rate limit shared by processes through an atomic script."""

from arbot_redis.bus import BusPublisher, BusSource, stream_key
from arbot_redis.prices import PriceCache, price_key
from arbot_redis.ratelimit import RedisRateLimiter

__all__ = ["BusPublisher", "BusSource", "PriceCache", "RedisRateLimiter", "price_key", "stream_key"]
