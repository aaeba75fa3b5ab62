"""OKX trading over real loopback sockets: the shared trading suite against the emulator's
private API, and ccxt as an independent client of that API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from arbot.testing.emulator.server import EmulatorServer
from arbot.testing.emulator.trading_conformance import TradingConformance
from arbot.trading import TradingGateway
from arbot.trading.signing import ApiCredentials
from arbot_okx.emulator import OkxEmulator
from arbot_okx.trading import OkxTradingGateway

SYMBOL = "BTC/USDT"


class TestOkxTradingConformance(TradingConformance):
    """The shared trading suite against the OKX emulator."""

    reject_codes = ("51008", "51020", "51000")
    post_only_reject_code = None  # OKX accepts a crossing post-only order and cancels it
    auth_codes = ("50113", "50111")
    stale_code = "50102"
    under_minimum_qty = 1e-06  # OKX: no minimum notional, the minimum size is one step

    def make_emulator(self) -> EmulatorServer:
        return OkxEmulator((SYMBOL,), seed=5, tick_interval=None)

    def make_gateway(self, emulator: EmulatorServer, creds: ApiCredentials) -> OkxTradingGateway:
        return OkxTradingGateway(creds, rest_url=emulator.http_url, ws_url=emulator.ws_url, timeout=3.0)


def test_gateway_implements_the_protocol_and_makes_okx_client_ids() -> None:
    gw = OkxTradingGateway(ApiCredentials("k", secret="TOPSECRETVALUE", passphrase="PASSPHRASE9"))
    assert isinstance(gw, TradingGateway)
    assert "TOPSECRET" not in repr(gw) and "PASSPHRASE9" not in repr(gw.credentials)
    ids = {gw.new_client_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(i.isalnum() and 1 <= len(i) <= 32 for i in ids)


def test_missing_or_wrong_passphrase_is_refused_as_okx_does() -> None:
    async def main() -> None:
        async with OkxEmulator((SYMBOL,), seed=1, tick_interval=None) as emu:
            acct = emu.private.create_account({"USDT": "10"})
            gw = OkxTradingGateway(
                ApiCredentials(acct.api_key, secret=acct.secret, passphrase="nope"), rest_url=emu.http_url
            )
            await gw.start()
            try:
                with pytest.raises(Exception) as err:
                    await gw.balances()
                assert getattr(err.value, "code", None) == "50105"
            finally:
                await gw.close()
            import aiohttp

            async with (
                aiohttp.ClientSession() as s,
                s.get(emu.http_url + "/api/v5/account/balance", headers={"OK-ACCESS-KEY": acct.api_key}) as r,
            ):
                assert r.status == 401
                assert await r.json() == {
                    "code": "50105",
                    "msg": "Request header OK-ACCESS-PASSPHRASE can't be empty.",
                }

    asyncio.run(asyncio.wait_for(main(), 20))


def _ccxt(url: str, key: str, secret: str, password: str) -> Any:
    import ccxt.async_support as ccxt_async

    return ccxt_async.okx(
        {
            "apiKey": key,
            "secret": secret,
            "password": password,
            "urls": {"api": {"rest": url}},
            "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False},
        }
    )


def test_ccxt_trades_against_the_emulator_with_its_own_signing() -> None:
    async def main() -> None:
        import ccxt

        async with OkxEmulator((SYMBOL,), seed=5, tick_interval=None) as emu:
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
                assert (await ex.fetch_order(order["id"], SYMBOL))["status"] == "canceled"
                balance = await ex.fetch_balance()
                assert balance["USDT"]["free"] == 1000000 and balance["BTC"]["total"] == 2
            finally:
                await ex.close()
            bad = _ccxt(emu.http_url, acct.api_key, acct.secret + "x", acct.passphrase or "")
            try:
                with pytest.raises(ccxt.AuthenticationError):
                    await bad.fetch_balance()
            finally:
                await bad.close()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_order_placement_has_its_own_rate_budget_apart_from_order_queries() -> None:
    from arbot.connectors.ratelimit import PerEndpointLimiter, policy_from_spec
    from arbot.trading.types import OrderRequest, OrderType, Side, TimeInForce
    from arbot_okx.trading import PLACE_ENDPOINT

    spec = policy_from_spec(OkxTradingGateway.rate_limit, clock=lambda: 0.0)
    assert [spec.reserve(1.0, PLACE_ENDPOINT) for _ in range(60)] == [0.0] * 60  # OKX: 60 per 2 s
    assert spec.reserve(1.0, "/api/v5/trade/order") == 0.0  # a query is not behind the orders

    async def main() -> None:
        limiter = PerEndpointLimiter(20, 2.0)
        async with OkxEmulator((SYMBOL,), seed=2, tick_interval=None) as emu:
            acct = emu.private.create_account({"USDT": "100000"})
            creds = ApiCredentials(acct.api_key, secret=acct.secret, passphrase=acct.passphrase)
            gw = OkxTradingGateway(creds, rest_url=emu.http_url, limiter=limiter)
            await gw.start()
            try:
                req = OrderRequest(
                    "okx", SYMBOL, Side.BUY, OrderType.LIMIT, 0.001, gw.new_client_id(), 1000.0,
                    TimeInForce.GTC,
                )
                await gw.place_order(req)
                await gw.get_order(SYMBOL, req.client_id)
            finally:
                await gw.close()
        windows = limiter._windows
        assert windows[PLACE_ENDPOINT].used() == 1.0 and windows["/api/v5/trade/order"].used() == 1.0

    asyncio.run(main())


def test_market_names_both_ways_follow_the_loaded_markets() -> None:
    from arbot.market import MarketInfo

    def market(symbol: str, inst: str) -> MarketInfo:
        base, quote = symbol.split("/")
        return MarketInfo("okx", symbol, base, quote, inst, tick_size=0.1, step_size=0.001)

    creds = ApiCredentials("k", secret="s", passphrase="p")
    gw = OkxTradingGateway(creds, markets={"BTC/USDT": market("BTC/USDT", "BTC-USDT")})
    assert gw.venue_symbol("BTC/USDT") == "BTC-USDT"
    assert gw.unified_symbol("BTC-USDT") == "BTC/USDT"
    assert gw.unified_symbol("DOGE-USDC") == "DOGE/USDC"  # not loaded: OKX's separator read as "/"
    assert gw.unified_symbol("DOGE-USDC", "?") == "?"
    gw.markets = {"ETH/USDT": market("ETH/USDT", "ETH-USDT")}  # markets reloaded: no stale answer
    assert gw.unified_symbol("ETH-USDT") == "ETH/USDT"
    gw.markets["XBT/USDT"] = market("XBT/USDT", "BTC-USDT")  # changed in place
    assert gw.unified_symbol("BTC-USDT") == "XBT/USDT"
    gw.markets["XBT/USDT"] = market("XBT/USDT", "XBT-USDT")  # renamed: the old name is unknown
    assert gw.unified_symbol("BTC-USDT") == "BTC/USDT"
    assert gw.unified_symbol("XBT-USDT") == "XBT/USDT"
    with pytest.raises(Exception, match="unknown market"):
        gw.venue_symbol("SOL/USDT")
