"""What to improve first, as the weekly report says it: the drivers table of
:func:`cxlab.analysis.drivers` joined with each item's improvement effect
(:func:`cxlab.analysis.improvement_effect`), and sentences that agree with the dashboard.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlab import analysis
from cxlab.analysis.drivers import ANSWERS_PER_ITEM, CHECK_DIRECTION, MIN_ANSWERS
from cxlab.analysis.improvement import LOW_POINTS
from cxlab.charts import item_label
from cxlab.errors import CxlabError
from cxlab.report_text import listing, percent, say
from cxlab.surveys.definition import SurveyDefinition
from cxlab.weekly_report.nps import TREND_WEEKS

EFFECT_BOOTSTRAP = 300


def improvement_advice(
    week: pd.DataFrame, history: pd.DataFrame, outcome: str, items: list[str],
    definition: SurveyDefinition, *, language: str = "en",
) -> tuple[pd.DataFrame, str]:
    """The drivers table (quadrant, priority — what the dashboard shows) joined with the
    improvement effect of each item, and a note on the data used.

    Both run on the period's answers, or on the last weeks' when the period has too
    few for stable estimates (the note says which; no second answer count is given).
    """
    wanted = max(MIN_ANSWERS, ANSWERS_PER_ITEM * len(items))
    complete = int(week[[outcome, *items]].notna().all(axis=1).sum())
    data, note = week, say("from_period", language)
    if complete < wanted:
        data, note = history, say("from_history", language, weeks=TREND_WEEKS)
    try:
        result = analysis.drivers(data, outcome, items, definition=definition, n_boot=0)
    except CxlabError as error:  # e.g. answers off an item's scale: say so, keep the rest
        return pd.DataFrame(), say("drivers_error", language, metric=_metric(outcome),
                                   reason=str(error))
    table = result.table
    if not np.isfinite(table["importance"]).any():
        return table.iloc[0:0], say("too_few_drivers", language, metric=_metric(outcome))
    effect = analysis.improvement_effect(data, outcome, items, definition=definition,
                                         n_boot=EFFECT_BOOTSTRAP)
    columns = ["item", "n_low", "low_share", "penalty", "reward", "effect", "effect_ci_low",
               "effect_ci_high", "what_if_nps", "effect_rank"]
    merged = table.merge(effect.table[columns], on="item", how="left",
                         suffixes=("", "_effect"))
    merged = merged.rename(columns={"note_effect": "effect_note"})
    return merged, note


def _metric(outcome: str) -> str:
    return "eNPS" if outcome == "enps" else "NPS"


def advice_sentences(
    table: pd.DataFrame, definition: SurveyDefinition | None, *, metric: str = "NPS",
    language: str = "en",
) -> list[str]:
    """What to improve, in words that agree with the dashboard: the "fix first" items in
    the dashboard's order (priority rank), each with its improvement effect in NPS
    points; items to keep; the largest improvement effect when it is not among them;
    items against the outcome. A "keep" item is never called a priority.

    >>> table = pd.DataFrame({"item": ["speed", "taste", "price"],
    ...     "quadrant": ["fix first", "keep", "lower priority"], "priority_rank": [1, 2, 3],
    ...     "importance_share": [0.5, 0.3, 0.2], "mean": [2.1, 4.4, 3.0],
    ...     "effect": [6.2, 0.5, 1.0], "effect_ci_low": [3.1, 0.0, 0.2],
    ...     "effect_ci_high": [9.0, 1.2, 2.0], "n_low": [40, 3, 20]})
    >>> for sentence in advice_sentences(table, None):  # doctest: +NORMALIZE_WHITESPACE
    ...     print(sentence)
    Speed matters to NPS (50 % of what the items explain) and scores below the other items
    (2.1 of 5): fix it first. Moving its low ratings (1–2) up to the middle would add about
    6.2 NPS points (95 % interval 3.1 to 9.0).
    Keep up: Taste — they matter to NPS and score well.
    """
    if table.empty:
        return []
    bottom, top = definition.item(table["item"].iloc[0]).scale if definition else (1, 5)
    low = f"{bottom}–{bottom + LOW_POINTS - 1}"
    label = {item: _capital(item_label(definition, item, language)) for item in table["item"]}
    sentences = []
    fix = table[table["quadrant"] == "fix first"].sort_values("priority_rank")
    for row in fix.itertuples(index=False):
        sentence = say("fix_first", language, label=label[row.item], metric=metric,
                       share=percent(row.importance_share, language), mean=row.mean, top=top)
        if np.isfinite(row.effect) and row.effect > 0:
            sentence += say("effect", language, low=low, effect=row.effect, metric=metric,
                            effect_low=row.effect_ci_low, effect_high=row.effect_ci_high)
        else:
            sentence += say("effect_unknown", language, metric=metric)
        sentences.append(sentence)
    if fix.empty:
        sentences.append(say("no_fix", language, metric=metric))
    keep = table[table["quadrant"] == "keep"].sort_values("priority_rank")
    if len(keep):
        sentences.append(say("keep", language, metric=metric,
                             labels=listing([label[i] for i in keep["item"]], language)))
    ranked = table[np.isfinite(table["effect"]) & (table["effect"] > 0)]
    if len(ranked):
        best = ranked.sort_values("effect", ascending=False).iloc[0]
        if best["item"] not in set(fix["item"]):
            sentences.append(say("largest_effect", language, label=label[best["item"]],
                                 effect=best["effect"], metric=metric, low=low))
    for item in table.loc[table["quadrant"] == CHECK_DIRECTION, "item"]:
        sentences.append(say("check_direction", language, label=label[item], metric=metric))
    return sentences


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
