"""The optimizer against brute force on 50 random problems (2-8 channels)."""

from __future__ import annotations

import numpy as np
import pytest
from _opt_problems import limits_of, random_problem, reference_optimum

from mediamix.optimization.solver import optimize_budget

SEEDS = range(50)


@pytest.mark.parametrize("seed", SEEDS)
def test_plan_matches_brute_force(seed: int) -> None:
    p = random_problem(seed)
    plan = optimize_budget(p.model, p.budget, limits_of(p))
    x = plan.spend
    ref = reference_optimum(p)
    # within 0.1% of the reference optimum (the reference is a lower bound of the
    # true optimum, so exceeding it is fine)
    assert plan.total_response >= ref * (1 - 1e-3), (plan.total_response, ref)
    assert plan.total_response == pytest.approx(float(p.model.response(x)), rel=1e-12)
    # spends the budget and respects every bound
    assert x.sum() == pytest.approx(p.budget, rel=1e-9)
    tol = 1e-9 * p.budget
    assert np.all(x >= p.lower - tol)
    assert np.all(x <= p.upper + tol)
    assert plan.status == "optimal"


def test_first_order_conditions_hold() -> None:
    """At an interior optimum every funded channel off its bounds has the same mROI."""
    for seed in range(10):
        p = random_problem(seed)
        plan = optimize_budget(p.model, p.budget, limits_of(p))
        x = plan.spend
        tol = 1e-6 * p.budget
        free = (x > p.lower + tol) & (x < p.upper - tol) & (x > tol)
        m = np.array([c.marginal_roi for c in plan.channels.values()], dtype=float)[free]
        if free.sum() >= 2:
            assert np.ptp(m) <= 1e-3 * np.max(m), (seed, m)


def test_s_curves_concentrate_instead_of_splitting() -> None:
    """Two identical steep S-curves: a local solver from the even split stays at a
    stationary point; the global optimum puts everything in one channel."""
    from mediamix.optimization.response import curves_from_dict

    s = {"type": "hill", "half_saturation": 50.0, "slope": 3.0}
    m = curves_from_dict(
        {"channels": {"a": {"beta": 1.0, "saturation": s}, "b": {"beta": 1.0, "saturation": s}}}
    )
    plan = optimize_budget(m, 60.0)
    split = float(m.response(np.array([30.0, 30.0])))
    assert plan.total_response > split * 1.5
    assert sorted(np.round(plan.spend, 6)) == [0.0, 60.0]
