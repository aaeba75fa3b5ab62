"""The Gate trading gateway against the Gate emulator over loopback sockets: the order
lifecycle, precision, and every injected trading fault (core TradingConformance suite)."""

from __future__ import annotations

import asyncio

import pytest
from arbot.events import Side
from arbot.testing.emulator.server import EmulatorServer
from arbot.testing.emulator.trading_conformance import TradingConformance
from arbot.trading.errors import OrderNotFound
from arbot.trading.rest_gateway import RestTradingGateway
from arbot.trading.signing import ApiCredentials
from arbot.trading.types import OrderRequest, OrderType
from arbot_gate.emulator import GateEmulator
from arbot_gate.trading import GateTradingGateway


class TestGateTrading(TradingConformance):
    symbol = "BTC/USDT"
    bid, ask, rest_price = "40000", "40000.01", 39000.0

    post_only_reject_code = "POC_FILL_IMMEDIATELY"
    duplicate_ids_accepted = True
    wire_order = (0.00015, 200000.0, "0.00015")
    min_networks = 1
    reject_codes = ("BALANCE_NOT_ENOUGH", "INVALID_PARAM_VALUE", "INVALID_PRECISION")
    auth_codes = ("INVALID_SIGNATURE", "INVALID_KEY")
    stale_code = "REQUEST_EXPIRED"

    def make_emulator(self) -> EmulatorServer:
        return GateEmulator(("BTC/USDT", "ETH/USDT"), tick_interval=None)

    def make_gateway(self, emulator: EmulatorServer, credentials: ApiCredentials) -> RestTradingGateway:
        return GateTradingGateway(credentials, rest_url=emulator.http_url, ws_url=emulator.ws_url + "/ws/v4/")


def test_gate_takes_a_second_order_with_the_same_text_so_the_gateway_looks_it_up_first() -> None:
    """As at Gate (gateio/gateapi-go#41: "the latter one will override"), the emulator takes a
    second order with a ``text`` already used and answers an unknown ``text`` with 404
    ``CLIENT_ID_NOT_FOUND``; a restarted gateway resending an open order's ``text`` finds the
    order instead of placing it twice."""
    async def main() -> None:
        async with GateEmulator(("BTC/USDT",), tick_interval=None) as emu:
            acct = emu.private.create_account({"USDT": "100000"})
            creds = ApiCredentials(acct.api_key, secret=acct.secret)
            url = emu.http_url
            gw = GateTradingGateway(creds, rest_url=url, stream=False)
            await gw.start()
            try:
                price = round(emu.true_book("BTC/USDT").best_bid * 0.9, 1)
                path, body = gw.order_call(
                    gw.prepared(
                        OrderRequest("gate", "BTC/USDT", Side.BUY, OrderType.LIMIT, 0.001, "t-same1", price)
                    )
                )
                first = await gw.call("POST", path, body=body)
                second = await gw.call("POST", path, body=body)  # Gate takes it: no duplicate error
                assert isinstance(first, dict) and isinstance(second, dict) and first["id"] != second["id"]
                assert (await gw.get_order("BTC/USDT", "t-same1")).order_id == second["id"]  # the latest
                with pytest.raises(OrderNotFound) as err:
                    await gw.call("GET", "/spot/orders/t-never-sent", {"currency_pair": "BTC_USDT"})
                assert err.value.code == "CLIENT_ID_NOT_FOUND"
                with pytest.raises(OrderNotFound):
                    await gw.get_order("BTC/USDT", "t-never-sent")  # nor in the order lists
                cid = gw.new_client_id()
                req = OrderRequest("gate", "BTC/USDT", Side.BUY, OrderType.LIMIT, 0.001, cid, price)
                placed = await gw.place_order(req)
                restarted = GateTradingGateway(creds, dict(gw.markets), rest_url=url, stream=False)
                try:
                    await restarted.sync_clock()
                    again = await restarted.place_order(req)
                    assert again.order_id == placed.order_id and restarted.stats.orders_sent == 0
                finally:
                    await restarted.close()
                orders = emu.private.exchange.orders.values()
                assert sum(1 for o in orders if o.client_id == req.client_id) == 1
            finally:
                await gw.close()

    asyncio.run(asyncio.wait_for(main(), 30))
