"""The weekly report's headline: NPS of the period with its change from the period
before, in words, and the NPS of each of the last weeks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlab import analysis
from cxlab.analysis.trend import nps_change
from cxlab.anonymity import is_small
from cxlab.report_text import say

TREND_WEEKS = 8  # the report week and the seven before it


def nps_headline(this: pd.Series, previous: pd.Series, *, ci: float = 0.95) -> pd.DataFrame:
    """NPS with CI and n of this and the previous period, the change and its p-value.

    The change and its p-value are :func:`cxlab.analysis.trend.nps_change`'s (two
    independent samples, as the dashboard and :func:`cxlab.analysis.trend` test them).

    >>> table = nps_headline(pd.Series([10] * 60 + [3] * 40), pd.Series([10] * 50 + [3] * 50))
    >>> table[["period", "n"]].to_numpy().tolist(), table["nps"].round(1).tolist()
    ([['this period', 100], ['previous period', 100]], [20.0, 0.0])
    >>> round(float(table["change"].iloc[0]), 1), round(float(table["p_change"].iloc[0]), 3)
    (20.0, 0.153)
    """
    table = pd.concat([analysis.nps(this, ci=ci), analysis.nps(previous, ci=ci)],
                      ignore_index=True)
    table.insert(0, "period", ["this period", "previous period"])
    change, p = nps_change(previous, this)
    table["change"] = [change, np.nan]
    table["p_change"] = [p, np.nan]
    return table


def nps_sentence(table: pd.DataFrame, *, metric: str = "NPS", language: str = "en") -> str:
    """The headline in words, from :func:`nps_headline`.

    >>> table = nps_headline(pd.Series([10] * 60 + [3] * 40), pd.Series([10] * 50 + [3] * 50))
    >>> nps_sentence(table)  # doctest: +NORMALIZE_WHITESPACE
    'NPS this period: +20.0 (95 % interval +0.6 to +38.2, 100 answers), up 20.0 points
    on the previous period (+0.0, 100 answers; within the margin of error).'
    >>> sentence = nps_sentence(table, language="ja")
    >>> sentence[:37]
    '今期のNPS：+20.0（95%区間 +0.6〜+38.2、回答100件）'
    >>> sentence[37:]
    '。前期（+0.0、回答100件）から20.0ポイント上昇（誤差の範囲内）。'
    """
    this, before = table.iloc[0], table.iloc[1]
    text = say("nps_this", language, metric=metric, value=this.nps, low=this.ci_low,
               high=this.ci_high, n=int(this.n))
    if before.n == 0:
        return text + say("nps_no_previous", language)
    change = this.change
    direction = (say("up", language, size=abs(change)) if change > 0
                 else say("down", language, size=abs(change)) if change < 0
                 else say("same", language))
    verdict = say("significant" if this.p_change < 0.05 else "within", language)
    return text + say("nps_change", language, direction=direction, before=before.nps,
                      n_before=int(before.n), verdict=verdict)


def weekly_trend(
    responses: pd.DataFrame, outcome: str, start: pd.Timestamp, end: pd.Timestamp,
    *, weeks: int = TREND_WEEKS, min_group: int = 1, language: str = "en",
) -> pd.DataFrame:
    """NPS with CI per report-length period, the last ``weeks`` ending at ``end``.

    Periods are aligned to the report (not to calendar weeks in UTC), so the last row
    is exactly the report period; ``week`` is each period's first day. A period with
    fewer than ``min_group`` answers shows as empty (n 0, no NPS; its note says why,
    in ``language``).

    >>> stamps = pd.to_datetime(["2026-11-10", "2026-11-17", "2026-11-18"], utc=True)
    >>> frame = pd.DataFrame({"submitted_at": stamps, "nps": [10, 3, 9]})
    >>> table = weekly_trend(frame, "nps", pd.Timestamp("2026-11-16", tz="UTC"),
    ...                      pd.Timestamp("2026-11-23", tz="UTC"), weeks=3)
    >>> table["week"].dt.strftime("%m-%d").tolist(), table["n"].tolist()
    (['11-02', '11-09', '11-16'], [0, 1, 2])
    >>> table["nps"].tolist()
    [nan, 100.0, 0.0]
    >>> hidden = weekly_trend(frame, "nps", pd.Timestamp("2026-11-16", tz="UTC"),
    ...                       pd.Timestamp("2026-11-23", tz="UTC"), weeks=3, min_group=2)
    >>> hidden["n"].tolist(), hidden["nps"].tolist()[1:], hidden["note"].iloc[1]
    ([0, 0, 2], [nan, 0.0], 'hidden (too few answers)')
    """
    length = end - start
    first = end - weeks * length
    kept = responses[(responses["submitted_at"] >= first) & (responses["submitted_at"] < end)]
    offset = ((kept["submitted_at"] - first) // length).astype("int64")
    labels = [(first + k * length).tz_convert(start.tz).tz_localize(None) for k in range(weeks)]
    frame = pd.DataFrame({"week": pd.Categorical.from_codes(offset, categories=labels),
                          outcome: kept[outcome].to_numpy()})
    table = analysis.nps_by(frame, outcome, by="week")
    table["week"] = pd.to_datetime(table["week"].astype("datetime64[ns]"))
    small = table["n"].map(lambda n: is_small(int(n), min_group)).astype(bool)
    table.loc[small, ["nps", "ci_low", "ci_high"]] = np.nan
    table.loc[small, "n"] = 0
    table["note"] = table["note"].astype(object)
    table.loc[small, "note"] = say("hidden_note", language)
    return table[["week", "n", "nps", "ci_low", "ci_high", "note"]]
