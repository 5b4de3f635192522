"""cxlab.analysis.compare_segments and response_rate against scipy, statsmodels, pingouin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from cxlab.analysis import compare_segments, response_rate
from cxlab.seed import generate_responses
from cxlab.surveys import EXAMPLES_DIR, load_definition
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

RESTAURANT = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")


@pytest.fixture(scope="module")
def seeded() -> pd.DataFrame:
    return generate_responses(RESTAURANT, 2500, seed=8)


def groups_of(frame: pd.DataFrame, value: str, tested: list[str]) -> dict[str, np.ndarray]:
    return {name: frame.loc[frame["store"] == name, value].dropna().to_numpy(dtype=float)
            for name in tested}


def ok_segments(result) -> list[str]:
    return result.segments.loc[result.segments["status"] == "ok", "segment"].tolist()


def test_welch_anova_and_pairwise_welch_t_match_scipy_and_pingouin(seeded):
    result = compare_segments(seeded, "nps", "store", method="welch")
    groups = groups_of(seeded, "nps", ok_segments(result))
    expected = stats.f_oneway(*groups.values(), equal_var=False)
    assert result.test.loc[0, "statistic"] == pytest.approx(expected.statistic, rel=1e-10)
    assert result.test.loc[0, "p"] == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-300)
    for row in result.pairwise.itertuples():
        a, b = groups[row.segment_a], groups[row.segment_b]
        reference = stats.ttest_ind(a, b, equal_var=False)
        assert row.statistic == pytest.approx(reference.statistic, rel=1e-10)
        assert row.p_unc == pytest.approx(reference.pvalue, rel=1e-8)
        assert row.effect_size == pytest.approx(pg.compute_effsize(a, b, eftype="hedges"),
                                                rel=1e-3)
    reference_holm = multipletests(result.pairwise["p_unc"], method="holm")[1]
    np.testing.assert_allclose(result.pairwise["p_holm"], reference_holm, rtol=1e-12)


def test_kruskal_and_pairwise_mann_whitney_match_scipy(seeded):
    result = compare_segments(seeded, "wait_time", "store", method="kruskal")
    groups = groups_of(seeded, "wait_time", ok_segments(result))
    expected = stats.kruskal(*groups.values())
    assert result.test.loc[0, "statistic"] == pytest.approx(expected.statistic, rel=1e-10)
    assert result.test.loc[0, "p"] == pytest.approx(expected.pvalue, rel=1e-6)
    for row in result.pairwise.itertuples():
        a, b = groups[row.segment_a], groups[row.segment_b]
        reference = stats.mannwhitneyu(a, b, method="asymptotic")
        assert row.statistic == pytest.approx(reference.statistic, rel=1e-12)
        assert row.p_unc == pytest.approx(reference.pvalue, rel=1e-8)
        assert row.effect_size == pytest.approx(2 * reference.statistic / (a.size * b.size) - 1)


def test_effect_sizes_carry_their_right_names():
    rng = np.random.default_rng(12)
    frame = pd.DataFrame({"store": np.repeat(["a", "b", "c"], 60),
                          "score": np.r_[rng.normal(5, 1, 60), rng.normal(5.5, 1.2, 60),
                                         rng.normal(6, 0.9, 60)]})
    welch = compare_segments(frame, "score", "store", method="welch").test.iloc[0]
    reference = pg.welch_anova(data=frame, dv="score", between="store")
    assert welch.effect_size_name == "eta_squared"
    assert welch.effect_size == pytest.approx(reference["np2"].iloc[0], abs=1e-3)
    kruskal = compare_segments(frame, "score", "store", method="kruskal").test.iloc[0]
    h = stats.kruskal(*[g["score"] for _, g in frame.groupby("store")]).statistic
    assert kruskal.effect_size_name == "eta_squared_h"
    assert kruskal.effect_size == pytest.approx((h - 3 + 1) / (180 - 3), rel=1e-10)


def test_mann_whitney_on_continuous_values_goes_pair_by_pair_and_matches_scipy():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"store": np.repeat(["a", "b", "c"], 2100),
                          "value": rng.exponential(size=6300)})
    result = compare_segments(frame, "value", "store")
    assert result.test.loc[0, "test"] == "kruskal_wallis"  # skewed data
    a = frame.loc[frame["store"] == "a", "value"]
    b = frame.loc[frame["store"] == "b", "value"]
    reference = stats.mannwhitneyu(a, b, method="asymptotic")
    assert result.pairwise.loc[0, "p_unc"] == pytest.approx(reference.pvalue, rel=1e-8)


def test_chi_square_for_categorical_answers_matches_scipy(seeded):
    result = compare_segments(seeded, "visit_purpose", "store")
    tested = ok_segments(result)
    subset = seeded[seeded["store"].isin(tested)]
    table = pd.crosstab(subset["store"], subset["visit_purpose"])
    chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
    assert result.test.loc[0, "test"] == "chi_square"
    assert result.test.loc[0, "statistic"] == pytest.approx(chi2, rel=1e-10)
    assert result.test.loc[0, "p"] == pytest.approx(p, rel=1e-8)
    first = result.pairwise.iloc[0]
    pair = table.loc[[first.segment_a, first.segment_b]]
    pair = pair.loc[:, pair.sum() > 0]
    pair_chi2, pair_p, _, _ = stats.chi2_contingency(pair, correction=False)
    assert first.statistic == pytest.approx(pair_chi2, rel=1e-10)
    assert first.p_unc == pytest.approx(pair_p, rel=1e-8)


def test_auto_choice_is_stated_and_small_segments_are_never_tested(seeded):
    result = compare_segments(seeded, "nps", "store", segments=["closed-99"])
    assert result.test.loc[0, "test"] in {"welch_anova", "kruskal_wallis"}
    assert result.test.loc[0, "reason"]
    status = result.segments.set_index("segment")["status"]
    assert status["sapporo-08"] == "too few answers"
    assert status["closed-99"] == "no answers"
    shown = set(result.pairwise["segment_a"]) | set(result.pairwise["segment_b"])
    assert "sapporo-08" not in shown and "closed-99" not in shown


def test_fewer_than_two_tested_segments_and_no_spread_give_no_test():
    one = pd.DataFrame({"store": ["a"] * 40 + ["b"] * 3, "score": list(range(40)) + [1, 2, 3]})
    result = compare_segments(one, "score", "store")
    assert result.test.loc[0, "test"] == "none" and np.isnan(result.test.loc[0, "p"])
    assert result.pairwise.empty
    flat = pd.DataFrame({"store": ["a"] * 40 + ["b"] * 40, "score": 7})
    result = compare_segments(flat, "score", "store")
    assert result.test.loc[0, "test"] == "none" and "spread" in result.test.loc[0, "reason"]


def test_one_constant_segment_switches_to_kruskal():
    frame = pd.DataFrame({"store": ["a"] * 40 + ["b"] * 40,
                          "score": [10] * 40 + [5, 6, 7, 8] * 10})
    result = compare_segments(frame, "score", "store")
    assert result.test.loc[0, "test"] == "kruskal_wallis"
    assert bool(result.pairwise.loc[0, "significant"])


def test_response_rate_by_segment_with_wilson_interval():
    sent = pd.DataFrame({"invitation_id": range(10), "dept": ["a"] * 6 + ["b"] * 4})
    back = pd.DataFrame({"invitation_id": [0, 1, 2, 2, 7, 99]})
    table = response_rate(sent, back, by="dept").set_index("dept")
    assert table.loc["a", ["sent", "responded"]].tolist() == [6, 3]
    assert table.loc["b", "rate"] == pytest.approx(0.25)
    expected = proportion_confint(3, 6, alpha=0.05, method="wilson")
    assert (table.loc["a", "ci_low"], table.loc["a", "ci_high"]) == pytest.approx(expected)
    overall = response_rate(sent, back)
    assert overall.loc[0, "rate"] == pytest.approx(0.4)
