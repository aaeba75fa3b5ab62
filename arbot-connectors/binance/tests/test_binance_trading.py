"""Binance trading over real loopback sockets: the gateway against the emulator's private API.

Lifecycle (place, partial fill, fill, cancel, query by client id, balances), every injected
trading fault (each handled: a clear error, a retry, or a reconcile, never a double order), the
user data stream, the emulator's own signature checks, and ccxt as an independent client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from arbot.events import Side
from arbot.testing.emulator.exchange_faults import FaultKind
from arbot.trading import (
    AmbiguousOrderState,
    AuthenticationFailed,
    OrderNotFound,
    OrderRejected,
    OrderRequest,
    OrderStatus,
    OrderType,
    RateLimited,
    TimeInForce,
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


def test_lifecycle_place_partial_fill_fill_cancel_query_balances() -> None:
    async def main(e: Env) -> None:
        bid, ask = e.best()
        price = round(bid - 5.0, 2)
        placed = await e.gw.place_order(e.request(Side.BUY, 0.5, price, client_id="life1"))
        assert placed.status is OrderStatus.NEW and placed.client_id == "life1" and placed.filled == 0
        bal = await e.gw.balances()
        assert bal["USDT"].locked == pytest.approx(0.5 * price)
        e.ex.trade(SYMBOL, Decimal(str(price)), Decimal("0.2"))
        part = await e.gw.get_order(SYMBOL, "life1")
        assert part.status is OrderStatus.PARTIALLY_FILLED and part.filled == pytest.approx(0.2)
        e.ex.trade(SYMBOL, Decimal(str(price)), Decimal("1"))
        done = await e.gw.get_order(SYMBOL, "life1")
        assert done.status is OrderStatus.FILLED and done.average_price == pytest.approx(price)
        fills = await e.gw.recent_fills(SYMBOL)
        assert len(fills) == 2 and len({f.trade_id for f in fills}) == 2 and all(f.is_maker for f in fills)
        assert sum(f.fee for f in fills) == pytest.approx(0.5 * 0.001) and fills[0].fee_asset == "BTC"
        # a second order, cancelled
        other = await e.gw.place_order(e.request(Side.SELL, 0.3, round(ask + 50.0, 2), client_id="life2"))
        assert [o.client_id for o in await e.gw.open_orders(SYMBOL)] == ["life2"]
        cancelled = await e.gw.cancel_order(SYMBOL, "life2")
        assert cancelled.status is OrderStatus.CANCELLED and cancelled.client_id == "life2"
        assert cancelled.order_id == other.order_id
        with pytest.raises(OrderNotFound):
            await e.gw.cancel_order(SYMBOL, "life2")
        with pytest.raises(OrderNotFound):
            await e.gw.get_order(SYMBOL, "never-sent")
        bal = await e.gw.balances()
        assert bal["USDT"].free == pytest.approx(1000000 - 0.5 * price) and bal["USDT"].locked == 0
        assert bal["BTC"].free == pytest.approx(2 + 0.5 * 0.999) and bal["BTC"].locked == 0
        fees = await e.gw.trading_fees([SYMBOL])
        assert fees[SYMBOL].maker == 0.001 and fees[SYMBOL].taker == 0.001
        nets = await e.gw.networks("USDT")
        assert {n.network for n in nets} == {"TRX", "ETH"} and next(
            n for n in nets if n.network == "TRX"
        ).withdraw_fee == 1

    env(main)


def test_ioc_fok_market_post_only_and_cancel_all() -> None:
    async def main(e: Env) -> None:
        bid, ask = e.best()
        ioc = await e.gw.place_order(e.request(Side.BUY, 0.001, round(ask + 1, 2), tif=TimeInForce.IOC))
        assert ioc.status is OrderStatus.FILLED and ioc.average_price == pytest.approx(ask)
        _, ask = e.best()
        top = e.emu.true_book(SYMBOL).asks.best()
        assert top is not None
        fok = await e.gw.place_order(e.request(Side.BUY, top[1] + 0.001, ask, tif=TimeInForce.FOK))
        assert fok.status is OrderStatus.EXPIRED and fok.filled == 0
        mkt = await e.gw.place_order(e.request(Side.SELL, 0.001, order_type=OrderType.MARKET))
        assert mkt.status is OrderStatus.FILLED and mkt.average_price == pytest.approx(bid)
        with pytest.raises(OrderRejected) as err:
            await e.gw.place_order(e.request(Side.BUY, 0.001, round(ask + 1, 2), tif=TimeInForce.POST_ONLY))
        assert err.value.code == "-2010" and "immediately match" in err.value.message
        maker = await e.gw.place_order(
            e.request(Side.BUY, 0.001, round(bid - 100, 2), tif=TimeInForce.POST_ONLY)
        )
        assert maker.status is OrderStatus.NEW
        await e.gw.place_order(e.request(Side.BUY, 0.001, round(bid - 101, 2)))
        assert len(await e.gw.cancel_all(SYMBOL)) == 2
        assert await e.gw.open_orders() == [] and await e.gw.cancel_all(SYMBOL) == []

    env(main)


def test_precision_at_the_boundary() -> None:
    async def main(e: Env) -> None:
        bid, _ = e.best()
        # 0.000019 rounds down to the step 0.00001; a buy price rounds down to the tick
        req = e.request(Side.BUY, 0.000019 * 1000, bid - 10.0049)
        state = await e.gw.place_order(req)
        order = e.ex.orders[int(state.order_id)]
        assert order.qty == Decimal("0.01900") and order.price == Decimal(str(round(bid - 10.01, 2)))
        wire = e.gw.prepare(e.request(Side.BUY, 5e-05, 200000.0))
        assert wire is not None and wire.quantity == "0.00005" and wire.price == "200000"
        sent = e.gw.stats.orders_sent
        with pytest.raises(OrderRejected, match="notional") as small:
            await e.gw.place_order(e.request(Side.BUY, 0.00001, 100.0))
        assert small.value.code == "local" and e.gw.stats.orders_sent == sent
        with pytest.raises(OrderRejected, match="rounds to 0"):
            await e.gw.place_order(e.request(Side.BUY, 0.000001, 60000.0))

    env(main)


def test_injected_rejections_are_rejections() -> None:
    async def main(e: Env) -> None:
        bid, _ = e.best()
        for kind, code in (
            (FaultKind.REJECT_BALANCE, "-2010"),
            (FaultKind.REJECT_MIN_NOTIONAL, "-1013"),
            (FaultKind.REJECT_PRICE_FILTER, "-1013"),
        ):
            e.ex.faults.inject(kind)
            req = e.request(Side.BUY, 0.01, round(bid - 10, 2))
            with pytest.raises(OrderRejected) as err:
                await e.gw.place_order(req)
            assert err.value.code == code and e.orders_with(req.client_id) == 0
        with pytest.raises(OrderRejected, match="insufficient balance"):
            await e.gw.place_order(e.request(Side.BUY, 100.0, round(bid - 10, 2)))

    env(main)


def test_rate_limit_backs_off_then_succeeds_or_says_so() -> None:
    async def main(e: Env) -> None:
        bid, _ = e.best()
        e.ex.faults.inject(FaultKind.RATE_LIMIT, count=1, param=0.01)
        req = e.request(Side.BUY, 0.01, round(bid - 10, 2))
        state = await e.gw.place_order(req)
        assert state.status is OrderStatus.NEW and e.orders_with(req.client_id) == 1
        assert e.gw.rest.stats.rate_limited == 1
        e.ex.faults.inject(FaultKind.RATE_LIMIT, count=3, param=0.01)
        with pytest.raises(RateLimited):
            await e.gw.place_order(e.request(Side.BUY, 0.01, round(bid - 10, 2)))

    env(main)


@pytest.mark.parametrize("kind", [FaultKind.ACK_LOST, FaultKind.HTTP_5XX_EXECUTED])
def test_accepted_order_without_an_answer_is_found_by_client_id(kind: FaultKind) -> None:
    async def main(e: Env) -> None:
        bid, _ = e.best()
        e.ex.faults.inject(kind)
        req = e.request(Side.BUY, 0.01, round(bid - 10, 2))
        state = await e.gw.place_order(req)
        assert state.status is OrderStatus.NEW and state.client_id == req.client_id
        assert e.gw.stats.ambiguous == 1 and e.gw.stats.recovered_by_lookup == 1
        # the order manager retries the same request: still one order
        again = await e.gw.place_order(req)
        assert again.order_id == state.order_id and e.orders_with(req.client_id) == 1

    env(main)


def test_5xx_without_execution_is_ambiguous_then_a_retry_looks_up_first() -> None:
    async def main(e: Env) -> None:
        bid, _ = e.best()
        e.ex.faults.inject(FaultKind.HTTP_5XX, param=503)
        req = e.request(Side.BUY, 0.01, round(bid - 10, 2))
        with pytest.raises(AmbiguousOrderState) as amb:
            await e.gw.place_order(req)
        assert amb.value.code == "-1007" and e.orders_with(req.client_id) == 0
        lookups = e.gw.stats.lookups
        state = await e.gw.place_order(req)
        assert e.gw.stats.lookups == lookups + 1  # looked up before sending again
        assert state.status is OrderStatus.NEW and e.orders_with(req.client_id) == 1

    env(main)


def test_timeout_is_ambiguous_and_reconciled() -> None:
    async def main(e: Env) -> None:
        bid, _ = e.best()
        e.ex.faults.inject(FaultKind.ACK_LOST)
        # the lookup right after fails too (the client retries a GET twice: three 502s)
        e.ex.faults.inject(FaultKind.HTTP_5XX, count=3, param=502, skip=1)
        req = e.request(Side.BUY, 0.01, round(bid - 10, 2))
        with pytest.raises(AmbiguousOrderState):
            await e.gw.place_order(req)
        assert e.orders_with(req.client_id) == 1  # it was accepted
        state = await e.gw.place_order(req)  # the retry finds it instead of sending again
        assert state.status is OrderStatus.NEW and e.orders_with(req.client_id) == 1

    env(main)


def test_clock_skew_resyncs_and_resends_with_the_same_client_id() -> None:
    async def main(e: Env) -> None:
        bid, _ = e.best()
        e.ex.faults.inject(FaultKind.CLOCK_SKEW, param=30.0)
        req = e.request(Side.BUY, 0.01, round(bid - 10, 2))
        state = await e.gw.place_order(req)
        assert state.status is OrderStatus.NEW and e.gw.stats.clock_skew_retries == 1
        assert e.gw.offset_ms == pytest.approx(30_000, abs=1_000) and e.orders_with(req.client_id) == 1

    env(main)


def test_duplicate_client_id_leads_to_a_lookup_not_a_new_order() -> None:
    async def main(e: Env) -> None:
        bid, _ = e.best()
        req = e.request(Side.BUY, 0.01, round(bid - 10, 2))
        first = await e.gw.place_order(req)
        # a restarted gateway (no memory) sends the same request again
        fresh = BinanceTradingGateway(ApiCredentials(e.api_key, secret=e.secret), rest_url=e.emu.http_url)
        await fresh.start()
        try:
            again = await fresh.place_order(req)
        finally:
            await fresh.close()
        assert again.order_id == first.order_id and fresh.stats.duplicates == 1
        assert e.orders_with(req.client_id) == 1

    env(main)


def test_order_stuck_in_new_stays_new_and_cancels() -> None:
    async def main(e: Env) -> None:
        _, ask = e.best()
        e.ex.faults.inject(FaultKind.STUCK_NEW)
        req = e.request(Side.BUY, 0.001, round(ask + 5, 2))  # marketable, yet stuck
        state = await e.gw.place_order(req)
        assert state.status is OrderStatus.NEW
        e.emu.private.on_tick()
        assert (await e.gw.get_order(SYMBOL, req.client_id)).status is OrderStatus.NEW
        assert (await e.gw.cancel_order(SYMBOL, req.client_id)).status is OrderStatus.CANCELLED

    env(main)


def test_bad_credentials_are_refused_as_binance_does() -> None:
    async def main(e: Env) -> None:
        for creds, code in (
            (ApiCredentials(e.api_key, secret="wrong"), "-1022"),
            (ApiCredentials("nobody", secret=e.secret), "-2015"),
        ):
            gw = BinanceTradingGateway(creds, rest_url=e.emu.http_url)
            await gw.start()
            try:
                with pytest.raises(AuthenticationFailed) as err:
                    await gw.balances()
                assert err.value.code == code
            finally:
                await gw.close()
        # a stale timestamp (no resync): -1021
        e.gw.offset_ms = -10_000
        e.gw.clock_retries = 0
        with pytest.raises(Exception) as stale:
            await e.gw.balances()
        assert getattr(stale.value, "code", None) == "-1021"

    env(main)


async def _collect(
    it: AsyncIterator[Any], n: int | Callable[[list[Any]], bool], timeout: float = 5.0
) -> list[Any]:
    """Updates from ``it`` until there are ``n`` or ``n(updates)`` holds."""
    out: list[Any] = []
    done = (lambda xs: len(xs) >= n) if isinstance(n, int) else n

    async def take() -> None:
        async for u in it:
            out.append(u)
            if done(out):
                return

    await asyncio.wait_for(take(), timeout)
    return out


def test_user_data_stream_reports_orders_and_fills_and_survives_a_drop() -> None:
    async def main(e: Env) -> None:
        bid, _ = e.best()
        stream = e.gw.updates()
        first = asyncio.ensure_future(_collect(stream, 3))
        await asyncio.sleep(0.2)  # the listen key and socket are up
        price = round(bid - 10, 2)
        req = e.request(Side.BUY, 0.01, price)
        await e.gw.place_order(req)
        e.ex.trade(SYMBOL, Decimal(str(price)), Decimal("0.004"))
        e.ex.trade(SYMBOL, Decimal(str(price)), Decimal("0.006"))
        ups = await first
        assert [u.state.status for u in ups] == [
            OrderStatus.NEW,
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
        ]
        assert [f.quantity for u in ups for f in u.fills] == [0.004, 0.006]
        assert all(u.source == "stream" and u.state.client_id == req.client_id for u in ups)
        # the stream is cut; the next update comes after a reconnect with a REST reconcile
        req2 = e.request(Side.BUY, 0.01, price)
        await e.gw.place_order(req2)
        after = asyncio.ensure_future(
            _collect(
                stream, lambda xs: any(u.source == "rest" and u.state.client_id == req2.client_id for u in xs)
            )
        )
        await asyncio.sleep(0.1)
        e.ex.faults.inject(FaultKind.STREAM_DROP)
        e.emu.private.on_tick()
        await e.gw.cancel_order(SYMBOL, req2.client_id)
        got = await after
        assert any(u.source == "rest" and u.state.client_id == req2.client_id for u in got), [
            (u.source, u.state.client_id, u.state.status) for u in got
        ]
        await stream.aclose()

    env(main)


def test_delayed_fill_report_arrives_late_on_the_stream_and_in_fills() -> None:
    async def main(e: Env) -> None:
        _, ask = e.best()
        stream = e.gw.updates()
        task = asyncio.ensure_future(_collect(stream, lambda xs: any(u.fills for u in xs)))
        await asyncio.sleep(0.2)
        e.ex.faults.inject(FaultKind.DELAY_FILL, param=0.4)
        req = e.request(Side.BUY, 0.001, round(ask + 1, 2), tif=TimeInForce.IOC)
        state = await e.gw.place_order(req)
        assert state.status is OrderStatus.FILLED
        assert [f for f in await e.gw.recent_fills(SYMBOL) if f.order_id == state.order_id] == []
        ups = await task
        assert any(u.fills for u in ups)
        assert [f for f in await e.gw.recent_fills(SYMBOL) if f.order_id == state.order_id]
        await stream.aclose()

    env(main)


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
