"""A Binance spot emulator built with :mod:`arbot.testing.emulator`.

Speaks the public protocol the connector uses: ``/stream`` (combined) and ``/ws`` (raw)
WebSocket paths, live ``SUBSCRIBE`` / ``UNSUBSCRIBE`` / ``LIST_SUBSCRIPTIONS``, ``depthUpdate``
(``U``/``u``) and ``trade`` events; REST ``/api/v3/exchangeInfo``, ``/api/v3/depth``,
``/api/v3/ping``, ``/api/v3/time``. Driven by seeded :class:`ScriptedBook` random walks, or by a
recorded capture (:class:`Recording`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, Unpack
from urllib.parse import parse_qs, urlsplit

import msgspec
from aiohttp import web
from arbot.book import OrderBook
from arbot.errors import ArbotError
from arbot.testing.emulator import (
    EmulatorClient,
    EmulatorServer,
    Recording,
    RestSnapshotEmulator,
    ScriptedBook,
    fast_settings,
)
from arbot.testing.emulator.rest_snapshot import ScriptOptions

from arbot_binance.private_api import BinancePrivateApi

__all__ = ["BinanceEmulator", "emulator_settings"]

_enc = msgspec.json.encode


class BinanceEmulator(RestSnapshotEmulator):
    """Binance spot emulator (see the module docstring)."""

    venue = "binance"
    supports_checksum = False
    price_decimals = 8

    def __init__(self, symbols: Sequence[str] = ("BTC/USDT", "ETH/USDT"), *,
                 recording: Recording | None = None, **options: Unpack[ScriptOptions]) -> None:
        if recording is not None:
            options["tick_interval"] = None  # the recording sets the pace
        super().__init__(symbols, **options)
        self.recording = recording
        self._snapshots: dict[str, Any] = {}
        #: The private API (accounts, orders, user data stream) over the scripted books.
        self.private = BinancePrivateApi({vs: (b.symbol, b) for vs, b in self.books.items()})
        self._player: asyncio.Task[None] | None = None
        if recording is not None:
            for _, url, body in recording.rest:
                vs = parse_qs(urlsplit(url).query).get("symbol", [""])[0]
                if vs and "lastUpdateId" in body:
                    self._snapshots.setdefault(vs, body)

    def true_book(self, symbol: str) -> OrderBook:
        """The scripted book of ``symbol``."""
        if self.recording is not None:
            raise ArbotError("a recording-driven emulator has no scripted book")
        return super().true_book(symbol)

    def scripted_books(self) -> list[ScriptedBook]:
        """The scripted books (none when a recording drives the emulator)."""
        return [] if self.recording is not None else super().scripted_books()

    # -- REST --------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """The REST endpoints."""
        return [
            web.get("/api/v3/exchangeInfo", self._exchange_info),
            web.get("/api/v3/depth", self._depth),
            web.get("/api/v3/ping", self._ping),
            web.get("/api/v3/time", self._time),
            *self.private.routes(),
        ]

    def _headers(self, weight: int) -> dict[str, str]:
        return {"X-MBX-USED-WEIGHT-1M": str(weight)}

    async def _ping(self, request: web.Request) -> web.Response:
        return web.json_response({}, headers=self._headers(1))

    async def _time(self, request: web.Request) -> web.Response:
        return web.json_response({"serverTime": self.private.server_time_ms()}, headers=self._headers(1))

    async def _exchange_info(self, request: web.Request) -> web.Response:
        symbols = []
        names = list(self.books) if self.recording is None else sorted(self._snapshots)
        for vs in names:
            base, quote = self.base_quote(vs) if vs in self.books else (vs[:-4], vs[-4:])
            symbols.append({
                "symbol": vs, "status": "TRADING", "baseAsset": base, "quoteAsset": quote,
                "baseAssetPrecision": 8, "quoteAssetPrecision": 8, "isSpotTradingAllowed": True,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"], "permissionSets": [["SPOT"]],
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": "0.01000000",
                     "maxPrice": "1000000.00000000", "tickSize": "0.01000000"},
                    {"filterType": "LOT_SIZE", "minQty": "0.00001000",
                     "maxQty": "9000.00000000", "stepSize": "0.00001000"},
                    {"filterType": "NOTIONAL", "minNotional": "5.00000000",
                     "applyMinToMarket": True, "maxNotional": "9000000.00000000"},
                ],
            })
        body = {"timezone": "UTC", "serverTime": int(time.time() * 1000),
                "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                                "intervalNum": 1, "limit": 6000}],
                "symbols": symbols}
        return web.Response(body=_enc(body), content_type="application/json",
                            headers=self._headers(20))

    async def _depth(self, request: web.Request) -> web.Response:
        vs = request.query.get("symbol", "")
        limit = int(request.query.get("limit", "100"))
        if self.recording is not None:
            snap = self._snapshots.get(vs)
            if snap is None:
                return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
            return web.Response(body=_enc(snap), content_type="application/json")
        if vs not in self.books:
            return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        last_id, bids, asks = self.snapshot(vs, limit)
        body = {"lastUpdateId": last_id, "bids": bids, "asks": asks}
        return web.Response(body=_enc(body), content_type="application/json",
                            headers=self._headers(50))

    # -- WebSocket ---------------------------------------------------------------------------

    async def on_ws_connect(self, client: EmulatorClient) -> None:
        """``/stream?streams=a/b`` (combined) or ``/ws/<stream>`` (raw); ``/ws/<listenKey>`` is
        the user data stream of the private API."""
        if await self.private.on_ws_connect(client):
            return
        parts = urlsplit(client.path)
        client.state["combined"] = parts.path.startswith("/stream")
        streams = parse_qs(parts.query).get("streams", [""])[0]
        client.topics.update(x for x in streams.split("/") if x)
        if parts.path.startswith("/ws/") and len(parts.path) > 4:
            client.topics.add(parts.path[4:])
        self._maybe_play()

    async def on_ws_message(self, client: EmulatorClient, message: str | bytes) -> None:
        """SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS."""
        try:
            req = msgspec.json.decode(message)
        except msgspec.DecodeError:
            await client.send(_enc({"code": 3, "msg": "Invalid JSON", "id": None}))
            return
        if not isinstance(req, dict):
            await client.send(_enc({"code": 2, "msg": "Invalid request", "id": None}))
            return
        method, params, rid = req.get("method"), req.get("params") or [], req.get("id")
        if method == "SUBSCRIBE":
            client.topics.update(params)
            await client.send(_enc({"result": None, "id": rid}))
            self._maybe_play()
        elif method == "UNSUBSCRIBE":
            client.topics.difference_update(params)
            await client.send(_enc({"result": None, "id": rid}))
        elif method == "LIST_SUBSCRIPTIONS":
            await client.send(_enc({"result": sorted(client.topics), "id": rid}))
        else:
            await client.send(_enc({"code": 2, "msg": f"Invalid request: {method}", "id": rid}))

    async def _send(self, stream: str, data: dict[str, Any]) -> None:
        combined = [c for c in self.clients if c.state.get("combined")]
        raw = [c for c in self.clients if not c.state.get("combined")]
        if combined:
            await self.broadcast(stream, _enc({"stream": stream, "data": data}), combined)
        if raw:
            await self.broadcast(stream, _enc(data), raw)

    # -- market ------------------------------------------------------------------------------

    async def tick(self) -> None:
        """One depth update per symbol, and sometimes a trade."""
        now = int(time.time() * 1000)
        for vs, book in self.books.items():
            delta = self.step(vs, ids=1 + book.rng.randint(0, 4))
            if delta is None:
                continue
            data = {"e": "depthUpdate", "E": now, "s": vs, "U": delta.first, "u": delta.last,
                    "b": delta.bids, "a": delta.asks}
            low = vs.lower()
            await self._send(f"{low}@depth@100ms", data)
            await self._send(f"{low}@depth", data)
            if (t := self.maybe_trade(vs)) is not None:
                p, q, m = t
                await self._send(f"{low}@trade", {
                    "e": "trade", "E": now, "s": vs, "t": self.trade_id, "p": p, "q": q,
                    "T": now, "m": m, "M": True})

        self.private.on_tick()

    def _maybe_play(self) -> None:
        if self.recording is not None and self._player is None:
            self._player = self.spawn(self._play())

    async def _play(self) -> None:
        """Send the recorded messages in order (to the clients subscribed to their stream)."""
        assert self.recording is not None
        await asyncio.sleep(0.05)  # let the subscription land
        for i, (_, msg) in enumerate(self.recording.messages):
            stream = msg.get("stream") if isinstance(msg, dict) else None
            if stream is None:
                continue
            await self.broadcast(stream, _enc(msg),
                                 [c for c in self.clients if c.state.get("combined")])
            if i % 50 == 0:
                await asyncio.sleep(0)


def emulator_settings(emulator: EmulatorServer, **extra: Any) -> Any:
    """:class:`~arbot_binance.connector.BinanceSettings` pointing at ``emulator``, with
    test-sized timers (:func:`arbot.testing.emulator.fast_settings`); ``extra`` overrides."""
    from arbot_binance.connector import BinanceConnector

    return fast_settings(BinanceConnector, emulator, **extra)
