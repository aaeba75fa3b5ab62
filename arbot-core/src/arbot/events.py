"""Hot-path event models: slotted attrs classes, frozen where the engine never mutates them.

Prices and sizes are floats inside the engine. Times are float seconds since the Unix epoch on
the engine's clock (virtual in backtests, wall clock in paper/live mode).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import attrs

#: One price level: (price, quantity). Sequences of levels may be lists of tuples, lists of
#: lists or an (n, 2) numpy array; the order book accepts all of them.
Level = tuple[float, float]
Levels = Sequence[Sequence[float]] | Any


class Side(enum.StrEnum):
    """Order side."""

    BUY = "BUY"
    SELL = "SELL"


class SignalStatus(enum.StrEnum):
    """Final status of a detected opportunity, as written to the journal (TRD 4.1)."""

    DETECTED = "DETECTED"
    EXECUTED = "EXECUTED"
    REJECTED = "REJECTED"
    MISSED = "MISSED"


class FillStatus(enum.StrEnum):
    """Status of one order (one leg), as in the TRD's ``trades`` table."""

    PENDING = "PENDING"
    FILLED = "FILLED"
    PARTIAL = "PARTIAL"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


class RiskAction(enum.StrEnum):
    """What a risk rule decided about an opportunity."""

    APPROVE = "APPROVE"
    RESIZE = "RESIZE"
    REJECT = "REJECT"


@attrs.define(slots=True, frozen=True)
class BookUpdate:
    """A change to one order book: a full snapshot or a delta of changed levels.

    ``bids``/``asks`` hold (price, quantity) levels; a quantity of 0 in a delta removes the
    level. ``ts`` is the local receive time on the engine clock, ``exchange_ts`` the venue's
    own time when it sends one. ``applied`` is True when a live connector has already applied
    the change to the book in the bot's market state (and set its health): the engine then only
    tells the detectors, so a message is applied once.
    """

    ts: float
    venue: str
    symbol: str
    bids: Levels
    asks: Levels
    snapshot: bool = False
    exchange_ts: float | None = None
    applied: bool = False


@attrs.define(slots=True, frozen=True)
class TradeTick:
    """One public trade on a venue."""

    ts: float
    venue: str
    symbol: str
    price: float
    size: float
    side: Side
    exchange_ts: float | None = None


@attrs.define(slots=True, frozen=True)
class FxRate:
    """A streamed exchange rate: ``per_usd`` units of ``currency`` buy one US dollar."""

    ts: float
    currency: str
    per_usd: float


@attrs.define(slots=True, frozen=True)
class Leg:
    """One order of an opportunity: buy or sell ``qty`` of ``symbol`` on ``venue``.

    ``price`` is the limit price (the worst price the detector accepted when walking the book).
    """

    venue: str
    symbol: str
    side: Side
    price: float
    qty: float

    def scaled(self, factor: float) -> Leg:
        """This leg with its quantity multiplied by ``factor``."""
        return attrs.evolve(self, qty=self.qty * factor)


@attrs.define(slots=True, frozen=True)
class Opportunity:
    """An arbitrage opportunity found by a detector (the TRD's ``ArbitrageSignal``).

    ``estimated_profit`` and ``depth_usd`` are in USD; spreads are in percent.
    """

    id: str
    ts: float
    strategy: str
    symbol: str
    legs: tuple[Leg, ...]
    gross_spread_pct: float
    net_spread_pct: float
    estimated_profit: float
    confidence: float = 1.0
    depth_usd: float = 0.0
    metadata: dict[str, Any] = attrs.field(factory=dict)

    @property
    def buy_venue(self) -> str | None:
        """Venue of the first buy leg, if any."""
        return next((leg.venue for leg in self.legs if leg.side is Side.BUY), None)

    @property
    def sell_venue(self) -> str | None:
        """Venue of the first sell leg, if any."""
        return next((leg.venue for leg in self.legs if leg.side is Side.SELL), None)

    def scaled(self, factor: float) -> Opportunity:
        """This opportunity with every leg (and the estimated profit) scaled by ``factor``."""
        return attrs.evolve(
            self,
            legs=tuple(leg.scaled(factor) for leg in self.legs),
            estimated_profit=self.estimated_profit * factor,
            depth_usd=self.depth_usd * factor,
        )


@attrs.define(slots=True, frozen=True)
class RiskDecision:
    """A risk rule's verdict: approve, resize by ``scale`` (0 < scale < 1) or reject."""

    action: RiskAction
    rule: str
    reason: str = ""
    scale: float = 1.0

    @classmethod
    def approve(cls, rule: str) -> RiskDecision:
        """Approve unchanged."""
        return cls(RiskAction.APPROVE, rule)

    @classmethod
    def reject(cls, rule: str, reason: str) -> RiskDecision:
        """Reject, with the reason the journal and summary report."""
        return cls(RiskAction.REJECT, rule, reason, 0.0)

    @classmethod
    def resize(cls, rule: str, scale: float, reason: str) -> RiskDecision:
        """Shrink every leg by ``scale``; a scale of 0 or less is a rejection."""
        if scale <= 0.0:
            return cls.reject(rule, reason)
        if scale >= 1.0:
            return cls.approve(rule)
        return cls(RiskAction.RESIZE, rule, reason, scale)


@attrs.define(slots=True, frozen=True)
class Fill:
    """The outcome of one leg: what was asked, what filled, at what average price, for what fee."""

    opportunity_id: str
    venue: str
    symbol: str
    side: Side
    order_type: str
    requested_qty: float
    requested_price: float
    filled_qty: float
    avg_price: float
    fee: float
    fee_asset: str
    status: FillStatus
    ts: float
    latency_ms: float
    mode: str


@attrs.define(slots=True, frozen=True)
class ExecutionReport:
    """What the executor did with one approved opportunity and the PnL in USD.

    ``fills`` holds one entry per order: the legs first, then any retry, hedge or unwind orders
    of the leg-risk machine. ``pnl_usd`` is the realised edge, ``expected_pnl_usd`` what the
    opportunity promised when it was seen.
    """

    opportunity: Opportunity
    fills: tuple[Fill, ...]
    ts: float
    pnl_usd: float
    fees_usd: float
    reason: str = ""
    #: the PnL the detector expected of the (sized) opportunity, USD
    expected_pnl_usd: float = 0.0
    #: the leg-risk machine's final state (DONE, MISSED, UNWOUND, HEDGED, HELD, HALTED, BLOCKED)
    outcome: str = ""
    #: exposure the episode left open: (venue, asset, amount)
    residual: tuple[tuple[str, str, float], ...] = ()

    @property
    def executed(self) -> bool:
        """True when at least one leg filled something."""
        return any(f.filled_qty > 0.0 for f in self.fills)


@attrs.define(slots=True, frozen=True)
class SignalRecord:
    """An opportunity with its final status and reason, as the journal stores it."""

    opportunity: Opportunity
    status: SignalStatus
    reason: str
    ts: float
    actual_pnl: float | None = None
    executed_ts: float | None = None


@attrs.define(slots=True, frozen=True)
class BalanceSnapshot:
    """One balance at one time, with its USD value (a row of ``portfolio_snapshots``)."""

    ts: float
    venue: str
    asset: str
    balance: float
    usd_value: float


@attrs.define(slots=True, frozen=True)
class DailyPerformance:
    """One day's results (a row of ``daily_performance``)."""

    date: str
    mode: str
    total_signals: int
    executed_trades: int
    total_pnl: float
    total_fees: float
    net_pnl: float
    sharpe_ratio: float | None
    max_drawdown: float
    win_rate: float | None
