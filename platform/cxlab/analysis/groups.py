"""Scores of item groups (an EX survey's engagement, manager, growth…): one row per group.

A group's score is the share of favourable answers over its items (the top two points
of the scale: "agree" and "strongly agree" on 1–5), the usual headline of employee
surveys, with a Wilson interval; beside it the mean of each respondent's average over
the group's items, and ``n``, the respondents who answered at least one of its items.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cxlab.analysis._common import require_columns, wilson_interval


def group_scores(
    df: pd.DataFrame,
    groups: Mapping[str, Sequence[str]],
    *,
    scale: tuple[int, int] = (1, 5),
    top_box: int = 2,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Favourable share (top ``top_box`` points of ``scale``) and mean per item group.

    Parameters
    ----------
    df : responses. groups : group name → its rating columns, in display order.
    scale : the items' answer scale (min, max). top_box : points that count as favourable.
    ci : confidence level of the Wilson interval of the favourable share, which treats
        each answer as one trial (answers of one respondent are not independent, so it is
        a little narrow for groups of many items).

    Returns
    -------
    DataFrame, one row per group: ``group``, ``items``, ``n`` (respondents), ``answers``,
    ``favourable`` (share), ``fav_ci_low``, ``fav_ci_high``, ``mean``.

    Example
    -------
    >>> frame = pd.DataFrame({"a": [5, 4, 2, 5], "b": [4, 3, None, 5], "c": [1, 2, 2, 5]})
    >>> table = group_scores(frame, {"engagement": ["a", "b"], "growth": ["c"]})
    >>> table[["group", "n", "answers", "favourable", "mean"]].round(3)
            group  n  answers  favourable  mean
    0  engagement  4        7       0.714  3.75
    1      growth  4        4       0.250  2.50
    """
    rows = []
    _, high = scale  # favourable counts from the top of the scale
    for name, items in groups.items():
        require_columns(df, list(items))
        answers = df[list(items)].apply(pd.to_numeric, errors="coerce")
        given = answers.notna()
        count = int(given.to_numpy().sum())
        favourable = int((answers >= high - top_box + 1).to_numpy().sum())
        per_person = answers.mean(axis=1, skipna=True)
        share = favourable / count if count else np.nan
        ci_low, ci_high = wilson_interval(favourable, count, ci) if count else (np.nan, np.nan)
        rows.append({
            "group": name, "items": len(items), "n": int(given.any(axis=1).sum()),
            "answers": count, "favourable": share, "fav_ci_low": ci_low,
            "fav_ci_high": ci_high, "mean": float(per_person.mean()) if count else np.nan,
        })
    return pd.DataFrame(rows, columns=["group", "items", "n", "answers", "favourable",
                                       "fav_ci_low", "fav_ci_high", "mean"])
