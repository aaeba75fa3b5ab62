"""The triangular detector: on a book change, re-price only the cycles through that market.

Each venue keeps a vector of executable top-of-book rates (two per market: selling the base at
the bid, buying it at the ask, taker fee included). A book change updates its market's two
rates and multiplies, for every cycle through that market at once (numpy), the rates of its
legs; only cycles whose product clears ``1 + min_profit`` are then sized through the full
depth of their books.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt
from arbot.components import BotContext, Detector
from arbot.config import ComponentSettings
from arbot.events import Leg, Opportunity, Side
from arbot.market import MarketInfo
from pydantic import Field

from arbot_triangular.cycles import BUY_BASE, SELL_BASE, Cycle, MarketGraph
from arbot_triangular.sizing import size_cycle

__all__ = ["DEFAULT_START_ASSETS", "TriangularDetector", "TriangularSettings", "VenueCycles"]

#: Assets a cycle preferably starts (and measures its profit) in, best first.
DEFAULT_START_ASSETS = ("USDT", "USDC", "BUSD", "USD", "FDUSD", "DAI", "BTC", "ETH", "BNB")


class TriangularSettings(ComponentSettings):
    """``[detector.triangular]`` (TRD §6.1 keys and defaults)."""

    min_profit_pct: float = Field(0.15, ge=0, description="net of the taker fees of every leg")
    paths: list[list[str]] = Field(
        default_factory=list,
        description="explicit cycles as market lists, e.g. [['BTC/USDT', 'ETH/BTC', 'ETH/USDT']]; "
        "empty: every cycle of the venue's market graph",
    )
    venue: str | list[str] | None = Field(
        None, description="the venue (or venues) to watch; default: every venue with markets"
    )
    max_cycle_length: Literal[3, 4] = Field(
        3,
        description="Longest cycle searched: 3 (triangles) or 4 markets.",
    )
    start_assets: list[str] | None = Field(
        None,
        description="only cycles through one of these assets, started (and measured) at the first "
        "listed one they contain; default: every cycle, started at a USD stablecoin, BTC, ETH or BNB "
        "when it has one",
    )
    max_notional_usd: float | None = Field(None, gt=0, description="cap on the start amount")
    min_depth_usd: float = Field(10.0, ge=0, description="smallest start amount worth reporting")
    max_latency_ms: float = Field(1_000.0, gt=0, description="maximum age of any leg's book")
    check_order_minimums: bool = Field(
        True,
        description="drop a cycle when a leg is below its market's min_qty or min_notional (quote units)",
    )


class VenueCycles:
    """The cycles of one venue as arrays, and the top-of-book rates they are priced with."""

    def __init__(self, venue: str, graph: MarketGraph, cycles: Sequence[Cycle]) -> None:
        self.venue = venue
        self.graph = graph
        self.cycles = list(cycles)
        #: listed symbols the graph leaves out (no new cycle), so they trigger no rebuild
        self.unused: set[str] = set()
        n_markets = len(graph.markets)
        #: rates[2m] = bid * (1 - fee), rates[2m + 1] = 1 / (ask * (1 + fee)); 0 when unknown
        self.rates = np.zeros(2 * n_markets, dtype=np.float64)
        self.fees = np.zeros(n_markets, dtype=np.float64)
        self.by_length: dict[int, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = {}
        self.through: dict[int, list[npt.NDArray[np.int64]]] = {}
        for length in sorted({len(c.markets) for c in self.cycles}):
            ids = np.array([k for k, c in enumerate(self.cycles) if len(c.markets) == length], dtype=np.int64)
            legs = np.array(
                [
                    [2 * m + s for m, s in zip(self.cycles[k].markets, self.cycles[k].sides, strict=True)]
                    for k in ids.tolist()
                ],
                dtype=np.int64,
            ).reshape(len(ids), length)
            self.by_length[length] = (ids, legs)
            per_market: list[list[int]] = [[] for _ in range(n_markets)]
            for row, k in enumerate(ids.tolist()):
                for m in self.cycles[k].markets:
                    per_market[m].append(row)
            self.through[length] = [np.array(rows, dtype=np.int64) for rows in per_market]

    def candidates(self, market: int, threshold: float) -> list[int]:
        """Cycles through ``market`` whose top-of-book product clears ``threshold``."""
        rates = self.rates
        out: list[int] = []
        for length, (ids, legs) in self.by_length.items():
            rows = self.through[length][market]
            if not len(rows):
                continue
            product = rates[legs[rows]].prod(axis=1)
            hit = rows[product >= threshold]
            if len(hit):
                out.extend(ids[hit].tolist())
        return out


class TriangularDetector(Detector):
    """Every 3-cycle (and 4-cycle when asked) of a venue on executable prices, depth-aware."""

    name: ClassVar[str] = "triangular"
    Settings: ClassVar[type[ComponentSettings]] = TriangularSettings
    description: ClassVar[str] = "cycles of a venue's market graph on bid/ask with depth (TRD 3.2)"

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self._threshold = 1.0 + settings.min_profit_pct / 100.0
        self._max_age = settings.max_latency_ms / 1000.0
        self._venues: dict[str, VenueCycles | None] = {}
        wanted = settings.venue
        self._only: set[str] | None = (
            None if wanted is None else {wanted} if isinstance(wanted, str) else set(wanted)
        )
        self._symbols: set[str] | None = None
        if settings.paths:
            self._symbols = {s for path in settings.paths for s in path}

    # -- graph ----------------------------------------------------------------------------

    def _markets_of(self, venue: str) -> list[MarketInfo]:
        return [info for (v, _), info in sorted(self.ctx.market.markets.items()) if v == venue]

    def build(self, venue: str) -> VenueCycles | None:
        """(Re)build the cycles of ``venue`` from the market metadata known now."""
        s = self.settings
        markets = self._markets_of(venue)
        listed = {m.symbol for m in markets}
        if s.paths:
            wanted = {sym for path in s.paths for sym in path}
            markets = [m for m in markets if m.symbol in wanted]
        if not markets:
            return None
        prefer = [*(s.start_assets or ()), *DEFAULT_START_ASSETS]
        graph = MarketGraph(markets, max_length=s.max_cycle_length, start_assets=prefer)
        cycles = graph.cycles
        if s.start_assets is not None:
            starts = set(s.start_assets)
            cycles = [c for c in cycles if c.start in starts]
        if s.paths:
            paths = [frozenset(p) for p in s.paths]
            cycles = [c for c in cycles if frozenset(graph.markets[m].symbol for m in c.markets) in paths]
        state = VenueCycles(venue, graph, cycles)
        state.unused = listed - graph.index.keys()
        for i, m in enumerate(graph.markets):
            state.fees[i] = self.ctx.taker_fee(venue, m.symbol)
            self._set_rates(state, i)  # books that already exist price their cycles at once
        return state

    def _set_rates(self, state: VenueCycles, m: int) -> bool:
        """Store market ``m``'s executable top-of-book rates; False (rates 0) when unusable."""
        market = self.ctx.market
        symbol = state.graph.markets[m].symbol
        book = market.get(state.venue, symbol)
        rates = state.rates
        if book is None or not market.is_live(state.venue, symbol) or book.is_crossed:
            rates[2 * m] = 0.0
            rates[2 * m + 1] = 0.0
            return False
        fee = state.fees[m]
        bid = book.best_bid
        ask = book.best_ask
        rates[2 * m] = bid * (1.0 - fee) if bid == bid else 0.0
        rates[2 * m + 1] = 1.0 / (ask * (1.0 + fee)) if ask == ask else 0.0
        return True

    def _state(self, venue: str) -> VenueCycles | None:
        """The cycles of ``venue``, built on first use (None: not watched, or no markets yet)."""
        if venue not in self._venues:
            if self._only is not None and venue not in self._only:
                self._venues[venue] = None
            else:
                self._venues[venue] = self.build(venue)
        return self._venues[venue]

    def _rebuild_for(self, venue: str, symbol: str, state: VenueCycles | None) -> VenueCycles | None:
        """Rebuild ``venue``'s graph when ``symbol`` was listed after the last build, else None."""
        if self._only is not None and venue not in self._only:
            return None
        if (venue, symbol) not in self.ctx.market.markets:
            return None
        if state is not None and symbol in state.unused:
            return None  # listed then, but in no cycle (or not in the configured paths)
        state = self._venues[venue] = self.build(venue)
        return state

    def symbols(self) -> Iterable[str] | None:
        """Only the markets of the configured paths, or every symbol."""
        return self._symbols

    # -- detection ------------------------------------------------------------------------

    def on_book(self, venue: str, symbol: str, now: float) -> Sequence[Opportunity]:
        """Update the changed market's rates, then size every cycle through it that clears."""
        state = self._state(venue)
        m = None if state is None else state.graph.index.get(symbol)
        if state is None or m is None:
            state = self._rebuild_for(venue, symbol, state)
            if state is None or (m := state.graph.index.get(symbol)) is None:
                return ()
        if not self._set_rates(state, m):
            return ()
        hits = state.candidates(m, self._threshold)
        if not hits:
            return ()
        out = []
        for k in hits:
            opp = self._size(state, state.cycles[k], now)
            if opp is not None:
                out.append(opp)
        return out

    def _size(self, state: VenueCycles, cycle: Cycle, now: float) -> Opportunity | None:
        market = self.ctx.market
        venue = state.venue
        books = []
        for m in cycle.markets:
            symbol = state.graph.markets[m].symbol
            book = market.get(venue, symbol)
            if book is None or not market.is_live(venue, symbol) or book.age(now) > self._max_age:
                return None
            books.append(book)
        usd = self.ctx.usd_price(cycle.start)
        if not usd > 0.0:
            return None
        max_in = float("inf")
        if self.settings.max_notional_usd is not None:
            max_in = self.settings.max_notional_usd / usd
        fees = [float(state.fees[m]) for m in cycle.markets]
        fill = size_cycle(books, cycle.sides, fees, self._threshold - 1.0, max_in)
        if fill.amount_in <= 0.0 or fill.amount_in * usd < self.settings.min_depth_usd:
            return None
        if self.settings.check_order_minimums:  # every leg must be a valid order on its market
            for i, m in enumerate(cycle.markets):
                if not state.graph.markets[m].accepts(fill.base_qty[i], fill.worst[i]):
                    return None
        legs = tuple(
            Leg(
                venue,
                state.graph.markets[m].symbol,
                Side.SELL if side == SELL_BASE else Side.BUY,
                fill.worst[i],
                fill.base_qty[i],
            )
            for i, (m, side) in enumerate(zip(cycle.markets, cycle.sides, strict=True))
        )
        path = ">".join((*cycle.assets, cycle.start))
        return Opportunity(
            id=self.ctx.new_id(),
            ts=now,
            strategy="triangular",
            symbol=path,
            legs=legs,
            gross_spread_pct=(fill.gross_out / fill.amount_in - 1.0) * 100.0,
            net_spread_pct=(fill.amount_out / fill.amount_in - 1.0) * 100.0,
            estimated_profit=fill.profit * usd,
            depth_usd=fill.amount_in * usd,
            metadata={
                "path": path,
                "start": cycle.start,
                "amount_in": fill.amount_in,
                "amount_out": fill.amount_out,
                "levels": fill.levels,
                "sides": ["buy" if s == BUY_BASE else "sell" for s in cycle.sides],
                "markets": [state.graph.markets[m].symbol for m in cycle.markets],
            },
        )
