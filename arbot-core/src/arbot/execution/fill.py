"""The fill simulator: walks a leg through the book as an IOC order with a taker fee."""

from __future__ import annotations

import math

from arbot.book import OrderBook
from arbot.events import Fill, FillStatus, Leg, Side

__all__ = ["simulate_leg"]


def simulate_leg(
    book: OrderBook | None,
    leg: Leg,
    *,
    opportunity_id: str,
    fee_rate: float,
    slippage_tolerance: float,
    max_qty: float,
    now: float,
    latency_ms: float,
    mode: str,
    fail_reason: str | None = None,
) -> Fill:
    """Fill ``leg`` against ``book`` as an immediate-or-cancel order, consuming the liquidity.

    The limit is the leg's price widened by ``slippage_tolerance`` (a fraction); only levels at
    or better than the limit fill, so a leg can fill partially or not at all. ``max_qty`` caps
    the size to what the balances allow. ``fail_reason`` forces a failed leg (a simulated venue
    rejection).
    """
    qty = min(leg.qty, max_qty)
    buy = leg.side is Side.BUY
    limit = leg.price * (1.0 + slippage_tolerance) if buy else leg.price * (1.0 - slippage_tolerance)
    filled = 0.0
    cost = 0.0
    if fail_reason is None and book is not None and qty > 0.0:
        side = book.asks if buy else book.bids
        walk = side.walk_qty(qty, limit)
        filled = walk.qty
        cost = walk.cost
        if filled > 0.0:
            side.consume(filled, limit)
    avg = cost / filled if filled > 0.0 else math.nan
    fee = cost * fee_rate
    if filled <= 0.0:
        status = FillStatus.FAILED
    elif filled < leg.qty * (1.0 - 1e-9):
        status = FillStatus.PARTIAL
    else:
        status = FillStatus.FILLED
    return Fill(
        opportunity_id=opportunity_id,
        venue=leg.venue,
        symbol=leg.symbol,
        side=leg.side,
        order_type="IOC",
        requested_qty=leg.qty,
        requested_price=leg.price,
        filled_qty=filled,
        avg_price=avg,
        fee=fee,
        fee_asset=leg.symbol.partition("/")[2],
        status=status,
        ts=now,
        latency_ms=latency_ms,
        mode=mode,
    )
