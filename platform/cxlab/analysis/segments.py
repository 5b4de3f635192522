"""Comparing segments (stores, departments): is the difference between them real?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special

from cxlab.analysis._common import as_float, holm, midranks, require_columns
from cxlab.analysis.nps import MIN_N
from cxlab.errors import CxlabError

MAX_SKEW = 1.0  # beyond this the mean is a poor summary and Kruskal–Wallis is chosen
MAX_LEVELS = 2000  # distinct values handled by count tables; more go pair by pair via scipy
TOO_FEW = "too few answers"


@dataclass(frozen=True)
class SegmentComparison:
    """Result of :func:`compare_segments`.

    ``test``: one row (``test``, ``statistic``, ``df1``, ``df2``, ``p``, ``effect_size``,
    ``effect_size_name``, ``n``, ``segments_tested``, ``reason``); ``segments``: one row
    per segment with ``status`` ("ok", "too few answers", "no answers"); ``pairwise``: one
    row per pair of tested segments with ``p_unc``, ``p_holm``, ``significant`` and an
    effect size.
    """

    test: pd.DataFrame
    segments: pd.DataFrame
    pairwise: pd.DataFrame


def compare_segments(
    df: pd.DataFrame,
    value: str,
    by: str,
    *,
    method: Literal["auto", "welch", "kruskal", "chi2"] = "auto",
    segments: Sequence[object] | None = None,
    min_n: int = MIN_N,
    alpha: float = 0.05,
) -> SegmentComparison:
    """Do segments differ on ``value``? Omnibus test, then every pair with Holm correction.

    Numeric answers: Welch's ANOVA with pairwise Welch t-tests and Hedges' g, or
    Kruskal–Wallis with pairwise Mann–Whitney U tests (normal approximation with tie and
    continuity correction, as scipy) and the rank-biserial correlation. ``method="auto"``
    picks Welch when every tested segment has |skewness| ≤ 1 and some spread (means are
    then a fair summary and approximately normal at n ≥ ``min_n``), otherwise
    Kruskal–Wallis; ``reason`` says which and why. Categorical answers (text values):
    chi-square test of independence with Cramér's V, pairwise 2×k chi-square tests.
    Segments with fewer than ``min_n`` answers are reported as "too few answers" and left
    out of every test, so they are never shown as confidently different.

    Parameters
    ----------
    df : responses. value : the answer column. by : the segment column.
    method : ``"auto"``, ``"welch"``, ``"kruskal"`` or ``"chi2"`` (categorical answers
        always use chi-square).
    segments : segments that must appear even without answers ("no answers").
    min_n : fewest answers for a segment to be tested.
    alpha : level for the ``significant`` column (on ``p_holm``).

    Returns
    -------
    :class:`SegmentComparison`. With fewer than two tested segments there is no test:
    ``p`` is NaN and ``reason`` says why; ``pairwise`` is empty.

    Reference: Welch, B. L. (1951). Biometrika 38, 330–336; Kruskal & Wallis (1952).
    JASA 47, 583–621; Mann & Whitney (1947); Holm (1979); Hedges & Olkin (1985);
    Kerby, D. S. (2014) The simple difference formula (rank-biserial); Cramér (1946).

    Examples
    --------
    >>> frame = pd.DataFrame({"store": ["a"] * 40 + ["b"] * 40 + ["c"] * 5,
    ...                       "score": [7, 8] * 20 + [9, 10] * 20 + [1] * 5})
    >>> result = compare_segments(frame, "score", "store")
    >>> result.test.loc[0, "test"], int(result.test.loc[0, "segments_tested"])
    ('welch_anova', 2)
    >>> result.segments["status"].tolist()
    ['ok', 'ok', 'too few answers']
    >>> result.pairwise[["segment_a", "segment_b", "significant"]].to_numpy().tolist()
    [['a', 'b', True]]
    """
    require_columns(df, [value, by])
    column = df[value]
    if column.dtype == object and column.map(lambda v: isinstance(v, list | tuple | set)).any():
        raise CxlabError(f"compare_segments: {value!r} holds multiple answers; compare one "
                         "option at a time (e.g. a True/False column per option)")
    categorical = method == "chi2" or not (
        pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    )
    codes, names = pd.factorize(df[by], sort=True)
    names = list(names)
    if isinstance(df[by].dtype, pd.CategoricalDtype):
        names = [c for c in df[by].cat.categories if c not in names] + names
        codes = pd.Categorical(df[by], categories=names).codes
    for extra in segments or ():
        if extra not in names:
            names.append(extra)
    if categorical:
        return _compare_categories(column, codes, names, min_n, alpha)
    if method not in ("auto", "welch", "kruskal"):
        raise CxlabError(f"unknown method {method!r}")
    return _compare_numbers(as_float(column), codes, names, method, min_n, alpha)


def _segment_table(names: list[object], n: np.ndarray, min_n: int) -> pd.DataFrame:
    status = np.where(n == 0, "no answers", np.where(n < min_n, TOO_FEW, "ok"))
    return pd.DataFrame({"segment": names, "n": n.astype("int64"), "status": status})


def _compare_numbers(
    values: np.ndarray, codes: np.ndarray, names: list[object], method: str, min_n: int,
    alpha: float,
) -> SegmentComparison:
    keep = (codes >= 0) & ~np.isnan(values)
    values, codes = values[keep], codes[keep]
    groups = len(names)
    n = np.bincount(codes, minlength=groups).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(codes, values, minlength=groups) / n
        centred = values - mean[codes]
        m2 = np.bincount(codes, centred**2, minlength=groups) / n
        m3 = np.bincount(codes, centred**3, minlength=groups) / n
        variance = m2 * n / (n - 1)
        skew = np.where(m2 > 0, m3 / m2**1.5, 0.0)
    table = _segment_table(names, n, min_n)
    table["mean"] = mean
    table["sd"] = np.sqrt(variance)
    table["median"] = pd.Series(values).groupby(codes).median().reindex(range(groups)).to_numpy()
    table["skewness"] = np.where(n > 2, skew, np.nan)
    tested = np.flatnonzero(n >= max(min_n, 2))
    chosen, reason = _choose_test(method, tested, variance, skew, min_n)
    if chosen == "none":
        return SegmentComparison(_no_test(reason, int(n[tested].sum()), len(tested)), table,
                                 _empty_pairs())
    if chosen == "welch_anova":
        test = _welch_anova(n[tested], mean[tested], variance[tested])
        pairs = _welch_pairs(n, mean, variance, tested)
    else:
        in_test = np.isin(codes, tested)
        test, pairs = _kruskal(values[in_test], codes[in_test], tested, groups)
    test["reason"] = reason
    pairs = _finish_pairs(pairs, names, alpha)
    return SegmentComparison(test, table, pairs)


def _choose_test(
    method: str, tested: np.ndarray, variance: np.ndarray, skew: np.ndarray, min_n: int
) -> tuple[str, str]:
    if tested.size < 2:
        return "none", f"fewer than two segments with at least {min_n} answers"
    if np.all(variance[tested] == 0):
        return "none", "every tested segment gave one and the same kind of answer: no spread"
    if method == "welch":
        if np.any(variance[tested] == 0):
            return "kruskal_wallis", "asked for Welch, but a segment has no spread"
        return "welch_anova", "asked for Welch"
    if method == "kruskal":
        return "kruskal_wallis", "asked for Kruskal–Wallis"
    if np.any(variance[tested] == 0):
        return "kruskal_wallis", "a segment has no spread, so means cannot be compared by Welch"
    worst = float(np.max(np.abs(skew[tested])))
    if worst > MAX_SKEW:
        return "kruskal_wallis", f"answers are skewed (|skewness| up to {worst:.2f} > 1)"
    return "welch_anova", f"every segment has n ≥ {min_n} and |skewness| ≤ 1 ({worst:.2f})"


def _no_test(reason: str, n: int, tested: int) -> pd.DataFrame:
    return pd.DataFrame({
        "test": ["none"], "statistic": [np.nan], "df1": [np.nan], "df2": [np.nan],
        "p": [np.nan], "effect_size": [np.nan], "effect_size_name": [""], "n": [n],
        "segments_tested": [tested], "reason": [reason],
    })


def _welch_anova(n: np.ndarray, mean: np.ndarray, variance: np.ndarray) -> pd.DataFrame:
    """Welch's F from group sizes, means and variances; η² (SS_between / SS_total, as
    pingouin's ``welch_anova`` ``np2``) as effect size."""
    k = len(n)
    weights = n / variance
    grand = np.sum(weights * mean) / weights.sum()
    between = np.sum(weights * (mean - grand) ** 2) / (k - 1)
    tmp = np.sum((1 - weights / weights.sum()) ** 2 / (n - 1))
    f_value = between / (1 + 2 * (k - 2) / (k**2 - 1) * tmp)
    df2 = (k**2 - 1) / (3 * tmp)
    total = n.sum()
    unweighted_grand = np.sum(n * mean) / total
    ss_between = np.sum(n * (mean - unweighted_grand) ** 2)
    ss_total = ss_between + np.sum((n - 1) * variance)
    eta2 = ss_between / ss_total
    return pd.DataFrame({
        "test": ["welch_anova"], "statistic": [f_value], "df1": [float(k - 1)], "df2": [df2],
        "p": [float(special.fdtrc(k - 1, df2, f_value))], "effect_size": [eta2],
        "effect_size_name": ["eta_squared"], "n": [int(total)], "segments_tested": [k],
    })


def _pair_index(tested: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.triu_indices(len(tested), k=1)
    return tested[a], tested[b]


def _welch_pairs(
    n: np.ndarray, mean: np.ndarray, variance: np.ndarray, tested: np.ndarray
) -> dict[str, np.ndarray]:
    a, b = _pair_index(tested)
    se2_a, se2_b = variance[a] / n[a], variance[b] / n[b]
    with np.errstate(invalid="ignore", divide="ignore"):
        t_value = (mean[a] - mean[b]) / np.sqrt(se2_a + se2_b)
        df = (se2_a + se2_b) ** 2 / (se2_a**2 / (n[a] - 1) + se2_b**2 / (n[b] - 1))
        pooled = np.sqrt(((n[a] - 1) * variance[a] + (n[b] - 1) * variance[b])
                         / (n[a] + n[b] - 2))
        hedges = (mean[a] - mean[b]) / pooled * (1 - 3 / (4 * (n[a] + n[b]) - 9))
    return {"a": a, "b": b, "n_a": n[a], "n_b": n[b], "difference": mean[a] - mean[b],
            "statistic": t_value, "df": df, "p_unc": 2 * special.stdtr(df, -np.abs(t_value)),
            "effect_size": hedges, "effect_size_name": "hedges_g", "test": "welch_t"}


def _kruskal(
    values: np.ndarray, codes: np.ndarray, tested: np.ndarray, groups: int
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Kruskal–Wallis H (tie-corrected) and pairwise Mann–Whitney U from count tables."""
    total = len(values)
    ranks = midranks(values)
    n = np.bincount(codes, minlength=groups).astype(float)
    rank_sums = np.bincount(codes, ranks, minlength=groups)
    levels, level_codes = np.unique(values, return_inverse=True)
    ties = np.bincount(level_codes).astype(float)
    tie_factor = 1 - np.sum(ties**3 - ties) / (total**3 - total)
    h = (12 / (total * (total + 1)) * np.sum(rank_sums[tested] ** 2 / n[tested])
         - 3 * (total + 1)) / tie_factor
    k = len(tested)
    test = pd.DataFrame({
        "test": ["kruskal_wallis"], "statistic": [h], "df1": [float(k - 1)], "df2": [np.nan],
        "p": [float(special.chdtrc(k - 1, h))], "effect_size": [(h - k + 1) / (total - k)],
        # (H − k + 1)/(n − k) is η²_H (Cohen 2008; Tomczak & Tomczak 2014), not ε².
        "effect_size_name": ["eta_squared_h"], "n": [total], "segments_tested": [k],
    })
    a, b = _pair_index(tested)
    medians = pd.Series(values).groupby(codes).median().reindex(range(groups)).to_numpy()
    if len(levels) <= MAX_LEVELS:
        u_a, p = _mann_whitney_from_counts(codes, level_codes, len(levels), groups, n, a, b)
    else:
        by_group = {g: values[codes == g] for g in tested}
        from scipy import stats  # noqa: PLC0415 - only for answers of many levels (40 MB)

        results = [stats.mannwhitneyu(by_group[i], by_group[j], method="asymptotic")
                   for i, j in zip(a, b, strict=True)]
        u_a = np.array([r.statistic for r in results])
        p = np.array([r.pvalue for r in results])
    pairs = {"a": a, "b": b, "n_a": n[a], "n_b": n[b], "difference": medians[a] - medians[b],
             "statistic": u_a, "df": np.full(len(a), np.nan), "p_unc": p,
             "effect_size": 2 * u_a / (n[a] * n[b]) - 1,
             "effect_size_name": "rank_biserial", "test": "mann_whitney_u"}
    return test, pairs


def _mann_whitney_from_counts(
    codes: np.ndarray, level_codes: np.ndarray, levels: int, groups: int, n: np.ndarray,
    a: np.ndarray, b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """U of a over b for every pair from the segment × value count table, with scipy's
    asymptotic p-value (tie correction, continuity correction, two-sided)."""
    counts = np.bincount(codes * levels + level_codes, minlength=groups * levels)
    counts = counts.reshape(groups, levels).astype(float)
    below = np.tril(np.ones((levels, levels)), k=-1) + 0.5 * np.eye(levels)
    u_matrix = counts @ below @ counts.T
    cubes = (counts**3).sum(axis=1)
    cross = 3 * (counts**2) @ counts.T
    ties = cubes[:, None] + cubes[None, :] + cross + cross.T  # Σ (c_a + c_b)³ per pair
    u_a = u_matrix[a, b]
    size = n[a] + n[b]
    tie_sum = ties[a, b] - size
    sigma = np.sqrt(n[a] * n[b] / 12 * ((size + 1) - tie_sum / (size * (size - 1))))
    u_big = np.maximum(u_a, n[a] * n[b] - u_a)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (u_big - n[a] * n[b] / 2 - 0.5) / sigma
    return u_a, np.minimum(2 * special.ndtr(-z), 1.0)


def _compare_categories(
    column: pd.Series, codes: np.ndarray, names: list[object], min_n: int, alpha: float
) -> SegmentComparison:
    answered = column.notna().to_numpy() & (codes >= 0)
    answer_codes, answers = pd.factorize(column[answered], sort=True)
    segment_codes = codes[answered]
    groups, levels = len(names), len(answers)
    counts = np.bincount(segment_codes * levels + answer_codes, minlength=groups * levels)
    counts = counts.reshape(groups, levels).astype(float)
    n = counts.sum(axis=1)
    table = _segment_table(names, n, min_n)
    with np.errstate(invalid="ignore", divide="ignore"):
        for j, answer in enumerate(answers):
            table[f"share_{answer}"] = counts[:, j] / n
    tested = np.flatnonzero(n >= max(min_n, 1))
    observed = counts[tested][:, counts[tested].sum(axis=0) > 0]
    if tested.size < 2 or observed.shape[1] < 2:
        reason = (f"fewer than two segments with at least {min_n} answers" if tested.size < 2
                  else "every tested answer is the same: nothing to compare")
        return SegmentComparison(_no_test(reason, int(n[tested].sum()), len(tested)), table,
                                 _empty_pairs())
    total = observed.sum()
    # Pearson's chi-square of independence, as scipy.stats.chi2_contingency(observed,
    # correction=False) computes it, without importing scipy.stats (40 MB per kernel).
    expected_all = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0) / total
    chi2 = float(np.sum((observed - expected_all) ** 2 / expected_all))
    dof = (observed.shape[0] - 1) * (observed.shape[1] - 1)
    p = float(special.chdtrc(dof, chi2))
    test = pd.DataFrame({
        "test": ["chi_square"], "statistic": [chi2], "df1": [float(dof)], "df2": [np.nan],
        "p": [p], "effect_size": [np.sqrt(chi2 / (total * (min(observed.shape) - 1)))],
        "effect_size_name": ["cramers_v"], "n": [int(total)], "segments_tested": [len(tested)],
        "reason": ["categorical answers: chi-square test of independence"],
    })
    a, b = _pair_index(tested)
    pair_counts = np.stack([counts[a], counts[b]], axis=1)  # pairs × 2 × levels
    column_totals = pair_counts.sum(axis=1, keepdims=True)
    row_totals = pair_counts.sum(axis=2, keepdims=True)
    size = row_totals.sum(axis=1, keepdims=True)
    expected = row_totals * column_totals / size
    with np.errstate(invalid="ignore", divide="ignore"):
        cells = np.where(expected > 0, (pair_counts - expected) ** 2 / expected, 0.0)
    statistic = cells.sum(axis=(1, 2))
    dof_pairs = (column_totals[:, 0, :] > 0).sum(axis=1) - 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        p_pairs = np.where(dof_pairs > 0, special.chdtrc(np.maximum(dof_pairs, 1), statistic),
                           1.0)
        share_gap = counts[a] / n[a, None] - counts[b] / n[b, None]
    pairs = {"a": a, "b": b, "n_a": n[a], "n_b": n[b],
             "difference": np.abs(share_gap).max(axis=1),
             "statistic": statistic, "df": dof_pairs, "p_unc": p_pairs,
             "effect_size": np.sqrt(statistic / size[:, 0, 0]),
             "effect_size_name": "cramers_v", "test": "chi_square"}
    return SegmentComparison(test, table, _finish_pairs(pairs, names, alpha))


def _finish_pairs(pairs: dict[str, np.ndarray], names: list[object], alpha: float) -> pd.DataFrame:
    labels = np.asarray(names, dtype=object)
    frame = pd.DataFrame({
        "segment_a": labels[pairs["a"]], "segment_b": labels[pairs["b"]],
        "n_a": pairs["n_a"].astype("int64"), "n_b": pairs["n_b"].astype("int64"),
        "difference": pairs["difference"], "test": pairs["test"],
        "statistic": pairs["statistic"], "df": pairs["df"], "p_unc": pairs["p_unc"],
    })
    frame["p_holm"] = holm(frame["p_unc"].to_numpy())
    frame["significant"] = frame["p_holm"] < alpha
    frame["effect_size"] = pairs["effect_size"]
    frame["effect_size_name"] = pairs["effect_size_name"]
    return frame


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame({
        "segment_a": pd.Series(dtype=object), "segment_b": pd.Series(dtype=object),
        "n_a": pd.Series(dtype="int64"), "n_b": pd.Series(dtype="int64"),
        "difference": pd.Series(dtype=float), "test": pd.Series(dtype=object),
        "statistic": pd.Series(dtype=float), "df": pd.Series(dtype=float),
        "p_unc": pd.Series(dtype=float), "p_holm": pd.Series(dtype=float),
        "significant": pd.Series(dtype=bool), "effect_size": pd.Series(dtype=float),
        "effect_size_name": pd.Series(dtype=object),
    })
