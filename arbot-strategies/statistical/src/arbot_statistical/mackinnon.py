"""MacKinnon (1994, 2010) approximate asymptotic p-values of unit-root / cointegration t-stats.

The p-value of a Dickey-Fuller / Engle-Granger tau statistic is ``Phi(poly(tau))``, a normal
CDF of a polynomial in the statistic fitted by MacKinnon (1994) and re-estimated on the 2010
simulations. Left of a switch point ``tau*`` a quadratic is used, right of it a cubic; far in
the left tail the p-value is 0, far in the right tail 1. The coefficient values below are the
published estimates for the model *with a constant* (regression ``"c"``), for ``N`` = 1..6
integrated series (``N = 2`` is the two-variable Engle-Granger test).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["mackinnon_pvalue", "normal_cdf"]

# (tau_min, tau_star, tau_max) per N (index N-1), constant in the regression.
_BOUNDS_C: tuple[tuple[float, float, float], ...] = (
    (-18.83, -1.61, 2.74),
    (-18.86, -2.62, 0.92),
    (-23.48, -3.13, 0.55),
    (-28.07, -3.47, 0.61),
    (-25.96, -3.78, 0.79),
    (-23.27, -3.93, 1.0),
)
# Left tail: gamma0 + gamma1 * t + gamma2 * t^2 (as published, gamma2 in units of 1e-2).
_SMALL_C: tuple[tuple[float, float, float], ...] = (
    (2.1659, 1.4412, 3.8269),
    (2.92, 1.5012, 3.9796),
    (3.4699, 1.4856, 3.164),
    (3.9673, 1.4777, 2.6315),
    (4.5509, 1.5338, 2.9545),
    (5.1399, 1.6036, 3.4445),
)
# Right part: gamma0 + gamma1 t + gamma2 t^2 + gamma3 t^3 (published in units 1, 1e-1, 1e-1, 1e-2).
_LARGE_C: tuple[tuple[float, float, float, float], ...] = (
    (1.7339, 9.3202, -1.2745, -1.0368),
    (2.1945, 6.4695, -2.9198, -4.2377),
    (2.5893, 4.5168, -3.6529, -5.0074),
    (3.0387, 4.5452, -3.3666, -4.1921),
    (3.5049, 5.2098, -2.9158, -3.3468),
    (3.9489, 5.8933, -2.5359, -2.721),
)
_SQRT2 = math.sqrt(2.0)


def normal_cdf(x: float) -> float:
    """Standard normal CDF, accurate in both tails (via ``erfc``)."""
    return 0.5 * math.erfc(-x / _SQRT2)


def _pvalue_one(tau: float, n_series: int) -> float:
    lo, star, hi = _BOUNDS_C[n_series - 1]
    if tau != tau:
        return math.nan
    if tau > hi:
        return 1.0
    if tau < lo:
        return 0.0
    if tau <= star:
        g0, g1, g2 = _SMALL_C[n_series - 1]
        z = g0 + tau * (g1 + tau * (g2 * 1e-2))
    else:
        c0, c1, c2, c3 = _LARGE_C[n_series - 1]
        z = c0 + tau * (c1 * 1e-1 + tau * (c2 * 1e-1 + tau * (c3 * 1e-2)))
    return normal_cdf(z)


def mackinnon_pvalue(
    tau: float | npt.ArrayLike, n_series: int = 2
) -> float | npt.NDArray[np.float64]:
    """Approximate p-value of a tau statistic from a regression with a constant.

    ``n_series`` is MacKinnon's N: 1 for an ADF test with a constant, 2 for the two-variable
    Engle-Granger cointegration test (``statsmodels.tsa.stattools.coint`` with ``trend="c"``).
    Accepts a scalar (returns a float) or an array (returns an array of the same shape);
    ``-inf`` gives 0 and NaN gives NaN.
    """
    if not 1 <= n_series <= len(_BOUNDS_C):
        raise ValueError(f"n_series must be in 1..{len(_BOUNDS_C)}, got {n_series}")
    if np.ndim(tau) == 0:
        return _pvalue_one(float(tau), n_series)  # type: ignore[arg-type]
    arr = np.asarray(tau, dtype=np.float64)
    out = np.fromiter((_pvalue_one(t, n_series) for t in arr.ravel().tolist()), np.float64, arr.size)
    return out.reshape(arr.shape)
