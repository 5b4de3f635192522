"""cxlab.analysis.improvement_effect against statsmodels OLS and a planted asymmetric driver."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from cxlab.analysis import drivers, improvement_effect
from cxlab.errors import CxlabError
from cxlab.seed import generate_responses
from cxlab.surveys import EXAMPLES_DIR, load_definition

RESTAURANT = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
ITEMS = ["wait_time", "staff_friendliness", "food_quality", "cleanliness", "value_for_money"]
# Planted effects on the 0–10 recommendation of a low (1–2) and a high (5) rating.
ASYMMETRIC = "cleanliness"  # a dirty table hurts a lot; a spotless one adds little
PLANTED = {
    "cleanliness": (-4.0, 0.2),
    "wait_time": (-0.2, 0.6),  # rated low by half the customers (cxlab.seed), mild effect
    "staff_friendliness": (-0.5, 1.0),
    "food_quality": (-0.3, 2.5),  # a "delighter": high ratings help far more
    "value_for_money": (-0.4, 0.4),
}


def planted_frame(seed: int, count: int = 3000) -> pd.DataFrame:
    """Items as cxlab.seed generates them; the recommendation replanted from PLANTED."""
    frame = generate_responses(RESTAURANT, count, seed=seed)[["submitted_at", *ITEMS]]
    frame = frame.dropna().reset_index(drop=True)
    rng = np.random.default_rng([seed, 99])
    latent = 7.5 + rng.normal(0, 1.2, len(frame))
    for item, (low, high) in PLANTED.items():
        ratings = frame[item].to_numpy(dtype=float)
        latent += low * (ratings <= 2) + high * (ratings >= 5)
    frame["nps"] = np.clip(np.round(latent), 0, 10).astype(int)
    return frame


def reference_fit(frame: pd.DataFrame, items: list[str]):
    """The penalty–reward regression by statsmodels, on the NPS-scored outcome."""
    y = np.where(frame["nps"] >= 9, 100.0, np.where(frame["nps"] <= 6, -100.0, 0.0))
    x = pd.DataFrame({**{f"{i}_low": (frame[i] <= 2).astype(float) for i in items},
                      **{f"{i}_high": (frame[i] >= 5).astype(float) for i in items}})
    return sm.OLS(y, sm.add_constant(x)).fit(), x


def test_penalty_reward_and_what_if_equal_statsmodels():
    frame = planted_frame(1)
    result = improvement_effect(frame, "nps", ITEMS, definition=RESTAURANT, n_boot=0)
    model, x = reference_fit(frame, ITEMS)
    table = result.table.set_index("item")
    for item in ITEMS:
        assert table.loc[item, "penalty"] == pytest.approx(-model.params[f"{item}_low"],
                                                           abs=1e-8)
        assert table.loc[item, "reward"] == pytest.approx(model.params[f"{item}_high"],
                                                          abs=1e-8)
        # What-if by simulation: predict with the item's low answers moved to the middle.
        moved = x.copy()
        moved[f"{item}_low"] = 0.0
        expected = model.predict(sm.add_constant(moved, has_constant="add")).mean()
        assert table.loc[item, "what_if_nps"] == pytest.approx(expected, abs=1e-8)
    nps = 100 * ((frame["nps"] >= 9).mean() - (frame["nps"] <= 6).mean())
    assert result.nps == pytest.approx(nps)
    assert result.r2 == pytest.approx(model.rsquared, abs=1e-10)


def test_the_planted_asymmetric_driver_ranks_first_in_10_seeds():
    for seed in range(10):
        frame = planted_frame(seed)
        result = improvement_effect(frame, "nps", ITEMS, definition=RESTAURANT, n_boot=200,
                                    seed=seed)
        table = result.table.set_index("item")
        assert table.loc[ASYMMETRIC, "effect_rank"] == 1, f"seed {seed}"
        row = table.loc[ASYMMETRIC]
        assert row.penalty > 3 * abs(row.reward), f"seed {seed}"
        assert 0 < row.effect_ci_low <= row.effect <= row.effect_ci_high, f"seed {seed}"
        # The delighter rewards more than it penalises: improving its lows helps little.
        assert table.loc["food_quality", "reward"] > table.loc["food_quality", "penalty"]


def test_bootstrap_interval_matches_a_direct_row_bootstrap():
    frame = planted_frame(3, count=800)
    result = improvement_effect(frame, "nps", ITEMS, definition=RESTAURANT, n_boot=400, seed=2)
    row = result.table.set_index("item").loc[ASYMMETRIC]
    rng = np.random.default_rng(5)
    effects = []
    for _ in range(300):
        sample = frame.iloc[rng.integers(0, len(frame), len(frame))]
        model, x = reference_fit(sample, ITEMS)
        effects.append(-model.params[f"{ASYMMETRIC}_low"] * x[f"{ASYMMETRIC}_low"].mean())
    low, high = np.quantile(effects, [0.025, 0.975])
    width = high - low
    assert row.effect_ci_low == pytest.approx(low, abs=0.2 * width)
    assert row.effect_ci_high == pytest.approx(high, abs=0.2 * width)


def test_an_item_with_fewer_than_5_low_answers_gets_effect_0_with_a_note():
    frame = planted_frame(4, count=1500)
    rare = frame["value_for_money"] <= 2
    frame.loc[rare[rare].index[4:], "value_for_money"] = 3  # keep only 4 low answers
    result = improvement_effect(frame, "nps", ITEMS, definition=RESTAURANT, n_boot=50)
    row = result.table.set_index("item").loc["value_for_money"]
    assert row.n_low == 4
    assert row.effect == 0 and row.penalty == 0 and row.reward == 0
    assert "fewer than 5 low or high answers (low 4" in row.note
    assert np.isfinite(result.table.set_index("item").loc[ASYMMETRIC, "effect"])


def test_too_few_responses_give_nan_effects_with_the_reason():
    tiny = planted_frame(5).head(3)
    result = improvement_effect(tiny, "nps", ITEMS, definition=RESTAURANT, min_band=0,
                                n_boot=0)
    assert result.table["effect"].isna().all()
    assert result.table["note"].str.startswith("no effect: too few complete responses").all()
    assert any("too few complete responses to fit (n = 3" in w for w in result.warnings)


def test_scale_is_required_and_checked():
    frame = planted_frame(6, count=300)
    with pytest.raises(CxlabError, match="answer scale"):
        improvement_effect(frame, "nps", ITEMS)
    with pytest.raises(CxlabError, match="whole numbers"):
        improvement_effect(frame.assign(nps=frame["nps"] + 0.5), "nps", ITEMS,
                           definition=RESTAURANT)


def test_lmg_and_improvement_effect_answer_different_questions():
    """The delighter explains variance like the others (LMG) but raising its low answers
    gains few NPS points: the effect is what the client asks for."""
    frame = planted_frame(7)
    effect = improvement_effect(frame, "nps", ITEMS, definition=RESTAURANT, n_boot=0)
    lmg = drivers(frame, "nps", ITEMS, definition=RESTAURANT, n_boot=0).table.set_index("item")
    table = effect.table.set_index("item")
    assert lmg.loc["food_quality", "importance"] > lmg.loc["value_for_money", "importance"]
    assert table.loc["food_quality", "effect"] < table.loc[ASYMMETRIC, "effect"]
