"""Depth-aware sizing of one cycle: the largest start amount whose marginal unit still earns
``min_profit`` after taker fees, walking every book level by level.

Fees are charged in the quote currency (as the simulated executors charge them): selling
``q`` base at ``p`` yields ``q * p * (1 - fee)`` quote; buying ``q`` base at ``p`` costs
``q * p * (1 + fee)`` quote.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from arbot.book import OrderBook

from arbot_triangular.cycles import SELL_BASE

__all__ = ["CycleFill", "leg_steps", "size_cycle"]


class CycleFill:
    """The result of sizing a cycle.

    ``amounts[i]`` is what leg ``i`` consumes (in its input asset) and ``base_qty[i]`` the base
    quantity it trades; ``worst[i]`` the worst price it reaches.
    """

    __slots__ = ("amount_in", "amount_out", "base_qty", "gross_out", "levels", "worst")

    def __init__(self, legs: int) -> None:
        self.amount_in = 0.0
        self.amount_out = 0.0
        self.gross_out = 0.0
        self.base_qty = [0.0] * legs
        self.worst = [0.0] * legs
        self.levels = 0

    @property
    def profit(self) -> float:
        """Output minus input, in the start asset."""
        return self.amount_out - self.amount_in


def leg_steps(book: OrderBook, side: int, fee: float) -> Iterator[tuple[float, float, float, float]]:
    """Levels of one leg as (input capacity, net rate, gross rate, price), best first."""
    if side == SELL_BASE:
        for price, qty in book.bids:
            yield qty, price * (1.0 - fee), price, price
    else:
        for price, qty in book.asks:
            yield qty * price * (1.0 + fee), 1.0 / (price * (1.0 + fee)), 1.0 / price, price


def size_cycle(
    books: Sequence[OrderBook],
    sides: Sequence[int],
    fees: Sequence[float],
    min_profit: float,
    max_in: float = float("inf"),
) -> CycleFill:
    """Walk all legs together while the product of marginal rates is at least ``1 + min_profit``."""
    n = len(books)
    out = CycleFill(n)
    walks = [leg_steps(books[i], sides[i], fees[i]) for i in range(n)]
    cap = [0.0] * n
    rate = [0.0] * n
    gross = [0.0] * n
    price = [0.0] * n
    for i in range(n):
        step = next(walks[i], None)
        if step is None:
            return out
        cap[i], rate[i], gross[i], price[i] = step
    threshold = 1.0 + min_profit
    full = cap[:]  # each level's capacity, to recognise a level used up by rounding
    remaining = max_in
    while remaining > 0.0:
        product = 1.0
        for r in rate:
            product *= r
        if product < threshold:
            break
        # how much start amount fits before some leg uses up its level
        dx = remaining
        limiting = -1
        scale = 1.0
        for i in range(n):
            room = cap[i] / scale
            if room < dx:
                dx = room
                limiting = i
            scale *= rate[i]
        # push dx through every leg
        amount = dx
        gross_amount = dx
        for i in range(n):
            cap[i] -= amount
            out.base_qty[i] += amount if sides[i] == SELL_BASE else amount * rate[i]
            out.worst[i] = price[i]
            amount *= rate[i]
            gross_amount *= gross[i]
        out.amount_in += dx
        out.amount_out += amount
        out.gross_out += gross_amount
        out.levels += 1
        remaining -= dx
        if limiting < 0:
            break  # max_in reached
        for i in range(n):
            if i == limiting or cap[i] <= 1e-12 * full[i]:
                step = next(walks[i], None)
                if step is None:
                    return out
                cap[i], rate[i], gross[i], price[i] = step
                full[i] = cap[i]
    return out
