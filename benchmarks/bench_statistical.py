"""Cointegration scan: arbot-statistical's vectorised Engle-Granger vs statsmodels ``coint``.

    python benchmarks/bench_statistical.py [--symbols 100] [--points 10000] [--sample 12]

Data: seeded synthetic prices, ``symbols`` random walks of ``points`` observations where every
fifth series is cointegrated with an earlier one (AR(1) spread). The vectorised scan tests all
``symbols * (symbols - 1) / 2`` pairs (target: 100 x 10,000 in <= 10 s); statsmodels'
``coint(y, x)`` with its defaults (autolag AIC) is timed on a random sample of pairs and scaled
to all pairs (target ratio >= 300x). The sampled pairs' statistic, p-value and chosen lag are
compared with the scan's.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from arbot_statistical import coint_scan

try:
    from statsmodels.regression.linear_model import OLS
    from statsmodels.tsa.stattools import adfuller, coint
    from statsmodels.tsa.tsatools import add_trend
except ImportError as exc:  # pragma: no cover
    raise SystemExit("this benchmark needs statsmodels: pip install statsmodels") from exc


def make_prices(symbols: int, points: int, seed: int = 42) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Random walks; every fifth series is ``beta * earlier + AR(1) noise``."""
    rng = np.random.default_rng(seed)
    prices = 100.0 + np.cumsum(rng.normal(0.0, 1.0, (points, symbols)), axis=0)
    planted = []
    for c in range(4, symbols, 5):
        src = int(rng.integers(0, c))
        eps = rng.normal(0.0, 1.0, points)
        noise = np.empty(points)
        level = 0.0
        for t in range(points):
            level = 0.9 * level + eps[t]
            noise[t] = level
        prices[:, c] = rng.uniform(0.5, 2.0) * prices[:, src] + noise + 20.0
        planted.append((min(src, c), max(src, c)))
    return prices, planted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--symbols", type=int, default=100)
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=12, help="pairs timed with statsmodels")
    ap.add_argument("--repeat", type=int, default=3, help="scan runs (best is reported)")
    args = ap.parse_args()

    prices, planted = make_prices(args.symbols, args.points)
    npairs = args.symbols * (args.symbols - 1) // 2
    print(
        f"data: {args.symbols} symbols x {args.points:,} points (seeded), {npairs:,} pairs, "
        f"{len(planted)} planted cointegrated pairs"
    )

    scan_times = []
    res = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        res = coint_scan(prices)
        scan_times.append(time.perf_counter() - t0)
    assert res is not None
    scan_s = min(scan_times)

    rng = np.random.default_rng(7)
    sample = rng.choice(npairs, size=min(args.sample, npairs), replace=False)
    # make sure a few planted (cointegrated) pairs are in the sample
    index = {(int(i), int(j)): k for k, (i, j) in enumerate(zip(res.y, res.x, strict=True))}
    sample = np.unique(np.concatenate((sample, [index[p] for p in planted[:3]])))
    sm_times = []
    max_dt = max_dp = 0.0
    lag_ok = 0
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in sample.tolist():
            i, j = int(res.y[k]), int(res.x[k])
            y, x = prices[:, i], prices[:, j]
            t0 = time.perf_counter()
            t_ref, p_ref, _ = coint(y, x)
            sm_times.append(time.perf_counter() - t0)
            resid = OLS(y, add_trend(x[:, None], "c", prepend=False)).fit().resid
            lag_ref = adfuller(resid, regression="n", autolag="aic", result_object=True).lags
            dt = abs(float(res.t_stat[k]) - t_ref)
            dp = abs(float(res.p_value[k]) - p_ref)
            max_dt, max_dp = max(max_dt, dt), max(max_dp, dp)
            lag_ok += int(res.lag[k]) == lag_ref
            rows.append(
                (i, j, t_ref, float(res.t_stat[k]), p_ref, float(res.p_value[k]), lag_ref, int(res.lag[k]))
            )
    per_pair = float(np.median(sm_times))
    sm_total = per_pair * npairs

    found = {(int(res.y[k]), int(res.x[k])) for k in np.flatnonzero(res.p_value < 0.01)}
    recall = sum(p in found for p in planted) / max(len(planted), 1)

    print()
    print("agreement on the sampled pairs (statsmodels coint vs arbot scan)")
    print(
        f"{'pair':>10} {'t statsmodels':>14} {'t arbot':>14} {'p statsmodels':>14} "
        f"{'p arbot':>14} {'lag sm':>7} {'lag ab':>7}"
    )
    for i, j, t1, t2, p1, p2, l1, l2 in rows:
        print(f"{f'{i}-{j}':>10} {t1:14.8f} {t2:14.8f} {p1:14.8f} {p2:14.8f} {l1:7d} {l2:7d}")
    print(
        f"max |dt| = {max_dt:.2e}   max |dp| = {max_dp:.2e}   lags equal: {lag_ok}/{len(rows)}"
        f"   -> {'OK' if max_dt <= 1e-6 and max_dp <= 1e-6 and lag_ok == len(rows) else 'MISMATCH'}"
    )
    print()
    print(f"{'work':<52} {'time':>12}")
    print(
        f"{'statsmodels coint, median per pair (' + str(len(rows)) + ' pairs)':<52} {per_pair * 1e3:10.1f} ms"
    )
    print(f"{'statsmodels coint, scaled to ' + format(npairs, ',') + ' pairs':<52} {sm_total:10.1f} s")
    label = f"arbot coint_scan, all {npairs:,} pairs (best of {args.repeat})"
    print(f"{label:<52} {scan_s:10.2f} s   (target <= 10 s)")
    print(f"{'ratio (statsmodels scaled / arbot)':<52} {sm_total / scan_s:10.0f} x   (target >= 300 x)")
    print(f"planted pairs found at p < 0.01: {recall:.0%}; pairs at p < 0.01: {len(found)}")


if __name__ == "__main__":
    main()
