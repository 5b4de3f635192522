"""Item-group scores against an independent computation (statsmodels' Wilson interval,
plain numpy means) on planted data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cxlab.analysis.groups import group_scores
from statsmodels.stats.proportion import proportion_confint


def test_group_scores_match_an_independent_computation():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({item: rng.integers(1, 6, 400).astype(float)
                          for item in ("e1", "e2", "e3", "m1", "m2")})
    frame.loc[rng.random(400) < 0.1, "e2"] = np.nan
    frame.loc[:9, ["m1", "m2"]] = np.nan  # ten people skipped the whole manager group
    table = group_scores(frame, {"engagement": ["e1", "e2", "e3"], "manager": ["m1", "m2"]})
    for name, items in (("engagement", ["e1", "e2", "e3"]), ("manager", ["m1", "m2"])):
        row = table.set_index("group").loc[name]
        values = frame[items].to_numpy().ravel()
        values = values[~np.isnan(values)]
        favourable = int((values >= 4).sum())
        assert row["answers"] == len(values)
        assert row["favourable"] == pytest.approx(favourable / len(values), abs=1e-12)
        low, high = proportion_confint(favourable, len(values), alpha=0.05, method="wilson")
        assert (row["fav_ci_low"], row["fav_ci_high"]) == pytest.approx((low, high), abs=1e-9)
        answered = frame[items].notna().any(axis=1)
        assert row["n"] == answered.sum()
        assert row["mean"] == pytest.approx(np.nanmean(frame.loc[answered, items].mean(axis=1)))
    assert table.set_index("group").loc["manager", "n"] == 390


def test_a_group_nobody_answered_has_no_score():
    frame = pd.DataFrame({"a": [np.nan, np.nan]})
    row = group_scores(frame, {"growth": ["a"]}).iloc[0]
    assert row["n"] == 0 and np.isnan(row["favourable"]) and np.isnan(row["mean"])
