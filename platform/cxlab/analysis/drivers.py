"""Key-driver analysis: which items move the outcome, how they perform, what to fix first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from cxlab.analysis._common import as_float, require_columns, spearman
from cxlab.analysis.relimp import lmg_batch
from cxlab.errors import CxlabError

BOOTSTRAP_UNITS = 2000  # above this many rows, the bootstrap resamples random blocks of rows
VIF_WARNING = 5.0
ANSWERS_PER_ITEM = 10
MIN_ANSWERS = 50

QUADRANTS = {
    (True, False): "fix first",  # matters a lot, performs below the other items
    (True, True): "keep",  # matters a lot, performs well: protect it
    (False, True): "maintain",  # matters little, performs well: no extra effort
    (False, False): "lower priority",  # matters little, performs poorly
}


@dataclass(frozen=True)
class DriverAnalysis:
    """Result of :func:`drivers`: ``table`` has one row per item, best priority first."""

    table: pd.DataFrame
    outcome: str
    n: int
    r2: float
    missing: str
    missing_note: str
    performance: str
    warnings: tuple[str, ...]


def drivers(
    df: pd.DataFrame,
    outcome: str = "nps",
    items: Sequence[str] | None = None,
    *,
    missing: Literal["listwise", "pairwise"] = "listwise",
    performance: Literal["mean", "top2"] = "mean",
    scale: tuple[int, int] = (1, 5),
    ci: float = 0.95,
    n_boot: int = 200,
    seed: int = 0,
) -> DriverAnalysis:
    """Key-driver analysis: relative importance, performance, priority and quadrant per item.

    Importance is the LMG relative importance of each item (its Shapley share of the
    R² of a linear regression of ``outcome`` on all ``items``, averaged over all orders
    of entry): the decomposition ``pingouin.linear_regression(relimp=True)`` makes,
    computed here by :func:`cxlab.analysis.relimp.lmg_batch` from the correlation
    matrix (tested equal to pingouin's to 1e-10 and to brute force over all subsets to
    1e-8) because importing pingouin costs a dashboard or report kernel 2–3 s.
    Importances sum to R². Spearman's rank correlation with the outcome is shown
    beside it.
    Performance is the item's mean (or top-2-box share) over everyone who answered it,
    scaled to 0–1 on ``scale`` as ``performance_scaled``. Improvement priority =
    ``importance_share × (1 − performance_scaled)``. The quadrant compares each item with
    the average item: importance share above 1/p and performance below the items'
    average → "fix first"; high/high → "keep"; low importance, high performance →
    "maintain"; low/low → "lower priority".

    Parameters
    ----------
    df : responses; ``outcome`` and ``items`` numeric (Int64 with NA is fine).
    outcome, items : the outcome column and the item columns (all numeric).
    missing : ``"listwise"`` uses responses that answered the outcome and every item;
        ``"pairwise"`` builds each correlation from the responses answering both
        columns (more data, but the matrix can be inconsistent). Stated in the result.
    performance : ``"mean"`` or ``"top2"`` (share answering the top two points).
    scale : the items' answer scale (min, max).
    ci, n_boot, seed : percentile bootstrap interval of each importance from ``n_boot``
        resamples (``n_boot=0``: no interval). Above 2,000 responses the bootstrap
        resamples 2,000 random blocks of responses (an iid bootstrap of block sums).

    Returns
    -------
    :class:`DriverAnalysis` with ``table`` columns ``item``, ``importance`` (share of
    variance explained, sums to ``r2``), ``importance_share`` (importance / R²),
    ``importance_ci_low``, ``importance_ci_high``, ``importance_rank``, ``spearman_r``,
    ``mean``, ``top2_share``, ``n_answered``, ``performance`` (the chosen measure),
    ``performance_scaled``, ``priority``, ``priority_rank``, ``quadrant``, ``vif``,
    ``note``; plus ``n`` (responses used), ``r2``, ``missing`` and ``warnings`` (too few
    answers, VIF > 5, constant items). A constant item gets importance 0 and a note;
    a constant outcome or fewer than p + 3 usable responses gives NaN importances with
    a warning saying why.

    Reference: Lindeman, Merenda & Gold (1980), Introduction to Bivariate and
    Multivariate Analysis; Grömping, U. (2006). Relative importance for linear regression
    in R: the package relaimpo. J. Stat. Software 17(1). Martilla & James (1977).
    Importance-performance analysis. J. Marketing 41(1), 77–79.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> speed, taste = rng.integers(1, 4, 300), rng.integers(3, 6, 300)
    >>> frame = pd.DataFrame({"speed": speed, "taste": taste,
    ...                       "nps": np.clip(2 * speed - 3 + rng.integers(0, 3, 300), 0, 10)})
    >>> result = drivers(frame, "nps", ["speed", "taste"], n_boot=50)
    >>> result.table[["item", "importance_rank", "quadrant"]].to_numpy().tolist()
    [['speed', 1, 'fix first'], ['taste', 2, 'maintain']]
    >>> round(result.r2, 2), result.missing
    (0.83, 'listwise')
    """
    items = list(items) if items is not None else [c for c in df.columns if c != outcome]
    if not items:
        raise CxlabError("drivers: give at least one item")
    require_columns(df, [outcome, *items])
    if missing not in ("listwise", "pairwise"):
        raise CxlabError(f"missing must be 'listwise' or 'pairwise' (got {missing!r})")
    columns = [outcome, *items]
    answered = np.column_stack([df[column].notna().to_numpy() for column in columns])
    rows = answered.all(axis=1) if missing == "listwise" else answered[:, 0]
    n_used = int(rows.sum())
    values = [as_float(df[column])[rows] for column in columns]
    data = np.column_stack(values)
    present = None if missing == "listwise" else answered[rows]
    missing_note = (
        f"listwise: {n_used:,} of {len(df):,} responses answered the outcome and every item"
        if missing == "listwise"
        else f"pairwise: {n_used:,} of {len(df):,} responses answered the outcome; each "
        "correlation uses the responses answering both of its columns"
    )
    stats = _unit_statistics(data, present)
    totals = stats.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        count, sums, squares = (np.diagonal(totals[k]) for k in range(3))
        variances = np.where(count > 1, squares / count - (sums / count) ** 2, 0.0)
    variances = np.where(variances > 1e-12 * np.maximum(squares / np.maximum(count, 1), 1),
                         variances, 0.0)

    warnings: list[str] = []
    notes = {item: "" for item in items}
    constant = [item for j, item in enumerate(items, start=1) if variances[j] == 0]
    for item in constant:
        notes[item] = "constant answers: cannot explain the outcome (importance 0)"
    if constant:
        warnings.append(f"constant item(s) given importance 0: {', '.join(constant)}")
    varying = [j for j, item in enumerate(items, start=1) if item not in constant]

    importance = np.zeros(len(items))
    low = np.full(len(items), np.nan)
    high = np.full(len(items), np.nan)
    vif = np.full(len(items), np.nan)
    fit_possible = n_used >= len(varying) + 3 and variances[0] > 0 and varying
    if not fit_possible:
        importance[:] = np.nan
        reason = ("the outcome is constant" if n_used and variances[0] == 0
                  else f"too few usable responses to fit (n = {n_used})")
        warnings.append(f"no importances: {reason}")
    else:
        kept = np.array([0, *varying])
        stats = stats[:, :, kept[:, None], kept[None, :]]
        correlation = _correlations(stats.sum(axis=0)[None])[0]
        index = np.array(varying) - 1
        importance[index] = lmg_batch(correlation[None])[0]
        vif[index] = _variance_inflation(correlation[1:, 1:])
        if n_boot > 0:
            replicates = _bootstrap_correlations(stats, n_boot, seed)
            boot = lmg_batch(replicates)
            low[index], high[index] = np.nanquantile(boot, [0.5 - ci / 2, 0.5 + ci / 2], axis=0)
            low[[j - 1 for j in range(1, len(items) + 1) if j not in varying]] = 0.0
            high[[j - 1 for j in range(1, len(items) + 1) if j not in varying]] = 0.0
        too_few = max(MIN_ANSWERS, ANSWERS_PER_ITEM * len(items))
        if n_used < too_few:
            warnings.append(
                f"only {n_used} usable responses for {len(items)} items (want at least "
                f"{too_few}): importances are unstable, read the intervals"
            )
        collinear = [item for item, value in zip(items, vif, strict=True) if value > VIF_WARNING]
        if collinear:
            warnings.append(
                f"items nearly collinear (VIF > {VIF_WARNING:g}): {', '.join(collinear)}; "
                "they share credit for the same variance, read their importances together"
            )

    r2 = float(np.sum(importance))
    table = _item_table(df, items, importance, low, high, vif, notes, values, present,
                        performance, scale)
    return DriverAnalysis(
        table=table, outcome=outcome, n=n_used, r2=r2, missing=missing,
        missing_note=missing_note, performance=performance, warnings=tuple(warnings),
    )


def _item_table(
    df: pd.DataFrame, items: list[str], importance: np.ndarray, low: np.ndarray,
    high: np.ndarray, vif: np.ndarray, notes: dict[str, str], values: list[np.ndarray],
    present: np.ndarray | None, performance: str, scale: tuple[int, int],
) -> pd.DataFrame:
    scale_min, scale_max = scale
    answered = np.array([df[item].notna().sum() for item in items])
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.array([as_float(df[item].mean()) for item in items]).ravel()
        top2 = np.array([(df[item] >= scale_max - 1).sum() for item in items]) / answered
    means = np.where(answered > 0, means, np.nan)
    scaled_mean = (means - scale_min) / (scale_max - scale_min)
    measure = means if performance == "mean" else top2
    scaled = scaled_mean if performance == "mean" else top2
    total = np.nansum(importance)
    share = importance / total if total > 0 else np.full(len(items), np.nan)
    table = pd.DataFrame(
        {
            "item": items,
            "importance": importance,
            "importance_share": share,
            "importance_ci_low": low,
            "importance_ci_high": high,
            "spearman_r": [_spearman(values, present, j) for j in range(1, len(items) + 1)],
            "mean": means,
            "top2_share": top2,
            "n_answered": answered,
            "performance": measure,
            "performance_scaled": scaled,
            "priority": share * (1 - scaled),
            "vif": vif,
            "note": [notes[item] for item in items],
        }
    )
    table.insert(5, "importance_rank", _rank(importance))
    table.insert(table.columns.get_loc("priority") + 1, "priority_rank", _rank(table["priority"]))
    important = share > 1 / len(items)
    performing = scaled >= np.nanmean(scaled) if np.isfinite(scaled).any() else scaled > 0
    table.insert(table.columns.get_loc("priority_rank") + 1, "quadrant", [
        QUADRANTS[(bool(i), bool(p))] if np.isfinite(s) and np.isfinite(f) else "unknown"
        for i, p, s, f in zip(important, performing, share, scaled, strict=True)
    ])
    table.loc[table["n_answered"] == 0, "note"] = "nobody answered this item"
    return table.sort_values(["priority_rank", "importance_rank"], na_position="last",
                             kind="stable").reset_index(drop=True)


def _rank(values: pd.Series | np.ndarray) -> pd.Series:
    return pd.Series(values).rank(ascending=False, method="min").astype("Int64").to_numpy()


def _spearman(values: list[np.ndarray], present: np.ndarray | None, column: int) -> float:
    """Spearman's rho of item ``column`` with the outcome, on the rows used for it."""
    if present is None:
        return spearman(values[column], values[0])
    both = present[:, 0] & present[:, column]
    return spearman(values[column][both], values[0][both])


def _unit_statistics(data: np.ndarray, present: np.ndarray | None) -> np.ndarray:
    """Per resampling unit, the sufficient statistics of pairwise-complete correlations:
    stacked (counts, Σx over pairs, Σx² over pairs, Σxy) as (units, 4, q, q).

    ``present`` is None when every value is present (listwise). A unit is a response
    when there are at most BOOTSTRAP_UNITS of them; otherwise unit k holds responses
    k, k + K, k + 2K, ... (K = BOOTSTRAP_UNITS): blocks that each span the whole
    collection period, so block sums are (close to) iid and resampling blocks is a
    bootstrap of the same smooth statistic, without copying a million rows."""
    n, q = data.shape
    units = max(min(n, BOOTSTRAP_UNITS), 1)
    size = n // units
    head = units * size

    def blocked(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.einsum("sui,suj->uij", a[:head].reshape(size, units, q),
                        b[:head].reshape(size, units, q), optimize=True)
        rest = n - head
        if rest:
            out[:rest] += a[head:, :, None] * b[head:, None, :]
        return out

    if present is None:
        cross = blocked(data, data)
        counts = np.full(units, size, dtype=float)
        counts[: n - head] += 1
        sums = data[:head].reshape(size, units, q).sum(axis=0)
        sums[: n - head] += data[head:]
        diagonal = np.diagonal(cross, axis1=1, axis2=2)
        return np.stack(
            [np.broadcast_to(counts[:, None, None], cross.shape),
             np.broadcast_to(sums[:, :, None], cross.shape),
             np.broadcast_to(diagonal[:, :, None], cross.shape), cross],
            axis=1,
        )
    mask = present.astype(float)
    filled = np.where(present, data, 0.0)
    return np.stack(
        [blocked(mask, mask), blocked(filled, mask), blocked(filled**2, mask),
         blocked(filled, filled)],
        axis=1,
    )


def _correlations(totals: np.ndarray) -> np.ndarray:
    """Pairwise-complete Pearson correlations from summed unit statistics (B, 4, q, q)."""
    count, sums, squares, cross = (totals[:, k] for k in range(4))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_i = sums / count
        mean_j = np.swapaxes(sums, 1, 2) / count
        var_i = squares / count - mean_i**2
        var_j = np.swapaxes(squares, 1, 2) / count - mean_j**2
        correlation = (cross / count - mean_i * mean_j) / np.sqrt(var_i * var_j)
    diagonal = np.arange(correlation.shape[-1])
    correlation[:, diagonal, diagonal] = 1.0
    return np.clip(np.nan_to_num(correlation), -1, 1)


def _bootstrap_correlations(stats: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    units = stats.shape[0]
    rng = np.random.default_rng([seed, 3])
    counts = rng.multinomial(units, np.full(units, 1 / units), size=n_boot).astype(float)
    totals = (counts @ stats.reshape(units, -1)).reshape(n_boot, *stats.shape[1:])
    return _correlations(totals)


def _variance_inflation(rxx: np.ndarray) -> np.ndarray:
    """VIF_j = 1 / (1 − R²_j), R²_j of item j on the other items (inf if collinear)."""
    p = rxx.shape[0]
    vif = np.ones(p)
    for j in range(p):
        others = [k for k in range(p) if k != j]
        if not others:
            continue
        r = rxx[others, j]
        explained = float(r @ np.linalg.pinv(rxx[np.ix_(others, others)], hermitian=True) @ r)
        vif[j] = np.inf if explained >= 1 - 1e-10 else 1 / (1 - explained)
    return vif
