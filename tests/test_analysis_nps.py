"""cxlab.analysis.nps against a direct bootstrap, a coverage simulation and edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cxlab.analysis import nps, nps_by, nps_from_counts
from cxlab.errors import CxlabError
from cxlab.seed import generate_responses
from cxlab.surveys import EXAMPLES_DIR, load_definition


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


def test_all_promoters_gives_100_with_a_flagged_zero_width_interval():
    row = nps([9, 10, 10, 9]).iloc[0]
    assert (row.nps, row.ci_low, row.ci_high) == (100.0, 100.0, 100.0)
    assert "interval understated" in row.note


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
