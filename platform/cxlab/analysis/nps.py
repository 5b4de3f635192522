"""Net Promoter Score with its uncertainty, overall, by segment and by period.

NPS (and eNPS, the same statistic on an employee "recommend as a place to work"
question) is the share of promoters (9–10) minus the share of detractors (0–6) of
0–10 answers, times 100. Its variance comes from one multinomial sample:

    Var(NPS) = 100² · (p_P + p_D − (p_P − p_D)²) / n

(the variance of a difference of two proportions estimated from the same sample).

The default interval is Rocks' (2016) adjusted Wald interval: the Wald interval of
the counts with ¾ added to promoters and to detractors and 3 to n. The plain Wald
interval (``method="normal"``) under-covers at extreme NPS (true NPS 95 at n = 30:
70 % instead of 95 %) and has zero width when every answer falls in one group; the
adjusted one covers 93–98 % over NPS −50…95 and n ≥ 30 (tests/test_analysis_nps.py
computes the coverage exactly over that grid).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from cxlab.analysis._common import as_float, period_start, require_columns, z_critical
from cxlab.errors import CxlabError

PROMOTER_MIN = 9
DETRACTOR_MAX = 6
# Fewer answers than this are "too few": an NPS interval is only approximate, and a
# segment is not compared (cxlab.analysis.segments) nor ranked (the weekly report).
MIN_N = 30
# Rocks (2016): pseudo-counts added to promoters and to detractors, and to n.
ADJUST_EACH = 0.75
ADJUST_N = 3.0

NpsMethod = Literal["adjusted", "normal", "bootstrap"]


def nps(
    scores: pd.Series | Sequence[float],
    *,
    ci: float = 0.95,
    method: NpsMethod = "adjusted",
    n_boot: int = 2000,
    seed: int = 0,
    min_n: int = MIN_N,
) -> pd.DataFrame:
    """Net Promoter Score (or eNPS) of 0–10 answers, with shares and a confidence interval.

    Computes NPS = 100·(p_P − p_D) with promoters 9–10, passives 7–8, detractors 0–6;
    missing answers (NA/None/NaN) are left out and counted in ``missing``.

    Parameters
    ----------
    scores : Series or sequence of numbers 0..10 (Int64 with NA is fine).
    ci : confidence level of the interval.
    method : ``"adjusted"`` (default) — Rocks' adjusted Wald interval: the formula
        below on counts with ¾ added to promoters and to detractors and n + 3;
        ``"normal"`` — NPS ± z·SE with SE² = (p_P + p_D − (p_P − p_D)²)/n·100²;
        ``"bootstrap"`` — percentile interval of ``n_boot`` multinomial resamples.
    n_boot, seed : bootstrap size and random seed (bootstrap only).
    min_n : fewer answers than this set ``enough_answers`` to False.

    Returns
    -------
    DataFrame with one row: ``n``, ``missing``, ``promoters``, ``passives``,
    ``detractors`` (counts), ``promoter_share``, ``passive_share``, ``detractor_share``,
    ``nps``, ``se`` (the standard error of ``nps`` itself), ``margin_of_error`` (half
    the interval's width), ``ci_low``, ``ci_high``, ``enough_answers``, ``note``. With
    no answers every statistic is NaN and ``note`` says "no answers". When all answers
    fall in one group the adjusted interval still has a width; the normal and
    bootstrap intervals have zero width and ``note`` says the uncertainty is
    understated.

    Answers must be whole numbers 0–10: 9.5 is neither promoter nor passive, so it is
    rejected with an error rather than silently classed.

    Reference: Reichheld, F. (2003). The one number you need to grow. HBR. Variance and
    the adjusted Wald interval: Rocks, B. (2016). Interval estimation for the "Net
    Promoter Score". The American Statistician, 70(4), 365–372.

    Examples
    --------
    >>> row = nps([10, 9, 9, 8, 7, 6, 3, 10, None]).iloc[0]
    >>> int(row.n), int(row.missing), float(row.nps)
    (8, 1, 25.0)
    >>> [round(float(row[c]), 1) for c in ("margin_of_error", "ci_low", "ci_high")]
    [47.6, -29.4, 65.8]
    >>> row.note
    'fewer than 30 answers: interval approximate'
    """
    values = as_float(pd.Series(scores) if not isinstance(scores, pd.Series) else scores)
    _check_range(values)
    answered = ~np.isnan(values)
    counts = pd.DataFrame(
        {
            "promoters": [int(np.sum(values >= PROMOTER_MIN))],
            "detractors": [int(np.sum(values <= DETRACTOR_MAX))],
            "n": [int(answered.sum())],
            "missing": [int((~answered).sum())],
        }
    )
    return nps_from_counts(counts, ci=ci, method=method, n_boot=n_boot, seed=seed, min_n=min_n)


def nps_by(
    df: pd.DataFrame,
    score: str = "nps",
    *,
    by: str | Sequence[str] | None = None,
    freq: str | None = None,
    time: str = "submitted_at",
    segments: Sequence[object] | None = None,
    ci: float = 0.95,
    method: NpsMethod = "adjusted",
    n_boot: int = 2000,
    seed: int = 0,
    min_n: int = MIN_N,
) -> pd.DataFrame:
    """NPS (or eNPS) with CI per segment (``by``), per period (``freq``), or both.

    Computes, for every group, exactly what :func:`nps` computes for one sample.

    Parameters
    ----------
    df : responses, one row per response.
    score : the 0–10 column (``"nps"``, ``"enps"``).
    by : attribute column(s) to split by, e.g. ``"store"``.
    freq : calendar period of ``time`` (pandas alias: ``"D"``, ``"W"``, ``"M"``, ``"Q"``);
        periods are in UTC and labelled by their first day in column ``period``.
    segments : the segments that must appear even without answers (with ``by`` a single
        column); an empty segment gets a row with n = 0, NaN statistics and
        ``note`` = "no answers". A categorical ``by`` column lists all its categories.
    ci, method, n_boot, seed, min_n : as in :func:`nps`.

    Returns
    -------
    DataFrame: the group column(s) (``period`` first), then the columns of :func:`nps`.

    Reference: as :func:`nps`.

    Examples
    --------
    >>> frame = pd.DataFrame({"store": ["a", "a", "a", "b", "b"], "nps": [10, 9, 2, 7, 10]})
    >>> table = nps_by(frame, by="store", segments=["a", "b", "c"], min_n=2)
    >>> table["store"].tolist(), table["n"].tolist(), table["nps"].round(1).tolist()
    (['a', 'b', 'c'], [3, 2, 0], [33.3, 50.0, nan])
    >>> table["note"].tolist()
    ['', '', 'no answers']
    """
    keys = [by] if isinstance(by, str) else list(by or [])
    require_columns(df, [score, *keys, *([time] if freq else [])])
    values = as_float(df[score])
    _check_range(values)
    parts = {key: df[key] for key in keys}
    if freq:
        parts = {"period": period_start(df[time], freq), **parts}
    group_keys = list(parts)
    if not group_keys:
        return nps(df[score], ci=ci, method=method, n_boot=n_boot, seed=seed, min_n=min_n)
    answered = ~np.isnan(values)
    frame = pd.DataFrame(
        {
            **parts,
            "promoters": values >= PROMOTER_MIN,
            "detractors": values <= DETRACTOR_MAX,
            "n": answered,
            "missing": ~answered,
        },
        index=df.index,
    )
    counts = frame.groupby(group_keys, observed=False, sort=True).sum().astype("int64")
    if segments is not None:
        if len(keys) != 1 or freq:
            raise CxlabError("segments= needs exactly one 'by' column and no freq")
        wanted = list(dict.fromkeys([*segments, *counts.index]))
        counts = counts.reindex(pd.Index(wanted, name=keys[0]), fill_value=0)
    table = nps_from_counts(
        counts.reset_index(drop=True), ci=ci, method=method, n_boot=n_boot, seed=seed,
        min_n=min_n,
    )
    return pd.concat([counts.index.to_frame(index=False), table], axis=1)


def nps_from_counts(
    counts: pd.DataFrame,
    *,
    ci: float = 0.95,
    method: NpsMethod = "adjusted",
    n_boot: int = 2000,
    seed: int = 0,
    min_n: int = MIN_N,
) -> pd.DataFrame:
    """NPS table from counts: columns ``promoters``, ``detractors``, ``n`` (answered) and
    optionally ``missing``; one output row per input row (vectorised).

    Parameters and returned columns as in :func:`nps`; useful when counts come from SQL.

    Examples
    --------
    >>> counts = pd.DataFrame({"promoters": [50, 5], "detractors": [20, 0], "n": [100, 5]})
    >>> table = nps_from_counts(counts)
    >>> table["nps"].tolist(), table["ci_low"].round(2).tolist(), table["ci_high"].round(2).tolist()
    ([30.0, 100.0], [14.05, 17.49], [44.2, 100.0])
    >>> nps_from_counts(counts, method="normal")["note"].tolist()
    ['', 'all answers in one group: interval understated']
    """
    promoters = counts["promoters"].to_numpy(dtype=float)
    detractors = counts["detractors"].to_numpy(dtype=float)
    n = counts["n"].to_numpy(dtype=float)
    if np.any(promoters + detractors > n) or np.any(n < 0):
        raise CxlabError("nps counts: promoters + detractors cannot exceed n")
    z = z_critical(ci)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_promoter, p_detractor = promoters / n, detractors / n
        score = 100 * (p_promoter - p_detractor)
        variance = (p_promoter + p_detractor - (p_promoter - p_detractor) ** 2) / n
        se = 100 * np.sqrt(np.maximum(variance, 0))
    if method == "adjusted":
        low, high = _adjusted_wald_interval(promoters, detractors, n, z)
    elif method == "normal":
        low, high = score - z * se, score + z * se
    elif method == "bootstrap":
        low, high = _bootstrap_interval(promoters, detractors, n, ci, n_boot, seed)
    else:
        raise CxlabError(
            f"nps method must be 'adjusted', 'normal' or 'bootstrap' (got {method!r})")
    low, high = np.clip(low, -100, 100), np.clip(high, -100, 100)
    single_group = (n > 0) & ((promoters == n) | (detractors == n) | (promoters + detractors == 0))
    if method == "adjusted":  # its interval keeps a width: nothing is understated
        single_group = np.zeros(n.shape, dtype=bool)
    note = np.where(
        n == 0, "no answers",
        np.where(
            single_group, "all answers in one group: interval understated",
            np.where(n < min_n, f"fewer than {min_n} answers: interval approximate", ""),
        ),
    )
    table = pd.DataFrame(
        {
            "n": n.astype("int64"),
            "missing": (counts["missing"].to_numpy(dtype="int64") if "missing" in counts
                        else np.zeros(len(n), dtype="int64")),
            "promoters": promoters.astype("int64"),
            "passives": (n - promoters - detractors).astype("int64"),
            "detractors": detractors.astype("int64"),
            "promoter_share": p_promoter,
            "passive_share": (n - promoters - detractors) / np.where(n > 0, n, np.nan),
            "detractor_share": p_detractor,
            "nps": score,
            "se": se,
            "margin_of_error": z * se if method == "normal" else (high - low) / 2,
            "ci_low": low,
            "ci_high": high,
            "enough_answers": n >= max(min_n, 1),
            "note": note,
        }
    )
    return table


def _adjusted_wald_interval(
    promoters: np.ndarray, detractors: np.ndarray, n: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """Rocks (2016) adjusted Wald interval, ×100; NaN where n == 0 (no answers)."""
    size = n + ADJUST_N
    p_promoter = (promoters + ADJUST_EACH) / size
    p_detractor = (detractors + ADJUST_EACH) / size
    centre = p_promoter - p_detractor
    half = z * np.sqrt((p_promoter + p_detractor - centre**2) / size)
    low, high = 100 * (centre - half), 100 * (centre + half)
    empty = n == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def _bootstrap_interval(
    promoters: np.ndarray, detractors: np.ndarray, n: np.ndarray, ci: float, n_boot: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval from multinomial resamples of each row's own answers
    (the nonparametric bootstrap of 0–10 answers reduces to this)."""
    low = np.full(n.shape, np.nan)
    high = np.full(n.shape, np.nan)
    rows = np.flatnonzero(n > 0)
    if rows.size == 0:
        return low, high
    shares = np.column_stack(
        [promoters[rows], detractors[rows], n[rows] - promoters[rows] - detractors[rows]]
    ) / n[rows, None]
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n[rows].astype(np.int64), shares, size=(n_boot, rows.size))
    resampled = 100 * (draws[..., 0] - draws[..., 1]) / n[rows]
    low[rows], high[rows] = np.quantile(resampled, [0.5 - ci / 2, 0.5 + ci / 2], axis=0)
    return low, high


def _check_range(values: np.ndarray) -> None:
    """Reject answers outside 0–10 and fractional ones (9.5 is no promoter, 6.5 no passive).

    >>> _check_range(np.array([9.5, 10.0]))
    Traceback (most recent call last):
    ...
    cxlab.errors.CxlabError: NPS answers must be whole numbers on the 0–10 scale (got 9.5)
    """
    answered = values[~np.isnan(values)]
    wrong = answered[(answered < 0) | (answered > 10) | (answered != np.round(answered))]
    if wrong.size:
        shown = ", ".join(f"{value:g}" for value in np.unique(wrong)[:5])
        raise CxlabError(f"NPS answers must be whole numbers on the 0–10 scale (got {shown})")
