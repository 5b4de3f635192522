"""Small numeric helpers shared by the analysis modules (not public API)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special

from cxlab.errors import CxlabError


def as_float(values: pd.Series | Sequence[float] | np.ndarray) -> np.ndarray:
    """A float array with NaN for every missing value (pd.NA, None, NaN)."""
    if isinstance(values, pd.Series):
        if values.dtype == object:
            values = pd.to_numeric(values, errors="raise")
        return values.to_numpy(dtype=float, na_value=np.nan)
    return pd.Series(values).to_numpy(dtype=float, na_value=np.nan)


def z_critical(ci: float) -> float:
    """Two-sided standard normal quantile for a ``ci`` confidence level."""
    if not 0 < ci < 1:
        raise CxlabError(f"ci must be between 0 and 1 (got {ci})")
    # special.ndtri is what scipy.stats.norm.ppf computes, without importing scipy.stats.
    return float(special.ndtri(0.5 + ci / 2))


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values; NaN entries stay NaN and do not count.

    Holm, S. (1979). A simple sequentially rejective multiple test procedure.
    Scandinavian Journal of Statistics, 6(2), 65–70.
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    if valid.size == 0:
        return adjusted
    order = valid[np.argsort(p[valid], kind="stable")]
    m = order.size
    stepped = (m - np.arange(m)) * p[order]
    adjusted[order] = np.minimum(np.maximum.accumulate(stepped), 1.0)
    return adjusted


def t_quantile(q: float, df: float | np.ndarray) -> float | np.ndarray:
    """The ``q`` quantile of Student's t with ``df`` degrees of freedom (NaN for df < 1),
    as ``scipy.stats.t.ppf(q, df)`` computes it — through ``scipy.special`` alone: a
    dashboard kernel that imported scipy.stats for it would hold 40 MB more.

    >>> round(float(t_quantile(0.975, 10)), 4)
    2.2281
    """
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        quantile = np.where(df >= 1, special.stdtrit(np.maximum(df, 1), q), np.nan)
    return quantile if quantile.ndim else float(quantile)


def wilson_interval(successes: np.ndarray, n: np.ndarray, ci: float) -> tuple[np.ndarray, ...]:
    """Wilson score interval for a proportion (NaN where n == 0).

    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. JASA, 22(158), 209–212.
    """
    z = z_critical(ci)
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def midranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (1-based, ties get their mean rank) of a 1-D array without NaN.

    Survey answers take few distinct values, so ranks come from value counts in
    O(n) instead of a sort; other data fall back to :func:`scipy.stats.rankdata`.
    """
    values = np.asarray(values, dtype=float)
    if values.size and np.all(values == np.rint(values)):
        low = values.min()
        codes = (values - low).astype(np.int64)
        if codes.max() < 10_000:
            counts = np.bincount(codes)
            below = np.cumsum(counts) - counts
            return (below + (counts + 1) / 2)[codes]
    from scipy import stats  # imported on use: scipy.stats takes ~0.8 s to import

    return stats.rankdata(values)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation of two 1-D arrays without NaN (NaN if either is constant
    or there are fewer than 3 pairs).

    Pearson's r of the midranks. When both are small-range integers (survey answers) it is
    computed from their joint count table, so a million answers cost one ``bincount``.
    """
    if x.size < 3:
        return float("nan")
    coded = [_small_integer_codes(v) for v in (x, y)]
    if coded[0] is None or coded[1] is None:
        return _pearson(midranks(x), midranks(y))
    (x_codes, x_levels), (y_codes, y_levels) = coded
    joint = np.bincount(x_codes * y_levels + y_codes, minlength=x_levels * y_levels)
    joint = joint.reshape(x_levels, y_levels).astype(float)
    x_counts, y_counts = joint.sum(axis=1), joint.sum(axis=0)
    x_ranks = np.cumsum(x_counts) - x_counts + (x_counts + 1) / 2 - (x.size + 1) / 2
    y_ranks = np.cumsum(y_counts) - y_counts + (y_counts + 1) / 2 - (y.size + 1) / 2
    covariance = x_ranks @ joint @ y_ranks
    spread = np.sqrt((x_counts @ x_ranks**2) * (y_counts @ y_ranks**2))
    return float(covariance / spread) if spread > 0 else float("nan")


def _small_integer_codes(values: np.ndarray) -> tuple[np.ndarray, int] | None:
    low, high = values.min(), values.max()
    if high - low >= 1000:
        return None
    codes = (values - low).astype(np.int64)
    if not np.array_equal(codes, values - low):
        return None
    return codes, int(high - low) + 1


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    x, y = x - x.mean(), y - y.mean()
    spread = np.sqrt((x @ x) * (y @ y))
    return float(x @ y / spread) if spread > 0 else float("nan")


def require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise a readable error naming the missing columns."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise CxlabError(f"column(s) not in the responses: {', '.join(map(str, missing))}")


def period_start(stamps: pd.Series, freq: str) -> pd.Series:
    """The start of each timestamp's calendar period (``freq`` as in pandas: D, W, M, Q),
    computed in UTC and returned timezone-naive so it charts as plain dates."""
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps.dt.to_period(freq).dt.start_time
