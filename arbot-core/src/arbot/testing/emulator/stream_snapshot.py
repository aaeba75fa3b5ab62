"""Emulator bases for venues that answer each book subscription with a snapshot on the stream
(OKX, Bitget, Bybit): the emulator side of the ``stream_snapshot`` bootstrap
(:class:`~arbot.connectors.bootstrap.StreamSnapshot`).

* :class:`StreamSnapshotEmulator` — holds back the snapshots owed to new subscriptions while the
  emulator is paused (a frozen feed sends no data at all) and sends them on the first tick
  after :meth:`~EmulatorServer.resume`; a trade helper;
* :class:`OpArgsEmulator` — the ``{"op": .., "args": [..]}`` request / ``arg``/``action``/``data``
  push protocol family (OKX, Bitget) driven by seeded :class:`ScriptedBook` random walks: acks,
  the text ``ping`` -> ``pong``, a snapshot per book subscription, chained updates with the
  venue's sequence ids, optional CRC32 checksums (with the bad-checksum fault), trades; a venue
  sets its message hooks and REST routes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import msgspec

from arbot.connectors.checksum import CHECKSUM_DEPTH, checksum_string, crc32_signed
from arbot.testing.emulator.scripted import ScriptedBook
from arbot.testing.emulator.server import EmulatorClient, EmulatorServer

__all__ = ["Levels", "OpArgsEmulator", "StreamSnapshotEmulator"]

_enc = msgspec.json.encode

#: Book levels as text: ``[(price, size), ...]``.
Levels = list[tuple[str, str]]


class StreamSnapshotEmulator(EmulatorServer, ABC):
    """Base of the emulators whose venue answers each book subscription with a snapshot on
    the stream. While :attr:`~EmulatorServer.paused` the snapshots owed to new subscriptions
    are held back; they go out on the first tick after :meth:`~EmulatorServer.resume`, before
    any update (call :meth:`flush_held` first in :meth:`tick`). Subclasses implement
    :meth:`send_snapshot`."""

    def __init__(self, *, tick_interval: float | None = 0.02, trade_probability: float = 0.3) -> None:
        super().__init__(tick_interval=tick_interval)
        self.trade_probability = trade_probability
        self.trade_id = 0
        self.snapshots_sent = 0
        self._held: list[tuple[EmulatorClient, str]] = []

    async def snapshot_on_subscribe(self, client: EmulatorClient, topic: str) -> None:
        """Send (or hold, while paused) the snapshot a new subscription to ``topic`` gets."""
        if self.paused:
            self._held.append((client, topic))
        else:
            await self.send_snapshot(client, topic)

    async def flush_held(self) -> None:
        """Send the held snapshots whose subscription still stands (call at each tick)."""
        held, self._held = self._held, []
        for client, topic in held:
            if topic in client.topics:
                await self.send_snapshot(client, topic)

    @abstractmethod
    async def send_snapshot(self, client: EmulatorClient, topic: str) -> None:
        """Send the book snapshot of ``topic`` to ``client`` (count it in ``snapshots_sent``)."""

    def maybe_trade(self, book: ScriptedBook) -> tuple[str, str, bool] | None:
        """With probability ``trade_probability``, a trade at the touch of ``book``
        (price, size, buyer is maker); its id is then :attr:`trade_id`."""
        if book.rng.random() >= self.trade_probability:
            return None
        self.trade_id += 1
        return book.trade()


class OpArgsEmulator(StreamSnapshotEmulator):
    """An ``op``/``args`` protocol emulator (see the module docstring).

    WebSocket: the text ``ping`` -> ``pong``; ``subscribe``/``unsubscribe`` with one
    :meth:`ack` per valid ``args`` entry or an :meth:`error`; a snapshot push (action
    ``snapshot``) in reply to each book subscription, then one ``update`` per tick and
    instrument (sometimes an empty heartbeat with ``seq == prev`` when
    ``heartbeat_probability`` > 0), ids from :meth:`next_seq`; trades. The venue provides
    :meth:`inst_id`, :meth:`error`, :meth:`book_data`, :meth:`trade_data` and the REST
    :meth:`~EmulatorServer.routes` (and may change :meth:`channel_arg`, :meth:`valid`,
    :meth:`ack`, :meth:`push`, :meth:`next_seq`). :meth:`checksum` is the real CRC32 of the
    top 25 levels (0 unless ``checksum=True``), spoiled by the bad-checksum fault.
    ``heartbeat_probability`` and ``checksum`` default to the class attributes
    :attr:`default_heartbeat_probability` and :attr:`default_checksum`. Extra fault:
    :meth:`reset_sequence`.
    """

    book_channel = "books"
    trade_channel = "trades"
    #: Mid prices of the scripted books (cycled), their tick and text decimals.
    mids: tuple[float, ...] = (60000.0, 3000.0, 500.0, 150.0, 1.0)
    price_tick = 0.1
    price_decimals = 1
    qty_decimals = 5
    #: Defaults of the ``heartbeat_probability`` and ``checksum`` arguments.
    default_heartbeat_probability = 0.0
    default_checksum = False

    def __init__(
        self,
        symbols: Sequence[str] = ("BTC/USDT", "ETH/USDT"),
        *,
        seed: int = 0,
        tick_interval: float | None = 0.02,
        levels: int = 30,
        trade_probability: float = 0.3,
        heartbeat_probability: float | None = None,
        checksum: bool | None = None,
    ) -> None:
        super().__init__(tick_interval=tick_interval, trade_probability=trade_probability)
        self.supports_checksum = self.default_checksum if checksum is None else checksum
        self.heartbeat_probability = (self.default_heartbeat_probability
                                      if heartbeat_probability is None else heartbeat_probability)
        self._resets: set[str] = set()
        self.seq: dict[str, int] = {}
        self.pings = 0
        for i, sym in enumerate(symbols):
            inst = self.venue_ids[sym] = self.inst_id(sym)
            self.books[inst] = ScriptedBook(self.venue, sym, seed=seed * 1000 + i,
                                            mid=self.mids[i % len(self.mids)],
                                            tick=self.price_tick, levels=levels,
                                            price_decimals=self.price_decimals,
                                            qty_decimals=self.qty_decimals)
            self.seq[inst] = 1_000 * (i + 1)

    # -- state -------------------------------------------------------------------------------

    def reset_sequence(self, symbol: str) -> None:
        """The next update of ``symbol`` restarts its sequence at 1 (``seq < prev``), as OKX
        does after maintenance."""
        self._resets.add(self.venue_ids[symbol])

    # -- message hooks -----------------------------------------------------------------------

    @staticmethod
    @abstractmethod
    def inst_id(symbol: str) -> str:
        """The venue id of a unified symbol."""

    def channel_arg(self, channel: str, inst: str) -> dict[str, str]:
        """The ``arg`` of a push or reply."""
        return {"channel": channel, "instId": inst}

    def valid(self, arg: Any) -> bool:
        """True when a subscribe/unsubscribe ``args`` entry names a served channel."""
        return (isinstance(arg, dict) and arg.get("channel") in (self.book_channel, self.trade_channel)
                and arg.get("instId") in self.books)

    def ack(self, op: str, arg: dict[str, Any], req: dict[str, Any]) -> dict[str, Any]:
        """The reply to one accepted ``args`` entry: ``{"event": op, "arg": arg}``."""
        return {"event": op, "arg": arg}

    @abstractmethod
    def error(self, arg: Any) -> dict[str, Any]:
        """The reply to a bad request or ``args`` entry."""

    @abstractmethod
    def book_data(self, inst: str, bids: Levels, asks: Levels, prev: int, seq: int,
                  snapshot: bool) -> dict[str, Any]:
        """The ``data`` entry of a book push."""

    def next_seq(self, inst: str, prev: int, rng: Any) -> int:
        """The sequence id of the next update (default: grows by 1 to 5)."""
        return prev + int(rng.randint(1, 5))

    @abstractmethod
    def trade_data(self, inst: str, p: str, q: str, buyer_is_maker: bool) -> dict[str, Any]:
        """One trade of a trade push."""

    def push(self, channel: str, inst: str, data: list[Any], action: str | None) -> bytes:
        """A push frame: ``{"arg", "data"[, "action"]}``."""
        msg: dict[str, Any] = {"arg": self.channel_arg(channel, inst), "data": data}
        if action is not None:
            msg["action"] = action
        return _enc(msg)

    def checksum(self, inst: str) -> int:
        """The CRC32 of the current top levels of ``inst`` (0 when checksums are off); the
        bad-checksum fault spoils it."""
        if not self.supports_checksum:
            return 0
        bids, asks = self.books[inst].levels_text(CHECKSUM_DEPTH)
        value = crc32_signed(checksum_string(bids, asks))
        if self.take_bad_checksum(self.books[inst].symbol):
            value ^= 0x5A5A
        return value

    # -- WebSocket ---------------------------------------------------------------------------

    async def on_ws_message(self, client: EmulatorClient, message: str | bytes) -> None:
        """``ping``, ``subscribe`` and ``unsubscribe``."""
        if message == "ping":
            self.pings += 1
            await client.send("pong")
            return
        try:
            req = msgspec.json.decode(message)
        except msgspec.DecodeError:
            req = None
        op = req.get("op") if isinstance(req, dict) else None
        args = req.get("args") if isinstance(req, dict) else None
        if op not in ("subscribe", "unsubscribe") or not isinstance(args, list):
            await client.send(_enc(self.error(message)))
            return
        assert isinstance(req, dict) and isinstance(op, str)
        for arg in args:
            if not self.valid(arg):
                await client.send(_enc(self.error(arg)))
                continue
            channel, inst = arg["channel"], arg["instId"]
            topic = f"{channel}:{inst}"
            await client.send(_enc(self.ack(op, self.channel_arg(channel, inst), req)))
            if op == "unsubscribe":
                client.topics.discard(topic)
                continue
            client.topics.add(topic)
            if channel == self.book_channel:
                await self.snapshot_on_subscribe(client, topic)

    async def send_snapshot(self, client: EmulatorClient, topic: str) -> None:
        """The ``snapshot`` push of ``<channel>:<instId>``."""
        inst = topic.partition(":")[2]
        bids, asks = self.books[inst].levels_text()
        self.snapshots_sent += 1
        data = self.book_data(inst, bids, asks, -1, self.seq[inst], True)
        await client.send(self.push(self.book_channel, inst, [data], "snapshot"))

    # -- market ------------------------------------------------------------------------------

    async def tick(self) -> None:
        """One update per instrument (sometimes an empty heartbeat), sometimes a trade."""
        await self.flush_held()
        for inst, book in self.books.items():
            prev = self.seq[inst]
            if book.rng.random() < self.heartbeat_probability:
                bids: Levels = []
                asks: Levels = []
                seq = prev
            else:
                gap = self.take_gap(book.symbol)
                bids, asks = book.step(remove_best=gap)
                if inst in self._resets:
                    self._resets.discard(inst)
                    seq = self.seq[inst] = 1
                else:
                    seq = self.seq[inst] = self.next_seq(inst, prev, book.rng)
                if gap:
                    continue
            data = self.book_data(inst, bids, asks, prev, seq, False)
            await self.broadcast(f"{self.book_channel}:{inst}",
                                 self.push(self.book_channel, inst, [data], "update"))
            if (t := self.maybe_trade(book)) is not None:
                trade = self.trade_data(inst, *t)
                await self.broadcast(f"{self.trade_channel}:{inst}",
                                     self.push(self.trade_channel, inst, [trade], None))
