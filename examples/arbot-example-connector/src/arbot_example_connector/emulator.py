"""A local Toyex: a real WebSocket + HTTP server on 127.0.0.1 speaking Toyex's public protocol,
driven by seeded scripted books (core's REST-snapshot emulator base, the pair of the connector's
``RestSnapshot`` bootstrap), with the kit's fault injection (drops, gaps, garbage, stalls,
HTTP failures). Test tooling: the connector imports it only when asked for an emulator.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from aiohttp import web
from arbot.testing.emulator import EmulatorClient, RestSnapshotEmulator

__all__ = ["ToyexEmulator"]


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=msgspec.json.encode(body), status=status, content_type="application/json")


class ToyexEmulator(RestSnapshotEmulator):
    """Toyex's public API: ``GET /markets``, ``GET /book``, WebSocket ``/ws``."""

    venue = "toyex"

    @staticmethod
    def venue_id(symbol: str) -> str:
        """``BTC-USDT``."""
        return symbol.replace("/", "-")

    # -- REST (extend with ``[*super().routes(), ...]`` for more endpoints) ------------------

    def routes(self) -> list[web.RouteDef]:
        """``/markets`` and ``/book``."""
        return [*super().routes(), web.get("/markets", self._markets), web.get("/book", self._book)]

    async def _markets(self, request: web.Request) -> web.Response:
        return _json([{"sym": vid, "base": b, "quote": q, "tick": str(self.price_tick),
                       "step": "0.00000001", "min_notional": "5", "status": "open"}
                      for vid, (b, q) in ((v, self.base_quote(v)) for v in self.books)])

    async def _book(self, request: web.Request) -> web.Response:
        vid = request.query.get("sym", "")
        if vid not in self.books:
            return _json({"error": f"unknown sym {vid!r}"}, status=404)
        last_id, bids, asks = self.snapshot(vid, int(request.query.get("depth", "100")))
        return _json({"sym": vid, "id": last_id, "bids": bids, "asks": asks})

    # -- WebSocket ---------------------------------------------------------------------------

    async def on_ws_message(self, client: EmulatorClient, message: str | bytes) -> None:
        """``ping``, ``sub`` / ``unsub`` of ``book`` and ``trade``."""
        try:
            req = msgspec.json.decode(message)
            op, ch, sym = req.get("op"), req.get("ch"), req.get("sym")
        except (msgspec.DecodeError, AttributeError):
            await client.send('{"op":"error","msg":"bad request"}')
            return
        if op == "ping":
            await client.send('{"op":"pong"}')
        elif op in ("sub", "unsub") and ch in ("book", "trade") and sym in self.books:
            topic = f"{ch}:{sym}"
            if op == "sub":
                client.topics.add(topic)
            else:
                client.topics.discard(topic)
            await client.send(msgspec.json.encode({"op": "ack", "ch": ch, "sym": sym}))
        else:
            await client.send(msgspec.json.encode({"op": "error", "msg": f"bad request {req!r:.80}"}))

    async def tick(self) -> None:
        """One delta per market (its ids advance by one per change), sometimes a trade."""
        now = int(time.time() * 1000)
        for vid in self.books:
            delta = self.step(vid)
            if delta is not None:
                await self.broadcast(f"book:{vid}", msgspec.json.encode({
                    "ch": "book", "sym": vid, "first": delta.first, "last": delta.last,
                    "bids": delta.bids, "asks": delta.asks, "ts": now}))
            if (t := self.maybe_trade(vid)) is not None:
                px, qty, buyer_is_maker = t
                await self.broadcast(f"trade:{vid}", msgspec.json.encode({
                    "ch": "trade", "sym": vid, "px": px, "qty": qty, "id": self.trade_id,
                    "side": "sell" if buyer_is_maker else "buy", "ts": now}))
