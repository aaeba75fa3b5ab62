"""Bitget trading over real loopback sockets: the shared trading suite against the emulator's
private API, and ccxt as an independent client of that API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from arbot.events import Side
from arbot.testing.emulator.server import EmulatorServer
from arbot.testing.emulator.trading_conformance import TradingConformance
from arbot.trading import OrderRejected, OrderRequest, OrderType, TradingGateway
from arbot.trading.signing import ApiCredentials
from arbot_bitget.emulator import BitgetEmulator
from arbot_bitget.trading import BitgetTradingGateway

SYMBOL = "BTC/USDT"


class TestBitgetTradingConformance(TradingConformance):
    """The shared trading suite against the Bitget emulator."""

    reject_codes = ("43012", "45110", "41103")
    post_only_reject_code = None  # accepted and cancelled
    auth_codes = ("40009", "40006")
    stale_code = "40008"

    def make_emulator(self) -> EmulatorServer:
        return BitgetEmulator((SYMBOL,), seed=5, tick_interval=None)

    def make_gateway(self, emulator: EmulatorServer, creds: ApiCredentials) -> BitgetTradingGateway:
        return BitgetTradingGateway(creds, rest_url=emulator.http_url, ws_url=emulator.ws_url, timeout=3.0)


def test_gateway_implements_the_protocol() -> None:
    gw = BitgetTradingGateway(ApiCredentials("k", secret="TOPSECRETVALUE", passphrase="PASSPHRASE9"))
    assert isinstance(gw, TradingGateway) and "TOPSECRET" not in repr(gw) and "PASSPHRASE9" not in repr(gw)


def test_market_buy_is_sized_in_quote_and_needs_a_reference_price() -> None:
    async def main() -> None:
        async with BitgetEmulator((SYMBOL,), seed=5, tick_interval=None) as emu:
            acct = emu.private.create_account({"USDT": "100000"})
            gw = BitgetTradingGateway(
                ApiCredentials(acct.api_key, secret=acct.secret, passphrase=acct.passphrase),
                rest_url=emu.http_url,
            )
            await gw.start()
            try:
                ask = emu.true_book(SYMBOL).best_ask
                req = OrderRequest(
                    "bitget", SYMBOL, Side.BUY, OrderType.MARKET, 0.01, gw.new_client_id(), ask
                )
                await gw.place_order(req)
                order = next(o for o in emu.private.exchange.orders.values() if o.client_id == req.client_id)
                assert order.quote_qty is not None and float(order.quote_qty) == pytest.approx(0.01 * ask)
                with pytest.raises(OrderRejected, match="reference price"):
                    await gw.place_order(
                        OrderRequest("bitget", SYMBOL, Side.BUY, OrderType.MARKET, 0.01, gw.new_client_id())
                    )
            finally:
                await gw.close()

    asyncio.run(asyncio.wait_for(main(), 20))


def _ccxt(url: str, key: str, secret: str, password: str) -> Any:
    import ccxt.async_support as ccxt_async

    return ccxt_async.bitget(
        {
            "apiKey": key,
            "secret": secret,
            "password": password,
            "urls": {"api": {"spot": url, "common": url, "margin": url}},
            "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False},
        }
    )


def test_ccxt_trades_against_the_emulator_with_its_own_signing() -> None:
    async def main() -> None:
        import ccxt

        async with BitgetEmulator((SYMBOL,), seed=5, tick_interval=None) as emu:
            acct = emu.private.create_account({"USDT": "1000000", "BTC": "2"})
            bid = emu.true_book(SYMBOL).best_bid
            ex = _ccxt(emu.http_url, acct.api_key, acct.secret, acct.passphrase or "")
            try:
                await ex.load_markets()
                order = await ex.create_order(SYMBOL, "limit", "buy", 0.01, round(bid - 20, 1))
                assert float(emu.private.exchange.orders[int(order["id"])].qty) == pytest.approx(0.01)
                fetched = await ex.fetch_order(order["id"], SYMBOL)
                assert fetched["status"] == "open" and fetched["amount"] == 0.01
                await ex.cancel_order(order["id"], SYMBOL)
                assert emu.private.exchange.orders[int(order["id"])].status.value == "CANCELLED"
                balance = await ex.fetch_balance()
                assert balance["USDT"]["total"] == 1000000 and balance["BTC"]["total"] == 2
            finally:
                await ex.close()
            bad = _ccxt(emu.http_url, acct.api_key, acct.secret + "x", acct.passphrase or "")
            try:
                with pytest.raises(ccxt.AuthenticationError):
                    await bad.fetch_balance()
            finally:
                await bad.close()

    asyncio.run(asyncio.wait_for(main(), 30))
