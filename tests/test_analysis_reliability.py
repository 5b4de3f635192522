"""cxlab.analysis.reliability against the textbook formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cxlab.analysis import reliability
from cxlab.seed import generate_responses
from cxlab.surveys import EXAMPLES_DIR, load_definition
from scipy import stats

ENGAGEMENT = load_definition(EXAMPLES_DIR / "employee_engagement.yaml")


def textbook_alpha(data: np.ndarray) -> float:
    k = data.shape[1]
    return k / (k - 1) * (1 - data.var(axis=0, ddof=1).sum() / data.sum(axis=1).var(ddof=1))


def feldt_interval(alpha: float, n: int, k: int, ci: float) -> tuple[float, float]:
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lower = 1 - (1 - alpha) * stats.f.ppf(0.5 + ci / 2, df1, df2)
    upper = 1 - (1 - alpha) * stats.f.ppf(0.5 - ci / 2, df1, df2)
    return lower, upper


@pytest.fixture(scope="module")
def engagement() -> tuple[pd.DataFrame, list[str]]:
    frame = generate_responses(ENGAGEMENT, 500, seed=3)
    items = [q.id for q in ENGAGEMENT.questions_of_type("rating") if q.group == "engagement"]
    return frame, items


def test_alpha_and_interval_match_cronbach_and_feldt(engagement):
    frame, items = engagement
    result = reliability(frame, items)
    data = frame[items].dropna().to_numpy(dtype=float)
    assert result.alpha == pytest.approx(textbook_alpha(data), abs=1e-12)
    low, high = feldt_interval(result.alpha, len(data), len(items), 0.95)
    assert result.ci_low == pytest.approx(low, abs=5e-4)  # pingouin rounds to 3 decimals
    assert result.ci_high == pytest.approx(high, abs=5e-4)
    assert result.alpha > 0.6  # the seed gives every scale a shared group factor


def test_item_total_and_alpha_if_deleted_match_direct_computation(engagement):
    frame, items = engagement
    table = reliability(frame, items).items.set_index("item")
    data = frame[items].dropna().to_numpy(dtype=float)
    for j, item in enumerate(items):
        rest = np.delete(data, j, axis=1)
        expected_r = np.corrcoef(data[:, j], rest.sum(axis=1))[0, 1]
        assert table.loc[item, "item_total_r"] == pytest.approx(expected_r, abs=1e-12)
        assert table.loc[item, "alpha_if_deleted"] == pytest.approx(textbook_alpha(rest),
                                                                    abs=1e-12)


def test_missing_answers_are_dropped_listwise():
    frame = pd.DataFrame({"a": [1, 2, 3, 4, None, 5], "b": [2, 2, 4, 4, 1, 5],
                          "c": [1, 3, 3, 5, 2, None]})
    result = reliability(frame, ["a", "b", "c"])
    assert result.n == 4
    assert result.alpha == pytest.approx(textbook_alpha(frame.dropna().to_numpy(float)))


def test_constant_item_single_response_and_no_variance_are_defined():
    frame = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 3, 3, 5], "flat": [3, 3, 3, 3]})
    result = reliability(frame, ["a", "b", "flat"])
    assert np.isfinite(result.alpha)
    flat = result.items.set_index("item").loc["flat"]
    assert np.isnan(flat.item_total_r) and "constant" in flat.note
    one = reliability(frame.iloc[:1], ["a", "b"])
    assert np.isnan(one.alpha) and "fewer than two" in one.note
    none = reliability(pd.DataFrame({"a": [2, 2], "b": [4, 4]}), ["a", "b"])
    assert np.isnan(none.alpha) and "no item varies" in none.note


def test_negative_alpha_keeps_its_value_with_a_reverse_coding_note():
    rng = np.random.default_rng(2)
    a = rng.integers(1, 6, 200)
    frame = pd.DataFrame({"a": a, "b": np.clip(a + rng.integers(-1, 2, 200), 1, 5),
                          "reversed": np.clip(7 - a + rng.integers(-1, 2, 200), 1, 5)})
    result = reliability(frame, ["a", "b", "reversed"])
    assert result.alpha < 0
    assert result.alpha == pytest.approx(textbook_alpha(frame.to_numpy(float)), abs=1e-9)
    assert "alpha is negative" in result.note and "reverse-coded items?" in result.note


def test_items_that_cancel_out_give_nan_alpha_with_a_note_not_minus_infinity():
    frame = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [5, 4, 3, 2, 1]})
    result = reliability(frame, ["a", "b"])
    assert np.isnan(result.alpha) and np.isnan(result.ci_low)
    assert "never varies" in result.note and "reverse-coded items?" in result.note
