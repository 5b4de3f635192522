"""The best and worst segment (store, department...) of the weekly report, with small
segments suppressed as everywhere else (:mod:`cxlab.anonymity`).
"""

from __future__ import annotations

import pandas as pd

from cxlab import analysis
from cxlab.analysis.nps import MIN_N
from cxlab.anonymity import suppressed_groups
from cxlab.charts import item_label
from cxlab.report_text import listing, say
from cxlab.surveys.definition import SurveyDefinition


def segment_highlights(
    responses: pd.DataFrame, outcome: str, attribute: str,
    definition: SurveyDefinition | None = None, *, min_n: int = MIN_N,
    metric: str = "NPS", language: str = "en", min_group: int = 1,
) -> tuple[pd.DataFrame, list[str]]:
    """NPS per segment, and sentences naming the best and worst segment among those with
    at least ``min_n`` answers (the rest are "too few answers" and not ranked).

    Segments are named by their label in ``language`` (the attribute's
    ``value_labels``: a store's name, not its code), kept in the column ``label``
    beside the code. Segments below ``min_group`` answers, and as many more as
    complementary suppression needs (:mod:`cxlab.anonymity`: the report shows the
    total), are hidden: their n and NPS are blanked and only their names are listed.

    >>> frame = pd.DataFrame({"store": ["a"] * 40 + ["b"] * 40 + ["c"] * 5,
    ...                       "nps": [10] * 30 + [3] * 10 + [9] * 20 + [5] * 20 + [10] * 5})
    >>> table, sentences = segment_highlights(frame, "nps", "store")
    >>> table[["store", "n", "nps", "ranked"]].to_numpy().tolist()
    [['a', 40, 50.0, True], ['b', 40, 0.0, True], ['c', 5, 100.0, False]]
    >>> for sentence in sentences:
    ...     print(sentence)
    Best store by NPS: a (+50.0, 95 % interval +20.6 to +72.4, 40 answers).
    Lowest: b (+0.0, 95 % interval -29.4 to +29.4, 40 answers).
    Not ranked (fewer than 30 answers): c (5).

    With ``min_group=6``, c is hidden, and a with it (else total − b would be c's 5):

    >>> table, sentences = segment_highlights(frame, "nps", "store", min_group=6)
    >>> table[["store", "n", "nps", "hidden"]].to_numpy().tolist()
    [['b', 40, 0.0, False], ['a', <NA>, nan, True], ['c', <NA>, nan, True]]
    >>> print(sentences[-1])  # doctest: +NORMALIZE_WHITESPACE
    Hidden to protect anonymity (fewer than 6 answers, or needed to keep those from being
    worked out): a and c.
    """
    label = segment_label(definition, attribute, language)
    table = analysis.nps_by(responses, outcome, by=attribute, min_n=min_n)
    table = table[table["n"] > 0].copy()
    table[attribute] = table[attribute].astype(str)
    table.insert(table.columns.get_loc(attribute) + 1, "label",
                 [_value_label(definition, attribute, code, language)
                  for code in table[attribute]])
    hidden = suppressed_groups(dict(zip(table[attribute], table["n"], strict=True)), min_group)
    table["hidden"] = table[attribute].isin(hidden)
    table["ranked"] = (table["n"] >= min_n) & ~table["hidden"]
    # Hidden segments last, by name: their order must not rank them either.
    table["order"] = table["nps"].mask(table["hidden"])
    table = table.sort_values(["hidden", "ranked", "order", "label"],
                              ascending=[True, False, False, True]).reset_index(drop=True)
    table = table.drop(columns="order")
    for column in table.columns.difference([attribute, "label", "hidden", "ranked", "note"]):
        values = table[column]
        if pd.api.types.is_integer_dtype(values) or pd.api.types.is_bool_dtype(values):
            values = values.astype("Int64" if column != "enough_answers" else "boolean")
        table[column] = values.mask(table["hidden"])  # counts, shares, NPS: all blanked
    table["note"] = table["note"].astype(object)
    table.loc[table["hidden"], "note"] = say("hidden_note", language)
    ranked = table[table["ranked"]]
    sentences = []
    if len(ranked) >= 2:
        best, worst = ranked.iloc[0], ranked.iloc[-1]
        sentences.append(say("best", language, label=label, metric=metric,
                             phrase=_segment_phrase(best, attribute, language)))
        sentences.append(say("lowest", language, label=label,
                             phrase=_segment_phrase(worst, attribute, language)))
    else:
        sentences.append(say("too_few_segments", language, label=label, min_n=min_n))
    small = table[~table["ranked"] & ~table["hidden"]]
    if len(small) and len(ranked) >= 2:
        listed = listing([say("label_n", language, label=row.label, n=row.n)
                          for row in small.itertuples()], language)
        sentences.append(say("not_ranked", language, min_n=min_n, listed=listed))
    if table["hidden"].any():
        names = listing(table.loc[table["hidden"], "label"].tolist(), language)
        sentences.append(say("hidden_segments", language, min_group=min_group, names=names))
    return table, sentences


def segment_label(definition: SurveyDefinition | None, attribute: str, language: str) -> str:
    """The attribute's label as a sentence uses it ("by store", not "by Store")."""
    label = item_label(definition, attribute, language)
    return label.lower() if language == "en" else label  # "by store", not "by Store"


def _value_label(definition: SurveyDefinition | None, attribute: str, code: str,
                 language: str) -> str:
    """A segment's name: the attribute's ``value_labels`` entry, or the code itself."""
    described = next((a for a in definition.attributes if a.name == attribute),
                     None) if definition else None
    return described.value_label(code, language) if described else code


def _segment_phrase(row: pd.Series, attribute: str, language: str) -> str:
    return say("segment", language, name=row["label"], value=row.nps, low=row.ci_low,
               high=row.ci_high, n=int(row.n))
