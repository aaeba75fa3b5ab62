"""The plugin module named by the ``arbot`` entry point."""

from __future__ import annotations

import collections
import statistics
from collections.abc import Sequence
from typing import Any, ClassVar

from arbot import hookimpl
from arbot.components import BotContext, Detector, RiskRule
from arbot.config import ComponentSettings
from arbot.events import Leg, Opportunity, RiskDecision, Side
from pydantic import Field


class OutlierSettings(ComponentSettings):
    """``[detector.outlier_mid]``."""

    min_deviation_pct: float = Field(
        0.4, gt=0,
        description=(
            "Smallest deviation of a venue's mid from the others' median, in percent, that is "
            "reported."
        ),
    )


class OutlierMidDetector(Detector):
    """Trades a venue whose mid strays from the other venues' median mid."""

    name: ClassVar[str] = "outlier_mid"
    Settings: ClassVar[type[ComponentSettings]] = OutlierSettings

    def on_book(self, venue: str, symbol: str, now: float) -> Sequence[Opportunity]:
        """Compare the changed venue's mid with the median of the others."""
        market = self.ctx.market
        book = market.get(venue, symbol)
        others = [b for b in market.books_for(symbol) if b.venue != venue and not b.is_empty]
        if book is None or book.is_empty or not others:
            return ()
        median = statistics.median(b.mid for b in others)
        deviation = (book.mid / median - 1.0) * 100.0
        if abs(deviation) < self.settings.min_deviation_pct:
            return ()
        if deviation > 0:  # rich here: sell here, buy at the cheapest other ask
            cheap = min(others, key=lambda b: b.best_ask)
            buy_px, sell_px = cheap.best_ask, book.best_bid
            qty = min(cheap.asks.best()[1], book.bids.best()[1])  # type: ignore[index]
            buy_venue, sell_venue = cheap.venue, venue
        else:
            rich = max(others, key=lambda b: b.best_bid)
            buy_px, sell_px = book.best_ask, rich.best_bid
            qty = min(book.asks.best()[1], rich.bids.best()[1])  # type: ignore[index]
            buy_venue, sell_venue = venue, rich.venue
        if sell_px <= buy_px:
            return ()
        gross = (sell_px / buy_px - 1.0) * 100.0
        fees = self.ctx.taker_fee(buy_venue, symbol) + self.ctx.taker_fee(sell_venue, symbol)
        return [
            Opportunity(
                id=self.ctx.new_id(),
                ts=now,
                strategy="outlier_mid",
                symbol=symbol,
                legs=(
                    Leg(buy_venue, symbol, Side.BUY, buy_px, qty),
                    Leg(sell_venue, symbol, Side.SELL, sell_px, qty),
                ),
                gross_spread_pct=gross,
                net_spread_pct=gross - fees * 100.0,
                estimated_profit=qty * (sell_px - buy_px) - qty * buy_px * fees,
                metadata={"deviation_pct": deviation},
            )
        ]


class TradeRateSettings(ComponentSettings):
    """``[risk.trade_rate]``."""

    max_per_minute: int = Field(5, ge=1, description="Most opportunities approved in any rolling 60 seconds.")


class TradeRateRule(RiskRule):
    """Approves at most ``max_per_minute`` opportunities in any rolling minute."""

    name: ClassVar[str] = "trade_rate"
    Settings: ClassVar[type[ComponentSettings]] = TradeRateSettings

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self.approved: collections.deque[float] = collections.deque()

    def evaluate(self, opportunity: Opportunity, now: float) -> RiskDecision:
        """Reject when the last minute already had ``max_per_minute`` approvals."""
        while self.approved and self.approved[0] <= now - 60.0:
            self.approved.popleft()
        if len(self.approved) >= self.settings.max_per_minute:
            return RiskDecision.reject(
                self.name,
                f"{len(self.approved)} approvals in the last minute (max_per_minute="
                f"{self.settings.max_per_minute})",
            )
        self.approved.append(now)
        return RiskDecision.approve(self.name)


@hookimpl
def arbot_register_detectors() -> Sequence[type[Detector]]:
    """The example detector."""
    return [OutlierMidDetector]


@hookimpl
def arbot_register_risk_rules() -> Sequence[type[RiskRule]]:
    """The example risk rule."""
    return [TradeRateRule]
