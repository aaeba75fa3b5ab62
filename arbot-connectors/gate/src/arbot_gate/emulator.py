"""A Gate.io spot (API v4) emulator built with :mod:`arbot.testing.emulator`.

WebSocket ``/ws/v4/``: ``subscribe``/``unsubscribe`` requests answered with
``{"result":{"status":"success"}}`` (or an ``error``), ``spot.ping`` -> ``spot.pong``,
``spot.order_book_update`` deltas (``U``/``u`` ids, one id per changed level) and
``spot.trades``; REST ``/api/v4/spot/currency_pairs`` and
``/api/v4/spot/order_book?currency_pair=&limit=&with_id=true``. Driven by seeded
:class:`ScriptedBook` random walks.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import msgspec
from aiohttp import web
from arbot.book import OrderBook
from arbot.testing.emulator import EmulatorClient, EmulatorServer, ScriptedBook

from arbot_gate.private_api import GatePrivateApi

__all__ = ["GateEmulator", "emulator_settings"]


def _frame(channel: str, event: str, result: Any, **extra: Any) -> str:
    now = time.time()
    body = {"time": int(now), "time_ms": int(now * 1000), "channel": channel, "event": event,
            "result": result, **extra}
    return msgspec.json.encode(body).decode()


class GateEmulator(EmulatorServer):
    """Gate.io spot emulator (see the module docstring)."""

    venue = "gate"
    private: GatePrivateApi
    supports_checksum = False

    def __init__(
        self,
        symbols: Sequence[str] = ("BTC/USDT", "ETH/USDT"),
        *,
        seed: int = 0,
        tick_interval: float | None = 0.02,
        levels: int = 30,
        trade_probability: float = 0.3,
    ) -> None:
        super().__init__(tick_interval=tick_interval)
        self.pairs: dict[str, str] = {}  # unified -> BASE_QUOTE
        self.books: dict[str, ScriptedBook] = {}  # by pair
        self.last_id: dict[str, int] = {}
        self.trade_probability = trade_probability
        self._trade_id = 3_130_257_995
        for i, sym in enumerate(symbols):
            pair = sym.replace("/", "_")
            self.pairs[sym] = pair
            self.books[pair] = ScriptedBook(
                self.venue, sym, seed=seed * 7919 + i, mid=(40000.0, 2500.0, 90.0)[i % 3],
                tick=0.01, levels=levels, price_decimals=2, qty_decimals=6)
            self.last_id[pair] = 140_595_902 + 10_000_000 * i
        #: the private API (accounts, orders, private channels) on the emulated exchange
        self.private = GatePrivateApi(self.books, self.spawn)

    def symbols(self) -> list[str]:
        """Unified symbols."""
        return list(self.pairs)

    def true_book(self, symbol: str) -> OrderBook:
        """The scripted book of ``symbol``."""
        return self.books[self.pairs[symbol]].book

    # -- REST --------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """``/api/v4/spot/currency_pairs`` and ``/api/v4/spot/order_book``."""
        return [web.get("/api/v4/spot/currency_pairs", self._currency_pairs),
                web.get("/api/v4/spot/order_book", self._order_book), *self.private.routes()]

    async def _currency_pairs(self, request: web.Request) -> web.Response:
        body = []
        for sym, pair in self.pairs.items():
            base, quote = sym.split("/")
            body.append({"id": pair, "base": base, "quote": quote, "fee": "0.2",
                         "min_base_amount": "0.0001", "min_quote_amount": "3",
                         "amount_precision": 6, "precision": 2, "trade_status": "tradable",
                         "sell_start": 0, "buy_start": 0})
        return web.json_response(body)

    async def _order_book(self, request: web.Request) -> web.Response:
        pair = request.query.get("currency_pair", "")
        book = self.books.get(pair)
        if book is None:
            return web.json_response({"label": "INVALID_CURRENCY_PAIR",
                                      "message": f"invalid currency pair {pair}"}, status=400)
        limit = int(request.query.get("limit", "10"))
        bids, asks = book.levels_text(limit)
        now = int(time.time() * 1000)
        body: dict[str, Any] = {"current": now, "update": now,
                                "asks": [list(x) for x in asks], "bids": [list(x) for x in bids]}
        if request.query.get("with_id") == "true":
            body = {"id": self.last_id[pair], **body}
        return web.json_response(body)

    # -- WebSocket ---------------------------------------------------------------------------

    async def on_ws_message(self, client: EmulatorClient, message: str | bytes) -> None:
        """Requests: ``spot.ping``, ``subscribe``/``unsubscribe`` of the book and trades."""
        try:
            req = msgspec.json.decode(message)
            channel, event = req["channel"], req.get("event", "")
        except (msgspec.DecodeError, KeyError, TypeError):
            await client.send(_frame("", "", None, error={"code": 1, "message": "invalid"}))
            return
        if channel == "spot.ping":
            await client.send(_frame("spot.pong", "", None))
            return
        answer = await self.private.on_ws_request(client, req)
        if answer is not None:
            await client.send(_frame(channel, event, answer.get("result"), id=req.get("id"),
                                     **{k: v for k, v in answer.items() if k != "result"}))
            return
        payload = req.get("payload") or []
        if channel == "spot.order_book_update" and payload and payload[0] in self.books:
            topics = {f"book:{payload[0]}"}
        elif channel == "spot.trades" and payload and all(p in self.books for p in payload):
            topics = {f"trades:{p}" for p in payload}
        else:
            await client.send(_frame(channel, event, None, id=req.get("id"),
                                     error={"code": 2, "message": "unknown channel or pair"}))
            return
        if event == "subscribe":
            client.topics |= topics
        elif event == "unsubscribe":
            client.topics -= topics
        await client.send(_frame(channel, event, {"status": "success"}, id=req.get("id")))

    async def tick(self) -> None:
        """One change (and maybe a trade) per pair; resting orders the book crosses fill."""
        await self._tick_books()
        self.private.exchange.match()

    async def _tick_books(self) -> None:
        now = time.time()
        for pair, book in self.books.items():
            bids, asks = book.step()
            n = len(bids) + len(asks)
            if n == 0:
                continue
            first = self.last_id[pair] + 1
            self.last_id[pair] += n
            if self.take_gap(book.symbol):
                continue
            await self.broadcast(f"book:{pair}", _frame("spot.order_book_update", "update", {
                "t": int(now * 1000), "e": "depthUpdate", "E": int(now), "s": pair,
                "U": first, "u": self.last_id[pair],
                "b": [list(x) for x in bids], "a": [list(x) for x in asks]}))
            if book.rng.random() < self.trade_probability:
                price, qty, buyer_maker = book.trade()
                self._trade_id += 1
                await self.broadcast(f"trades:{pair}", _frame("spot.trades", "update", {
                    "id": self._trade_id, "create_time": int(now),
                    "create_time_ms": f"{now * 1000:.1f}", "side": "sell" if buyer_maker else "buy",
                    "currency_pair": pair, "amount": qty, "price": price}))


def emulator_settings(emulator: EmulatorServer, **extra: Any) -> Any:
    """:class:`~arbot_gate.connector.GateSettings` pointing at ``emulator`` with test-sized
    timers; ``extra`` overrides."""
    from arbot_gate.connector import GateConnector, GateSettings

    values: dict[str, Any] = {
        **GateConnector.emulated_settings(emulator), "backoff_initial": 0.02,
        "backoff_max": 0.2, "idle_timeout": 0.25, "stale_after": 0.2,
        "snapshot_retry_delay": 0.02, "messages_per_second": 50.0,
    }
    values.update(extra)
    return GateSettings(**values)
