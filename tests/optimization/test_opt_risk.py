"""Uncertainty-aware plans: draws of a fitted model and the risk-adjusted plan."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mediamix.models.response import FittedResponse
from mediamix.models.result import ChannelFit
from mediamix.optimization.risk import assess_change, risk_adjusted_plan
from mediamix.optimization.solver import SpendReference, optimize_budget
from mediamix.service.optimize import optimize

GEO = {"type": "geometric", "alpha": 0.3}


def _fits(betas: list[float]) -> dict[str, ChannelFit]:
    sat = {"type": "hill", "half_saturation": 100.0, "slope": 1.0}
    return {f"c{i}": ChannelFit(adstock=GEO, saturation=sat, beta=b) for i, b in enumerate(betas)}


def _history(T: int = 52) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.column_stack([rng.uniform(50, 150, T), rng.uniform(50, 150, T)])


def _model(scale: np.ndarray | None, betas: tuple[float, float] = (1000.0, 3000.0)):
    return FittedResponse.from_parts(_fits(list(betas)), _history(), draw_scale=scale)


def test_response_draws_are_linear_in_the_coefficient_scale() -> None:
    scale = np.array([[1.0, 1.0], [2.0, 0.5], [0.0, 3.0]])
    m = _model(scale)
    x = np.array([[3000.0, 4000.0], [5000.0, 1000.0]])
    per = m.channel_response(x)  # (2, C)
    draws = m.response_draws(x)
    assert draws.shape == (3, 2)
    np.testing.assert_allclose(draws, (per[None] * scale[:, None, :]).sum(-1))
    np.testing.assert_allclose(draws[0], m.response(x))
    assert m.n_draws == 3


def test_no_draws_means_no_interval_and_no_risk_block(tmp_path: Path) -> None:
    m = _model(None)
    assert m.n_draws == 0
    plan = optimize({"budget": sum(m.current_spend.values())}, response_model=m)
    assert plan.response_interval is None
    assert plan.risk is None


def test_confident_draws_keep_the_optimized_plan() -> None:
    scale = np.random.default_rng(1).uniform(0.9, 1.1, size=(200, 2))
    m = _model(scale)
    cur = m.current_spend
    plan = optimize_budget(m, sum(cur.values()), reference=SpendReference(cur))
    out = risk_adjusted_plan(m, plan, cur, level=0.9)
    assert out.risk is not None
    assert out.risk.recommendation == "optimized"
    assert out.risk.optimized.probability_better >= 0.9
    np.testing.assert_allclose(out.spend, plan.spend)
    assert "recommended" in out.notes[-1]


def test_draws_that_disagree_lead_to_a_safer_plan_that_keeps_the_budget() -> None:
    # the point model says c1 is 3x better; 40% of the draws say c0 is better
    rng = np.random.default_rng(2)
    good = np.column_stack([rng.uniform(0.9, 1.1, 120), rng.uniform(0.9, 1.1, 120)])
    bad = np.column_stack([rng.uniform(4.0, 5.0, 80), rng.uniform(0.2, 0.3, 80)])
    m = _model(np.vstack([good, bad]))
    cur = m.current_spend
    budget = sum(cur.values())
    plan = optimize_budget(m, budget, reference=SpendReference(cur))
    before = assess_change(m, plan.spend, np.array(list(cur.values())))
    assert before.probability_better < 0.9
    out = risk_adjusted_plan(m, plan, cur, level=0.9)
    assert out.risk is not None
    assert out.risk.recommendation in {"partial", "current"}
    assert out.total_spend == pytest.approx(budget)
    after = assess_change(m, out.spend, np.array(list(cur.values())))
    assert after.change[0] >= -1e-12 or out.risk.recommendation == "current"
    assert (
        np.quantile(
            (m.response_draws(out.spend) - m.response_draws(np.array(list(cur.values()))))
            / m.response_draws(np.array(list(cur.values()))),
            0.1,
        )
        >= -1e-12
    )
    assert "below the required 90%" in out.notes[-1]
    assert out.risk.optimized_spend == {c: a.spend for c, a in plan.channels.items()}


def test_plan_json_carries_the_risk_block(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    m = _model(rng.uniform(0.2, 3.0, size=(100, 2)))
    out = tmp_path / "plan.json"
    optimize({"budget": sum(m.current_spend.values())}, response_model=m, out=out)
    data = json.loads(out.read_text())
    risk = data["risk"]
    assert risk["recommendation"] in {"optimized", "partial", "current"}
    for key in ("probability_better", "change_q05", "change_q50", "change_q95"):
        assert key in risk["optimized"]
        assert key in risk["recommended"]
    assert risk["optimized"]["change_q05"] <= risk["optimized"]["change_q95"]
    assert data["notes"]
    assert sum(c["spend"] for c in data["channels"].values()) == pytest.approx(data["budget"])


def test_risk_level_is_validated() -> None:
    from mediamix.errors import InputError

    m = _model(np.ones((5, 2)))
    with pytest.raises(InputError, match="risk level"):
        optimize({"budget": 1000.0, "risk_level": 1.5}, response_model=m)


def test_draws_credit_no_increasing_returns_beyond_history() -> None:
    # an S-curve far below its half-saturation: the point model is convex there
    sat = {"type": "hill", "half_saturation": 1e6, "slope": 3.0}
    fits = {"c0": ChannelFit(adstock=GEO, saturation=sat, beta=1e6)}
    m = FittedResponse.from_parts(fits, _history()[:, :1], draw_scale=np.ones((4, 1)))
    cur = np.array([m.current_spend["c0"]])
    base = float(m.response(cur))
    x = 3.0 * cur
    assert float(m.response(x)) > 3.0 * base * 1.5  # the point model is convex
    np.testing.assert_allclose(m.response_draws(x), 3.0 * base)  # draws: at most linear
    np.testing.assert_allclose(m.response_draws(0.5 * cur), m.response(0.5 * cur))


def test_fitted_draws_combine_bootstrap_and_pareto_front(ridge_result) -> None:
    import dataclasses

    from mediamix.models.response import _pareto_roi

    names = list(ridge_result.channels)
    # without the model ensemble (older fits), the draws are bootstrap x Pareto front
    info = {k: v for k, v in ridge_result.info.items() if k != "ensemble"}
    m = FittedResponse(dataclasses.replace(ridge_result, info=info))
    boot = ridge_result.draws.get("roi")
    front = _pareto_roi(ridge_result)
    if boot is not None and front is not None:
        assert m.n_draws == 400
    # the front filter keeps the models within 5% of the best training NRMSE
    rows = [
        {"nrmse_train": 0.10, "roi": dict.fromkeys(names, 1.0)},
        {"nrmse_train": 0.104, "roi": dict.fromkeys(names, 2.0)},
        {"nrmse_train": 0.20, "roi": dict.fromkeys(names, 9.0)},
    ]
    fake = dataclasses.replace(ridge_result, info={"pareto": rows})
    kept = _pareto_roi(fake)
    assert kept is not None
    np.testing.assert_allclose(kept[:, 0], [1.0, 2.0])
    only_front = dataclasses.replace(fake, draws={})
    scale = FittedResponse(only_front).draw_scale
    assert scale is not None
    assert scale.shape == (2, len(names))


def test_safer_plan_respects_constraints_the_current_mix_breaks() -> None:
    from mediamix.optimization.constraints import resolve_constraints

    rng = np.random.default_rng(2)
    good = np.column_stack([rng.uniform(0.9, 1.1, 120), rng.uniform(0.9, 1.1, 120)])
    bad = np.column_stack([rng.uniform(4.0, 5.0, 80), rng.uniform(0.2, 0.3, 80)])
    m = _model(np.vstack([good, bad]))
    cur = m.current_spend
    budget = sum(cur.values())
    # the user caps c0 well below its current spend: the current mix breaks the rule
    limits = resolve_constraints(
        None, m.channels, budget, bounds={"c0": (0.0, 0.6 * cur["c0"]), "c1": (0.0, None)}
    )
    plan = optimize_budget(m, budget, limits)
    out = risk_adjusted_plan(m, plan, cur, level=0.9, limits=limits)
    assert out.risk is not None
    assert out.risk.recommendation in {"partial", "unsafe", "optimized"}
    assert out.risk.recommendation != "current"
    assert not limits.violations(out.spend, rtol=1e-6)
    if out.risk.recommendation == "unsafe":
        assert "NOT recommended" in out.notes[-1]


def test_risk_block_is_typed_and_written_in_the_plan_json_layout() -> None:
    rng = np.random.default_rng(3)
    m = _model(rng.uniform(0.2, 3.0, size=(100, 2)))
    cur = m.current_spend
    plan = optimize_budget(m, sum(cur.values()), reference=SpendReference(cur))
    out = risk_adjusted_plan(m, plan, cur, level=0.8)
    risk = out.risk
    assert risk is not None
    assert risk.level == 0.8
    assert set(risk.baseline) == set(m.channels)
    assert risk.optimized_response == plan.total_response
    assert risk.recommended.n_draws == risk.optimized.n_draws == 100
    doc = out.to_dict()["risk"]
    assert list(doc) == [
        "recommendation",
        "level",
        "rule",
        "step",
        "baseline",
        "optimized",
        "recommended",
    ]
    assert list(doc["optimized"]) == [
        "probability_better",
        "change_q05",
        "change_q50",
        "change_q95",
        "n_draws",
        "total_response",
        "spend",
    ]
    assert doc["recommendation"] == risk.recommendation
    assert doc["step"] == risk.step
    assert doc["optimized"]["change_q05"] == risk.optimized.change[0]
    assert doc["recommended"]["probability_better"] == risk.recommended.probability_better
    assert "at least 80% of the model's draws" in doc["rule"]
    json.dumps(doc, allow_nan=False)
