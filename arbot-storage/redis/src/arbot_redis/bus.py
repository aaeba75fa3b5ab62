"""The Redis Streams bus between feed and engine processes (``arbot run CONFIG --role feed`` /
``--role engine``).

Feed side — the ``redis_bus`` sink: every market event the feed's connectors produce goes to the
stream ``<prefix>:md:<venue>`` (``XADD ... MAXLEN ~ maxlen``, pipelined by the batching writer,
spilled and replayed in order while Redis is down, with entry ids of its own so a replayed entry
that had landed is refused rather than stored twice). Each entry carries the venue stream's
sequence number, so a consumer counts entries it never saw (trimmed from a full stream) as lost.
Books travel as full snapshots (``depth`` levels) of the feed's book right after each update
(the publisher is a book observer), so an engine that misses or re-reads an entry still holds
an exact book; a book whose health changes (a connector resynchronising) is announced so the
engine stops trading it.

Engine side — the ``redis_bus`` source: reads every venue's stream through a consumer group
(``XREADGROUP``; after a restart it first re-reads what it had been handed and not acknowledged),
acknowledges the entries it handed to the engine once the engine asks for more or stops
(``XACK``; the engine processes an event before asking for the next), and takes over
entries another consumer of the group read but never acknowledged for ``claim_idle_ms``
(``XAUTOCLAIM``: that consumer died). A venue whose stream is silent for ``stale_after_s`` is
marked stale, so a dead feed blocks trading on its books.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

from arbot.book import OrderBook
from arbot.components import BookObserver, BotContext, MarketEvent, Source
from arbot.config import ComponentSettings
from arbot.errors import ArbotError
from arbot.events import BookUpdate, TradeTick
from arbot.market import BookHealth
from arbot.sinks.base import BatchingSettings, BatchingSink, RunInfo
from pydantic import Field

from arbot_redis.codec import HealthChange, decode, encode_book, encode_health, encode_trade
from arbot_redis.settings import RedisConnection

__all__ = ["BusPublisher", "BusPublisherSettings", "BusSource", "BusSourceSettings", "stream_key"]


def stream_key(prefix: str, venue: str) -> str:
    """The stream of one venue's market events."""
    return f"{prefix}:md:{venue}"


class BusPublisherSettings(BatchingSettings, RedisConnection):
    """``[sinks.redis_bus]``: the connection, book depth and stream bound."""

    depth: int = Field(20, ge=1, description="levels per side of a published book")
    maxlen: int = Field(1_000_000, ge=100, description="entries kept per venue stream (approximate)")
    batch_size: int = Field(2_000, ge=1)
    flush_interval_s: float = Field(0.01, gt=0)


class BusPublisher(BatchingSink, BookObserver):
    """Publishes the feed's market events to Redis Streams, one stream per venue."""

    name: ClassVar[str] = "redis_bus"
    description: ClassVar[str] = "market events to Redis Streams (the feed role)"
    Settings: ClassVar[type[ComponentSettings]] = BusPublisherSettings
    wants_market_data: ClassVar[bool] = True
    wants_results: ClassVar[bool] = False

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self._seq: dict[str, int] = {}
        self._health: dict[tuple[str, str], str] = {}
        self._redis: Any = None
        #: Entry ids are ``<start ms>-<sequence>``: increasing across restarts of the feed, and
        #: the same for the same event, so a batch written twice is refused the second time.
        self._epoch_ms = int(time.time() * 1000)

    def _push(self, venue: str, payload: bytes) -> None:
        seq = self._seq.get(venue, 0) + 1
        self._seq[venue] = seq
        super().emit((venue, f"{self._epoch_ms}-{seq}", seq, payload))

    def emit(self, event: Any) -> None:
        """Enqueue a trade (books are published in :meth:`on_book_update`)."""
        if type(event) is TradeTick:
            self._push(event.venue, encode_trade(event))

    def on_book_update(self, venue: str, symbol: str, book: OrderBook, now: float) -> None:
        """Publish the book just updated, as a full book; announce a change of its health."""
        state = self.ctx.market.health(venue, symbol)
        key = (venue, symbol)
        if self._health.get(key) != state:
            self._health[key] = state
            self._push(venue, encode_health(HealthChange(now, venue, symbol, state)))
        depth = self.settings.depth
        bids, asks = book.bids.levels(depth).tolist(), book.asks.levels(depth).tolist()
        self._push(venue, encode_book(now, venue, symbol, bids, asks, book.exchange_ts, True))

    def open_store(self) -> None:
        """Connect (and check the connection)."""
        import redis

        client = redis.Redis.from_url(self.settings.url, **self.settings.client_kwargs())
        client.ping()
        self._redis = client

    def write_batch(self, batch: list[Any], run: RunInfo) -> None:
        """XADD every entry in one pipeline (one round trip), each with its own id: an entry
        already stored (a retry after a write that landed before the connection broke) is
        refused by Redis as not newer than the stream's top, and counted, not stored twice."""
        if self._redis is None:
            raise RuntimeError("redis is not open")
        prefix = self.settings.prefix
        maxlen = self.settings.maxlen
        pipe = self._redis.pipeline(transaction=False)
        for venue, entry_id, seq, payload in batch:
            key = stream_key(prefix, venue)
            pipe.xadd(key, {"s": seq, "e": payload}, id=entry_id, maxlen=maxlen, approximate=True)
        for result in pipe.execute(raise_on_error=False):
            if isinstance(result, Exception):
                if "equal or smaller than the target stream top item" not in str(result):
                    raise result
                self.counters["already_stored"] += 1

    def close_store(self) -> None:
        """Close the connection."""
        if self._redis is not None:
            self._redis.close()
            self._redis = None


class BusSourceSettings(RedisConnection):
    """``[source.redis_bus]``: the consumer group, this consumer's name, and the limits."""

    group: str = Field("engine", description="consumer group (engines sharing the work)")
    consumer: str | None = Field(None, description="this consumer's name (default: host-pid)")
    venues: list[str] | None = Field(None, description="venue streams to read (default: [exchanges] enabled)")
    start: str = Field("0", description='where a new group starts: "0" (the whole stream) or "$" (new only)')
    count: int = Field(1_000, ge=1, description="entries per read")
    block_ms: int = Field(200, ge=1, description="longest wait of one read")
    claim_idle_ms: int = Field(5_000, ge=1, description="take over entries unacknowledged this long")
    claim_interval_s: float = Field(1.0, gt=0, description="how often to look for such entries")
    stale_after_s: float = Field(5.0, gt=0, description="a silent venue stream marks its books stale")


class BusSource(Source):
    """Market events from the bus, for the engine role."""

    name: ClassVar[str] = "redis_bus"
    description: ClassVar[str] = "market events from Redis Streams (the engine role)"
    Settings: ClassVar[type[ComponentSettings]] = BusSourceSettings

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        import os
        import socket

        self.consumer = settings.consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.counters: dict[str, int] = {"entries": 0, "acked": 0, "claimed": 0, "lost": 0, "stale_marks": 0}
        self._last_seq: dict[str, int] = {}
        self._last_seen: dict[str, float] = {}
        self._latest_book: dict[tuple[str, str], float] = {}

    def venues(self) -> list[str]:
        """The venue streams this source reads."""
        return list(self.settings.venues or self.ctx.config.exchanges.enabled)

    def events(self) -> Iterator[MarketEvent]:
        """A bus is live only: a backtest cannot read it."""
        raise ArbotError("the redis_bus source streams live data: use `arbot run CONFIG --role engine`")

    def stats(self) -> dict[str, Any]:
        """entries, acked, claimed (taken over from a dead consumer), lost (sequence gaps), stale_marks."""
        return dict(self.counters)

    def _accept(self, stream: str, fields: dict[bytes, bytes]) -> MarketEvent | None:
        """Decode one entry; count sequence gaps; apply health; drop books older than held."""
        self.counters["entries"] += 1
        seq = int(fields[b"s"])
        last = self._last_seq.get(stream, 0)
        if seq > last + 1 and last > 0:
            self.counters["lost"] += seq - last - 1
        self._last_seq[stream] = max(last, seq)
        ev = decode(fields[b"e"])
        if isinstance(ev, HealthChange):
            self.ctx.market.set_health(ev.venue, ev.symbol, ev.state)
            return None
        self._last_seen[ev.venue] = time.monotonic()
        if isinstance(ev, BookUpdate) and ev.snapshot:
            key = (ev.venue, ev.symbol)
            if ev.ts < self._latest_book.get(key, -math.inf):
                return None  # an older full book re-read after a newer one: keep the newer
            self._latest_book[key] = ev.ts
        return ev

    def _mark_stale(self) -> None:
        now = time.monotonic()
        limit = self.settings.stale_after_s
        for venue, seen in self._last_seen.items():
            if now - seen > limit:
                for symbol in self.ctx.config.symbols:
                    if self.ctx.market.is_live(venue, symbol):
                        self.ctx.market.set_health(venue, symbol, BookHealth.STALE)
                        self.counters["stale_marks"] += 1

    async def aevents(self) -> AsyncIterator[MarketEvent]:
        """Read, yield, acknowledge; take over a dead consumer's entries now and then."""
        import redis.asyncio as aioredis
        from redis.exceptions import ResponseError

        s = self.settings
        client = aioredis.Redis.from_url(s.url, **s.client_kwargs())
        keys = [stream_key(s.prefix, v) for v in self.venues()]
        try:
            for key in keys:
                try:
                    await client.xgroup_create(key, s.group, id=s.start, mkstream=True)
                except ResponseError as exc:
                    if "BUSYGROUP" not in str(exc):
                        raise
            for key in keys:  # entries this consumer was handed before a restart, not yet acknowledged
                while True:
                    got = await client.xreadgroup(s.group, self.consumer, {key: "0"}, count=s.count)
                    entries = got[0][1] if got else []
                    if not entries:
                        break
                    async with contextlib.aclosing(self._handle(client, key, entries)) as items:
                        async for ev in items:
                            yield ev
            next_claim = 0.0
            while True:
                if time.monotonic() >= next_claim:
                    next_claim = time.monotonic() + s.claim_interval_s
                    for key in keys:
                        async with contextlib.aclosing(self._claim(client, key)) as claimed:
                            async for ev in claimed:
                                yield ev
                    self._mark_stale()
                got = await client.xreadgroup(
                    s.group, self.consumer, dict.fromkeys(keys, ">"), count=s.count, block=s.block_ms
                )
                for raw_key, entries in got or []:
                    key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
                    async with contextlib.aclosing(self._handle(client, key, entries)) as items:
                        async for ev in items:
                            yield ev
                await asyncio.sleep(0)
        finally:
            await client.aclose()

    async def _handle(self, client: Any, key: str, entries: list[Any]) -> AsyncIterator[MarketEvent]:
        """Yield a read's events; acknowledge what was handed to the engine, also when it stops
        mid-batch (the engine processes an event before asking for the next)."""
        ids: list[Any] = []
        try:
            for entry_id, fields in entries:
                if not fields:
                    continue  # trimmed while pending
                ids.append(entry_id)
                ev = self._accept(key, fields)
                if ev is not None:
                    yield ev
        finally:
            await self._ack(client, key, ids)

    async def _ack(self, client: Any, key: str, ids: list[Any]) -> None:
        """XACK ``ids``; shielded, so a run stopping at that moment still completes it."""
        if not ids:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # finalised outside a loop: the entries stay pending, to be re-read
            return
        task = loop.create_task(client.xack(key, self.settings.group, *ids))

        def count(t: asyncio.Future[Any]) -> None:
            if not t.cancelled() and t.exception() is None:
                self.counters["acked"] += len(ids)

        task.add_done_callback(count)
        await asyncio.shield(task)

    async def _claim(self, client: Any, key: str) -> AsyncIterator[MarketEvent]:
        s = self.settings
        cursor = "0-0"
        while True:
            reply = await client.xautoclaim(
                key, s.group, self.consumer, s.claim_idle_ms, cursor, count=s.count
            )
            cursor, entries = reply[0], reply[1]
            ids: list[Any] = []
            try:
                for entry_id, fields in entries:
                    if not fields:
                        continue  # deleted (trimmed) while pending
                    ids.append(entry_id)
                    self.counters["claimed"] += 1
                    ev = self._accept(key, fields)
                    if ev is not None:
                        yield ev
            finally:
                await self._ack(client, key, ids)
            if cursor in (b"0-0", "0-0") or not entries:
                return
