"""Comment topics: key phrases (noun compounds), topics, and who mentions them.

Japanese comments are split by a real morphological analyser — SudachiPy with its
core dictionary (installed from the package index, nothing downloaded at run time;
chosen over Janome, 26× slower, see benchmarks/RESULTS.md, "Comments") — and
consecutive nouns are joined into compounds ("待ち時間", "接客",
"コストパフォーマンス"). English comments give their words without stop words.

Topics come from a keyword list (``topics={"waiting": ["待ち", "待た", "wait"]}``,
e.g. kept per survey beside its definition) or, without one, from NMF over the TF-IDF
of the key phrases (numpy and scipy.sparse; checked against scikit-learn in the
tests, which a report kernel does not import: it costs 3–8 s). For each topic: its
share of detractors' and of promoters' comments with Wilson intervals — "comments on
waiting: 31 % of detractors, 6 % of promoters".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
import pandas as pd

from cxlab.analysis._common import require_columns, wilson_interval
from cxlab.analysis.comments import JAPANESE, STOPWORDS
from cxlab.analysis.nps import DETRACTOR_MAX, PROMOTER_MIN
from cxlab.errors import CxlabError

AnalyserName = Literal["sudachi"]
ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")
HONORIFICS = frozenset({"さん", "様", "さま", "ちゃん", "くん", "君"})
# Formal nouns: grammar, not topics ("満足できるもの", "待つこと").
FORMAL_NOUNS = frozenset({"もの", "物", "こと", "事", "ところ", "ため", "よう", "ほう", "とき",
                          "の", "ん"})
MIN_TOPIC_COMMENTS = 3  # an NMF topic needs this many comments to be shown


class Analyser:
    """Noun-compound extraction with SudachiPy (split mode C, core dictionary).

    Janome was measured too (benchmarks/comments.py, 100,000 comments): 1,000
    comments/s against SudachiPy's 26,000/s, so only SudachiPy is shipped.

    >>> Analyser().phrases("待ち時間がとても長かったです。店員さんの接客は丁寧でした。")
    ['待ち時間', '店員', '接客']
    >>> Analyser().phrases("コストパフォーマンスが良い。Friendly staff!")
    ['コストパフォーマンス', 'friendly', 'staff']
    """

    def __init__(self, name: AnalyserName = "sudachi") -> None:
        if name != "sudachi":
            raise CxlabError(f"analyser must be 'sudachi' (got {name!r})")
        self.name = name
        self._tokenize = _sudachi()

    def phrases(self, comment: str) -> list[str]:
        """The key phrases of one comment, in order: Japanese noun compounds and
        lower-cased English words (no stop words)."""
        found: list[str] = []
        if JAPANESE.search(comment):
            found += self._compounds(comment)
        found += [w.lower() for w in ENGLISH_WORD.findall(comment)
                  if w.lower() not in STOPWORDS]
        return found

    def _compounds(self, comment: str) -> list[str]:
        compounds, current, stem = [], "", ""
        for surface, kind in self._tokenize(comment):
            if not JAPANESE.search(surface):  # Latin words are taken as English below
                kind = "other"
            if kind == "noun":
                # A verb stem right before a noun belongs to it: 待ち + 時間 → 待ち時間.
                current += stem + surface
                stem = ""
                continue
            if kind == "suffix" and current and surface not in HONORIFICS:
                current += surface
                continue
            if current:
                compounds.append(current)
            current = ""
            stem = surface if kind == "stem" else ""
        if current:
            compounds.append(current)
        # One hiragana or katakana character is grammar or noise, not a phrase.
        return [c for c in compounds if c not in FORMAL_NOUNS
                and (len(c) > 1 or re.match(r"[\u3400-\u9fff]", c))]


@cache
def _sudachi():  # noqa: ANN202 - returns a closure
    from sudachipy import Dictionary, SplitMode

    tokenizer = Dictionary(dict="core").tokenizer(mode=SplitMode.C)

    def tokenize(comment: str) -> list[tuple[str, str]]:
        out = []
        for morpheme in tokenizer.tokenize(comment):
            pos = morpheme.part_of_speech()
            if pos[0] == "名詞" and pos[1] != "数詞":
                kind = "noun"
            elif pos[0] == "接尾辞" and pos[1] == "名詞的":
                kind = "suffix"
            elif pos[0] == "動詞" and pos[1] == "一般" and pos[5].startswith("連用形"):
                kind = "stem"
            else:
                kind = "other"
            out.append((morpheme.surface(), kind))
        return out

    return tokenize


@dataclass(frozen=True)
class CommentTopics:
    """Result of :func:`comment_topics`.

    ``phrases``: the most frequent key phrases (``phrase``, ``comments``, ``share``).
    ``topics``: one row per topic — ``topic``, ``terms`` (its keywords or top NMF
    terms), ``comments``, ``detractors`` / ``promoters`` (commenting detractors /
    promoters mentioning it), ``detractor_share`` / ``promoter_share`` with Wilson
    ``*_ci_low`` / ``*_ci_high``, ``sentence`` (English) and ``note``.
    ``comments``: one row per comment — ``row`` (index label), ``comment``, ``score``,
    ``group`` (detractor/passive/promoter/unknown), ``phrases``, ``topics``.
    """

    phrases: pd.DataFrame
    topics: pd.DataFrame
    comments: pd.DataFrame
    method: str


def comment_topics(
    df: pd.DataFrame,
    column: str,
    score: str | None = "nps",
    *,
    topics: Mapping[str, Sequence[str]] | None = None,
    n_topics: int = 6,
    top_phrases: int = 30,
    analyser: AnalyserName = "sudachi",
    ci: float = 0.95,
    seed: int = 0,
) -> CommentTopics:
    """Key phrases and topics of the comments in ``column``, and for each topic its share
    among detractors' and promoters' comments (by ``score``, 0–10).

    Parameters
    ----------
    df : responses. column : the comment column. score : the 0–10 recommendation
        column, or None (then no shares by group).
    topics : keyword lists, {topic: [keywords]}; a comment is on a topic when it
        contains one of its keywords (case-insensitive substring, so a stem such as
        "待た" matches 待たされた). Without it, ``n_topics`` topics are found by NMF
        (:func:`nmf`: Frobenius loss, multiplicative updates, seeded by ``seed``) over
        the TF-IDF of the key phrases (:func:`tfidf`); each comment goes to its
        strongest topic, and a topic is named by its top 3 terms.
    top_phrases : how many key phrases to return. analyser : "sudachi".
    ci : level of the Wilson intervals.

    Reference: Lee & Seung (1999), Nature 401, 788–791 (NMF); Takaoka et al. (2018),
    Sudachi: a Japanese tokenizer for business, LREC; Wilson (1927).

    Examples
    --------
    >>> frame = pd.DataFrame({"nps": [2, 3, 10, 9, 5, 10],
    ...     "why": ["待ち時間が長い", "ずっと待たされた", "料理が美味しい", "スタッフが親切",
    ...             "The wait was long", "Great food"]})
    >>> result = comment_topics(frame, "why", topics={"waiting": ["待", "wait"],
    ...                                              "food": ["料理", "food"]})
    >>> result.topics[["topic", "comments", "detractors", "promoters"]].to_numpy().tolist()
    [['waiting', 3, 3, 0], ['food', 2, 0, 2]]
    >>> result.topics["sentence"].iloc[0]
    'comments on waiting: 100 % of detractors, 0 % of promoters'
    """
    require_columns(df, [column, *([score] if score else [])])
    raw = df[column]
    text = raw.astype(object).where(raw.notna(), None).map(
        lambda v: v.strip() if isinstance(v, str) else "")
    kept = text[text.str.len() > 0]
    tool = Analyser(analyser)
    phrases = [list(dict.fromkeys(tool.phrases(comment))) for comment in kept]
    values = (pd.to_numeric(df.loc[kept.index, score], errors="coerce").to_numpy(dtype=float)
              if score else np.full(len(kept), np.nan))
    group = np.where(values <= DETRACTOR_MAX, "detractor",
                     np.where(values >= PROMOTER_MIN, "promoter",
                              np.where(np.isnan(values), "unknown", "passive")))
    if topics is not None:
        if not topics:
            raise CxlabError("comment_topics: topics= is empty; give {topic: [keywords]}")
        lowered = [comment.lower() for comment in kept]
        names = list(topics)
        terms = [", ".join(words) for words in topics.values()]
        member = np.array([[any(w.lower() in comment for w in topics[name]) for name in names]
                           for comment in lowered], dtype=bool).reshape(len(kept), len(names))
        method = "keywords"
    else:
        names, terms, member = _nmf_topics(phrases, n_topics, seed)
        method = "nmf"
    table = _topic_table(names, terms, member, group, ci)
    counted = pd.Series([p for found in phrases for p in found], dtype=object).value_counts()
    top = counted.head(top_phrases)
    phrase_table = pd.DataFrame({"phrase": top.index.astype(str),
                                 "comments": top.to_numpy(dtype="int64")})
    phrase_table["share"] = phrase_table["comments"] / max(len(kept), 1)
    comments = pd.DataFrame({
        "row": kept.index, "comment": kept.to_numpy(), "score": values, "group": group,
        "phrases": phrases,
        "topics": [[n for n, m in zip(names, row, strict=True) if m] for row in member],
    })
    return CommentTopics(phrases=phrase_table, topics=table, comments=comments, method=method)


def tfidf(phrases: list[list[str]], min_df: int = 2):  # noqa: ANN201 - scipy.sparse matrix
    """TF-IDF of each comment's key phrases as a sparse matrix, and its vocabulary:
    exactly what scikit-learn's ``TfidfVectorizer(analyzer=..., min_df=2)`` computes
    (smooth idf = ln((1 + n)/(1 + df)) + 1, raw counts, rows scaled to unit length;
    tested equal to it), without importing scikit-learn, which costs a report kernel
    3–8 s (it imports scipy.stats).

    >>> matrix, vocabulary = tfidf([["待ち時間", "店員"], ["待ち時間"], ["料理"]], min_df=1)
    >>> vocabulary
    ['店員', '待ち時間', '料理']
    >>> matrix.toarray().round(3).tolist()
    [[0.796, 0.605, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    from scipy import sparse  # ~0.5 s, far less than scikit-learn

    counted: dict[str, int] = {}
    for found in phrases:
        for phrase in set(found):
            counted[phrase] = counted.get(phrase, 0) + 1
    vocabulary = sorted(p for p, df in counted.items() if df >= min_df)
    index = {phrase: j for j, phrase in enumerate(vocabulary)}
    rows, columns = [], []
    for i, found in enumerate(phrases):
        for phrase in found:
            if phrase in index:
                rows.append(i)
                columns.append(index[phrase])
    shape = (len(phrases), len(vocabulary))
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=shape)
    matrix.sum_duplicates()
    document_frequency = np.array([counted[p] for p in vocabulary], dtype=float)
    idf = np.log((1 + len(phrases)) / (1 + document_frequency)) + 1
    matrix = matrix @ sparse.diags(idf)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    matrix = sparse.diags(np.where(norms > 0, 1 / np.where(norms > 0, norms, 1), 0)) @ matrix
    return matrix.tocsr(), vocabulary


def nmf(matrix, k: int, *, seed: int = 0, iterations: int = 400,  # noqa: ANN001
        restarts: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative matrix factorisation X ≈ W H (Frobenius loss) by Lee & Seung's
    multiplicative updates from ``restarts`` seeded random starts, keeping the best fit.

    Tested against scikit-learn's ``NMF`` (its fit is no better than this one's by more
    than 5 % on the test comments) and on planted topics.

    >>> x = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]])
    >>> w, h = nmf(x, 2)
    >>> bool(np.abs(w @ h - x).max() < 0.01)
    True
    """
    rng = np.random.default_rng([seed, 23])
    n, v = matrix.shape
    scale = np.sqrt(matrix.mean() / k) if matrix.mean() > 0 else 1.0
    best, best_error = None, np.inf
    squared = float(matrix.multiply(matrix).sum()) if hasattr(matrix, "multiply") else float(
        (matrix**2).sum())
    for _ in range(restarts):
        w = rng.random((n, k)) * scale
        h = rng.random((k, v)) * scale
        for _ in range(iterations):
            h *= np.asarray(w.T @ matrix) / np.maximum(w.T @ w @ h, 1e-12)
            w *= np.asarray(matrix @ h.T) / np.maximum(w @ (h @ h.T), 1e-12)
        # ‖X − WH‖² = ‖X‖² − 2 tr(Hᵀ Wᵀ X) + tr(Wᵀ W H Hᵀ), without a dense WH.
        error = (squared - 2 * float(np.sum(np.asarray(w.T @ matrix) * h))
                 + float(np.sum((w.T @ w) * (h @ h.T))))
        if error < best_error:
            best, best_error = (w, h), error
    return best


def _nmf_topics(
    phrases: list[list[str]], n_topics: int, seed: int
) -> tuple[list[str], list[str], np.ndarray]:
    """NMF topics over TF-IDF of key phrases: names, terms and comment membership."""
    documents = sum(1 for found in phrases if found)
    empty = ([], [], np.zeros((len(phrases), 0), dtype=bool))
    if documents < 2 * n_topics or n_topics < 1:
        return empty
    matrix, vocabulary = tfidf(phrases)
    if not vocabulary:  # no phrase occurs twice
        return empty
    k = min(n_topics, len(vocabulary))
    weights, components = nmf(matrix, k, seed=seed)
    top_terms = [[vocabulary[i] for i in np.argsort(component)[::-1][:3]]
                 for component in components]
    strongest = weights.argmax(axis=1)
    member = np.zeros((len(phrases), k), dtype=bool)
    has = weights.max(axis=1) > 1e-9
    member[np.flatnonzero(has), strongest[has]] = True
    keep = member.sum(axis=0) >= MIN_TOPIC_COMMENTS
    names = [" / ".join(terms) for terms in top_terms]
    return ([n for n, k_ in zip(names, keep, strict=True) if k_],
            [", ".join(t) for t, k_ in zip(top_terms, keep, strict=True) if k_],
            member[:, keep])


def _topic_table(
    names: list[str], terms: list[str], member: np.ndarray, group: np.ndarray, ci: float
) -> pd.DataFrame:
    detractor, promoter = group == "detractor", group == "promoter"
    n_det, n_pro = int(detractor.sum()), int(promoter.sum())
    det = member[detractor].sum(axis=0) if len(names) else np.zeros(0)
    pro = member[promoter].sum(axis=0) if len(names) else np.zeros(0)
    det_low, det_high = wilson_interval(det, np.full(len(names), n_det), ci)
    pro_low, pro_high = wilson_interval(pro, np.full(len(names), n_pro), ci)
    with np.errstate(invalid="ignore", divide="ignore"):
        det_share, pro_share = det / n_det, pro / n_pro
    table = pd.DataFrame({
        "topic": names, "terms": terms,
        "comments": member.sum(axis=0).astype("int64") if len(names) else [],
        "detractors": np.asarray(det, dtype="int64"),
        "detractor_share": det_share, "detractor_ci_low": det_low,
        "detractor_ci_high": det_high,
        "promoters": np.asarray(pro, dtype="int64"),
        "promoter_share": pro_share, "promoter_ci_low": pro_low, "promoter_ci_high": pro_high,
    })
    table["sentence"] = [
        f"comments on {row.topic}: {_percent(row.detractor_share)} of detractors, "
        f"{_percent(row.promoter_share)} of promoters" for row in table.itertuples()]
    table["note"] = np.where((n_det == 0) | (n_pro == 0),
                             "no comments from detractors or from promoters: share undefined",
                             "")
    return table.sort_values("comments", ascending=False, kind="stable").reset_index(drop=True)


def _percent(share: float) -> str:
    return "–" if not np.isfinite(share) else f"{share:.0%}".replace("%", " %")
