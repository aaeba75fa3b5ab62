"""The order lifecycle a :class:`~arbot.trading.signed_gateway.SignedRestGateway` passes against its
venue emulator, over sockets (KuCoin, Gate, Upbit, Bithumb; the gateways written directly on
:class:`~arbot.trading.rest_gateway.RestTradingGateway` use :mod:`.trading_conformance`).

Subclass :class:`GatewayLifecycle` in a venue package's tests and fill in the factories:
:meth:`~GatewayLifecycle.make_emulator` (its ``private`` attribute holds the
:class:`~arbot.testing.emulator.exchange.EmulatedExchange` as ``exchange`` and a funded
``account``) and :meth:`~GatewayLifecycle.make_gateway`. The suite places, partially fills,
fills, cancels and queries orders by client id, checks balances afterwards, injects each trading
fault (lost ack, 5xx before and after execution, 429 with Retry-After, clock skew, rejections,
duplicate client ids, a dropped private stream, a stuck order, a delayed fill report) and checks
that no order is ever placed twice.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import ClassVar, Protocol

import pytest

from arbot.events import Side
from arbot.testing.emulator.exchange import EmulatedExchange, StaticBook
from arbot.testing.emulator.exchange_faults import FaultKind
from arbot.testing.emulator.exchange_models import Account
from arbot.testing.emulator.server import EmulatorServer
from arbot.trading.errors import (
    AmbiguousOrderState,
    AuthenticationFailed,
    OrderRejected,
    TradingError,
)
from arbot.trading.signed_gateway import SignedRestGateway
from arbot.trading.signing import ApiCredentials, SignedRequest
from arbot.trading.types import OrderRequest, OrderStatus, OrderType, OrderUpdate, TimeInForce

__all__ = ["GatewayLifecycle", "PrivateApi", "until"]


class PrivateApi(Protocol):
    """What the suite needs of a venue emulator's private API: the exchange and a funded account."""

    @property
    def exchange(self) -> EmulatedExchange:
        """The exchange core."""
        ...

    @property
    def account(self) -> Account:
        """The funded test account."""
        ...


async def until(cond: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Wait until ``cond()`` holds (polling every 5 ms); fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError(f"{what} not reached within {timeout} s")
        await asyncio.sleep(0.005)


class GatewayLifecycle(ABC):
    """The lifecycle and fault tests (see the module docstring). Class attributes describe the
    market the suite trades: ``symbol``, a static book ``bid``/``ask`` (text), an order size
    ``qty`` and a resting buy price ``rest_price`` below the bid."""

    symbol: ClassVar[str] = "BTC/USDT"
    bid: ClassVar[str] = "60000"
    ask: ClassVar[str] = "60001"
    rest_price: ClassVar[float] = 59000.0
    qty: ClassVar[float] = 0.01
    #: False for venues whose client id can never be sent twice (Upbit ``identifier``)
    client_id_resendable: ClassVar[bool] = True
    #: False for venues whose signature carries no timestamp (Upbit): no clock to keep
    signs_time: ClassVar[bool] = True

    # -- to implement ------------------------------------------------------------------------

    @abstractmethod
    def make_emulator(self) -> EmulatorServer:
        """The venue emulator (not started), without ticking (``tick_interval=None``)."""

    @abstractmethod
    def make_gateway(self, emulator: EmulatorServer, credentials: ApiCredentials) -> SignedRestGateway:
        """The venue's trading gateway pointed at ``emulator``."""

    def private(self, emulator: EmulatorServer) -> PrivateApi:
        """The emulator's private API (the ``private`` attribute by default)."""
        api: PrivateApi = getattr(emulator, "private")  # noqa: B009 - the documented attribute
        return api

    def credentials(self, account: Account) -> ApiCredentials:
        """Credentials of an emulator account."""
        return ApiCredentials(account.api_key, secret=account.secret, passphrase=account.passphrase)

    # -- harness -----------------------------------------------------------------------------

    @asynccontextmanager
    async def session(
        self, *, stream: bool = True, secret: str | None = None
    ) -> AsyncIterator[tuple[EmulatorServer, PrivateApi, SignedRestGateway]]:
        """A started emulator with a static book, and a started gateway on its test account."""
        emulator = self.make_emulator()
        await emulator.start()
        api = self.private(emulator)
        api.exchange.markets[self.symbol].book = StaticBook(
            bids=[(self.bid, "0.5"), (str(Decimal(self.bid) - 100), "1")],
            asks=[(self.ask, "0.5"), (str(Decimal(self.ask) + 100), "1")],
        )
        creds = self.credentials(api.account)
        if secret is not None:
            creds = ApiCredentials(creds.api_key, secret=secret, passphrase=creds.passphrase_value() or None)
        gateway = self.make_gateway(emulator, creds)
        try:
            if not stream:
                setattr(gateway, "stream_enabled", False)  # noqa: B010 - every gateway of this kit has it
            yield emulator, api, gateway
        finally:
            await gateway.close()
            await emulator.stop()

    def request(
        self,
        gateway: SignedRestGateway,
        price: float | None = None,
        *,
        side: Side = Side.BUY,
        tif: TimeInForce = TimeInForce.GTC,
        kind: OrderType = OrderType.LIMIT,
        qty: float | None = None,
        client_id: str | None = None,
    ) -> OrderRequest:
        """An order of the suite's market."""
        return OrderRequest(
            gateway.venue,
            self.symbol,
            side,
            kind,
            self.qty if qty is None else qty,
            client_id or gateway.new_client_id(),
            self.rest_price if price is None and kind is OrderType.LIMIT else price,
            tif,
        )

    def orders_with(self, api: PrivateApi, client_id: str) -> int:
        """How many orders of the test account carry ``client_id`` (never more than one)."""
        return sum(1 for o in api.exchange.all_orders(api.account.api_key) if o.client_id == client_id)

    def run(self, scenario: Callable[[], Awaitable[None]]) -> None:
        """Run one scenario with a 30 s bound."""
        asyncio.run(asyncio.wait_for(scenario(), 30.0))

    # -- the lifecycle -----------------------------------------------------------------------

    def test_lifecycle_place_partial_fill_fill_cancel_query_balances(self) -> None:
        async def scenario() -> None:
            async with self.session() as (_emu, api, gw):
                await gw.start()
                updates: list[OrderUpdate] = []

                async def collect() -> None:
                    async for u in gw.updates():
                        updates.append(u)

                collector = asyncio.ensure_future(collect())
                ex, key = api.exchange, api.account.api_key
                base, quote = self.symbol.split("/")
                free_base0, free_quote0 = ex.balances(key)[base][0], ex.balances(key)[quote][0]
                req = self.request(gw)
                placed = await gw.place_order(req)
                assert placed.status is OrderStatus.NEW and placed.client_id == req.client_id
                state = await gw.get_order(self.symbol, req.client_id)
                assert state.status is OrderStatus.NEW and state.filled == 0.0
                assert [o.client_id for o in await gw.open_orders(self.symbol)] == [req.client_id]
                part = Decimal(repr(self.qty)) * Decimal("0.4")
                ex.trade(self.symbol, Decimal(repr(self.rest_price)), part)
                state = await gw.get_order(self.symbol, req.client_id)
                assert (
                    state.status is OrderStatus.PARTIALLY_FILLED and abs(state.filled - float(part)) < 1e-12
                )
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
                req2 = self.request(gw)
                await gw.place_order(req2)
                assert (await gw.balances())[quote].locked > 0
                cancelled = await gw.cancel_order(self.symbol, req2.client_id)
                assert cancelled.status is OrderStatus.CANCELLED
                assert (await gw.balances())[quote].locked == 0
                assert await gw.open_orders(self.symbol) == []
                fees = await gw.trading_fees([self.symbol])
                assert fees[self.symbol].taker > 0
                if getattr(gw, "stream_enabled", False):
                    await until(
                        lambda: (
                            any(u.fills for u in updates)
                            and any(
                                u.state.client_id == req2.client_id
                                and u.state.status is OrderStatus.CANCELLED
                                for u in updates
                            )
                        ),
                        what="stream updates",
                    )
                    trade_ids = {f.trade_id for u in updates for f in u.fills}
                    assert trade_ids == {f.trade_id for f in fills}
                collector.cancel()
                assert self.orders_with(api, req.client_id) == 1

        self.run(scenario)

    def test_ioc_takes_and_expires_the_rest(self) -> None:
        async def scenario() -> None:
            async with self.session(stream=False) as (_emu, _api, gw):
                await gw.start()
                req = self.request(gw, float(self.ask), tif=TimeInForce.IOC, qty=1.0)
                await gw.place_order(req)
                state = await gw.get_order(self.symbol, req.client_id)
                assert abs(state.filled - 0.5) < 1e-12  # the ask level holds 0.5
                assert state.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)

        self.run(scenario)

    def test_fok_market_post_only_and_networks(self) -> None:
        async def scenario() -> None:
            async with self.session(stream=False) as (_emu, api, gw):
                await gw.start()
                fok = self.request(gw, float(self.ask), tif=TimeInForce.FOK, qty=1.0)  # only 0.5 there
                await gw.place_order(fok)
                state = await gw.get_order(self.symbol, fok.client_id)
                assert state.filled == 0.0 and state.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
                sell = self.request(gw, float(self.bid), side=Side.SELL, kind=OrderType.MARKET)
                await gw.place_order(sell)
                state = await gw.get_order(self.symbol, sell.client_id)
                assert state.status is OrderStatus.FILLED and abs(state.filled - self.qty) < 1e-12
                buy = self.request(gw, float(self.ask), kind=OrderType.MARKET)  # price: the reference
                await gw.place_order(buy)
                state = await gw.get_order(self.symbol, buy.client_id)
                assert state.status is OrderStatus.FILLED and state.filled > 0
                maker = self.request(gw, tif=TimeInForce.POST_ONLY)
                assert (await gw.place_order(maker)).status is OrderStatus.NEW
                taker = self.request(gw, float(self.ask), tif=TimeInForce.POST_ONLY)
                with pytest.raises(OrderRejected):
                    await gw.place_order(taker)
                assert self.orders_with(api, taker.client_id) == 0
                base = self.symbol.split("/")[0]
                nets = await gw.networks(base)
                assert nets and all(
                    n.asset == base and n.withdraw_fee > 0 and n.withdraw_min > 0 for n in nets
                )

        self.run(scenario)

    def test_precision_and_minimums_before_sending(self) -> None:
        async def scenario() -> None:
            async with self.session(stream=False) as (emu, api, gw):
                await gw.start()
                info = gw.market(self.symbol)
                odd = self.rest_price + info.tick_size * 0.37
                req = self.request(gw, odd, qty=self.qty + info.step_size * 0.5)
                await gw.place_order(req)
                snap = api.exchange.get_order(api.account.api_key, client_id=req.client_id)
                assert snap.price is not None and snap.price % Decimal(repr(info.tick_size)) == 0
                assert snap.price <= Decimal(repr(odd))  # a buy never pays more than asked
                assert "E" not in str(snap.qty) and snap.qty == Decimal(repr(self.qty))
                sent = emu.stats.http_requests
                with pytest.raises(OrderRejected, match=r"minimum|under"):
                    await gw.place_order(self.request(gw, qty=info.step_size))
                assert emu.stats.http_requests == sent  # refused before anything was sent

        self.run(scenario)

    # -- faults ------------------------------------------------------------------------------

    def test_lost_ack_is_ambiguous_and_the_retry_finds_the_order(self) -> None:
        """A lost ack and a 5xx after execution leave the order ambiguous; the gateway looks the
        client id up (at once, and again on a retry) and finds the order: never a second one."""

        async def scenario() -> None:
            async with self.session(stream=False) as (_emu, api, gw):
                await gw.start()
                for kind in (FaultKind.ACK_LOST, FaultKind.HTTP_5XX_EXECUTED):
                    req = self.request(gw)
                    api.exchange.faults.inject(kind)
                    ambiguous = gw.stats.ambiguous
                    try:
                        first = await gw.place_order(req)  # recovered by the immediate lookup
                    except AmbiguousOrderState:
                        first = None
                    assert gw.stats.ambiguous == ambiguous + 1, f"{kind.value}: not seen as ambiguous"
                    again = await gw.place_order(req)  # a retry looks the order up first
                    assert again.client_id == req.client_id and again.status is OrderStatus.NEW
                    assert first is None or first.order_id == again.order_id
                    assert self.orders_with(api, req.client_id) == 1, f"{kind.value}: placed twice"

        self.run(scenario)

    def test_5xx_before_execution_is_ambiguous_and_never_doubles(self) -> None:
        async def scenario() -> None:
            async with self.session(stream=False) as (_emu, api, gw):
                await gw.start()
                req = self.request(gw)
                api.exchange.faults.inject(FaultKind.HTTP_5XX, param=503)
                try:
                    await gw.place_order(req)
                except AmbiguousOrderState:
                    pass
                else:
                    raise AssertionError("a 503 was answered as definite")
                assert self.orders_with(api, req.client_id) == 0
                if self.client_id_resendable:
                    state = await gw.place_order(req)  # looked up (absent), then sent once
                    assert state.status is OrderStatus.NEW
                    assert self.orders_with(api, req.client_id) == 1
                else:
                    with pytest.raises(OrderRejected, match="new client id"):
                        await gw.place_order(req)
                    assert self.orders_with(api, req.client_id) == 0

        self.run(scenario)

    def test_rate_limit_backs_off_and_resends(self) -> None:
        async def scenario() -> None:
            async with self.session(stream=False) as (_emu, api, gw):
                await gw.start()
                api.exchange.faults.inject(FaultKind.RATE_LIMIT, param=0.2)
                throttled = gw.limiter.throttled
                req = self.request(gw)
                if self.client_id_resendable:
                    state = await gw.place_order(req)
                    assert state.status is OrderStatus.NEW
                    assert gw.limiter.throttled > throttled  # waited for Retry-After
                    assert self.orders_with(api, req.client_id) == 1
                else:
                    with pytest.raises(TradingError):
                        await gw.place_order(req)
                    assert gw.limiter.throttled >= throttled
                    state = await gw.place_order(self.request(gw))  # a new id after the wait
                    assert gw.limiter.throttled > throttled and state.status is OrderStatus.NEW

        self.run(scenario)

    def test_rejections_are_definite(self) -> None:
        async def scenario() -> None:
            async with self.session(stream=False) as (_emu, api, gw):
                await gw.start()
                for kind in (
                    FaultKind.REJECT_BALANCE,
                    FaultKind.REJECT_MIN_NOTIONAL,
                    FaultKind.REJECT_PRICE_FILTER,
                ):
                    req = self.request(gw)
                    api.exchange.faults.inject(kind)
                    with pytest.raises(OrderRejected):
                        await gw.place_order(req)
                    assert self.orders_with(api, req.client_id) == 0
                big = self.request(gw, qty=1e6)
                with pytest.raises(OrderRejected):
                    await gw.place_order(big)

        self.run(scenario)

    def test_duplicate_client_id_leads_to_a_lookup(self) -> None:
        async def scenario() -> None:
            async with self.session(stream=False) as (_emu, api, gw):
                await gw.start()
                req = self.request(gw)
                first = await gw.place_order(req)
                try:
                    again = await gw.place_order(req)
                except OrderRejected:
                    again = None  # venues that reject a reused id without saying "duplicate"
                if again is not None:
                    assert again.order_id == first.order_id or again.client_id == req.client_id
                assert self.orders_with(api, req.client_id) == 1

        self.run(scenario)

    def test_stuck_order_stays_new_until_cancelled(self) -> None:
        async def scenario() -> None:
            async with self.session(stream=False) as (_emu, api, gw):
                await gw.start()
                api.exchange.faults.inject(FaultKind.STUCK_NEW)
                req = self.request(gw)
                await gw.place_order(req)
                api.exchange.trade(self.symbol, Decimal(repr(self.rest_price)), Decimal(repr(self.qty)))
                assert (await gw.get_order(self.symbol, req.client_id)).status is OrderStatus.NEW
                assert (await gw.cancel_order(self.symbol, req.client_id)).status is OrderStatus.CANCELLED

        self.run(scenario)

    def test_wrong_secret_is_refused(self) -> None:
        async def scenario() -> None:
            async with self.session(stream=False, secret="not-the-secret-0123456789abcdef0123") as (
                _e,
                api,
                gw,
            ):
                await gw.sync_clock()
                gw.markets = {m.symbol: m for m in await gw.fetch_markets()}
                with pytest.raises(AuthenticationFailed):
                    await gw.balances()
                req = self.request(gw)
                with pytest.raises(AuthenticationFailed):
                    await gw.place_order(req)
                assert self.orders_with(api, req.client_id) == 0

        self.run(scenario)

    def test_secrets_stay_out_of_logs_reprs_and_errors(self) -> None:
        """A debug-logged run (orders, a cancel, a refused wrong-secret request, a lost ack)
        never shows the secret or the passphrase in a log record, a repr or an error."""

        async def scenario() -> None:
            records: list[str] = []

            class Keep(logging.Handler):
                def emit(self, record: logging.LogRecord) -> None:
                    records.append(self.format(record))

            handler = Keep(logging.DEBUG)
            root = logging.getLogger()
            old_level = root.level
            root.addHandler(handler)
            root.setLevel(logging.DEBUG)
            try:
                async with self.session() as (_emu, api, gw):
                    secrets = [api.account.secret] + (
                        [api.account.passphrase] if api.account.passphrase else []
                    )
                    await gw.start()
                    req = self.request(gw)
                    texts = [repr(gw), str(gw), repr(await gw.place_order(req))]
                    api.exchange.faults.inject(FaultKind.ACK_LOST)
                    try:
                        await gw.place_order(self.request(gw))
                    except TradingError as exc:
                        texts += [str(exc), repr(exc)]
                    await gw.cancel_order(self.symbol, req.client_id)
                    bad = self.make_gateway(
                        _emu,
                        ApiCredentials(
                            api.account.api_key, secret="x" * 40, passphrase=api.account.passphrase
                        ),
                    )
                    bad.markets = gw.markets
                    try:
                        await bad.balances()
                    except TradingError as exc:
                        texts += [str(exc), repr(exc), repr(bad)]
                    finally:
                        await bad.close()
            finally:
                root.removeHandler(handler)
                root.setLevel(old_level)
            assert records, "nothing was logged at DEBUG"
            blob = "\n".join(records + texts)
            for secret in secrets:
                assert secret not in blob

        self.run(scenario)

    def test_tampered_request_is_refused(self) -> None:
        """A request changed after signing (another size in the body, another query) is refused:
        the emulator checks that the signature covers exactly what arrived."""

        async def scenario() -> None:
            async with self.session(stream=False) as (_emu, api, gw):
                await gw.start()
                sign = gw.sign

                def tampered(
                    method: str,
                    path: str,
                    query: Mapping[str, str] | None,
                    body: Mapping[str, str] | None,
                    now_ms: int,
                ) -> SignedRequest:
                    signed = sign(method, path, query, body, now_ms)
                    text = signed.body
                    if text is not None:
                        text = text.replace(gw.prepare(req).quantity, "12345")
                    qs = signed.query + "&x=1" if signed.query else signed.query
                    return SignedRequest(signed.method, signed.path, qs, text, signed.headers)

                req = self.request(gw)
                setattr(gw, "sign", tampered)  # noqa: B010 - the test replaces the signer's output
                with pytest.raises(AuthenticationFailed):
                    await gw.place_order(req)
                with pytest.raises(AuthenticationFailed):
                    await gw.get_order(self.symbol, req.client_id)
                assert self.orders_with(api, req.client_id) == 0

        self.run(scenario)

    def test_stream_drop_reconnects_and_delayed_fills_arrive(self) -> None:
        async def scenario() -> None:
            async with self.session() as (_emu, api, gw):
                await gw.start()
                updates: list[OrderUpdate] = []

                async def collect() -> None:
                    async for u in gw.updates():
                        updates.append(u)

                collector = asyncio.ensure_future(collect())
                ws = getattr(gw, "ws", None)
                if ws is None:
                    collector.cancel()
                    return
                connects = ws.stats.connects
                api.exchange.faults.inject(FaultKind.STREAM_DROP)
                await until(lambda: ws.stats.connects > connects and ws.connected, what="stream reconnect")
                await asyncio.sleep(0.1)  # the re-subscription
                api.exchange.faults.inject(FaultKind.DELAY_FILL, param=0.3)
                req = self.request(gw)
                placed = await gw.place_order(req)
                api.exchange.trade(self.symbol, Decimal(repr(self.rest_price)), Decimal(repr(self.qty)))
                await until(
                    lambda: any(
                        f.client_id == req.client_id or f.order_id == placed.order_id
                        for u in updates
                        for f in u.fills
                    ),
                    what="the delayed fill on the reconnected stream",
                )
                collector.cancel()

        self.run(scenario)

    def test_clock_skew_resyncs_and_resends(self) -> None:
        async def scenario() -> None:
            async with self.session(stream=False) as (_emu, api, gw):
                await gw.start()
                api.exchange.faults.inject(FaultKind.CLOCK_SKEW, param=120.0)
                req = self.request(gw)
                state = await gw.place_order(req)
                assert state.status is OrderStatus.NEW
                assert self.orders_with(api, req.client_id) == 1
                if self.signs_time:  # refused as stale first, then re-timed to the venue's clock
                    assert abs(gw.offset_ms / 1000.0 - 120.0) < 5.0, gw.offset_ms

        self.run(scenario)
