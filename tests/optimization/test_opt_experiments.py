"""Which lift test to run next: value of information over the draws, and the design."""

from __future__ import annotations

import numpy as np
import pytest

from mediamix.optimization.experiments import holdout_design, suggest_tests
from mediamix.optimization.response import DrawsResponse, curves_from_dict

HILL = {"type": "hill", "half_saturation": 10.0, "slope": 1.0}


def _model(betas: list[tuple[float, float, float]]) -> DrawsResponse:
    return DrawsResponse(
        tuple(
            curves_from_dict(
                {
                    "channels": {
                        name: {"beta": b, "saturation": HILL}
                        for name, b in zip(("a", "b", "c"), draw, strict=True)
                    }
                }
            )
            for draw in betas
        )
    )


def test_the_channel_the_plan_leans_on_and_the_model_is_unsure_of_comes_first() -> None:
    # a: uncertain, and the plan moves money to it; b: uncertain but untouched; c: known
    rng = np.random.default_rng(1)
    draws = [(float(a), float(b), 20.0) for a, b in rng.uniform(5.0, 40.0, (60, 2))]
    model = _model(draws)
    current = {"a": 10.0, "b": 10.0, "c": 10.0}
    ranked = suggest_tests(model, [20.0, 10.0, 0.0], current, sigma=0.01, periods=4)
    assert ranked[0].channel == "a"
    by = {s.channel: s for s in ranked}
    assert by["a"].variance_reduction > by["b"].variance_reduction
    # with a near-noiseless test on a, knowing a is knowing the gain up to c (known) and b
    # (untouched): the interval almost vanishes
    assert by["a"].interval_share > 0.9
    assert 0.0 <= by["b"].interval_share < by["a"].interval_share


def test_a_noisy_test_is_worth_less() -> None:
    rng = np.random.default_rng(2)
    draws = [(float(a), 20.0, 20.0) for a in rng.uniform(5.0, 40.0, 60)]
    model = _model(draws)
    current = {"a": 10.0, "b": 10.0, "c": 10.0}
    quiet = suggest_tests(model, [20.0, 5.0, 5.0], current, sigma=0.01, periods=4)[0]
    loud = suggest_tests(model, [20.0, 5.0, 5.0], current, sigma=50.0, periods=4)[0]
    assert quiet.channel == loud.channel == "a"
    assert loud.variance_reduction < 0.5 * quiet.variance_reduction
    assert not loud.design.powered


def test_holdout_design_power() -> None:
    d = holdout_design(weekly_contribution=5000.0, sigma=1000.0)
    # the chosen design detects the expected lift; a cheaper one would not
    assert d.powered
    assert d.expected_lift >= d.minimum_detectable_lift
    se = 1000.0 * np.sqrt(2.0 * d.weeks / d.holdout_share)
    assert d.standard_error == pytest.approx(se)
    assert d.minimum_detectable_lift == pytest.approx((1.959964 + 0.841621) * se)
    assert not holdout_design(weekly_contribution=10.0, sigma=1000.0).powered
