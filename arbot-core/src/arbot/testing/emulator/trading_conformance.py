"""The trading conformance suite: what every venue's trading gateway passes against its emulator.

Subclass :class:`TradingConformance` in a connector package's tests (name it ``Test...``) and
implement :meth:`~TradingConformance.make_emulator` and :meth:`~TradingConformance.make_gateway`
(and :meth:`~TradingConformance.private_api` when the emulator's private API is not its
``private`` attribute); set the venue's answer codes and habits in the class attributes. Every
test runs its own event loop, emulator (no ticker: the tests move the market with public trades,
or trade a static book) and gateway over real loopback sockets:

* the lifecycle: place, partial fill, fill, cancel, query by client id, balances after, fees,
  networks; IOC, FOK, market, post-only, cancel all; precision and minimums at the boundary;
* every trading fault of :class:`~arbot.testing.emulator.exchange_faults.FaultKind`, each
  handled: a rejection is an :class:`OrderRejected` with the venue's code; 429 backs off and
  retries; a lost ack, a 5xx after execution and a timeout are reconciled by client id; a
  clock skew is resynced and resent with the same client id; a duplicate client id leads to a
  lookup; an order stuck in NEW stays NEW and cancels; the private stream reports orders and
  fills, survives a drop (reconnect + REST reconcile) and delivers a delayed fill report late;
  a fill made while the stream is down is reported after the reconnect by the REST catch-up;
* the wallet: a withdrawal refused without withdrawal rights and under the network's minimum,
  then debited, charged the network fee, pending until the chain confirms, completed; a deposit
  pending, then credited (or NotSupported where the venue's API has no withdrawals);
* never a double order: each test counts the emulator's orders with the client id;
* bad credentials, stale timestamps and requests changed after signing are refused with the
  venue's codes; secrets never reach a log record, a repr or an error.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, Protocol

import attrs
import pytest

from arbot.connectors.ws import WsSession
from arbot.events import Side
from arbot.testing.emulator.exchange import EmulatedExchange, StaticBook
from arbot.testing.emulator.exchange_faults import FaultKind
from arbot.testing.emulator.exchange_models import Account, Transfer
from arbot.testing.emulator.server import EmulatorServer
from arbot.trading.errors import (
    AmbiguousOrderState,
    AuthenticationFailed,
    NotSupported,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TradingError,
)
from arbot.trading.gateway import WalletGateway
from arbot.trading.rest_gateway import RestTradingGateway
from arbot.trading.signed_gateway import SignedRestGateway
from arbot.trading.signing import ApiCredentials, SignedRequest
from arbot.trading.types import (
    OrderRequest,
    OrderState,
    OrderStatus,
    OrderType,
    OrderUpdate,
    TimeInForce,
    TransferState,
)

__all__ = ["PrivateApi", "TradingConformance", "TradingEnv", "collect", "until"]


class PrivateApi(Protocol):
    """What the suite needs of a venue emulator's private API."""

    @property
    def exchange(self) -> EmulatedExchange:
        """The exchange core."""
        ...

    def create_account(self, balances: Mapping[str, object], **kwargs: Any) -> Account:
        """A funded account."""
        ...

    def on_tick(self) -> None:
        """Match resting orders against the book (and, where the venue's stream pump does not,
        apply a stream drop)."""
        ...

    @property
    def withdraw_keys(self) -> set[str]:
        """API keys with withdrawal rights."""
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

    def order(
        self,
        price: float | None = None,
        *,
        side: Side = Side.BUY,
        tif: TimeInForce = TimeInForce.GTC,
        kind: OrderType = OrderType.LIMIT,
        qty: float | None = None,
        client_id: str | None = None,
    ) -> OrderRequest:
        """An order on the static book: the suite's ``qty`` at its resting price unless given."""
        suite = self.suite
        if price is None and kind is OrderType.LIMIT:
            price = suite.rest_price
        return self.request(
            side, suite.qty if qty is None else qty, price, tif=tif, order_type=kind, client_id=client_id
        )

    async def other_gateway(
        self, *, secret: str | None = None, api_key: str | None = None
    ) -> RestTradingGateway:
        """A second gateway on the test account (``secret``/``api_key`` replaced) sharing the
        markets of :attr:`gw`, its clock synced; the caller closes it."""
        gw = self.suite.make_gateway(
            self.emu, self.suite.credentials(self.account, secret=secret, api_key=api_key)
        )
        gw.markets = dict(self.gw.markets)
        await gw.sync_clock()
        return gw

    async def gather_updates(self) -> tuple[list[OrderUpdate], asyncio.Future[None]]:
        """Start collecting the gateway's order updates into a list (the caller cancels the
        returned task); returns once the private stream has had time to log in and subscribe."""
        updates: list[OrderUpdate] = []

        async def take() -> None:
            async for u in self.gw.updates():
                updates.append(u)

        collector = asyncio.ensure_future(take())
        await asyncio.sleep(0.3)  # logged in and subscribed
        return updates, collector


async def until(cond: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Wait until ``cond()`` holds (polling every 5 ms); fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError(f"{what} not reached within {timeout} s")
        await asyncio.sleep(0.005)


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
    #: The account's (maker, taker) fee rates.
    fee_rates: ClassVar[tuple[float, float]] = (0.001, 0.001)
    #: An asset with at least two deposit/withdrawal networks.
    network_asset: ClassVar[str] = "USDT"
    #: How many networks the emulator lists for :attr:`network_asset`.
    min_networks: ClassVar[int] = 2
    #: The static book of the static-book tests (text prices), their order size and a resting
    #: buy price below the bid.
    bid: ClassVar[str] = "60000"
    ask: ClassVar[str] = "60001"
    rest_price: ClassVar[float] = 59000.0
    qty: ClassVar[float] = 0.01
    #: False for venues whose client id can never be sent twice (Upbit ``identifier``).
    client_id_resendable: ClassVar[bool] = True
    #: False for venues whose signature carries no timestamp (Upbit): no clock to keep.
    signs_time: ClassVar[bool] = True
    #: True where the venue takes a second order with a client id already used (Gate's
    #: ``text``): the gateway looks such an id up before sending instead of relying on a
    #: "duplicate" answer.
    duplicate_ids_accepted: ClassVar[bool] = False
    #: A size and a price whose wire text must be plain decimals (the size ``"0.00005"``
    #: unless the venue's minimum is above it), and the size's expected text.
    wire_order: ClassVar[tuple[float, float, str]] = (5e-05, 200000.0, "0.00005")
    #: A size the gateway refuses before sending (None: one size step, under the venue's
    #: minimum size or notional).
    under_minimum_qty: ClassVar[float | None] = None
    #: How many size steps the precision test's order holds (above the venue's minimums).
    boundary_steps: ClassVar[int] = 1900
    #: False where the venue's fills carry neither the fee nor the maker flag (Upbit and
    #: Bithumb report the fee per order).
    fills_carry_fees: ClassVar[bool] = True
    #: False where the venue's API has no withdrawals (the gateway raises NotSupported).
    withdrawals_supported: ClassVar[bool] = True
    #: False where the venue's withdrawal record does not show the address (Upbit, Bithumb).
    transfers_show_address: ClassVar[bool] = True
    #: The address the wallet test withdraws to (a format the venue accepts).
    withdraw_address: ClassVar[str] = "TXemulatorWithdrawAddress0000000001"

    @abstractmethod
    def make_emulator(self) -> EmulatorServer:
        """A fresh emulator serving :attr:`symbol` (``tick_interval=None``)."""

    def private_api(self, emulator: EmulatorServer) -> PrivateApi:
        """The emulator's private API (its ``private`` attribute by default)."""
        api: PrivateApi = getattr(emulator, "private")  # noqa: B009 - the documented attribute
        return api

    @abstractmethod
    def make_gateway(self, emulator: EmulatorServer, credentials: ApiCredentials) -> RestTradingGateway:
        """The venue's trading gateway pointed at ``emulator`` (not started)."""

    def credentials(
        self, account: Account, *, secret: str | None = None, api_key: str | None = None
    ) -> ApiCredentials:
        """Credentials of an emulator account (``secret``/``api_key`` replaced when given)."""
        return ApiCredentials(
            api_key or account.api_key, secret=secret or account.secret, passphrase=account.passphrase
        )

    # -- harness -----------------------------------------------------------------------------

    def run(
        self,
        main: Callable[[TradingEnv], Awaitable[None]],
        timeout: float = 30.0,
        *,
        static_book: bool = False,
        stream: bool = True,
    ) -> None:
        """Run ``main`` with a fresh environment in its own event loop: on the emulator's own
        book, or on a static book of :attr:`bid`/:attr:`ask`; with the gateway's private stream,
        or (``stream=False``) polling REST where the gateway can choose."""

        async def go() -> None:
            async with self.make_emulator() as emu:
                api = self.private_api(emu)
                if static_book:
                    api.exchange.markets[self.symbol].book = StaticBook(
                        bids=[(self.bid, "0.5"), (str(Decimal(self.bid) - 100), "1")],
                        asks=[(self.ask, "0.5"), (str(Decimal(self.ask) + 100), "1")],
                    )
                account = api.create_account(self.balances)
                self._last_account_secret, self._last_account_passphrase = account.secret, account.passphrase
                gw = self.make_gateway(emu, self.credentials(account))
                if not stream and isinstance(gw, SignedRestGateway):
                    gw.stream_enabled = False
                await gw.start()
                try:
                    await main(TradingEnv(self, emu, api, account, gw))
                finally:
                    await gw.close()

        asyncio.run(asyncio.wait_for(go(), timeout))

    def stream_session(self, gw: RestTradingGateway) -> WsSession | None:
        """The gateway's private-stream WebSocket session, when it keeps one as ``ws``."""
        ws = getattr(gw, "ws", None)
        return ws if isinstance(ws, WsSession) else None

    @staticmethod
    def rate_limit_answers(gw: RestTradingGateway) -> int:
        """How many 429/418 answers the gateway met: its REST client counts each one (where the
        gateway resends itself, it counts them too; where the client resends, the gateway counts
        only those it gave up on)."""
        return max(gw.rest.stats.rate_limited, gw.stats.rate_limited)

    # -- lifecycle ---------------------------------------------------------------------------

    def test_lifecycle_place_partial_fill_fill_cancel_query_balances(self) -> None:
        async def main(e: TradingEnv) -> None:
            bid, ask = e.best()
            price = e.tick_price(bid, -50)
            cid = e.gw.new_client_id()
            placed = await e.gw.place_order(e.request(Side.BUY, 0.5, price, client_id=cid))
            assert placed.status is OrderStatus.NEW and placed.client_id == cid and placed.filled == 0
            bal = await e.gw.balances()
            base, quote = e.symbol.split("/")
            maker, taker = self.fee_rates
            fee_in_base = self.buy_fee_asset == base
            # a venue charging the quote locks the fee too
            assert bal[quote].locked == pytest.approx(0.5 * price * (1 if fee_in_base else 1 + taker))
            e.trade(price, 0.2)
            part = await e.state(cid)
            assert part.status is OrderStatus.PARTIALLY_FILLED and part.filled == pytest.approx(0.2)
            e.trade(price, 1.0)
            done = await e.state(cid)
            assert done.status is OrderStatus.FILLED and done.average_price == pytest.approx(price)
            fills = [f for f in await e.gw.recent_fills(e.symbol) if f.order_id == placed.order_id]
            assert len(fills) == 2 and len({f.trade_id for f in fills}) == 2
            assert {f.fee_asset for f in fills} == {self.buy_fee_asset}
            if self.fills_carry_fees:
                assert all(f.is_maker for f in fills)
                assert sum(f.fee for f in fills) == pytest.approx(0.5 * maker * (1 if fee_in_base else price))
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
            spent = 0.5 * price * (1 if fee_in_base else 1 + maker)
            got = 0.5 * (1 - maker if fee_in_base else 1)
            assert bal[quote].free == pytest.approx(float(self.balances[quote]) - spent)
            assert bal[quote].locked == 0
            assert bal[base].free == pytest.approx(float(self.balances[base]) + got) and bal[base].locked == 0
            fees = await e.gw.trading_fees([e.symbol])
            assert fees[e.symbol].maker == maker and fees[e.symbol].taker == taker
            nets = await e.gw.networks(self.network_asset)
            assert len(nets) >= self.min_networks and all(
                n.withdraw_fee > 0 and n.withdraw_min > 0 for n in nets
            )

        self.run(main)

    def test_ioc_fok_market_post_only_and_cancel_all(self) -> None:
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
        async def main(e: TradingEnv) -> None:
            bid, _ = e.best()
            market = e.gw.market(e.symbol)
            step = Decimal(repr(market.step_size))
            steps = self.boundary_steps
            qty = float(step * steps) + market.step_size * 0.9  # rounds down to whole steps
            price = e.tick_price(bid, -100) + market.tick_size * 0.6  # a buy rounds down
            state = await e.gw.place_order(e.request(Side.BUY, qty, price))
            order = e.ex.get_order(e.account.api_key, client_id=state.client_id)
            assert order.qty == step * steps
            assert order.price == Decimal(repr(e.tick_price(bid, -100)))
            qty, wire_price, text = self.wire_order
            wire = e.gw.prepare(e.request(Side.BUY, qty, wire_price))
            assert wire is not None and wire.quantity == text and "e" not in (wire.price or "")
            sent = e.gw.stats.orders_sent
            with pytest.raises(OrderRejected, match="rounds to 0") as small:
                await e.gw.place_order(e.request(Side.BUY, market.step_size / 10, bid))
            assert small.value.code == "local" and e.gw.stats.orders_sent == sent

        self.run(main)

    # -- faults ------------------------------------------------------------------------------

    def test_injected_rejections_are_rejections(self) -> None:
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
        async def main(e: TradingEnv) -> None:
            bid, _ = e.best()
            e.ex.faults.inject(FaultKind.RATE_LIMIT, count=1, param=0.01)
            req = e.request(Side.BUY, 0.01, e.tick_price(bid, -100))
            if not self.client_id_resendable:  # the id is spent: the caller's retry takes a new one
                with pytest.raises(RateLimited):
                    await e.gw.place_order(req)
                assert e.orders_with(req.client_id) == 0
                req = e.request(Side.BUY, 0.01, e.tick_price(bid, -100))
            state = await e.gw.place_order(req)
            assert state.status is OrderStatus.NEW and e.orders_with(req.client_id) == 1
            assert self.rate_limit_answers(e.gw) == 1
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
                recovered = e.gw.stats.recovered_by_lookup
                state = await e.gw.place_order(req)
                assert state.status is OrderStatus.NEW and state.client_id == req.client_id
                assert e.gw.stats.ambiguous == n and e.gw.stats.recovered_by_lookup == recovered + 1
                again = await e.gw.place_order(req)  # the order manager retries: still one order
                assert again.order_id == state.order_id and e.orders_with(req.client_id) == 1

        self.run(main)

    def test_5xx_without_execution_is_ambiguous_then_a_retry_looks_up_first(self) -> None:
        async def main(e: TradingEnv) -> None:
            bid, _ = e.best()
            e.ex.faults.inject(FaultKind.HTTP_5XX, param=503)
            req = e.request(Side.BUY, 0.01, e.tick_price(bid, -100))
            with pytest.raises(AmbiguousOrderState):
                await e.gw.place_order(req)
            assert e.orders_with(req.client_id) == 0
            lookups = e.gw.stats.lookups
            if not self.client_id_resendable:  # looked up (absent); the spent id is refused
                with pytest.raises(OrderRejected, match="new client id"):
                    await e.gw.place_order(req)
                assert e.gw.stats.lookups == lookups + 1 and e.orders_with(req.client_id) == 0
                return
            state = await e.gw.place_order(req)
            assert e.gw.stats.lookups == lookups + 1
            assert state.status is OrderStatus.NEW and e.orders_with(req.client_id) == 1

        self.run(main)

    def test_timeout_is_ambiguous_and_reconciled_on_retry(self) -> None:
        async def main(e: TradingEnv) -> None:
            bid, _ = e.best()
            e.ex.faults.inject(FaultKind.ACK_LOST)
            e.ex.faults.inject(FaultKind.HTTP_5XX, count=3, param=502, skip=1)  # the lookup fails too
            req = e.request(Side.BUY, 0.01, e.tick_price(bid, -100))
            with pytest.raises(AmbiguousOrderState):
                await e.gw.place_order(req)
            assert e.orders_with(req.client_id) == 1
            for _ in range(3):  # each retry looks the id up first: it fails while the 5xx last
                try:
                    state = await e.gw.place_order(req)
                    break
                except OrderRejected as spent:  # a venue whose ids are never sent twice refuses
                    assert not self.client_id_resendable and "new client id" in str(spent)
            assert state.status is OrderStatus.NEW and e.orders_with(req.client_id) == 1

        self.run(main)

    def test_clock_skew_resyncs_and_resends_with_the_same_client_id(self) -> None:
        async def main(e: TradingEnv) -> None:
            bid, _ = e.best()
            e.ex.faults.inject(FaultKind.CLOCK_SKEW, param=90.0)
            req = e.request(Side.BUY, 0.01, e.tick_price(bid, -100))
            state = await e.gw.place_order(req)
            assert state.status is OrderStatus.NEW and e.orders_with(req.client_id) == 1
            if self.signs_time:  # refused as stale first, then re-timed to the venue's clock
                assert e.gw.stats.clock_skew_retries == 1
                assert e.gw.offset_ms == pytest.approx(90_000, abs=2_000)

        self.run(main)

    def test_duplicate_client_id_leads_to_a_lookup_not_a_new_order(self) -> None:
        async def main(e: TradingEnv) -> None:
            bid, _ = e.best()
            req = e.request(Side.BUY, 0.01, e.tick_price(bid, -100))
            first = await e.gw.place_order(req)
            fresh = await e.other_gateway()  # a restarted gateway resends the request
            try:
                again = await fresh.place_order(req)
                if self.duplicate_ids_accepted:  # looked up first: nothing sent
                    assert fresh.stats.lookups == 1 and fresh.stats.orders_sent == 0
                else:  # sent, answered "duplicate", then looked up
                    assert fresh.stats.duplicates == 1
            finally:
                await fresh.close()
            assert again.order_id == first.order_id
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
        async def main(e: TradingEnv) -> None:
            wrong_secret, unknown_key = self.auth_codes
            for gw, code in (
                (await e.other_gateway(secret="wrong" + e.account.secret), wrong_secret),
                (await e.other_gateway(api_key="nobody0"), unknown_key),
            ):
                try:
                    with pytest.raises(AuthenticationFailed) as err:
                        await gw.balances()
                    assert err.value.code == code
                finally:
                    await gw.close()
            if not self.signs_time:
                return
            e.gw.offset_ms = -120_000
            e.gw.clock_retries = 0  # no resync: the venue's own answer

            async def stay_behind() -> float:
                return e.gw.offset_ms

            setattr(e.gw, "sync_clock", stay_behind)  # noqa: B010 - a resync would not re-time it
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
            bad = await e.other_gateway(secret="x" + e.account.secret)
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
        async def main(e: TradingEnv) -> None:
            bid, _ = e.best()
            stream = e.gw.updates()
            price = e.tick_price(bid, -100)
            req = e.request(Side.BUY, 0.01, price)
            first = asyncio.ensure_future(
                collect(
                    stream,
                    lambda xs: (
                        any(
                            u.state.client_id == req.client_id and u.state.status is OrderStatus.FILLED
                            for u in xs
                        )
                        # a venue may report the last fill after the order's final state
                        and len([f for u in xs if u.state.client_id == req.client_id for f in u.fills]) >= 2
                    ),
                )
            )
            await asyncio.sleep(0.3)  # logged in and subscribed
            await e.gw.place_order(req)
            e.trade(price, 0.004)
            e.trade(price, 0.006)
            ups = [u for u in await first if u.state.client_id == req.client_id]
            statuses = [u.state.status for u in ups]
            # the statuses in the order they were first reported (a venue reporting a fill after
            # the order's state repeats a status: Gate sends the trade after the order's update)
            assert list(dict.fromkeys(statuses)) == [
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

    def test_fill_while_the_private_stream_is_down_is_caught_up_through_rest(self) -> None:
        """The stream is cut, the resting order fills while it is down (the stream never carries
        that fill), and after the reconnect the gateway's REST catch-up reports the order
        filled with the venue's trade ids: no fill is missed."""

        async def main(e: TradingEnv) -> None:
            gw = e.gw
            updates, collector = await e.gather_updates()
            req = e.order()
            placed = await gw.place_order(req)
            await until(
                lambda: any(u.state.client_id == req.client_id and u.source == "stream" for u in updates),
                what="the new order on the private stream",
            )
            assert e.ex.drop_streams() >= 1  # cut now: the fill below never reaches a stream
            e.trade(self.rest_price, self.qty)

            def caught_up() -> list[OrderUpdate]:
                return [
                    u
                    for u in updates
                    if u.source == "rest"
                    and u.state.order_id == placed.order_id
                    and u.state.status is OrderStatus.FILLED
                    and u.fills
                ]

            await until(lambda: bool(caught_up()), what="the REST catch-up after the reconnect")
            venue_ids = {
                f.trade_id for f in await gw.recent_fills(self.symbol) if f.order_id == placed.order_id
            }
            assert venue_ids and {f.trade_id for u in caught_up() for f in u.fills} == venue_ids
            assert not any(
                f.order_id == placed.order_id for u in updates if u.source == "stream" for f in u.fills
            ), "the fill was on the stream: the drop did not hide it"
            collector.cancel()
            assert e.orders_with(req.client_id) == 1

        self.run(main, static_book=True)

    # -- wallet ------------------------------------------------------------------------------

    def test_withdrawal_with_fee_minimum_confirmation_and_deposit_history(self) -> None:
        """A key without withdrawal rights is refused, so is an amount under the network's
        minimum; a withdrawal is debited at once, charged the network's fee, pending until the
        chain confirms it, then completed; a deposit is listed pending, then credited. Every
        request is signed as the venue signs (the emulator checks it)."""

        async def main(e: TradingEnv) -> None:
            gw = e.gw
            assert isinstance(gw, WalletGateway)
            asset = self.network_asset
            address = self.withdraw_address
            if not self.withdrawals_supported:
                assert not gw.supports_withdrawals
                with pytest.raises(NotSupported):
                    await gw.withdraw(asset, asset, 1.0, address)
                return
            assert gw.supports_withdrawals
            for specs in e.ex.networks.values():  # the chain confirms when the test says so
                specs[:] = [attrs.evolve(s, confirm_seconds=3600.0) for s in specs]
            net = next(n for n in await gw.networks(asset) if n.withdraw_enabled)
            amount = max(net.withdraw_min * 3, net.withdraw_fee * 3)
            key = e.account.api_key

            def withdrawals() -> list[Transfer]:
                return e.ex.transfer_history(key, "withdrawal")

            with pytest.raises(TradingError) as forbidden:  # the key has no withdrawal rights
                await gw.withdraw(asset, net.network, amount, address)
            assert not isinstance(forbidden.value, AmbiguousOrderState) and withdrawals() == []
            e.api.withdraw_keys.add(key)
            with pytest.raises(TradingError) as small:
                await gw.withdraw(asset, net.network, net.withdraw_min / 2, address)
            assert not isinstance(small.value, AmbiguousOrderState) and withdrawals() == []
            free0 = (await gw.balances())[asset].free
            wid = await gw.withdraw(asset, net.network, amount, address)
            [sent] = withdrawals()
            got = await gw.withdrawal(wid)
            assert got.kind == "withdrawal" and got.state is TransferState.PENDING
            assert (got.asset, got.network) == (asset, net.network)
            assert got.address == (address if self.transfers_show_address else "")
            assert got.amount == pytest.approx(amount) and got.fee == pytest.approx(net.withdraw_fee)
            assert (await gw.balances())[asset].free == pytest.approx(free0 - amount)
            assert not await gw.withdrawal_completed(wid)
            sent.completes_at = e.ex.clock()  # the chain confirms
            assert await gw.withdrawal_completed(wid)
            assert (await gw.withdrawal(wid)).state is TransferState.COMPLETED
            with pytest.raises(OrderNotFound):
                await gw.withdrawal("999999")
            deposit = e.ex.deposit(key, asset, net.network, Decimal(repr(amount)))
            [pending] = [d for d in await gw.deposits(asset) if d.state is TransferState.PENDING]
            assert pending.amount == pytest.approx(amount) and pending.network == net.network
            assert (await gw.balances())[asset].free == pytest.approx(free0 - amount)
            deposit.completes_at = e.ex.clock()
            [done] = await gw.deposits(asset)
            assert done.state is TransferState.COMPLETED and done.txid == deposit.txid
            assert (await gw.balances())[asset].free == pytest.approx(free0)
            assert len(withdrawals()) == 1

        self.run(main, static_book=True, stream=False)

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

    # -- on a static book ----------------------------------------------------------------------

    def test_static_book_lifecycle_with_balances_fees_and_stream_updates(self) -> None:
        async def main(e: TradingEnv) -> None:
            gw, ex, key = e.gw, e.ex, e.account.api_key
            updates, collector = await e.gather_updates()
            base, quote = self.symbol.split("/")
            free_base0, free_quote0 = ex.balances(key)[base][0], ex.balances(key)[quote][0]
            req = e.order()
            placed = await gw.place_order(req)
            assert placed.status is OrderStatus.NEW and placed.client_id == req.client_id
            state = await gw.get_order(self.symbol, req.client_id)
            assert state.status is OrderStatus.NEW and state.filled == 0.0
            assert [o.client_id for o in await gw.open_orders(self.symbol)] == [req.client_id]
            part = Decimal(repr(self.qty)) * Decimal("0.4")
            ex.trade(self.symbol, Decimal(repr(self.rest_price)), part)
            state = await gw.get_order(self.symbol, req.client_id)
            assert state.status is OrderStatus.PARTIALLY_FILLED and abs(state.filled - float(part)) < 1e-12
            ex.trade(self.symbol, Decimal(repr(self.rest_price)), Decimal(repr(self.qty)))
            state = await gw.get_order(self.symbol, req.client_id)
            assert state.status is OrderStatus.FILLED and abs(state.filled - self.qty) < 1e-12
            fills = await gw.recent_fills(self.symbol)
            assert len(fills) == 2 and len({f.trade_id for f in fills}) == 2
            assert abs(sum(f.quantity for f in fills) - self.qty) < 1e-12
            balances = await gw.balances()
            cost = Decimal(repr(self.qty)) * Decimal(repr(self.rest_price))
            assert balances[quote].free < float(free_quote0) - float(cost) * 0.999
            assert balances[base].free > float(free_base0)
            assert balances[quote].free + balances[quote].locked <= float(free_quote0)
            # a second order, cancelled by client id: the lock is released
            req2 = e.order()
            await gw.place_order(req2)
            assert (await gw.balances())[quote].locked > 0
            cancelled = await gw.cancel_order(self.symbol, req2.client_id)
            assert cancelled.status is OrderStatus.CANCELLED
            assert (await gw.balances())[quote].locked == 0
            assert await gw.open_orders(self.symbol) == []
            fees = await gw.trading_fees([self.symbol])
            assert fees[self.symbol].taker > 0
            await until(
                lambda: (
                    any(u.fills for u in updates)
                    and any(
                        u.state.client_id == req2.client_id and u.state.status is OrderStatus.CANCELLED
                        for u in updates
                    )
                ),
                what="stream updates",
            )
            trade_ids = {f.trade_id for u in updates for f in u.fills}
            assert trade_ids == {f.trade_id for f in fills}
            collector.cancel()
            assert e.orders_with(req.client_id) == 1

        self.run(main, static_book=True)

    def test_ioc_takes_and_expires_the_rest(self) -> None:
        async def main(e: TradingEnv) -> None:
            req = e.order(float(self.ask), tif=TimeInForce.IOC, qty=1.0)
            await e.gw.place_order(req)
            state = await e.state(req.client_id)
            assert abs(state.filled - 0.5) < 1e-12  # the ask level holds 0.5
            assert state.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)

        self.run(main, static_book=True, stream=False)

    def test_fok_market_post_only_and_networks_on_a_static_book(self) -> None:
        async def main(e: TradingEnv) -> None:
            gw = e.gw
            fok = e.order(float(self.ask), tif=TimeInForce.FOK, qty=1.0)  # only 0.5 there
            await gw.place_order(fok)
            state = await e.state(fok.client_id)
            assert state.filled == 0.0 and state.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
            sell = e.order(float(self.bid), side=Side.SELL, kind=OrderType.MARKET)
            await gw.place_order(sell)
            state = await e.state(sell.client_id)
            assert state.status is OrderStatus.FILLED and abs(state.filled - self.qty) < 1e-12
            buy = e.order(float(self.ask), kind=OrderType.MARKET)  # price: the reference
            await gw.place_order(buy)
            state = await e.state(buy.client_id)
            assert state.status is OrderStatus.FILLED and state.filled > 0
            maker = e.order(tif=TimeInForce.POST_ONLY)
            assert (await gw.place_order(maker)).status is OrderStatus.NEW
            taker = e.order(float(self.ask), tif=TimeInForce.POST_ONLY)
            if self.post_only_reject_code is not None:
                with pytest.raises(OrderRejected):
                    await gw.place_order(taker)
                assert e.orders_with(taker.client_id) == 0
            else:  # accepted, then cancelled unfilled
                await gw.place_order(taker)
                got = await e.state(taker.client_id)
                assert got.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED) and got.filled == 0
            base = self.symbol.split("/")[0]
            nets = await gw.networks(base)
            assert nets and all(n.asset == base and n.withdraw_fee > 0 and n.withdraw_min > 0 for n in nets)

        self.run(main, static_book=True, stream=False)

    def test_precision_and_minimums_before_sending(self) -> None:
        async def main(e: TradingEnv) -> None:
            gw = e.gw
            info = gw.market(self.symbol)
            odd = self.rest_price + info.tick_size * 0.37
            req = e.order(odd, qty=self.qty + info.step_size * 0.5)
            await gw.place_order(req)
            snap = e.ex.get_order(e.account.api_key, client_id=req.client_id)
            assert snap.price is not None and snap.price % Decimal(repr(info.tick_size)) == 0
            assert snap.price <= Decimal(repr(odd))  # a buy never pays more than asked
            assert "E" not in str(snap.qty) and snap.qty == Decimal(repr(self.qty))
            sent = e.emu.stats.http_requests
            with pytest.raises(OrderRejected, match=r"minimum|under|rounds to 0"):
                await gw.place_order(e.order(qty=self.under_minimum_qty or info.step_size))
            assert e.emu.stats.http_requests == sent  # refused before anything was sent

        self.run(main, static_book=True, stream=False)

    # -- faults on a static book ---------------------------------------------------------------

    def test_lost_ack_is_ambiguous_and_the_retry_finds_the_order(self) -> None:
        """A lost ack and a 5xx after execution leave the order ambiguous; the gateway looks the
        client id up (at once, and again on a retry) and finds the order: never a second one."""

        async def main(e: TradingEnv) -> None:
            gw = e.gw
            for kind in (FaultKind.ACK_LOST, FaultKind.HTTP_5XX_EXECUTED):
                req = e.order()
                e.ex.faults.inject(kind)
                ambiguous = gw.stats.ambiguous
                try:
                    first: OrderState | None = await gw.place_order(req)  # the immediate lookup
                except AmbiguousOrderState:
                    first = None
                assert gw.stats.ambiguous == ambiguous + 1, f"{kind.value}: not seen as ambiguous"
                again = await gw.place_order(req)  # a retry looks the order up first
                assert again.client_id == req.client_id and again.status is OrderStatus.NEW
                assert first is None or first.order_id == again.order_id
                assert e.orders_with(req.client_id) == 1, f"{kind.value}: placed twice"

        self.run(main, static_book=True, stream=False)

    def test_5xx_before_execution_is_ambiguous_and_never_doubles(self) -> None:
        async def main(e: TradingEnv) -> None:
            req = e.order()
            e.ex.faults.inject(FaultKind.HTTP_5XX, param=503)
            with pytest.raises(AmbiguousOrderState):
                await e.gw.place_order(req)
            assert e.orders_with(req.client_id) == 0
            if self.client_id_resendable:
                state = await e.gw.place_order(req)  # looked up (absent), then sent once
                assert state.status is OrderStatus.NEW
                assert e.orders_with(req.client_id) == 1
            else:
                with pytest.raises(OrderRejected, match="new client id"):
                    await e.gw.place_order(req)
                assert e.orders_with(req.client_id) == 0

        self.run(main, static_book=True, stream=False)

    def test_rate_limit_with_retry_after_backs_off_and_resends(self) -> None:
        async def main(e: TradingEnv) -> None:
            gw = e.gw
            e.ex.faults.inject(FaultKind.RATE_LIMIT, param=0.2)
            throttled = self.rate_limit_answers(gw)
            req = e.order()
            if self.client_id_resendable:
                state = await gw.place_order(req)
                assert state.status is OrderStatus.NEW
                assert self.rate_limit_answers(gw) > throttled  # waited for Retry-After
                assert e.orders_with(req.client_id) == 1
            else:
                with pytest.raises(TradingError):
                    await gw.place_order(req)
                assert self.rate_limit_answers(gw) >= throttled
                state = await gw.place_order(e.order())  # a new id after the wait
                assert self.rate_limit_answers(gw) > throttled and state.status is OrderStatus.NEW

        self.run(main, static_book=True, stream=False)

    def test_rejections_on_a_static_book_are_definite(self) -> None:
        async def main(e: TradingEnv) -> None:
            for kind in (
                FaultKind.REJECT_BALANCE,
                FaultKind.REJECT_MIN_NOTIONAL,
                FaultKind.REJECT_PRICE_FILTER,
            ):
                req = e.order()
                e.ex.faults.inject(kind)
                with pytest.raises(OrderRejected):
                    await e.gw.place_order(req)
                assert e.orders_with(req.client_id) == 0
            with pytest.raises(OrderRejected):
                await e.gw.place_order(e.order(qty=1e6))

        self.run(main, static_book=True, stream=False)

    def test_duplicate_client_id_on_the_same_gateway_leads_to_a_lookup(self) -> None:
        async def main(e: TradingEnv) -> None:
            req = e.order()
            first = await e.gw.place_order(req)
            try:
                again: OrderState | None = await e.gw.place_order(req)
            except OrderRejected:
                again = None  # venues that reject a reused id without saying "duplicate"
            if again is not None:
                assert again.order_id == first.order_id or again.client_id == req.client_id
            assert e.orders_with(req.client_id) == 1

        self.run(main, static_book=True, stream=False)

    def test_stuck_order_stays_new_through_a_crossing_trade_until_cancelled(self) -> None:
        async def main(e: TradingEnv) -> None:
            e.ex.faults.inject(FaultKind.STUCK_NEW)
            req = e.order()
            await e.gw.place_order(req)
            e.ex.trade(self.symbol, Decimal(repr(self.rest_price)), Decimal(repr(self.qty)))
            assert (await e.state(req.client_id)).status is OrderStatus.NEW
            assert (await e.gw.cancel_order(self.symbol, req.client_id)).status is OrderStatus.CANCELLED

        self.run(main, static_book=True, stream=False)

    def test_wrong_secret_is_refused_for_reads_and_orders(self) -> None:
        async def main(e: TradingEnv) -> None:
            bad = await e.other_gateway(secret="not-the-secret-0123456789abcdef0123")
            try:
                with pytest.raises(AuthenticationFailed):
                    await bad.balances()
                req = e.order()
                with pytest.raises(AuthenticationFailed):
                    await bad.place_order(req)
                assert e.orders_with(req.client_id) == 0
            finally:
                await bad.close()

        self.run(main, static_book=True, stream=False)

    def test_secrets_stay_out_of_logs_after_a_lost_ack_and_a_cancel(self) -> None:
        """A debug-logged run (orders, a cancel, a refused wrong-secret request, a lost ack)
        never shows the secret or the passphrase in a log record, a repr or an error."""
        records: list[str] = []

        class Keep(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                records.append(self.format(record))

        texts: list[str] = []

        async def main(e: TradingEnv) -> None:
            gw = e.gw
            req = e.order()
            texts.extend([repr(gw), str(gw), repr(await gw.place_order(req))])
            e.ex.faults.inject(FaultKind.ACK_LOST)
            try:
                await gw.place_order(e.order())
            except TradingError as exc:
                texts.extend([str(exc), repr(exc)])
            await gw.cancel_order(self.symbol, req.client_id)
            bad = await e.other_gateway(secret="x" * 40)
            try:
                await bad.balances()
            except TradingError as exc:
                texts.extend([str(exc), repr(exc), repr(bad)])
            finally:
                await bad.close()

        handler = Keep(logging.DEBUG)
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            self.run(main, static_book=True)
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
        assert records, "nothing was logged at DEBUG"
        self._check_no_secret(records + texts)

    def test_tampered_request_is_refused(self) -> None:
        """A request changed after signing (another size in the body, another query) is refused:
        the emulator checks that the signature covers exactly what arrived."""

        async def main(e: TradingEnv) -> None:
            gw = e.gw
            req = e.order()
            quantity = gw.prepare(req)
            assert quantity is not None
            name = "sign" if isinstance(gw, SignedRestGateway) else "_sign"
            sign: Callable[..., SignedRequest] = getattr(gw, name)

            def tampered(*args: Any) -> SignedRequest:
                signed = sign(*args)
                text = signed.body
                if text is not None:
                    text = text.replace(quantity.quantity, "12345")
                qs = signed.query + "&x=1" if signed.query else signed.query
                return SignedRequest(signed.method, signed.path, qs, text, signed.headers)

            setattr(gw, name, tampered)  # the test replaces the signer's output
            with pytest.raises(AuthenticationFailed):
                await gw.place_order(req)
            with pytest.raises(AuthenticationFailed):
                await gw.get_order(self.symbol, req.client_id)
            assert e.orders_with(req.client_id) == 0

        self.run(main, static_book=True, stream=False)

    def test_stream_drop_reconnects_and_delayed_fills_arrive(self) -> None:
        async def main(e: TradingEnv) -> None:
            gw = e.gw
            updates, collector = await e.gather_updates()
            ws = self.stream_session(gw)
            connects = ws.stats.connects if ws is not None else 0
            e.ex.faults.inject(FaultKind.STREAM_DROP)
            e.api.on_tick()
            if ws is not None:
                await until(lambda: ws.stats.connects > connects and ws.connected, what="stream reconnect")
            await asyncio.sleep(0.3)  # the re-subscription
            e.ex.faults.inject(FaultKind.DELAY_FILL, param=0.3)
            req = e.order()
            placed = await gw.place_order(req)
            e.ex.trade(self.symbol, Decimal(repr(self.rest_price)), Decimal(repr(self.qty)))
            await until(
                lambda: any(
                    f.client_id == req.client_id or f.order_id == placed.order_id
                    for u in updates
                    for f in u.fills
                ),
                what="the delayed fill on the reconnected stream",
            )
            collector.cancel()

        self.run(main, static_book=True)

    def test_clock_skew_resyncs_and_resends(self) -> None:
        async def main(e: TradingEnv) -> None:
            e.ex.faults.inject(FaultKind.CLOCK_SKEW, param=120.0)
            req = e.order()
            state = await e.gw.place_order(req)
            assert state.status is OrderStatus.NEW
            assert e.orders_with(req.client_id) == 1
            if self.signs_time:  # refused as stale first, then re-timed to the venue's clock
                assert abs(e.gw.offset_ms / 1000.0 - 120.0) < 5.0, e.gw.offset_ms

        self.run(main, static_book=True, stream=False)
