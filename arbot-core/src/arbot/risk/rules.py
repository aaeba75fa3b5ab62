"""Built-in risk rules (TRD §3.4 ``RiskConfig``). Each decision carries the rule and a reason.

Every rule reads its limits from ``[risk]``; all are monotone in their limits: a stricter
limit never approves a larger opportunity.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, ClassVar

from pydantic import Field

from arbot.components import BotContext, RiskRule
from arbot.config import ComponentSettings
from arbot.events import ExecutionReport, Opportunity, RiskDecision, Side
from arbot.market import split_symbol

__all__ = [
    "BUILTIN_RULES",
    "BalanceRule",
    "CircuitBreakerRule",
    "DailyLossRule",
    "ExposureRule",
    "MaxDrawdownRule",
    "PriceDeviationRule",
    "SpreadAnomalyRule",
    "StaleBookRule",
]


def _leg_notional_usd(ctx: BotContext, opp: Opportunity) -> list[tuple[str, str, float]]:
    """(venue, base asset, USD notional) of each leg."""
    out = []
    for leg in opp.legs:
        base, quote = split_symbol(leg.symbol)
        q_usd = ctx.usd_price(quote)
        if q_usd != q_usd:
            q_usd = 0.0
        out.append((leg.venue, base, leg.qty * leg.price * q_usd))
    return out


class _ConfiguredRule(RiskRule):
    """A built-in rule: its limits come from ``ctx.config.risk``."""

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self.risk = ctx.config.risk


class StaleBookRule(_ConfiguredRule):
    """Rejects an opportunity if any leg's book is older than ``max_book_age_ms`` or not live."""

    name: ClassVar[str] = "stale_book"

    def evaluate(self, opportunity: Opportunity, now: float) -> RiskDecision:
        """Reject when a leg's book is stale, crossed or not synchronised."""
        limit = self.risk.max_book_age_ms / 1000.0
        market = self.ctx.market
        for leg in opportunity.legs:
            book = market.get(leg.venue, leg.symbol)
            if book is None:
                return RiskDecision.reject(self.name, f"no book for {leg.symbol} on {leg.venue}")
            age = book.age(now)
            if age > limit:
                return RiskDecision.reject(
                    self.name,
                    f"{leg.venue} {leg.symbol} book is {age * 1000:.0f} ms old "
                    f"(max_book_age_ms={self.risk.max_book_age_ms:g})",
                )
            if not market.is_live(leg.venue, leg.symbol):
                return RiskDecision.reject(
                    self.name,
                    f"{leg.venue} {leg.symbol} book is {market.health(leg.venue, leg.symbol)}",
                )
            if book.is_crossed:
                return RiskDecision.reject(self.name, f"{leg.venue} {leg.symbol} book is crossed")
        return RiskDecision.approve(self.name)


class SpreadAnomalyRule(_ConfiguredRule):
    """Rejects spreads above ``max_spread_pct``: too good to be true is usually bad data."""

    name: ClassVar[str] = "spread_anomaly"

    def evaluate(self, opportunity: Opportunity, now: float) -> RiskDecision:
        """Reject when the gross spread exceeds ``max_spread_pct``."""
        if opportunity.gross_spread_pct > self.risk.max_spread_pct:
            return RiskDecision.reject(
                self.name,
                f"gross spread {opportunity.gross_spread_pct:.3f}% > "
                f"max_spread_pct {self.risk.max_spread_pct:g}%",
            )
        return RiskDecision.approve(self.name)


class PriceDeviationRule(_ConfiguredRule):
    """Rejects a leg priced more than ``price_deviation_threshold_pct`` from the cross-venue median."""

    name: ClassVar[str] = "price_deviation"

    def evaluate(self, opportunity: Opportunity, now: float) -> RiskDecision:
        """Compare each leg's price with the median mid of its symbol across venues."""
        limit = self.risk.price_deviation_threshold_pct
        market = self.ctx.market
        for leg in opportunity.legs:
            ref = market.reference_price(leg.symbol)
            if ref != ref or ref <= 0.0:
                continue
            dev = abs(leg.price / ref - 1.0) * 100.0
            if dev > limit:
                return RiskDecision.reject(
                    self.name,
                    f"{leg.venue} {leg.symbol} price {leg.price:g} is {dev:.2f}% from the "
                    f"median {ref:g} (price_deviation_threshold_pct={limit:g})",
                )
        return RiskDecision.approve(self.name)


class CircuitBreakerSettings(ComponentSettings):
    """``[risk.circuit_breaker]``: what a trip does beyond the cooldown."""

    kill_switch: bool = Field(
        False,
        description="a trip also engages the live kill switch: every open order is cancelled and "
        "trading stays stopped (across restarts) until `arbot stop --clear`",
    )


class CircuitBreakerRule(_ConfiguredRule):
    """Stops trading for ``cooldown_minutes`` after ``consecutive_loss_limit`` losing trades
    (and, with ``kill_switch = true``, engages the kill switch through ``ctx.halt_trading``)."""

    name: ClassVar[str] = "circuit_breaker"
    Settings: ClassVar[type[ComponentSettings]] = CircuitBreakerSettings

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self.breaker: CircuitBreakerSettings = settings
        self.consecutive_losses = 0
        self.halted_until = -math.inf
        self.trips = 0

    def evaluate(self, opportunity: Opportunity, now: float) -> RiskDecision:
        """Reject while the breaker is open."""
        if now < self.halted_until:
            return RiskDecision.reject(
                self.name,
                f"circuit breaker open after {self.risk.consecutive_loss_limit} consecutive "
                f"losses, {self.halted_until - now:.0f} s of cooldown left",
            )
        return RiskDecision.approve(self.name)

    def on_report(self, report: ExecutionReport) -> None:
        """Count consecutive losses; trip the breaker at the limit."""
        if not report.executed:
            return
        if report.pnl_usd < 0.0:
            self.consecutive_losses += 1
            if self.consecutive_losses >= self.risk.consecutive_loss_limit:
                self.halted_until = report.ts + self.risk.cooldown_minutes * 60.0
                self.consecutive_losses = 0
                self.trips += 1
                self.ctx.counters["circuit_breaker_trips"] += 1
                halt = self.ctx.halt_trading
                if self.breaker.kill_switch and halt is not None:
                    halt(
                        f"circuit breaker: {self.risk.consecutive_loss_limit} consecutive losses "
                        f"(last episode {report.opportunity.id})"
                    )
        else:
            self.consecutive_losses = 0


class DailyLossRule(_ConfiguredRule):
    """Stops for the rest of the UTC day once the day's loss passes a daily limit.

    The limits are ``max_daily_loss_usd`` and ``max_daily_loss_pct`` (of the day's starting equity).
    """

    name: ClassVar[str] = "daily_loss"

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self.day: dt.date | None = None
        self.day_pnl = 0.0
        self.day_start_equity = math.nan

    def _roll(self, now: float) -> None:
        day = dt.datetime.fromtimestamp(now, dt.UTC).date()
        if day != self.day:
            self.day = day
            self.day_pnl = 0.0
            self.day_start_equity = self.ctx.portfolio.value_usd()

    def evaluate(self, opportunity: Opportunity, now: float) -> RiskDecision:
        """Reject when today's loss is at or past a limit."""
        self._roll(now)
        loss = -self.day_pnl
        if loss >= self.risk.max_daily_loss_usd:
            return RiskDecision.reject(
                self.name,
                f"daily loss {loss:.2f} USD >= max_daily_loss_usd {self.risk.max_daily_loss_usd:g}",
            )
        equity = self.day_start_equity
        if equity == equity and equity > 0 and loss / equity * 100.0 >= self.risk.max_daily_loss_pct:
            return RiskDecision.reject(
                self.name,
                f"daily loss {loss / equity * 100:.3f}% >= max_daily_loss_pct "
                f"{self.risk.max_daily_loss_pct:g}%",
            )
        return RiskDecision.approve(self.name)

    def on_report(self, report: ExecutionReport) -> None:
        """Add the report's PnL to today's."""
        self._roll(report.ts)
        self.day_pnl += report.pnl_usd


class MaxDrawdownRule(_ConfiguredRule):
    """Stops trading while equity is more than ``max_drawdown_pct`` below its peak."""

    name: ClassVar[str] = "max_drawdown"

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self.peak = -math.inf
        self.equity = math.nan

    def evaluate(self, opportunity: Opportunity, now: float) -> RiskDecision:
        """Reject while the drawdown from the peak is at or past the limit."""
        if self.peak == -math.inf:
            self.peak = self.ctx.portfolio.value_usd()
            self.equity = self.peak
        if self.peak > 0 and self.equity == self.equity:
            dd = (self.peak - self.equity) / self.peak * 100.0
            if dd >= self.risk.max_drawdown_pct:
                return RiskDecision.reject(
                    self.name,
                    f"drawdown {dd:.3f}% >= max_drawdown_pct {self.risk.max_drawdown_pct:g}%",
                )
        return RiskDecision.approve(self.name)

    def on_report(self, report: ExecutionReport) -> None:
        """Track equity and its peak from realised results."""
        if self.peak == -math.inf:
            self.peak = self.ctx.portfolio.value_usd() - report.pnl_usd
            self.equity = self.peak
        self.equity += report.pnl_usd
        self.peak = max(self.peak, self.equity)


def _displacement(current: dict[str, float], change: dict[str, float], scale: float) -> float:
    """Total absolute USD displacement once ``change`` (per asset, signed) is added at ``scale``."""
    total = 0.0
    for asset, value in current.items():
        if asset not in change:
            total += abs(value)
    for asset, delta in change.items():
        total += abs(current.get(asset, 0.0) + delta * scale)
    return total


def _largest_fit(current: dict[str, float], change: dict[str, float], cap: float, scale: float) -> float:
    """The largest ``s`` in ``[0, scale]`` whose displacement stays within ``cap``, or within the
    displacement now when that is already past the cap (a trade that brings inventory back is
    always allowed).

    The displacement is convex and piecewise linear in ``s`` (it bends where an asset's change
    crosses zero), so the allowed ``s`` form an interval from 0; its end is found on the first
    linear piece that passes the limit.
    """
    limit = max(cap, _displacement(current, {}, 0.0))
    if _displacement(current, change, scale) <= limit:
        return scale
    bends = sorted(
        b
        for asset, delta in change.items()
        if delta != 0.0 and 0.0 < (b := -current.get(asset, 0.0) / delta) < scale
    )
    lo = 0.0
    f_lo = _displacement(current, change, 0.0)
    for hi in [*bends, scale]:
        f_hi = _displacement(current, change, hi)
        if f_hi > limit:
            if f_hi <= f_lo:  # cannot happen on a convex function that starts within the limit
                return lo
            return min(hi, max(lo, lo + (limit - f_lo) * (hi - lo) / (f_hi - f_lo)))
        lo, f_lo = hi, f_hi
    return scale


class ExposureRule(_ConfiguredRule):
    """Caps positions per coin, per venue and in total (``max_position_per_*``, ``max_total_exposure_usd``).

    * per coin: the USD notional of each leg (the position one opportunity opens);
    * per venue: how far the venue's non-USD holdings would be from their starting values after
      the legs sent there (inventory displaced by one-directional trading), each asset's change
      signed, so a leg that brings inventory back toward its start frees room instead of using it;
    * total: the unhedged position after the opportunity, each coin's holdings change netted
      across venues, so the legs of a spatial arbitrage (bought on one venue, sold on another)
      hedge each other.

    The opportunity is resized to fit every cap, or rejected when nothing fits. A venue (or the
    total) already past its cap accepts only what does not move it further away.
    """

    name: ClassVar[str] = "exposure"

    def _leg_changes(self, opportunity: Opportunity) -> list[tuple[str, dict[str, float]]]:
        """(venue, signed USD change per non-USD asset) of each leg: its base, and its quote
        when that is not a USD asset (a cross pair moves two inventories)."""
        ctx = self.ctx
        usd_assets = ctx.portfolio.usd_assets
        out = []
        for leg in opportunity.legs:
            base, quote = split_symbol(leg.symbol)
            q_usd = ctx.usd_price(quote)
            if q_usd != q_usd:
                q_usd = 0.0
            notional = leg.qty * leg.price * q_usd
            sign = 1.0 if leg.side is Side.BUY else -1.0
            change = {base: sign * notional}
            if quote not in usd_assets:
                change[quote] = change.get(quote, 0.0) - sign * notional
            out.append((leg.venue, change))
        return out

    def evaluate(self, opportunity: Opportunity, now: float) -> RiskDecision:
        """Resize the opportunity to the tightest cap."""
        r = self.risk
        pf = self.ctx.portfolio
        legs = _leg_notional_usd(self.ctx, opportunity)
        if not legs:
            return RiskDecision.approve(self.name)
        scale = 1.0
        reason = ""
        largest = max(n for _, _, n in legs)
        if largest > r.max_position_per_coin_usd:
            scale = r.max_position_per_coin_usd / largest
            reason = (
                f"leg notional {largest:.0f} USD > max_position_per_coin_usd {r.max_position_per_coin_usd:g}"
            )
        per_venue: dict[str, dict[str, float]] = {}
        net: dict[str, float] = {}
        for venue, change in self._leg_changes(opportunity):
            moved = per_venue.setdefault(venue, {})
            for asset, delta in change.items():
                moved[asset] = moved.get(asset, 0.0) + delta
                net[asset] = net.get(asset, 0.0) + delta
        for venue, change in per_venue.items():
            s = _largest_fit(pf.inventory_changes_usd(venue), change, r.max_position_per_exchange_usd, scale)
            if s < scale:
                scale = s
                reason = (
                    f"{venue} inventory would move more than "
                    f"max_position_per_exchange_usd {r.max_position_per_exchange_usd:g}"
                )
        s = _largest_fit(pf.inventory_changes_usd(), net, r.max_total_exposure_usd, scale)
        if s < scale:
            scale = s
            reason = f"unhedged exposure would pass max_total_exposure_usd {r.max_total_exposure_usd:g}"
        if scale >= 1.0:
            return RiskDecision.approve(self.name)
        if scale <= 1e-9:
            return RiskDecision.reject(self.name, reason)
        return RiskDecision.resize(self.name, scale, reason)


class BalanceRule(_ConfiguredRule):
    """Resizes each leg to the balance on its venue: spot legs cannot sell what is not there."""

    name: ClassVar[str] = "balance"

    def evaluate(self, opportunity: Opportunity, now: float) -> RiskDecision:
        """Scale down to the scarcest balance; reject when a leg has none."""
        pf = self.ctx.portfolio
        scale = 1.0
        reason = ""
        for leg in opportunity.legs:
            base, quote = split_symbol(leg.symbol)
            fee = self.ctx.taker_fee(leg.venue, leg.symbol)
            if leg.side is Side.BUY:
                have = pf.balance(leg.venue, quote)
                need = leg.qty * leg.price * (1.0 + fee)
                asset = quote
            else:
                have = pf.balance(leg.venue, base)
                need = leg.qty
                asset = base
            if need > have:
                s = max(have, 0.0) / need if need > 0 else 0.0
                if s < scale:
                    scale = s
                    reason = f"insufficient {asset} on {leg.venue}: have {have:.8g}, need {need:.8g}"
        if scale >= 1.0:
            return RiskDecision.approve(self.name)
        if scale < 1e-6:
            return RiskDecision.reject(self.name, reason)
        return RiskDecision.resize(self.name, scale, reason)


BUILTIN_RULES: tuple[type[RiskRule], ...] = (
    StaleBookRule,
    SpreadAnomalyRule,
    PriceDeviationRule,
    CircuitBreakerRule,
    DailyLossRule,
    MaxDrawdownRule,
    ExposureRule,
    BalanceRule,
)
