"""Statistical (pairs) arbitrage detector: cointegration, hedge ratio, z-score entry and exit.

The detector samples the mid price of every followed book once per bar (``bar_interval_s``):
a bar closes when the first book update of a later bar arrives, and its value is each book's
last mid before that update. On every closed bar it updates the z-score of the spread
``y - beta * x - alpha`` of each tradable pair over the last ``lookback_periods`` bars; every
``reestimate_every`` bars (or seconds) it re-runs the vectorised Engle-Granger scan on the last
``formation_periods`` bars of all pairs at once and keeps the pairs whose p-value is below
``p_value_threshold`` (and whose hedge ratio is positive).

Entries: when ``|z| >= entry_zscore`` the detector emits a two-leg opportunity that buys the
cheap side and sells the rich side (z high: sell ``y``, buy ``x``; z low: buy ``y``, sell ``x``),
``notional_usd`` on the ``y`` leg and ``beta`` times its quantity on the ``x`` leg, priced at the
current best ask (buy) and best bid (sell). Exits: when ``|z| <= exit_zscore`` the position is
closed with the opposite legs, same quantities. A pair's parameters are frozen while it holds a
position.

Spot markets: the sell leg *sells inventory* (there is no short selling on a spot venue), so a
spread position needs the rich-side asset on that venue beforehand (the simulated executors cap
a sell by the venue balance). With margin or perpetual markets the same legs are true shorts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Literal

import numpy as np
from arbot.components import BotContext, Detector
from arbot.config import ComponentSettings
from arbot.events import ExecutionReport, Leg, Opportunity, Side
from arbot.market import split_symbol
from pydantic import Field, model_validator

from arbot_statistical.coint import coint_scan
from arbot_statistical.spread import Signal, generate_signal, zscore

__all__ = ["PairState", "StatisticalDetector", "StatisticalSettings", "parse_key"]


def parse_key(text: str) -> tuple[str, str]:
    """``"binance:BTC/USDT"`` -> ``("binance", "BTC/USDT")``."""
    venue, sep, symbol = text.partition(":")
    if not sep or not venue or "/" not in symbol:
        raise ValueError(f"expected 'venue:BASE/QUOTE', got {text!r}")
    return venue, symbol


class StatisticalSettings(ComponentSettings):
    """``[detector.statistical]`` (TRD §3.2 / §6.1 keys and defaults, plus sampling settings)."""

    lookback_periods: int = Field(60, ge=2, description="z-score window, in bars")
    entry_zscore: float = Field(2.0, gt=0, description="Enter when the spread's |z-score| reaches this.")
    exit_zscore: float = Field(
        0.5, ge=0,
        description="Exit an open pair when |z-score| falls to this (must be below entry_zscore).",
    )
    p_value_threshold: float = Field(
        0.05, gt=0, le=1,
        description="Largest Engle-Granger p-value for a pair to count as cointegrated.",
    )
    bar_interval_s: float = Field(60.0, gt=0, description="mid prices are sampled once per bar")
    formation_periods: int = Field(1000, ge=20, description="bars used by the cointegration test")
    min_formation_periods: int = Field(240, ge=20, description="bars needed before the first test")
    reestimate_every: float = Field(60.0, gt=0, description="re-run the test this often")
    reestimate_unit: Literal["observations", "seconds"] = Field(
        "observations",
        description="Unit of the re-estimation interval: new observations or elapsed seconds.",
    )
    pairs: list[tuple[str, str]] | None = Field(
        None, description="explicit (y, x) pairs as 'venue:BASE/QUOTE'; default: from universe"
    )
    symbols: list[str] | None = Field(None, description="default: the configured symbols")
    venues: list[str] | None = Field(None, description="default: [exchanges] enabled")
    universe: Literal["cross_symbol", "cross_venue", "both"] = Field(
        "both", description="pairs of symbols on one venue, one symbol across venues, or both"
    )
    notional_usd: float = Field(1000.0, gt=0, description="notional of the y leg")
    max_half_life_periods: float | None = Field(None, gt=0, description="skip slower pairs")
    max_mid_age_s: float | None = Field(
        None, gt=0, description="older mids are missing in a bar (default: 3 bar intervals)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> StatisticalSettings:
        if self.exit_zscore >= self.entry_zscore:
            raise ValueError("exit_zscore must be below entry_zscore")
        if self.min_formation_periods > self.formation_periods:
            raise ValueError("min_formation_periods must not exceed formation_periods")
        if self.lookback_periods > self.formation_periods:
            raise ValueError("lookback_periods must not exceed formation_periods")
        for y, x in self.pairs or ():
            parse_key(y)
            parse_key(x)
        return self


class PairState:
    """Estimated parameters and the open position of one (y, x) pair."""

    __slots__ = (
        "alpha",
        "beta",
        "estimated_at",
        "half_life",
        "ix",
        "iy",
        "legs",
        "p_value",
        "position",
        "t_stat",
        "tradable",
        "x",
        "y",
        "z",
    )

    def __init__(self, y: tuple[str, str], x: tuple[str, str], iy: int, ix: int) -> None:
        self.y = y
        self.x = x
        self.iy = iy
        self.ix = ix
        self.beta = math.nan
        self.alpha = math.nan
        self.p_value = math.nan
        self.t_stat = math.nan
        self.half_life = math.nan
        self.tradable = False
        self.position = 0  # +1 long spread (long y), -1 short spread, 0 flat
        self.legs: tuple[Leg, ...] = ()  # entry legs of the open position
        self.z = math.nan
        self.estimated_at = -math.inf

    @property
    def name(self) -> str:
        """``"venue:Y~venue:X"``."""
        return f"{self.y[0]}:{self.y[1]}~{self.x[0]}:{self.x[1]}"


class StatisticalDetector(Detector):
    """Cointegrated pairs (one venue, several symbols; or one symbol, several venues) traded on
    z-score entries and exits."""

    name: ClassVar[str] = "statistical"
    Settings: ClassVar[type[ComponentSettings]] = StatisticalSettings
    description: ClassVar[str] = "cointegration pairs, z-score entry/exit (TRD 3.2)"

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        s = settings
        pairs: list[tuple[tuple[str, str], tuple[str, str]]] = []
        if s.pairs:
            pairs = [(parse_key(y), parse_key(x)) for y, x in s.pairs]
        else:
            symbols = list(s.symbols or ctx.config.symbols)
            venues = list(s.venues or ctx.config.exchanges.enabled)
            if s.universe in ("cross_symbol", "both"):
                for v in venues:
                    for a in range(len(symbols)):
                        for b in range(a + 1, len(symbols)):
                            pairs.append(((v, symbols[a]), (v, symbols[b])))
            if s.universe in ("cross_venue", "both"):
                for sym in symbols:
                    for a in range(len(venues)):
                        for b in range(a + 1, len(venues)):
                            pairs.append(((venues[a], sym), (venues[b], sym)))
        self._keys: list[tuple[str, str]] = []
        self._index: dict[tuple[str, str], int] = {}
        for y, x in pairs:
            for key in (y, x):
                if key not in self._index:
                    self._index[key] = len(self._keys)
                    self._keys.append(key)
        self.pairs = [PairState(y, x, self._index[y], self._index[x]) for y, x in pairs]
        nk = len(self._keys)
        self._mids = np.full(nk, np.nan)
        self._mid_ts = np.full(nk, -np.inf)
        self._max_age = s.max_mid_age_s if s.max_mid_age_s is not None else 3.0 * s.bar_interval_s
        self._cap = 2 * s.formation_periods
        self._hist = np.full((self._cap, nk), np.nan)
        self._len = 0
        self._bar: int | None = None
        self._bars_since = 0
        self._last_estimate_ts = -math.inf
        self._by_id: dict[str, tuple[PairState, int, tuple[Leg, ...]]] = {}
        self.bars_closed = 0
        self.estimations = 0

    # -- public helpers ------------------------------------------------------------------------

    def symbols(self) -> Iterable[str]:
        """Every symbol a followed pair uses."""
        return sorted({sym for _, sym in self._keys})

    def history(self) -> np.ndarray:
        """Sampled bar mids so far (rows: bars, columns: followed books), oldest first."""
        return self._hist[: self._len].copy()

    @property
    def keys(self) -> list[tuple[str, str]]:
        """Followed books as (venue, symbol), in history column order."""
        return list(self._keys)

    # -- engine callbacks ----------------------------------------------------------------------

    def on_book(self, venue: str, symbol: str, now: float) -> Sequence[Opportunity]:
        """Close the running bar if ``now`` is past it, then record the new mid."""
        k = self._index.get((venue, symbol))
        if k is None:
            return ()
        bar = math.floor(now / self.settings.bar_interval_s)
        out: list[Opportunity] = []
        if self._bar is None:
            self._bar = bar
        elif bar > self._bar:
            self._bar = bar
            out = self._close_bar(now)
        book = self.ctx.market.get(venue, symbol)
        if book is not None and not book.is_empty:
            self._mids[k] = book.mid
            self._mid_ts[k] = now
        return out

    def on_report(self, report: ExecutionReport) -> None:
        """Undo the position change of an opportunity that did not fill at all."""
        entry = self._by_id.pop(report.opportunity.id, None)
        if entry is None or report.executed:
            return
        pair, prev_position, prev_legs = entry
        pair.position = prev_position
        pair.legs = prev_legs

    # -- bars, estimation, signals -------------------------------------------------------------

    def _append(self, row: np.ndarray) -> None:
        if self._len == self._cap:
            keep = self.settings.formation_periods
            self._hist[:keep] = self._hist[self._len - keep : self._len]
            self._hist[keep:] = np.nan
            self._len = keep
        self._hist[self._len] = row
        self._len += 1

    def _close_bar(self, now: float) -> list[Opportunity]:
        row = np.where(now - self._mid_ts <= self._max_age, self._mids, np.nan)
        if np.isnan(row).all():
            return []
        self._append(row)
        self.bars_closed += 1
        self._bars_since += 1
        s = self.settings
        due = (
            self._bars_since >= s.reestimate_every
            if s.reestimate_unit == "observations"
            else now - self._last_estimate_ts >= s.reestimate_every
        )
        if due or self.estimations == 0:
            self._estimate(now)
        return self._signals(now)

    def _estimate(self, now: float) -> None:
        s = self.settings
        if self._len < s.min_formation_periods:
            return
        window = self._hist[max(0, self._len - s.formation_periods) : self._len]
        cand = [p for p in self.pairs if p.position == 0]
        ok_cols = np.asarray(~np.isnan(window).any(axis=0), dtype=bool)
        cand = [p for p in cand if ok_cols[p.iy] and ok_cols[p.ix]]
        self._bars_since = 0
        self._last_estimate_ts = now
        self.estimations += 1
        if not cand:
            return
        idx = np.array([(p.iy, p.ix) for p in cand], dtype=np.int64)
        res = coint_scan(window, idx)
        for n, p in enumerate(cand):
            p.beta = float(res.hedge_ratio[n])
            p.alpha = float(res.intercept[n])
            p.p_value = float(res.p_value[n])
            p.t_stat = float(res.t_stat[n])
            p.half_life = float(res.half_life[n])
            p.estimated_at = now
            p.tradable = bool(
                p.p_value < s.p_value_threshold
                and p.beta > 0.0
                and (s.max_half_life_periods is None or p.half_life <= s.max_half_life_periods)
            )

    def _signals(self, now: float) -> list[Opportunity]:
        s = self.settings
        if self._len < s.lookback_periods:
            return []
        recent = self._hist[self._len - s.lookback_periods : self._len]
        out: list[Opportunity] = []
        for p in self.pairs:
            if not p.tradable and p.position == 0:
                continue
            spread = recent[:, p.iy] - p.beta * recent[:, p.ix] - p.alpha
            z = zscore(spread, s.lookback_periods)
            p.z = z
            sig = generate_signal(z, s.entry_zscore, s.exit_zscore, p.position)
            if sig is Signal.HOLD or (sig is not Signal.EXIT and not p.tradable):
                continue
            opp = self._opportunity(p, sig, z, float(spread[-1] - spread.mean()), now)
            if opp is not None:
                out.append(opp)
        return out

    def _quote(self, key: tuple[str, str], side: Side) -> float:
        market = self.ctx.market
        book = market.get(*key)
        if book is None or book.is_empty or not market.is_live(*key):
            return math.nan
        return float(book.best_ask if side is Side.BUY else book.best_bid)

    def _opportunity(
        self, p: PairState, sig: Signal, z: float, deviation: float, now: float
    ) -> Opportunity | None:
        ctx = self.ctx
        y_quote_usd = ctx.usd_price(split_symbol(p.y[1])[1])
        x_quote_usd = ctx.usd_price(split_symbol(p.x[1])[1])
        if not (y_quote_usd > 0.0 and x_quote_usd > 0.0):
            return None
        if sig is Signal.EXIT:
            legs = tuple(
                Leg(leg.venue, leg.symbol, side, self._quote((leg.venue, leg.symbol), side), leg.qty)
                for leg in p.legs
                for side in (Side.SELL if leg.side is Side.BUY else Side.BUY,)
            )
            if any(leg.price != leg.price for leg in legs):
                return None
            pnl = 0.0
            fees = 0.0
            for entry, exit_ in zip(p.legs, legs, strict=True):
                q_usd = ctx.usd_price(split_symbol(entry.symbol)[1])
                sign = 1.0 if entry.side is Side.BUY else -1.0
                pnl += sign * (exit_.price - entry.price) * entry.qty * q_usd
                fees += (
                    (entry.price * ctx.taker_fee(entry.venue, entry.symbol)
                     + exit_.price * ctx.taker_fee(exit_.venue, exit_.symbol))
                    * entry.qty * q_usd
                )
            action = "exit"
            new_position = 0
            extra = {"gross_pnl": pnl, "fees": fees}
            gross, net_profit = pnl, pnl - fees
        else:
            y_side = Side.BUY if sig is Signal.LONG_SPREAD else Side.SELL
            x_side = Side.SELL if y_side is Side.BUY else Side.BUY
            py = self._quote(p.y, y_side)
            px = self._quote(p.x, x_side)
            if not (py > 0.0 and px > 0.0):
                return None
            qty_y = self.settings.notional_usd / (py * y_quote_usd)
            qty_x = p.beta * qty_y
            legs = (Leg(p.y[0], p.y[1], y_side, py, qty_y), Leg(p.x[0], p.x[1], x_side, px, qty_x))
            # expected gain if the spread returns to its mean, in USD
            gross = abs(deviation) * qty_y * y_quote_usd
            fees = 2.0 * (
                py * qty_y * y_quote_usd * ctx.taker_fee(p.y[0], p.y[1])
                + px * qty_x * x_quote_usd * ctx.taker_fee(p.x[0], p.x[1])
            )
            net_profit = gross - fees
            action = "entry"
            extra = {}
            new_position = 1 if sig is Signal.LONG_SPREAD else -1
        notional = sum(
            leg.price * leg.qty * ctx.usd_price(split_symbol(leg.symbol)[1]) for leg in legs
        )
        opp = Opportunity(
            id=ctx.new_id(),
            ts=now,
            strategy="statistical",
            symbol=p.y[1],
            legs=legs,
            gross_spread_pct=gross / notional * 100.0 if notional > 0 else 0.0,
            net_spread_pct=net_profit / notional * 100.0 if notional > 0 else 0.0,
            estimated_profit=net_profit,
            confidence=max(0.0, 1.0 - p.p_value) if p.p_value == p.p_value else 0.0,
            depth_usd=notional,
            metadata={
                "pair": p.name,
                "action": action,
                "signal": sig.value,
                "zscore": z,
                "hedge_ratio": p.beta,
                "intercept": p.alpha,
                "p_value": p.p_value,
                "half_life": p.half_life,
                **extra,
            },
        )
        self._by_id[opp.id] = (p, p.position, p.legs)
        p.position = new_position
        p.legs = legs if action == "entry" else ()
        return opp
