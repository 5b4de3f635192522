"""Per-item summaries of rating questions: mean, top-2-box, distribution, with intervals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cxlab.analysis._common import as_float, require_columns, t_quantile, wilson_interval
from cxlab.errors import CxlabError


def ratings(
    df: pd.DataFrame,
    items: Sequence[str],
    *,
    scale: tuple[int, int] = (1, 5),
    top_box: int = 2,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Mean, top-box share and answer distribution of each rating item, with intervals.

    Computes per item: ``n`` answers, ``missing``, ``mean`` with a t interval
    (mean ± t₍n−1₎·sd/√n), ``sd``, ``top2_share`` (share answering one of the top
    ``top_box`` points of ``scale``) with a Wilson interval, and ``share_<point>`` for
    every point of the scale.

    Parameters
    ----------
    df : responses. items : the rating columns.
    scale : the answer scale (min, max); answers outside it raise an error.
    top_box : how many top points count as "top box" (2 → 4 and 5 on 1–5).
    ci : confidence level.

    Returns
    -------
    DataFrame, one row per item: ``item``, ``n``, ``missing``, ``mean``, ``sd``,
    ``ci_low``, ``ci_high``, ``top2_share``, ``top2_ci_low``, ``top2_ci_high``,
    ``share_1`` … ``share_5``, ``note``. No answers: NaN statistics, note "no answers";
    one answer: no interval (NaN), note says so; a constant item has sd 0 and a
    zero-width mean interval, noted.

    Reference: Student (1908) t interval; Wilson (1927) score interval.

    Examples
    --------
    >>> frame = pd.DataFrame({"taste": [5, 4, 4, 2, None], "speed": [1, 2, 5, 3, 3]})
    >>> table = ratings(frame, ["taste", "speed"])
    >>> table[["item", "n", "mean", "top2_share"]].to_numpy().tolist()
    [['taste', 4, 3.75, 0.75], ['speed', 5, 2.8, 0.2]]
    >>> table["share_4"].tolist()
    [0.5, 0.0]
    """
    require_columns(df, items)
    low_point, high_point = scale
    points = range(low_point, high_point + 1)
    rows = []
    for item in items:
        values = as_float(df[item])
        answered = values[~np.isnan(values)]
        if answered.size and (answered.min() < low_point or answered.max() > high_point):
            raise CxlabError(f"ratings: {item!r} has answers outside the scale {scale}")
        n = answered.size
        mean = answered.mean() if n else np.nan
        sd = answered.std(ddof=1) if n > 1 else np.nan
        half = t_quantile(0.5 + ci / 2, n - 1) * sd / np.sqrt(n) if n > 1 else np.nan
        top = int(np.sum(answered > high_point - top_box))
        top_low, top_high = wilson_interval(np.array([top]), np.array([n]), ci)
        note = ("no answers" if n == 0 else "one answer: no interval" if n == 1
                else "every answer the same: sd 0" if sd == 0 else "")
        row = {
            "item": item, "n": n, "missing": int(values.size - n), "mean": mean, "sd": sd,
            "ci_low": mean - half, "ci_high": mean + half,
            "top2_share": top / n if n else np.nan,
            "top2_ci_low": float(top_low[0]), "top2_ci_high": float(top_high[0]),
        }
        for point in points:
            row[f"share_{point}"] = float(np.sum(answered == point) / n) if n else np.nan
        row["note"] = note
        rows.append(row)
    return pd.DataFrame(rows)
