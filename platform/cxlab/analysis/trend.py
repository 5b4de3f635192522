"""A metric per calendar period, with intervals and a test of each period-on-period change."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import special

from cxlab.analysis._common import as_float, holm, period_start, require_columns, t_quantile
from cxlab.analysis.nps import ADJUST_EACH, ADJUST_N, nps, nps_by
from cxlab.errors import CxlabError


def trend(
    df: pd.DataFrame,
    metric: str,
    freq: str = "W",
    *,
    statistic: Literal["nps", "mean"] = "nps",
    time: str = "submitted_at",
    ci: float = 0.95,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """``metric`` per period (NPS or mean) with CI and n, and whether it changed
    significantly from the previous period.

    For NPS the change test is z = ΔNPS / √(SE₁² + SE₂²) (two independent samples, SE from
    :func:`cxlab.analysis.nps`); when either period's SE is 0 (every answer in one group,
    e.g. all promoters, where z would be infinite or undefined) the change is tested
    exactly instead: a permutation test of ΔNPS over every split of the two periods'
    pooled promoter/passive/detractor counts (multivariate hypergeometric), and the
    period's ``note`` says so. For a mean it is Welch's t-test from the two periods' n,
    mean and sd; two periods without any spread are "not tested" with the reason.
    ``p_holm`` adjusts the change p-values over all periods (Holm).

    Parameters
    ----------
    df : responses. metric : the column (e.g. ``"nps"``, ``"enps"``, a rating item).
    freq : calendar period (pandas alias: ``"D"``, ``"W"``, ``"M"``, ``"Q"``), in UTC;
        every period between the first and last answer gets a row.
    statistic : ``"nps"`` (0–10 answers) or ``"mean"``.
    time : the timestamp column. ci : confidence level. alpha : level for
        ``significant_change`` (on ``p_holm``).

    Returns
    -------
    DataFrame: ``period`` (first day), ``n``, ``value``, ``ci_low``, ``ci_high``,
    ``change`` (vs previous period), ``p_change``, ``p_holm``, ``significant_change``,
    ``note``. A period without answers has n = 0, NaN value and note "no answers"; the
    changes into and out of it are NaN (not tested).

    Reference: Welch (1947) Biometrika 34, 28–35; Holm (1979).

    Examples
    --------
    >>> frame = pd.DataFrame({
    ...     "submitted_at": pd.to_datetime(["2026-01-05", "2026-01-06", "2026-01-13",
    ...                                     "2026-01-14", "2026-01-27"], utc=True),
    ...     "nps": [10, 6, 9, 10, 3]})
    >>> table = trend(frame, "nps", "W")
    >>> table["period"].dt.strftime("%m-%d").tolist(), table["n"].tolist()
    (['01-05', '01-12', '01-19', '01-26'], [2, 2, 0, 1])
    >>> table["value"].tolist(), table["note"].tolist()[2]
    ([0.0, 100.0, nan, -100.0], 'no answers')
    """
    require_columns(df, [metric, time])
    if statistic == "nps":
        table = nps_by(df, metric, freq=freq, time=time, ci=ci)
        table = table.rename(columns={"nps": "value"})
    elif statistic == "mean":
        values = as_float(df[metric])
        frame = pd.DataFrame({"period": period_start(df[time], freq), "value": values})
        grouped = frame.groupby("period", sort=True)["value"]
        table = pd.DataFrame({"n": grouped.count(), "value": grouped.mean(),
                              "sd": grouped.std(ddof=1)}).reset_index()
        with np.errstate(invalid="ignore", divide="ignore"):
            spread = (table["sd"] / np.sqrt(table["n"])).to_numpy()
            half = t_quantile(0.5 + ci / 2, table["n"].to_numpy(dtype=float) - 1) * spread
        table["ci_low"], table["ci_high"] = table["value"] - half, table["value"] + half
        table["se"] = spread
        table["note"] = np.where(table["n"] < 2, "fewer than two answers: no interval", "")
    else:
        raise CxlabError(f"statistic must be 'nps' or 'mean' (got {statistic!r})")
    table = _every_period(table, freq)
    spread = table["se"].to_numpy(dtype=float)
    value = table["value"].to_numpy()
    n = table["n"].to_numpy(dtype=float)
    change = np.diff(value, prepend=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        combined = np.sqrt(spread**2 + np.roll(spread, 1) ** 2)
        score = change / combined
        if statistic == "nps":
            p = 2 * special.ndtr(-np.abs(score))  # = scipy.stats.norm.sf(|z|)
        else:
            se2, se2_prev = spread**2, np.roll(spread, 1) ** 2
            df_welch = (se2 + se2_prev) ** 2 / (
                se2**2 / (n - 1) + se2_prev**2 / (np.roll(n, 1) - 1)
            )
            p = 2 * special.stdtr(df_welch, -np.abs(score))  # = scipy.stats.t.sf(|t|, df)
    p[0] = np.nan
    p[~np.isfinite(score)] = np.nan
    notes = table["note"].fillna("").to_numpy(dtype=object)
    both = (n > 0) & (np.roll(n, 1) > 0)
    both[0] = False
    flat = both & ((spread == 0) | (np.roll(spread, 1) == 0))
    for k in np.flatnonzero(flat):
        if statistic == "nps":
            counts = (table[["promoters", "passives", "detractors"]].fillna(0)
                      .to_numpy(dtype=np.int64))
            p[k], added = flat_nps_change_p(counts[k - 1], counts[k])
        elif not np.isfinite(score[k]):
            added = "change not tested: neither period has any spread"
        else:
            continue
        notes[k] = f"{notes[k]}; {added}" if notes[k] else added
    out = table[["period", "n", "value", "ci_low", "ci_high"]].copy()
    out["change"] = change
    out["p_change"] = p
    out["p_holm"] = holm(p)
    out["significant_change"] = out["p_holm"] < alpha
    out["note"] = notes
    return out


def nps_change(before: pd.Series, after: pd.Series) -> tuple[float, float]:
    """The change of NPS from the answers ``before`` to those ``after`` (two independent
    samples of 0–10 scores) and its two-sided p-value, tested as :func:`trend` tests
    consecutive periods: z = ΔNPS / √(SE₁² + SE₂²), or :func:`flat_nps_change_p` when a
    period has every answer in one group. NaN when either has no answer.

    >>> change, p = nps_change(pd.Series([10, 9, 6, 3] * 25), pd.Series([10, 9, 9, 6] * 25))
    >>> round(change, 1), round(p, 4)
    (50.0, 0.0002)
    """
    first, second = nps(before).iloc[0], nps(after).iloc[0]
    if not (first.n and second.n):
        return float("nan"), float("nan")
    change = float(second.nps - first.nps)
    if first.se == 0 or second.se == 0:
        counts = [np.array([row.promoters, row.passives, row.detractors], dtype=np.int64)
                  for row in (first, second)]
        return change, flat_nps_change_p(*counts)[0]
    z = change / np.sqrt(first.se**2 + second.se**2)
    return change, float(2 * special.ndtr(-abs(z)))


MAX_EXACT_CELLS = 2_000_000  # splits enumerated by the exact test (~100 MB of arrays)


def flat_nps_change_p(before: np.ndarray, after: np.ndarray) -> tuple[float, str]:
    """p-value of an NPS change when a period has every answer in one group (SE 0), and
    how it was tested: exactly (:func:`exact_nps_change_p`) when the split table is small
    enough, else by z with Rocks' adjusted SEs (¾ added to promoters and detractors,
    3 to n: never 0) — only thousands of answers get there, where z is accurate.

    >>> p, how = flat_nps_change_p(np.array([8, 0, 0]), np.array([0, 0, 8]))
    >>> round(p, 6), how
    (0.000155, 'change tested exactly (a period has every answer in one group)')
    >>> p, how = flat_nps_change_p(np.array([3000, 0, 0]), np.array([1000, 1000, 1000]))
    >>> p < 1e-6, how
    (True, 'change tested by z with adjusted SEs (a period has every answer in one group)')
    """
    before, after = np.asarray(before, dtype=np.int64), np.asarray(after, dtype=np.int64)
    pooled = before + after
    n_before = int(before.sum())
    cells = (min(pooled[0], n_before) + 1) * (min(pooled[2], n_before) + 1)
    if cells <= MAX_EXACT_CELLS:
        return (exact_nps_change_p(before, after),
                "change tested exactly (a period has every answer in one group)")
    shares = []
    for counts in (before, after):
        size = counts.sum() + ADJUST_N
        promoters = (counts[0] + ADJUST_EACH) / size
        detractors = (counts[2] + ADJUST_EACH) / size
        shares.append((counts[0] - counts[2]) / counts.sum()
                      if counts.sum() else np.nan)
        shares.append((promoters + detractors - (promoters - detractors) ** 2) / size)
    z = (shares[2] - shares[0]) / np.sqrt(shares[1] + shares[3])
    return (float(2 * special.ndtr(-abs(z))),
            "change tested by z with adjusted SEs (a period has every answer in one group)")


def exact_nps_change_p(before: np.ndarray, after: np.ndarray) -> float:
    """Two-sided exact p-value of the NPS change between two samples of counts
    (promoters, passives, detractors): the permutation distribution of ΔNPS given the
    pooled counts, i.e. the multivariate hypergeometric split of the pooled answers.

    All 5 promoters before, all 5 detractors after: only 2 of the 252 splits are as
    extreme (this one and its mirror), p = 2/252.

    >>> round(exact_nps_change_p(np.array([5, 0, 0]), np.array([0, 0, 5])), 5)
    0.00794
    """
    before, after = np.asarray(before, dtype=np.int64), np.asarray(after, dtype=np.int64)
    pooled = before + after
    n_before, n_after = int(before.sum()), int(after.sum())
    total = n_before + n_after
    promoters = np.arange(min(pooled[0], n_before) + 1)[:, None]
    detractors = np.arange(min(pooled[2], n_before) + 1)[None, :]
    passives = n_before - promoters - detractors
    possible = (passives >= 0) & (passives <= pooled[1])
    passives = np.clip(passives, 0, pooled[1])
    log_p = (_log_choose(pooled[0], promoters) + _log_choose(pooled[1], passives)
             + _log_choose(pooled[2], detractors) - _log_choose(total, n_before))
    change = ((pooled[0] - promoters - (pooled[2] - detractors)) / n_after
              - (promoters - detractors) / n_before)
    observed = abs((after[0] - after[2]) / n_after - (before[0] - before[2]) / n_before)
    extreme = possible & (np.abs(change) >= observed - 1e-12)
    return float(min(np.exp(log_p[extreme]).sum(), 1.0))


def _log_choose(n: int | np.ndarray, k: np.ndarray) -> np.ndarray:
    return special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)


def _every_period(table: pd.DataFrame, freq: str) -> pd.DataFrame:
    """One row per calendar period from the first to the last, empty ones with n = 0."""
    if table.empty:
        return table
    periods = pd.period_range(table["period"].min(), table["period"].max(), freq=freq)
    full = pd.DataFrame({"period": periods.start_time})
    table = full.merge(table, on="period", how="left")
    empty = table["n"].isna()
    table["n"] = table["n"].fillna(0).astype("int64")
    table["note"] = table["note"].where(~empty, "no answers")
    return table
