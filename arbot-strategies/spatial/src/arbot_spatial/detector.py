"""Fee- and depth-aware cross-exchange spread detection (TRD §3.2), across quote currencies.

Books of one base asset quoted in different currencies (BTC/KRW on Upbit against BTC/USDT on
Binance) are compared in US dollars through the portfolio's FX rates (an on-venue USDT/KRW
book, a streamed rate or a configured one); the dollar spread between them is the premium
(the "kimchi premium" for KRW markets), reported in the opportunity's metadata.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

from arbot.book import OrderBook
from arbot.components import BotContext, Detector
from arbot.config import ComponentSettings
from arbot.events import Leg, Opportunity, Side
from pydantic import Field

from arbot_spatial.transfer_costs import TransferCostTable, transfer_costs

__all__ = ["PairFill", "SpatialDetector", "SpatialSettings", "detect_spatial_opportunity", "walk_pair"]


class PairFill:
    """The result of walking a buy book's asks against a sell book's bids (in book currencies)."""

    __slots__ = ("buy_cost", "buy_worst", "levels", "qty", "sell_proceeds", "sell_worst")

    def __init__(self) -> None:
        self.qty = 0.0
        self.buy_cost = 0.0
        self.sell_proceeds = 0.0
        self.buy_worst = 0.0
        self.sell_worst = 0.0
        self.levels = 0


def walk_pair(
    buy: OrderBook,
    sell: OrderBook,
    buy_fee: float,
    sell_fee: float,
    min_net: float,
    max_qty: float = float("inf"),
    buy_usd: float = 1.0,
    sell_usd: float = 1.0,
) -> PairFill:
    """Buy up ``buy``'s asks and sell into ``sell``'s bids while the marginal unit still earns
    at least ``min_net`` (a fraction) after both taker fees; stop at ``max_qty``.

    ``buy_usd`` / ``sell_usd`` are the USD values of one unit of each book's quote currency, so
    books quoted in different currencies compare in dollars.
    """
    out = PairFill()
    asks = iter(buy.asks)
    bids = iter(sell.bids)
    a = next(asks, None)
    b = next(bids, None)
    if a is None or b is None:
        return out
    ap, aq = a
    bp, bq = b
    buy_mult = (1.0 + buy_fee) * buy_usd * (1.0 + min_net)
    sell_mult = (1.0 - sell_fee) * sell_usd
    remaining = max_qty
    while remaining > 0.0:
        if bp * sell_mult < ap * buy_mult:
            break
        take = min(aq, bq, remaining)
        out.qty += take
        out.buy_cost += take * ap
        out.sell_proceeds += take * bp
        out.buy_worst = ap
        out.sell_worst = bp
        out.levels += 1
        remaining -= take
        aq -= take
        bq -= take
        if aq <= 0.0:
            a = next(asks, None)
            if a is None:
                break
            ap, aq = a
        if bq <= 0.0:
            b = next(bids, None)
            if b is None:
                break
            bp, bq = b
    return out


def _evaluate(
    buy: OrderBook,
    sell: OrderBook,
    buy_fee: float,
    sell_fee: float,
    min_net: float,
    min_depth_usd: float,
    buy_usd: float,
    sell_usd: float,
    now: float,
    new_id: Callable[[], str],
    confidence: float,
    max_qty: float,
) -> Opportunity | None:
    """The opportunity of buying on ``buy`` and selling on ``sell``, or None."""
    # top-of-book screen: most calls end here
    if not sell.best_bid * (1.0 - sell_fee) * sell_usd >= buy.best_ask * (1.0 + buy_fee) * buy_usd * (
        1.0 + min_net
    ):
        return None
    fill = walk_pair(buy, sell, buy_fee, sell_fee, min_net, max_qty, buy_usd, sell_usd)
    if fill.qty <= 0.0 or fill.buy_cost * buy_usd < min_depth_usd:
        return None
    vwap_buy = fill.buy_cost / fill.qty
    vwap_sell = fill.sell_proceeds / fill.qty
    cost_usd = fill.buy_cost * (1.0 + buy_fee) * buy_usd
    proceeds_usd = fill.sell_proceeds * (1.0 - sell_fee) * sell_usd
    gross = (vwap_sell * sell_usd / (vwap_buy * buy_usd) - 1.0) * 100.0
    metadata: dict[str, Any] = {"buy_vwap": vwap_buy, "sell_vwap": vwap_sell, "levels": fill.levels}
    if buy.symbol != sell.symbol:
        metadata.update(
            premium_pct=gross,
            buy_symbol=buy.symbol,
            sell_symbol=sell.symbol,
            buy_quote_usd=buy_usd,
            sell_quote_usd=sell_usd,
        )
    return Opportunity(
        id=new_id(),
        ts=now,
        strategy="spatial",
        symbol=buy.symbol,
        legs=(
            Leg(buy.venue, buy.symbol, Side.BUY, fill.buy_worst, fill.qty),
            Leg(sell.venue, sell.symbol, Side.SELL, fill.sell_worst, fill.qty),
        ),
        gross_spread_pct=gross,
        net_spread_pct=(proceeds_usd / cost_usd - 1.0) * 100.0,
        estimated_profit=proceeds_usd - cost_usd,
        confidence=confidence,
        depth_usd=fill.buy_cost * buy_usd,
        metadata=metadata,
    )


def detect_spatial_opportunity(
    orderbooks: dict[str, OrderBook],
    fees: dict[str, float],
    min_spread_pct: float = 0.25,
    min_depth_usd: float = 1000.0,
    *,
    quote_usd: float | dict[str, float] = 1.0,
    now: float | None = None,
    max_latency_ms: float | None = None,
    max_qty: float = float("inf"),
    new_id: Callable[[], str] | None = None,
) -> list[Opportunity]:
    """Every cross-venue opportunity among ``orderbooks`` (venue -> book of one base asset).

    ``fees`` are taker fees as fractions by venue; ``quote_usd`` the USD value of one unit of
    the quote currency (one number, or one per venue when the books' quotes differ). An
    opportunity is the depth both books fill while the marginal unit clears ``min_spread_pct``
    net of fees; it is reported when its notional reaches ``min_depth_usd``. Books older than
    ``max_latency_ms`` at ``now`` are skipped. Results are sorted by estimated profit.
    """
    counter = iter(range(1, 1 << 62))
    ids = new_id or (lambda: f"spatial-{next(counter)}")
    venue_of = {id(b): v for v, b in orderbooks.items()}
    books = [b for b in orderbooks.values() if not b.is_empty and not b.is_crossed]
    if now is None:
        now = max((b.ts for b in books), default=0.0)
    if max_latency_ms is not None:
        limit = max_latency_ms / 1000.0
        books = [b for b in books if b.age(now) <= limit]

    def usd(book: OrderBook) -> float:
        return quote_usd if isinstance(quote_usd, float | int) else quote_usd[venue_of[id(book)]]

    out = []
    for buy in books:
        for sell in books:
            if buy is sell:
                continue
            opp = _evaluate(
                buy, sell, fees[venue_of[id(buy)]], fees[venue_of[id(sell)]], min_spread_pct / 100.0,
                min_depth_usd, usd(buy), usd(sell), now, ids, 1.0, max_qty,
            )  # fmt: skip
            if opp is not None:
                out.append(opp)
    out.sort(key=lambda o: -o.estimated_profit)
    return out


class SpatialSettings(ComponentSettings):
    """``[detector.spatial]`` (TRD §6.1 keys and defaults, plus cross-quote comparison)."""

    min_spread_pct: float = Field(0.25, ge=0, description="net of both taker fees, percent")
    min_depth_usd: float = Field(
        1000.0, ge=0,
        description=(
            "Smallest executable notional in USD, through both books at the edge, for an opportunity "
            "to be reported."
        ),
    )
    max_latency_ms: float = Field(500.0, gt=0, description="maximum age of either book")
    max_notional_usd: float | None = Field(None, gt=0, description="cap per opportunity")
    symbols: list[str] | None = Field(None, description="default: the configured symbols")
    venues: list[str] | None = Field(None, description="default: every venue with a book")
    quotes: list[str] | None = Field(
        None,
        description="compare one base across these quote currencies (e.g. ['USDT', 'KRW']); "
        "default: only books of the same symbol",
    )
    rebalance_cost_aware: bool = Field(
        False,
        description="charge the expected cost of moving the inventory back (base and quote) on every "
        "opportunity, from the bot's transfer-cost table (a rebalancer publishes it)",
    )
    rebalance_cost_pct: dict[str, float] = Field(
        default_factory=dict,
        description="configured rebalancing cost per asset, percent of the value moved, used until a "
        "rebalancer publishes a live estimate",
    )


class SpatialDetector(Detector):
    """Cross-exchange spreads, fee- and depth-aware; re-evaluates only the changed book's asset."""

    name: ClassVar[str] = "spatial"
    Settings: ClassVar[type[ComponentSettings]] = SpatialSettings
    description: ClassVar[str] = "cross-exchange spread, fee- and depth-aware, across quotes (TRD 3.2)"

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        configured = list(settings.symbols or ctx.config.symbols)
        self._quotes = set(settings.quotes) if settings.quotes else None
        if self._quotes is None:
            self._symbols = configured
        else:
            bases = dict.fromkeys(s.partition("/")[0] for s in configured)
            self._symbols = [f"{b}/{q}" for b in bases for q in settings.quotes]
        self._venues = set(settings.venues) if settings.venues else None
        self._min_net = settings.min_spread_pct / 100.0
        self._max_age = settings.max_latency_ms / 1000.0
        self._fee_cache: dict[tuple[str, str], float] = {}
        self._costs: TransferCostTable | None = None
        if settings.rebalance_cost_aware:
            self._costs = transfer_costs(ctx)
            self._costs.set_defaults({a: pct / 100.0 for a, pct in settings.rebalance_cost_pct.items()})

    def symbols(self) -> Iterable[str]:
        """The symbols this detector compares across venues."""
        return self._symbols

    def _fee(self, venue: str, symbol: str) -> float:
        key = (venue, symbol)
        fee = self._fee_cache.get(key)
        if fee is None:
            fee = self.ctx.taker_fee(venue, symbol)
            self._fee_cache[key] = fee
        return fee

    def _peers(self, symbol: str) -> list[OrderBook]:
        market = self.ctx.market
        if self._quotes is None:
            return market.books_for(symbol)
        quotes = self._quotes
        return [
            b for b in market.books_for_base(symbol.partition("/")[0]) if b.symbol.partition("/")[2] in quotes
        ]

    def on_book(self, venue: str, symbol: str, now: float) -> Sequence[Opportunity]:
        """Compare the changed book with every other live venue's book of the same asset."""
        market = self.ctx.market
        changed = market.get(venue, symbol)
        if changed is None or not market.is_live(venue, symbol):
            return ()
        if self._venues is not None and venue not in self._venues:
            return ()
        max_age = self._max_age
        changed_age = changed.age(now)
        if changed_age > max_age:
            return ()
        c_bid = changed.best_bid  # NaN when a side is empty: every comparison below is then False
        c_ask = changed.best_ask
        if not c_bid < c_ask:
            return ()  # empty or crossed
        usd_price = self.ctx.usd_price
        c_usd = usd_price(symbol.partition("/")[2])
        if not c_usd > 0.0:
            return ()  # the quote currency cannot be valued yet
        min_mult = 1.0 + self._min_net
        fee_c = self._fee(venue, symbol)
        out: list[Opportunity] = []
        for other in self._peers(symbol):
            if other is changed:
                continue
            o_bid = other.best_bid
            o_ask = other.best_ask
            if not o_bid < o_ask:
                continue
            o_symbol = other.symbol
            o_usd = c_usd if o_symbol == symbol else usd_price(o_symbol.partition("/")[2])
            if not o_usd > 0.0:
                continue
            ov = other.venue
            fee_o = self._fee(ov, o_symbol)
            buy_here = o_bid * (1.0 - fee_o) * o_usd >= c_ask * (1.0 + fee_c) * c_usd * min_mult
            sell_here = c_bid * (1.0 - fee_c) * c_usd >= o_ask * (1.0 + fee_o) * o_usd * min_mult
            if not (buy_here or sell_here):
                continue  # the common case ends here: no hash lookups, no walks
            if self._venues is not None and ov not in self._venues:
                continue
            age = other.age(now)
            if age > max_age or not market.is_live(ov, o_symbol):
                continue
            confidence = max(0.0, 1.0 - max(age, changed_age) / max_age)
            if buy_here:
                opp = self._one(changed, other, fee_c, fee_o, c_usd, o_usd, now, confidence)
                if opp is not None:
                    out.append(opp)
            if sell_here:
                opp = self._one(other, changed, fee_o, fee_c, o_usd, c_usd, now, confidence)
                if opp is not None:
                    out.append(opp)
        return out

    def _one(
        self,
        buy: OrderBook,
        sell: OrderBook,
        fb: float,
        fs: float,
        buy_usd: float,
        sell_usd: float,
        now: float,
        confidence: float,
    ) -> Opportunity | None:
        max_qty = float("inf")
        if self.settings.max_notional_usd is not None:
            max_qty = self.settings.max_notional_usd / (buy.best_ask * buy_usd)
        rebalance = 0.0
        if self._costs is not None:
            # the base bought here goes to the sell venue, the quote earned there comes back:
            # both transfers are paid per unit of notional, charged like an extra buy-leg fee
            base, _, buy_quote = buy.symbol.partition("/")
            rebalance = self._costs.cost(base) + self._costs.cost(buy_quote)
        opp = _evaluate(
            buy, sell, fb + rebalance, fs, self._min_net, self.settings.min_depth_usd, buy_usd, sell_usd,
            now, self.ctx.new_id, confidence, max_qty,
        )  # fmt: skip
        if opp is not None and self._costs is not None:
            opp.metadata["rebalance_cost_pct"] = rebalance * 100.0
        return opp
