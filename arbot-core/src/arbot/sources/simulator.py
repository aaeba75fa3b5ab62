"""A seeded market simulator: one latent price per asset, seen by several venues.

Each venue quotes the latent price as it was ``lag`` ago, with its own bias, spread, noise and
depth; now and then one venue's quotes dislocate for a few seconds, which opens a real
cross-venue arbitrage. The same seed gives the same events, bit for bit.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Iterator
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
    update_interval_ms: float = Field(100.0, gt=0)
    annual_volatility: float = Field(0.6, ge=0)
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
    spread_bps: tuple[float, float] = (1.0, 4.0)
    bias_bps: float = Field(3.0, ge=0, description="max static price bias of a venue")
    noise_bps: float = Field(1.0, ge=0)
    max_lag_ms: float = Field(300.0, ge=0)
    depth_levels: int = Field(10, ge=1, le=500)
    level_notional_usd: float = Field(25_000.0, gt=0)
    dislocations_per_hour: float = Field(30.0, ge=0)
    dislocation_pct: tuple[float, float] = (0.3, 1.2)
    dislocation_seconds: tuple[float, float] = (2.0, 15.0)
    trades_per_second: float = Field(2.0, ge=0)
    default_taker_fee: float = Field(0.001, ge=0)
    realtime_speed: float = Field(1.0, gt=0, description="paper mode: market seconds per second")


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
        self._built = False
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
        if not self._built:
            self._build()
        trade_p = self.settings.trades_per_second * self.settings.update_interval_ms / 1000.0
        return len(self._times) + int(np.count_nonzero(self._trade_draw < trade_p))

    # -- generation --------------------------------------------------------------------

    def _build(self) -> None:
        s = self.settings
        rng = np.random.default_rng(self.seed)
        dt_grid = 0.01
        n_grid = int(self.duration / dt_grid) + 2
        sigma = s.annual_volatility * math.sqrt(dt_grid / (365.0 * 86400.0))
        self._grid_dt = dt_grid
        # one latent USD price path per crypto asset; a symbol's price is base / quote, so
        # cross rates (ETH/BTC against ETH/USDT and BTC/USDT) and KRW markets stay consistent
        assets: list[str] = []
        for sym in self._symbols:
            for asset in split_symbol(sym):
                if self._fiat(asset) is None and asset not in assets:
                    assets.append(asset)
        usd_path: dict[str, npt.NDArray[np.float64]] = {}
        for asset in assets:
            steps = rng.normal(-0.5 * sigma * sigma, sigma, n_grid)
            steps[0] = 0.0
            usd_path[asset] = self._start_price(asset) * np.exp(np.cumsum(steps))
        self._latent: dict[str, npt.NDArray[np.float64]] = {}
        quote_usd: dict[str, npt.NDArray[np.float64]] = {}
        for sym in self._symbols:
            base, quote = split_symbol(sym)
            base_fiat = self._fiat(base)
            base_usd = usd_path[base] if base_fiat is None else np.full(n_grid, 1.0 / base_fiat)
            fiat = self._fiat(quote)
            if fiat is not None:
                self._latent[sym] = base_usd * fiat
                quote_usd[sym] = np.full(n_grid, 1.0 / fiat)
            else:
                self._latent[sym] = base_usd / usd_path[quote]
                quote_usd[sym] = usd_path[quote]
        nv = len(self._venues)
        self._lag = rng.uniform(0.0, s.max_lag_ms / 1000.0, nv)
        self._bias = rng.uniform(-s.bias_bps, s.bias_bps, nv) * 1e-4
        self._half_spread = rng.uniform(s.spread_bps[0], s.spread_bps[1], nv) * 0.5e-4
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
        # one stream of update times per (venue, symbol), merged in time order
        interval = s.update_interval_ms / 1000.0
        times = []
        ids = []
        streams = [
            (vi, si)
            for vi in range(nv)
            for si, sym in enumerate(self._symbols)
            if sym in self._listed(self._venues[vi])
        ]
        for k, _ in enumerate(streams):
            n = int(self.duration / interval)
            t = self.start + rng.uniform(0, interval) + np.arange(n) * interval
            t += rng.uniform(-0.3, 0.3, n) * interval
            t = np.sort(np.clip(t, self.start, self.start + self.duration))
            times.append(t)
            ids.append(np.full(n, k, dtype=np.int32))
        all_t = np.concatenate(times)
        all_k = np.concatenate(ids)
        order = np.argsort(all_t, kind="stable")
        self._times = all_t[order]
        self._stream = all_k[order]
        self._streams = streams
        # mid of every update, vectorised
        vi = np.array([streams[k][0] for k in range(len(streams))])[self._stream]
        si = np.array([streams[k][1] for k in range(len(streams))])[self._stream]
        grid_idx = np.clip(
            ((self._times - self._lag[vi] - self.start) / dt_grid).astype(np.int64), 0, n_grid - 1
        )
        mids = np.empty(len(self._times))
        to_usd = np.empty(len(self._times))
        for j, sym in enumerate(self._symbols):
            m = si == j
            mids[m] = self._latent[sym][grid_idx[m]]
            to_usd[m] = quote_usd[sym][grid_idx[m]]
        self._to_usd = to_usd
        mids *= 1.0 + self._bias[vi] + rng.normal(0.0, s.noise_bps * 1e-4, len(mids))
        premium = np.array([s.venue_premium_pct.get(v, 0.0) / 100.0 for v in self._venues])
        mids *= 1.0 + premium[vi]
        for t0, t1, v, sym, shift in self.dislocations:
            m = (
                (vi == self._venues.index(v))
                & (si == self._symbols.index(sym))
                & (self._times >= t0)
                & (self._times < t1)
            )
            mids[m] *= 1.0 + shift
        self._mids = mids
        self._hs = self._half_spread[vi]
        self._size_noise = rng.uniform(0.5, 1.5, (len(mids), s.depth_levels))
        self._trade_draw = rng.random(len(mids))
        self._built = True

    def _depth(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Bid and ask levels of every update at once: two (n, depth, 2) arrays."""
        s = self.settings
        k = np.arange(s.depth_levels, dtype=np.float64)
        step = 1e-4  # 1 bp between levels
        ticks = np.array([self._tick(sym) for sym in self._symbols])
        si = np.array([st[1] for st in self._streams])[self._stream]
        tick = ticks[si][:, None]
        mid = self._mids[:, None]
        hs = self._hs[:, None]
        bid_px = np.round(np.floor(mid * (1.0 - hs - k * step) / tick) * tick, 10)
        ask_px = np.round(np.ceil(mid * (1.0 + hs + k * step) / tick) * tick, 10)
        mid_usd = mid * self._to_usd[:, None]
        size = np.round(s.level_notional_usd / mid_usd * self._size_noise * (1.0 + 0.3 * k), 6)
        return np.stack((bid_px, size), axis=2), np.stack((ask_px, size), axis=2)

    def events(self) -> Iterator[MarketEvent]:
        """Every book snapshot (and some trades) in time order."""
        if not self._built:
            self._build()
        venues = self._venues
        symbols = self._symbols
        streams = self._streams
        trade_p = self.settings.trades_per_second * self.settings.update_interval_ms / 1000.0
        all_bids, all_asks = self._depth()
        stream_ids = self._stream.tolist()
        draws = self._trade_draw.tolist()
        for i, ts in enumerate(self._times.tolist()):
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
