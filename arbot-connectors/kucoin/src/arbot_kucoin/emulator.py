"""A KuCoin spot emulator built with :mod:`arbot.testing.emulator`.

Speaks the public protocol the connector uses: ``POST /api/v1/bullet-public`` (token +
instance server pointing at this emulator's WebSocket), ``welcome`` on connect, JSON
``subscribe``/``unsubscribe`` with ``ack``, ``ping``/``pong``, ``trade.l2update`` pushes with
``sequenceStart``/``sequenceEnd`` and per-entry sequences, ``trade.l3match`` trades (ns
times); REST ``/api/v2/symbols`` (and v1), ``/api/v1/market/orderbook/level2_20``,
``level2_100`` and ``/api/v3/market/orderbook/level2`` with a string ``sequence``. Driven by
seeded :class:`ScriptedBook` random walks.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from typing import Any, Unpack
from urllib.parse import parse_qs, urlsplit

import msgspec
from aiohttp import web
from arbot.testing.emulator import EmulatorClient, EmulatorServer, RestSnapshotEmulator, fast_settings
from arbot.testing.emulator.rest_snapshot import ScriptOptions

from arbot_kucoin.private_api import KucoinPrivateApi

__all__ = ["KucoinEmulator", "emulator_settings"]

_enc = msgspec.json.encode


def _ok(data: Any) -> web.Response:
    return web.Response(body=_enc({"code": "200000", "data": data}),
                        content_type="application/json")


class KucoinEmulator(RestSnapshotEmulator):
    """KuCoin spot emulator (see the module docstring)."""

    venue = "kucoin"
    private: KucoinPrivateApi
    supports_checksum = False
    passphrase_required = True
    price_tick = 0.1
    price_decimals = 1
    first_id = 14_701_689_780

    def __init__(self, symbols: Sequence[str] = ("BTC/USDT", "ETH/USDT"), *,
                 ping_interval_ms: int = 18000, welcome_delay: float = 0.02,
                 **options: Unpack[ScriptOptions]) -> None:
        super().__init__(symbols, **options)
        self.ping_interval_ms = ping_interval_ms
        self.welcome_delay = welcome_delay
        #: messages clients sent before their ``welcome`` (a protocol violation)
        self.early_messages = 0
        self.tokens: set[str] = set()
        #: the private API (accounts, orders, private stream) on the emulated exchange
        self.private = KucoinPrivateApi(self.books, lambda: self.ws_url, self.spawn)

    @staticmethod
    def venue_id(symbol: str) -> str:
        """``BTC-USDT``."""
        return symbol.replace("/", "-")

    # -- REST --------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """The REST endpoints."""
        return [
            web.post("/api/v1/bullet-public", self._bullet),
            web.get("/api/v2/symbols", self._symbols),
            web.get("/api/v1/symbols", self._symbols),
            web.get("/api/v1/market/orderbook/level2_20", self._depth_20),
            web.get("/api/v1/market/orderbook/level2_100", self._depth_100),
            web.get("/api/v3/market/orderbook/level2", self._depth_full),
            web.get("/api/v1/timestamp", self._timestamp),
            web.get("/api/v1/market/allTickers", self._all_tickers),
            *self.private.routes(),
        ]

    async def _bullet(self, request: web.Request) -> web.Response:
        token = uuid.uuid4().hex
        self.tokens.add(token)
        return _ok({"token": token, "instanceServers": [{
            "endpoint": self.ws_url + "/", "encrypt": False, "protocol": "websocket",
            "pingInterval": self.ping_interval_ms, "pingTimeout": 10000}]})

    async def _all_tickers(self, request: web.Request) -> web.Response:
        tickers = []
        for vs, book in self.books.items():
            bids, asks = book.levels_text(1)
            bid, ask = (bids[0][0] if bids else "0"), (asks[0][0] if asks else "0")
            tickers.append({"symbol": vs, "symbolName": vs, "buy": bid, "sell": ask, "last": bid,
                            "vol": "0", "volValue": "0", "takerFeeRate": "0.001", "makerFeeRate": "0.001",
                            "takerCoefficient": "1", "makerCoefficient": "1"})
        return _ok({"time": int(time.time() * 1000), "ticker": tickers})

    async def _timestamp(self, request: web.Request) -> web.Response:
        return _ok(int(self.private.exchange.server_time() * 1000))

    async def _symbols(self, request: web.Request) -> web.Response:
        return _ok([{
            "symbol": vs, "name": vs, "baseCurrency": b, "quoteCurrency": q,
            "market": "USDS", "baseMinSize": "0.00001", "quoteMinSize": "0.1",
            "baseMaxSize": "10000000000", "quoteMaxSize": "99999999", "baseIncrement": "0.00000001",
            "quoteIncrement": "0.000001", "priceIncrement": "0.1", "priceLimitRate": "0.1",
            "minFunds": "0.1", "isMarginEnabled": True, "enableTrading": True,
        } for vs, (b, q) in ((v, self.base_quote(v)) for v in self.books)])

    def _book_body(self, request: web.Request, depth: int | None) -> web.Response:
        vs = request.query.get("symbol", "")
        if vs not in self.books:
            return web.json_response({"code": "400100", "msg": "symbol not exists"}, status=400)
        sequence, bids, asks = self.snapshot(vs, depth)
        return _ok({"time": int(time.time() * 1000), "sequence": str(sequence),
                    "bids": [list(x) for x in bids], "asks": [list(x) for x in asks]})

    async def _depth_20(self, request: web.Request) -> web.Response:
        return self._book_body(request, 20)

    async def _depth_100(self, request: web.Request) -> web.Response:
        return self._book_body(request, 100)

    async def _depth_full(self, request: web.Request) -> web.Response:
        return self._book_body(request, None)

    # -- WebSocket ---------------------------------------------------------------------------

    async def on_ws_connect(self, client: EmulatorClient) -> None:
        """Check the token and send ``welcome`` (with the client's ``connectId``)."""
        query = parse_qs(urlsplit(client.path).query)
        token = query.get("token", [""])[0]
        connect_id = query.get("connectId", [""])[0]
        client.state["token"] = token
        if token not in self.tokens and not self.private.owns(token):
            await client.send(_enc({"id": connect_id, "type": "error", "code": 401,
                                    "data": "token is expired"}).decode())
            await client.conn.close(1008, "invalid token")
            return
        self.spawn(self._welcome(client, connect_id))

    async def _welcome(self, client: EmulatorClient, connect_id: str) -> None:
        await asyncio.sleep(self.welcome_delay)
        client.state["welcomed"] = True
        await client.send(_enc({"id": connect_id, "type": "welcome"}).decode())

    async def on_ws_message(self, client: EmulatorClient, message: str | bytes) -> None:
        """``ping`` -> ``pong``; ``subscribe``/``unsubscribe`` (comma-separated symbols).
        Anything sent before the ``welcome`` is refused."""
        if not client.state.get("welcomed"):
            self.early_messages += 1
            await client.send(_enc({"type": "error", "code": 400,
                                    "data": "message before welcome"}).decode())
            return
        try:
            msg = msgspec.json.decode(message)
        except msgspec.DecodeError:
            await client.send(_enc({"type": "error", "code": 400, "data": "bad json"}).decode())
            return
        kind = msg.get("type") if isinstance(msg, dict) else None
        mid = msg.get("id", "") if isinstance(msg, dict) else ""
        if kind == "ping":
            await client.send(_enc({"id": mid, "type": "pong",
                                    "timestamp": time.time_ns() // 1000}).decode())
            return
        if kind == "subscribe" and msg.get("privateChannel"):
            ok = await self.private.subscribe(client, client.state.get("token", ""), str(msg.get("topic")))
            await client.send(_enc({"id": mid, "type": "ack" if ok else "error", "code": 404}).decode())
            return
        if kind in ("subscribe", "unsubscribe"):
            prefix, _, syms = str(msg.get("topic", "")).partition(":")
            topics = {f"{prefix}:{s}" for s in syms.split(",") if s}
            if prefix not in ("/market/level2", "/market/match") or not topics:
                await client.send(_enc({"id": mid, "type": "error", "code": 404,
                                        "data": "topic not found"}).decode())
                return
            if kind == "subscribe":
                client.topics |= topics
            else:
                client.topics -= topics
            if msg.get("response"):
                await client.send(_enc({"id": mid, "type": "ack"}).decode())
            return
        await client.send(_enc({"id": mid, "type": "error", "code": 404,
                                "data": "unknown message type"}).decode())

    async def tick(self) -> None:
        """One book change (and maybe a trade) per symbol; resting orders the book crosses fill."""
        await self._tick_books()
        self.private.exchange.match()

    async def _tick_books(self) -> None:
        """One book change (and maybe a trade) per symbol; every change has its own sequence."""
        now = int(time.time() * 1000)
        for vs in self.books:
            delta = self.step(vs)
            if delta is None:
                continue
            seq = delta.first - 1
            changes: dict[str, list[list[str]]] = {"asks": [], "bids": []}
            for side, levels in (("asks", delta.asks), ("bids", delta.bids)):
                for p, q in levels:
                    seq += 1
                    changes[side].append([p, q, str(seq)])
            await self.broadcast(f"/market/level2:{vs}", _enc({
                "type": "message", "topic": f"/market/level2:{vs}", "subject": "trade.l2update",
                "data": {"changes": changes, "sequenceStart": delta.first,
                         "sequenceEnd": delta.last, "symbol": vs, "time": now}}).decode())
            if (t := self.maybe_trade(vs)) is not None:
                p, q, buyer_maker = t
                await self.broadcast(f"/market/match:{vs}", _enc({
                    "type": "message", "topic": f"/market/match:{vs}",
                    "subject": "trade.l3match", "data": {
                        "price": p, "size": q, "side": "sell" if buyer_maker else "buy",
                        "symbol": vs, "sequence": str(delta.last), "time": str(time.time_ns()),
                        "tradeId": str(self.trade_id), "type": "match",
                        "makerOrderId": "m", "takerOrderId": "t"}}).decode())


def emulator_settings(emulator: EmulatorServer, **extra: Any) -> Any:
    """:class:`~arbot_kucoin.connector.KucoinSettings` pointing at ``emulator``, with
    test-sized timers (:func:`arbot.testing.emulator.fast_settings`); ``extra`` overrides."""
    from arbot_kucoin.connector import KucoinConnector

    return fast_settings(KucoinConnector, emulator, **extra)
