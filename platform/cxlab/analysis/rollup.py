"""NPS per organisation unit at any level: an area is its stores' answers together,
the head office its areas'. Which unit an answer counts for is decided outside (by the
organisation tree at the answer's time, :func:`cxlab.org.rollup_units`); here the
answers arrive labelled, and units too small to show are hidden.

>>> import pandas as pd
>>> answers = pd.DataFrame({"nps": [10, 9, 9, 3, 8, 10, 2, 9, 10, 7, 1, 9]})
>>> units = pd.Series(["east"] * 6 + ["west"] * 5 + [None])
>>> table = nps_by_unit(answers, "nps", units, min_group=5, order=["east", "west", "north"])
>>> [(row.unit, int(row.n), row.nps, row.hidden) for row in table.itertuples()]
[('east', 6, 50.0, False), ('west', 5, 0.0, False), ('north', 0, nan, False)]
>>> hidden = nps_by_unit(answers, "nps", units, min_group=6)  # west is too small
>>> hidden["hidden"].tolist(), hidden["nps"].isna().tolist()  # and east is its complement
([True, True], [True, True])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cxlab.analysis.nps import nps_by
from cxlab.anonymity import suppressed_groups


def nps_by_unit(df: pd.DataFrame, score: str, units: pd.Series, *, min_group: int,
                order: Sequence[str] | None = None, total_shown: bool = True,
                n_boot: int = 0) -> pd.DataFrame:
    """NPS (or eNPS) with its interval per unit, from answers labelled by ``units`` (one
    label per row of ``df``, aligned on its index; NA: counts for no unit shown).

    Units with ``0 < n < min_group`` answers are ``hidden`` (their n, NPS and interval
    are NaN), and — when the total of these units is shown elsewhere (``total_shown``)
    — as many more as complementary suppression needs
    (:func:`cxlab.anonymity.suppressed_groups`). ``order`` lists the units in the order
    to show them, those without answers included (n 0).

    Returns one row per unit: ``unit``, ``n``, ``nps``, ``ci_low``, ``ci_high``,
    ``enough_answers``, ``hidden``.
    """
    labelled = df.assign(unit=pd.Series(units, index=df.index).astype("object"))
    labelled = labelled[labelled["unit"].notna()]
    names = list(order) if order is not None else sorted(labelled["unit"].unique())
    table = nps_by(labelled, score, by="unit", segments=names, n_boot=n_boot)
    table = table.set_index("unit").reindex(names).reset_index()
    table["n"] = table["n"].fillna(0).astype(int)
    hidden = suppressed_groups(dict(zip(table["unit"], table["n"], strict=True)), min_group,
                               total_shown=total_shown)
    table["hidden"] = table["unit"].isin(hidden)
    for column in ("n", "nps", "ci_low", "ci_high"):
        table[column] = table[column].astype("float64").where(~table["hidden"], np.nan)
    table["n"] = table["n"].astype("Int64")
    table["enough_answers"] = table["enough_answers"].fillna(False).astype(bool) & ~table[
        "hidden"]
    return table[["unit", "n", "nps", "ci_low", "ci_high", "enough_answers", "hidden"]]
