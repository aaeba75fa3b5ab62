"""The market graph: the real Binance list, and brute-force enumeration on random graphs."""

from __future__ import annotations

import gzip
import itertools
import json
import random

import numpy as np
import pytest
from arbot.market import MarketInfo
from arbot.testing import shared_data
from arbot_binance.markets import parse_exchange_info
from arbot_triangular.cycles import BUY_BASE, SELL_BASE, MarketGraph


@pytest.fixture(scope="module")
def binance_markets() -> list[MarketInfo]:
    path = shared_data("rest/binance/binance_spot_exchangeInfo_2021-10-12.json.gz")
    with gzip.open(path) as fh:
        # the venue's own metadata parser (arbot-binance, a test dependency); the detector only
        # ever sees MarketInfo records
        return [m for m in parse_exchange_info(fh.read()) if m.active]


def test_real_binance_graph_counts(binance_markets):
    g = MarketGraph(binance_markets)
    assert len(binance_markets) == len(g.markets) == 1262
    assert len(g.triangles()) == 1982
    assert len(g.cycles) == 2 * 1982
    through = g.cycles_through()
    busiest = max(range(len(through)), key=lambda m: len(through[m]))
    assert len(through[busiest]) == 2 * 256
    assert g.markets[busiest].symbol == "BTC/USDT"


def test_real_binance_graph_matches_adjacency_algebra(binance_markets):
    """Independent count: triangles through edge (a, b) are (A @ A)[a, b]; total trace(A^3)/6."""
    g = MarketGraph(binance_markets)
    assets = sorted(g.adjacent)
    pos = {a: i for i, a in enumerate(assets)}
    adj = np.zeros((len(assets), len(assets)), dtype=np.int64)
    for m in binance_markets:
        adj[pos[m.base], pos[m.quote]] = adj[pos[m.quote], pos[m.base]] = 1
    a2 = adj @ adj
    assert int(np.trace(a2 @ adj)) // 6 == len(g.triangles())
    through = g.cycles_through()
    for i, m in enumerate(g.markets):
        assert len(through[i]) == 2 * int(a2[pos[m.base], pos[m.quote]]), m.symbol


def _random_markets(seed: int, n_assets: int, n_markets: int) -> list[MarketInfo]:
    rng = random.Random(seed)
    assets = [f"A{i}" for i in range(n_assets)]
    pairs = rng.sample(list(itertools.combinations(assets, 2)), n_markets)
    out = []
    for a, b in pairs:
        base, quote = (a, b) if rng.random() < 0.5 else (b, a)
        out.append(MarketInfo("v", f"{base}/{quote}", base, quote))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_every_triangle_and_quadrilateral_of_a_random_graph(seed):
    markets = _random_markets(seed, 14, 40)
    g = MarketGraph(markets, max_length=4)
    edges = {frozenset((m.base, m.quote)) for m in markets}
    assets = sorted({a for m in markets for a in (m.base, m.quote)})
    # brute force: every ordered closed walk of distinct assets, up to rotation
    expected: set[tuple[str, ...]] = set()
    for k in (3, 4):
        for combo in itertools.permutations(assets, k):
            if all(frozenset((combo[i], combo[(i + 1) % k])) in edges for i in range(k)):
                r = combo.index(min(combo))
                expected.add(combo[r:] + combo[:r])
    found = set()
    for c in g.cycles:
        r = c.assets.index(min(c.assets))
        found.add(c.assets[r:] + c.assets[:r])
        # every step trades the right market in the right direction
        for i, m in enumerate(c.markets):
            a, b = c.assets[i], c.assets[(i + 1) % len(c.assets)]
            info = g.markets[m]
            assert {info.base, info.quote} == {a, b}
            assert c.sides[i] == (SELL_BASE if info.base == a else BUY_BASE)
    assert found == expected
    assert len(found) == len(g.cycles)


def test_start_asset_preference():
    markets = [MarketInfo("v", s, *s.split("/")) for s in ("BTC/USDT", "ETH/BTC", "ETH/USDT")]
    g = MarketGraph(markets, start_assets=["USDT"])
    assert {c.start for c in g.cycles} == {"USDT"}
    assert {c.assets for c in g.cycles} == {("USDT", "BTC", "ETH"), ("USDT", "ETH", "BTC")}


def _canonical(assets: tuple[str, ...]) -> tuple[str, ...]:
    r = assets.index(min(assets))
    return assets[r:] + assets[:r]


def test_detector_cycles_on_the_real_binance_graph_equal_brute_force(binance_markets, tmp_path):
    """The detector's directed cycles (and its per-market index) against every ordered triple."""
    from arbot.bot import Bot
    from arbot.config import config_from_dict

    cfg = config_from_dict(
        {
            "output_dir": str(tmp_path),
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["binance"]},
            "symbols": ["BTC/USDT"],
            "detector": {"triangular": {"enabled": True}},
            "executor": {"name": "none"},
            "risk": {"rules": []},
            "sinks": {"enabled": []},
        }
    )
    bot = Bot(cfg, mode="backtest")
    for m in binance_markets:
        bot.ctx.market.add_market(m)
    state = bot.detectors[0].build("binance")
    assert state is not None
    symbol_of = {frozenset((m.base, m.quote)): m.symbol for m in binance_markets}
    assets = sorted({a for m in binance_markets for a in (m.base, m.quote)})
    expected: set[tuple[str, ...]] = set()
    for pair in symbol_of:
        a, b = sorted(pair)
        for x, y in ((a, b), (b, a)):
            for c in assets:
                if c not in pair and frozenset((y, c)) in symbol_of and frozenset((c, x)) in symbol_of:
                    expected.add(_canonical((x, y, c)))
    found = [_canonical(c.assets) for c in state.cycles]
    assert len(found) == len(set(found))  # no cycle twice
    assert set(found) == expected
    assert len(expected) == 2 * 1982
    # the per-market index: market -> every cycle whose legs trade it
    through: dict[str, set[tuple[str, ...]]] = {m.symbol: set() for m in binance_markets}
    for cyc in expected:
        for i in range(3):
            through[symbol_of[frozenset((cyc[i], cyc[(i + 1) % 3]))]].add(cyc)
    rows = state.through[3]
    ids = state.by_length[3][0]
    for symbol, cycles in through.items():
        m = state.graph.index[symbol]
        indexed = {_canonical(state.cycles[k].assets) for k in ids[rows[m]].tolist()}
        assert indexed == cycles, symbol
    assert max(len(v) for v in through.values()) == 2 * 256
    # legs: each step trades the pair's market, selling the base when it leaves the base
    for c in state.cycles:
        for i, m in enumerate(c.markets):
            info = state.graph.markets[m]
            a, b = c.assets[i], c.assets[(i + 1) % 3]
            assert info.symbol == symbol_of[frozenset((a, b))]
            assert c.sides[i] == (SELL_BASE if info.base == a else BUY_BASE)


def test_binance_loader_keeps_trading_markets_and_their_filters(binance_markets):
    with gzip.open(shared_data("rest/binance/binance_spot_exchangeInfo_2021-10-12.json.gz")) as fh:
        raw = {s["symbol"]: s for s in json.load(fh)["symbols"]}
    assert any(s["status"] != "TRADING" for s in raw.values())  # the capture has BREAK symbols
    assert {m.venue_symbol for m in binance_markets} == {
        k for k, s in raw.items() if s["status"] == "TRADING"
    }
    for m in binance_markets:
        s = raw[m.venue_symbol]
        f = {x["filterType"]: x for x in s["filters"]}
        assert (m.base, m.quote, m.symbol) == (
            s["baseAsset"],
            s["quoteAsset"],
            f"{s['baseAsset']}/{s['quoteAsset']}",
        )
        assert m.tick_size == float(f["PRICE_FILTER"]["tickSize"]) > 0
        assert m.step_size == float(f["LOT_SIZE"]["stepSize"]) > 0
        assert m.min_qty == float(f["LOT_SIZE"]["minQty"])
        assert m.min_notional == float(f["MIN_NOTIONAL"]["minNotional"])
    ethbtc = next(m for m in binance_markets if m.symbol == "ETH/BTC")
    assert (ethbtc.tick_size, ethbtc.step_size, ethbtc.min_notional) == (1e-6, 1e-4, 1e-4)
