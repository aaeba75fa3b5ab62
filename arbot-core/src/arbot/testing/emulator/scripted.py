"""A scripted order book: a seeded random walk whose every change is an L2 delta."""

from __future__ import annotations

import random

from arbot.book import OrderBook

__all__ = ["ScriptedBook"]

Change = tuple[str, str]  # (price text, quantity text) exactly as a venue would send them


class ScriptedBook:
    """A reproducible book for an emulator: the same ``seed`` gives the same changes.

    Prices live on a tick grid (integer tick indices internally) and are rendered as text with
    ``price_decimals`` digits; quantities with ``qty_decimals``. :attr:`book` holds the true
    book, built by applying exactly the changes :meth:`step` returns, parsed from their text,
    so a client that applies every delta ends up with an equal book.
    """

    def __init__(
        self,
        venue: str,
        symbol: str,
        *,
        seed: int = 0,
        mid: float = 100.0,
        tick: float = 0.01,
        levels: int = 20,
        price_decimals: int = 8,
        qty_decimals: int = 8,
        max_changes: int = 6,
    ) -> None:
        self.venue = venue
        self.symbol = symbol
        self.tick = tick
        self.levels = levels
        self.price_decimals = price_decimals
        self.qty_decimals = qty_decimals
        self.max_changes = max_changes
        self.rng = random.Random(seed)
        self.dislocation_probability = 0.0
        self.dislocation_pct = (0.3, 1.0)
        self.dislocation_steps = (20, 100)
        self._dislocation_left = 0
        self._dislocation_shift = 0
        self.book = OrderBook(venue, symbol)
        self._bids: dict[int, str] = {}  # tick index -> quantity text
        self._asks: dict[int, str] = {}
        centre = round(mid / tick)
        bids = [(self._price(centre - 1 - i), self._qty()) for i in range(levels)]
        asks = [(self._price(centre + 1 + i), self._qty()) for i in range(levels)]
        for i, (_, q) in enumerate(bids):
            self._bids[centre - 1 - i] = q
        for i, (_, q) in enumerate(asks):
            self._asks[centre + 1 + i] = q
        self.book.apply_snapshot(_parse(bids), _parse(asks), 0.0)

    # -- rendering ---------------------------------------------------------------------------

    def _price(self, idx: int) -> str:
        return f"{idx * self.tick:.{self.price_decimals}f}"

    def _qty(self) -> str:
        q = round(self.rng.uniform(0.001, 5.0), min(self.qty_decimals, 5))
        return f"{q:.{self.qty_decimals}f}"

    def _zero(self) -> str:
        return f"{0:.{self.qty_decimals}f}"

    # -- state -------------------------------------------------------------------------------

    def best_bid_idx(self) -> int:
        """Tick index of the best bid."""
        return max(self._bids)

    def best_ask_idx(self) -> int:
        """Tick index of the best ask."""
        return min(self._asks)

    def levels_text(self, depth: int | None = None) -> tuple[list[Change], list[Change]]:
        """The whole book (or its best ``depth`` levels) as text levels, best first."""
        bids = sorted(self._bids, reverse=True)[:depth]
        asks = sorted(self._asks)[:depth]
        return (
            [(self._price(i), self._bids[i]) for i in bids],
            [(self._price(i), self._asks[i]) for i in asks],
        )

    # -- evolution ---------------------------------------------------------------------------

    def configure_dislocations(
        self,
        probability: float,
        pct: tuple[float, float] = (0.3, 1.0),
        steps: tuple[int, int] = (20, 100),
    ) -> None:
        """Now and then (``probability`` per step) shift the whole book by ``pct`` percent for
        ``steps`` steps, then back: the venue's quotes dislocate from the others' and open a
        real cross-venue arbitrage (for offline paper runs; off by default)."""
        self.dislocation_probability = probability
        self.dislocation_pct = pct
        self.dislocation_steps = steps

    def recenter(self, mid: float) -> None:
        """Move the whole book so that its mid is ``mid`` (before any client has connected)."""
        current = (self.best_bid_idx() + self.best_ask_idx()) / 2.0
        self._shift(round(mid / self.tick - current))
        bids, asks = self.levels_text()
        self.book.apply_snapshot(_parse(bids), _parse(asks), self.book.ts)

    def _shift(self, shift: int) -> tuple[dict[int, str], dict[int, str]]:
        """Move every level by ``shift`` ticks; returns the changes of both sides."""
        changes: list[dict[int, str]] = []
        for side in (self._bids, self._asks):
            ch = {i: self._zero() for i in side}
            moved = {i + shift: q for i, q in side.items()}
            ch.update(moved)
            side.clear()
            side.update(moved)
            changes.append(ch)
        return changes[0], changes[1]

    def _dislocation_step(self) -> tuple[dict[int, str], dict[int, str]] | None:
        rng = self.rng
        if self._dislocation_left > 0:
            self._dislocation_left -= 1
            if self._dislocation_left == 0:
                return self._shift(-self._dislocation_shift)
            return None
        if rng.random() >= self.dislocation_probability:
            return None
        pct = rng.uniform(*self.dislocation_pct) / 100.0
        ticks = max(1, round(self.best_bid_idx() * pct))
        self._dislocation_shift = ticks if rng.random() < 0.5 else -ticks
        self._dislocation_left = rng.randint(*self.dislocation_steps)
        return self._shift(self._dislocation_shift)

    def step(self, remove_best: bool = False) -> tuple[list[Change], list[Change]]:
        """Advance one step; returns the (bid changes, ask changes) as text levels.

        With ``remove_best``, the step deletes the best bid and best ask levels (so a client
        that misses this step keeps levels that no longer exist: ghosts).
        """
        rng = self.rng
        if self.dislocation_probability > 0.0 and not remove_best:
            shifted = self._dislocation_step()
            if shifted is not None:
                bid_sh, ask_sh = shifted
                bids_t = [(self._price(i), q) for i, q in bid_sh.items()]
                asks_t = [(self._price(i), q) for i, q in ask_sh.items()]
                self.book.apply_delta(_parse(bids_t), _parse(asks_t), self.book.ts)
                return bids_t, asks_t
        bid_ch: dict[int, str] = {}
        ask_ch: dict[int, str] = {}
        if remove_best:
            bid_ch[self.best_bid_idx()] = self._zero()
            ask_ch[self.best_ask_idx()] = self._zero()
        # Random walk of the touch: occasionally a new best level inside or outside the spread.
        move = rng.choice((-2, -1, 0, 0, 0, 1, 2))
        if move:
            bb, ba = self.best_bid_idx(), self.best_ask_idx()
            if move > 0:  # buyers step up: a new bid above, asks it crosses are taken
                new_bid = bb + move
                for i in list(self._asks):
                    if i <= new_bid:
                        ask_ch[i] = self._zero()
                if not any(i > new_bid and ask_ch.get(i) != self._zero() for i in self._asks):
                    ask_ch[new_bid + 1] = self._qty()
                bid_ch[new_bid] = self._qty()
            else:
                new_ask = ba + move
                for i in list(self._bids):
                    if i >= new_ask:
                        bid_ch[i] = self._zero()
                if not any(i < new_ask and bid_ch.get(i) != self._zero() for i in self._bids):
                    bid_ch[new_ask - 1] = self._qty()
                ask_ch[new_ask] = self._qty()
        # Quantity changes, deletions and insertions near the touch.
        for _ in range(rng.randint(1, self.max_changes)):
            side, changes = (self._bids, bid_ch) if rng.random() < 0.5 else (self._asks, ask_ch)
            keys = sorted(side)
            if not keys:
                continue
            action = rng.random()
            if action < 0.6:
                i = rng.choice(keys)
                if changes.get(i) != self._zero():
                    changes[i] = self._qty()
            elif action < 0.8 and len(keys) > 3:
                i = rng.choice(keys[1:])  # keep the touch (it moves through the walk above)
                changes[i] = self._zero()
            else:
                far = keys[-1] + 1 if side is self._asks else keys[0] - 1
                changes[far] = self._qty()
        # Keep each side near ``levels`` deep: trim the far end.
        self._apply(self._bids, bid_ch)
        self._apply(self._asks, ask_ch)
        self._trim(self._bids, bid_ch, reverse=True)
        self._trim(self._asks, ask_ch, reverse=False)
        bids = [(self._price(i), q) for i, q in bid_ch.items()]
        asks = [(self._price(i), q) for i, q in ask_ch.items()]
        self.book.apply_delta(_parse(bids), _parse(asks), self.book.ts)
        return bids, asks

    def _apply(self, side: dict[int, str], changes: dict[int, str]) -> None:
        for i, q in changes.items():
            if float(q) > 0.0:
                side[i] = q
            else:
                side.pop(i, None)

    def _trim(self, side: dict[int, str], changes: dict[int, str], reverse: bool) -> None:
        keys = sorted(side, reverse=reverse)
        for i in keys[self.levels * 2 :]:
            del side[i]
            changes[i] = self._zero()

    def trade(self) -> tuple[str, str, bool]:
        """A trade at the touch: (price text, quantity text, buyer is maker)."""
        buyer_is_maker = self.rng.random() < 0.5
        idx = self.best_bid_idx() if buyer_is_maker else self.best_ask_idx()
        q = round(self.rng.uniform(0.0001, 0.5), min(self.qty_decimals, 5))
        return self._price(idx), f"{q:.{self.qty_decimals}f}", buyer_is_maker


def _parse(levels: list[Change]) -> list[tuple[float, float]]:
    return [(float(p), float(q)) for p, q in levels]
