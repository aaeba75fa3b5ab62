"""ArBot statistical arbitrage: vectorised Engle-Granger scan, spread statistics, a detector."""

from arbot_statistical.coint import (
    CointegrationScan,
    coint_scan,
    default_maxlag,
    engle_granger,
    engle_granger_scan,
    find_cointegrated_pairs,
)
from arbot_statistical.data import read_bitstamp_daily_closes, read_lean_quote_mids, read_lean_quotes
from arbot_statistical.detector import StatisticalDetector, StatisticalSettings
from arbot_statistical.mackinnon import mackinnon_pvalue
from arbot_statistical.spread import (
    Signal,
    generate_signal,
    half_life,
    hedge_ratio,
    rolling_zscore,
    spread_series,
    zscore,
)

__all__ = [
    "CointegrationScan",
    "Signal",
    "StatisticalDetector",
    "StatisticalSettings",
    "coint_scan",
    "default_maxlag",
    "engle_granger",
    "engle_granger_scan",
    "find_cointegrated_pairs",
    "generate_signal",
    "half_life",
    "hedge_ratio",
    "mackinnon_pvalue",
    "read_bitstamp_daily_closes",
    "read_lean_quote_mids",
    "read_lean_quotes",
    "rolling_zscore",
    "spread_series",
    "zscore",
]
