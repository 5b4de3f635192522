"""cxlab.analysis.nps against a direct bootstrap, a coverage simulation and edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cxlab.analysis import nps, nps_by, nps_from_counts
from cxlab.errors import CxlabError
from cxlab.seed import generate_responses
from cxlab.surveys import EXAMPLES_DIR, load_definition
from scipy.special import gammaln


def test_shares_and_score_follow_the_definition():
    scores = pd.Series([10, 9, 8, 7, 6, 0, 5, 10, 9, 3], dtype="Int64")
    row = nps(scores).iloc[0]
    assert (row.promoters, row.passives, row.detractors, row.n) == (4, 2, 4, 10)
    assert row.nps == pytest.approx(0.0)
    assert row.promoter_share + row.passive_share + row.detractor_share == pytest.approx(1.0)


def test_variance_formula_matches_a_direct_bootstrap_of_the_answers():
    rng = np.random.default_rng(11)
    answers = rng.choice(11, size=400, p=np.r_[np.full(7, 0.03), 0.12, 0.17, 0.25, 0.25])
    row = nps(answers).iloc[0]
    resamples = rng.choice(answers, size=(4000, answers.size), replace=True)
    boot = 100 * ((resamples >= 9).mean(axis=1) - (resamples <= 6).mean(axis=1))
    assert row.se == pytest.approx(boot.std(ddof=1), rel=0.05)
    assert row.nps == pytest.approx(boot.mean(), abs=0.5)


def test_bootstrap_method_agrees_with_the_normal_interval():
    answers = np.random.default_rng(3).choice([2, 7, 9, 10], size=500, p=[0.2, 0.3, 0.3, 0.2])
    normal = nps(answers).iloc[0]
    boot = nps(answers, method="bootstrap", n_boot=4000, seed=1).iloc[0]
    assert boot.ci_low == pytest.approx(normal.ci_low, abs=1.0)
    assert boot.ci_high == pytest.approx(normal.ci_high, abs=1.0)


def test_95_percent_intervals_cover_the_true_nps_93_to_97_percent_of_the_time():
    true_shares = np.array([0.45, 0.30, 0.25])  # promoters, passives, detractors
    true_nps = 100 * (true_shares[0] - true_shares[2])
    draws = np.random.default_rng(2026).multinomial(300, true_shares, size=2000)
    counts = pd.DataFrame({"promoters": draws[:, 0], "detractors": draws[:, 2], "n": 300})
    table = nps_from_counts(counts, ci=0.95)
    covered = ((table["ci_low"] <= true_nps) & (true_nps <= table["ci_high"])).mean()
    assert 0.93 <= covered <= 0.97


def test_by_segment_equals_nps_of_each_segment_and_lists_empty_segments():
    frame = pd.DataFrame({
        "store": ["a"] * 5 + ["b"] * 3,
        "nps": pd.array([10, 9, 4, None, 8, 10, 10, 10], dtype="Int64"),
    })
    table = nps_by(frame, by="store", segments=["a", "b", "empty"])
    assert table["store"].tolist() == ["a", "b", "empty"]
    for store in ("a", "b"):
        expected = nps(frame.loc[frame["store"] == store, "nps"]).iloc[0]
        got = table.loc[table["store"] == store].iloc[0]
        assert got.nps == pytest.approx(expected.nps)
        assert got.ci_low == pytest.approx(expected.ci_low)
        assert got.missing == expected.missing
    empty = table.loc[table["store"] == "empty"].iloc[0]
    assert empty.n == 0 and np.isnan(empty.nps) and empty.note == "no answers"
    assert not empty.enough_answers


def test_by_period_and_segment_on_seeded_data():
    definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    frame = generate_responses(definition, 3000, seed=5)
    table = nps_by(frame, by="store", freq="M")
    assert table["n"].sum() == frame["nps"].notna().sum()
    assert list(table.columns[:2]) == ["period", "store"]
    small = table.loc[table["store"] == "sapporo-08"]
    assert (~small["enough_answers"]).any()  # the small store is flagged, not hidden


def test_enps_on_the_employee_survey():
    definition = load_definition(EXAMPLES_DIR / "employee_engagement.yaml")
    frame = generate_responses(definition, 800, seed=2)
    table = nps_by(frame, "enps", by="department")
    assert table["n"].sum() == 800
    assert table["nps"].between(-100, 100).all()


def test_all_promoters_gives_100_with_a_flagged_zero_width_normal_interval():
    row = nps([9, 10, 10, 9], method="normal").iloc[0]
    assert (row.nps, row.ci_low, row.ci_high) == (100.0, 100.0, 100.0)
    assert "interval understated" in row.note


def test_all_promoters_gets_an_adjusted_interval_with_a_width():
    row = nps([9, 10, 10, 9]).iloc[0]
    assert row.nps == 100.0 and row.ci_high == 100.0
    # Rocks (2016): (4.75 − 0.75)/7 = 57.1 centre, z·√((5.5/7 − (4/7)²)/7) = 0.344 half.
    assert row.ci_low == pytest.approx(100 * (4 / 7 - 1.959964 * np.sqrt(
        (5.5 / 7 - (4 / 7) ** 2) / 7)), abs=1e-6)
    assert "understated" not in row.note


def exact_coverage(method: str, true_nps: float, n: int) -> float:
    """P(interval holds the true NPS), summed exactly over every multinomial outcome of
    n answers. Passives are 20 % of answers, fewer where the NPS leaves no room."""
    v = true_nps / 100
    passive = min(0.2, (1 - abs(v)) / 2)
    p_promoter, p_detractor = (1 - passive + v) / 2, (1 - passive - v) / 2
    promoters, detractors = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    possible = promoters + detractors <= n
    promoters, detractors = promoters[possible], detractors[possible]
    passives = n - promoters - detractors
    log_p = (gammaln(n + 1) - gammaln(promoters + 1) - gammaln(detractors + 1)
             - gammaln(passives + 1) + promoters * np.log(p_promoter)
             + detractors * np.log(p_detractor) + passives * np.log(passive))
    table = nps_from_counts(pd.DataFrame({"promoters": promoters, "detractors": detractors,
                                          "n": n}), method=method)
    holds = (table["ci_low"] <= true_nps) & (true_nps <= table["ci_high"])
    return float(np.exp(log_p)[holds.to_numpy()].sum())


GRID_NPS = (-50, -20, 0, 20, 50, 80, 90, 95)
GRID_N = (30, 100, 300, 1000)


def test_adjusted_interval_covers_93_to_97_percent_over_the_grid_of_true_nps_and_n():
    coverage = {(v, n): exact_coverage("adjusted", v, n) for v in GRID_NPS for n in GRID_N}
    low = {cell: c for cell, c in coverage.items() if c < 0.93}
    assert not low, f"under-covers: {low}"
    # At NPS ≥ 90 with few answers the discrete counts make it conservative (up to
    # 97.4 % at NPS 95, n = 50; Rocks 2016, table 3): wider, never narrower, than asked.
    high = {cell: c for cell, c in coverage.items()
            if c > (0.975 if cell[0] >= 90 else 0.97)}
    assert not high, f"over-covers: {high}"


def test_plain_wald_interval_under_covers_at_extreme_nps_which_is_why_it_is_not_default():
    assert exact_coverage("normal", 95, 30) < 0.75
    assert exact_coverage("normal", 80, 100) < 0.93


def test_adjusted_interval_never_has_zero_width_at_n_10():
    draws = np.random.default_rng(7).multinomial(10, [0.9, 0.08, 0.02], size=2000)
    table = nps_from_counts(pd.DataFrame({"promoters": draws[:, 0],
                                          "detractors": draws[:, 2], "n": 10}))
    assert (table["ci_high"] - table["ci_low"] > 5).all()
    normal = nps_from_counts(pd.DataFrame({"promoters": draws[:, 0],
                                           "detractors": draws[:, 2], "n": 10}),
                             method="normal")
    assert (normal["ci_high"] == normal["ci_low"]).mean() > 0.3  # the old behaviour


def test_single_answer_and_no_answers_are_defined():
    one = nps([3]).iloc[0]
    assert one.n == 1 and one.nps == -100.0 and not one.enough_answers
    none = nps(pd.Series([None, None], dtype="Int64")).iloc[0]
    assert none.n == 0 and none.missing == 2 and np.isnan(none.nps)
    assert none.note == "no answers"
    boot = nps([], method="bootstrap").iloc[0]
    assert np.isnan(boot.ci_low)


def test_out_of_range_scores_are_rejected():
    with pytest.raises(CxlabError, match="0–10"):
        nps([11, 5])


@pytest.mark.parametrize("fraction", [9.5, 6.5])
def test_fractional_scores_are_rejected_with_the_value(fraction):
    with pytest.raises(CxlabError, match=f"whole numbers.*{fraction}"):
        nps([10, fraction, 3])
    frame = pd.DataFrame({"store": ["a", "b"], "nps": [fraction, 10.0]})
    with pytest.raises(CxlabError, match="whole numbers"):
        nps_by(frame, by="store")
