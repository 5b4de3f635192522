"""Synthetic data: deterministic, and carrying the driver structure it claims to plant."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from cxlab.seed import generate_responses, plan_drivers
from cxlab.surveys import EXAMPLES_DIR, load_definition, validate_answers
from scipy import stats


@pytest.fixture(scope="module")
def visit():
    return load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")


@pytest.fixture(scope="module")
def engagement():
    return load_definition(EXAMPLES_DIR / "employee_engagement.yaml")


def test_same_seed_same_data_other_seed_other_data(visit):
    end = datetime(2026, 11, 1, tzinfo=UTC)
    first = generate_responses(visit, 2000, seed=11, end=end)
    again = generate_responses(visit, 2000, seed=11, end=end)
    other = generate_responses(visit, 2000, seed=12, end=end)
    pd.testing.assert_frame_equal(first, again)
    assert not first["nps"].equals(other["nps"])


def test_generated_answers_pass_the_definitions_own_validation(visit, engagement):
    for definition in (visit, engagement):
        frame = generate_responses(definition, 300, seed=1)
        for record in frame.drop(columns=["submitted_at"]).to_dict("records"):
            answers = {
                q.id: (int(record[q.id]) if q.type in ("nps", "rating") else record[q.id])
                for q in definition.questions
                if record[q.id] is not None and record[q.id] is not pd.NA
                and record[q.id] == record[q.id]
            }
            assert validate_answers(definition, answers)[1] == {}


def test_planted_strong_drivers_are_recovered_by_regression(visit):
    """Ordinary least squares on the items finds the planted strong drivers first."""
    plan = plan_drivers(visit, seed=5)
    frame = generate_responses(visit, 20_000, seed=5)
    items = list(plan.weights)
    complete = frame.dropna(subset=items)
    design = np.column_stack([np.ones(len(complete)), complete[items].to_numpy(float)])
    coefficients = np.linalg.lstsq(design, complete["nps"].to_numpy(float), rcond=None)[0][1:]
    ranked = [items[i] for i in np.argsort(-coefficients)]
    assert tuple(ranked[:3]) == plan.strong
    weak = [c for item, c in zip(items, coefficients, strict=True) if item not in plan.strong]
    strong = [c for item, c in zip(items, coefficients, strict=True) if item in plan.strong]
    assert min(strong) > 3 * max(weak)


def test_strong_drivers_correlate_with_nps_more_than_weak_ones(visit):
    plan = plan_drivers(visit, seed=0)
    frame = generate_responses(visit, 10_000, seed=0).dropna()
    rho = {item: stats.spearmanr(frame[item], frame["nps"]).statistic for item in plan.weights}
    weakest_strong = min(rho[item] for item in plan.strong)
    assert all(rho[item] < weakest_strong for item in plan.weights if item not in plan.strong)


def test_the_first_strong_driver_performs_worst_so_it_is_the_one_to_fix(visit):
    plan = plan_drivers(visit, seed=0)
    frame = generate_responses(visit, 5000, seed=0)
    means = frame[list(plan.weights)].astype(float).mean()
    assert means.idxmin() == plan.strong[0]


def test_multi_item_scales_are_reliable(engagement):
    frame = generate_responses(engagement, 3000, seed=2)
    items = [q.id for q in engagement.questions if q.group == "manager"]
    scores = frame[items].astype(float).to_numpy()
    covariance = np.cov(scores, rowvar=False)
    k = len(items)
    alpha = k / (k - 1) * (1 - np.trace(covariance) / covariance.sum())
    assert 0.7 < alpha < 0.95


def test_answers_end_now_by_default_so_every_recent_period_has_data(visit):
    before = datetime.now(UTC)
    frame = generate_responses(visit, 3000, seed=5)
    newest, oldest = frame["submitted_at"].max(), frame["submitted_at"].min()
    assert before - timedelta(days=1) < newest <= datetime.now(UTC)
    assert before - timedelta(days=91) < oldest < before - timedelta(days=85)
    assert (frame["submitted_at"] > before - timedelta(days=7)).sum() > 100


def test_segments_have_unequal_sizes_and_dates_stay_in_range(visit):
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    frame = generate_responses(visit, 5000, seed=3, start=start, end=end)
    counts = frame["store"].value_counts()
    assert counts.iloc[0] > 5 * counts.iloc[-1]
    assert frame["submitted_at"].is_monotonic_increasing
    assert frame["submitted_at"].min() >= start and frame["submitted_at"].max() <= end
    assert frame["low_score_reason"].notna().sum() > 0
    assert frame.loc[frame["nps"] > 6, "low_score_reason"].isna().all()
