"""Market state shared by every stage: the books by (venue, symbol) and each market's metadata."""

from __future__ import annotations

import math
from collections.abc import Iterator

import attrs

from arbot.book import OrderBook
from arbot.events import Levels

__all__ = ["BookHealth", "MarketInfo", "MarketState", "split_symbol"]


def split_symbol(symbol: str) -> tuple[str, str]:
    """``"BTC/USDT"`` -> ``("BTC", "USDT")``."""
    base, _, quote = symbol.partition("/")
    return base, quote


class BookHealth:
    """Health states of a book; detectors only trade books that are ``LIVE``."""

    SYNCING = "syncing"
    LIVE = "live"
    STALE = "stale"
    RESYNCING = "resyncing"


@attrs.define(slots=True, frozen=True)
class MarketInfo:
    """Trading rules of one market, from the venue's own metadata.

    ``tick_size`` and ``step_size`` of 0 mean "no rounding"; fees are fractions (0.001 = 0.1 %).
    """

    venue: str
    symbol: str
    base: str
    quote: str
    venue_symbol: str = ""
    tick_size: float = 0.0
    step_size: float = 0.0
    min_qty: float = 0.0
    min_notional: float = 0.0
    taker_fee: float = 0.001
    maker_fee: float = 0.001
    active: bool = True

    def round_price(self, price: float, side_is_buy: bool) -> float:
        """Round a limit price to the tick, never to a worse price than asked for the side."""
        if self.tick_size <= 0.0:
            return price
        ticks = price / self.tick_size
        n = math.floor(ticks + 1e-9) if side_is_buy else math.ceil(ticks - 1e-9)
        return round(n * self.tick_size, 12)

    def round_qty(self, qty: float) -> float:
        """Round a quantity down to the step size."""
        if self.step_size <= 0.0:
            return qty
        return round(math.floor(qty / self.step_size + 1e-9) * self.step_size, 12)

    def accepts(self, qty: float, price: float) -> bool:
        """True when an order of ``qty`` at ``price`` meets the minimum quantity and notional."""
        return qty > 0.0 and qty >= self.min_qty and qty * price >= self.min_notional


class MarketState:
    """Every book the bot follows, their health, and market metadata."""

    __slots__ = ("_books", "_by_base", "_by_symbol", "_health", "markets")

    def __init__(self) -> None:
        self._books: dict[tuple[str, str], OrderBook] = {}
        self._by_symbol: dict[str, list[OrderBook]] = {}
        self._by_base: dict[str, list[OrderBook]] = {}
        self._health: dict[tuple[str, str], str] = {}
        self.markets: dict[tuple[str, str], MarketInfo] = {}

    def book(self, venue: str, symbol: str) -> OrderBook:
        """The book of ``symbol`` on ``venue``, created empty on first use."""
        key = (venue, symbol)
        b = self._books.get(key)
        if b is None:
            b = OrderBook(venue, symbol)
            self._books[key] = b
            self._by_symbol.setdefault(symbol, []).append(b)
            self._by_base.setdefault(symbol.partition("/")[0], []).append(b)
            self._health[key] = BookHealth.SYNCING
        return b

    def apply_snapshot(
        self, venue: str, symbol: str, bids: Levels, asks: Levels, ts: float, exchange_ts: float | None
    ) -> OrderBook:
        """Replace one book with a snapshot and mark it live; returns the book."""
        key = (venue, symbol)
        b = self._books.get(key)
        if b is None:
            b = self.book(venue, symbol)
        b.apply_snapshot(bids, asks, ts, exchange_ts)
        self._health[key] = BookHealth.LIVE
        return b

    def get(self, venue: str, symbol: str) -> OrderBook | None:
        """The book if it exists."""
        return self._books.get((venue, symbol))

    def books_for(self, symbol: str) -> list[OrderBook]:
        """Every venue's book of ``symbol``."""
        return self._by_symbol.get(symbol, [])

    def books_for_base(self, base: str) -> list[OrderBook]:
        """Every book whose base asset is ``base``, whatever its quote (BTC/USDT, BTC/KRW...)."""
        return self._by_base.get(base, [])

    def __iter__(self) -> Iterator[OrderBook]:
        return iter(self._books.values())

    def __len__(self) -> int:
        return len(self._books)

    def health(self, venue: str, symbol: str) -> str:
        """Health state of one book."""
        return self._health.get((venue, symbol), BookHealth.SYNCING)

    def set_health(self, venue: str, symbol: str, state: str) -> None:
        """Set a book's health (connectors do this as they sync and resync)."""
        self._health[(venue, symbol)] = state

    def is_live(self, venue: str, symbol: str) -> bool:
        """True when the book is synchronised and current."""
        return self._health.get((venue, symbol)) == BookHealth.LIVE

    def add_market(self, info: MarketInfo) -> None:
        """Register a market's metadata."""
        self.markets[(info.venue, info.symbol)] = info

    def market(self, venue: str, symbol: str) -> MarketInfo | None:
        """Metadata of one market, if known."""
        return self.markets.get((venue, symbol))

    def mid(self, venue: str, symbol: str) -> float:
        """Mid price of one book (NaN when unknown)."""
        b = self._books.get((venue, symbol))
        return b.mid if b is not None else math.nan

    def reference_price(self, symbol: str) -> float:
        """Median mid of ``symbol`` across venues with a two-sided book (NaN when none)."""
        mids = sorted(m for b in self.books_for(symbol) if (m := b.mid) == m)
        if not mids:
            return math.nan
        n = len(mids)
        return mids[n // 2] if n % 2 else 0.5 * (mids[n // 2 - 1] + mids[n // 2])
