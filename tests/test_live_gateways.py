"""Every native connector builds its venue's trading gateway for live execution.

For each installed venue: the connector's own settings pointed at its emulator (as ``[source.live]
emulate = true`` does), ``Connector.emulated_account`` (a funded account on the emulator's private
API) and ``Connector.trading_gateway(settings, credentials)``; the gateway starts, rests an order
far from the market, finds it by client id, cancels it -- and the emulator's ground truth shows
exactly that one order, cancelled. Real loopback sockets, nothing mocked.
"""

from __future__ import annotations

import asyncio
import importlib

import pytest
from arbot.components import Connector
from arbot.events import Side
from arbot.trading import OrderRequest, OrderStatus, OrderType, TimeInForce, TradingGateway

VENUES = {
    "binance": ("arbot_binance.connector:BinanceConnector", "BTC/USDT"),
    "okx": ("arbot_okx.connector:OkxConnector", "BTC/USDT"),
    "bybit": ("arbot_bybit.connector:BybitConnector", "BTC/USDT"),
    "bitget": ("arbot_bitget.connector:BitgetConnector", "BTC/USDT"),
    "kucoin": ("arbot_kucoin.connector:KucoinConnector", "BTC/USDT"),
    "gate": ("arbot_gate.connector:GateConnector", "BTC/USDT"),
    "upbit": ("arbot_upbit.connector:UpbitConnector", "BTC/KRW"),
    "bithumb": ("arbot_bithumb.connector:BithumbConnector", "BTC/KRW"),
}


def connector_class(venue: str) -> type[Connector]:
    path, _, name = VENUES[venue][0].partition(":")
    module = pytest.importorskip(path.rpartition(".")[0])
    cls = getattr(importlib.import_module(path), name)
    assert module is not None and issubclass(cls, Connector)
    return cls


@pytest.mark.parametrize("venue", list(VENUES))
def test_connector_builds_a_working_trading_gateway(venue: str) -> None:
    cls = connector_class(venue)
    symbol = VENUES[venue][1]
    quote = symbol.partition("/")[2]

    async def main() -> None:
        emu = cls.emulator([symbol], seed=1)
        book = emu.scripted_books()[0]
        price = round(book.best_bid_idx() * book.tick * 0.9 / 1000.0) * 1000.0  # far below, on any tick
        await emu.start()
        gw: TradingGateway | None = None
        try:
            settings = cls.Settings(**cls.emulated_settings(emu))
            creds = cls.emulated_account(emu, {quote: 1e9, "BTC": 10.0})
            gw = cls.trading_gateway(settings, creds)
            assert isinstance(gw, TradingGateway) and gw.venue == venue
            await gw.start()
            cid = gw.new_client_id()
            req = OrderRequest(venue, symbol, Side.BUY, OrderType.LIMIT, 0.01, cid, price, TimeInForce.GTC)
            placed = await gw.place_order(req)
            assert placed.status in (OrderStatus.NEW, OrderStatus.UNKNOWN), placed
            assert (await gw.get_order(symbol, cid)).status is OrderStatus.NEW
            assert (await gw.cancel_order(symbol, cid)).status is OrderStatus.CANCELLED
            assert emu.private is not None
            truth = [o for o in emu.private.exchange.orders.values() if o.api_key == creds.api_key]
            assert [(o.client_id, o.status.value) for o in truth] == [(cid, "CANCELLED")]
        finally:
            if gw is not None:
                await gw.close()
            await emu.stop()

    asyncio.run(asyncio.wait_for(main(), 60))
