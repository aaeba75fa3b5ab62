"""The venue-agnostic emulated exchange: matching, balances, ids, events, transfers and faults."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D  # noqa: N817 (short, for readable amounts)

import pytest
from arbot.errors import ArbotError
from arbot.events import Side
from arbot.testing.emulator.exchange import EmulatedExchange, FeedDropped, ScriptedBookSource, StaticBook
from arbot.testing.emulator.exchange_faults import FaultKind, parse_faults
from arbot.testing.emulator.exchange_models import (
    AckLost,
    ExchangeRateLimited,
    ExchangeReject,
    ExchangeServerError,
    FeeAsset,
    FeeTier,
    MarketRules,
    NetworkSpec,
    RejectReason,
)
from arbot.testing.emulator.scripted import ScriptedBook
from arbot.trading.types import OrderStatus, OrderType, TimeInForce
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
RULES = MarketRules(
    "BTC/USDT", "BTC", "USDT", tick=D("0.01"), step=D("0.001"), min_qty=D("0.001"), min_notional=D("5")
)
TIER = FeeTier("T", maker=D("0.001"), taker=D("0.002"))


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def make(
    fee_asset: FeeAsset = FeeAsset.RECEIVED, **kw: object
) -> tuple[EmulatedExchange, StaticBook, str, Clock]:
    clock = Clock()
    ex = EmulatedExchange("test", fee_asset=fee_asset, clock=clock, **kw)  # type: ignore[arg-type]
    book = StaticBook(bids=[("99.00", "1"), ("98.00", "2")], asks=[("101.00", "1"), ("102.00", "2")])
    ex.add_market(RULES, book)
    acct = ex.create_account({"USDT": "10000", "BTC": "10"}, tier=TIER)
    return ex, book, acct.api_key, clock


def bal(ex: EmulatedExchange, key: str, asset: str) -> tuple[D, D]:
    return ex.balances(key).get(asset, (D(0), D(0)))


def conserved(ex: EmulatedExchange) -> None:
    totals = ex.totals()
    for asset in set(totals) | set(ex.external_in) | set(ex.external_out):
        expected = ex.external_in.get(asset, D(0)) - ex.external_out.get(asset, D(0))
        assert totals.get(asset, D(0)) == expected, asset


def test_limit_buy_rests_locks_quote_then_fills_as_maker_when_the_book_crosses() -> None:
    ex, book, key, _ = make()
    o = ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("0.5"), price=D("100.00"), client_id="c1")
    assert o.status is OrderStatus.NEW and o.filled == 0
    assert bal(ex, key, "USDT") == (D("9950.00"), D("50.00"))
    assert ex.match() == []  # the ask is above
    book.set(bids=[("99", "1")], asks=[("99.50", "0.2"), ("100.00", "5")])
    fills = ex.match()
    assert [(f.price, f.qty, f.is_maker) for f in fills] == [
        (D("100.00"), D("0.2"), True),
        (D("100.00"), D("0.3"), True),
    ]
    got = ex.get_order(key, client_id="c1")
    assert got.status is OrderStatus.FILLED and got.filled == D("0.5") and got.average_price == D("100")
    # maker fee 0.1 % in BTC (the received asset); quote paid exactly 50
    assert bal(ex, key, "BTC") == (D("10") + D("0.5") - D("0.0005"), D(0))
    assert bal(ex, key, "USDT") == (D("9950.00"), D(0))
    assert got.fee == D("0.0005") and got.fee_asset == "BTC"
    conserved(ex)


def test_partial_fill_by_public_trade_then_cancel_releases_the_rest() -> None:
    ex, _, key, _ = make()
    o = ex.place(key, "BTC/USDT", SELL, LIMIT, qty=D("2"), price=D("105.00"), client_id="s1")
    assert bal(ex, key, "BTC") == (D("8"), D("2"))
    fills = ex.trade("BTC/USDT", D("105.00"), D("0.75"))
    assert len(fills) == 1 and fills[0].qty == D("0.75")
    assert ex.get_order(key, order_id=o.order_id).status is OrderStatus.PARTIALLY_FILLED
    c = ex.cancel(key, "BTC/USDT", client_id="s1")
    assert c.status is OrderStatus.CANCELLED and c.filled == D("0.75")
    assert bal(ex, key, "BTC") == (D("9.25"), D(0))
    # quote received less the maker fee in USDT
    assert bal(ex, key, "USDT") == (D("10000") + D("78.75") - D("0.07875"), D(0))
    with pytest.raises(ExchangeReject) as err:
        ex.cancel(key, "BTC/USDT", client_id="s1")
    assert err.value.reason is RejectReason.ORDER_NOT_FOUND
    conserved(ex)


def test_marketable_limit_takes_at_level_prices_and_rests_the_rest() -> None:
    ex, _, key, _ = make()
    o = ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("1.5"), price=D("101.50"))
    assert o.status is OrderStatus.PARTIALLY_FILLED and o.filled == D("1")
    assert o.filled_quote == D("101.00")
    # 0.5 still rests at 101.50 (locked), the price improvement of the fill came back
    assert bal(ex, key, "USDT") == (D("10000") - D("101.00") - D("0.5") * D("101.50"), D("0.5") * D("101.50"))
    assert [x.order_id for x in ex.open_orders(key)] == [o.order_id]
    # the taken level stays taken: a second order does not find it again
    o2 = ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("0.1"), price=D("101.00"), time_in_force=TimeInForce.IOC)
    assert o2.status is OrderStatus.EXPIRED and o2.filled == 0
    conserved(ex)


def test_ioc_fok_market_and_post_only() -> None:
    ex, _, key, _ = make()
    ioc = ex.place(
        key, "BTC/USDT", BUY, LIMIT, qty=D("1.5"), price=D("101.00"), time_in_force=TimeInForce.IOC
    )
    assert ioc.status is OrderStatus.EXPIRED and ioc.filled == D("1")
    fok = ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("3"), price=D("102.00"), time_in_force=TimeInForce.FOK)
    assert fok.status is OrderStatus.EXPIRED and fok.filled == 0
    fok2 = ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("2"), price=D("102.00"), time_in_force=TimeInForce.FOK)
    assert fok2.status is OrderStatus.FILLED and fok2.filled == D("2")
    mkt = ex.place(key, "BTC/USDT", SELL, MARKET, qty=D("1.5"))
    assert mkt.status is OrderStatus.FILLED and mkt.filled_quote == D("99.00") + D("0.5") * D("98.00")
    by_cost = ex.place(key, "BTC/USDT", SELL, LIMIT, qty=D("0.1"), price=D("98.00"))
    assert by_cost.status is OrderStatus.FILLED
    with pytest.raises(ExchangeReject) as err:
        ex.place(
            key, "BTC/USDT", SELL, LIMIT, qty=D("0.1"), price=D("97.00"), time_in_force=TimeInForce.POST_ONLY
        )
    assert err.value.reason is RejectReason.POST_ONLY_WOULD_TAKE
    po = ex.place(
        key, "BTC/USDT", SELL, LIMIT, qty=D("0.1"), price=D("110.00"), time_in_force=TimeInForce.POST_ONLY
    )
    assert po.status is OrderStatus.NEW
    assert bal(ex, key, "USDT")[1] == 0 and bal(ex, key, "BTC")[1] == D("0.1")
    conserved(ex)


def test_market_buy_by_quote_amount_and_post_only_that_expires() -> None:
    ex, book, key, _ = make(post_only_expires=True)
    book.set(bids=[("99", "1")], asks=[("100.00", "0.5"), ("200.00", "10")])
    o = ex.place(key, "BTC/USDT", BUY, MARKET, quote_qty=D("150"))
    assert o.filled == D("1") and o.filled_quote == D("150.00") and o.status is OrderStatus.FILLED
    po = ex.place(
        key, "BTC/USDT", BUY, LIMIT, qty=D("0.1"), price=D("300.00"), time_in_force=TimeInForce.POST_ONLY
    )
    assert po.status is OrderStatus.EXPIRED and po.filled == 0
    assert bal(ex, key, "USDT")[1] == 0
    conserved(ex)


def test_fee_in_quote_is_locked_with_a_buy_and_charged_on_top() -> None:
    ex, book, key, _ = make(FeeAsset.QUOTE)
    o = ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("1"), price=D("100.00"))
    assert bal(ex, key, "USDT") == (D("10000") - D("100.2"), D("100.2"))  # max(maker, taker) locked
    book.set(bids=[("99", "1")], asks=[("99.00", "5")])
    ex.match()
    assert ex.get_order(key, order_id=o.order_id).status is OrderStatus.FILLED
    assert bal(ex, key, "USDT") == (D("10000") - D("100.1"), D(0))  # maker 0.1 % in USDT
    assert bal(ex, key, "BTC") == (D("11"), D(0))
    conserved(ex)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"qty": D("0.1"), "price": D("100.001")}, RejectReason.PRICE_FILTER),
        ({"qty": D("0.1005"), "price": D("100")}, RejectReason.LOT_SIZE),
        ({"qty": D("0.0005"), "price": D("100")}, RejectReason.LOT_SIZE),
        ({"qty": D("0.01"), "price": D("100")}, RejectReason.MIN_NOTIONAL),
        ({"qty": D("200"), "price": D("100")}, RejectReason.INSUFFICIENT_BALANCE),
        ({"qty": D("1")}, RejectReason.INVALID_REQUEST),
    ],
)
def test_rejections_change_nothing(kwargs: dict[str, D], reason: RejectReason) -> None:
    ex, _, key, _ = make()
    before = ex.balances(key)
    with pytest.raises(ExchangeReject) as err:
        ex.place(key, "BTC/USDT", BUY, LIMIT, **kwargs)  # type: ignore[arg-type]
    assert err.value.reason is reason
    assert ex.balances(key) == before and ex.open_orders(key) == [] and ex.orders == {}
    with pytest.raises(ExchangeReject) as unknown:
        ex.place(key, "ETH/USDT", BUY, LIMIT, qty=D("1"), price=D("1"))
    assert unknown.value.reason is RejectReason.UNKNOWN_SYMBOL


def test_client_ids_duplicate_among_open_orders_or_ever() -> None:
    ex, _, key, _ = make()
    ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("0.1"), price=D("90.00"), client_id="dup")
    with pytest.raises(ExchangeReject) as err:
        ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("0.1"), price=D("90.00"), client_id="dup")
    assert err.value.reason is RejectReason.DUPLICATE_CLIENT_ID
    ex.cancel(key, client_id="dup")
    again = ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("0.1"), price=D("90.00"), client_id="dup")
    assert ex.get_order(key, client_id="dup").order_id == again.order_id  # the latest
    # another account may use the same client id
    other = ex.create_account({"USDT": "100"})
    ex.place(other.api_key, "BTC/USDT", BUY, LIMIT, qty=D("0.1"), price=D("90.00"), client_id="dup")
    with pytest.raises(ExchangeReject):
        ex.get_order(other.api_key, order_id=again.order_id)  # not its order

    strict, _, key2, _ = make(client_id_scope="all")
    strict.place(key2, "BTC/USDT", BUY, LIMIT, qty=D("0.1"), price=D("90.00"), client_id="once")
    strict.cancel(key2, client_id="once")
    with pytest.raises(ExchangeReject) as err2:
        strict.place(key2, "BTC/USDT", BUY, LIMIT, qty=D("0.1"), price=D("90.00"), client_id="once")
    assert err2.value.reason is RejectReason.DUPLICATE_CLIENT_ID


def test_cancel_all_open_orders_and_fills_list() -> None:
    ex, _, key, clock = make()
    for p in ("90.00", "91.00", "92.00"):
        ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("0.1"), price=D(p))
    ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("0.1"), price=D("101.00"))  # fills at once
    assert len(ex.open_orders(key, "BTC/USDT")) == 3
    cancelled = ex.cancel_all(key, "BTC/USDT")
    assert {o.status for o in cancelled} == {OrderStatus.CANCELLED} and len(cancelled) == 3
    assert ex.open_orders(key) == [] and bal(ex, key, "USDT")[1] == 0
    fills = ex.fills(key, "BTC/USDT")
    assert len(fills) == 1 and fills[0].trade_id > 0 and not fills[0].is_maker
    assert ex.fills(key, since=clock.now + 1) == []
    assert len(ex.all_orders(key)) == 4


def test_event_feed_carries_every_change_with_its_fill() -> None:
    async def run() -> None:
        ex, _, key, _ = make()
        feed = ex.subscribe(key)
        ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("1.5"), price=D("101.00"), time_in_force=TimeInForce.IOC)
        events = [await asyncio.wait_for(feed.get(), 1) for _ in range(3)]
        assert [e.order.status for e in events] == [
            OrderStatus.NEW,
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.EXPIRED,
        ]
        assert events[1].fill is not None and events[1].fill.qty == D("1")
        assert [e.order.seq for e in events] == [1, 2, 3]
        assert feed.ready() == []
        ex.drop_streams()
        with pytest.raises(FeedDropped):
            await feed.get()

    asyncio.run(run())


def test_faults_fire_once_and_do_what_they_say() -> None:
    ex, _, key, clock = make()
    ex.faults.inject(FaultKind.RATE_LIMIT, param=2.5)
    with pytest.raises(ExchangeRateLimited) as rl:
        ex.check_request(key)
    assert rl.value.retry_after == 2.5
    ex.check_request(key)  # consumed
    ex.faults.inject(FaultKind.HTTP_5XX, param=502)
    with pytest.raises(ExchangeServerError) as se:
        ex.check_request(key)
    assert se.value.status == 502 and se.value.order is None
    for kind, reason in (
        (FaultKind.REJECT_BALANCE, RejectReason.INSUFFICIENT_BALANCE),
        (FaultKind.REJECT_MIN_NOTIONAL, RejectReason.MIN_NOTIONAL),
        (FaultKind.REJECT_PRICE_FILTER, RejectReason.PRICE_FILTER),
    ):
        ex.faults.inject(kind)
        with pytest.raises(ExchangeReject) as rj:
            ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("0.1"), price=D("90.00"))
        assert rj.value.reason is reason
    assert ex.orders == {}
    # ack lost: accepted (it is there), the answer is an AckLost carrying it
    ex.faults.inject(FaultKind.ACK_LOST)
    with pytest.raises(AckLost) as lost:
        ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("0.1"), price=D("90.00"), client_id="lost")
    assert ex.get_order(key, client_id="lost").order_id == lost.value.order.order_id
    # 5xx after execution: the order exists
    ex.faults.inject(FaultKind.HTTP_5XX_EXECUTED)
    with pytest.raises(ExchangeServerError) as sx:
        ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("0.1"), price=D("90.00"), client_id="maybe")
    assert sx.value.order is not None and ex.get_order(key, client_id="maybe").status is OrderStatus.NEW
    # stuck in NEW: crossing the book does not fill it
    ex.faults.inject(FaultKind.STUCK_NEW)
    stuck = ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("0.1"), price=D("120.00"))
    assert stuck.status is OrderStatus.NEW
    ex.match()
    assert ex.get_order(key, order_id=stuck.order_id).status is OrderStatus.NEW
    # clock skew: persistent
    t0 = ex.server_time()
    ex.faults.inject(FaultKind.CLOCK_SKEW, param=7)
    assert ex.server_time() == pytest.approx(t0 + 7) and ex.server_time() == pytest.approx(t0 + 7)
    # delayed fill report: the fill is there, its report is not yet
    ex.faults.inject(FaultKind.DELAY_FILL, param=3)
    filled = ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("0.1"), price=D("101.00"))
    assert filled.status is OrderStatus.FILLED
    assert all(f.order_id != filled.order_id for f in ex.fills(key))
    clock.now += 3
    assert any(f.order_id == filled.order_id for f in ex.fills(key))
    # keyed faults only hit their key
    other = ex.create_account({"USDT": "100"})
    ex.faults.inject(FaultKind.RATE_LIMIT, api_key=other.api_key)
    ex.check_request(key)
    with pytest.raises(ExchangeRateLimited):
        ex.check_request(other.api_key)
    conserved(ex)


def test_delayed_events_and_stream_drop_fault() -> None:
    async def run() -> None:
        ex, _, key, clock = make()
        feed = ex.subscribe(key)
        ex.faults.inject(FaultKind.DELAY_FILL, param=0.05)
        clock.now = 0.0
        real = asyncio.get_running_loop().time
        ex.clock = real
        ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("0.1"), price=D("101.00"))
        first = await asyncio.wait_for(feed.get(), 1)
        assert first.order.status is OrderStatus.NEW
        assert feed.ready() == []  # the fill report is held back
        fill = await asyncio.wait_for(feed.get(), 1)
        assert fill.fill is not None and real() >= fill.deliver_at
        ex.faults.inject(FaultKind.STREAM_DROP)
        assert ex.take_stream_drop() and not ex.take_stream_drop()
        with pytest.raises(FeedDropped):
            await feed.get()

    asyncio.run(run())


def test_deposits_and_withdrawals_with_fees_minimums_and_delays() -> None:
    ex, _, key, clock = make()
    ex.add_network(NetworkSpec("USDT", "TRX", withdraw_fee=D("1"), withdraw_min=D("10"), confirm_seconds=60))
    ex.add_network(
        NetworkSpec("USDT", "ETH", withdraw_fee=D("5"), withdraw_min=D("20"), withdraw_enabled=False)
    )
    assert [n.network for n in ex.network_list("USDT")] == ["TRX", "ETH"]
    dep = ex.deposit(key, "USDT", "TRX", D("500"))
    assert bal(ex, key, "USDT")[0] == D("10000")
    clock.now += 60
    assert bal(ex, key, "USDT")[0] == D("10500") and dep.status.value == "completed"
    with pytest.raises(ExchangeReject) as small:
        ex.withdraw(key, "USDT", "TRX", D("5"), "Tabc")
    assert small.value.reason is RejectReason.WITHDRAW_MIN
    with pytest.raises(ExchangeReject) as closed:
        ex.withdraw(key, "USDT", "ETH", D("50"), "0xabc")
    assert closed.value.reason is RejectReason.NETWORK_UNAVAILABLE
    with pytest.raises(ExchangeReject) as nsf:
        ex.withdraw(key, "USDT", "TRX", D("20000"), "Tabc")
    assert nsf.value.reason is RejectReason.INSUFFICIENT_BALANCE
    w = ex.withdraw(key, "USDT", "TRX", D("100"), "Tabc")
    assert bal(ex, key, "USDT")[0] == D("10400") and w.status.value == "pending"
    conserved(ex)
    clock.now += 60
    ex.settle_transfers()
    assert ex.external_out["USDT"] == D("99") and ex.house["USDT"] == D("1")
    assert [t.kind for t in ex.transfer_history(key)] == ["deposit", "withdrawal"]
    conserved(ex)


def test_faults_from_a_spec_string_fire_on_the_exchange() -> None:
    ex, _, key, _ = make()
    ex.faults.arm(parse_faults("rate_limit:2@0.5,reject_balance"))
    for _ in range(2):
        with pytest.raises(ExchangeRateLimited) as rl:
            ex.check_request(key)
        assert rl.value.retry_after == 0.5
    ex.check_request(key)
    with pytest.raises(ExchangeReject) as rj:
        ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("0.1"), price=D("90.00"))
    assert rj.value.reason is RejectReason.INSUFFICIENT_BALANCE
    assert ex.faults.fired == {FaultKind.RATE_LIMIT: 2, FaultKind.REJECT_BALANCE: 1}


def test_fault_spec_parsing() -> None:
    faults = parse_faults("reject_balance:2, rate_limit@1.5,http_5xx@502")
    assert [(f.kind, f.count, f.value) for f in faults] == [
        (FaultKind.REJECT_BALANCE, 2, 0.0),
        (FaultKind.RATE_LIMIT, 1, 1.5),
        (FaultKind.HTTP_5XX, 1, 502.0),
    ]
    with pytest.raises(ArbotError, match="unknown fault 'nope'"):
        parse_faults("nope")
    with pytest.raises(ArbotError, match="count must be"):
        parse_faults("ack_lost:x")


def test_scripted_book_source_matches_resting_orders_as_the_walk_moves() -> None:
    clock = Clock()
    ex = EmulatedExchange("test", clock=clock)
    sb = ScriptedBook("test", "BTC/USDT", seed=3, mid=100.0, tick=0.01, levels=10)
    ex.add_market(MarketRules("BTC/USDT", "BTC", "USDT", D("0.01"), D("0.00001")), ScriptedBookSource(sb))
    key = ex.create_account({"USDT": "100000", "BTC": "100"}).api_key
    bids, asks = ScriptedBookSource(sb).levels()
    assert bids[0][0] < asks[0][0]
    mid = (bids[0][0] + asks[0][0]) / 2
    ex.place(key, "BTC/USDT", BUY, LIMIT, qty=D("1"), price=(mid - D("0.02")).quantize(D("0.01")))
    ex.place(key, "BTC/USDT", SELL, LIMIT, qty=D("1"), price=(mid + D("0.02")).quantize(D("0.01")))
    fills = []
    for _ in range(400):
        sb.step()
        fills += ex.match()
    assert fills, "a random walk of 400 steps crosses an order 2 ticks from the mid"
    assert all(f.is_maker for f in fills)
    conserved(ex)


# -- invariants ----------------------------------------------------------------------------------

_price = st.integers(9500, 10500).map(lambda i: D(i) / 100)
_qty = st.integers(1, 3000).map(lambda i: D(i) / 1000)
_op = st.one_of(
    st.tuples(
        st.just("limit"), st.sampled_from([BUY, SELL]), _qty, _price, st.sampled_from(list(TimeInForce))
    ),
    st.tuples(st.just("market"), st.sampled_from([BUY, SELL]), _qty),
    st.tuples(st.just("market_cost"), _qty.map(lambda q: q * 50)),
    st.tuples(
        st.just("book"),
        st.lists(st.tuples(_price, _qty), min_size=1, max_size=4),
        st.lists(st.tuples(_price, _qty), min_size=1, max_size=4),
    ),
    st.tuples(st.just("trade"), _price, _qty),
    st.tuples(st.just("cancel"), st.integers(0, 30)),
    st.tuples(st.just("cancel_all")),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_op, max_size=40), fee_asset=st.sampled_from(list(FeeAsset)))
def test_no_money_is_created_or_destroyed_beyond_fees(
    ops: list[tuple[object, ...]], fee_asset: FeeAsset
) -> None:
    """Whatever happens, per asset: accounts + house == deposits; free and locked never go
    negative; locked is exactly what open orders reserve; and each account's balance moved by
    exactly its fills less their fees."""
    ex, book, key, _ = make(fee_asset)
    start = {a: f + lk for a, (f, lk) in ex.balances(key).items()}
    for op in ops:
        try:
            if op[0] == "limit":
                _, side, qty, price, tif = op
                ex.place(key, "BTC/USDT", side, LIMIT, qty=qty, price=price, time_in_force=tif)  # type: ignore[arg-type]
            elif op[0] == "market":
                ex.place(key, "BTC/USDT", op[1], MARKET, qty=op[2])  # type: ignore[arg-type]
            elif op[0] == "market_cost":
                ex.place(key, "BTC/USDT", BUY, MARKET, quote_qty=op[1])  # type: ignore[arg-type]
            elif op[0] == "book":
                bids, asks = op[1], op[2]
                top_ask = min(p for p, _ in asks)  # type: ignore[union-attr]
                book.set([(p, q) for p, q in bids if p < top_ask], asks)  # type: ignore[union-attr]
                ex.match()
            elif op[0] == "trade":
                ex.trade("BTC/USDT", op[1], op[2])  # type: ignore[arg-type]
            elif op[0] == "cancel":
                ids = sorted(ex.orders)
                if ids:
                    ex.cancel(key, order_id=ids[int(op[1]) % len(ids)])  # type: ignore[call-overload]
            else:
                ex.cancel_all(key, "BTC/USDT")
        except ExchangeReject:
            pass
        conserved(ex)
        for asset, (free, locked) in ex.balances(key).items():
            assert free >= 0 and locked >= 0, asset
            reserved = sum(
                (o.reserved for o in ex.orders.values() if o.is_open and o.reserved_asset == asset), D(0)
            )
            assert locked == reserved, asset
        for o in ex.orders.values():
            assert (o.reserved == 0) == (not o.is_open) or o.is_open
            assert 0 <= o.filled <= o.qty
    # every movement of the account is a fill (less its fee)
    expected = dict(start)
    for f in ex.fills(key):
        sign = 1 if f.side is BUY else -1
        expected["BTC"] += sign * f.qty
        expected["USDT"] -= sign * f.quote_qty
        expected[f.fee_asset] -= f.fee
    got = {a: fr + lk for a, (fr, lk) in ex.balances(key).items()}
    assert got == expected
    ex.cancel_all(key, "BTC/USDT")
    assert all(lk == 0 for _, lk in ex.balances(key).values())
