"""Employee surveys in the weekly report: the score of each area (question group).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlab import analysis
from cxlab.analysis.reliability import _alpha as cronbach_alpha
from cxlab.surveys.definition import SurveyDefinition, localize


def area_scores(
    responses: pd.DataFrame, definition: SurveyDefinition, language: str = "en"
) -> pd.DataFrame:
    """Employee surveys: the score of each area (question group) — mean of its items on
    their scale, share choosing the top two answers, Cronbach's alpha — best first.

    >>> from cxlab.seed import generate_responses
    >>> from cxlab.surveys import EXAMPLES_DIR, load_definition
    >>> definition = load_definition(EXAMPLES_DIR / "employee_engagement.yaml")
    >>> table = area_scores(generate_responses(definition, 300, seed=1), definition, "ja")
    >>> sorted(table["group"]) == sorted(["engagement", "manager", "growth", "wellbeing"])
    True
    >>> table.loc[table["group"] == "manager", "label"].item()
    '上司'
    """
    rows = []
    for group, items in definition.item_groups().items():
        ratings = analysis.ratings(responses, items, scale=definition.item(items[0]).scale)
        first = definition.question(definition.item(items[0]).question)
        title = (definition.page_titles[first.page]
                 if first.page < len(definition.page_titles) else None)
        # Cronbach's alpha of complete answers, as analysis.reliability computes it, but
        # without importing pingouin into the report kernel (2–3 s; tests compare the two).
        complete = responses[items].dropna().to_numpy(dtype=float)
        alpha = (cronbach_alpha(np.cov(complete, rowvar=False))
                 if len(items) > 1 and len(complete) > 1 else float("nan"))
        rows.append({"group": group, "label": localize(title, language) if title else group,
                     "items": len(items), "mean": float(ratings["mean"].mean()),
                     "top2_share": float(ratings["top2_share"].mean()),
                     "scale_max": first.scale_max, "alpha": alpha})
    table = pd.DataFrame(rows, columns=["group", "label", "items", "mean", "top2_share",
                                        "scale_max", "alpha"])
    return table.sort_values("mean", ascending=False).reset_index(drop=True)
