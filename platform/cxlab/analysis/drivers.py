"""Key-driver analysis: which items move the outcome, how they perform, what to fix first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special

from cxlab.analysis._common import as_float, require_columns, spearman
from cxlab.analysis.correlations import (
    bootstrap_correlations,
    correlations_from_totals,
    unit_statistics,
    variance_inflation,
)
from cxlab.analysis.relimp import lmg_batch
from cxlab.errors import CxlabError
from cxlab.surveys.definition import SurveyDefinition

VIF_WARNING = 5.0
ANSWERS_PER_ITEM = 10
MIN_ANSWERS = 50
MIN_COMMON = 3  # fewer responses in common than this: a pairwise correlation is unknown
CHECK_DIRECTION = "check direction"  # quadrant of an item that goes against the outcome

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
    definition: SurveyDefinition | None = None,
    scale: tuple[int, int] | Mapping[str, tuple[int, int]] | None = None,
    missing: Literal["listwise", "pairwise"] = "listwise",
    performance: Literal["mean", "top2"] = "mean",
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
    scaled to 0–1 on the item's scale as ``performance_scaled``. Improvement priority =
    ``importance_share × (1 − performance_scaled)``. The quadrant compares each item with
    the average item: importance share above 1/p and performance below the items'
    average → "fix first"; high/high → "keep"; low importance, high performance →
    "maintain"; low/low → "lower priority".

    LMG importance has no sign, so direction is checked apart: an item whose rating
    goes significantly *down* as the outcome goes up (Spearman ρ < 0, p < 0.05; e.g.
    "problems experienced", or a reverse-worded item) gets quadrant "check direction",
    no priority and a note; a non-significant negative ρ gets priority 0 and is never
    "fix first".

    Parameters
    ----------
    df : responses; ``outcome`` and ``items`` numeric (Int64 with NA is fine).
    outcome, items : the outcome column and the item columns (all numeric).
    definition : the survey definition: each item's scale comes from its question.
    scale : instead of ``definition``, the scale (min, max) of every item, or a mapping
        item → (min, max). One of the two is required (there is no default scale: a
        1–10 item read as 1–5 would get nonsense performance), and every answer must
        lie on its item's scale, else :class:`~cxlab.errors.CxlabError` names the item.
    missing : ``"listwise"`` uses responses that answered the outcome and every item
        (an item nobody answered is left out first, with a note); ``"pairwise"`` builds
        each correlation from the responses answering both columns (more data, but the
        matrix can be inconsistent; a pair with fewer than 3 responses in common has an
        unknown correlation, counted as 0 with a warning). Stated in the result.
    performance : ``"mean"`` or ``"top2"`` (share answering the top two points).
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
    answers, VIF > 5, constant items, negative relationships, disjoint pairs). A
    constant item gets importance 0 and a note; every NaN importance has a note saying
    why (nobody answered the item, too few usable responses, constant outcome).

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
    >>> result = drivers(frame, "nps", ["speed", "taste"], scale=(1, 5), n_boot=50)
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
    scales = item_scales(df, items, definition, scale)
    columns = [outcome, *items]
    answered = np.column_stack([df[column].notna().to_numpy() for column in columns])
    warnings: list[str] = []
    notes = {item: "" for item in items}
    unanswered = [item for j, item in enumerate(items, start=1) if not answered[:, j].any()]
    for item in unanswered:
        notes[item] = "nobody answered this item: no importance"
    if unanswered:
        warnings.append(f"nobody answered {', '.join(unanswered)}: left out of the analysis")
    fitted = [j for j, item in enumerate(items, start=1) if item not in unanswered]
    rows = (answered[:, [0, *fitted]].all(axis=1) if missing == "listwise"
            else answered[:, 0])
    n_used = int(rows.sum())
    values = [as_float(df[column])[rows] for column in columns]
    data = np.column_stack(values)
    present = None if missing == "listwise" else answered[rows]
    if present is None and unanswered:  # all-NaN columns stay out of the statistics
        data = np.where(np.isnan(data), 0.0, data)
    missing_note = (
        f"listwise: {n_used:,} of {len(df):,} responses answered the outcome and every item"
        + (" answered by anyone" if unanswered else "")
        if missing == "listwise"
        else f"pairwise: {n_used:,} of {len(df):,} responses answered the outcome; each "
        "correlation uses the responses answering both of its columns"
    )
    stats = unit_statistics(data, present)
    totals = stats.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        count, sums, squares = (np.diagonal(totals[k]) for k in range(3))
        variances = np.where(count > 1, squares / count - (sums / count) ** 2, 0.0)
    variances = np.where(variances > 1e-12 * np.maximum(squares / np.maximum(count, 1), 1),
                         variances, 0.0)

    # With fewer than two answers nothing can vary: that is "too few", not "constant".
    constant = [items[j - 1] for j in fitted if count[j] >= 2 and variances[j] == 0]
    for item in constant:
        notes[item] = "constant answers: cannot explain the outcome (importance 0)"
    if constant:
        warnings.append(f"constant item(s) given importance 0: {', '.join(constant)}")
    scarce = [items[j - 1] for j in fitted if count[j] < 2]
    varying = [j for j in fitted if items[j - 1] not in constant and items[j - 1] not in scarce]

    importance = np.zeros(len(items))
    importance[[j - 1 for j in range(1, len(items) + 1) if j not in fitted]] = np.nan
    low = np.full(len(items), np.nan)
    high = np.full(len(items), np.nan)
    vif = np.full(len(items), np.nan)
    fit_possible = (n_used >= len(varying) + 3 and count[0] >= 2 and variances[0] > 0
                    and varying)
    if not fit_possible:
        importance[:] = np.nan
        if count[0] >= 2 and variances[0] == 0 and n_used >= len(varying) + 3:
            reason = ("the outcome is constant (every usable response answered "
                      f"{sums[0] / count[0]:g})")
        elif not varying and n_used >= 3:
            reason = "no item varies"
        else:
            reason = (f"too few usable responses to fit (n = {n_used}; need at least "
                      f"{len(varying or fitted) + 3})")
        warnings.append(f"no importances: {reason}")
        for item in items:
            if item not in unanswered:
                notes[item] = f"no importance: {reason}"
    else:
        kept = np.array([0, *varying])
        stats = stats[:, :, kept[:, None], kept[None, :]]
        summed = stats.sum(axis=0)
        warnings += _disjoint_pairs(summed[0], [outcome, *(items[j - 1] for j in varying)],
                                    notes)
        correlation = correlations_from_totals(summed[None])[0]
        index = np.array(varying) - 1
        importance[index] = lmg_batch(correlation[None])[0]
        vif[index] = variance_inflation(correlation[1:, 1:])
        if n_boot > 0:
            replicates = bootstrap_correlations(stats, n_boot, seed)
            boot = lmg_batch(replicates)
            low[index], high[index] = np.nanquantile(boot, [0.5 - ci / 2, 0.5 + ci / 2], axis=0)
            others = [j - 1 for j in fitted if j not in varying]
            low[others] = high[others] = 0.0
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

    r2 = float(np.nansum(importance))
    table = _item_table(df, items, importance, low, high, vif, notes, values, present,
                        performance, scales, outcome)
    reversed_items = table.loc[table["quadrant"] == CHECK_DIRECTION, "item"].tolist()
    if reversed_items:
        warnings.append(f"higher rating goes with lower {outcome}: "
                        f"{', '.join(reversed_items)} — check the wording or reverse it")
    return DriverAnalysis(
        table=table, outcome=outcome, n=n_used, r2=r2, missing=missing,
        missing_note=missing_note, performance=performance, warnings=tuple(warnings),
    )


def item_scales(
    df: pd.DataFrame, items: Sequence[str], definition: SurveyDefinition | None,
    scale: tuple[int, int] | Mapping[str, tuple[int, int]] | None,
) -> dict[str, tuple[int, int]]:
    """Each item's (min, max) from the definition or ``scale``, checked against the answers.

    >>> item_scales(pd.DataFrame({"q": [1, 7, 10]}), ["q"], None, (1, 5))
    Traceback (most recent call last):
    ...
    cxlab.errors.CxlabError: drivers: item 'q' has answers outside its scale 1–5 (7, 10)
    """
    if definition is not None:
        # An item is a rating question or a matrix row (SurveyDefinition.item).
        found = {item: definition.item(item).scale for item in items}
    elif isinstance(scale, Mapping):
        absent = [item for item in items if item not in scale]
        if absent:
            raise CxlabError(f"drivers: no scale given for {', '.join(absent)}")
        found = {item: tuple(scale[item]) for item in items}
    elif scale is not None:
        found = {item: tuple(scale) for item in items}
    else:
        raise CxlabError("drivers: give the items' answer scale — definition= (the survey "
                         "definition) or scale=(min, max)")
    for item, (low, high) in found.items():
        answers = as_float(df[item])
        outside = np.unique(answers[(answers < low) | (answers > high)])
        if outside.size:
            shown = ", ".join(f"{value:g}" for value in outside[:5])
            raise CxlabError(f"drivers: item {item!r} has answers outside its scale "
                             f"{low}–{high} ({shown})")
    return found


def _disjoint_pairs(counts: np.ndarray, names: list[str], notes: dict[str, str]) -> list[str]:
    """Warn about pairs of columns with fewer than 3 responses in common (pairwise): their
    correlation is unknown and enters the analysis as 0."""
    first, second = np.triu_indices(len(names), k=1)
    thin = [(names[a], names[b]) for a, b in zip(first, second, strict=True)
            if counts[a, b] < MIN_COMMON]
    for a, b in thin:
        for name, other in ((a, b), (b, a)):
            if name in notes:
                notes[name] = (notes[name] + "; " if notes[name] else "") + (
                    f"fewer than {MIN_COMMON} responses answered both this and {other}: "
                    "their correlation is unknown (counted as 0)")
    if not thin:
        return []
    listed = ", ".join(f"{a} & {b}" for a, b in thin)
    return [f"pairs with fewer than {MIN_COMMON} responses in common (correlation unknown, "
            f"counted as 0): {listed}"]


def _item_table(
    df: pd.DataFrame, items: list[str], importance: np.ndarray, low: np.ndarray,
    high: np.ndarray, vif: np.ndarray, notes: dict[str, str], values: list[np.ndarray],
    present: np.ndarray | None, performance: str, scales: dict[str, tuple[int, int]],
    outcome: str,
) -> pd.DataFrame:
    scale_min = np.array([scales[item][0] for item in items], dtype=float)
    scale_max = np.array([scales[item][1] for item in items], dtype=float)
    answered = np.array([df[item].notna().sum() for item in items])
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.array([as_float(df[item].mean()) for item in items]).ravel()
        top2 = np.array([(df[item] >= top - 1).sum()
                         for item, top in zip(items, scale_max, strict=True)]) / answered
    means = np.where(answered > 0, means, np.nan)
    scaled_mean = (means - scale_min) / (scale_max - scale_min)
    measure = means if performance == "mean" else top2
    scaled = scaled_mean if performance == "mean" else top2
    total = np.nansum(importance)
    share = importance / total if total > 0 else np.full(len(items), np.nan)
    direction = [_direction(values, present, j) for j in range(1, len(items) + 1)]
    rho = np.array([r for r, _ in direction])
    p_rho = np.array([p for _, p in direction])
    reverse = (rho < 0) & (p_rho < 0.05)
    unrelated = (rho < 0) & ~reverse
    priority = share * (1 - scaled)
    priority = np.where(reverse, np.nan, np.where(unrelated, 0.0, priority))
    for j, item in enumerate(items):
        if reverse[j]:
            notes[item] = _join(notes[item], (
                f"higher rating goes with lower {outcome} (Spearman ρ = {rho[j]:.2f}) — "
                "check the wording or reverse it; no priority"))
        elif unrelated[j]:
            notes[item] = _join(notes[item], (
                f"no positive relationship with {outcome} (Spearman ρ = {rho[j]:.2f}): "
                "priority 0"))
    table = pd.DataFrame(
        {
            "item": items,
            "importance": importance,
            "importance_share": share,
            "importance_ci_low": low,
            "importance_ci_high": high,
            "spearman_r": rho,
            "mean": means,
            "top2_share": top2,
            "n_answered": answered,
            "performance": measure,
            "performance_scaled": scaled,
            "priority": priority,
            "vif": vif,
            "note": [notes[item] for item in items],
        }
    )
    table.insert(5, "importance_rank", _rank(importance))
    table.insert(table.columns.get_loc("priority") + 1, "priority_rank", _rank(table["priority"]))
    important = share > 1 / len(items)
    performing = scaled >= np.nanmean(scaled) if np.isfinite(scaled).any() else scaled > 0
    quadrant = [
        QUADRANTS[(bool(i), bool(p))] if np.isfinite(s) and np.isfinite(f) else "unknown"
        for i, p, s, f in zip(important, performing, share, scaled, strict=True)
    ]
    quadrant = [CHECK_DIRECTION if flip else "lower priority" if weak and q == "fix first"
                else q for q, flip, weak in zip(quadrant, reverse, unrelated, strict=True)]
    table.insert(table.columns.get_loc("priority_rank") + 1, "quadrant", quadrant)
    table.loc[table["n_answered"] == 0, "note"] = "nobody answered this item: no importance"
    return table.sort_values(["priority_rank", "importance_rank"], na_position="last",
                             kind="stable").reset_index(drop=True)


def _join(note: str, more: str) -> str:
    return f"{note}; {more}" if note else more


def _rank(values: pd.Series | np.ndarray) -> pd.Series:
    return pd.Series(values).rank(ascending=False, method="min").astype("Int64").to_numpy()


def _direction(
    values: list[np.ndarray], present: np.ndarray | None, column: int
) -> tuple[float, float]:
    """Spearman's rho of item ``column`` with the outcome on the rows used for it, and
    its two-sided p-value (t approximation with n − 2 df, as scipy.stats.spearmanr)."""
    x, y = values[column], values[0]
    if present is not None:
        both = present[:, 0] & present[:, column]
        x, y = x[both], y[both]
    else:
        both = ~np.isnan(x)
        x, y = x[both], y[both]
    rho = spearman(x, y)
    if not np.isfinite(rho) or x.size < 3:
        return rho, float("nan")
    dof = x.size - 2
    with np.errstate(divide="ignore"):
        t = rho * np.sqrt(dof / max(1 - rho**2, 1e-300))
    return rho, float(2 * special.stdtr(dof, -abs(t)))
