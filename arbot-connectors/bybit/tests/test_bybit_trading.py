"""Bybit trading over real loopback sockets: the shared trading suite against the emulator's
private API, and ccxt as an independent client of that API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from arbot.testing.emulator.server import EmulatorServer
from arbot.testing.emulator.trading_conformance import TradingConformance
from arbot.trading import TradingGateway
from arbot.trading.signing import ApiCredentials
from arbot_bybit.emulator import BybitEmulator
from arbot_bybit.trading import BybitTradingGateway

SYMBOL = "BTC/USDT"


class TestBybitTradingConformance(TradingConformance):
    """The shared trading suite against the Bybit emulator."""

    reject_codes = ("170131", "170140", "170134")
    post_only_reject_code = None  # Bybit accepts a crossing PostOnly order and cancels it
    auth_codes = ("10004", "10003")
    stale_code = "10002"

    def make_emulator(self) -> EmulatorServer:
        return BybitEmulator((SYMBOL,), seed=5, tick_interval=None)

    def make_gateway(self, emulator: EmulatorServer, creds: ApiCredentials) -> BybitTradingGateway:
        return BybitTradingGateway(creds, rest_url=emulator.http_url, ws_url=emulator.ws_url, timeout=3.0)


def test_gateway_implements_the_protocol_and_makes_bybit_client_ids() -> None:
    gw = BybitTradingGateway(ApiCredentials("k", secret="TOPSECRETVALUE"))
    assert isinstance(gw, TradingGateway) and "TOPSECRET" not in repr(gw)
    ids = {gw.new_client_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) <= 36 for i in ids)


def _ccxt(url: str, key: str, secret: str) -> Any:
    import ccxt.async_support as ccxt_async

    return ccxt_async.bybit(
        {
            "apiKey": key,
            "secret": secret,
            "urls": {"api": {"public": url, "private": url}},
            "options": {
                "fetchMarkets": {"types": ["spot"]},
                "fetchCurrencies": False,
                # ccxt asks /v5/user/query-api and /v5/account/info unless told the account kind
                "enableUnifiedMargin": False,
                "enableUnifiedAccount": True,
            },
        }
    )


def test_ccxt_trades_against_the_emulator_with_its_own_signing() -> None:
    async def main() -> None:
        import ccxt

        async with BybitEmulator((SYMBOL,), seed=5, tick_interval=None) as emu:
            acct = emu.private.create_account({"USDT": "1000000", "BTC": "2"})
            bid = emu.true_book(SYMBOL).best_bid
            ex = _ccxt(emu.http_url, acct.api_key, acct.secret)
            try:
                await ex.load_markets()
                order = await ex.create_order(SYMBOL, "limit", "buy", 0.01, round(bid - 20, 2))
                assert float(emu.private.exchange.orders[int(order["id"])].qty) == pytest.approx(0.01)
                fetched = await ex.fetch_open_order(order["id"], SYMBOL)
                assert fetched["status"] == "open" and fetched["amount"] == 0.01
                await ex.cancel_order(order["id"], SYMBOL)
                assert emu.private.exchange.orders[int(order["id"])].status.value == "CANCELLED"
                balance = await ex.fetch_balance()
                assert balance["USDT"]["total"] == 1000000 and balance["BTC"]["total"] == 2
            finally:
                await ex.close()
            bad = _ccxt(emu.http_url, acct.api_key, acct.secret + "x")
            try:
                with pytest.raises(ccxt.AuthenticationError):
                    await bad.fetch_balance()
            finally:
                await bad.close()

    asyncio.run(asyncio.wait_for(main(), 30))
