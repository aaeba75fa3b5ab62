"""Balances per venue and asset, marked to market in USD."""

from __future__ import annotations

import math
from collections.abc import Iterable

from arbot.events import BalanceSnapshot, Fill, Side
from arbot.market import MarketState, split_symbol

__all__ = ["Portfolio"]


class Portfolio:
    """Balances per (venue, asset); fills move them, books price them.

    Fees are charged in the quote asset. A balance never goes negative: executors size legs to
    what is available before filling.
    """

    def __init__(
        self,
        market: MarketState,
        usd_assets: Iterable[str] = ("USD", "USDT", "USDC", "BUSD", "DAI"),
        fx_per_usd: dict[str, float] | None = None,
    ) -> None:
        self.market = market
        self.usd_assets = frozenset(usd_assets)
        self.balances: dict[tuple[str, str], float] = {}
        self.initial: dict[tuple[str, str], float] = {}
        self._last_price: dict[str, float] = {}
        #: configured rates (units per USD), used when no book or stream prices the currency
        self.configured_fx: dict[str, float] = dict(fx_per_usd or {})
        #: streamed rates (units per USD) from FxRate events
        self.streamed_fx: dict[str, float] = {}
        self.fees_usd = 0.0

    def deposit(self, venue: str, asset: str, amount: float) -> None:
        """Add starting funds (counted in ``initial``)."""
        key = (venue, asset)
        self.balances[key] = self.balances.get(key, 0.0) + amount
        self.initial[key] = self.initial.get(key, 0.0) + amount

    def balance(self, venue: str, asset: str) -> float:
        """Free balance of ``asset`` on ``venue``."""
        return self.balances.get((venue, asset), 0.0)

    def apply_fill(self, fill: Fill) -> None:
        """Move balances for a fill: base against quote, fee in quote."""
        if fill.filled_qty <= 0.0:
            return
        base, quote = split_symbol(fill.symbol)
        b = self.balances
        kb = (fill.venue, base)
        kq = (fill.venue, quote)
        notional = fill.filled_qty * fill.avg_price
        if fill.side is Side.BUY:
            b[kq] = b.get(kq, 0.0) - notional - fill.fee
            b[kb] = b.get(kb, 0.0) + fill.filled_qty
        else:
            b[kb] = b.get(kb, 0.0) - fill.filled_qty
            b[kq] = b.get(kq, 0.0) + notional - fill.fee
        self.fees_usd += fill.fee * self.usd_price(quote)

    def usd_price(self, asset: str) -> float:
        """USD price of one unit of ``asset``.

        In order: 1 for USD stablecoins; the median mid of ``asset/<USD stable>`` books; the
        inverse of ``<USD stable>/asset`` books (an on-venue USDT/KRW market); a streamed rate
        (:class:`~arbot.events.FxRate`); a configured rate; the last good value.
        """
        if asset in self.usd_assets:
            return 1.0
        market = self.market
        for usd in self.usd_assets:
            p = market.reference_price(f"{asset}/{usd}")
            if p == p:
                self._last_price[asset] = p
                return p
        for usd in self.usd_assets:
            p = market.reference_price(f"{usd}/{asset}")
            if p == p and p > 0.0:
                self._last_price[asset] = 1.0 / p
                return 1.0 / p
        rate = self.streamed_fx.get(asset) or self.configured_fx.get(asset)
        if rate:
            return 1.0 / rate
        return self._last_price.get(asset, math.nan)

    def set_fx(self, currency: str, per_usd: float) -> None:
        """Record a streamed exchange rate (units of ``currency`` per USD)."""
        if per_usd > 0.0:
            self.streamed_fx[currency] = per_usd

    def value_usd(self, venue: str | None = None) -> float:
        """USD value of every balance (on one venue when given); unpriced assets count as 0."""
        total = 0.0
        for (v, asset), qty in self.balances.items():
            if venue is not None and v != venue:
                continue
            if qty == 0.0:
                continue
            p = self.usd_price(asset)
            if p == p:
                total += qty * p
        return total

    def inventory_change_usd(self, venue: str | None = None, asset: str | None = None) -> float:
        """Absolute USD value of non-USD holdings changed since the start (open exposure)."""
        total = 0.0
        keys = set(self.balances) | set(self.initial)
        for v, a in keys:
            if a in self.usd_assets:
                continue
            if venue is not None and v != venue:
                continue
            if asset is not None and a != asset:
                continue
            delta = self.balances.get((v, a), 0.0) - self.initial.get((v, a), 0.0)
            p = self.usd_price(a)
            if p == p:
                total += abs(delta) * p
        return total

    def inventory_changes_usd(self, venue: str | None = None) -> dict[str, float]:
        """Signed USD value of each non-USD asset's change since the start (on one venue when
        given, else netted across venues): positive when more is held than at the start."""
        change: dict[str, float] = {}
        for v, a in set(self.balances) | set(self.initial):
            if a in self.usd_assets or (venue is not None and v != venue):
                continue
            change[a] = change.get(a, 0.0) + self.balances.get((v, a), 0.0) - self.initial.get((v, a), 0.0)
        out: dict[str, float] = {}
        for a in sorted(change):
            p = self.usd_price(a)
            if p == p:
                out[a] = change[a] * p
        return out

    def net_position_usd(self, asset: str | None = None) -> float:
        """USD value of the unhedged change in holdings, per coin netted across venues, summed."""
        net: dict[str, float] = {}
        for v, a in set(self.balances) | set(self.initial):
            if a in self.usd_assets or (asset is not None and a != asset):
                continue
            net[a] = net.get(a, 0.0) + self.balances.get((v, a), 0.0) - self.initial.get((v, a), 0.0)
        total = 0.0
        for a, qty in net.items():
            p = self.usd_price(a)
            if p == p:
                total += abs(qty) * p
        return total

    def fully_priced(self) -> bool:
        """True when every asset held can be valued in USD."""
        return all(self.usd_price(a) == self.usd_price(a) for (_, a) in self.balances)

    def snapshot(self, ts: float) -> list[BalanceSnapshot]:
        """Every balance with its USD value."""
        out = []
        for (venue, asset), qty in sorted(self.balances.items()):
            p = self.usd_price(asset)
            out.append(BalanceSnapshot(ts, venue, asset, qty, qty * p if p == p else 0.0))
        return out
