"""A Bybit v5 spot emulator built with :mod:`arbot.testing.emulator`.

Speaks the public protocol the connector uses on ``/v5/public/spot``: ``subscribe`` /
``unsubscribe`` ops (one ack per request, ``success:false`` for a bad topic),
``{"op":"ping"}`` -> the spot pong; ``orderbook.{200|1000}.{symbol}`` (a snapshot in reply to
each subscribe, then deltas with ``u`` + 1 and a growing cross sequence ``seq``; the scripted
books stay within 60 levels, so both depths carry the whole book) and ``publicTrade.{symbol}``.
REST: ``/v5/market/instruments-info``, ``/v5/market/orderbook``, ``/v5/market/time``. Driven by
seeded :class:`ScriptedBook` random walks; faults from the kit plus :meth:`restart` (a
``u == 1`` service-restart snapshot). Held snapshots while paused: the family base
:class:`arbot.testing.emulator.StreamSnapshotEmulator`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import msgspec
from aiohttp import web
from arbot.testing.emulator import (
    EmulatorClient,
    EmulatorServer,
    ScriptedBook,
    StreamSnapshotEmulator,
    fast_settings,
)

from arbot_bybit.private_api import BybitPrivateApi

__all__ = ["BybitEmulator", "emulator_settings"]

_enc = msgspec.json.encode
DEPTHS = ("200", "1000")


class BybitEmulator(StreamSnapshotEmulator):
    """Bybit v5 spot public-data emulator (see the module docstring)."""

    venue = "bybit"

    def __init__(
        self,
        symbols: Sequence[str] = ("BTC/USDT", "ETH/USDT"),
        *,
        seed: int = 0,
        tick_interval: float | None = 0.02,
        levels: int = 30,
        trade_probability: float = 0.3,
    ) -> None:
        super().__init__(tick_interval=tick_interval, trade_probability=trade_probability)
        self.u: dict[str, int] = {}
        self.cross_seq = 7_000_000
        self._restarts: set[str] = set()
        self.pings = 0
        mids = [60000.0, 3000.0, 500.0, 150.0, 1.0]
        for i, sym in enumerate(symbols):
            vs = sym.replace("/", "")
            self.venue_ids[sym] = vs
            self.books[vs] = ScriptedBook(self.venue, sym, seed=seed * 1000 + i, mid=mids[i % 5],
                                          tick=0.01, levels=levels, price_decimals=2,
                                          qty_decimals=6)
            self.u[vs] = 18_000_000 + 1000 * i
        #: The private API (accounts, orders, private stream) over the scripted books.
        self.private = BybitPrivateApi({vs: (b.symbol, b) for vs, b in self.books.items()}, self.spawn)

    def restart(self, symbol: str) -> None:
        """At the next tick ``symbol`` restarts its stream: a snapshot with ``u == 1``."""
        self._restarts.add(self.venue_ids[symbol])

    # -- REST --------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """The REST endpoints."""
        return [
            web.get("/v5/market/instruments-info", self._instruments),
            web.get("/v5/market/orderbook", self._orderbook),
            web.get("/v5/market/time", self._time),
            *self.private.routes(),
        ]

    @staticmethod
    def _result(result: Any, code: int = 0, msg: str = "OK") -> web.Response:
        body = {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {},
                "time": int(time.time() * 1000)}
        return web.Response(body=_enc(body), content_type="application/json")

    async def _time(self, request: web.Request) -> web.Response:
        now = self.private.server_time_ms() / 1000.0
        return self._result({"timeSecond": str(int(now)), "timeNano": str(int(now * 1e9))})

    async def _instruments(self, request: web.Request) -> web.Response:
        if request.query.get("category") != "spot":
            return self._result({}, 10001, "params error: category only support spot")
        items = []
        for vs, book in self.books.items():
            base, quote = book.symbol.split("/")
            items.append({
                "symbol": vs, "baseCoin": base, "quoteCoin": quote, "status": "Trading",
                "innovation": "0", "marginTrading": "none",
                "lotSizeFilter": {"basePrecision": "0.000001", "quotePrecision": "0.00000001",
                                  "minOrderQty": "0.000048", "maxOrderQty": "71.73956243",
                                  "minOrderAmt": "1", "maxOrderAmt": "2000000"},
                "priceFilter": {"tickSize": "0.01"},
            })
        return self._result({"category": "spot", "list": items, "nextPageCursor": ""})

    async def _orderbook(self, request: web.Request) -> web.Response:
        vs = request.query.get("symbol", "")
        if vs not in self.books:
            return self._result({}, 10001, "params error: symbol invalid")
        bids, asks = self.books[vs].levels_text(int(request.query.get("limit", "1")))
        return self._result({"s": vs, "b": bids, "a": asks, "ts": int(time.time() * 1000),
                             "u": self.u[vs], "seq": self.cross_seq})

    # -- WebSocket ---------------------------------------------------------------------------

    async def on_ws_message(self, client: EmulatorClient, message: str | bytes) -> None:
        """``ping``, ``subscribe``, ``unsubscribe``; ``/v5/private`` goes to the private API."""
        if client.path.startswith("/v5/private"):
            await self.private.on_ws_message(client, message)
            return
        try:
            req = msgspec.json.decode(message)
        except msgspec.DecodeError:
            req = None
        if not isinstance(req, dict):
            await client.send(_enc({"success": False, "ret_msg": "Invalid request",
                                    "conn_id": "e", "op": ""}))
            return
        op, rid = req.get("op"), req.get("req_id")
        reply: dict[str, Any] = {"success": True, "ret_msg": op, "conn_id": "e", "op": op}
        if rid is not None:
            reply["req_id"] = rid
        if op == "ping":
            self.pings += 1
            reply["ret_msg"] = "pong"
            await client.send(_enc(reply))
            return
        args = req.get("args")
        if op not in ("subscribe", "unsubscribe") or not isinstance(args, list):
            reply.update(success=False, ret_msg=f"Invalid op: {op}")
            await client.send(_enc(reply))
            return
        bad = [t for t in args if not self._valid(t)]
        if bad:
            reply.update(success=False, ret_msg=f"Invalid topic: {bad}")
            await client.send(_enc(reply))
            return
        await client.send(_enc(reply))
        for topic in args:
            if op == "unsubscribe":
                client.topics.discard(topic)
                continue
            client.topics.add(topic)
            if topic.startswith("orderbook."):
                await self.snapshot_on_subscribe(client, topic)

    def _valid(self, topic: Any) -> bool:
        if not isinstance(topic, str):
            return False
        parts = topic.split(".")
        if parts[0] == "orderbook" and len(parts) == 3:
            return parts[1] in DEPTHS and parts[2] in self.books
        return parts[0] == "publicTrade" and len(parts) == 2 and parts[1] in self.books

    def _book_msg(self, topic: str, kind: str, vs: str, bids: Any, asks: Any, u: int) -> bytes:
        now = int(time.time() * 1000)
        self.cross_seq += 3
        return _enc({"topic": topic, "ts": now, "type": kind,
                     "data": {"s": vs, "b": bids, "a": asks, "u": u, "seq": self.cross_seq},
                     "cts": now - 2})

    async def send_snapshot(self, client: EmulatorClient, topic: str) -> None:
        """The ``snapshot`` push of ``orderbook.{depth}.{symbol}``."""
        vs = topic.rsplit(".", 1)[1]
        bids, asks = self.books[vs].levels_text()
        self.snapshots_sent += 1
        await client.send(self._book_msg(topic, "snapshot", vs, bids, asks, self.u[vs]))

    # -- market ------------------------------------------------------------------------------

    async def tick(self) -> None:
        """One delta per symbol (or a ``u == 1`` restart snapshot), sometimes a trade."""
        await self.flush_held()
        for vs, book in self.books.items():
            if vs in self._restarts:
                self._restarts.discard(vs)
                book.step()
                self.u[vs] = 1
                bids, asks = book.levels_text()
                for d in DEPTHS:
                    topic = f"orderbook.{d}.{vs}"
                    await self.broadcast(topic, self._book_msg(topic, "snapshot", vs, bids, asks, 1))
                continue
            gap = self.take_gap(book.symbol)
            bids, asks = book.step(remove_best=gap)
            self.u[vs] += 1
            if gap:
                continue
            for d in DEPTHS:
                topic = f"orderbook.{d}.{vs}"
                await self.broadcast(topic, self._book_msg(topic, "delta", vs, bids, asks,
                                                           self.u[vs]))
            if (t := self.maybe_trade(book)) is not None:
                p, q, buyer_is_maker = t
                now = int(time.time() * 1000)
                await self.broadcast(f"publicTrade.{vs}", _enc({
                    "topic": f"publicTrade.{vs}", "type": "snapshot", "ts": now,
                    "data": [{"T": now, "s": vs, "S": "Sell" if buyer_is_maker else "Buy",
                              "v": q, "p": p, "L": "ZeroMinusTick", "i": f"t-{self.trade_id}",
                              "BT": False, "seq": self.cross_seq}]}))
        self.private.on_tick()



def emulator_settings(emulator: EmulatorServer, **extra: Any) -> Any:
    """:class:`~arbot_bybit.connector.BybitSettings` for ``emulator`` (test-sized timers,
    see :func:`arbot.testing.emulator.fast_settings`)."""
    from arbot_bybit.connector import BybitConnector

    return fast_settings(BybitConnector, emulator, **extra)
