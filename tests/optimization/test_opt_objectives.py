"""Target objectives, posterior draws, scenarios and the frontier."""

from __future__ import annotations

import numpy as np
import pytest

from mediamix.errors import InputError
from mediamix.optimization.response import DrawsResponse, curves_from_dict
from mediamix.optimization.scenarios import compare_allocations, efficient_frontier
from mediamix.optimization.solver import optimize_budget


def model(beta_scale: float = 1.0):
    return curves_from_dict(
        {
            "channels": {
                "tv": {
                    "beta": 300.0 * beta_scale,
                    "saturation": {"type": "hill", "half_saturation": 40.0, "slope": 2.0},
                },
                "search": {
                    "beta": 150.0 * beta_scale,
                    "saturation": {"type": "hill", "half_saturation": 20.0, "slope": 1.0},
                },
            }
        }
    )


def best(m, b):
    return optimize_budget(m, b).total_response


def test_target_revenue_is_the_smallest_budget_reaching_it() -> None:
    m = model()
    plan = optimize_budget(m, 200.0, objective="target_revenue", target=250.0)
    assert plan.total_response >= 250.0 - 1e-6
    assert best(m, plan.budget * 0.995) < 250.0


def test_target_roi_is_the_largest_budget_above_it() -> None:
    m = model()
    plan = optimize_budget(m, 400.0, objective="target_roi", target=2.5)
    assert plan.roi >= 2.5 - 1e-9
    b = plan.budget * 1.005
    assert best(m, b) / b < 2.5


def test_target_mroi_is_the_largest_budget_above_it() -> None:
    m = model()
    plan = optimize_budget(m, 400.0, objective="target_mroi", target=1.0)
    d = 0.5
    lo, hi = plan.budget - d, plan.budget + d
    mroi_here = (best(m, hi) - best(m, lo)) / (2 * d)
    assert mroi_here == pytest.approx(1.0, rel=0.05)
    b2 = plan.budget * 1.1
    assert (best(m, b2 + d) - best(m, b2 - d)) / (2 * d) < 1.0


def test_roi_objective_beats_neighbouring_budgets() -> None:
    """With S-curves only, the average ROI peaks at an interior budget."""
    s = {"type": "hill", "half_saturation": 40.0, "slope": 2.5}
    m = curves_from_dict(
        {"channels": {"a": {"beta": 300.0, "saturation": s}, "b": {"beta": 200.0, "saturation": s}}}
    )
    plan = optimize_budget(m, 200.0, objective="roi")
    assert 0.05 * 200 < plan.budget < 200.0
    for f in (0.8, 0.95, 1.05, 1.2):
        b = plan.budget * f
        assert best(m, b) / b <= plan.roi + 1e-9


def test_missing_or_unreachable_target() -> None:
    with pytest.raises(InputError, match="--target"):
        optimize_budget(model(), 100.0, objective="target_roi")
    with pytest.raises(InputError, match="out of reach"):
        optimize_budget(model(), 100.0, objective="target_revenue", target=1e9)


def test_posterior_draws_optimize_the_mean_and_report_an_interval() -> None:
    draws = DrawsResponse(tuple(model(s) for s in np.linspace(0.5, 1.5, 21)))
    plan = optimize_budget(draws, 80.0)
    mean_plan = optimize_budget(model(1.0), 80.0)  # mean of linear betas = beta 1.0
    np.testing.assert_allclose(plan.spend, mean_plan.spend, rtol=1e-6)
    lo, hi = plan.response_interval
    assert lo < plan.total_response < hi
    assert hi / lo == pytest.approx(1.45 / 0.55, rel=0.05)


def test_scenarios_side_by_side() -> None:
    m = model()
    opt = optimize_budget(m, 60.0)
    cmp = compare_allocations(
        m,
        {
            "current": {"tv": 30.0, "search": 30.0},
            "optimized": opt,
            "what_if": {"tv": 60.0, "search": 0.0},
        },
    )
    t = cmp.table
    assert set(t.index.get_level_values("scenario")) == {"current", "optimized", "what_if"}
    assert t.loc[("optimized", "total"), "response"] >= t.loc[("current", "total"), "response"]
    assert t.loc[("optimized", "total"), "response"] >= t.loc[("what_if", "total"), "response"]
    assert set(cmp.to_dict()) == {"current", "optimized", "what_if"}


def test_frontier_is_non_decreasing_with_16_points() -> None:
    m = model()
    fr = efficient_frontier(m, {"tv": 30.0, "search": 30.0})
    t = fr.table
    assert len(t) == 16
    assert t["budget"].iloc[0] == pytest.approx(30.0)
    assert t["budget"].iloc[-1] == pytest.approx(120.0)
    assert np.all(np.diff(t["response"]) >= -1e-9)
    np.testing.assert_allclose(t[["spend_tv", "spend_search"]].sum(axis=1), t["budget"])
