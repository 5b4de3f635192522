"""Internal consistency of multi-item scales (e.g. the engagement items of an EX survey)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from cxlab.analysis._common import as_float, require_columns
from cxlab.errors import CxlabError


@dataclass(frozen=True)
class Reliability:
    """Result of :func:`reliability`; ``items`` has one row per item."""

    alpha: float
    ci_low: float
    ci_high: float
    n: int
    items: pd.DataFrame
    note: str


def reliability(
    df: pd.DataFrame,
    items: Sequence[str],
    *,
    ci: float = 0.95,
    missing: Literal["listwise", "pairwise"] = "listwise",
) -> Reliability:
    """Cronbach's alpha with a confidence interval, corrected item-total correlations and
    alpha-if-item-deleted.

    alpha = k/(k−1) · (1 − Σ var(item) / var(sum of items)), by
    ``pingouin.cronbach_alpha`` (its interval is Feldt's F-based one, rounded to 3
    decimals). The corrected item-total correlation is Pearson's r of an item with the
    sum of the *other* items; alpha-if-deleted is alpha of the remaining k−1 items.

    Parameters
    ----------
    df : responses. items : at least two item columns of one scale.
    ci : confidence level. missing : ``"listwise"`` (complete responses only) or
        ``"pairwise"`` (pingouin's pairwise covariances) for alpha itself; item-total
        correlations and alpha-if-deleted always use complete responses.

    Returns
    -------
    :class:`Reliability`: ``alpha``, ``ci_low``, ``ci_high``, ``n`` (complete responses),
    ``items`` (``item``, ``item_total_r``, ``alpha_if_deleted``, ``note``) and ``note``.
    Fewer than two complete responses, or no variance at all: NaN alpha and a ``note``
    saying why. A constant item: ``item_total_r`` NaN with a note. A negative alpha
    keeps its value with a note (items correlating negatively: reverse-coded items?);
    items whose sum never varies (they cancel exactly, alpha = −∞) give NaN and a note.

    Reference: Cronbach, L. J. (1951). Coefficient alpha and the internal structure of
    tests. Psychometrika 16, 297–334; Feldt, L. S. (1965). Psychometrika 30, 357–370.

    Examples
    --------
    >>> frame = pd.DataFrame({"a": [1, 2, 3, 4, 5, 3], "b": [2, 2, 3, 5, 4, 3],
    ...                       "c": [1, 3, 3, 4, 5, 2]})
    >>> result = reliability(frame, ["a", "b", "c"])
    >>> round(result.alpha, 3), result.n
    (0.932, 6)
    >>> result.items["alpha_if_deleted"].round(3).tolist()
    [0.832, 0.947, 0.908]
    """
    items = list(items)
    if len(items) < 2:
        raise CxlabError("reliability needs at least two items")
    require_columns(df, items)
    data = np.column_stack([as_float(df[item]) for item in items])
    complete = data[~np.isnan(data).any(axis=1)]
    n = len(complete)
    variances = complete.var(axis=0, ddof=1) if n > 1 else np.zeros(len(items))
    notes = ["constant answers: no correlation" if v == 0 else "" for v in variances]
    if n < 2 or variances.sum() == 0:
        note = ("fewer than two complete responses" if n < 2
                else "no item varies: alpha undefined")
        table = pd.DataFrame({"item": items, "item_total_r": np.nan,
                              "alpha_if_deleted": np.nan, "note": notes})
        return Reliability(np.nan, np.nan, np.nan, n, table, note)
    frame = pd.DataFrame(data if missing == "pairwise" else complete, columns=items)
    cancel = complete.sum(axis=1).var(ddof=1) <= 1e-12 * variances.sum()
    if cancel:  # the formula divides by var(sum) = 0: alpha = −∞, which says nothing
        alpha, interval = np.nan, (np.nan, np.nan)
    else:
        import pingouin as pg  # imported on use: pingouin takes ~2 s to import

        alpha, interval = pg.cronbach_alpha(frame, nan_policy=missing, ci=ci)
    covariance = np.cov(complete, rowvar=False)
    item_total, if_deleted = [], []
    for j in range(len(items)):
        others = [k for k in range(len(items)) if k != j]
        rest = complete[:, others].sum(axis=1)
        spread = complete[:, j].std() * rest.std()
        item_total.append(
            float(np.mean((complete[:, j] - complete[:, j].mean()) * (rest - rest.mean()))
                  / spread) if spread > 0 else np.nan
        )
        if_deleted.append(_alpha(covariance[np.ix_(others, others)]))
    table = pd.DataFrame({"item": items, "item_total_r": item_total,
                          "alpha_if_deleted": if_deleted, "note": notes})
    note = "" if n >= 30 else "fewer than 30 complete responses: interval approximate"
    low, high = float(interval[0]), float(interval[1])
    if not np.isfinite(alpha):  # Σ var(item) > 0 but var(sum) = 0: items cancel out
        alpha, low, high = np.nan, np.nan, np.nan
        note = _join(note, "alpha undefined: the items' sum never varies, so they cancel "
                           "out — reverse-coded items? reverse them, then recompute")
    elif alpha < 0:
        note = _join(note, "alpha is negative: the items correlate negatively on average — "
                           "reverse-coded items? reverse them, then recompute")
    return Reliability(float(alpha), low, high, n, table, note)


def _join(note: str, more: str) -> str:
    return f"{note}; {more}" if note else more


def _alpha(covariance: np.ndarray) -> float:
    """Cronbach's alpha from an item covariance matrix (NaN for one item or no variance)."""
    k = covariance.shape[0]
    total = covariance.sum()
    if k < 2 or total <= 0:
        return float("nan")
    return float(k / (k - 1) * (1 - np.trace(covariance) / total))
