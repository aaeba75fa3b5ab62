"""An OKX v5 emulator built with :mod:`arbot.testing.emulator`.

Speaks the public protocol the connector uses on ``/ws/v5/public``: ``subscribe`` /
``unsubscribe`` ops with one ack per arg (``event: subscribe``) or an ``error`` event, the text
``ping`` -> ``pong``; ``books`` (a snapshot with ``prevSeqId: -1`` in reply to each subscribe,
then ``update`` pushes chained by ``prevSeqId``/``seqId``, levels ``[px, sz, "0", n]``; the
``checksum`` field is 0 as on the live venue since June 2026, or the real CRC32 with
``checksum=True``), empty heartbeat updates (``seqId == prevSeqId``) and ``trades``. REST:
``/api/v5/public/instruments``, ``/api/v5/market/books``, ``/api/v5/public/time``. Driven by
seeded :class:`ScriptedBook` random walks; faults from the kit plus :meth:`reset_sequence`
(OKX's post-maintenance ``seqId < prevSeqId``).

The Bitget emulator subclasses this one (same protocol shape) and overrides the message
hooks (:meth:`OkxEmulator.channel_arg`, :meth:`OkxEmulator.book_data`,
:meth:`OkxEmulator.trade_data`, :meth:`OkxEmulator.ack`, :meth:`OkxEmulator.error`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import msgspec
from aiohttp import web
from arbot.book import OrderBook
from arbot.testing.emulator import EmulatorClient, EmulatorServer, ScriptedBook

from arbot_okx.sync import checksum_string, crc32_signed

__all__ = ["OkxEmulator", "SnapshotEmulator", "emulator_settings", "fast_settings"]

_enc = msgspec.json.encode
Levels = list[tuple[str, str]]


def _okx_levels(levels: Levels) -> list[list[str]]:
    return [[p, q, "0", "1" if float(q) > 0 else "0"] for p, q in levels]


class SnapshotEmulator(EmulatorServer):
    """Base of the emulators whose venue answers each book subscription with a snapshot on
    the stream (OKX, Bitget, Bybit). While paused (a frozen feed sends no data at all) the
    snapshots owed to new subscriptions are held back; they go out on the first tick after
    :meth:`resume`, before any update. Subclasses implement :meth:`send_snapshot`."""

    def __init__(self, *, tick_interval: float | None = 0.02, trade_probability: float = 0.3) -> None:
        super().__init__(tick_interval=tick_interval)
        self.trade_probability = trade_probability
        self.trade_id = 0
        self.frozen = False
        self.snapshots_sent = 0
        self._held: list[tuple[EmulatorClient, str]] = []

    def pause(self) -> None:
        """Freeze the market and hold back snapshots."""
        super().pause()
        self.frozen = True

    def resume(self) -> None:
        """Resume ticking; held snapshots go out before the next update."""
        super().resume()
        self.frozen = False

    async def snapshot_on_subscribe(self, client: EmulatorClient, topic: str) -> None:
        """Send (or hold, while frozen) the snapshot a new subscription to ``topic`` gets."""
        if self.frozen:
            self._held.append((client, topic))
        else:
            await self.send_snapshot(client, topic)

    async def flush_held(self) -> None:
        """Send the held snapshots whose subscription still stands (call at each tick)."""
        held, self._held = self._held, []
        for client, topic in held:
            if topic in client.topics:
                await self.send_snapshot(client, topic)

    async def send_snapshot(self, client: EmulatorClient, topic: str) -> None:
        """Send the book snapshot of ``topic`` to ``client`` (count it in ``snapshots_sent``)."""
        raise NotImplementedError

    def maybe_trade(self, book: ScriptedBook) -> tuple[str, str, bool] | None:
        """With probability ``trade_probability``, a trade at the touch of ``book``
        (price, size, buyer is maker); its id is then :attr:`trade_id`."""
        if book.rng.random() >= self.trade_probability:
            return None
        self.trade_id += 1
        return book.trade()


class OkxEmulator(SnapshotEmulator):
    """OKX v5 public-data emulator (see the module docstring)."""

    venue = "okx"
    book_channel = "books"
    trade_channel = "trades"

    def __init__(
        self,
        symbols: Sequence[str] = ("BTC/USDT", "ETH/USDT"),
        *,
        seed: int = 0,
        tick_interval: float | None = 0.02,
        levels: int = 30,
        trade_probability: float = 0.3,
        heartbeat_probability: float = 0.05,
        checksum: bool = False,
    ) -> None:
        super().__init__(tick_interval=tick_interval, trade_probability=trade_probability)
        self.supports_checksum = checksum
        self.unified = list(symbols)
        self.heartbeat_probability = heartbeat_probability
        self.books: dict[str, ScriptedBook] = {}
        self.seq: dict[str, int] = {}
        self._resets: set[str] = set()
        self._inst: dict[str, str] = {}
        self.pings = 0
        mids = [60000.0, 3000.0, 500.0, 150.0, 1.0]
        for i, sym in enumerate(symbols):
            inst = self._inst[sym] = self.inst_id(sym)
            self.books[inst] = ScriptedBook(self.venue, sym, seed=seed * 1000 + i, mid=mids[i % 5],
                                            tick=0.1, levels=levels, price_decimals=1,
                                            qty_decimals=5)
            self.seq[inst] = 1_000 * (i + 1)

    # -- state -------------------------------------------------------------------------------

    def symbols(self) -> list[str]:
        """Unified symbols."""
        return list(self.unified)

    def true_book(self, symbol: str) -> OrderBook:
        """The scripted book of ``symbol``."""
        return self.books[self._inst[symbol]].book

    def reset_sequence(self, symbol: str) -> None:
        """The next update of ``symbol`` restarts the sequence (``seqId < prevSeqId``), as
        OKX does after maintenance."""
        self._resets.add(self._inst[symbol])

    # -- message hooks (Bitget overrides them) -----------------------------------------------

    @staticmethod
    def inst_id(symbol: str) -> str:
        """The venue id of a unified symbol (``BTC-USDT``)."""
        return symbol.replace("/", "-")

    def channel_arg(self, channel: str, inst: str) -> dict[str, str]:
        """The ``arg`` of a push or reply."""
        return {"channel": channel, "instId": inst}

    def valid(self, arg: Any) -> bool:
        """True when a subscribe/unsubscribe ``args`` entry names a served channel."""
        return (isinstance(arg, dict) and arg.get("channel") in (self.book_channel, self.trade_channel)
                and arg.get("instId") in self.books)

    def ack(self, op: str, arg: dict[str, Any], req: dict[str, Any]) -> dict[str, Any]:
        """The reply to one accepted ``args`` entry."""
        reply: dict[str, Any] = {"event": op, "arg": arg, "connId": "e"}
        if "id" in req:
            reply["id"] = req["id"]
        return reply

    def error(self, arg: Any) -> dict[str, Any]:
        """The reply to a bad request or ``args`` entry."""
        return {"event": "error", "code": "60018",
                "msg": f"Wrong URL or channel:{arg!r:.80} doesn't exist", "connId": "e"}

    def book_data(self, inst: str, bids: Levels, asks: Levels, prev: int, seq: int,
                  snapshot: bool) -> dict[str, Any]:
        """The ``data`` entry of a book push."""
        return {"asks": _okx_levels(asks), "bids": _okx_levels(bids),
                "ts": str(int(time.time() * 1000)), "checksum": self._checksum(inst),
                "prevSeqId": -1 if snapshot else prev, "seqId": seq}

    def next_seq(self, inst: str, prev: int, rng: Any) -> int:
        """``seqId`` of the next update (1 after :meth:`reset_sequence`)."""
        if inst in self._resets:
            self._resets.discard(inst)
            return 1
        return prev + int(rng.randint(1, 5))

    def trade_data(self, inst: str, p: str, q: str, buyer_is_maker: bool) -> dict[str, Any]:
        """One trade of a ``trades`` push."""
        return {"instId": inst, "tradeId": str(self.trade_id), "px": p, "sz": q,
                "side": "sell" if buyer_is_maker else "buy", "ts": str(int(time.time() * 1000))}

    def push(self, channel: str, inst: str, data: list[Any], action: str | None) -> bytes:
        """A push frame."""
        msg: dict[str, Any] = {"arg": self.channel_arg(channel, inst), "data": data}
        if action is not None:
            msg["action"] = action
        return _enc(msg)

    def _checksum(self, inst: str) -> int:
        if not self.supports_checksum:
            return 0
        bids, asks = self.books[inst].levels_text(25)
        value = crc32_signed(checksum_string(bids, asks))
        if self.take_bad_checksum(self.books[inst].symbol):
            value ^= 0x5A5A
        return value

    # -- REST --------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """The REST endpoints."""
        return [
            web.get("/api/v5/public/instruments", self._instruments),
            web.get("/api/v5/market/books", self._books),
            web.get("/api/v5/public/time", self._time),
        ]

    @staticmethod
    def _ok(data: list[Any]) -> web.Response:
        return web.Response(body=_enc({"code": "0", "msg": "", "data": data}),
                            content_type="application/json")

    async def _time(self, request: web.Request) -> web.Response:
        return self._ok([{"ts": str(int(time.time() * 1000))}])

    async def _instruments(self, request: web.Request) -> web.Response:
        if request.query.get("instType") != "SPOT":
            return web.json_response({"code": "51000", "msg": "Parameter instType error",
                                      "data": []}, status=400)
        data = []
        for inst in self.books:
            base, quote = inst.split("-")
            data.append({"instType": "SPOT", "instId": inst, "baseCcy": base, "quoteCcy": quote,
                         "tickSz": "0.1", "lotSz": "0.00001", "minSz": "0.00001",
                         "state": "live", "uly": "", "settleCcy": ""})
        return self._ok(data)

    async def _books(self, request: web.Request) -> web.Response:
        inst = request.query.get("instId", "")
        book = self.books.get(inst)
        if book is None:
            return web.json_response({"code": "51001", "msg": "Instrument ID does not exist",
                                      "data": []}, status=400)
        depth = min(400, int(request.query.get("sz", "1")))
        bids, asks = book.levels_text(depth)
        return self._ok([{"asks": _okx_levels(asks), "bids": _okx_levels(bids),
                          "ts": str(int(time.time() * 1000))}])

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
        assert isinstance(req, dict)
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



def fast_settings(connector: Any, emulator: EmulatorServer, **extra: Any) -> Any:
    """Settings of a stream-snapshot ``connector`` class pointing at ``emulator``, with
    test-sized timers (fast backoff, short idle and stale timeouts, pings rarer than a test,
    fast control messages); ``extra`` overrides. Shared by the OKX, Bitget and Bybit tests."""
    values: dict[str, Any] = connector.emulated_settings(emulator)
    values.update(backoff_initial=0.02, backoff_max=0.2, idle_timeout=0.25, stale_after=0.2,
                  resubscribe_after=0.3, ping_interval=10.0, messages_per_second=10.0)
    values.update(extra)
    return connector.Settings(**values)


def emulator_settings(emulator: EmulatorServer, **extra: Any) -> Any:
    """:class:`~arbot_okx.connector.OkxSettings` for ``emulator`` (see :func:`fast_settings`)."""
    from arbot_okx.connector import OkxConnector

    return fast_settings(OkxConnector, emulator, **extra)
