"""Binance trading over real loopback sockets: the gateway against the emulator's private API.

Lifecycle (place, partial fill, fill, cancel, query by client id, balances), every injected
trading fault (each handled: a clear error, a retry, or a reconcile, never a double order), the
user data stream, the emulator's own signature checks, and ccxt as an independent client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from arbot.events import Side
from arbot.testing.emulator.server import EmulatorServer
from arbot.testing.emulator.trading_conformance import TradingConformance
from arbot.trading import (
    AuthenticationFailed,
    OrderRequest,
    OrderStatus,
    OrderType,
    TimeInForce,
    TradingError,
    TradingGateway,
)
from arbot.trading.signing import ApiCredentials
from arbot_binance.emulator import BinanceEmulator
from arbot_binance.trading import BinanceTradingGateway

SYMBOL = "BTC/USDT"


def run(main: Callable[[], Awaitable[None]], timeout: float = 30.0) -> None:
    asyncio.run(asyncio.wait_for(main(), timeout))


class Env:
    """An emulator with a funded account and a started gateway."""

    def __init__(self, emu: BinanceEmulator, gw: BinanceTradingGateway, api_key: str, secret: str) -> None:
        self.emu, self.gw, self.api_key, self.secret = emu, gw, api_key, secret
        self.ex = emu.private.exchange

    def best(self) -> tuple[float, float]:
        book = self.emu.true_book(SYMBOL)
        return book.best_bid, book.best_ask

    def request(
        self,
        side: Side,
        qty: float,
        price: float | None = None,
        *,
        tif: TimeInForce = TimeInForce.GTC,
        order_type: OrderType = OrderType.LIMIT,
        client_id: str | None = None,
    ) -> OrderRequest:
        return OrderRequest(
            venue="binance",
            symbol=SYMBOL,
            side=side,
            order_type=order_type,
            quantity=qty,
            client_id=client_id or self.gw.new_client_id(),
            price=price,
            time_in_force=tif,
        )

    def orders_with(self, client_id: str) -> int:
        return sum(1 for o in self.ex.orders.values() if o.client_id == client_id)


def env(main: Callable[[Env], Awaitable[None]], **gw_kwargs: Any) -> None:
    async def go() -> None:
        async with BinanceEmulator((SYMBOL,), seed=5, tick_interval=None) as emu:
            acct = emu.private.create_account({"USDT": "1000000", "BTC": "2"})
            gw = BinanceTradingGateway(
                ApiCredentials(acct.api_key, secret=acct.secret),
                rest_url=emu.http_url,
                ws_url=emu.ws_url,
                timeout=3.0,
                **gw_kwargs,
            )
            await gw.start()
            try:
                await main(Env(emu, gw, acct.api_key, acct.secret))
            finally:
                await gw.close()

    run(go)


def test_gateway_implements_the_protocol() -> None:
    gw = BinanceTradingGateway(ApiCredentials("key123", secret="TOPSECRETVALUE"))
    assert isinstance(gw, TradingGateway)
    assert "TOPSECRET" not in repr(gw) and "TOPSECRET" not in str(gw.credentials)
    cid = gw.new_client_id()
    assert cid.isalnum() and len(cid) <= 36 and cid != gw.new_client_id()


class TestBinanceTradingConformance(TradingConformance):
    """The shared trading suite against the Binance emulator."""

    reject_codes = ("-2010", "-1013", "-1013")
    post_only_reject_code = "-2010"
    auth_codes = ("-1022", "-2015")
    stale_code = "-1021"

    def make_emulator(self) -> EmulatorServer:
        return BinanceEmulator((SYMBOL,), seed=5, tick_interval=None)

    def make_gateway(self, emulator: EmulatorServer, creds: ApiCredentials) -> BinanceTradingGateway:
        return BinanceTradingGateway(creds, rest_url=emulator.http_url, ws_url=emulator.ws_url, timeout=3.0)


# -- ccxt as an independent client ----------------------------------------------------------------


def _ccxt(url: str, key: str, secret: str) -> Any:
    import ccxt.async_support as ccxt_async

    ex = ccxt_async.binance(
        {
            "apiKey": key,
            "secret": secret,
            "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False},
        }
    )
    for name in ("public", "private", "v1", "v3", "sapi", "sapiV2", "sapiV3", "sapiV4"):
        base = "/api/v3" if name in ("public", "private", "v3") else "/sapi/" + name[4:].lower() or "v1"
        if name.startswith("sapi"):
            base = "/sapi/" + ("v1" if name == "sapi" else name[4:].lower())
        if name == "v1":
            base = "/api/v1"
        ex.urls["api"][name] = url + base
    return ex


def test_ccxt_trades_against_the_emulator_with_its_own_signing() -> None:
    async def main(e: Env) -> None:
        bid, _ = e.best()
        ex = _ccxt(e.emu.http_url, e.api_key, e.secret)
        try:
            await ex.load_markets()
            price = round(bid - 20, 2)
            order = await ex.create_order(SYMBOL, "limit", "buy", 0.01, price)
            assert (
                order["status"] == "open"
                and e.ex.orders[int(order["id"])].client_id == order["clientOrderId"]
            )
            fetched = await ex.fetch_order(order["id"], SYMBOL)
            assert fetched["id"] == order["id"] and fetched["amount"] == 0.01
            cancelled = await ex.cancel_order(order["id"], SYMBOL)
            assert cancelled["status"] == "canceled"
            balance = await ex.fetch_balance()
            assert balance["USDT"]["free"] == 1000000 and balance["BTC"]["total"] == 2
        finally:
            await ex.close()
        bad = _ccxt(e.emu.http_url, e.api_key, e.secret + "x")
        try:
            import ccxt

            with pytest.raises(ccxt.AuthenticationError):
                await bad.fetch_balance()
        finally:
            await bad.close()

    env(main)


def test_listen_key_keepalive_and_unknown_keys() -> None:
    async def main(e: Env) -> None:
        key = await e.gw._listen_key()
        e.gw.listen_key = key
        await e.gw.keepalive()  # accepted: {}
        import aiohttp

        async with aiohttp.ClientSession() as s:
            url = e.emu.http_url + "/api/v3/userDataStream?listenKey=nope"
            async with s.put(url, headers={"X-MBX-APIKEY": e.api_key}) as r:
                assert r.status == 400 and (await r.json())["code"] == -1125
            async with s.post(e.emu.http_url + "/api/v3/userDataStream") as r:
                assert r.status == 401 and (await r.json())["code"] == -2014
            # a socket on an unknown listen key gets no private events (it is a public path)
            assert key in e.emu.private._listen_keys

    env(main, keepalive_interval=0.05)


def test_polling_fallback_reports_order_changes_with_their_fills() -> None:
    """The base gateway's REST polling (venues without a private stream use it)."""

    async def main(e: Env) -> None:
        from arbot.trading.rest_gateway import RestTradingGateway

        bid, _ = e.best()
        price = round(bid - 10, 2)
        req = e.request(Side.BUY, 0.01, price)
        await e.gw.place_order(req)
        e.gw.poll_interval = 0.02
        polled = RestTradingGateway.updates(e.gw)
        first = await asyncio.wait_for(polled.__anext__(), 5)
        assert first.state.status is OrderStatus.NEW and first.source == "poll"
        e.ex.trade(SYMBOL, Decimal(str(price)), Decimal("0.01"))
        second = await asyncio.wait_for(polled.__anext__(), 5)
        assert second.state.status is OrderStatus.FILLED and [f.quantity for f in second.fills] == [0.01]
        assert req.client_id not in e.gw._tracked  # terminal: no longer polled
        await polled.aclose()

    env(main)


def test_start_warns_when_the_trading_key_can_withdraw(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with BinanceEmulator((SYMBOL,), seed=1, tick_interval=None) as emu:
            safe = emu.private.create_account({"USDT": "10"})
            risky = emu.private.create_account({"USDT": "10"})
            emu.private.withdraw_keys.add(risky.api_key)
            emu.private.ip_restricted_keys.add(safe.api_key)
            for acct in (safe, risky):
                gw = BinanceTradingGateway(
                    ApiCredentials(acct.api_key, secret=acct.secret), rest_url=emu.http_url
                )
                caplog.clear()
                with caplog.at_level("INFO", logger="arbot_binance.trading"):
                    await gw.start()
                await gw.close()
                warned = any("can WITHDRAW" in r.message for r in caplog.records)
                assert warned == (acct is risky)
                assert gw.restrictions is not None
                assert any(
                    ("whitelist on" if acct is safe else "whitelist OFF") in r.message for r in caplog.records
                )

    asyncio.run(asyncio.wait_for(main(), 20))


def test_withdrawals_and_deposits_with_fees_minimums_and_confirmation_delays() -> None:
    async def main(e: Env) -> None:
        with pytest.raises(AuthenticationFailed):
            await e.gw.signed(
                "POST",
                "/sapi/v1/capital/withdraw/apply",
                {"coin": "USDT", "network": "TRX", "address": "Tabc", "amount": "50"},
            )
        e.emu.private.withdraw_keys.add(e.api_key)
        with pytest.raises(TradingError) as small:
            await e.gw.signed(
                "POST",
                "/sapi/v1/capital/withdraw/apply",
                {"coin": "USDT", "network": "TRX", "address": "Tabc", "amount": "5"},
            )
        assert small.value.code == "-4022"
        ok = await e.gw.signed(
            "POST",
            "/sapi/v1/capital/withdraw/apply",
            {"coin": "USDT", "network": "TRX", "address": "Tabc", "amount": "50"},
        )
        assert ok["id"]
        assert (await e.gw.balances())["USDT"].free == 1_000_000 - 50
        history = await e.gw.signed("GET", "/sapi/v1/capital/withdraw/history", {"coin": "USDT"})
        assert (
            history[0]["status"] == 4 and history[0]["transactionFee"] == "1" and history[0]["amount"] == "49"
        )
        e.ex.deposit(e.api_key, "BTC", "BTC", Decimal("0.5"))
        deposits = await e.gw.signed("GET", "/sapi/v1/capital/deposit/hisrec", {})
        assert deposits[0]["status"] == 0 and (await e.gw.balances())["BTC"].free == 2
        await asyncio.sleep(1.05)  # the networks confirm after 1 s
        assert (await e.gw.signed("GET", "/sapi/v1/capital/withdraw/history", {}))[0]["status"] == 6
        assert (await e.gw.signed("GET", "/sapi/v1/capital/deposit/hisrec", {}))[0]["status"] == 1
        assert (await e.gw.balances())["BTC"].free == 2.5

    env(main)


def test_a_filled_order_leaves_the_unfilled_order_count() -> None:
    """Binance counts unfilled orders (100 per 10 s): an order that fills is given back, a
    resting one keeps its place."""

    async def main(e: Env) -> None:
        bid, ask = e.best()
        await e.gw.place_order(e.request(Side.BUY, 0.01, round(bid - 10, 2)))  # rests
        assert e.gw.order_limiter.used() == 1.0
        filled = await e.gw.place_order(e.request(Side.BUY, 0.01, round(ask * 1.01, 2), tif=TimeInForce.IOC))
        assert filled.filled > 0
        assert e.gw.order_limiter.used() == 1.0

    env(main)
