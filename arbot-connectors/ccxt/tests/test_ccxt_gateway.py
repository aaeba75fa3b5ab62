"""ccxt's trading behind ArBot's TradingGateway, against the Binance emulator's private API.

ccxt signs every request itself and the emulator verifies the signatures by Binance's rule, so
these are real signed requests over loopback. Covered: place (GTC resting, IOC filling) with
ArBot's client id, lookup by client id, cancel, open orders, fills with trade ids, balances,
fees; a refused order is an OrderRejected and leaves no order; bad keys are an
AuthenticationFailed; the order manager and the leg-risk machine run an arbitrage episode over
two ccxt gateways (two emulated venues), checked against the emulators' ground truth.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from arbot.events import Leg, Opportunity, Side
from arbot.execution.journal import MemoryJournal
from arbot.execution.killswitch import KillSwitch
from arbot.execution.legs import LegPolicy, LegRiskMachine
from arbot.execution.orders import OrderManager
from arbot.execution.runtime import AsyncioRuntime
from arbot.market import MarketState
from arbot.trading import (
    AuthenticationFailed,
    OrderRejected,
    OrderRequest,
    OrderStatus,
    OrderType,
    TimeInForce,
    TradingGateway,
)
from arbot.trading.signing import ApiCredentials
from arbot_ccxt import CcxtConnector, CcxtSettings
from arbot_ccxt.trading import CcxtTradingGateway

emulator_mod = pytest.importorskip("arbot_binance.emulator")
SYMBOL = "BTC/USDT"


def settings_for(emulator: Any, venue: str = "binance") -> CcxtSettings:
    base = emulator.http_url
    return CcxtSettings(
        exchange_id="binance",
        venue=venue,
        urls={"api": {"public": base + "/api/v3", "private": base + "/api/v3", "sapi": base + "/sapi/v1"}},
        options={"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False},
    )


def gateway(emulator: Any, creds: ApiCredentials, venue: str = "binance") -> TradingGateway:
    return CcxtConnector.trading_gateway(settings_for(emulator, venue), creds)


def with_gateway(main: Callable[[Any, Any, CcxtTradingGateway], Awaitable[None]]) -> None:
    async def go() -> None:
        async with emulator_mod.BinanceEmulator((SYMBOL,), seed=5, tick_interval=None) as emu:
            acct = emu.private.create_account({"USDT": "100000", "BTC": "2"})
            gw = gateway(emu, ApiCredentials(acct.api_key, secret=acct.secret))
            assert isinstance(gw, CcxtTradingGateway) and isinstance(gw, TradingGateway)
            await gw.start()
            try:
                await main(emu, acct, gw)
            finally:
                await gw.close()

    asyncio.run(asyncio.wait_for(go(), 60))


def request(gw: TradingGateway, side: Side, qty: float, price: float, tif: TimeInForce) -> OrderRequest:
    return OrderRequest(gw.venue, SYMBOL, side, OrderType.LIMIT, qty, gw.new_client_id(), price, tif)


def test_lifecycle_through_ccxt() -> None:
    async def main(emu: Any, acct: Any, gw: CcxtTradingGateway) -> None:
        book = emu.true_book(SYMBOL)
        bid, ask = book.best_bid, book.best_ask
        ex = emu.private.exchange
        resting = request(gw, Side.BUY, 0.01, round(bid * 0.9, 2), TimeInForce.GTC)
        st = await gw.place_order(resting)
        assert st.status is OrderStatus.NEW and st.client_id == resting.client_id
        assert [o.client_id for o in ex.orders.values()] == [resting.client_id]
        assert (await gw.get_order(SYMBOL, resting.client_id)).status is OrderStatus.NEW
        assert [o.client_id for o in await gw.open_orders(SYMBOL)] == [resting.client_id]
        # every symbol at once, as reconciliation and the kill switch ask
        assert [o.client_id for o in await gw.open_orders()] == [resting.client_id]
        cancelled = await gw.cancel_order(SYMBOL, resting.client_id)
        assert cancelled.status is OrderStatus.CANCELLED
        assert next(iter(ex.orders.values())).status.value == "CANCELLED"
        assert await gw.open_orders(SYMBOL) == []

        taker = request(gw, Side.BUY, 0.01, round(ask * 1.01, 2), TimeInForce.IOC)
        st = await gw.place_order(taker)
        assert st.status is OrderStatus.FILLED and st.filled == pytest.approx(0.01)
        venue_order = next(o for o in ex.orders.values() if o.client_id == taker.client_id)
        assert float(venue_order.filled) == pytest.approx(0.01)
        fills = await gw.recent_fills(SYMBOL, time.time() - 60)
        assert fills and {f.order_id for f in fills} == {str(venue_order.order_id)}
        assert len({f.trade_id for f in fills}) == len(fills)
        assert sum(f.quantity for f in fills) == pytest.approx(0.01)
        bal = await gw.balances()
        assert bal["BTC"].total == pytest.approx(2.01 - sum(f.fee for f in fills if f.fee_asset == "BTC"))
        fees = await gw.trading_fees([SYMBOL])
        assert fees[SYMBOL].taker > 0

        too_big = request(gw, Side.BUY, 500.0, round(ask * 1.01, 2), TimeInForce.IOC)
        with pytest.raises(OrderRejected):
            await gw.place_order(too_big)
        assert not [o for o in ex.orders.values() if o.client_id == too_big.client_id]

    with_gateway(main)


def test_bad_secret_is_an_authentication_failure() -> None:
    async def main(emu: Any, acct: Any, gw: CcxtTradingGateway) -> None:
        bad = gateway(emu, ApiCredentials(acct.api_key, secret="not-the-secret"))
        await bad.start()
        try:
            with pytest.raises(AuthenticationFailed):
                await bad.balances()
            assert "not-the-secret" not in repr(bad)
        finally:
            await bad.close()

    with_gateway(main)


def test_an_arbitrage_episode_over_two_ccxt_gateways() -> None:
    """Buy on the cheap emulated venue, sell on the rich one, through the production order
    manager and leg-risk machine; the emulators' orders are the journal's orders."""

    async def go() -> None:
        cheap = emulator_mod.BinanceEmulator((SYMBOL,), seed=5, tick_interval=None)
        rich = emulator_mod.BinanceEmulator((SYMBOL,), seed=5, tick_interval=None)
        for emu, mid in ((cheap, 60_000.0), (rich, 60_900.0)):
            for b in emu.scripted_books():
                b.recenter(mid)
        async with cheap, rich:
            gws: dict[str, TradingGateway] = {}
            for venue, emu in (("cheap", cheap), ("rich", rich)):
                acct = emu.private.create_account({"USDT": "100000", "BTC": "2"})
                gws[venue] = gateway(emu, ApiCredentials(acct.api_key, secret=acct.secret), venue)
                await gws[venue].start()
            try:
                market = MarketState()
                ask = cheap.true_book(SYMBOL).best_ask
                bid = rich.true_book(SYMBOL).best_bid
                for venue, emu in (("cheap", cheap), ("rich", rich)):
                    tb = emu.true_book(SYMBOL)
                    market.book(venue, SYMBOL).apply_snapshot(
                        [(tb.best_bid, 10.0)], [(tb.best_ask, 10.0)], time.time()
                    )
                rt = AsyncioRuntime(time.time)
                journal = MemoryJournal()
                manager = OrderManager(gws, journal, rt)
                kill = KillSwitch(journal, rt)
                machine = LegRiskMachine(manager, journal, rt, market, kill, LegPolicy(), None,
                                         lambda v, s: 0.001)
                legs = (Leg("cheap", SYMBOL, Side.BUY, ask, 0.01), Leg("rich", SYMBOL, Side.SELL, bid, 0.01))
                opp = Opportunity("ep-1", time.time(), "spatial", SYMBOL, legs, 1.0, 0.8, 4.0)
                result = await machine.run("ep-1", opp)
                assert result.state == "DONE", result.reason
                for venue, emu in (("cheap", cheap), ("rich", rich)):
                    truth = {o.client_id: o for o in emu.private.exchange.orders.values()}
                    mine = {o.client_id: o for o in result.orders if o.request.venue == venue}
                    assert set(truth) == set(mine)
                    for cid, o in truth.items():
                        assert o.status.value == "FILLED"
                        assert float(o.filled) == pytest.approx(mine[cid].filled)
            finally:
                for gw in gws.values():
                    await gw.close()

    asyncio.run(asyncio.wait_for(go(), 60))
