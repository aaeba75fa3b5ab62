"""A seeded market simulator: one latent price per asset, seen by several venues.

Each venue quotes the latent price as it was ``lag`` ago, with its own bias, spread, noise and
depth; now and then one venue's quotes dislocate for a few seconds, which opens a real
cross-venue arbitrage. The same seed gives the same events, bit for bit.
"""

from __future__ import annotations

import asyncio
import copy
import math
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, ClassVar

import attrs
import numpy as np
import numpy.typing as npt
from pydantic import Field

from arbot.components import BotContext, MarketEvent, Source
from arbot.config import ComponentSettings
from arbot.errors import ConfigError
from arbot.events import BookUpdate, Side, TradeTick
from arbot.market import MarketInfo, split_symbol

__all__ = ["MarketSimulator", "SimulatorSettings"]

#: Taker fees (fraction) the simulator assigns to well-known venues; others get ``default_taker_fee``.
VENUE_TAKER_FEES = {
    "binance": 0.001,
    "okx": 0.001,
    "bybit": 0.001,
    "upbit": 0.0005,
    "bithumb": 0.0004,
    "kucoin": 0.001,
    "gate": 0.002,
    "bitget": 0.001,
}
#: Starting USD prices of well-known assets; others start at 100 USD.
DEFAULT_PRICES = {"BTC": 60_000.0, "ETH": 3_000.0, "SOL": 150.0, "XRP": 0.6, "BNB": 550.0}
#: Where a simulated market starts when nothing says otherwise: 2025-01-01T00:00:00Z.
DEFAULT_START_TS = 1_735_689_600.0
#: Quote currencies worth one USD.
USD_QUOTES = frozenset({"USD", "USDT", "USDC", "BUSD", "DAI"})


class SimulatorSettings(ComponentSettings):
    """Settings of the market simulator (``[source.simulator]``)."""

    venues: list[str] | None = Field(None, description="default: [exchanges] enabled")
    symbols: list[str] | None = Field(None, description="default: the configured symbols")
    seed: int | None = Field(None, description="default: [backtest] seed")
    start_ts: float | None = Field(
        None, description="epoch seconds of the first update; default [backtest] start, else 2025-01-01"
    )
    duration_s: float | None = Field(None, gt=0, description="default: [backtest] duration_s or 3600")
    update_interval_ms: float = Field(100.0, gt=0, description="market time between book updates of a venue")
    annual_volatility: float = Field(
        0.6, ge=0,
        description="annualised volatility of the simulated mid price",
    )
    start_prices: dict[str, float] = Field(default_factory=dict, description="USD price by asset")
    fx_per_usd: dict[str, float] = Field(
        default_factory=lambda: {"KRW": 1_390.0}, description="fiat quote currencies: units per USD"
    )
    venue_symbols: dict[str, list[str]] = Field(
        default_factory=dict, description="symbols listed on a venue (default: every symbol)"
    )
    venue_premium_pct: dict[str, float] = Field(
        default_factory=dict, description="persistent premium of a venue's quotes (e.g. upbit = 2.5)"
    )
    spread_bps: tuple[float, float] = Field(
        (1.0, 4.0),
        description="range of a venue's quoted spread, in basis points",
    )
    bias_bps: float = Field(3.0, ge=0, description="max static price bias of a venue")
    noise_bps: float = Field(1.0, ge=0, description="independent per-venue quote noise, in basis points")
    max_lag_ms: float = Field(
        300.0, ge=0,
        description="largest lag of a venue's quotes behind the true price",
    )
    depth_levels: int = Field(10, ge=1, le=500, description="price levels per book side")
    level_notional_usd: float = Field(25_000.0, gt=0, description="USD notional at each price level")
    dislocations_per_hour: float = Field(
        30.0, ge=0,
        description="mean rate of dislocations (one venue's quotes jump away)",
    )
    dislocation_pct: tuple[float, float] = Field(
        (0.3, 1.2),
        description="range of a dislocation's size, in percent",
    )
    dislocation_seconds: tuple[float, float] = Field(
        (2.0, 15.0),
        description="range of a dislocation's lifetime, in seconds",
    )
    trades_per_second: float = Field(2.0, ge=0, description="mean rate of public trades per venue and symbol")
    default_taker_fee: float = Field(
        0.001, ge=0,
        description="taker fee of a simulated venue without fees in [exchanges.fees]",
    )
    realtime_speed: float = Field(1.0, gt=0, description="paper mode: market seconds per second")


#: a saved generator: a copy taken where one part of the series' draws begins
_State = np.random.Generator
#: how many values one draw makes while the series is generated (bounds the memory it takes)
_CHUNK = 1 << 16


def _generator(state: _State) -> np.random.Generator:
    """A new generator resuming where the saved ``state`` stands (the saved one is not moved)."""
    return copy.deepcopy(state)


def _skip(rng: np.random.Generator, count: int, draw: Callable[[np.random.Generator, int], object]) -> None:
    """Advance ``rng`` past ``count`` values of ``draw`` (made in chunks, then dropped)."""
    while count > 0:
        n = min(count, _CHUNK)
        draw(rng, n)
        count -= n


class _LatentPath:
    """One asset's latent USD price on the 10 ms grid, generated forward on demand.

    Holds only the part of the path still needed (from the earliest index a later update can
    ask for); the running sum of the log steps carries from one chunk to the next.
    """

    def __init__(self, start_price: float, sigma: float, n_grid: int, state: _State) -> None:
        self.start_price = start_price
        self.sigma = sigma
        self.n_grid = n_grid
        self.rng = _generator(state)
        self.first = 0  # grid index of values[0]
        self.values: npt.NDArray[np.float64] = np.empty(0)
        self.log_sum: float | None = None  # the running sum at the last generated index

    def cover(self, low: int, high: int) -> None:
        """Make sure indices ``low..high`` are held."""
        if low < self.first:
            raise RuntimeError(f"latent path index {low} already forgotten (held from {self.first})")
        parts = [self.values]
        end = self.first + len(self.values)
        while end <= high:
            n = min(self.n_grid - end, _CHUNK)
            steps = self.rng.normal(-0.5 * self.sigma * self.sigma, self.sigma, n)
            if self.log_sum is None:
                steps[0] = 0.0
                sums = np.cumsum(steps)
            else:
                sums = np.cumsum(np.concatenate(([self.log_sum], steps)))[1:]
            self.log_sum = float(sums[-1])
            parts.append(self.start_price * np.exp(sums))
            end += n
        if len(parts) > 1:
            self.values = np.concatenate(parts)

    def at(self, idx: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """The path at grid indices ``idx`` (held by :meth:`cover`)."""
        return self.values[idx - self.first]

    def forget_before(self, index: int) -> None:
        """Drop the values before grid index ``index``."""
        drop = index - self.first
        if drop > 0:
            drop = min(drop, len(self.values))
            self.values = self.values[drop:].copy()
            self.first += drop


@attrs.define(slots=True, frozen=True)
class _Plan:
    """What the lazy generation needs: the small parameters, and where each series' draws begin."""

    dt_grid: float
    n_grid: int
    sigma: float
    assets: list[str]
    path_states: dict[str, _State]
    lag: npt.NDArray[np.float64]
    bias: npt.NDArray[np.float64]
    half_spread: npt.NDArray[np.float64]
    streams: list[tuple[int, int]]
    per_stream: int
    interval: float
    phases: list[float]
    jitter_states: list[_State]
    n_updates: int
    noise_state: _State
    size_state: _State
    trade_state: _State


@attrs.define(slots=True, frozen=True)
class _Window:
    """The updates of one window of market time, in time order."""

    times: npt.NDArray[np.float64]
    stream: npt.NDArray[np.int64]
    symbol: npt.NDArray[np.int64]
    mids: npt.NDArray[np.float64]
    half_spread: npt.NDArray[np.float64]
    to_usd: npt.NDArray[np.float64]
    size_noise: npt.NDArray[np.float64]
    trade_draw: npt.NDArray[np.float64]


class MarketSimulator(Source[SimulatorSettings]):
    """Simulated venues quoting a common latent price, with lags, noise and dislocations."""

    name: ClassVar[str] = "simulator"
    Settings: ClassVar[type[ComponentSettings]] = SimulatorSettings

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        cfg = ctx.config
        s = settings
        self._venues = list(s.venues) if s.venues else self._known_venues(cfg.exchanges.enabled)
        self._symbols = list(s.symbols or cfg.symbols)
        self.seed = s.seed if s.seed is not None else cfg.backtest.seed
        self.start = s.start_ts if s.start_ts is not None else cfg.backtest.start_ts or DEFAULT_START_TS
        end = cfg.backtest.end_ts
        until_end = end - self.start if end is not None and end > self.start else None
        self.duration = s.duration_s or cfg.backtest.duration_s or until_end or 3600.0
        self._planned: _Plan | None = None
        self.dislocations: list[tuple[float, float, str, str, float]] = []

    def _known_venues(self, enabled: list[str]) -> list[str]:
        """``[exchanges] enabled`` when each venue is one the simulator knows (its fee table, a
        configured fee, or an installed connector); an unknown name is an error, not invented."""
        connectors = set(self.ctx.host.registry["connector"]) if self.ctx.host is not None else set()
        fees = self.ctx.config.exchanges.fees
        unknown = [v for v in enabled if v not in VENUE_TAKER_FEES and v not in fees and v not in connectors]
        if unknown:
            origin = self.ctx.config.source_file or "<config>"
            raise ConfigError(
                f"{origin}: [exchanges] enabled names {', '.join(map(repr, unknown))}, which no installed "
                f"connector serves and the simulator does not define; to simulate a venue of your own, "
                f"list it in [source.simulator] venues (and give its fee in [exchanges.fees.<venue>])"
            )
        return list(enabled)

    def venues(self) -> list[str]:
        """The simulated venues."""
        return list(self._venues)

    def markets(self) -> list[MarketInfo]:
        """A market per (venue, symbol) with the venue's taker fee and simple trading rules."""
        out = []
        for v in self._venues:
            fee = VENUE_TAKER_FEES.get(v, self.settings.default_taker_fee)
            for sym in self._listed(v):
                base, quote = split_symbol(sym)
                tick = self._tick(sym)
                fiat = self._fiat(quote)  # 5 USD expressed in the quote currency
                min_notional = 5.0 * fiat if fiat is not None else 5.0 / self._start_price(quote)
                out.append(
                    MarketInfo(
                        venue=v,
                        symbol=sym,
                        base=base,
                        quote=quote,
                        venue_symbol=f"{base}{quote}",
                        tick_size=tick,
                        step_size=1e-6,
                        min_notional=min_notional,
                        taker_fee=fee,
                        maker_fee=fee,
                    )
                )
        return out

    def _listed(self, venue: str) -> list[str]:
        """Symbols simulated on ``venue``."""
        listed = self.settings.venue_symbols.get(venue)
        return [s for s in self._symbols if listed is None or s in listed]

    def _start_price(self, asset: str) -> float:
        """Starting USD price of ``asset``."""
        return float(self.settings.start_prices.get(asset, DEFAULT_PRICES.get(asset, 100.0)))

    def _fiat(self, asset: str) -> float | None:
        """Units of ``asset`` per USD when it is a stable or fiat quote currency, else None."""
        if asset in USD_QUOTES:
            return 1.0
        rate = self.settings.fx_per_usd.get(asset)
        return float(rate) if rate is not None else None

    def _symbol_start(self, symbol: str) -> float:
        base, quote = split_symbol(symbol)
        fiat = self._fiat(quote)
        quote_usd = 1.0 / fiat if fiat is not None else self._start_price(quote)
        return self._start_price(base) / quote_usd

    def _tick(self, symbol: str) -> float:
        return float(10 ** math.floor(math.log10(self._symbol_start(symbol)) - 5))

    def size_hint(self) -> int:
        """The exact number of events :meth:`events` yields (book updates and trades)."""
        plan = self._plan()
        trade_p = self.settings.trades_per_second * self.settings.update_interval_ms / 1000.0
        draws = _generator(plan.trade_state)
        trades = 0
        left = plan.n_updates
        while left > 0:
            n = min(left, _CHUNK)
            trades += int(np.count_nonzero(draws.random(n) < trade_p))
            left -= n
        return plan.n_updates + trades

    # -- generation --------------------------------------------------------------------
    #
    # The series is generated lazily, a window of market time at a time, so memory stays flat
    # however long the run. Every random draw is the one the whole-series generation made (one
    # seeded generator, drawn in the same order): :meth:`_plan` draws once through the series,
    # keeping only the generator's state where each part of it begins, and the windows draw
    # each part again from there. Floating-point operations are the same element by element
    # (running sums carry their last value), so the events are the same bit for bit.

    def _plan(self) -> _Plan:
        plan = self._planned
        if plan is not None:
            return plan
        s = self.settings
        rng = np.random.default_rng(self.seed)
        dt_grid = 0.01
        n_grid = int(self.duration / dt_grid) + 2
        sigma = s.annual_volatility * math.sqrt(dt_grid / (365.0 * 86400.0))
        # one latent USD price path per crypto asset; a symbol's price is base / quote, so
        # cross rates (ETH/BTC against ETH/USDT and BTC/USDT) and KRW markets stay consistent
        assets: list[str] = []
        for sym in self._symbols:
            for asset in split_symbol(sym):
                if self._fiat(asset) is None and asset not in assets:
                    assets.append(asset)
        path_states: dict[str, _State] = {}
        for asset in assets:
            path_states[asset] = copy.deepcopy(rng)
            _skip(rng, n_grid, lambda g, n: g.normal(-0.5 * sigma * sigma, sigma, n))
        nv = len(self._venues)
        lag = rng.uniform(0.0, s.max_lag_ms / 1000.0, nv)
        bias = rng.uniform(-s.bias_bps, s.bias_bps, nv) * 1e-4
        half_spread = rng.uniform(s.spread_bps[0], s.spread_bps[1], nv) * 0.5e-4
        # dislocations: (start, end, venue, symbol, relative shift)
        n_dis = rng.poisson(s.dislocations_per_hour * self.duration / 3600.0)
        dis = []
        for _ in range(int(n_dis)):
            t0 = self.start + rng.uniform(0.0, self.duration)
            length = rng.uniform(*s.dislocation_seconds)
            v = self._venues[int(rng.integers(nv))]
            sym = self._symbols[int(rng.integers(len(self._symbols)))]
            shift = rng.uniform(*s.dislocation_pct) / 100.0 * (1 if rng.random() < 0.5 else -1)
            dis.append((t0, t0 + length, v, sym, shift))
        self.dislocations = sorted(dis)
        # one stream of update times per (venue, symbol): a random phase, then one update per
        # interval jittered by +/-30 % of it (so a stream's times never reorder)
        interval = s.update_interval_ms / 1000.0
        streams = [
            (vi, si)
            for vi in range(nv)
            for si, sym in enumerate(self._symbols)
            if sym in self._listed(self._venues[vi])
        ]
        n = int(self.duration / interval)
        phases = []
        jitter_states = []
        for _ in streams:
            phases.append(self.start + rng.uniform(0, interval))
            jitter_states.append(copy.deepcopy(rng))
            _skip(rng, n, lambda g, k: g.uniform(-0.3, 0.3, k))
        n_updates = n * len(streams)
        noise_state = copy.deepcopy(rng)
        _skip(rng, n_updates, lambda g, k: g.normal(0.0, s.noise_bps * 1e-4, k))
        size_state = copy.deepcopy(rng)
        _skip(rng, n_updates, lambda g, k: g.uniform(0.5, 1.5, (k, s.depth_levels)))
        plan = _Plan(
            dt_grid=dt_grid,
            n_grid=n_grid,
            sigma=sigma,
            assets=assets,
            path_states=path_states,
            lag=lag,
            bias=bias,
            half_spread=half_spread,
            streams=streams,
            per_stream=n,
            interval=interval,
            phases=phases,
            jitter_states=jitter_states,
            n_updates=n_updates,
            noise_state=noise_state,
            size_state=size_state,
            trade_state=copy.deepcopy(rng),
        )
        self._planned = plan
        return plan

    def _windows(self, window_s: float = 30.0) -> Iterator[_Window]:
        """The updates of each ``window_s`` of market time, in time order, with their mids."""
        s = self.settings
        plan = self._plan()
        interval = plan.interval
        end = self.start + self.duration
        n = plan.per_stream
        nk = len(plan.streams)
        stream_v = np.array([st[0] for st in plan.streams], dtype=np.int64)
        stream_s = np.array([st[1] for st in plan.streams], dtype=np.int64)
        paths = {
            a: _LatentPath(self._start_price(a), plan.sigma, plan.n_grid, plan.path_states[a])
            for a in plan.assets
        }
        jitter = [_generator(st) for st in plan.jitter_states]
        noise = _generator(plan.noise_state)
        sizes = _generator(plan.size_state)
        trades = _generator(plan.trade_state)
        premium = np.array([s.venue_premium_pct.get(v, 0.0) / 100.0 for v in self._venues])
        venue_index = {v: i for i, v in enumerate(self._venues)}
        symbol_index = {sym: i for i, sym in enumerate(self._symbols)}
        # per stream: the next update not yet emitted and its time (computed a chunk ahead)
        cursor = [0] * nk
        pending: list[npt.NDArray[np.float64]] = [np.empty(0)] * nk
        max_lag = float(plan.lag.max()) if len(plan.lag) else 0.0
        t_hi = self.start
        while True:
            t_hi += window_s
            last = t_hi > end
            parts_t = []
            parts_k = []
            for k in range(nk):
                # extend this stream's computed times past the window's end
                while cursor[k] + len(pending[k]) < n and (not len(pending[k]) or pending[k][-1] < t_hi):
                    i0 = cursor[k] + len(pending[k])
                    i1 = min(n, i0 + _CHUNK)
                    t = plan.phases[k] + np.arange(i0, i1) * interval
                    t += jitter[k].uniform(-0.3, 0.3, i1 - i0) * interval
                    np.clip(t, self.start, end, out=t)
                    pending[k] = np.concatenate((pending[k], t))
                take = len(pending[k]) if last else int(np.searchsorted(pending[k], t_hi, side="left"))
                parts_t.append(pending[k][:take])
                parts_k.append(np.full(take, k, dtype=np.int64))
                pending[k] = pending[k][take:]
                cursor[k] += take
            all_t = np.concatenate(parts_t)
            all_k = np.concatenate(parts_k)
            order = np.argsort(all_t, kind="stable")
            times = all_t[order]
            stream = all_k[order]
            m = len(times)
            if m:
                vi = stream_v[stream]
                si = stream_s[stream]
                grid_idx = np.clip(
                    ((times - plan.lag[vi] - self.start) / plan.dt_grid).astype(np.int64), 0, plan.n_grid - 1
                )
                low = int(grid_idx.min())
                high = int(grid_idx.max())
                for path in paths.values():
                    path.cover(low, high)
                mids = np.empty(m)
                to_usd = np.empty(m)
                for j, sym in enumerate(self._symbols):
                    sel = si == j
                    if not sel.any():
                        continue
                    idx = grid_idx[sel]
                    latent, quote_usd = self._latent(sym, paths, idx)
                    mids[sel] = latent
                    to_usd[sel] = quote_usd
                mids *= 1.0 + plan.bias[vi] + noise.normal(0.0, s.noise_bps * 1e-4, m)
                mids *= 1.0 + premium[vi]
                t_lo = float(times[0])
                t_end = float(times[-1])
                for d0, d1, v, sym, shift in self.dislocations:
                    if d0 > t_end or d1 <= t_lo:
                        continue
                    hit = (vi == venue_index[v]) & (si == symbol_index[sym]) & (times >= d0) & (times < d1)
                    mids[hit] *= 1.0 + shift
                yield _Window(
                    times,
                    stream,
                    si,
                    mids,
                    plan.half_spread[vi],
                    to_usd,
                    sizes.uniform(0.5, 1.5, (m, s.depth_levels)),
                    trades.random(m),
                )
                # later windows look no further back than their first update minus the largest lag
                floor_idx = int((t_hi - max_lag - self.start) / plan.dt_grid) - 1
                for path in paths.values():
                    path.forget_before(floor_idx)
            if last:
                return

    def _latent(
        self, symbol: str, paths: dict[str, _LatentPath], idx: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(latent price of ``symbol``, USD per unit of its quote) at grid indices ``idx``."""
        base, quote = split_symbol(symbol)
        base_fiat = self._fiat(base)
        base_usd = paths[base].at(idx) if base_fiat is None else np.full(len(idx), 1.0 / base_fiat)
        fiat = self._fiat(quote)
        if fiat is not None:
            return base_usd * fiat, np.full(len(idx), 1.0 / fiat)
        quote_path = paths[quote].at(idx)
        return base_usd / quote_path, quote_path

    def _depth(self, w: _Window) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Bid and ask levels of every update of a window at once: two (n, depth, 2) arrays."""
        s = self.settings
        k = np.arange(s.depth_levels, dtype=np.float64)
        step = 1e-4  # 1 bp between levels
        ticks = np.array([self._tick(sym) for sym in self._symbols])
        tick = ticks[w.symbol][:, None]
        mid = w.mids[:, None]
        hs = w.half_spread[:, None]
        bid_px = np.round(np.floor(mid * (1.0 - hs - k * step) / tick) * tick, 10)
        ask_px = np.round(np.ceil(mid * (1.0 + hs + k * step) / tick) * tick, 10)
        mid_usd = mid * w.to_usd[:, None]
        size = np.round(s.level_notional_usd / mid_usd * w.size_noise * (1.0 + 0.3 * k), 6)
        return np.stack((bid_px, size), axis=2), np.stack((ask_px, size), axis=2)

    def events(self) -> Iterator[MarketEvent]:
        """Every book snapshot (and some trades) in time order, generated a window at a time."""
        venues = self._venues
        symbols = self._symbols
        plan = self._plan()
        streams = plan.streams
        trade_p = self.settings.trades_per_second * self.settings.update_interval_ms / 1000.0
        for w in self._windows():
            all_bids, all_asks = self._depth(w)
            stream_ids = w.stream.tolist()
            draws = w.trade_draw.tolist()
            for i, ts in enumerate(w.times.tolist()):
                vi, si = streams[stream_ids[i]]
                bids = all_bids[i]
                asks = all_asks[i]
                venue = venues[vi]
                symbol = symbols[si]
                yield BookUpdate(ts, venue, symbol, bids, asks, True, ts)
                draw = draws[i]
                if draw < trade_p:
                    buy = draw < trade_p / 2
                    px = float(asks[0, 0] if buy else bids[0, 0])
                    yield TradeTick(
                        ts, venue, symbol, px, float(bids[0, 1]) * 0.1, Side.BUY if buy else Side.SELL, ts
                    )

    async def aevents(self) -> AsyncIterator[MarketEvent]:
        """The same events on the wall clock, paced so market time runs at ``realtime_speed``."""
        speed = self.settings.realtime_speed
        wall0 = time.monotonic()
        epoch0 = time.time()
        for ev in self.events():
            market_elapsed = ev.ts - self.start
            delay = market_elapsed / speed - (time.monotonic() - wall0)
            if delay > 0:
                await asyncio.sleep(delay)
            now = epoch0 + market_elapsed / speed
            if isinstance(ev, BookUpdate | TradeTick):
                yield attrs.evolve(ev, ts=now, exchange_ts=now)
            else:
                yield attrs.evolve(ev, ts=now)
