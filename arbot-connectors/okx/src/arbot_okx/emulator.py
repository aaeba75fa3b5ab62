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

The ``op``/``args`` protocol machinery (shared with Bitget) is core
:class:`arbot.testing.emulator.OpArgsEmulator`; this module holds OKX's messages and REST.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from aiohttp import web
from arbot.testing.emulator import EmulatorClient, EmulatorServer, OpArgsEmulator, fast_settings
from arbot.testing.emulator.stream_snapshot import Levels

from arbot_okx.private_api import OkxPrivateApi
from arbot_okx.symbols import okx_format

__all__ = ["OkxEmulator", "emulator_settings"]

_enc = msgspec.json.encode


def _okx_levels(levels: Levels) -> list[list[str]]:
    return [[p, q, "0", "1" if float(q) > 0 else "0"] for p, q in levels]


class OkxEmulator(OpArgsEmulator):
    """OKX v5 public-data emulator (see the module docstring)."""

    venue = "okx"
    passphrase_required = True

    #: Empty heartbeat updates are sent, as OKX does; checksum 0 unless ``checksum=True``.
    default_heartbeat_probability = 0.05
    default_checksum = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The private API (accounts, orders, private stream) over the scripted books.
        self.private = OkxPrivateApi({i: (b.symbol, b) for i, b in self.books.items()}, self.spawn)

    async def tick(self) -> None:
        """One round of market changes, then resting orders the book crossed fill."""
        await super().tick()
        self.private.on_tick()

    async def on_ws_message(self, client: EmulatorClient, message: str | bytes) -> None:
        """``/ws/v5/private`` goes to the private API; the rest is the public protocol."""
        if client.path.startswith("/ws/v5/private"):
            await self.private.on_ws_message(client, message)
        else:
            await super().on_ws_message(client, message)

    # -- message hooks -----------------------------------------------------------------------

    @staticmethod
    def inst_id(symbol: str) -> str:
        """The venue id of a unified symbol (``BTC-USDT``, ``BTC-USDT-SWAP``)."""
        return okx_format(symbol)

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
                "ts": str(int(time.time() * 1000)), "checksum": self.checksum(inst),
                "prevSeqId": -1 if snapshot else prev, "seqId": seq}

    def trade_data(self, inst: str, p: str, q: str, buyer_is_maker: bool) -> dict[str, Any]:
        """One trade of a ``trades`` push."""
        return {"instId": inst, "tradeId": str(self.trade_id), "px": p, "sz": q,
                "side": "sell" if buyer_is_maker else "buy", "ts": str(int(time.time() * 1000))}

    # -- REST --------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """The REST endpoints."""
        return [
            web.get("/api/v5/public/instruments", self._instruments),
            web.get("/api/v5/market/books", self._books),
            web.get("/api/v5/public/time", self._time),
            *self.private.routes(),
        ]

    @staticmethod
    def _ok(data: list[Any]) -> web.Response:
        return web.Response(body=_enc({"code": "0", "msg": "", "data": data}),
                            content_type="application/json")

    async def _time(self, request: web.Request) -> web.Response:
        return self._ok([{"ts": str(self.private.server_time_ms())}])

    async def _instruments(self, request: web.Request) -> web.Response:
        kind = request.query.get("instType")
        if kind not in ("SPOT", "SWAP"):
            return web.json_response({"code": "51000", "msg": "Parameter instType error",
                                      "data": []}, status=400)
        data = []
        for inst, book in self.books.items():
            pair, _, settle = book.symbol.partition(":")
            base, quote = pair.split("/")
            if kind == "SPOT" and not settle:
                data.append({"instType": "SPOT", "instId": inst, "baseCcy": base,
                             "quoteCcy": quote, "tickSz": "0.1", "lotSz": "0.00001",
                             "minSz": "0.00001", "state": "live", "uly": "", "settleCcy": ""})
            elif kind == "SWAP" and settle:
                data.append({"instType": "SWAP", "instId": inst, "baseCcy": "", "quoteCcy": "",
                             "uly": f"{base}-{quote}", "settleCcy": settle, "ctVal": "0.01",
                             "tickSz": "0.1", "lotSz": "1", "minSz": "1", "state": "live"})
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


def emulator_settings(emulator: EmulatorServer, **extra: Any) -> Any:
    """:class:`~arbot_okx.connector.OkxSettings` for ``emulator`` (test-sized timers, see
    :func:`arbot.testing.emulator.fast_settings`)."""
    from arbot_okx.connector import OkxConnector

    return fast_settings(OkxConnector, emulator, **extra)
