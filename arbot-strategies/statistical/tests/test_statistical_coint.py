"""The vectorised Engle-Granger scan against statsmodels' coint/adfuller (the reference)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from arbot.testing import shared_data
from arbot_statistical import (
    coint_scan,
    default_maxlag,
    engle_granger,
    engle_granger_scan,
    find_cointegrated_pairs,
    mackinnon_pvalue,
    read_bitstamp_daily_closes,
    read_lean_quote_mids,
)
from hypothesis import given, settings
from hypothesis import strategies as st

sm_stattools = pytest.importorskip("statsmodels.tsa.stattools")
from statsmodels.regression.linear_model import OLS  # noqa: E402
from statsmodels.tsa.adfvalues import mackinnonp  # noqa: E402
from statsmodels.tsa.tsatools import add_trend  # noqa: E402

TOL = 1e-6


def reference(y: np.ndarray, x: np.ndarray, maxlag: int | None = None) -> tuple[float, float, int, int]:
    """statsmodels: coint's statistic and p-value, and the lag/nobs its ADF step uses."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, p, _ = sm_stattools.coint(y, x, maxlag=maxlag)
        resid = OLS(y, add_trend(x[:, None], "c", prepend=False)).fit().resid
        adf = sm_stattools.adfuller(
            resid, maxlag=maxlag, regression="n", autolag="aic", result_object=True
        )
    return float(t), float(p), int(adf.lags), int(adf.nobs)


def check_all_pairs(prices: np.ndarray, ordered: bool = True, maxlag: int | None = None) -> int:
    k = prices.shape[1]
    pairs = [(i, j) for i in range(k) for j in range(k) if i != j and (ordered or i < j)]
    res = coint_scan(prices, pairs, maxlag=maxlag)
    for n, (i, j) in enumerate(pairs):
        t, p, lag, nobs = reference(prices[:, i], prices[:, j], maxlag)
        assert res.lag[n] == lag, (i, j)
        assert res.nobs[n] == nobs, (i, j)
        assert res.t_stat[n] == pytest.approx(t, abs=TOL), (i, j)
        assert res.p_value[n] == pytest.approx(p, abs=TOL), (i, j)
    return len(pairs)


@pytest.mark.shared_data
def test_real_minute_quotes_match_statsmodels() -> None:
    df = read_lean_quote_mids(shared_data("bars/lean_coinbase_minute_quotes_2018-04-04_06.csv.gz"))
    prices = df.drop("ts").to_numpy()
    assert prices.shape[0] > 2000 and prices.shape[1] == 4
    assert check_all_pairs(prices) == 12


@pytest.mark.shared_data
def test_real_minute_quotes_windows_match_statsmodels() -> None:
    """Shorter windows: other sample sizes, other maxlags, other chosen lags."""
    df = read_lean_quote_mids(shared_data("bars/lean_coinbase_minute_quotes_2018-04-04_06.csv.gz"))
    prices = df.drop("ts").to_numpy()
    for start, length in ((0, 300), (700, 1000), (1900, 600)):
        check_all_pairs(prices[start : start + length], ordered=False)


@pytest.mark.shared_data
def test_real_daily_closes_match_statsmodels() -> None:
    df = read_bitstamp_daily_closes(
        shared_data("bars/cdd_bitstamp_btc_eth_ltc_usd_1d_2014-11-28_2020-01-17.csv.gz")
    )
    prices = df.drop("date").to_numpy()
    assert prices.shape == (788, 3)
    assert check_all_pairs(prices) == 6
    # a log-price version too (another scale, other lags)
    check_all_pairs(np.log(prices))


@pytest.mark.shared_data
def test_polars_scan_names_and_filter() -> None:
    df = read_lean_quote_mids(shared_data("bars/lean_coinbase_minute_quotes_2018-04-04_06.csv.gz"))
    scan = engle_granger_scan(df.drop("ts"))
    assert scan.height == 6
    assert scan.columns[:6] == ["y", "x", "t_stat", "p_value", "lag", "nobs"]
    row = scan.filter((scan["y"] == "ETHUSD") & (scan["x"] == "LTCUSD")).row(0, named=True)
    t, _p, lag, _ = reference(df["ETHUSD"].to_numpy(), df["LTCUSD"].to_numpy())
    assert row["t_stat"] == pytest.approx(t, abs=TOL) and row["lag"] == lag
    found = find_cointegrated_pairs(df.drop("ts"), 0.05)
    assert found["p_value"].to_list() == sorted(found["p_value"].to_list())
    assert all(p < 0.05 for p in found["p_value"])
    expected = {(r["y"], r["x"]) for r in scan.iter_rows(named=True) if r["p_value"] < 0.05}
    assert {(r["y"], r["x"]) for r in found.iter_rows(named=True)} == expected


def synthetic(seed: int, n: int, k: int) -> np.ndarray:
    """k series: random walks, and some cointegrated with an earlier one (AR/MA spreads)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, k))
    for c in range(k):
        walk = np.cumsum(rng.normal(0.0, rng.uniform(0.2, 3.0), n)) + rng.uniform(10, 1000)
        if c > 0 and rng.random() < 0.5:
            phi = rng.uniform(0.0, 0.98)
            eps = rng.normal(0.0, rng.uniform(0.1, 5.0), n + 3)
            noise = np.empty(n)
            level = 0.0
            for t in range(n):
                level = phi * level + eps[t + 3] + 0.4 * eps[t + 2] - 0.3 * eps[t]
                noise[t] = level
            out[:, c] = rng.uniform(0.2, 3.0) * out[:, rng.integers(0, c)] + noise + rng.uniform(-50, 50)
        else:
            out[:, c] = walk
    return out


def test_seeded_synthetic_long_series() -> None:
    prices = synthetic(11, 3000, 6)
    assert check_all_pairs(prices, ordered=False) == 15


def test_seeded_synthetic_finds_the_cointegrated_pairs() -> None:
    rng = np.random.default_rng(5)
    n = 2000
    a = np.cumsum(rng.normal(size=n)) + 100
    b = np.cumsum(rng.normal(size=n)) + 100
    c = 0.7 * a + rng.normal(size=n)  # cointegrated with a
    res = coint_scan(np.column_stack((a, b, c)))
    pv = dict(zip(zip(res.y.tolist(), res.x.tolist(), strict=True), res.p_value.tolist(), strict=True))
    assert pv[(0, 2)] < 0.01
    assert pv[(0, 1)] > 0.05 and pv[(1, 2)] > 0.05
    row = next(n for n in range(len(res)) if (res.y[n], res.x[n]) == (0, 2))
    assert res.hedge_ratio[row] == pytest.approx(1 / 0.7, rel=0.05)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(40, 400),
    k=st.integers(2, 4),
)
def test_hypothesis_random_series_match_statsmodels(seed: int, n: int, k: int) -> None:
    check_all_pairs(synthetic(seed, n, k))


@pytest.mark.parametrize("maxlag", [0, 1, 5])
def test_explicit_maxlag(maxlag: int) -> None:
    check_all_pairs(synthetic(3, 500, 3), maxlag=maxlag)


def test_default_maxlag_formula() -> None:
    assert default_maxlag(10_000) == 38  # ceil(12 * 100 ** 0.25) = ceil(37.95)
    assert default_maxlag(100) == 12
    assert default_maxlag(10) == 4  # capped at n // 2 - 1
    with pytest.raises(ValueError):
        default_maxlag(1)


def test_collinear_pair_is_minus_inf_like_statsmodels() -> None:
    rng = np.random.default_rng(2)
    x = np.cumsum(rng.normal(size=300)) + 50
    y = 2.0 * x + 1.0 + rng.normal(size=300) * 1e-9
    res = engle_granger(y, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, p, _ = sm_stattools.coint(y, x)
    assert t == -np.inf and res["t_stat"] == -np.inf
    assert res["p_value"] == p == 0.0
    assert res["hedge_ratio"] == pytest.approx(2.0)


def test_constant_series_gives_nan() -> None:
    rng = np.random.default_rng(1)
    prices = np.column_stack((np.cumsum(rng.normal(size=200)), np.full(200, 5.0)))
    res = coint_scan(prices)
    assert np.isnan(res.t_stat[0]) and np.isnan(res.p_value[0]) and res.lag[0] == -1


def test_bad_input_rejected() -> None:
    with pytest.raises(ValueError):
        coint_scan(np.array([[1.0, np.nan], [2.0, 3.0], [3.0, 4.0]]))
    with pytest.raises(ValueError):
        coint_scan(np.ones((50, 2)), [(0, 0)])
    with pytest.raises(ValueError):
        coint_scan(np.ones(50))


def test_mackinnon_pvalue_matches_statsmodels() -> None:
    taus = np.concatenate((np.linspace(-30, 5, 701), [-18.86, -2.62, 0.92, -18.83, -1.61, 2.74]))
    for n_series in range(1, 7):
        ours = mackinnon_pvalue(taus, n_series)
        ref = np.array([mackinnonp(t, regression="c", N=n_series) for t in taus])
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
    assert mackinnon_pvalue(-np.inf) == 0.0
    assert np.isnan(mackinnon_pvalue(float("nan")))
    with pytest.raises(ValueError):
        mackinnon_pvalue(-3.0, 7)
