"""The market graph of one venue and its cycles.

Assets are nodes and markets are edges. A cycle is a closed path of distinct assets
``a0 -> a1 -> ... -> a0``; each step trades one market: selling its base when the path goes
base -> quote, buying its base when it goes quote -> base. Every undirected triangle (and
4-cycle, when asked) gives two cycles, one per direction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs
from arbot.market import MarketInfo

__all__ = ["BUY_BASE", "SELL_BASE", "Cycle", "MarketGraph"]

#: Step kinds: a step sells the market's base for its quote, or buys the base with the quote.
SELL_BASE = 0
BUY_BASE = 1


@attrs.define(frozen=True, slots=True)
class Cycle:
    """A closed path through markets: ``assets[i] -> assets[i + 1]`` trades ``markets[i]``."""

    assets: tuple[str, ...]
    markets: tuple[int, ...]
    sides: tuple[int, ...]

    @property
    def start(self) -> str:
        """The asset the cycle starts and ends in."""
        return self.assets[0]


class MarketGraph:
    """Markets of one venue as an asset graph, with every 3-cycle (and 4-cycle when asked)."""

    def __init__(
        self, markets: Iterable[MarketInfo], *, max_length: int = 3, start_assets: Sequence[str] = ()
    ) -> None:
        if max_length not in (3, 4):
            raise ValueError(f"max_length must be 3 or 4, got {max_length}")
        self.markets: list[MarketInfo] = []
        self.index: dict[str, int] = {}
        self.edge: dict[frozenset[str], int] = {}
        self.adjacent: dict[str, set[str]] = {}
        for m in markets:
            if not m.active or m.base == m.quote or m.symbol in self.index:
                continue
            key = frozenset((m.base, m.quote))
            if key in self.edge:
                continue  # one market per asset pair (the first listed)
            self.index[m.symbol] = len(self.markets)
            self.edge[key] = len(self.markets)
            self.markets.append(m)
            self.adjacent.setdefault(m.base, set()).add(m.quote)
            self.adjacent.setdefault(m.quote, set()).add(m.base)
        self._start_rank: dict[str, int] = {}
        for a in start_assets:  # the first mention ranks
            self._start_rank.setdefault(a, len(self._start_rank))
        self.cycles: list[Cycle] = []
        self._triangles()
        if max_length == 4:
            self._quadrilaterals()

    # -- enumeration ----------------------------------------------------------------------

    def _order(self, assets: Sequence[str]) -> list[str]:
        """Rotate so the cycle starts at the preferred start asset (else the best-connected)."""

        def rank(a: str) -> tuple[int, int, str]:
            return (self._start_rank.get(a, len(self._start_rank)), -len(self.adjacent[a]), a)

        first = min(range(len(assets)), key=lambda i: rank(assets[i]))
        return list(assets[first:]) + list(assets[:first])

    def _add(self, loop: Sequence[str]) -> None:
        for path in (list(loop), [loop[0], *reversed(loop[1:])]):
            ordered = self._order(path)
            markets = []
            sides = []
            for a, b in zip(ordered, [*ordered[1:], ordered[0]], strict=True):
                i = self.edge[frozenset((a, b))]
                markets.append(i)
                sides.append(SELL_BASE if self.markets[i].base == a else BUY_BASE)
            self.cycles.append(Cycle(tuple(ordered), tuple(markets), tuple(sides)))

    def _triangles(self) -> None:
        adj = self.adjacent
        for a in sorted(adj):
            for b in sorted(x for x in adj[a] if x > a):
                for c in sorted(x for x in adj[a] & adj[b] if x > b):
                    self._add((a, b, c))

    def _quadrilaterals(self) -> None:
        adj = self.adjacent
        for a in sorted(adj):
            for b in sorted(x for x in adj[a] if x > a):
                for c in sorted(x for x in adj[b] if x > a and x != b):
                    for d in sorted(x for x in adj[c] & adj[a] if x > b and x != c):
                        self._add((a, b, c, d))

    # -- queries --------------------------------------------------------------------------

    def triangles(self) -> set[frozenset[str]]:
        """Every triangle as a set of three assets."""
        return {frozenset(c.assets) for c in self.cycles if len(c.assets) == 3}

    def cycles_through(self) -> list[list[int]]:
        """For each market, the indices of the cycles that trade it."""
        out: list[list[int]] = [[] for _ in self.markets]
        for k, c in enumerate(self.cycles):
            for m in c.markets:
                out[m].append(k)
        return out
