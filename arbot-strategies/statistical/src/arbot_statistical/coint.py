"""Vectorised Engle-Granger cointegration scan of a price matrix.

For every pair ``(i, j)`` of columns the scan computes what
``statsmodels.tsa.stattools.coint(prices[:, i], prices[:, j])`` computes with its defaults
(``trend="c"``, ``autolag="aic"``, ``maxlag=None``):

1. OLS of ``y = prices[:, i]`` on ``[prices[:, j], 1]``: hedge ratio ``beta``, intercept and the
   residual spread ``e``.
2. An augmented Dickey-Fuller regression *without* deterministic terms on ``e``:
   ``de_t = gamma * e_{t-1} + sum_k phi_k * de_{t-k} + u_t``. The lag is chosen by AIC over
   ``0..maxlag`` with ``maxlag = ceil(12 * (n / 100) ** 0.25)`` (capped at ``n // 2 - 1``), all
   candidate lags fitted on the *same* sample (the first ``maxlag`` differences dropped); then
   the regression is re-run at the chosen lag on the full available sample and the t-statistic
   of ``gamma`` is the test statistic.
3. MacKinnon's approximate p-value for N = 2 series with a constant.

How it is vectorised: every regression above only needs sums of cross products of the lagged
regressors. Because the residual is linear in the two price series (``e = yc_i - beta * yc_j``
with ``yc`` the de-meaned prices), those sums follow from *symbol-level* lagged cross-product
matrices, computed once for all pairs with ``2 * maxlag + 3`` matrix products. Per pair, the
lag-search Gram matrix is a Toeplitz matrix of these sums corrected by the few rows at each end
of the sample that the regression leaves out; one Cholesky factorisation of it gives the
residual sum of squares of *every* nested lag order at once, and a second one (on the sample of
the chosen lag) gives the t-statistic. Pairs are processed in chunks with batched numpy
linear algebra.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from arbot_statistical.mackinnon import mackinnon_pvalue

__all__ = [
    "CointegrationScan",
    "coint_scan",
    "default_maxlag",
    "engle_granger",
    "engle_granger_scan",
    "find_cointegrated_pairs",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: statsmodels declares a pair (almost) perfectly collinear when the R^2 of the cointegrating
#: regression reaches ``1 - 100 * sqrt(eps)``; the statistic is then -inf and the p-value 0.
COLLINEAR_R2 = 1.0 - 100.0 * math.sqrt(float(np.finfo(np.float64).eps))


def default_maxlag(nobs: int) -> int:
    """statsmodels' default ADF ``maxlag`` for a series of ``nobs`` points (no trend terms):
    ``ceil(12 * (nobs / 100) ** (1 / 4))``, at most ``nobs // 2 - 1``."""
    maxlag = math.ceil(12.0 * math.pow(nobs / 100.0, 0.25))
    maxlag = min(nobs // 2 - 1, maxlag)
    if maxlag < 0:
        raise ValueError(f"a series of {nobs} points is too short for the test")
    return maxlag


@dataclass(frozen=True, slots=True)
class CointegrationScan:
    """Results of a scan, one entry per pair (numpy arrays of equal length).

    ``y``/``x`` are column indices (``y`` is regressed on ``x``); ``t_stat`` is the ADF
    t-statistic of the residual (``-inf`` for collinear pairs, NaN when undefined), ``p_value``
    MacKinnon's p-value, ``lag`` the lag the AIC chose (-1 when no ADF was run), ``nobs`` the
    number of observations of the final ADF regression, ``hedge_ratio``/``intercept`` the OLS
    coefficients (``spread = y - hedge_ratio * x - intercept``), ``half_life`` the half-life of
    mean reversion of that spread in observations (AR(1) with constant; inf if not reverting).
    """

    y: IntArray
    x: IntArray
    t_stat: FloatArray
    p_value: FloatArray
    lag: IntArray
    nobs: IntArray
    hedge_ratio: FloatArray
    intercept: FloatArray
    r_squared: FloatArray
    half_life: FloatArray
    maxlag: int

    def __len__(self) -> int:
        return len(self.y)


def _all_pairs(n_cols: int) -> IntArray:
    i, j = np.triu_indices(n_cols, k=1)
    return np.stack((i, j), axis=1).astype(np.int64)


def _resolve_pairs(pairs: Any, names: Sequence[str] | None, n_cols: int) -> IntArray:
    if pairs is None:
        return _all_pairs(n_cols)
    out = []
    index = {n: k for k, n in enumerate(names)} if names is not None else {}
    for a, b in pairs:
        ia = index[a] if isinstance(a, str) else int(a)
        ib = index[b] if isinstance(b, str) else int(b)
        if not (0 <= ia < n_cols and 0 <= ib < n_cols) or ia == ib:
            raise ValueError(f"invalid pair ({a!r}, {b!r})")
        out.append((ia, ib))
    return np.asarray(out, dtype=np.int64).reshape(-1, 2)


def _cholesky(g: FloatArray) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Batched Cholesky; matrices that are not positive definite come back as NaN."""
    ok = np.ones(g.shape[0], dtype=bool)
    try:
        return np.asarray(np.linalg.cholesky(g), dtype=np.float64), ok
    except np.linalg.LinAlgError:
        out = np.full_like(g, np.nan)
        for k in range(g.shape[0]):
            try:
                out[k] = np.linalg.cholesky(g[k])
            except np.linalg.LinAlgError:
                ok[k] = False
        return out, ok


def coint_scan(
    prices: npt.ArrayLike,
    pairs: Sequence[tuple[int, int]] | npt.NDArray[np.integer[Any]] | None = None,
    *,
    maxlag: int | None = None,
    chunk_size: int = 512,
) -> CointegrationScan:
    """Engle-Granger test of every pair of columns of ``prices`` (an ``(n, k)`` array).

    ``pairs`` lists ``(y, x)`` column indices (default: every ``i < j`` with ``y = i``);
    ``maxlag`` overrides the default maximum ADF lag. Matches ``statsmodels``' ``coint`` with
    its defaults; see the module docstring for how.
    """
    values = np.asarray(prices, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError("prices must be a 2-d (observations x series) array")
    if not np.isfinite(values).all():
        raise ValueError("prices contain NaN or inf; drop or fill them first")
    pair_idx = _resolve_pairs(pairs, None, values.shape[1]) if pairs is not None else _all_pairs(
        values.shape[1]
    )
    n = values.shape[0]
    kmax = default_maxlag(n) if maxlag is None else int(maxlag)
    if not 0 <= kmax <= n // 2 - 1:
        raise ValueError(f"maxlag must be in 0..{n // 2 - 1}")
    used = np.unique(pair_idx)
    col = np.full(values.shape[1], -1, dtype=np.int64)
    col[used] = np.arange(len(used))
    yc = values[:, used] - values[:, used].mean(axis=0)
    d = np.diff(yc, axis=0)
    m = n - 1  # number of differences
    # symbol-level sums (all pairs at once):
    #   A[l][u, v] = sum_t d_u[t] d_v[t + l]          (l = 0..K)
    #   B[a][u, v] = sum_{t=a}^{n-2} yc_u[t] d_v[t - a]  (a = 0..K)
    #   C[u, v]    = sum_{t=0}^{n-2} yc_u[t] yc_v[t]
    a_mat = np.empty((kmax + 1, len(used), len(used)))
    b_mat = np.empty_like(a_mat)
    # series-major copies: BLAS is much faster on contiguous rows than on strided columns
    yc_t = np.ascontiguousarray(yc.T)
    d_t = np.ascontiguousarray(d.T)
    for lag in range(kmax + 1):
        a_mat[lag] = d_t[:, : m - lag] @ d_t[:, lag:].T
        b_mat[lag] = yc_t[:, lag:m] @ d_t[:, : m - lag].T
    c_mat = yc_t[:, :m] @ yc_t[:, :m].T
    c_full = c_mat + np.outer(yc[m], yc[m])
    col_sum = yc[:m].sum(axis=0)

    npairs = len(pair_idx)
    out_t = np.full(npairs, np.nan)
    out_lag = np.full(npairs, -1, dtype=np.int64)
    out_nobs = np.zeros(npairs, dtype=np.int64)
    out_beta = np.full(npairs, np.nan)
    out_r2 = np.full(npairs, np.nan)
    out_hl = np.full(npairs, np.nan)
    out_alpha = np.full(npairs, np.nan)
    means = values[:, used].mean(axis=0)
    for start in range(0, npairs, chunk_size):
        sl = slice(start, min(start + chunk_size, npairs))
        res = _scan_chunk(
            pair_idx[sl], col, yc, d, a_mat, b_mat, c_mat, c_full, col_sum, means, kmax
        )
        out_t[sl], out_lag[sl], out_nobs[sl], out_beta[sl], out_alpha[sl], out_r2[sl], out_hl[sl] = res
    pvals = np.asarray(mackinnon_pvalue(out_t, 2), dtype=np.float64)
    return CointegrationScan(
        y=pair_idx[:, 0].copy(),
        x=pair_idx[:, 1].copy(),
        t_stat=out_t,
        p_value=pvals,
        lag=out_lag,
        nobs=out_nobs,
        hedge_ratio=out_beta,
        intercept=out_alpha,
        r_squared=out_r2,
        half_life=out_hl,
        maxlag=kmax,
    )


def _scan_chunk(
    pairs: IntArray,
    col: IntArray,
    yc: FloatArray,
    d: FloatArray,
    a_mat: FloatArray,
    b_mat: FloatArray,
    c_mat: FloatArray,
    c_full: FloatArray,
    col_sum: FloatArray,
    means: FloatArray,
    kmax: int,
) -> tuple[FloatArray, IntArray, IntArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    n = yc.shape[0]
    m = n - 1
    k = kmax
    p = len(pairs)
    i = col[pairs[:, 0]]
    j = col[pairs[:, 1]]
    # cointegrating regression y_i = alpha + beta * y_j
    sjj = c_full[j, j]
    sij = c_full[i, j]
    sii = c_full[i, i]
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = sij / sjj
        ssr_co = sii - 2.0 * beta * sij + beta * beta * sjj
        r2 = 1.0 - ssr_co / sii
    alpha = means[i] - beta * means[j]
    b2 = beta * beta
    valid = np.isfinite(beta) & (sii > 0.0)
    collinear = valid & (r2 >= COLLINEAR_R2)
    run = valid & ~collinear

    # pair sums through linearity: e = yc_i - beta yc_j, de = d_i - beta d_j
    s_lag = (
        a_mat[:, i, i] - beta * (a_mat[:, i, j] + a_mat[:, j, i]) + b2 * a_mat[:, j, j]
    ).T  # (p, K+1): sum de[t] de[t+l]
    s_xd = (
        b_mat[:, i, i] - beta * (b_mat[:, i, j] + b_mat[:, j, i]) + b2 * b_mat[:, j, j]
    ).T  # (p, K+1): sum_t e[t] de[t-a]
    s_xx = c_mat[i, i] - 2.0 * beta * c_mat[i, j] + b2 * c_mat[j, j]

    # half-life: AR(1) with constant, de[t] = c + b e[t] + u over t = 0..n-2
    e_first = yc[0, i] - beta * yc[0, j]
    e_last = yc[m, i] - beta * yc[m, j]
    sx = col_sum[i] - beta * col_sum[j]
    sy = e_last - e_first
    with np.errstate(divide="ignore", invalid="ignore"):
        b_ar = (m * s_xd[:, 0] - sx * sy) / (m * s_xx - sx * sx)
        phi = np.abs(1.0 + b_ar)
        half_life = np.where(phi < 1.0, np.log(0.5) / np.log(phi), np.inf)
    half_life = np.where(phi == 0.0, 0.0, half_life)

    # natural column order of a regressor row: [de_t, de_{t-1}, ..., de_{t-K}, e_t]
    size = k + 2
    ia, ib = np.meshgrid(np.arange(k + 1), np.arange(k + 1), indexing="ij")
    full = np.empty((p, size, size))
    full[:, : k + 1, : k + 1] = s_lag[:, np.abs(ia - ib)]
    full[:, : k + 1, k + 1] = s_xd
    full[:, k + 1, : k + 1] = s_xd
    full[:, k + 1, k + 1] = s_xx
    # rows left out at the head (t = 0..K-1) and the tail (t = n-1 .. n-2+K) of the sample
    head_e = yc[: k + 1, i] - beta * yc[: k + 1, j]  # (K+1, p)
    head_d = np.diff(head_e, axis=0).T  # (p, K): de[0..K-1]
    tail_e = yc[m - k - 1 : n, i] - beta * yc[m - k - 1 : n, j] if k > 0 else None
    rows_t, lags_a = np.meshgrid(np.arange(k), np.arange(k + 1), indexing="ij")
    head = np.zeros((p, k, size))
    if k > 0:
        src = rows_t - lags_a
        ok = src >= 0
        head[:, :, : k + 1] = np.where(ok, head_d[:, np.clip(src, 0, None)], 0.0)
        head[:, :, k + 1] = head_e[:k].T
        assert tail_e is not None
        tail_d = np.diff(tail_e, axis=0).T[:, 1:]  # (p, K): de[n-1-K .. n-2]
        tsrc = k + rows_t - lags_a
        tail = np.where(lags_a >= rows_t + 1, tail_d[:, np.clip(tsrc, 0, k - 1)], 0.0)
        tail_full = np.zeros((p, k, size))
        tail_full[:, :, : k + 1] = tail
        tail_gram = tail_full.transpose(0, 2, 1) @ tail_full
    else:
        tail_gram = np.zeros((p, size, size))
    base = full - tail_gram
    # bad pairs get a harmless identity so the batch factorises
    base[~run] = np.eye(size)

    # 1) lag search on the common sample t = K..n-2; order [e_t, de_{t-1..t-K}, de_t]
    search = base - head.transpose(0, 2, 1) @ head
    perm = np.array([k + 1, *range(1, k + 1), 0])
    gs = search[:, perm][:, :, perm]
    chol, ok_s = _cholesky(gs)
    ly = chol[:, -1, :-1] ** 2  # (p, K+1)
    tail_ss = np.cumsum(ly[:, ::-1], axis=1)[:, ::-1]  # sum_{j >= c} ly^2
    ssr = chol[:, -1, -1] ** 2
    ssr_k = np.empty_like(ly)
    ssr_k[:, :-1] = ssr[:, None] + tail_ss[:, 1:]
    ssr_k[:, -1] = ssr
    nobs_s = m - k
    with np.errstate(divide="ignore", invalid="ignore"):
        aic = nobs_s * np.log(ssr_k / nobs_s) + 2.0 * np.arange(1, k + 2)
    aic = np.where(np.isfinite(aic), aic, np.inf)
    best = np.argmin(aic, axis=1).astype(np.int64)

    # 2) re-run at the chosen lag on t = best..n-2; order [de_{t-1..t-K}, e_t, de_t]
    keep_rows = (np.arange(k)[None, :] < best[:, None]).astype(np.float64)
    hm = head * keep_rows[:, :, None]
    final = base - hm.transpose(0, 2, 1) @ hm
    perm_f = np.array([*range(1, k + 1), k + 1, 0])
    gf = final[:, perm_f][:, :, perm_f]
    unused = np.zeros((p, size), dtype=bool)
    unused[:, :k] = np.arange(1, k + 1)[None, :] > best[:, None]
    gf[unused[:, :, None] | unused[:, None, :]] = 0.0
    diag = np.arange(size)
    gf[:, diag, diag] = np.where(unused, 1.0, gf[:, diag, diag])
    chol_f, ok_f = _cholesky(gf)
    nobs_f = m - best
    df_resid = nobs_f - best - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(chol_f[:, -1, -1] ** 2 / df_resid)
        tstat = chol_f[:, -1, k] / sigma

    good = run & ok_s & ok_f
    t_out = np.where(good, tstat, np.nan)
    t_out = np.where(collinear, -np.inf, t_out)
    lag_out = np.where(good, best, -1)
    nobs_out = np.where(good, nobs_f, 0)
    return (
        t_out,
        lag_out.astype(np.int64),
        nobs_out.astype(np.int64),
        np.where(valid, beta, np.nan),
        np.where(valid, alpha, np.nan),
        np.where(valid, r2, np.nan),
        np.where(valid, half_life, np.nan),
    )


def engle_granger(y: npt.ArrayLike, x: npt.ArrayLike, *, maxlag: int | None = None) -> dict[str, float]:
    """Engle-Granger test of one pair: ``y`` regressed on ``x`` with a constant.

    Returns ``t_stat``, ``p_value``, ``lag``, ``nobs``, ``hedge_ratio``, ``intercept``,
    ``r_squared`` and ``half_life`` (the values ``statsmodels``' ``coint(y, x)`` gives for the
    statistic and p-value).
    """
    arr = np.column_stack((np.asarray(y, dtype=np.float64), np.asarray(x, dtype=np.float64)))
    r = coint_scan(arr, [(0, 1)], maxlag=maxlag)
    return {
        "t_stat": float(r.t_stat[0]),
        "p_value": float(r.p_value[0]),
        "lag": int(r.lag[0]),
        "nobs": int(r.nobs[0]),
        "hedge_ratio": float(r.hedge_ratio[0]),
        "intercept": float(r.intercept[0]),
        "r_squared": float(r.r_squared[0]),
        "half_life": float(r.half_life[0]),
    }


def _numeric_frame(prices: pl.DataFrame) -> tuple[list[str], FloatArray]:
    names = [c for c, dt in prices.schema.items() if dt.is_numeric()]
    if not names:
        raise ValueError("the price matrix has no numeric columns")
    return names, prices.select(names).to_numpy().astype(np.float64, copy=False)


def engle_granger_scan(
    prices: pl.DataFrame,
    pairs: Sequence[tuple[str, str]] | None = None,
    *,
    maxlag: int | None = None,
    chunk_size: int = 512,
) -> pl.DataFrame:
    """Scan every pair of the numeric columns of ``prices`` (one column per instrument).

    ``pairs`` lists ``(y, x)`` column names (default: every pair ``i < j`` in column order).
    Returns one row per pair: ``y``, ``x``, ``t_stat``, ``p_value``, ``lag``, ``nobs``,
    ``hedge_ratio``, ``intercept``, ``r_squared``, ``half_life``; same statistic, p-value and
    lag as ``statsmodels.tsa.stattools.coint(prices[y], prices[x])``.
    """
    names, values = _numeric_frame(prices)
    idx = _resolve_pairs(pairs, names, len(names)) if pairs is not None else None
    r = coint_scan(values, idx, maxlag=maxlag, chunk_size=chunk_size)
    return pl.DataFrame(
        {
            "y": [names[k] for k in r.y.tolist()],
            "x": [names[k] for k in r.x.tolist()],
            "t_stat": r.t_stat,
            "p_value": r.p_value,
            "lag": r.lag,
            "nobs": r.nobs,
            "hedge_ratio": r.hedge_ratio,
            "intercept": r.intercept,
            "r_squared": r.r_squared,
            "half_life": r.half_life,
        }
    )


def find_cointegrated_pairs(
    prices: pl.DataFrame,
    p_value_threshold: float = 0.05,
    *,
    maxlag: int | None = None,
) -> pl.DataFrame:
    """The TRD's ``find_cointegrated_pairs``: scan rows with ``p_value < p_value_threshold``,
    most significant first."""
    scan = engle_granger_scan(prices, maxlag=maxlag)
    return scan.filter(pl.col("p_value") < p_value_threshold).sort("p_value")
