"""The L2 order book: snapshots and deltas, top of book, depth walks, crossing and age.

Each side keeps a dict ``price -> quantity`` and an ascending list of sort keys (the price for
asks, the negated price for bids, so both sides iterate best-first). A delta touches the dict
for every level and the sorted list only when a level appears or disappears, which keeps the
common case (a quantity changes) at one dict store per level.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from arbot.events import Levels

__all__ = ["BookSide", "DepthFill", "OrderBook"]


class DepthFill:
    """Result of walking one side of the book: how much fills and at what average price."""

    __slots__ = ("cost", "levels", "qty", "worst_price")

    def __init__(self, qty: float, cost: float, worst_price: float, levels: int) -> None:
        self.qty = qty
        self.cost = cost
        self.worst_price = worst_price
        self.levels = levels

    @property
    def vwap(self) -> float:
        """Volume-weighted average price of the walk (NaN when nothing fills)."""
        return self.cost / self.qty if self.qty > 0.0 else math.nan

    def __repr__(self) -> str:
        return (
            f"DepthFill(qty={self.qty!r}, cost={self.cost!r}, "
            f"worst_price={self.worst_price!r}, levels={self.levels})"
        )


class BookSide:
    """One side of an order book, iterated best price first."""

    __slots__ = ("_keys", "_qty", "_sign")

    def __init__(self, is_bid: bool) -> None:
        self._sign = -1.0 if is_bid else 1.0
        self._qty: dict[float, float] = {}
        self._keys: list[float] = []

    @property
    def is_bid(self) -> bool:
        """True for the bid side."""
        return self._sign < 0.0

    def __len__(self) -> int:
        return len(self._keys)

    def __bool__(self) -> bool:
        return bool(self._keys)

    def clear(self) -> None:
        """Remove every level."""
        self._qty.clear()
        self._keys.clear()

    def replace(self, levels: Levels) -> None:
        """Replace the side with ``levels`` (a snapshot); a repeated price keeps its last quantity
        and zero quantities leave no level."""
        sign = self._sign
        qty: dict[float, float]
        if type(levels) is np.ndarray:
            # rows of (price, quantity): one tolist() gives the pairs as Python floats
            if levels.ndim != 2:
                levels = levels.reshape(-1, 2)
            qty = dict(levels.tolist()) if len(levels) else {}
        elif len(levels) == 1:  # top-of-book snapshots (quote ticks): no sorting to do
            level = levels[0]
            p = float(level[0])
            q = float(level[1])
            if q > 0.0:
                self._qty = {p: q}
                self._keys = [sign * p]
            else:
                self._qty = {}
                self._keys = []
            return
        else:
            qty = {float(level[0]): float(level[1]) for level in levels}
        if qty and min(qty.values()) <= 0.0:
            qty = {p: q for p, q in qty.items() if q > 0.0}
        self._qty = qty
        self._keys = sorted([sign * p for p in qty])

    def apply(self, levels: Levels) -> None:
        """Apply a delta: set each level's quantity; a quantity of 0 removes the level."""
        qty = self._qty
        keys = self._keys
        sign = self._sign
        for level in levels:
            p = level[0]
            q = level[1]
            if q > 0.0:
                if p not in qty:
                    insort(keys, sign * p)
                qty[p] = q
            elif p in qty:
                del qty[p]
                del keys[bisect_left(keys, sign * p)]

    def best(self) -> tuple[float, float] | None:
        """The best level (price, quantity), or None when the side is empty."""
        if not self._keys:
            return None
        p = self._sign * self._keys[0]
        return p, self._qty[p]

    def best_price(self) -> float:
        """The best price, NaN when empty."""
        return self._sign * self._keys[0] if self._keys else math.nan

    def best_prices(self, depth: int) -> list[float]:
        """The best ``depth`` prices, best first (one slice of the sorted keys)."""
        keys = self._keys[:depth]
        if self._sign < 0.0:
            return [-k for k in keys]  # negation is exact for floats
        return keys

    def quantity_at(self, price: float) -> float:
        """Quantity resting at ``price`` (0 when there is no such level)."""
        return self._qty.get(price, 0.0)

    def __iter__(self) -> Iterator[tuple[float, float]]:
        sign = self._sign
        qty = self._qty
        for k in self._keys:
            p = sign * k
            yield p, qty[p]

    def levels(self, depth: int | None = None) -> npt.NDArray[np.float64]:
        """The best ``depth`` levels (all when None) as an (n, 2) array of (price, quantity)."""
        keys = self._keys if depth is None else self._keys[:depth]
        out = np.empty((len(keys), 2), dtype=np.float64)
        if keys:
            prices = np.asarray(keys, dtype=np.float64) * self._sign
            out[:, 0] = prices
            qty = self._qty
            out[:, 1] = [qty[p] for p in prices.tolist()]
        return out

    def walk_qty(self, qty: float, limit_price: float | None = None) -> DepthFill:
        """Walk best-first until ``qty`` (base units) is filled or ``limit_price`` is passed."""
        remaining = qty
        filled = 0.0
        cost = 0.0
        worst = math.nan
        n = 0
        sign = self._sign
        book = self._qty
        limit_key = None if limit_price is None else sign * limit_price
        for k in self._keys:
            if remaining <= 0.0:
                break
            if limit_key is not None and k > limit_key:
                break
            p = sign * k
            take = min(book[p], remaining)
            cost += take * p
            filled += take
            remaining -= take
            worst = p
            n += 1
        return DepthFill(filled, cost, worst, n)

    def walk_notional(self, notional: float, limit_price: float | None = None) -> DepthFill:
        """Walk best-first until ``notional`` (quote units) is spent or ``limit_price`` is passed."""
        remaining = notional
        filled = 0.0
        cost = 0.0
        worst = math.nan
        n = 0
        sign = self._sign
        book = self._qty
        limit_key = None if limit_price is None else sign * limit_price
        for k in self._keys:
            if remaining <= 0.0:
                break
            if limit_key is not None and k > limit_key:
                break
            p = sign * k
            level_notional = book[p] * p
            if level_notional <= remaining:
                filled += book[p]
                cost += level_notional
                remaining -= level_notional
            else:
                take = remaining / p
                filled += take
                cost += remaining
                remaining = 0.0
            worst = p
            n += 1
        return DepthFill(filled, cost, worst, n)

    def notional_within(self, limit_price: float) -> tuple[float, float]:
        """Total (quantity, notional) resting at prices at least as good as ``limit_price``."""
        sign = self._sign
        limit_key = sign * limit_price
        book = self._qty
        q_total = 0.0
        n_total = 0.0
        for k in self._keys:
            if k > limit_key:
                break
            p = sign * k
            q_total += book[p]
            n_total += book[p] * p
        return q_total, n_total

    def consume(self, qty: float, limit_price: float | None = None) -> float:
        """Remove up to ``qty`` from the best levels (a simulated fill); returns what was removed."""
        remaining = qty
        sign = self._sign
        book = self._qty
        keys = self._keys
        limit_key = None if limit_price is None else sign * limit_price
        while remaining > 0.0 and keys:
            k = keys[0]
            if limit_key is not None and k > limit_key:
                break
            p = sign * k
            available = book[p]
            if available <= remaining:
                remaining -= available
                del book[p]
                del keys[0]
            else:
                book[p] = available - remaining
                remaining = 0.0
        return qty - remaining


class OrderBook:
    """An L2 order book for one symbol on one venue.

    ``ts`` is the local time of the last change on the engine clock; ``exchange_ts`` the venue's
    time for it when known; ``sequence`` the venue's last applied sequence id when it has one.
    """

    __slots__ = ("asks", "bids", "exchange_ts", "sequence", "symbol", "ts", "venue")

    def __init__(self, venue: str, symbol: str) -> None:
        self.venue = venue
        self.symbol = symbol
        self.bids = BookSide(is_bid=True)
        self.asks = BookSide(is_bid=False)
        self.ts = math.nan
        self.exchange_ts: float | None = None
        self.sequence: int | None = None

    def apply_snapshot(self, bids: Levels, asks: Levels, ts: float, exchange_ts: float | None = None) -> None:
        """Replace the whole book."""
        self.bids.replace(bids)
        self.asks.replace(asks)
        self.ts = ts
        self.exchange_ts = exchange_ts

    def apply_delta(self, bids: Levels, asks: Levels, ts: float, exchange_ts: float | None = None) -> None:
        """Apply changed levels to both sides (quantity 0 removes a level)."""
        if len(bids):
            self.bids.apply(bids)
        if len(asks):
            self.asks.apply(asks)
        self.ts = ts
        self.exchange_ts = exchange_ts

    def clear(self) -> None:
        """Drop every level (used on reconnect so that no ghost level survives)."""
        self.bids.clear()
        self.asks.clear()
        self.sequence = None

    @property
    def best_bid(self) -> float:
        """Best bid price (NaN when empty)."""
        return self.bids.best_price()

    @property
    def best_ask(self) -> float:
        """Best ask price (NaN when empty)."""
        return self.asks.best_price()

    def top(self) -> tuple[float, float, float, float]:
        """(bid price, bid quantity, ask price, ask quantity); NaN for an empty side."""
        b = self.bids.best()
        a = self.asks.best()
        nan = math.nan
        return (
            b[0] if b else nan,
            b[1] if b else nan,
            a[0] if a else nan,
            a[1] if a else nan,
        )

    @property
    def mid(self) -> float:
        """Mid price (NaN unless both sides have a level)."""
        return (self.best_bid + self.best_ask) * 0.5

    @property
    def spread(self) -> float:
        """Best ask minus best bid (NaN unless both sides have a level)."""
        return self.best_ask - self.best_bid

    @property
    def is_crossed(self) -> bool:
        """True when the best bid is at or above the best ask: the book cannot be right."""
        bid_keys = self.bids._keys
        ask_keys = self.asks._keys
        # bid keys are negated prices; False when either side is empty
        return bool(bid_keys) and bool(ask_keys) and -bid_keys[0] >= ask_keys[0]

    @property
    def is_empty(self) -> bool:
        """True when either side is empty."""
        return not self.bids or not self.asks

    def age(self, now: float) -> float:
        """Seconds since the last change (infinite if the book never received data)."""
        return now - self.ts if self.ts == self.ts else math.inf

    def __repr__(self) -> str:
        return (
            f"OrderBook({self.venue}:{self.symbol} bid={self.best_bid} ask={self.best_ask} "
            f"levels={len(self.bids)}/{len(self.asks)})"
        )
