"""Free-text comments: counts, lengths and frequent terms, in Japanese and English.

No tokenizer or dictionary is needed: Latin-script text is split into words; Japanese
kanji runs into character bigrams ("料理", "店員", "親切"), katakana runs kept whole
(loanwords: "メニュー"), hiragana (mostly grammar: です, ました) skipped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxlab.analysis._common import require_columns

WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+|[\u3400-\u9fff々]{2,}|[\u30a1-\u30faー]{2,}")
KANJI = re.compile(r"[\u3400-\u9fff々]")
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "had", "has",
    "have", "i", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our", "so", "that",
    "the", "their", "them", "they", "this", "to", "too", "us", "was", "we", "were", "what",
    "with", "you", "your", "very", "there", "been", "not", "no", "all", "just",
})


@dataclass(frozen=True)
class CommentSummary:
    """Result of :func:`comment_summary`: ``counts`` per segment, frequent ``terms``, and
    one row per comment in ``comments`` for a dashboard to filter and list."""

    counts: pd.DataFrame
    terms: pd.DataFrame
    comments: pd.DataFrame


def comment_summary(
    df: pd.DataFrame,
    column: str,
    *,
    by: str | Sequence[str] | None = None,
    top: int = 20,
) -> CommentSummary:
    """Comment counts and lengths (per segment) and the most frequent terms.

    A comment is a non-empty string after trimming whitespace. Length is in characters.
    Terms: lower-cased English words of two or more letters without common stop words,
    Japanese character bigrams of kanji runs and whole katakana words (hiragana
    skipped); each term is counted once per comment.

    Parameters
    ----------
    df : responses. column : the text column.
    by : segment column(s) for ``counts`` and to carry into ``comments``.
    top : how many terms to return.

    Returns
    -------
    :class:`CommentSummary` with ``counts`` (the ``by`` columns, ``responses``,
    ``comments``, ``comment_share``, ``mean_length``, ``median_length``; no comments →
    NaN lengths), ``terms`` (``term``, ``script`` "ja"/"en", ``comments``,
    ``share_of_comments``), ``comments`` (``row`` index label, the ``by`` columns,
    ``comment``, ``length``, ``language``).

    Reference: character n-grams for Japanese text retrieval: Ogawa & Matsuda (1997),
    Overlapping statistical word indexing, SIGIR; McNamee & Mayfield (2004).

    Examples
    --------
    >>> frame = pd.DataFrame({"store": ["a", "a", "b"],
    ...                       "comment": ["料理が美味しい", "Great food, slow service", None]})
    >>> summary = comment_summary(frame, "comment", by="store")
    >>> summary.counts[["store", "responses", "comments"]].to_numpy().tolist()
    [['a', 2, 2], ['b', 1, 0]]
    >>> summary.terms["term"].tolist()
    ['料理', '美味', 'great', 'food', 'slow', 'service']
    """
    keys = [by] if isinstance(by, str) else list(by or [])
    require_columns(df, [column, *keys])
    raw = df[column].astype(object).where(df[column].notna(), None)
    cleaned = raw.map(lambda v: v.strip() if isinstance(v, str) else "")
    has_comment = cleaned.str.len().to_numpy(dtype=float) > 0
    lengths = cleaned.str.len().to_numpy(dtype=float)
    frame = pd.DataFrame({**{k: df[k] for k in keys}, "has": has_comment,
                          "length": np.where(has_comment, lengths, np.nan)}, index=df.index)
    if keys:
        grouped = frame.groupby(keys, observed=False, sort=True)
        counts = pd.DataFrame({
            "responses": grouped.size(), "comments": grouped["has"].sum(),
            "mean_length": grouped["length"].mean(), "median_length": grouped["length"].median(),
        }).reset_index()
    else:
        counts = pd.DataFrame({
            "responses": [len(frame)], "comments": [int(has_comment.sum())],
            "mean_length": [frame["length"].mean()], "median_length": [frame["length"].median()],
        })
    counts["responses"] = counts["responses"].astype("int64")
    counts["comments"] = counts["comments"].astype("int64")
    counts.insert(counts.columns.get_loc("comments") + 1, "comment_share",
                  counts["comments"] / counts["responses"].where(counts["responses"] > 0))
    texts = cleaned[has_comment]
    tally: Counter[str] = Counter()
    for comment in texts:
        tally.update(list(dict.fromkeys(terms_of(comment))))
    total = max(len(texts), 1)
    ranked = tally.most_common(top)
    terms = pd.DataFrame({
        "term": [term for term, _ in ranked],
        "script": ["ja" if JAPANESE.search(term) else "en" for term, _ in ranked],
        "comments": np.array([count for _, count in ranked], dtype="int64"),
    })
    terms["share_of_comments"] = terms["comments"] / total
    comments = pd.DataFrame({
        "row": texts.index, **{k: df.loc[texts.index, k].to_numpy() for k in keys},
        "comment": texts.to_numpy(), "length": lengths[has_comment].astype("int64"),
        "language": ["ja" if JAPANESE.search(t) else "en" for t in texts],
    })
    return CommentSummary(counts=counts, terms=terms, comments=comments)


def terms_of(comment: str) -> list[str]:
    """The terms of one comment in order: English words, Japanese character bigrams.

    >>> terms_of("店員さんがとても親切でした! メニューも Friendly staff")
    ['店員', '親切', 'メニュー', 'friendly', 'staff']
    """
    found: list[str] = []
    for run in WORD.findall(comment):
        if run[0].isascii():
            if run.lower() not in STOPWORDS:
                found.append(run.lower())
        elif KANJI.match(run):
            found.extend(run[start : start + 2] for start in range(len(run) - 1))
        else:
            found.append(run)
    return found
