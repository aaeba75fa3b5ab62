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
from typing import Any

import msgspec
from aiohttp import web
from arbot.testing.emulator import EmulatorClient, EmulatorServer, RestSnapshotEmulator, fast_settings

from arbot_gate.private_api import GatePrivateApi

__all__ = ["GateEmulator", "emulator_settings"]


def _frame(channel: str, event: str, result: Any, **extra: Any) -> str:
    now = time.time()
    body = {"time": int(now), "time_ms": int(now * 1000), "channel": channel, "event": event,
            "result": result, **extra}
    return msgspec.json.encode(body).decode()


class GateEmulator(RestSnapshotEmulator):
    """Gate.io spot emulator (see the module docstring)."""

    venue = "gate"
    private: GatePrivateApi
    supports_checksum = False
    mids = (40000.0, 2500.0, 90.0)
    price_decimals = 2
    qty_decimals = 6
    first_id = 140_595_902
    id_stride = 10_000_000
    seed_stride = 7919

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: the private API (accounts, orders, private channels) on the emulated exchange
        self.private = GatePrivateApi(self.books, self.spawn)

    @staticmethod
    def venue_id(symbol: str) -> str:
        """``BTC_USDT``."""
        return symbol.replace("/", "_")

    # -- REST --------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """``/api/v4/spot/currency_pairs`` and ``/api/v4/spot/order_book``."""
        return [web.get("/api/v4/spot/currency_pairs", self._currency_pairs),
                web.get("/api/v4/spot/order_book", self._order_book), *self.private.routes()]

    async def _currency_pairs(self, request: web.Request) -> web.Response:
        body = []
        for sym, pair in self.venue_ids.items():
            base, quote = sym.split("/")
            body.append({"id": pair, "base": base, "quote": quote, "fee": "0.2",
                         "min_base_amount": "0.0001", "min_quote_amount": "3",
                         "amount_precision": 6, "precision": 2, "trade_status": "tradable",
                         "sell_start": 0, "buy_start": 0})
        return web.json_response(body)

    async def _order_book(self, request: web.Request) -> web.Response:
        pair = request.query.get("currency_pair", "")
        if pair not in self.books:
            return web.json_response({"label": "INVALID_CURRENCY_PAIR",
                                      "message": f"invalid currency pair {pair}"}, status=400)
        last_id, bids, asks = self.snapshot(pair, int(request.query.get("limit", "10")))
        now = int(time.time() * 1000)
        body: dict[str, Any] = {"current": now, "update": now,
                                "asks": [list(x) for x in asks], "bids": [list(x) for x in bids]}
        if request.query.get("with_id") == "true":
            body = {"id": last_id, **body}
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
        """One change (and maybe a trade) per pair; the ids advance by one per change."""
        now = time.time()
        for pair in self.books:
            delta = self.step(pair)
            if delta is None:
                continue
            await self.broadcast(f"book:{pair}", _frame("spot.order_book_update", "update", {
                "t": int(now * 1000), "e": "depthUpdate", "E": int(now), "s": pair,
                "U": delta.first, "u": delta.last,
                "b": [list(x) for x in delta.bids], "a": [list(x) for x in delta.asks]}))
            if (t := self.maybe_trade(pair)) is not None:
                price, qty, buyer_maker = t
                await self.broadcast(f"trades:{pair}", _frame("spot.trades", "update", {
                    "id": 3_130_257_995 + self.trade_id, "create_time": int(now),
                    "create_time_ms": f"{now * 1000:.1f}", "side": "sell" if buyer_maker else "buy",
                    "currency_pair": pair, "amount": qty, "price": price}))


def emulator_settings(emulator: EmulatorServer, **extra: Any) -> Any:
    """:class:`~arbot_gate.connector.GateSettings` pointing at ``emulator`` with test-sized
    timers (:func:`arbot.testing.emulator.fast_settings`); ``extra`` overrides."""
    from arbot_gate.connector import GateConnector

    return fast_settings(GateConnector, emulator, **extra)
