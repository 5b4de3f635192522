"""cxlab.analysis.drivers against brute-force all-subsets regressions and planted truth."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from cxlab.analysis import drivers
from cxlab.analysis.relimp import lmg_batch
from cxlab.errors import CxlabError
from cxlab.seed import generate_responses, plan_drivers
from cxlab.surveys import EXAMPLES_DIR, load_definition
from scipy import stats


def pingouin_lmg(correlation: np.ndarray) -> np.ndarray:
    """LMG importances of predictors 1..p for outcome 0 of ``correlation``, by pingouin.

    Builds ``p + 3`` pseudo-observations whose sample correlation matrix equals
    ``correlation`` (columns orthogonal to the constant, Gram matrix = correlation),
    then calls ``pingouin.linear_regression(..., relimp=True)`` on them.

    >>> r = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.2], [0.3, 0.2, 1.0]])
    >>> [round(float(v), 6) for v in pingouin_lmg(r)]
    [0.225833, 0.065833]
    """
    size = correlation.shape[0]
    eigenvalues, eigenvectors = np.linalg.eigh((correlation + correlation.T) / 2)
    root = eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))
    rows = size + 2
    basis, _ = np.linalg.qr(np.column_stack([np.ones(rows), np.eye(rows)[:, :size]]))
    pseudo = basis[:, 1 : size + 1] @ root.T
    # Imported on use: pingouin pulls in matplotlib and scipy.stats (~2 s).
    import pingouin as pg

    model = pg.linear_regression(pseudo[:, 1:], pseudo[:, 0], relimp=True)
    return model["relimp"].to_numpy()[1:]


RESTAURANT = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
ITEMS = [q.id for q in RESTAURANT.questions_of_type("rating")]


def brute_force_lmg(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Shapley value of R² by refitting OLS (statsmodels) on every subset of predictors."""
    p = x.shape[1]
    r2 = {(): 0.0}
    for size in range(1, p + 1):
        for subset in itertools.combinations(range(p), size):
            r2[subset] = sm.OLS(y, sm.add_constant(x[:, subset])).fit().rsquared
    importance = np.zeros(p)
    for j in range(p):
        others = [k for k in range(p) if k != j]
        for size in range(p):
            for subset in itertools.combinations(others, size):
                with_j = tuple(sorted((*subset, j)))
                importance[j] += (r2[with_j] - r2[subset]) / (p * comb(p - 1, size))
    return importance


@pytest.fixture(scope="module")
def seeded() -> pd.DataFrame:
    return generate_responses(RESTAURANT, 600, seed=4)


def test_importances_match_brute_force_all_subsets_and_sum_to_r2(seeded):
    items = ITEMS[:6]
    result = drivers(seeded, "nps", items, definition=RESTAURANT, n_boot=0)
    complete = seeded[["nps", *items]].dropna().astype(float).to_numpy()
    expected = brute_force_lmg(complete[:, 0], complete[:, 1:])
    got = result.table.set_index("item").loc[items, "importance"].to_numpy()
    np.testing.assert_allclose(got, expected, atol=1e-8)
    full_r2 = sm.OLS(complete[:, 0], sm.add_constant(complete[:, 1:])).fit().rsquared
    assert result.r2 == pytest.approx(full_r2, abs=1e-8)
    assert result.n == len(complete)


def test_vectorised_lmg_equals_pingouin_on_all_ten_items(seeded):
    complete = seeded[["nps", *ITEMS]].dropna().astype(float).to_numpy()
    correlation = np.corrcoef(complete, rowvar=False)
    np.testing.assert_allclose(lmg_batch(correlation[None])[0], pingouin_lmg(correlation),
                               atol=1e-10)


def test_pairwise_missing_uses_pairwise_complete_correlations(seeded):
    items = ITEMS[:5]
    result = drivers(seeded, "nps", items, definition=RESTAURANT, missing="pairwise", n_boot=0)
    answered = seeded[seeded["nps"].notna()][["nps", *items]].astype(float)
    correlation = answered.corr(min_periods=1).to_numpy()  # pandas: pairwise complete
    expected = lmg_batch(correlation[None])[0]
    got = result.table.set_index("item").loc[items, "importance"].to_numpy()
    np.testing.assert_allclose(got, expected, atol=1e-10)
    assert result.missing == "pairwise" and "pairwise" in result.missing_note


def test_spearman_matches_scipy_on_the_rows_used(seeded):
    result = drivers(seeded, "nps", ITEMS[:3], definition=RESTAURANT, n_boot=0)
    complete = seeded[["nps", *ITEMS[:3]]].dropna().astype(float)
    for item in ITEMS[:3]:
        expected = stats.spearmanr(complete[item], complete["nps"]).statistic
        got = result.table.set_index("item").loc[item, "spearman_r"]
        assert got == pytest.approx(expected, abs=1e-12)


def test_bootstrap_intervals_bracket_the_estimates(seeded):
    table = drivers(seeded, "nps", ITEMS, definition=RESTAURANT, n_boot=200, seed=1).table
    assert (table["importance_ci_low"] <= table["importance"] + 1e-12).all()
    assert (table["importance"] <= table["importance_ci_high"] + 1e-12).all()
    assert (table["importance_ci_high"] - table["importance_ci_low"] > 0).all()


def test_planted_strong_drivers_outrank_the_rest_in_all_20_seeds():
    for seed in range(20):
        frame = generate_responses(RESTAURANT, 1500, seed=seed)
        plan = plan_drivers(RESTAURANT, seed=seed)
        table = drivers(frame, plan.outcome, ITEMS, definition=RESTAURANT,
                        n_boot=0).table.set_index("item")
        weakest_strong = table.loc[list(plan.strong), "importance"].min()
        strongest_other = table.drop(index=list(plan.strong))["importance"].max()
        assert weakest_strong > strongest_other, f"seed {seed}"
        # The strongest driver is planted to perform worst: it must come out "fix first".
        assert table.loc[plan.strong[0], "quadrant"] == "fix first", f"seed {seed}"
        assert table.loc[plan.strong[0], "priority_rank"] == 1, f"seed {seed}"


def test_collinear_items_raise_a_vif_warning():
    rng = np.random.default_rng(0)
    base = rng.integers(1, 6, 400)
    frame = pd.DataFrame({
        "a": base, "a_again": np.clip(base + (rng.random(400) < 0.05), 1, 5),
        "b": rng.integers(1, 6, 400),
    })
    frame["nps"] = np.clip(frame["a"] + frame["b"] + rng.integers(0, 2, 400), 0, 10)
    result = drivers(frame, "nps", ["a", "a_again", "b"], scale=(1, 5), n_boot=0)
    assert any("VIF" in warning for warning in result.warnings)
    assert result.table.set_index("item").loc["a", "vif"] > 5


def test_small_n_and_constant_item_are_reported_not_crashing():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"x": rng.integers(1, 6, 20), "same": 3, "y": rng.integers(1, 6, 20)})
    frame["nps"] = np.clip(2 * frame["x"] + rng.integers(0, 2, 20), 0, 10)
    result = drivers(frame, "nps", ["x", "same", "y"], scale=(1, 5), n_boot=50)
    table = result.table.set_index("item")
    assert table.loc["same", "importance"] == 0.0
    assert "constant" in table.loc["same", "note"]
    assert any("unstable" in warning for warning in result.warnings)
    assert np.isfinite(table.loc["x", "importance"])


def test_too_few_answers_and_constant_outcome_give_nan_with_a_reason():
    frame = pd.DataFrame({"nps": [9, 3], "x": [5, 1], "y": [4, 2]})
    result = drivers(frame, "nps", ["x", "y"], scale=(1, 5))
    assert result.table["importance"].isna().all()
    assert any("too few usable responses" in w for w in result.warnings)
    flat = pd.DataFrame({"nps": [8] * 30, "x": list(range(1, 6)) * 6, "y": [1, 2] * 15})
    result = drivers(flat, "nps", ["x", "y"], scale=(1, 5))
    assert result.table["importance"].isna().all()
    assert any("outcome is constant" in w for w in result.warnings)


def test_missing_answers_are_dropped_listwise_and_counted(seeded):
    result = drivers(seeded, "nps", ITEMS, definition=RESTAURANT, n_boot=0)
    assert result.n == len(seeded[["nps", *ITEMS]].dropna())
    assert result.n < len(seeded)
    assert result.missing_note.startswith("listwise")


def test_there_is_no_default_scale_and_answers_off_the_scale_are_rejected(seeded):
    frame = seeded[["nps", *ITEMS[:3]]].dropna().copy()
    with pytest.raises(CxlabError, match="give the items' answer scale"):
        drivers(frame, "nps", ITEMS[:3])
    frame.loc[frame.index[0], ITEMS[1]] = 9  # a 1–10 answer on a 1–5 item
    with pytest.raises(CxlabError, match=f"{ITEMS[1]}.*outside its scale 1–5 \\(9\\)"):
        drivers(frame, "nps", ITEMS[:3], definition=RESTAURANT)


def test_each_item_is_scaled_on_its_own_scale():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"five": rng.integers(1, 6, 300), "ten": rng.integers(1, 11, 300)})
    frame["nps"] = np.clip(frame["five"] + frame["ten"] // 2 + rng.integers(0, 2, 300), 0, 10)
    result = drivers(frame, "nps", ["five", "ten"], scale={"five": (1, 5), "ten": (1, 10)},
                     n_boot=0)
    table = result.table.set_index("item")
    assert table.loc["ten", "performance_scaled"] == pytest.approx(
        (frame["ten"].mean() - 1) / 9)
    assert table.loc["five", "performance_scaled"] == pytest.approx(
        (frame["five"].mean() - 1) / 4)
    assert (table["priority"] >= 0).all()
    assert table.loc["ten", "top2_share"] == pytest.approx((frame["ten"] >= 9).mean())


def test_an_item_that_goes_against_the_outcome_is_flagged_never_fix_first(seeded):
    frame = seeded[["nps", *ITEMS]].dropna().copy()
    rng = np.random.default_rng(8)
    # "Problems experienced": more problems with lower scores, performing poorly.
    frame["problems"] = np.clip(np.round(6 - frame["nps"] / 2.5 + rng.normal(0, 1, len(frame))),
                                1, 5).astype(int)
    scales = {**{item: (1, 5) for item in ITEMS}, "problems": (1, 5)}
    result = drivers(frame, "nps", [*ITEMS, "problems"], scale=scales, n_boot=0)
    row = result.table.set_index("item").loc["problems"]
    assert row.spearman_r < -0.3
    assert row.quadrant == "check direction"
    assert np.isnan(row.priority) and pd.isna(row.priority_rank)
    assert "higher rating goes with lower nps" in row.note and "reverse it" in row.note
    assert any("problems" in w and "check the wording" in w for w in result.warnings)
    negative = result.table[result.table["spearman_r"] < 0]
    assert (negative["quadrant"] != "fix first").all()


def test_one_response_is_too_few_not_a_constant_outcome_and_every_nan_has_a_reason():
    frame = pd.DataFrame({"nps": [9], "x": [5], "y": [4]})
    result = drivers(frame, "nps", ["x", "y"], scale=(1, 5))
    assert result.table["importance"].isna().all()
    assert any("too few usable responses" in w for w in result.warnings)
    assert not any("constant" in w for w in result.warnings)
    for note in result.table["note"]:
        assert note.startswith("no importance: too few usable responses to fit (n = 1;")


def test_an_item_nobody_answered_is_left_out_and_the_others_still_get_importances(seeded):
    frame = seeded[["nps", *ITEMS[:3]]].copy()
    frame["never"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    result = drivers(frame, "nps", [*ITEMS[:3], "never"], scale=(1, 5), n_boot=20)
    table = result.table.set_index("item")
    assert np.isnan(table.loc["never", "importance"])
    assert table.loc["never", "note"] == "nobody answered this item: no importance"
    assert np.isfinite(table.loc[ITEMS[:3], "importance"]).all()
    expected = drivers(frame, "nps", ITEMS[:3], scale=(1, 5), n_boot=0)
    assert result.r2 == pytest.approx(expected.r2, abs=1e-12)
    assert any("nobody answered never" in w for w in result.warnings)


def test_pairwise_items_without_common_answers_are_warned_about():
    rng = np.random.default_rng(4)
    n = 400
    frame = pd.DataFrame({"a": rng.integers(1, 6, n).astype(float),
                          "b": rng.integers(1, 6, n).astype(float),
                          "c": rng.integers(1, 6, n).astype(float)})
    frame["nps"] = np.clip(frame["a"] + frame["b"] + frame["c"] - 3, 0, 10)
    frame.loc[: n // 2, "a"] = np.nan  # a only in the second half,
    frame.loc[n // 2 :, "b"] = np.nan  # b only in the first: never together
    result = drivers(frame, "nps", ["a", "b", "c"], scale=(1, 5), missing="pairwise", n_boot=0)
    assert any("fewer than 3 responses in common" in w and "a & b" in w
               for w in result.warnings)
    table = result.table.set_index("item")
    assert "answered both this and b" in table.loc["a", "note"]
    assert "answered both this and a" in table.loc["b", "note"]
    assert "in common" not in table.loc["c", "note"]
