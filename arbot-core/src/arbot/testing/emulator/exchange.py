"""A venue-agnostic emulated exchange: accounts, a matching engine, transfers and trading faults.

Every venue emulator's private API is a thin layer over one :class:`EmulatedExchange`: the venue
verifies its own signatures, parses its own parameters, calls the methods below, and renders the
results (and :class:`~arbot.testing.emulator.exchange_models.RejectReason` errors) in its own
codes and shapes. The execution layer may also drive an exchange in-process (a simulated
gateway).

**Accounts.** :meth:`EmulatedExchange.create_account` makes one per API key, with a fee tier
and starting balances; every asset has a free and a locked amount. Placing an order locks what
it may spend (quote for a buy at its limit price, base for a sell); fills and cancels release it.

**Matching.** Orders match against the emulator's own book (:class:`BookSource`: a scripted
random walk, or a :class:`StaticBook` set by a test), never against each other:

* market and marketable limit orders take the book's levels best first, at the level prices
  (taker fee); liquidity taken from a level stays taken until the book changes that level;
* the rest of a GTC limit order rests; :meth:`EmulatedExchange.match` (called by the venue
  emulator after each book step) fills resting orders whose price the book has crossed, at the
  order's price (maker fee), as far as the crossing levels' quantities go (partial fills);
  :meth:`EmulatedExchange.trade` fills them with a public trade of a given size;
* IOC: the unfilled rest expires; FOK: all or nothing (EXPIRED untouched otherwise);
  post-only (``TimeInForce.POST_ONLY``): refused when it would take (or expired, when the venue
  says so: ``post_only_expires``);
* fees are charged in the venue's fee asset (:class:`FeeAsset`), exactly (no rounding: the
  venue renders them with all their digits).

**Identifiers.** Orders have integer ids (rendered by the venue) and client ids; a client id
already used by an open order (``client_id_scope="open"``, Binance) or by any order of the
account (``"all"``, OKX/Bybit) is refused with ``DUPLICATE_CLIENT_ID``; with ``"none"`` (Gate's
``text``) a second order with the same client id is taken, and a lookup by that client id
finds the latest. Fills carry trade ids.

**Events.** :meth:`EmulatedExchange.subscribe` returns an :class:`EventFeed` of
:class:`~arbot.testing.emulator.exchange_models.ExchangeEvent` for one API key: every order
change (accepted, filled, cancelled, expired) with the fill that caused it.

**Transfers.** Networks per asset (:class:`NetworkSpec`); deposits are credited and withdrawals
completed ``confirm_seconds`` after they start (exchange clock); a withdrawal debits the amount
at once and sends ``amount - fee``.

**Faults.** :attr:`EmulatedExchange.faults` (:class:`FaultInjector`): rejects, 429 with
Retry-After, lost acks, delayed fill reports, dropped private streams, orders stuck in NEW,
clock skew and HTTP 5xx (executed or not).

**Venue limits.** ``request_limit = (n, window_s)`` enforces a request-rate limit per API key
(sliding window): a request beyond ``n`` in ``window_s`` is answered 429 and counted in
:attr:`EmulatedExchange.requests_over_limit`; :attr:`EmulatedExchange.peak_requests` is the most
requests one key made in any window. ``order_retention_s`` makes a closed order older than
that unqueryable ("does not exist"), as venues archive old orders; its fills stay listed.

**Conservation.** Every movement of money is between an account and :attr:`EmulatedExchange.house`
(the market the book stands for, which also collects fees) or an external flow (deposits in,
withdrawals out): :meth:`EmulatedExchange.totals` + external flows is constant per asset.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_DOWN, Decimal
from typing import Literal, Protocol

import attrs

from arbot.events import Side
from arbot.testing.emulator.exchange_faults import FaultInjector, FaultKind
from arbot.testing.emulator.exchange_models import (
    ZERO,
    Account,
    AckLost,
    ExchangeError,
    ExchangeEvent,
    ExchangeFill,
    ExchangeOrder,
    ExchangeRateLimited,
    ExchangeReject,
    ExchangeServerError,
    FeeAsset,
    FeeTier,
    MarketRules,
    NetworkSpec,
    OrderSnapshot,
    RejectReason,
    Transfer,
    TransferStatus,
)
from arbot.testing.emulator.scripted import ScriptedBook
from arbot.trading.types import OrderStatus, OrderType, TimeInForce

__all__ = [
    "BookSource",
    "EmulatedExchange",
    "EventFeed",
    "FeedDropped",
    "ScriptedBookSource",
    "StaticBook",
    "default_tier",
]

PriceLevels = list[tuple[Decimal, Decimal]]


class BookSource(Protocol):
    """The emulator's book of one market: (bids, asks) as (price, quantity), best first."""

    def levels(self) -> tuple[PriceLevels, PriceLevels]:
        """Both sides now, best first."""
        ...


class ScriptedBookSource:
    """A :class:`~arbot.testing.emulator.scripted.ScriptedBook` as a :class:`BookSource`."""

    def __init__(self, book: ScriptedBook) -> None:
        self.book = book

    def levels(self) -> tuple[PriceLevels, PriceLevels]:
        """The scripted book's levels, parsed exactly from the text it sends."""
        bids, asks = self.book.levels_text()
        return ([(Decimal(p), Decimal(q)) for p, q in bids], [(Decimal(p), Decimal(q)) for p, q in asks])


class StaticBook:
    """A book a test sets by hand (:meth:`set`); levels given as numbers or decimal strings."""

    def __init__(
        self, bids: Iterable[tuple[object, object]] = (), asks: Iterable[tuple[object, object]] = ()
    ) -> None:
        self._bids: PriceLevels = []
        self._asks: PriceLevels = []
        self.set(bids, asks)

    def set(self, bids: Iterable[tuple[object, object]], asks: Iterable[tuple[object, object]]) -> None:
        """Replace both sides (sorted best first here)."""
        self._bids = sorted(((Decimal(str(p)), Decimal(str(q))) for p, q in bids), reverse=True)
        self._asks = sorted((Decimal(str(p)), Decimal(str(q))) for p, q in asks)

    def levels(self) -> tuple[PriceLevels, PriceLevels]:
        """Both sides, best first."""
        return list(self._bids), list(self._asks)


def default_tier() -> FeeTier:
    """The regular tier: 0.1 % maker and taker."""
    return FeeTier("VIP0", Decimal("0.001"), Decimal("0.001"))


class FeedDropped(ExchangeError):
    """The private stream was cut (the STREAM_DROP fault): the venue layer closes the socket."""


class EventFeed:
    """One subscriber's queue of order events (a private stream's source).

    :meth:`get` waits for the next deliverable event; events held back by the delayed-fill
    fault come out once the exchange clock passes their ``deliver_at``.
    """

    def __init__(self, exchange: EmulatedExchange, api_key: str) -> None:
        self.exchange = exchange
        self.api_key = api_key
        self._events: list[ExchangeEvent] = []
        self._wake = asyncio.Event()
        self.dropped = False
        self.closed = False

    def push(self, event: ExchangeEvent) -> None:
        """Queue one event (the exchange calls this)."""
        self._events.append(event)
        self._wake.set()

    def drop(self) -> None:
        """Cut the stream: :meth:`get` raises :class:`FeedDropped`."""
        self.dropped = True
        self._wake.set()

    def close(self) -> None:
        """Unsubscribe."""
        self.closed = True
        self.exchange._feeds.discard(self)
        self._wake.set()

    def ready(self) -> list[ExchangeEvent]:
        """Take every event deliverable now, in order."""
        now = self.exchange.clock()
        out = [e for e in self._events if e.deliver_at <= now]
        if out:
            self._events = [e for e in self._events if e.deliver_at > now]
        return out

    async def get(self) -> ExchangeEvent:
        """The next deliverable event (waits); raises FeedDropped when the stream was cut."""
        while True:
            if self.dropped:
                raise FeedDropped(f"private stream of {self.api_key[:6]}… dropped")
            if self.closed:
                raise FeedDropped("feed closed")
            now = self.exchange.clock()
            for i, e in enumerate(self._events):
                if e.deliver_at <= now:
                    return self._events.pop(i)
            self._wake.clear()
            pending = [e.deliver_at - now for e in self._events]
            timeout = min(pending) if pending else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)


@attrs.define(slots=True)
class _Market:
    rules: MarketRules
    book: BookSource
    #: (side of the book, price) -> (level quantity when first taken from, quantity taken)
    taken: dict[tuple[str, Decimal], tuple[Decimal, Decimal]] = attrs.field(factory=dict)


class EmulatedExchange:
    """The exchange core under a venue emulator (see the module docstring).

    ``venue`` names it in messages; ``fee_asset`` picks which asset fees are charged in;
    ``client_id_scope`` is where a client id must be unique ("open" orders, "all" orders
    of the account, or "none": never checked); ``post_only_expires``: a post-only order
    that would take is accepted and expired (OKX, Bybit) instead of refused (Binance
    ``LIMIT_MAKER``); ``clock`` gives exchange time in seconds (injectable for tests).
    """

    def __init__(
        self,
        venue: str,
        *,
        fee_asset: FeeAsset = FeeAsset.RECEIVED,
        client_id_scope: Literal["open", "all", "none"] = "open",
        post_only_expires: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.venue = venue
        self.fee_asset = fee_asset
        self.client_id_scope = client_id_scope
        self.post_only_expires = post_only_expires
        self.clock = clock
        self._skew = 0.0
        self.faults = FaultInjector()
        #: The counterparty of every fill and the collector of fees and withdrawal fees.
        self.house: dict[str, Decimal] = {}
        #: Money that entered (deposits) and left (withdrawals, net of fees) per asset.
        self.external_in: dict[str, Decimal] = {}
        self.external_out: dict[str, Decimal] = {}
        self.accounts: dict[str, Account] = {}
        self.markets: dict[str, _Market] = {}
        self.networks: dict[str, list[NetworkSpec]] = {}
        self.orders: dict[int, ExchangeOrder] = {}
        self.transfers: list[Transfer] = []
        #: API keys with withdrawal rights (a venue's private API refuses the others)
        self.withdraw_keys: set[str] = set()
        self._by_client: dict[tuple[str, str], list[int]] = {}
        self._open: dict[str, dict[int, ExchangeOrder]] = {}
        self._fills: dict[str, list[ExchangeFill]] = {}
        self._feeds: set[EventFeed] = set()
        self._order_ids = itertools.count(100_000_001)
        self._trade_ids = itertools.count(50_000_001)
        self._transfer_ids = itertools.count(1)
        self._uids = itertools.count(10_001)
        self._delay_fills: dict[int, float] = {}
        #: (max requests, window seconds) per API key; None: unlimited
        self.request_limit: tuple[int, float] | None = None
        #: the most requests one API key made within one window of ``request_limit``
        self.peak_requests = 0
        #: requests refused because they went beyond ``request_limit``
        self.requests_over_limit = 0
        self._request_times: dict[str | None, collections.deque[float]] = {}
        #: a closed order older than this (seconds since its last change) cannot be queried
        self.order_retention_s: float | None = None

    # -- set-up ------------------------------------------------------------------------------

    def add_market(self, rules: MarketRules, book: BookSource) -> None:
        """Trade ``rules.symbol`` against ``book``."""
        self.markets[rules.symbol] = _Market(rules, book)
        self._open.setdefault(rules.symbol, {})

    def add_network(self, spec: NetworkSpec) -> None:
        """Let ``spec.asset`` move on ``spec.network``."""
        self.networks.setdefault(spec.asset, []).append(spec)

    def create_account(
        self,
        balances: Mapping[str, object] | None = None,
        *,
        api_key: str | None = None,
        secret: str | None = None,
        passphrase: str | None = None,
        tier: FeeTier | None = None,
    ) -> Account:
        """A funded account; key and secret are random unless given. The starting balances are
        an external inflow (counted in :attr:`external_in`)."""
        key = api_key or secrets.token_hex(16)
        if key in self.accounts:
            raise ExchangeError(f"{self.venue}: API key already has an account")
        account = Account(
            api_key=key,
            secret=secret or secrets.token_hex(24),
            passphrase=passphrase,
            tier=tier or default_tier(),
            uid=next(self._uids),
        )
        self.accounts[key] = account
        for asset, amount in (balances or {}).items():
            value = Decimal(str(amount))
            account.add_free(asset, value)
            self.external_in[asset] = self.external_in.get(asset, ZERO) + value
        return account

    def account(self, api_key: str) -> Account:
        """The account of ``api_key``; ExchangeError when there is none."""
        try:
            return self.accounts[api_key]
        except KeyError:
            raise ExchangeError(f"{self.venue}: unknown API key") from None

    def rules(self, symbol: str) -> MarketRules:
        """The rules of ``symbol``; refused with UNKNOWN_SYMBOL when not listed."""
        market = self.markets.get(symbol)
        if market is None:
            raise ExchangeReject(RejectReason.UNKNOWN_SYMBOL, symbol)
        return market.rules

    # -- clock and request gate --------------------------------------------------------------

    @property
    def skew(self) -> float:
        """Seconds the exchange's clock runs ahead of :attr:`clock` (the CLOCK_SKEW fault)."""
        return self._skew

    def server_time(self) -> float:
        """The exchange's own time (its clock plus any injected skew), seconds."""
        self._apply_skew()
        return self.clock() + self._skew

    def _apply_skew(self) -> None:
        fault = self.faults.take(FaultKind.CLOCK_SKEW)
        if fault is not None:
            self._skew += fault.value

    def check_request(self, api_key: str | None) -> None:
        """Call at the start of every private request: raises the armed request faults
        (429 with Retry-After; a 5xx that executes nothing), and settles due transfers."""
        self._apply_skew()
        self.settle_transfers()
        if self.request_limit is not None:
            self._count_request(api_key, *self.request_limit)
        limited = self.faults.take(FaultKind.RATE_LIMIT, api_key)
        if limited is not None:
            raise ExchangeRateLimited(limited.value)
        fault = self.faults.take(FaultKind.HTTP_5XX, api_key)
        if fault is not None:
            raise ExchangeServerError(int(fault.value))

    def _count_request(self, api_key: str | None, limit: int, window: float) -> None:
        now = self.clock()
        times = self._request_times.setdefault(api_key, collections.deque())
        while times and times[0] <= now - window:
            times.popleft()
        times.append(now)
        self.peak_requests = max(self.peak_requests, len(times))
        if len(times) > limit:
            self.requests_over_limit += 1
            raise ExchangeRateLimited(window)

    # -- orders ------------------------------------------------------------------------------

    def place(
        self,
        api_key: str,
        symbol: str,
        side: Side,
        order_type: OrderType,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        quote_qty: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        client_id: str | None = None,
    ) -> OrderSnapshot:
        """Place one order and match what it can at once; returns its state after matching.

        Raises ExchangeReject (nothing happened), AckLost (accepted, answer to be dropped) or
        ExchangeServerError with ``order`` set (accepted, answered 5xx). ``quote_qty`` is a
        market order's size in quote (market buy by cost); otherwise ``qty`` is required.
        """
        account = self.account(api_key)
        market = self.markets.get(symbol)
        if market is None:
            raise ExchangeReject(RejectReason.UNKNOWN_SYMBOL, symbol)
        rules = market.rules
        cid = client_id or f"x{secrets.token_hex(8)}"
        self._check_client_id(api_key, cid)
        for kind, reason in (
            (FaultKind.REJECT_BALANCE, RejectReason.INSUFFICIENT_BALANCE),
            (FaultKind.REJECT_MIN_NOTIONAL, RejectReason.MIN_NOTIONAL),
            (FaultKind.REJECT_PRICE_FILTER, RejectReason.PRICE_FILTER),
        ):
            if self.faults.take(kind, api_key) is not None:
                raise ExchangeReject(reason, "injected")
        self._validate(rules, order_type, time_in_force, qty, price, quote_qty)
        now = self.clock()
        order = ExchangeOrder(
            order_id=next(self._order_ids),
            client_id=cid,
            api_key=api_key,
            symbol=symbol,
            side=side,
            order_type=order_type,
            time_in_force=time_in_force,
            price=price,
            qty=qty if qty is not None else ZERO,
            quote_qty=quote_qty,
            created=now,
            updated=now,
        )
        order.fee_asset = self._fee_asset_of(rules, side)
        # What the order may spend, locked up front.
        plan = self._take_plan(market, order)
        if order.order_type is OrderType.MARKET:
            if side is Side.BUY and quote_qty is not None:
                order.qty = sum((q for _, q in plan), ZERO)
            need = self._market_need(account, rules, order, plan)
        else:
            need = self._limit_need(account, rules, order)
        asset = rules.quote if side is Side.BUY else rules.base
        if account.balance(asset)[0] < need:
            raise ExchangeReject(
                RejectReason.INSUFFICIENT_BALANCE, f"{asset}: need {need}, free {account.balance(asset)[0]}"
            )
        if time_in_force is TimeInForce.POST_ONLY and plan and not self.post_only_expires:
            raise ExchangeReject(RejectReason.POST_ONLY_WOULD_TAKE, f"{side.value} {price} crosses the book")
        account.add_free(asset, -need)
        account.add_locked(asset, need)
        order.reserved, order.reserved_asset = need, asset
        self.orders[order.order_id] = order
        self._by_client.setdefault((api_key, cid), []).append(order.order_id)
        delay = self.faults.take(FaultKind.DELAY_FILL, api_key)
        if delay is not None:
            self._delay_fills[order.order_id] = delay.value
        order.stuck = self.faults.take(FaultKind.STUCK_NEW, api_key) is not None
        self._emit(order, None)  # accepted: NEW
        self._execute_new(market, account, order, plan)
        snap = order.snapshot()
        fault = self.faults.take(FaultKind.HTTP_5XX_EXECUTED, api_key)
        if fault is not None:
            raise ExchangeServerError(int(fault.value), snap)
        if self.faults.take(FaultKind.ACK_LOST, api_key) is not None:
            raise AckLost(snap)
        return snap

    def _check_client_id(self, api_key: str, cid: str) -> None:
        if self.client_id_scope == "none":
            return
        ids = self._by_client.get((api_key, cid), [])
        if self.client_id_scope == "all" and ids:
            raise ExchangeReject(RejectReason.DUPLICATE_CLIENT_ID, cid)
        if any(self.orders[i].is_open for i in ids):
            raise ExchangeReject(RejectReason.DUPLICATE_CLIENT_ID, cid)

    def _validate(
        self,
        rules: MarketRules,
        order_type: OrderType,
        tif: TimeInForce,
        qty: Decimal | None,
        price: Decimal | None,
        quote_qty: Decimal | None,
    ) -> None:
        if order_type is OrderType.LIMIT:
            if price is None or price <= 0:
                raise ExchangeReject(RejectReason.INVALID_REQUEST, "a limit order needs a positive price")
            if price % rules.tick != 0:
                raise ExchangeReject(
                    RejectReason.PRICE_FILTER, f"price {price} is not a multiple of {rules.tick}"
                )
        elif tif in (TimeInForce.POST_ONLY, TimeInForce.FOK):
            raise ExchangeReject(RejectReason.INVALID_REQUEST, f"a market order cannot be {tif.value}")
        if quote_qty is not None:
            if order_type is not OrderType.MARKET:
                raise ExchangeReject(RejectReason.INVALID_REQUEST, "a size in quote is for market orders")
            if quote_qty <= 0:
                raise ExchangeReject(RejectReason.INVALID_REQUEST, "quote size must be positive")
            if quote_qty < rules.min_notional:
                raise ExchangeReject(RejectReason.MIN_NOTIONAL, f"{quote_qty} < {rules.min_notional}")
            return
        if qty is None or qty <= 0:
            raise ExchangeReject(RejectReason.INVALID_REQUEST, "quantity must be positive")
        if qty % rules.step != 0:
            raise ExchangeReject(RejectReason.LOT_SIZE, f"quantity {qty} is not a multiple of {rules.step}")
        if qty < rules.min_qty or (rules.max_qty is not None and qty > rules.max_qty):
            raise ExchangeReject(
                RejectReason.LOT_SIZE, f"quantity {qty} outside [{rules.min_qty}, {rules.max_qty}]"
            )
        if price is not None and qty * price < rules.min_notional:
            raise ExchangeReject(RejectReason.MIN_NOTIONAL, f"{qty * price} < {rules.min_notional}")

    def _fee_asset_of(self, rules: MarketRules, side: Side) -> str:
        if self.fee_asset is FeeAsset.QUOTE:
            return rules.quote
        return rules.base if side is Side.BUY else rules.quote

    def _fee_rate_max(self, account: Account) -> Decimal:
        return max(account.tier.maker, account.tier.taker)

    def _limit_need(self, account: Account, rules: MarketRules, order: ExchangeOrder) -> Decimal:
        assert order.price is not None
        if order.side is Side.SELL:
            return order.qty
        cost = order.qty * order.price
        if self.fee_asset is FeeAsset.QUOTE:
            cost += cost * self._fee_rate_max(account)
        return cost

    def _market_need(
        self, account: Account, rules: MarketRules, order: ExchangeOrder, plan: PriceLevels
    ) -> Decimal:
        if order.side is Side.SELL:
            return order.qty
        cost = sum((p * q for p, q in plan), ZERO)
        if self.fee_asset is FeeAsset.QUOTE:
            cost += cost * account.tier.taker
        return cost

    def _available(self, market: _Market, book_side: str, price: Decimal, level_qty: Decimal) -> Decimal:
        seen = market.taken.get((book_side, price))
        if seen is None or seen[0] != level_qty:
            return level_qty
        return max(ZERO, level_qty - seen[1])

    def _take(
        self, market: _Market, book_side: str, price: Decimal, level_qty: Decimal, qty: Decimal
    ) -> None:
        seen = market.taken.get((book_side, price))
        taken = seen[1] if seen is not None and seen[0] == level_qty else ZERO
        market.taken[(book_side, price)] = (level_qty, taken + qty)

    def _take_plan(self, market: _Market, order: ExchangeOrder) -> PriceLevels:
        """The (price, qty) an incoming order would take from the book now."""
        bids, asks = market.book.levels()
        levels, book_side = (asks, "ask") if order.side is Side.BUY else (bids, "bid")
        step = market.rules.step
        by_cost = order.order_type is OrderType.MARKET and order.quote_qty is not None
        left = order.quote_qty if by_cost and order.quote_qty is not None else order.qty
        plan: PriceLevels = []
        for price, level_qty in levels:
            if left <= 0:
                break
            if order.price is not None and (
                (order.side is Side.BUY and price > order.price)
                or (order.side is Side.SELL and price < order.price)
            ):
                break
            avail = self._available(market, book_side, price, level_qty)
            if avail <= 0:
                continue
            q = min(avail, left / price) if by_cost else min(avail, left)
            q = (q / step).to_integral_value(rounding=ROUND_DOWN) * step
            if q <= 0:
                continue
            plan.append((price, q))
            left -= q * price if by_cost else q
        return plan

    def _execute_new(
        self, market: _Market, account: Account, order: ExchangeOrder, plan: PriceLevels
    ) -> None:
        tif = order.time_in_force
        if order.stuck:
            return
        if tif is TimeInForce.POST_ONLY and plan:
            self._finish(account, order, OrderStatus.EXPIRED)
            return
        if tif is TimeInForce.FOK and sum((q for _, q in plan), ZERO) < order.qty:
            self._finish(account, order, OrderStatus.EXPIRED)
            return
        book_side = "ask" if order.side is Side.BUY else "bid"
        for price, q in plan:
            self._take(market, book_side, price, self._level_qty(market, book_side, price), q)
            self._fill(market.rules, account, order, price, q, is_maker=False)
        if order.remaining <= 0 and order.filled > 0:
            self._finish(account, order, OrderStatus.FILLED)
        elif order.order_type is OrderType.MARKET or tif in (TimeInForce.IOC, TimeInForce.FOK):
            self._finish(account, order, OrderStatus.EXPIRED)
        else:
            self._open[order.symbol][order.order_id] = order

    def _level_qty(self, market: _Market, book_side: str, price: Decimal) -> Decimal:
        bids, asks = market.book.levels()
        for p, q in bids if book_side == "bid" else asks:
            if p == price:
                return q
        return ZERO

    def _fill(
        self,
        rules: MarketRules,
        account: Account,
        order: ExchangeOrder,
        price: Decimal,
        qty: Decimal,
        *,
        is_maker: bool,
    ) -> ExchangeFill:
        rate = account.tier.maker if is_maker else account.tier.taker
        quote_amount = price * qty
        now = self.clock()
        limit = order.order_type is OrderType.LIMIT and order.price is not None
        if order.side is Side.BUY:
            # pay quote out of the order's lock, receive base
            if self.fee_asset is FeeAsset.QUOTE:
                fee = quote_amount * rate
                spend, received = quote_amount + fee, qty
                unlock = (
                    qty * order.price * (1 + self._fee_rate_max(account))
                    if limit and order.price is not None
                    else quote_amount * (1 + account.tier.taker)
                )
            else:
                fee = qty * rate
                spend, received = quote_amount, qty - fee
                unlock = qty * order.price if limit and order.price is not None else quote_amount
            self._move_locked(account, rules.quote, order, min(unlock, order.reserved), spend)
            self._to_house(rules.quote, spend)
            self._from_house(rules.base, received)
            account.add_free(rules.base, received)
        else:
            # deliver base out of the order's lock, receive quote
            fee = quote_amount * rate
            self._move_locked(account, rules.base, order, qty, qty)
            self._to_house(rules.base, qty)
            self._from_house(rules.quote, quote_amount - fee)
            account.add_free(rules.quote, quote_amount - fee)
        order.filled += qty
        order.filled_quote += quote_amount
        order.fee += fee
        delay = self._delay_fills.get(order.order_id, 0.0)
        fill = ExchangeFill(
            trade_id=next(self._trade_ids),
            order_id=order.order_id,
            client_id=order.client_id,
            api_key=order.api_key,
            symbol=order.symbol,
            side=order.side,
            price=price,
            qty=qty,
            quote_qty=quote_amount,
            fee=fee,
            fee_asset=order.fee_asset,
            is_maker=is_maker,
            ts=now,
            visible_at=now + delay,
        )
        order.fills.append(fill)
        self._fills.setdefault(order.api_key, []).append(fill)
        order.status = OrderStatus.FILLED if order.remaining <= 0 else OrderStatus.PARTIALLY_FILLED
        self._emit(order, fill)
        return fill

    def _move_locked(
        self, account: Account, asset: str, order: ExchangeOrder, unlock: Decimal, spend: Decimal
    ) -> None:
        """Release ``unlock`` of the order's lock; ``spend`` of it leaves, the rest is free again."""
        account.add_locked(asset, -unlock)
        order.reserved -= unlock
        account.add_free(asset, unlock - spend)

    def _to_house(self, asset: str, amount: Decimal) -> None:
        self.house[asset] = self.house.get(asset, ZERO) + amount

    def _from_house(self, asset: str, amount: Decimal) -> None:
        self.house[asset] = self.house.get(asset, ZERO) - amount

    def _finish(self, account: Account, order: ExchangeOrder, status: OrderStatus) -> None:
        """Terminal state: release what is still locked, leave the open book, emit (a fill that
        completed the order was the order's last event already)."""
        if order.reserved:
            account.add_locked(order.reserved_asset, -order.reserved)
            account.add_free(order.reserved_asset, order.reserved)
            order.reserved = ZERO
        self._open.get(order.symbol, {}).pop(order.order_id, None)
        if order.status is OrderStatus.FILLED:
            return
        order.status = status
        self._emit(order, None)

    def _emit(self, order: ExchangeOrder, fill: ExchangeFill | None) -> None:
        order.seq += 1
        order.updated = self.clock()
        delay = self._delay_fills.get(order.order_id, 0.0) if fill is not None or order.filled > 0 else 0.0
        event = ExchangeEvent(order.api_key, order.snapshot(), fill, order.updated + delay)
        for feed in list(self._feeds):
            if feed.api_key == order.api_key:
                feed.push(event)

    def find(
        self,
        api_key: str,
        symbol: str | None = None,
        *,
        order_id: int | None = None,
        client_id: str | None = None,
    ) -> ExchangeOrder:
        """One order of the account by id or client id (the latest with that client id);
        refused with ORDER_NOT_FOUND."""
        order: ExchangeOrder | None = None
        if order_id is not None:
            order = self.orders.get(order_id)
        elif client_id is not None:
            ids = self._by_client.get((api_key, client_id))
            order = self.orders[ids[-1]] if ids else None
        if order is None or order.api_key != api_key or (symbol is not None and order.symbol != symbol):
            raise ExchangeReject(RejectReason.ORDER_NOT_FOUND, f"order {order_id or client_id}")
        keep = self.order_retention_s
        if keep is not None and not order.is_open and self.clock() - order.updated > keep:
            raise ExchangeReject(RejectReason.ORDER_NOT_FOUND, f"order {order_id or client_id} (archived)")
        return order

    def get_order(
        self,
        api_key: str,
        symbol: str | None = None,
        *,
        order_id: int | None = None,
        client_id: str | None = None,
    ) -> OrderSnapshot:
        """The order's state now (see :meth:`find`)."""
        return self.find(api_key, symbol, order_id=order_id, client_id=client_id).snapshot()

    def cancel(
        self,
        api_key: str,
        symbol: str | None = None,
        *,
        order_id: int | None = None,
        client_id: str | None = None,
    ) -> OrderSnapshot:
        """Cancel an open order; a closed or unknown one is refused with ORDER_NOT_FOUND (as
        venues answer "unknown order" to a cancel of a filled order)."""
        order = self.find(api_key, symbol, order_id=order_id, client_id=client_id)
        if not order.is_open:
            raise ExchangeReject(
                RejectReason.ORDER_NOT_FOUND, f"order {order.order_id} is {order.status.value}"
            )
        self._finish(self.account(api_key), order, OrderStatus.CANCELLED)
        return order.snapshot()

    def cancel_all(self, api_key: str, symbol: str) -> list[OrderSnapshot]:
        """Cancel every open order of the account in ``symbol``."""
        self.rules(symbol)
        account = self.account(api_key)
        out = []
        for order in [o for o in self._open.get(symbol, {}).values() if o.api_key == api_key]:
            self._finish(account, order, OrderStatus.CANCELLED)
            out.append(order.snapshot())
        return out

    def open_orders(self, api_key: str, symbol: str | None = None) -> list[OrderSnapshot]:
        """Open orders of the account (of one symbol, or all), oldest first."""
        markets = [symbol] if symbol is not None else list(self._open)
        out = [o.snapshot() for s in markets for o in self._open.get(s, {}).values() if o.api_key == api_key]
        return sorted(out, key=lambda o: o.order_id)

    def all_orders(self, api_key: str, symbol: str | None = None) -> list[OrderSnapshot]:
        """Every order of the account (of one symbol, or all), oldest first."""
        return [
            o.snapshot()
            for o in self.orders.values()
            if o.api_key == api_key and (symbol is None or o.symbol == symbol)
        ]

    def fills(
        self, api_key: str, symbol: str | None = None, since: float | None = None
    ) -> list[ExchangeFill]:
        """Fills of the account visible now (delayed reports appear late), oldest first."""
        now = self.clock()
        return [
            f
            for f in self._fills.get(api_key, [])
            if f.visible_at <= now
            and (symbol is None or f.symbol == symbol)
            and (since is None or f.ts >= since)
        ]

    # -- matching resting orders -------------------------------------------------------------

    def match(self, symbol: str | None = None) -> list[ExchangeFill]:
        """Fill resting orders the book now crosses (call after each book change); returns the
        fills. An order fills at its own price (maker), up to the crossing levels' quantities."""
        fills: list[ExchangeFill] = []
        for sym in [symbol] if symbol is not None else list(self.markets):
            market = self.markets[sym]
            resting = [o for o in self._open.get(sym, {}).values() if not o.stuck]
            if not resting:
                continue
            bids, asks = market.book.levels()
            for order in sorted(resting, key=lambda o: o.order_id):
                assert order.price is not None
                levels, book_side = (asks, "ask") if order.side is Side.BUY else (bids, "bid")
                for price, level_qty in levels:
                    if order.remaining <= 0:
                        break
                    crosses = price <= order.price if order.side is Side.BUY else price >= order.price
                    if not crosses:
                        break
                    avail = self._available(market, book_side, price, level_qty)
                    q = (min(avail, order.remaining) / market.rules.step).to_integral_value(ROUND_DOWN)
                    q *= market.rules.step
                    if q <= 0:
                        continue
                    self._take(market, book_side, price, level_qty, q)
                    fills.append(
                        self._fill(
                            market.rules, self.account(order.api_key), order, order.price, q, is_maker=True
                        )
                    )
                if order.remaining <= 0:
                    self._finish(self.account(order.api_key), order, OrderStatus.FILLED)
        return fills

    def trade(self, symbol: str, price: Decimal, qty: Decimal) -> list[ExchangeFill]:
        """A public trade of ``qty`` at ``price`` against the resting orders it reaches
        (buys at or above ``price``, sells at or below), oldest first, at their own prices."""
        market = self.markets[symbol]
        left = qty
        fills: list[ExchangeFill] = []
        for order in sorted(self._open.get(symbol, {}).values(), key=lambda o: o.order_id):
            if left <= 0:
                break
            assert order.price is not None
            if (
                order.stuck
                or (order.side is Side.BUY and order.price < price)
                or (order.side is Side.SELL and order.price > price)
            ):
                continue
            q = min(left, order.remaining)
            fills.append(
                self._fill(market.rules, self.account(order.api_key), order, order.price, q, is_maker=True)
            )
            left -= q
            if order.remaining <= 0:
                self._finish(self.account(order.api_key), order, OrderStatus.FILLED)
        return fills

    # -- balances and fees -------------------------------------------------------------------

    def balances(self, api_key: str) -> dict[str, tuple[Decimal, Decimal]]:
        """(free, locked) per asset of the account (assets ever held)."""
        self.settle_transfers()
        account = self.account(api_key)
        return {a: account.balance(a) for a in sorted(set(account.free) | set(account.locked))}

    def fee_tier(self, api_key: str) -> FeeTier:
        """The account's fee tier."""
        return self.account(api_key).tier

    def totals(self) -> dict[str, Decimal]:
        """Per asset: every account's free + locked plus the house (conservation checks)."""
        out: dict[str, Decimal] = dict(self.house)
        for account in self.accounts.values():
            for book in (account.free, account.locked):
                for asset, amount in book.items():
                    out[asset] = out.get(asset, ZERO) + amount
        return out

    # -- private streams ---------------------------------------------------------------------

    def subscribe(self, api_key: str) -> EventFeed:
        """An event feed of the account's order changes and fills."""
        self.account(api_key)
        feed = EventFeed(self, api_key)
        self._feeds.add(feed)
        return feed

    def drop_streams(self, api_key: str | None = None) -> int:
        """Cut the private streams (of one account, or all); returns how many."""
        n = 0
        for feed in list(self._feeds):
            if api_key is None or feed.api_key == api_key:
                feed.drop()
                self._feeds.discard(feed)
                n += 1
        return n

    def take_stream_drop(self) -> bool:
        """For the venue layer's stream loop: True when a STREAM_DROP fault fires now (every
        private stream is cut)."""
        if self.faults.take(FaultKind.STREAM_DROP) is not None:
            self.drop_streams()
            return True
        return False

    # -- transfers ---------------------------------------------------------------------------

    def network_list(self, asset: str) -> list[NetworkSpec]:
        """Networks of ``asset`` (empty when it has none)."""
        return list(self.networks.get(asset, []))

    def _network(self, asset: str, network: str) -> NetworkSpec:
        for spec in self.networks.get(asset, []):
            if spec.network == network:
                return spec
        raise ExchangeReject(RejectReason.NETWORK_UNAVAILABLE, f"{asset} on {network}")

    def deposit(
        self, api_key: str, asset: str, network: str, amount: Decimal, txid: str | None = None
    ) -> Transfer:
        """An incoming deposit, credited after the network's confirmation delay."""
        self.account(api_key)
        spec = self._network(asset, network)
        if not spec.deposit_enabled:
            raise ExchangeReject(
                RejectReason.NETWORK_UNAVAILABLE, f"deposits of {asset} on {network} are closed"
            )
        if amount <= 0:
            raise ExchangeReject(RejectReason.INVALID_REQUEST, "deposit amount must be positive")
        now = self.clock()
        transfer = Transfer(
            transfer_id=next(self._transfer_ids),
            api_key=api_key,
            kind="deposit",
            asset=asset,
            network=network,
            amount=amount,
            fee=ZERO,
            address="",
            txid=txid or f"0x{secrets.token_hex(32)}",
            created=now,
            completes_at=now + spec.confirm_seconds,
        )
        self.transfers.append(transfer)
        self.settle_transfers()
        return transfer

    def withdraw(self, api_key: str, asset: str, network: str, amount: Decimal, address: str) -> Transfer:
        """Withdraw ``amount`` (debited at once; ``amount - fee`` leaves when it completes)."""
        account = self.account(api_key)
        spec = self._network(asset, network)
        if not spec.withdraw_enabled:
            raise ExchangeReject(
                RejectReason.NETWORK_UNAVAILABLE, f"withdrawals of {asset} on {network} are closed"
            )
        if amount < spec.withdraw_min or amount <= spec.withdraw_fee:
            raise ExchangeReject(RejectReason.WITHDRAW_MIN, f"{amount} < minimum {spec.withdraw_min}")
        if account.balance(asset)[0] < amount:
            raise ExchangeReject(
                RejectReason.INSUFFICIENT_BALANCE, f"{asset}: free {account.balance(asset)[0]}"
            )
        account.add_free(asset, -amount)
        self._to_house(asset, amount)  # in flight: held by the exchange until sent
        now = self.clock()
        transfer = Transfer(
            transfer_id=next(self._transfer_ids),
            api_key=api_key,
            kind="withdrawal",
            asset=asset,
            network=network,
            amount=amount,
            fee=spec.withdraw_fee,
            address=address,
            txid=f"0x{secrets.token_hex(32)}",
            created=now,
            completes_at=now + spec.confirm_seconds,
        )
        self.transfers.append(transfer)
        self.settle_transfers()
        return transfer

    def settle_transfers(self) -> None:
        """Complete the transfers whose confirmation delay has passed."""
        now = self.clock()
        for t in self.transfers:
            if t.status is TransferStatus.PENDING and t.completes_at <= now:
                t.status = TransferStatus.COMPLETED
                if t.kind == "deposit":
                    self.accounts[t.api_key].add_free(t.asset, t.amount)
                    self.external_in[t.asset] = self.external_in.get(t.asset, ZERO) + t.amount
                else:
                    sent = t.amount - t.fee
                    self._from_house(t.asset, sent)
                    self.external_out[t.asset] = self.external_out.get(t.asset, ZERO) + sent

    def transfer_history(self, api_key: str, kind: str | None = None) -> list[Transfer]:
        """Deposits and/or withdrawals of the account, oldest first."""
        self.settle_transfers()
        return [t for t in self.transfers if t.api_key == api_key and (kind is None or t.kind == kind)]

