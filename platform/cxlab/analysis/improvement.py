"""Improvement effect in NPS points: which item, improved, raises NPS most (改善効果).

LMG importance (:func:`cxlab.analysis.drivers`) says how much of the variance of the
recommendation an item explains, not how many NPS points fixing it would bring, and it
treats a low rating and a high rating alike. Penalty–reward contrast analysis (Brandt
1987) separates the two: the recommendation, scored +100 for a promoter, 0 for a
passive and −100 for a detractor (so its mean *is* the NPS), is regressed on two dummy
variables per item — "rated low" and "rated high", against the middle of the scale —
for all items together (ordinary least squares, listwise). Then

- **penalty** = −β_low: NPS points a low rating costs against a middle one;
- **reward** = β_high: NPS points a high rating brings;
- **what-if**: the expected NPS if everyone who rated the item low had rated it one
  band up (low → middle), from the fitted model: NPS + share_low × penalty; the
  **effect** is that gain in NPS points, with a percentile bootstrap interval.

An item with fewer than 5 low or fewer than 5 high answers gets no dummies (effect 0)
and a note saying so: the rule the original product documents, so a handful of
answers never ranks an item first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxlab.analysis._common import as_float, require_columns
from cxlab.analysis.correlations import BOOTSTRAP_UNITS
from cxlab.analysis.drivers import item_scales
from cxlab.analysis.nps import DETRACTOR_MAX, PROMOTER_MIN, _check_range
from cxlab.errors import CxlabError
from cxlab.surveys.definition import SurveyDefinition

MIN_BAND = 5  # fewest low (and high) answers for an item to get an effect
LOW_POINTS = 2  # the bottom two scale points are "low" (1–2 of 1–5)
HIGH_POINTS = 1  # the top point is "high" (5 of 1–5); the rest is the middle


@dataclass(frozen=True)
class ImprovementEffect:
    """Result of :func:`improvement_effect`: ``table`` has one row per item, largest
    effect first; ``nps`` is the NPS of the ``n`` responses used."""

    table: pd.DataFrame
    outcome: str
    n: int
    nps: float
    r2: float
    warnings: tuple[str, ...]


def improvement_effect(
    df: pd.DataFrame,
    outcome: str,
    items: Sequence[str],
    *,
    definition: SurveyDefinition | None = None,
    scale: tuple[int, int] | Mapping[str, tuple[int, int]] | None = None,
    low_points: int = LOW_POINTS,
    high_points: int = HIGH_POINTS,
    min_band: int = MIN_BAND,
    ci: float = 0.95,
    n_boot: int = 500,
    seed: int = 0,
) -> ImprovementEffect:
    """Penalty, reward and improvement effect (NPS points) of each item.

    Parameters
    ----------
    df : responses. outcome : the 0–10 recommendation column (``"nps"``, ``"enps"``).
    items : the rating items.
    definition, scale : each item's answer scale, as in :func:`cxlab.analysis.drivers`.
    low_points, high_points : how many points at the bottom / top of each item's scale
        count as "low" / "high"; the points between are the middle (the reference).
    min_band : an item needs this many low and this many high answers, else effect 0.
    ci, n_boot, seed : percentile bootstrap of the effect (``n_boot=0``: no interval);
        above 2,000 responses, 2,000 interleaved blocks of responses are resampled, as
        :func:`cxlab.analysis.drivers` does.

    Returns
    -------
    :class:`ImprovementEffect`; ``table`` columns ``item``, ``n_low``, ``n_high``,
    ``low_share``, ``penalty``, ``reward`` (NPS points), ``effect`` (NPS points gained
    if the low answers moved to the middle), ``effect_ci_low``, ``effect_ci_high``,
    ``what_if_nps`` (expected NPS after that move), ``effect_rank`` (1 = largest
    effect), ``note``. Effects are NaN, with the reason in ``note``, when too few
    responses remain to fit the model.

    Reference: Brandt, D. R. (1987). A procedure for identifying value-enhancing
    service components using customer satisfaction survey data. In Add Value to Your
    Service, AMA, 61–65; Mittal, Ross & Baldasare (1998), J. Marketing 62(1), 33–47.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> wait = rng.integers(1, 6, 400)
    >>> food = rng.integers(1, 6, 400)
    >>> score = 8 - 4 * (wait <= 2) + (food == 5) + rng.integers(0, 2, 400)
    >>> frame = pd.DataFrame({"wait": wait, "food": food, "nps": np.clip(score, 0, 10)})
    >>> result = improvement_effect(frame, "nps", ["wait", "food"], scale=(1, 5), n_boot=0)
    >>> result.table[["item", "effect_rank"]].to_numpy().tolist()
    [['wait', 1], ['food', 2]]
    >>> row = result.table.iloc[0]
    >>> bool(row.penalty > 50 > abs(row.reward)), bool(row.what_if_nps > result.nps)
    (True, True)
    """
    items = list(items)
    if not items:
        raise CxlabError("improvement_effect: give at least one item")
    require_columns(df, [outcome, *items])
    if low_points < 1 or high_points < 1:
        raise CxlabError("improvement_effect: low_points and high_points must be at least 1")
    scales = item_scales(df, items, definition, scale)
    for item, (low, high) in scales.items():
        if low_points + high_points >= high - low + 1:
            raise CxlabError(f"improvement_effect: item {item!r} has {high - low + 1} scale "
                             f"points, too few for {low_points} low and {high_points} high "
                             "with a middle between")
    score = as_float(df[outcome])
    _check_range(score)
    ratings = np.column_stack([as_float(df[item]) for item in items])
    rows = ~np.isnan(score) & ~np.isnan(ratings).any(axis=1)
    score, ratings = score[rows], ratings[rows]
    n = int(rows.sum())
    recommend = np.where(score >= PROMOTER_MIN, 100.0, np.where(score <= DETRACTOR_MAX, -100.0,
                                                                 0.0))
    bottom = np.array([scales[item][0] + low_points - 1 for item in items], dtype=float)
    top = np.array([scales[item][1] - high_points + 1 for item in items], dtype=float)
    low_dummy = (ratings <= bottom).astype(float)
    high_dummy = (ratings >= top).astype(float)
    n_low, n_high = low_dummy.sum(axis=0), high_dummy.sum(axis=0)

    warnings: list[str] = []
    notes = ["" for _ in items]
    usable = (n_low >= min_band) & (n_high >= min_band)
    for j in np.flatnonzero(~usable):
        notes[j] = (f"fewer than {min_band} low or high answers (low {int(n_low[j])}, high "
                    f"{int(n_high[j])}): effect 0")
    modelled = np.flatnonzero(usable)
    design = np.column_stack([np.ones(n), low_dummy[:, modelled], high_dummy[:, modelled],
                              recommend])
    columns = design.shape[1] - 1
    penalty = np.where(usable, np.nan, 0.0)
    reward = penalty.copy()
    effect = penalty.copy()
    low_ci = np.where(usable, np.nan, 0.0)
    high_ci = low_ci.copy()
    nps_value = float(recommend.mean()) if n else float("nan")
    r2 = float("nan")
    if n < columns + 2:
        reason = f"too few complete responses to fit (n = {n}; need at least {columns + 2})"
        warnings.append(f"no improvement effects: {reason}")
        notes = [note or f"no effect: {reason}" for note in notes]
    elif modelled.size:
        blocks = _block_cross_products(design)
        beta, r2 = _fit(blocks.sum(axis=0))
        k = modelled.size
        penalty[modelled] = -beta[1 : k + 1]
        reward[modelled] = beta[k + 1 : 2 * k + 1]
        effect[modelled] = n_low[modelled] / n * penalty[modelled]
        if n_boot > 0:
            boot = _bootstrap_effects(blocks, k, n_boot, seed)
            low_ci[modelled], high_ci[modelled] = np.nanquantile(
                boot, [0.5 - ci / 2, 0.5 + ci / 2], axis=0)
        hurting = [items[j] for j in modelled if penalty[j] < 0]
        for j in modelled:
            if penalty[j] < 0:
                notes[j] = ("a low rating goes with a *higher* NPS here (negative penalty): "
                            "check the wording or reverse the item")
        if hurting:
            warnings.append(f"negative penalty (low ratings go with higher NPS): "
                            f"{', '.join(hurting)}")
    else:
        warnings.append(f"no item has at least {min_band} low and {min_band} high answers")
    table = pd.DataFrame({
        "item": items,
        "n_low": n_low.astype("int64"),
        "n_high": n_high.astype("int64"),
        "low_share": n_low / n if n else np.full(len(items), np.nan),
        "penalty": penalty,
        "reward": reward,
        "effect": effect,
        "effect_ci_low": low_ci if n_boot > 0 else np.nan,
        "effect_ci_high": high_ci if n_boot > 0 else np.nan,
        "what_if_nps": nps_value + effect,
        "note": notes,
    })
    table.insert(table.columns.get_loc("what_if_nps") + 1, "effect_rank",
                 table["effect"].rank(ascending=False, method="min").astype("Int64"))
    table = table.sort_values(["effect_rank", "item"], na_position="last", kind="stable")
    return ImprovementEffect(table=table.reset_index(drop=True), outcome=outcome, n=n,
                             nps=nps_value, r2=r2, warnings=tuple(warnings))


def _block_cross_products(design: np.ndarray) -> np.ndarray:
    """Z'Z of the design (constant, dummies, outcome last) per resampling unit: one unit
    per response up to BOOTSTRAP_UNITS, else interleaved blocks (unit k = rows k, k + K,
    …) whose sums are (close to) iid over the collection period."""
    n, q = design.shape
    units = max(min(n, BOOTSTRAP_UNITS), 1)
    size = n // units
    head = units * size
    shaped = design[:head].reshape(size, units, q)
    out = np.einsum("sui,suj->uij", shaped, shaped, optimize=True)
    rest = n - head
    if rest:
        out[:rest] += design[head:, :, None] * design[head:, None, :]
    return out


def _fit(cross: np.ndarray) -> tuple[np.ndarray, float]:
    """OLS coefficients and R² from Z'Z (outcome in the last row/column); a singular
    design (two identical items) gets the minimum-norm solution."""
    xtx, xty, yty = cross[:-1, :-1], cross[:-1, -1], cross[-1, -1]
    beta = np.linalg.pinv(xtx, hermitian=True) @ xty
    n = cross[0, 0]
    mean = cross[0, -1] / n
    total = yty - n * mean**2
    residual = yty - beta @ xty
    return beta, float(1 - residual / total) if total > 0 else float("nan")


def _bootstrap_effects(blocks: np.ndarray, k: int, n_boot: int, seed: int) -> np.ndarray:
    units = blocks.shape[0]
    rng = np.random.default_rng([seed, 17])
    weights = rng.multinomial(units, np.full(units, 1 / units), size=n_boot).astype(float)
    totals = (weights @ blocks.reshape(units, -1)).reshape(n_boot, *blocks.shape[1:])
    effects = np.empty((n_boot, k))
    for b in range(n_boot):
        beta, _ = _fit(totals[b])
        low_share = totals[b, 0, 1 : k + 1] / totals[b, 0, 0]
        effects[b] = -beta[1 : k + 1] * low_share
    return effects
