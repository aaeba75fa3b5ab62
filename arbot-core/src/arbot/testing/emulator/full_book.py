"""An emulator base for the venues whose every book message is the full top-N book -- the
emulator side of the ``full_book`` bootstrap (:class:`~arbot.connectors.bootstrap.FullBook`),
speaking the ``ticket`` request family (Upbit; Bithumb's current API mirrors it).

WebSocket ``/websocket/v1``: one JSON array per request (``ticket``, ``orderbook``/``trade``
types with ``codes`` -- ``CODE.n`` sets the depth -- and ``format`` ``DEFAULT`` or
``SIMPLE``); each request replaces the connection's subscription set and is answered with a
``SNAPSHOT`` book per code, then ``REALTIME`` full books on every change; text ``PING`` ->
``{"status":"UP"}``; ``{"error":{"name":...}}`` replies. Frames are binary (UTF-8 JSON) or
text (:attr:`FullBookEmulator.binary_frames`). REST: ``/v1/market/all``, ``/v1/orderbook``.
Driven by seeded :class:`ScriptedBook` random walks; while paused, the snapshots owed to new
requests wait for :meth:`~FullBookEmulator.resume` (a frozen feed sends nothing).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar

import msgspec
from aiohttp import web

from arbot.testing.emulator.scripted import ScriptedBook
from arbot.testing.emulator.server import EmulatorClient, EmulatorServer

__all__ = ["FullBookEmulator"]


class FullBookEmulator(EmulatorServer):
    """A full-book venue emulator (see the module docstring); a subclass sets ``venue`` and
    may add REST routes (:meth:`routes`) and change :meth:`stamp` / :attr:`binary_frames`."""

    venue = "fullbook"
    supports_checksum = False
    #: Send binary frames (Upbit) or text frames.
    binary_frames: ClassVar[bool] = True

    def __init__(
        self,
        symbols: Sequence[str] = ("BTC/KRW", "ETH/KRW"),
        *,
        seed: int = 0,
        tick_interval: float | None = 0.02,
        levels: int = 7,
        trade_probability: float = 0.3,
    ) -> None:
        super().__init__(tick_interval=tick_interval)
        self.trade_probability = trade_probability
        self._seq_id = 1_617_000_000_000_000
        self._owed: list[EmulatorClient] = []
        for i, sym in enumerate(symbols):
            base, _, quote = sym.partition("/")
            code = f"{quote}-{base}"
            self.venue_ids[sym] = code
            self.books[code] = ScriptedBook(
                self.venue, sym, seed=seed * 31 + i, mid=(80_000_000.0, 4_000_000.0, 900.0)[i % 3],
                tick=1000.0 if i % 3 < 2 else 1.0, levels=levels, price_decimals=1, qty_decimals=8)



    def stamp(self) -> int | str:
        """The venue ``timestamp`` of a message (ms)."""
        return int(time.time() * 1000)

    def _out(self, body: Any) -> str | bytes:
        data = msgspec.json.encode(body)
        return data if self.binary_frames else data.decode()

    # -- REST --------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """Market list and the REST book."""
        return [web.get("/v1/market/all", self._market_all), web.get("/v1/orderbook", self._rest_book)]

    async def _market_all(self, request: web.Request) -> web.Response:
        return web.json_response([{"market": code, "korean_name": code, "english_name": code,
                                   "market_warning": "NONE"} for code in self.books])

    async def _rest_book(self, request: web.Request) -> web.Response:
        wanted = request.query.get("markets", "").split(",")
        return web.Response(body=msgspec.json.encode(
            [self._book_body(c, 30, "DEFAULT", "REST") for c in wanted if c in self.books]),
            content_type="application/json")

    # -- messages ----------------------------------------------------------------------------

    def _book_body(self, code: str, depth: int, fmt: str, stream: str) -> dict[str, Any]:
        bids, asks = self.books[code].levels_text(depth)
        units = []
        for i in range(max(len(bids), len(asks))):
            bp, bs = bids[i] if i < len(bids) else ("0", "0")
            ap, as_ = asks[i] if i < len(asks) else ("0", "0")
            units.append((float(ap), float(bp), float(as_), float(bs)))
        total_a = sum(u[2] for u in units)
        total_b = sum(u[3] for u in units)
        if fmt == "SIMPLE":
            return {"ty": "orderbook", "cd": code, "tms": self.stamp(), "tas": total_a,
                    "tbs": total_b, "obu": [{"ap": a, "bp": b, "as": x, "bs": y}
                                            for a, b, x, y in units], "st": stream, "lv": 0}
        return {"type": "orderbook", "code": code, "timestamp": self.stamp(),
                "total_ask_size": total_a, "total_bid_size": total_b,
                "orderbook_units": [{"ask_price": a, "bid_price": b, "ask_size": x,
                                     "bid_size": y} for a, b, x, y in units],
                "stream_type": stream, "level": 0}

    def _trade_body(self, code: str, fmt: str, price: str, qty: str, buyer_maker: bool) -> Any:
        ab = "ASK" if buyer_maker else "BID"
        now = self.stamp()
        if fmt == "SIMPLE":
            return {"ty": "trade", "cd": code, "tp": float(price), "tv": float(qty), "ab": ab,
                    "ttms": now, "tms": now, "sid": self._seq_id, "st": "REALTIME"}
        return {"type": "trade", "code": code, "trade_price": float(price),
                "trade_volume": float(qty), "ask_bid": ab, "trade_timestamp": now,
                "timestamp": now, "sequential_id": self._seq_id, "stream_type": "REALTIME"}

    def _error(self, name: str, message: str) -> str | bytes:
        return self._out({"error": {"name": name, "message": message}})

    # -- WebSocket ---------------------------------------------------------------------------

    async def on_ws_message(self, client: EmulatorClient, message: str | bytes) -> None:
        """``PING`` or a subscription request (it replaces the connection's set)."""
        if message in ("PING", b"PING"):
            await client.send(self._out({"status": "UP"}))
            return
        try:
            req = msgspec.json.decode(message)
        except msgspec.DecodeError:
            await client.send(self._error("WRONG_FORMAT", "invalid JSON"))
            return
        if not isinstance(req, list) or not req or not all(isinstance(x, dict) for x in req):
            await client.send(self._error("WRONG_FORMAT", "a request is a JSON array"))
            return
        if not any("ticket" in x for x in req):
            await client.send(self._error("NO_TICKET", "ticket is required"))
            return
        topics: set[str] = set()
        depth: dict[str, int] = {}
        fmt = "DEFAULT"
        for part in req:
            if "format" in part:
                fmt = str(part["format"])
            kind = part.get("type")
            if kind is None:
                continue
            if kind not in ("orderbook", "trade") or not part.get("codes"):
                await client.send(self._error("NO_CODES" if kind else "NO_TYPE", str(part)))
                return
            for raw in part["codes"]:
                code, _, n = str(raw).partition(".")
                if code in self.books:
                    topics.add(f"{kind}:{code}")
                    if kind == "orderbook":
                        depth[code] = int(n) if n in ("1", "5", "15", "30") else 30
        client.topics = topics
        client.state.update(format=fmt, depth=depth)
        if self._paused:
            self._owed.append(client)
        else:
            await self._send_snapshots(client)

    async def _send_snapshots(self, client: EmulatorClient) -> None:
        fmt = client.state.get("format", "DEFAULT")
        for code, n in client.state.get("depth", {}).items():
            await client.send(self._out(self._book_body(code, n, fmt, "SNAPSHOT")))

    def resume(self) -> None:
        """Resume ticking and send the snapshots owed to requests made while paused."""
        super().resume()
        owed, self._owed = self._owed, []
        for c in owed:
            if c in self.clients:
                self.spawn(self._send_snapshots(c))

    async def _send_each(self, topic: str, make: Any) -> None:
        """Send ``make(format, depth)`` to each client subscribed to ``topic``."""
        frames: dict[tuple[str, int], str | bytes] = {}
        code = topic.partition(":")[2]
        for c in list(self.clients):
            if topic not in c.topics:
                continue
            key = (c.state.get("format", "DEFAULT"), c.state.get("depth", {}).get(code, 30))
            frame = frames.get(key)
            if frame is None:
                frame = frames[key] = self._out(make(*key))
            await self.broadcast(topic, frame, [c])

    async def tick(self) -> None:
        """One change per market: a REALTIME full book (and maybe a trade)."""
        for code, book in self.books.items():
            book.step()
            if self.take_gap(book.symbol):
                continue
            await self._send_each(f"orderbook:{code}",
                                  lambda fmt, n, c=code: self._book_body(c, n, fmt, "REALTIME"))
            if book.rng.random() < self.trade_probability:
                price, qty, buyer_maker = book.trade()
                self._seq_id += 1
                await self._send_each(f"trade:{code}", lambda fmt, _n, c=code, p=price, q=qty,
                                      m=buyer_maker: self._trade_body(c, fmt, p, q, m))
