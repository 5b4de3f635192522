"""The comments of the weekly report: their topics, and a few recent ones from
detractors and from promoters.
"""

from __future__ import annotations

import pandas as pd

from cxlab import analysis
from cxlab.analysis.nps import DETRACTOR_MAX, PROMOTER_MIN

COMMENTS_EACH = 3  # low-score and high-score comments shown
TOPICS = 6  # comment topics looked for (NMF)


def comment_themes(
    responses: pd.DataFrame, outcome: str, columns: list[str], *, topics: int = TOPICS,
) -> pd.DataFrame:
    """Topics of the period's comments (all text questions together; NMF over key
    phrases, :func:`cxlab.analysis.comment_topics`) with each topic's share of
    detractors' and of promoters' comments; topics no detractor or promoter mentions
    are left out. Empty without enough comments to find topics.
    """
    if not columns:
        return pd.DataFrame()
    frame = pd.concat([pd.DataFrame({"score": responses[outcome], "comment": responses[c]})
                       for c in columns], ignore_index=True)
    frame = frame[frame["score"].notna()]
    result = analysis.comment_topics(frame, "comment", "score", n_topics=topics)
    table = result.topics
    if table.empty:
        return table
    return table[(table["detractors"] + table["promoters"]) > 0].reset_index(drop=True)


def notable_comments(
    responses: pd.DataFrame, outcome: str, columns: list[str], *, each: int = COMMENTS_EACH,
) -> pd.DataFrame:
    """The ``each`` most recent comments from detractors (0–6) and from promoters (9–10).

    >>> frame = pd.DataFrame({
    ...     "submitted_at": pd.to_datetime(["2026-11-17", "2026-11-18", "2026-11-19"], utc=True),
    ...     "nps": [2, 10, 9], "why": ["Slow.", "Lovely!", None]})
    >>> notable_comments(frame, "nps", ["why"])[["kind", "score", "comment"]]
       kind  score  comment
    0   low      2    Slow.
    1  high     10  Lovely!
    """
    parts = [pd.DataFrame({"submitted_at": responses["submitted_at"],
                           "score": responses[outcome], "comment": responses[column]})
             for column in columns]
    empty = pd.DataFrame(columns=["kind", "submitted_at", "score", "comment"])
    if not parts:
        return empty
    comments = pd.concat(parts, ignore_index=True)
    text = comments["comment"].astype("string").str.strip()
    comments = comments[text.notna() & (text != "") & comments["score"].notna()]
    # Newest first, each text once: many customers leave the same short comment.
    comments = comments.sort_values("submitted_at", ascending=False).drop_duplicates("comment")
    low = comments[comments["score"] <= DETRACTOR_MAX].head(each)
    high = comments[comments["score"] >= PROMOTER_MIN].head(each)
    found = pd.concat([low.assign(kind="low"), high.assign(kind="high")], ignore_index=True)
    return found[["kind", "submitted_at", "score", "comment"]] if len(found) else empty
