"""The latest-price cache (TRD §2.2): top of book per venue and symbol with its time, in Redis
hashes other tools can read without ArBot:

    HGETALL <prefix>:price:<venue>:<symbol>   ->  bid, bid_qty, ask, ask_qty, ts, exchange_ts

The writer keeps only each book's latest top per batch (one ``HSET`` per book per batch, all in
one pipeline). While Redis is down batches spill and replay in order, so the cache ends on the
newest price. Tops are taken as a book observer, right after the engine applied each update.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from arbot.book import OrderBook
from arbot.components import BookObserver, BotContext
from arbot.config import ComponentSettings
from arbot.sinks.base import BatchingSettings, BatchingSink, RunInfo
from pydantic import Field

from arbot_redis.settings import RedisConnection

__all__ = ["PriceCache", "PriceCacheSettings", "price_key"]


def price_key(prefix: str, venue: str, symbol: str) -> str:
    """The hash holding one book's top."""
    return f"{prefix}:price:{venue}:{symbol}"


class PriceCacheSettings(BatchingSettings, RedisConnection):
    """``[sinks.redis_prices]``: the connection and how long a price lives without an update."""

    ttl_s: float | None = Field(60.0, gt=0, description="expire a price not refreshed for this long")
    batch_size: int = Field(5_000, ge=1, description="top-of-book updates written per pipeline")
    flush_interval_s: float = Field(0.1, gt=0, description="seconds between writer passes")


class PriceCache(BatchingSink, BookObserver):
    """Top of book per venue/symbol in Redis hashes."""

    name: ClassVar[str] = "redis_prices"
    description: ClassVar[str] = "latest top of book per venue/symbol in Redis (TRD §2.2)"
    Settings: ClassVar[type[ComponentSettings]] = PriceCacheSettings
    wants_market_data: ClassVar[bool] = True
    wants_results: ClassVar[bool] = False

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self._redis: Any = None

    def emit(self, event: Any) -> None:
        """Nothing to do per event: tops are taken in :meth:`on_book_update`."""

    def on_book_update(self, venue: str, symbol: str, book: OrderBook, now: float) -> None:
        """Enqueue the top of the book just updated."""
        b, a = book.bids.best(), book.asks.best()
        bid = b if b is not None else (math.nan, math.nan)
        ask = a if a is not None else (math.nan, math.nan)
        super().emit((venue, symbol, bid[0], bid[1], ask[0], ask[1], now, book.exchange_ts))

    def open_store(self) -> None:
        """Connect."""
        import redis

        client = redis.Redis.from_url(self.settings.url, **self.settings.client_kwargs())
        client.ping()
        self._redis = client

    def write_batch(self, batch: list[Any], run: RunInfo) -> None:
        """One HSET per book (its latest top in the batch), in one pipeline."""
        if self._redis is None:
            raise RuntimeError("redis is not open")
        latest: dict[tuple[str, str], tuple[Any, ...]] = {}
        for row in batch:
            latest[(row[0], row[1])] = row
        pipe = self._redis.pipeline(transaction=False)
        ttl = self.settings.ttl_s
        for (venue, symbol), row in latest.items():
            key = price_key(self.settings.prefix, venue, symbol)
            _, _, bid, bid_qty, ask, ask_qty, ts, exchange_ts = row
            mapping = {"bid": bid, "bid_qty": bid_qty, "ask": ask, "ask_qty": ask_qty, "ts": ts}
            mapping["exchange_ts"] = exchange_ts if exchange_ts is not None else ""
            pipe.hset(key, mapping=mapping)
            if ttl is not None:
                pipe.pexpire(key, int(ttl * 1000))
        pipe.execute()
        self.counters["prices_set"] += len(latest)

    def close_store(self) -> None:
        """Close the connection."""
        if self._redis is not None:
            self._redis.close()
            self._redis = None
