"""The trading conformance suite: what every venue's trading gateway passes against its emulator.

Subclass :class:`TradingConformance` in a connector package's tests (name it ``Test...``) and
implement :meth:`~TradingConformance.make_emulator`, :meth:`~TradingConformance.make_gateway`
and :meth:`~TradingConformance.private_api`; set the venue's answer codes in the class
attributes. Every test runs its own event loop, emulator (no ticker: the tests move the market
with public trades) and gateway over real loopback sockets:

* the lifecycle: place, partial fill, fill, cancel, query by client id, balances after, fees,
  networks; IOC, FOK, market, post-only, cancel all; precision at the boundary;
* every trading fault of :class:`~arbot.testing.emulator.exchange_faults.FaultKind`, each
  handled: a rejection is an :class:`OrderRejected` with the venue's code; 429 backs off and
  retries; a lost ack, a 5xx after execution and a timeout are reconciled by client id; a
  clock skew is resynced and resent with the same client id; a duplicate client id leads to a
  lookup; an order stuck in NEW stays NEW and cancels; the private stream reports orders and
  fills, survives a drop (reconnect + REST reconcile) and delivers a delayed fill report late;
* never a double order: each test counts the emulator's orders with the client id;
* bad credentials are refused with the venue's codes.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, Protocol

from arbot.events import Side
from arbot.testing.emulator.exchange import EmulatedExchange
from arbot.testing.emulator.exchange_faults import FaultKind
from arbot.testing.emulator.exchange_models import Account
from arbot.testing.emulator.server import EmulatorServer
from arbot.trading.errors import (
    AmbiguousOrderState,
    AuthenticationFailed,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TradingError,
)
from arbot.trading.rest_gateway import RestTradingGateway
from arbot.trading.types import OrderRequest, OrderState, OrderStatus, OrderType, OrderUpdate, TimeInForce

__all__ = ["PrivateApi", "TradingConformance", "TradingEnv"]


class PrivateApi(Protocol):
    """What the suite needs of a venue emulator's private API."""

    exchange: EmulatedExchange

    def create_account(self, balances: Mapping[str, object], **kwargs: Any) -> Account:
        """A funded account."""
        ...

    def on_tick(self) -> None:
        """Match resting orders against the book; apply a stream drop."""
        ...


class TradingEnv:
    """One test's emulator, private API, funded account and started gateway."""

    def __init__(
        self,
        suite: TradingConformance,
        emu: EmulatorServer,
        api: PrivateApi,
        account: Account,
        gw: RestTradingGateway,
    ) -> None:
        self.suite, self.emu, self.api, self.account, self.gw = suite, emu, api, account, gw
        self.ex = api.exchange
        self.symbol = suite.symbol

    def best(self) -> tuple[float, float]:
        """(best bid, best ask) of the emulator's book."""
        book = self.emu.true_book(self.symbol)
        return book.best_bid, book.best_ask

    def tick_price(self, price: float, ticks: int) -> float:
        """``price`` moved by ``ticks`` ticks of the market."""
        tick = self.gw.market(self.symbol).tick_size
        return round(price + ticks * tick, 10)

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
        """An order request of the test symbol."""
        return OrderRequest(
            venue=self.gw.venue,
            symbol=self.symbol,
            side=side,
            order_type=order_type,
            quantity=qty,
            client_id=client_id or self.gw.new_client_id(),
            price=price,
            time_in_force=tif,
        )

    def orders_with(self, client_id: str) -> int:
        """How many orders the emulator holds with ``client_id`` (never more than one)."""
        return sum(1 for o in self.ex.orders.values() if o.client_id == client_id)

    def trade(self, price: float, qty: float) -> None:
        """A public trade that fills resting orders at ``price`` or better."""
        self.ex.trade(self.symbol, Decimal(repr(price)), Decimal(repr(qty)))

    async def state(self, client_id: str) -> OrderState:
        """The order's state from the venue."""
        return await self.gw.get_order(self.symbol, client_id)


async def collect(
    it: AsyncIterator[OrderUpdate], until: Callable[[list[OrderUpdate]], bool], timeout: float = 5.0
) -> list[OrderUpdate]:
    """Updates from ``it`` until ``until(updates)`` holds (TimeoutError otherwise)."""
    out: list[OrderUpdate] = []

    async def take() -> None:
        async for u in it:
            out.append(u)
            if until(out):
                return

    await asyncio.wait_for(take(), timeout)
    return out


async def _close(it: AsyncIterator[OrderUpdate]) -> None:
    if isinstance(it, AsyncGenerator):
        await it.aclose()


class TradingConformance(ABC):
    """Reusable trading tests (see the module docstring)."""

    symbol: ClassVar[str] = "BTC/USDT"
    #: Starting balances of the test account.
    balances: ClassVar[dict[str, str]] = {"USDT": "1000000", "BTC": "2"}
    #: The venue's codes for: insufficient balance, min notional, price filter.
    reject_codes: ClassVar[tuple[str, str, str]] = ("", "", "")
    #: The code of a post-only order that would take, or None when the venue accepts and
    #: then cancels it.
    post_only_reject_code: ClassVar[str | None] = None
    #: The codes of a wrong secret and of an unknown key.
    auth_codes: ClassVar[tuple[str, str]] = ("", "")
    #: The code of a stale timestamp.
    stale_code: ClassVar[str] = ""
    #: Fee asset of a buy (the received base for most venues).
    buy_fee_asset: ClassVar[str] = "BTC"

    @abstractmethod
    def make_emulator(self) -> EmulatorServer:
        """A fresh emulator serving :attr:`symbol` (``tick_interval=None``)."""

    @abstractmethod
    def private_api(self, emulator: EmulatorServer) -> PrivateApi:
        """The emulator's private API."""

    @abstractmethod
    def make_gateway(
        self,
        emulator: EmulatorServer,
        account: Account,
        *,
        secret: str | None = None,
        api_key: str | None = None,
    ) -> RestTradingGateway:
        """A gateway on the emulator for ``account`` (``secret``/``api_key`` override)."""

    # -- harness -----------------------------------------------------------------------------

    def run(self, main: Callable[[TradingEnv], Awaitable[None]], timeout: float = 30.0) -> None:
        """Run ``main`` with a fresh environment in its own event loop."""

        async def go() -> None:
            async with self.make_emulator() as emu:
                api = self.private_api(emu)
                account = api.create_account(self.balances)
                self._last_account_secret, self._last_account_passphrase = account.secret, account.passphrase
                gw = self.make_gateway(emu, account)
                await gw.start()
                try:
                    await main(TradingEnv(self, emu, api, account, gw))
                finally:
                    await gw.close()

        asyncio.run(asyncio.wait_for(go(), timeout))

    # -- lifecycle ---------------------------------------------------------------------------

    def test_lifecycle_place_partial_fill_fill_cancel_query_balances(self) -> None:
        import pytest

        async def main(e: TradingEnv) -> None:
            bid, ask = e.best()
            price = e.tick_price(bid, -50)
            cid = e.gw.new_client_id()
            placed = await e.gw.place_order(e.request(Side.BUY, 0.5, price, client_id=cid))
            assert placed.status is OrderStatus.NEW and placed.client_id == cid and placed.filled == 0
            bal = await e.gw.balances()
            assert bal["USDT"].locked == pytest.approx(0.5 * price)
            e.trade(price, 0.2)
            part = await e.state(cid)
            assert part.status is OrderStatus.PARTIALLY_FILLED and part.filled == pytest.approx(0.2)
            e.trade(price, 1.0)
            done = await e.state(cid)
            assert done.status is OrderStatus.FILLED and done.average_price == pytest.approx(price)
            fills = [f for f in await e.gw.recent_fills(e.symbol) if f.order_id == placed.order_id]
            assert (
                len(fills) == 2 and len({f.trade_id for f in fills}) == 2 and all(f.is_maker for f in fills)
            )
            assert sum(f.fee for f in fills) == pytest.approx(0.5 * 0.001)
            assert {f.fee_asset for f in fills} == {self.buy_fee_asset}
            cid2 = e.gw.new_client_id()
            other = await e.gw.place_order(e.request(Side.SELL, 0.3, e.tick_price(ask, 500), client_id=cid2))
            assert [o.client_id for o in await e.gw.open_orders(e.symbol)] == [cid2]
            cancelled = await e.gw.cancel_order(e.symbol, cid2)
            assert cancelled.status is OrderStatus.CANCELLED and cancelled.client_id == cid2
            assert cancelled.order_id == other.order_id
            with pytest.raises(OrderNotFound):
                await e.gw.cancel_order(e.symbol, cid2)
            with pytest.raises(OrderNotFound):
                await e.gw.get_order(e.symbol, "neverSent1")
            bal = await e.gw.balances()
            assert bal["USDT"].free == pytest.approx(1_000_000 - 0.5 * price) and bal["USDT"].locked == 0
            assert bal["BTC"].free == pytest.approx(2 + 0.5 * 0.999) and bal["BTC"].locked == 0
            fees = await e.gw.trading_fees([e.symbol])
            assert fees[e.symbol].maker == 0.001 and fees[e.symbol].taker == 0.001
            nets = await e.gw.networks("USDT")
            assert len(nets) >= 2 and all(n.withdraw_fee > 0 and n.withdraw_min > 0 for n in nets)

        self.run(main)

    def test_ioc_fok_market_post_only_and_cancel_all(self) -> None:
        import pytest

        async def main(e: TradingEnv) -> None:
            bid, ask = e.best()
            ioc = e.request(Side.BUY, 0.001, e.tick_price(ask, 10), tif=TimeInForce.IOC)
            await e.gw.place_order(ioc)
            got = await e.state(ioc.client_id)
            assert got.status is OrderStatus.FILLED and got.average_price == pytest.approx(ask)
            top = e.emu.true_book(e.symbol).asks.best()
            assert top is not None
            fok = e.request(Side.BUY, round(top[1] + 0.001, 5), top[0], tif=TimeInForce.FOK)
            await e.gw.place_order(fok)
            got = await e.state(fok.client_id)
            assert got.status in (OrderStatus.EXPIRED, OrderStatus.CANCELLED) and got.filled == 0
            bid, ask = e.best()
            mkt = e.request(Side.SELL, 0.001, order_type=OrderType.MARKET)
            await e.gw.place_order(mkt)
            got = await e.state(mkt.client_id)
            assert got.status is OrderStatus.FILLED and got.average_price == pytest.approx(bid)
            bid, ask = e.best()
            taker = e.request(Side.BUY, 0.001, e.tick_price(ask, 10), tif=TimeInForce.POST_ONLY)
            if self.post_only_reject_code is not None:
                with pytest.raises(OrderRejected) as err:
                    await e.gw.place_order(taker)
                assert err.value.code == self.post_only_reject_code
                assert e.orders_with(taker.client_id) == 0
            else:
                await e.gw.place_order(taker)
                got = await e.state(taker.client_id)
                assert got.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED) and got.filled == 0
            maker = e.request(Side.BUY, 0.001, e.tick_price(bid, -1000), tif=TimeInForce.POST_ONLY)
            assert (await e.gw.place_order(maker)).status is OrderStatus.NEW
            await e.gw.place_order(e.request(Side.BUY, 0.001, e.tick_price(bid, -1010)))
            cancelled = await e.gw.cancel_all(e.symbol)
            assert len(cancelled) == 2 and {o.status for o in cancelled} == {OrderStatus.CANCELLED}
            assert list(await e.gw.open_orders()) == [] and list(await e.gw.cancel_all(e.symbol)) == []

        self.run(main)

    def test_precision_at_the_boundary(self) -> None:
        import pytest

        async def main(e: TradingEnv) -> None:
            bid, _ = e.best()
            market = e.gw.market(e.symbol)
            step = Decimal(repr(market.step_size))
            qty = float(step * 1900) + market.step_size * 0.9  # rounds down to 1900 steps
            price = e.tick_price(bid, -100) + market.tick_size * 0.6  # a buy rounds down
            state = await e.gw.place_order(e.request(Side.BUY, qty, price))
            order = e.ex.orders[int(state.order_id)]
            assert order.qty == step * 1900
            assert order.price == Decimal(repr(e.tick_price(bid, -100)))
            wire = e.gw.prepare(e.request(Side.BUY, 5e-05, 200000.0))
            assert wire is not None and wire.quantity == "0.00005" and "e" not in (wire.price or "")
            sent = e.gw.stats.orders_sent
            with pytest.raises(OrderRejected, match="rounds to 0") as small:
                await e.gw.place_order(e.request(Side.BUY, market.step_size / 10, bid))
            assert small.value.code == "local" and e.gw.stats.orders_sent == sent

        self.run(main)

    # -- faults ------------------------------------------------------------------------------

    def test_injected_rejections_are_rejections(self) -> None:
        import pytest

        async def main(e: TradingEnv) -> None:
            bid, _ = e.best()
            kinds = (FaultKind.REJECT_BALANCE, FaultKind.REJECT_MIN_NOTIONAL, FaultKind.REJECT_PRICE_FILTER)
            for kind, code in zip(kinds, self.reject_codes, strict=True):
                e.ex.faults.inject(kind)
                req = e.request(Side.BUY, 0.01, e.tick_price(bid, -100))
                with pytest.raises(OrderRejected) as err:
                    await e.gw.place_order(req)
                assert err.value.code == code and e.orders_with(req.client_id) == 0
            big = e.request(Side.BUY, 100.0, e.tick_price(bid, -100))
            with pytest.raises(OrderRejected) as nsf:
                await e.gw.place_order(big)
            assert nsf.value.code == self.reject_codes[0] and e.orders_with(big.client_id) == 0

        self.run(main)

    def test_rate_limit_backs_off_then_succeeds_or_says_so(self) -> None:
        import pytest

        async def main(e: TradingEnv) -> None:
            bid, _ = e.best()
            e.ex.faults.inject(FaultKind.RATE_LIMIT, count=1, param=0.01)
            req = e.request(Side.BUY, 0.01, e.tick_price(bid, -100))
            state = await e.gw.place_order(req)
            assert state.status is OrderStatus.NEW and e.orders_with(req.client_id) == 1
            assert e.gw.rest.stats.rate_limited == 1
            e.ex.faults.inject(FaultKind.RATE_LIMIT, count=3, param=0.01)
            with pytest.raises(RateLimited):
                await e.gw.place_order(e.request(Side.BUY, 0.01, e.tick_price(bid, -100)))

        self.run(main)

    def test_lost_ack_and_5xx_after_execution_are_found_by_client_id(self) -> None:
        async def main(e: TradingEnv) -> None:
            bid, _ = e.best()
            for n, kind in enumerate((FaultKind.ACK_LOST, FaultKind.HTTP_5XX_EXECUTED), start=1):
                e.ex.faults.inject(kind)
                req = e.request(Side.BUY, 0.01, e.tick_price(bid, -100 - n))
                state = await e.gw.place_order(req)
                assert state.status is OrderStatus.NEW and state.client_id == req.client_id
                assert e.gw.stats.ambiguous == n and e.gw.stats.recovered_by_lookup == n
                again = await e.gw.place_order(req)  # the order manager retries: still one order
                assert again.order_id == state.order_id and e.orders_with(req.client_id) == 1

        self.run(main)

    def test_5xx_without_execution_is_ambiguous_then_a_retry_looks_up_first(self) -> None:
        import pytest

        async def main(e: TradingEnv) -> None:
            bid, _ = e.best()
            e.ex.faults.inject(FaultKind.HTTP_5XX, param=503)
            req = e.request(Side.BUY, 0.01, e.tick_price(bid, -100))
            with pytest.raises(AmbiguousOrderState):
                await e.gw.place_order(req)
            assert e.orders_with(req.client_id) == 0
            lookups = e.gw.stats.lookups
            state = await e.gw.place_order(req)
            assert e.gw.stats.lookups == lookups + 1
            assert state.status is OrderStatus.NEW and e.orders_with(req.client_id) == 1

        self.run(main)

    def test_timeout_is_ambiguous_and_reconciled_on_retry(self) -> None:
        import pytest

        async def main(e: TradingEnv) -> None:
            bid, _ = e.best()
            e.ex.faults.inject(FaultKind.ACK_LOST)
            e.ex.faults.inject(FaultKind.HTTP_5XX, count=3, param=502, skip=1)  # the lookup fails too
            req = e.request(Side.BUY, 0.01, e.tick_price(bid, -100))
            with pytest.raises(AmbiguousOrderState):
                await e.gw.place_order(req)
            assert e.orders_with(req.client_id) == 1
            state = await e.gw.place_order(req)
            assert state.status is OrderStatus.NEW and e.orders_with(req.client_id) == 1

        self.run(main)

    def test_clock_skew_resyncs_and_resends_with_the_same_client_id(self) -> None:
        import pytest

        async def main(e: TradingEnv) -> None:
            bid, _ = e.best()
            e.ex.faults.inject(FaultKind.CLOCK_SKEW, param=90.0)
            req = e.request(Side.BUY, 0.01, e.tick_price(bid, -100))
            state = await e.gw.place_order(req)
            assert state.status is OrderStatus.NEW and e.gw.stats.clock_skew_retries == 1
            assert e.gw.offset_ms == pytest.approx(90_000, abs=2_000) and e.orders_with(req.client_id) == 1

        self.run(main)

    def test_duplicate_client_id_leads_to_a_lookup_not_a_new_order(self) -> None:
        async def main(e: TradingEnv) -> None:
            bid, _ = e.best()
            req = e.request(Side.BUY, 0.01, e.tick_price(bid, -100))
            first = await e.gw.place_order(req)
            fresh = self.make_gateway(e.emu, e.account)  # a restarted gateway resends the request
            await fresh.start()
            try:
                again = await fresh.place_order(req)
            finally:
                await fresh.close()
            assert again.order_id == first.order_id and fresh.stats.duplicates == 1
            assert e.orders_with(req.client_id) == 1

        self.run(main)

    def test_order_stuck_in_new_stays_new_and_cancels(self) -> None:
        async def main(e: TradingEnv) -> None:
            _, ask = e.best()
            e.ex.faults.inject(FaultKind.STUCK_NEW)
            req = e.request(Side.BUY, 0.001, e.tick_price(ask, 50))
            await e.gw.place_order(req)
            e.api.on_tick()
            assert (await e.state(req.client_id)).status is OrderStatus.NEW
            assert (await e.gw.cancel_order(e.symbol, req.client_id)).status is OrderStatus.CANCELLED

        self.run(main)

    def test_bad_credentials_and_stale_timestamps_are_refused(self) -> None:
        import pytest

        async def main(e: TradingEnv) -> None:
            wrong_secret, unknown_key = self.auth_codes
            for gw, code in (
                (self.make_gateway(e.emu, e.account, secret="wrong" + e.account.secret), wrong_secret),
                (self.make_gateway(e.emu, e.account, api_key="nobody0"), unknown_key),
            ):
                await gw.start()
                try:
                    with pytest.raises(AuthenticationFailed) as err:
                        await gw.balances()
                    assert err.value.code == code
                finally:
                    await gw.close()
            e.gw.offset_ms = -120_000
            e.gw.clock_retries = 0  # no resync: the venue's own answer
            with pytest.raises(TradingError) as stale:
                await e.gw.balances()
            assert stale.value.code == self.stale_code

        self.run(main)

    def test_secrets_never_appear_in_logs_reprs_or_errors(self) -> None:
        """A debug-logged run (orders, a refused key, a stream) never shows the secret or the
        passphrase: not in log records, reprs, nor error messages."""
        import logging

        records: list[str] = []

        class Grab(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                records.append(self.format(record))

        handler = Grab(logging.DEBUG)
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        texts: list[str] = []

        async def main(e: TradingEnv) -> None:
            bid, _ = e.best()
            texts.extend([repr(e.gw), str(e.gw.credentials), repr(e.gw.credentials)])
            stream = e.gw.updates()
            task = asyncio.ensure_future(collect(stream, lambda xs: len(xs) >= 1))
            await asyncio.sleep(0.3)
            req = e.request(Side.BUY, 0.01, e.tick_price(bid, -100))
            texts.append(repr(await e.gw.place_order(req)))
            texts.append(repr(await task))
            await _close(stream)
            bad = self.make_gateway(e.emu, e.account, secret="x" + e.account.secret)
            await bad.start()
            try:
                await bad.balances()
            except TradingError as exc:
                texts.extend([str(exc), repr(exc), repr(exc.__cause__)])
            finally:
                await bad.close()
            e.ex.faults.inject(FaultKind.HTTP_5XX)
            try:
                await e.gw.place_order(e.request(Side.BUY, 0.01, e.tick_price(bid, -101)))
            except TradingError as exc:
                texts.extend([str(exc), repr(exc)])

        try:
            self.run(main)
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
        self._check_no_secret(records + texts)

    def _check_no_secret(self, texts: list[str]) -> None:
        secrets_ = [self._last_account_secret, self._last_account_passphrase]
        for text in texts:
            for secret in secrets_:
                if secret:
                    assert secret not in text, "a secret leaked into an output"
        assert texts, "nothing was captured"

    _last_account_secret: str = ""
    _last_account_passphrase: str | None = None

    # -- private stream ----------------------------------------------------------------------

    def test_private_stream_reports_orders_and_fills_and_survives_a_drop(self) -> None:
        import pytest

        async def main(e: TradingEnv) -> None:
            bid, _ = e.best()
            stream = e.gw.updates()
            price = e.tick_price(bid, -100)
            req = e.request(Side.BUY, 0.01, price)
            first = asyncio.ensure_future(
                collect(
                    stream,
                    lambda xs: any(
                        u.state.client_id == req.client_id and u.state.status is OrderStatus.FILLED
                        for u in xs
                    ),
                )
            )
            await asyncio.sleep(0.3)  # logged in and subscribed
            await e.gw.place_order(req)
            e.trade(price, 0.004)
            e.trade(price, 0.006)
            ups = [u for u in await first if u.state.client_id == req.client_id]
            assert [u.state.status for u in ups] == [
                OrderStatus.NEW,
                OrderStatus.PARTIALLY_FILLED,
                OrderStatus.FILLED,
            ]
            assert [f.quantity for u in ups for f in u.fills] == pytest.approx([0.004, 0.006])
            assert len({f.trade_id for u in ups for f in u.fills}) == 2
            assert all(u.source == "stream" for u in ups)
            req2 = e.request(Side.BUY, 0.01, price)
            await e.gw.place_order(req2)
            after = asyncio.ensure_future(
                collect(
                    stream,
                    lambda xs: any(u.source == "rest" and u.state.client_id == req2.client_id for u in xs),
                )
            )
            await asyncio.sleep(0.1)
            e.ex.faults.inject(FaultKind.STREAM_DROP)
            e.api.on_tick()
            await e.gw.cancel_order(e.symbol, req2.client_id)
            await after
            await _close(stream)

        self.run(main)

    def test_delayed_fill_report_arrives_late(self) -> None:
        async def main(e: TradingEnv) -> None:
            _, ask = e.best()
            stream = e.gw.updates()
            task = asyncio.ensure_future(collect(stream, lambda xs: any(u.fills for u in xs)))
            await asyncio.sleep(0.3)
            e.ex.faults.inject(FaultKind.DELAY_FILL, param=0.5)
            req = e.request(Side.BUY, 0.001, e.tick_price(ask, 10), tif=TimeInForce.IOC)
            state = await e.gw.place_order(req)
            assert (await e.state(req.client_id)).status is OrderStatus.FILLED
            assert [f for f in await e.gw.recent_fills(e.symbol) if f.order_id == state.order_id] == []
            ups = await task
            assert any(f.order_id == state.order_id for u in ups for f in u.fills)
            assert [f for f in await e.gw.recent_fills(e.symbol) if f.order_id == state.order_id]
            await _close(stream)

        self.run(main)
