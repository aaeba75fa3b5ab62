"""A Bitget spot (v2) emulator: core :class:`arbot.testing.emulator.OpArgsEmulator` (the
``op``/``args`` protocol shared with OKX) with Bitget's messages.

Speaks the public protocol the connector uses on ``/v2/ws/public``: ``subscribe`` /
``unsubscribe`` with ``{"instType":"SPOT","channel":..,"instId":..}`` args, one ``event`` ack
per arg or an ``error`` event (code 30001), the text ``ping`` -> ``pong``; ``books`` (a
``snapshot`` in reply to each subscribe with checksum 0 as in Bitget's docs, then ``update``
pushes with a growing ``seq`` and the real CRC32 ``checksum`` of the top 25 levels) and
``trade`` (newest first). REST: ``/api/v2/spot/public/symbols``,
``/api/v2/spot/market/orderbook``, ``/api/v2/public/time``. Faults from the kit, the bad
checksum included.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from aiohttp import web
from arbot.testing.emulator import EmulatorClient, EmulatorServer, OpArgsEmulator, fast_settings
from arbot.testing.emulator.stream_snapshot import Levels

from arbot_bitget.private_api import BitgetPrivateApi

__all__ = ["BitgetEmulator", "emulator_settings"]

class BitgetEmulator(OpArgsEmulator):
    """Bitget spot public-data emulator (see the module docstring)."""

    venue = "bitget"
    passphrase_required = True
    trade_channel = "trade"

    #: No empty heartbeats; the real CRC32 on every update (the bad-checksum fault applies).
    default_heartbeat_probability = 0.0
    default_checksum = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The private API (accounts, orders, private stream) over the scripted books.
        self.private = BitgetPrivateApi({i: (b.symbol, b) for i, b in self.books.items()}, self.spawn)

    async def tick(self) -> None:
        """One round of market changes, then resting orders the book crossed fill."""
        await super().tick()
        self.private.on_tick()

    async def on_ws_message(self, client: EmulatorClient, message: str | bytes) -> None:
        """``/v2/ws/private`` goes to the private API; the rest is the public protocol."""
        if client.path.startswith("/v2/ws/private"):
            await self.private.on_ws_message(client, message)
        else:
            await super().on_ws_message(client, message)

    # -- message hooks -----------------------------------------------------------------------

    @staticmethod
    def inst_id(symbol: str) -> str:
        """``BTCUSDT``."""
        return symbol.replace("/", "")

    def channel_arg(self, channel: str, inst: str) -> dict[str, str]:
        """``{"instType": "SPOT", "channel": .., "instId": ..}``."""
        return {"instType": "SPOT", "channel": channel, "instId": inst}

    def valid(self, arg: Any) -> bool:
        """The channel/instrument check plus ``instType == "SPOT"``."""
        return super().valid(arg) and arg.get("instType") == "SPOT"

    def error(self, arg: Any) -> dict[str, Any]:
        """Code 30001, as Bitget answers an unknown channel."""
        return {"event": "error", "code": 30001, "msg": f"{arg!r:.80} doesn't exist"}

    def book_data(self, inst: str, bids: Levels, asks: Levels, prev: int, seq: int,
                  snapshot: bool) -> dict[str, Any]:
        """``asks``/``bids`` ``[px, sz]``, ``checksum`` (0 on snapshots), ``seq``, ``ts``."""
        return {"asks": [list(x) for x in asks], "bids": [list(x) for x in bids],
                "checksum": 0 if snapshot else self.checksum(inst), "seq": seq,
                "ts": str(int(time.time() * 1000))}

    def next_seq(self, inst: str, prev: int, rng: Any) -> int:
        """``seq`` grows, with jumps (Bitget promises no contiguity)."""
        return prev + int(rng.randint(1, 3))

    def trade_data(self, inst: str, p: str, q: str, buyer_is_maker: bool) -> dict[str, Any]:
        """``{ts, price, size, side, tradeId}``."""
        return {"ts": str(int(time.time() * 1000)), "price": p, "size": q,
                "side": "sell" if buyer_is_maker else "buy", "tradeId": str(self.trade_id)}

    def push(self, channel: str, inst: str, data: list[Any], action: str | None) -> bytes:
        """``{"action", "arg", "data", "ts"}``."""
        return msgspec.json.encode({"action": action or "update",
                                    "arg": self.channel_arg(channel, inst), "data": data,
                                    "ts": int(time.time() * 1000)})

    # -- REST --------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """The REST endpoints."""
        return [
            web.get("/api/v2/spot/public/symbols", self._symbols),
            web.get("/api/v2/spot/market/orderbook", self._orderbook),
            web.get("/api/v2/public/time", self._server_time),
            *self.private.routes(),
        ]

    @staticmethod
    def _data(data: Any, code: str = "00000", msg: str = "success",
              status: int = 200) -> web.Response:
        return web.json_response({"code": code, "msg": msg, "data": data,
                                  "requestTime": int(time.time() * 1000)}, status=status)

    async def _server_time(self, request: web.Request) -> web.Response:
        return self._data({"serverTime": str(self.private.server_time_ms())})

    async def _symbols(self, request: web.Request) -> web.Response:
        return self._data([{
            "symbol": vs, "baseCoin": b.symbol.split("/")[0], "quoteCoin": b.symbol.split("/")[1],
            "minTradeAmount": "0", "maxTradeAmount": "900000000", "takerFeeRate": "0.001",
            "makerFeeRate": "0.001", "pricePrecision": "1", "quantityPrecision": "5",
            "quotePrecision": "6", "status": "online", "minTradeUSDT": "1",
        } for vs, b in self.books.items()])

    async def _orderbook(self, request: web.Request) -> web.Response:
        book = self.books.get(request.query.get("symbol", ""))
        if book is None:
            return self._data(None, "40034", "Parameter does not exist", 400)
        bids, asks = book.levels_text(min(150, int(request.query.get("limit", "100"))))
        return self._data({"asks": asks, "bids": bids, "ts": str(int(time.time() * 1000))})


def emulator_settings(emulator: EmulatorServer, **extra: Any) -> Any:
    """:class:`~arbot_bitget.connector.BitgetSettings` for ``emulator`` (test-sized timers,
    see :func:`arbot.testing.emulator.fast_settings`)."""
    from arbot_bitget.connector import BitgetConnector

    return fast_settings(BitgetConnector, emulator, **extra)
