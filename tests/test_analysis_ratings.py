"""cxlab.analysis.ratings, trend and text against direct computation."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from cxlab.analysis import comment_summary, nps, ratings, trend
from cxlab.seed import generate_responses
from cxlab.surveys import EXAMPLES_DIR, load_definition
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

RESTAURANT = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")


@pytest.fixture(scope="module")
def seeded() -> pd.DataFrame:
    return generate_responses(RESTAURANT, 1500, seed=6)


def test_ratings_match_scipy_intervals_and_counts(seeded):
    items = [q.id for q in RESTAURANT.questions_of_type("rating")][:3]
    table = ratings(seeded, items).set_index("item")
    for item in items:
        values = seeded[item].dropna().to_numpy(dtype=float)
        row = table.loc[item]
        assert row.n == values.size and row.missing == len(seeded) - values.size
        low, high = stats.t.interval(0.95, values.size - 1, values.mean(), stats.sem(values))
        assert (row.ci_low, row.ci_high) == pytest.approx((low, high), rel=1e-12)
        top = int((values >= 4).sum())
        assert row.top2_share == pytest.approx(top / values.size)
        wilson = proportion_confint(top, values.size, method="wilson")
        assert (row.top2_ci_low, row.top2_ci_high) == pytest.approx(wilson, rel=1e-10)
        shares = [row[f"share_{p}"] for p in range(1, 6)]
        assert sum(shares) == pytest.approx(1.0)


def test_ratings_edge_cases_are_noted():
    frame = pd.DataFrame({"none": pd.array([None, None], dtype="Int64"),
                          "one": pd.array([4, None], dtype="Int64"), "flat": [3, 3]})
    table = ratings(frame, ["none", "one", "flat"]).set_index("item")
    assert table.loc["none", "note"] == "no answers" and np.isnan(table.loc["none", "mean"])
    assert table.loc["one", "mean"] == 4 and np.isnan(table.loc["one", "ci_low"])
    assert table.loc["flat", "sd"] == 0 and "sd 0" in table.loc["flat", "note"]


def test_trend_nps_per_week_and_change_test(seeded):
    table = trend(seeded, "nps", "W")
    assert table["n"].sum() == seeded["nps"].notna().sum()
    week = seeded["submitted_at"].dt.tz_localize(None).dt.to_period("W").dt.start_time
    second = table.iloc[1]
    expected = nps(seeded.loc[week == second.period, "nps"]).iloc[0]
    assert second.value == pytest.approx(expected.nps)
    first = nps(seeded.loc[week == table.iloc[0].period, "nps"]).iloc[0]
    z = (expected.nps - first.nps) / np.hypot(expected.se, first.se)
    assert second.p_change == pytest.approx(2 * stats.norm.sf(abs(z)))


def test_trend_mean_uses_welch_and_marks_empty_periods():
    frame = pd.DataFrame({
        "submitted_at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03",
                                        "2026-03-01", "2026-03-02", "2026-03-03"], utc=True),
        "score": [1, 2, 3, 4, 5, 5],
    })
    table = trend(frame, "score", "M", statistic="mean")
    assert table["n"].tolist() == [3, 0, 3]
    assert table.loc[1, "note"] == "no answers" and np.isnan(table.loc[2, "p_change"])
    direct = trend(frame[frame["submitted_at"].dt.month != 2], "score", "M", statistic="mean")
    assert len(direct) == 3


def test_trend_all_promoters_then_all_detractors_is_tested_exactly_and_flagged():
    frame = pd.DataFrame({
        "submitted_at": pd.to_datetime(["2026-01-05"] * 8 + ["2026-01-12"] * 8, utc=True),
        "nps": [10] * 8 + [2] * 8,
    })
    table = trend(frame, "nps", "W")
    # Only this split and its mirror are as extreme: p = 2 / C(16, 8).
    assert table.loc[1, "p_change"] == pytest.approx(2 / 12870, rel=1e-9)
    assert bool(table.loc[1, "significant_change"])
    assert "tested exactly" in table.loc[1, "note"]


def test_exact_nps_change_p_equals_a_brute_force_permutation_test():
    before = [10, 10, 10, 7, 3]  # 3 promoters, 1 passive, 1 detractor
    after = [0, 2, 4, 6]  # all detractors: SE 0
    frame = pd.DataFrame({
        "submitted_at": pd.to_datetime(["2026-01-05"] * 5 + ["2026-01-12"] * 4, utc=True),
        "nps": before + after,
    })
    pooled = np.array(before + after)

    def nps_of(values):
        return 100 * (np.mean(values >= 9) - np.mean(values <= 6))

    observed = abs(nps_of(np.array(after)) - nps_of(np.array(before)))
    splits = list(itertools.combinations(range(9), 5))
    extreme = 0
    for chosen in splits:
        rest = [k for k in range(9) if k not in chosen]
        extreme += abs(nps_of(pooled[rest]) - nps_of(pooled[list(chosen)])) >= observed - 1e-9
    table = trend(frame, "nps", "W")
    assert table.loc[1, "p_change"] == pytest.approx(extreme / len(splits), rel=1e-9)


def test_trend_mean_without_spread_in_either_period_says_not_tested():
    frame = pd.DataFrame({
        "submitted_at": pd.to_datetime(["2026-01-01"] * 3 + ["2026-02-01"] * 3, utc=True),
        "score": [2, 2, 2, 5, 5, 5],
    })
    table = trend(frame, "score", "M", statistic="mean")
    assert np.isnan(table.loc[1, "p_change"])
    assert "not tested: neither period has any spread" in table.loc[1, "note"]


def test_trend_welch_p_value_matches_scipy():
    frame = pd.DataFrame({
        "submitted_at": pd.to_datetime(["2026-01-01"] * 4 + ["2026-02-01"] * 5, utc=True),
        "score": [1, 2, 3, 3, 4, 5, 5, 4, 3],
    })
    table = trend(frame, "score", "M", statistic="mean")
    expected = stats.ttest_ind([4, 5, 5, 4, 3], [1, 2, 3, 3], equal_var=False)
    assert table.loc[1, "p_change"] == pytest.approx(expected.pvalue, rel=1e-10)


def test_text_counts_lengths_and_japanese_terms(seeded):
    summary = comment_summary(seeded, "comment", by="store")
    comments = seeded["comment"].dropna()
    assert summary.counts["comments"].sum() == len(comments)
    assert summary.counts["responses"].sum() == len(seeded)
    assert set(summary.comments["language"]) == {"ja", "en"}
    terms = set(summary.terms["term"])
    assert {"料理", "staff"} <= terms
    first = summary.comments.iloc[0]
    assert first.length == len(seeded.loc[first.row, "comment"])


def test_text_without_comments_is_defined():
    summary = comment_summary(pd.DataFrame({"comment": [None, "  "]}), "comment")
    assert summary.counts.loc[0, "comments"] == 0
    assert np.isnan(summary.counts.loc[0, "mean_length"])
    assert summary.terms.empty and summary.comments.empty
