"""The Redis Streams bus between feed and engine processes (``arbot run CONFIG --role feed`` /
``--role engine``).

Feed side — the ``redis_bus`` sink: the market events the feed's connectors produce go to the
stream ``<prefix>:md:<venue>``, several per entry (up to ``events_per_entry`` consecutive events
of one venue packed into one msgpack array: fields ``f`` feed instance, ``s`` sequence number of
the first event, ``n`` events, ``e`` payload), with ``XADD ... MINID ~`` keeping about ``maxlen``
events per stream, all entries of a batch in one pipeline. Batches are spilled and replayed in
order while Redis is down; entry ids are ``<feed start ms>-<first sequence number>``, so an
entry written again (a retry after a write that landed) is refused rather than stored twice. The
sequence numbers let a consumer count events it never saw (trimmed from a full stream) as lost.
Books travel as full snapshots (``depth`` levels) of the feed's book right after each update
(the publisher is a book observer), so an engine that misses or re-reads an entry still holds
an exact book; a book whose health changes (a connector resynchronising) is announced so the
engine stops trading it.

Engine side — the ``redis_bus`` source: reads every venue's stream through a consumer group
(``XREADGROUP``; after a restart it first re-reads what it had been handed and not acknowledged),
acknowledges an entry once every event of it was handed to the engine and the engine asks for
more or stops (``XACK``; the engine processes an event before asking for the next), and takes
over entries another consumer of the group read but never acknowledged for ``claim_idle_ms``
(``XAUTOCLAIM``: that consumer died). An engine that stops in the middle of an entry records how
many of its events it handed (hash ``<prefix>:bus:handed:<group>``) and leaves the entry
pending: whoever reads it next (the same consumer restarted, or another one taking it over)
starts after those events, so no event is handed twice or skipped. Entries of one event
(fields ``s`` and ``e`` only) are read as well. A venue whose stream is silent for
``stale_after_s`` is marked stale, so a dead feed blocks trading on its books.
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

from arbot_redis.codec import (
    HealthChange,
    book_item,
    decode,
    decode_many,
    encode_many,
    health_item,
)
from arbot_redis.settings import RedisConnection

__all__ = [
    "BusPublisher",
    "BusPublisherSettings",
    "BusSource",
    "BusSourceSettings",
    "entry_events",
    "handed_key",
    "read_stream",
    "stream_key",
]

#: One event of a stream: the bus's decoded kinds.
BusEvent = BookUpdate | TradeTick | HealthChange


def stream_key(prefix: str, venue: str) -> str:
    """The stream of one venue's market events."""
    return f"{prefix}:md:{venue}"


def handed_key(prefix: str, group: str) -> str:
    """The hash of entries a consumer of ``group`` stopped in the middle of: ``<stream>|<entry
    id>`` → how many of the entry's events were handed to an engine."""
    return f"{prefix}:bus:handed:{group}"


def entry_events(fields: dict[bytes, bytes]) -> tuple[int, int, list[BusEvent]]:
    """An entry's first sequence number, its feed instance (0 when not given) and its events."""
    first = int(fields[b"s"])
    feed = int(fields.get(b"f", 0))
    if b"n" in fields:
        return first, feed, decode_many(fields[b"e"])
    return first, feed, [decode(fields[b"e"])]


def read_stream(client: Any, key: str) -> list[tuple[int, BusEvent]]:
    """Every event of stream ``key`` with its sequence number, in stream order (for tools and
    tests; a synchronous redis-py client)."""
    out: list[tuple[int, BusEvent]] = []
    for _, fields in client.xrange(key):
        first, _, events = entry_events(fields)
        out.extend((first + i, ev) for i, ev in enumerate(events))
    return out


class BusPublisherSettings(BatchingSettings, RedisConnection):
    """``[sinks.redis_bus]``: the connection, book depth and stream bound."""

    depth: int = Field(20, ge=1, description="levels per side of a published book")
    maxlen: int = Field(1_000_000, ge=100, description="events kept per venue stream (approximate)")
    events_per_entry: int = Field(
        256,
        ge=1,
        description="most events of one venue packed into one stream entry (1: one event per entry)",
    )
    batch_size: int = Field(2_000, ge=1, description="events sent per pipelined write")
    flush_interval_s: float = Field(0.01, gt=0, description="seconds between writer passes")


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

    def _push(self, venue: str, item: tuple[Any, ...]) -> None:
        seq = self._seq.get(venue, 0) + 1
        self._seq[venue] = seq
        super().emit((venue, self._epoch_ms, seq, item))

    def emit(self, event: Any) -> None:
        """Enqueue a trade (books are published in :meth:`on_book_update`)."""
        if type(event) is TradeTick:  # the hot path of a feed: _push and trade_item inlined
            venue = event.venue
            seq = self._seq.get(venue, 0) + 1
            self._seq[venue] = seq
            item = (
                "t",
                event.ts,
                venue,
                event.symbol,
                event.price,
                event.size,
                event.side,
                event.exchange_ts,
            )
            BatchingSink.emit(self, (venue, self._epoch_ms, seq, item))

    def on_book_update(self, venue: str, symbol: str, book: OrderBook, now: float) -> None:
        """Publish the book just updated, as a full book; announce a change of its health."""
        state = self.ctx.market.health(venue, symbol)
        key = (venue, symbol)
        if self._health.get(key) != state:
            self._health[key] = state
            self._push(venue, health_item(HealthChange(now, venue, symbol, state)))
        depth = self.settings.depth
        bids, asks = book.bids.levels(depth).tolist(), book.asks.levels(depth).tolist()
        self._push(venue, book_item(now, venue, symbol, bids, asks, book.exchange_ts, True))

    def entries(self, batch: list[Any]) -> list[tuple[str, str, dict[str, Any]]]:
        """The stream entries of ``batch`` as ``(stream, entry id, fields)``: each venue's events
        in order, consecutive ones packed up to ``events_per_entry``. The same batch always gives
        the same entries (a batch written again is refused entry by entry)."""
        prefix, most = self.settings.prefix, self.settings.events_per_entry
        by_venue: dict[str, list[tuple[str, int, int, tuple[Any, ...]]]] = {}
        for row in batch:
            rows = by_venue.get(row[0])
            if rows is None:
                by_venue[row[0]] = rows = []
            rows.append(row)
        out: list[tuple[str, str, dict[str, Any]]] = []
        for venue, rows in by_venue.items():
            key = stream_key(prefix, venue)
            i, end = 0, len(rows)
            while i < end:
                _, feed, first, _ = rows[i]
                j = min(end, i + most)  # consecutive events of one feed: the common case
                if rows[j - 1][1] != feed or rows[j - 1][2] != first + (j - 1 - i):
                    j = i + 1
                    while j < end and j - i < most and rows[j][1] == feed and rows[j][2] == first + (j - i):
                        j += 1
                fields = {"f": feed, "s": first, "n": j - i, "e": encode_many([r[3] for r in rows[i:j]])}
                out.append((key, f"{feed}-{first}", fields))
                i = j
        return out

    def open_store(self) -> None:
        """Connect (and check the connection)."""
        import redis

        client = redis.Redis.from_url(self.settings.url, **self.settings.client_kwargs())
        client.ping()
        self._redis = client

    def write_batch(self, batch: list[Any], run: RunInfo) -> None:
        """XADD every entry in one pipeline (one round trip), each with its own id: an entry
        already stored (a retry after a write that landed before the connection broke) is
        refused by Redis as not newer than the stream's top, and counted, not stored twice.
        Each stream keeps about ``maxlen`` events: entries whose events are all older than the
        newest ``maxlen`` are trimmed (``MINID ~``)."""
        if self._redis is None:
            raise RuntimeError("redis is not open")
        keep = self.settings.maxlen
        pipe = self._redis.pipeline(transaction=False)
        for key, entry_id, fields in self.entries(batch):
            last = fields["s"] + fields["n"] - 1
            minid = f"{fields['f']}-{last - keep + 1}" if last > keep else None
            pipe.xadd(key, fields, id=entry_id, minid=minid, approximate=True)
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
    count: int = Field(
        200, ge=1, description="entries per read (each holds up to the feed's events_per_entry)"
    )
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
        self.counters: dict[str, int] = {
            "entries": 0, "events": 0, "acked": 0, "claimed": 0, "resumed": 0, "lost": 0, "trimmed": 0,
            "stale_marks": 0,
        }  # fmt: skip
        #: Per stream: the feed instance and the last sequence number seen (gaps are lost events).
        self._last_seq: dict[str, tuple[int, int]] = {}
        self._last_seen: dict[str, float] = {}
        self._latest_book: dict[tuple[str, str], float] = {}
        #: ``(stream, entry id)`` → events of that entry already handed (read from Redis).
        self._handed: dict[tuple[str, bytes], int] = {}
        #: Events of the entry being handed that follow the one just yielded (ready at once).
        self._ready = 0

    def buffered(self) -> int:
        """Events of the current stream entry not yet taken: the engine takes them without
        racing its stop signal for each (a packed entry holds up to ``events_per_entry``)."""
        return self._ready

    def venues(self) -> list[str]:
        """The venue streams this source reads."""
        return list(self.settings.venues or self.ctx.config.exchanges.enabled)

    def events(self) -> Iterator[MarketEvent]:
        """A bus is live only: a backtest cannot read it."""
        raise ArbotError("the redis_bus source streams live data: use `arbot run CONFIG --role engine`")

    def stats(self) -> dict[str, Any]:
        """entries (stream entries read), events (handed to the engine), acked (entries),
        claimed (entries taken over from a dead consumer), resumed (entries started after events
        handed before), lost (events never seen: sequence gaps), trimmed (pending entries gone
        from the stream), stale_marks."""
        return dict(self.counters)

    def _unpack(self, stream: str, fields: dict[bytes, bytes]) -> list[BusEvent]:
        """An entry's events; count the events between it and the last one seen as lost."""
        self.counters["entries"] += 1
        first, feed, events = entry_events(fields)
        last_feed, last = self._last_seq.get(stream, (feed, 0))
        if feed > last_feed:  # a new feed process: its numbers start at 1
            last_feed, last = feed, 0
        if feed == last_feed:
            if first > last + 1 and (last > 0 or feed != 0):
                self.counters["lost"] += first - last - 1
            self._last_seq[stream] = (feed, max(last, first + len(events) - 1))
        return events

    def _mark_stale(self) -> None:
        now = time.monotonic()
        limit = self.settings.stale_after_s
        for venue, seen in self._last_seen.items():
            if now - seen > limit:
                for symbol in self.ctx.config.symbols:
                    if self.ctx.market.is_live(venue, symbol):
                        self.ctx.market.set_health(venue, symbol, BookHealth.STALE)
                        self.counters["stale_marks"] += 1

    async def _load_handed(self, client: Any) -> None:
        """Read which pending entries were stopped in the middle of, and how far."""
        raw = await client.hgetall(handed_key(self.settings.prefix, self.settings.group))
        self._handed = {}
        for field, value in raw.items():
            stream, _, entry_id = field.rpartition(b"|")
            self._handed[(stream.decode(), entry_id)] = int(value)

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
            await self._load_handed(client)
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

    async def _handle(
        self, client: Any, key: str, entries: list[Any], claimed: bool = False
    ) -> AsyncIterator[MarketEvent]:
        """Yield a read's events. When the engine asks for more or stops, acknowledge every
        entry whose events were all handed; an entry stopped in the middle of stays pending with
        the number of its events handed recorded (the engine processes an event before asking
        for the next)."""
        done: list[Any] = []
        resumed: list[Any] = []
        current: Any = None  # the entry being handed, with ``handed`` of its ``total`` events
        handed = total = 0
        handed_before = self._handed
        counters = self.counters
        latest_book = self._latest_book
        market = self.ctx.market
        try:
            for entry_id, fields in entries:
                if not fields:  # trimmed from the stream while pending: nothing left to hand
                    counters["trimmed"] += 1
                    done.append(entry_id)
                    continue
                if claimed:
                    counters["claimed"] += 1
                events = self._unpack(key, fields)
                skip = handed_before.pop((key, entry_id), 0) if handed_before else 0
                if skip:
                    counters["resumed"] += 1
                    resumed.append(entry_id)
                current, handed, total = entry_id, skip, len(events)
                seen = time.monotonic()
                for ev in events[skip:] if skip else events:
                    handed += 1
                    kind = type(ev)
                    if kind is HealthChange:
                        market.set_health(ev.venue, ev.symbol, ev.state)  # type: ignore[union-attr]
                        continue
                    self._last_seen[ev.venue] = seen
                    if kind is BookUpdate and ev.snapshot:  # type: ignore[union-attr]
                        book_key = (ev.venue, ev.symbol)
                        if ev.ts < latest_book.get(book_key, -math.inf):
                            continue  # an older full book re-read after a newer one: keep the newer
                        latest_book[book_key] = ev.ts
                    counters["events"] += 1
                    self._ready = total - handed
                    yield ev  # type: ignore[misc]
                current = None
                done.append(entry_id)
        finally:
            self._ready = 0
            partial: tuple[Any, int] | None = None
            if current is not None:
                if handed >= total:  # stopped after the entry's last event: all handed
                    done.append(current)
                else:
                    partial = (current, handed)
            await self._ack(client, key, done, partial, resumed)

    async def _ack(
        self, client: Any, key: str, ids: list[Any], partial: tuple[Any, int] | None, resumed: list[Any]
    ) -> None:
        """XACK ``ids`` (forgetting how far resumed entries had been handed) and record how far
        a ``partial`` entry was handed; shielded, so a run stopping at that moment completes it."""
        if not ids and partial is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # finalised outside a loop: the entries stay pending, to be re-read
            return
        group = self.settings.group
        if partial is None and not resumed:
            work: Any = client.xack(key, group, *ids)
        else:
            marks = handed_key(self.settings.prefix, group)
            pipe = client.pipeline(transaction=True)  # MULTI: the ack and the marks together
            if ids:
                pipe.xack(key, group, *ids)
            finished = [i for i in resumed if partial is None or i != partial[0]]
            if finished:
                pipe.hdel(marks, *(key.encode() + b"|" + _id_bytes(i) for i in finished))
            if partial is not None:
                pipe.hset(marks, key.encode() + b"|" + _id_bytes(partial[0]), partial[1])
            work = pipe.execute()
        task = loop.create_task(work)

        def count(t: asyncio.Future[Any]) -> None:
            if not t.cancelled() and t.exception() is None:
                self.counters["acked"] += len(ids)

        task.add_done_callback(count)
        await asyncio.shield(task)

    async def _claim(self, client: Any, key: str) -> AsyncIterator[MarketEvent]:
        s = self.settings
        cursor: Any = "0-0"
        while True:
            reply = await client.xautoclaim(
                key, s.group, self.consumer, s.claim_idle_ms, cursor, count=s.count
            )
            cursor, entries = reply[0], reply[1]
            if entries:
                await self._load_handed(client)  # the dead consumer may have stopped mid-entry
                async with contextlib.aclosing(self._handle(client, key, entries, claimed=True)) as items:
                    async for ev in items:
                        yield ev
            if cursor in (b"0-0", "0-0") or not entries:
                return


def _id_bytes(entry_id: Any) -> bytes:
    return entry_id if isinstance(entry_id, bytes) else str(entry_id).encode()
