"""Planning a ridge fit on its ensemble of plausible models (each with its own curves)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from mediamix.models.response import FittedResponse
from mediamix.models.result import ChannelFit
from mediamix.models.search import Scores, plausible_models
from mediamix.optimization.solver import SpendReference, optimize_budget


def _members(result) -> list[dict]:
    return list(result.info["ensemble"]["members"])


def _member_model(result, member: dict) -> FittedResponse:
    fits = {ch: ChannelFit(**member["channels"][ch]) for ch in result.channel_names}
    return FittedResponse.from_parts(fits, result.data.spend[0])


def test_fit_stores_an_ensemble_of_members_with_their_own_transforms(ridge_result) -> None:
    ens = ridge_result.info["ensemble"]
    members = _members(ridge_result)
    assert 2 <= len(members) <= 100
    assert len(members) <= ens["n_plausible"]
    fits = [m["nrmse_train"] for m in members]
    assert fits == sorted(fits)
    assert max(fits) <= min(fits) * (1 + ens["tolerance"]) + 1e-12
    # members differ in their transforms, not only in their coefficients
    first = ridge_result.channel_names[0]
    ads = {repr(sorted(m["channels"][first]["adstock"].items())) for m in members}
    assert len(ads) > 1


def test_each_member_curve_equals_its_contribution_at_historical_spend(ridge_result) -> None:
    model = FittedResponse(ridge_result)
    members = _members(ridge_result)
    history = ridge_result.data.spend[0]
    per_draw = model.response_draws(model.current)  # (S,): the members first
    for s, member in enumerate(members):
        contribution = sum(
            ChannelFit(**member["channels"][ch]).response(history[:, c]).sum()
            for c, ch in enumerate(ridge_result.channel_names)
        )
        np.testing.assert_allclose(per_draw[s], contribution, rtol=1e-9)


def test_response_and_gradient_are_the_mean_over_members(ridge_result) -> None:
    model = FittedResponse(ridge_result)
    members = [_member_model(ridge_result, m) for m in _members(ridge_result)]
    x = np.array([model.current * 0.7, model.current * 1.3, model.current[::-1]])
    expected = np.mean([m.response(x) for m in members], axis=0)
    np.testing.assert_allclose(model.response(x), expected, rtol=1e-9)
    grad = np.mean([m.gradient(x) for m in members], axis=0)
    np.testing.assert_allclose(model.gradient(x), grad, rtol=1e-7)
    # and the gradient is the derivative of the response
    h = 1e-4 * model.current
    for c in range(len(model.channels)):
        step = np.zeros_like(model.current)
        step[c] = h[c]
        fd = (model.response(model.current + step) - model.response(model.current - step)) / (
            2 * h[c]
        )
        np.testing.assert_allclose(model.gradient(model.current)[c], fd, rtol=1e-4)


def test_expected_response_plan_beats_the_point_plan_on_the_ensemble(ridge_result) -> None:
    model = FittedResponse(ridge_result)
    point = FittedResponse(dataclasses.replace(ridge_result, info={}, draws={}))
    cur = model.current_spend
    budget = sum(cur.values())
    bounds = {c: (0.5 * v, 2.0 * v) for c, v in cur.items()}
    reference = SpendReference(cur, bounds)
    ens_plan = optimize_budget(model, budget, reference=reference)
    point_plan = optimize_budget(point, budget, reference=reference)
    assert ens_plan.spend.sum() == pytest.approx(budget, rel=1e-6)
    assert float(model.response(ens_plan.spend)) >= float(model.response(point_plan.spend)) - 1e-6
    assert float(model.response(ens_plan.spend)) >= float(model.response(model.current)) - 1e-6


def test_ensemble_survives_the_safe_artifact(ridge_result, tmp_path: Path) -> None:
    from mediamix.io.artifacts import load_artifact, save_artifact
    from mediamix.models.result import FitResult

    meta, arrays = ridge_result.to_artifact()
    save_artifact(tmp_path / "model", meta, arrays)
    loaded = FitResult.from_artifact(*load_artifact(tmp_path / "model"))
    x = FittedResponse(ridge_result).current * 1.2
    np.testing.assert_allclose(
        FittedResponse(loaded).response_draws(x), FittedResponse(ridge_result).response_draws(x)
    )


def _scores(nrmse: list[float]) -> Scores:
    z = np.zeros(len(nrmse))
    return Scores(z, np.asarray(nrmse), z, z, np.zeros((len(nrmse), 1)), np.zeros((len(nrmse), 2)))


def test_plausible_set_is_the_likelihood_ratio_set() -> None:
    # hand-computed: chi2_0.9(10) = 15.9872, T - p = 40 -> tol = sqrt(1.39968) - 1 = 0.18308
    s = _scores([0.20, 0.236, 0.237, 0.203, np.nan])
    idx, tol = plausible_models(s, n_periods=50, n_params=10, level=0.9)
    assert tol == pytest.approx(0.18308, abs=1e-5)
    assert idx.tolist() == [0, 3, 1]
    # more periods per parameter: a narrower set
    idx, tol2 = plausible_models(s, n_periods=500, n_params=10, level=0.9)
    assert tol2 < tol
    assert idx.tolist() == [0, 3]
    # no degrees of freedom left: nothing is ruled out
    idx, tol3 = plausible_models(s, n_periods=10, n_params=10)
    assert tol3 == float("inf")
    assert idx.tolist() == [0, 3, 1, 2]


def test_summary_names_the_ensemble_but_keeps_its_members_in_the_artifact(ridge_result) -> None:
    ens = ridge_result.summary()["info"]["ensemble"]
    assert "members" not in ens
    assert ens["n_members"] == len(_members(ridge_result))
    assert "members" in ridge_result.to_artifact()[0]["info"]["ensemble"]


def test_risk_draws_are_the_members_and_as_many_bootstrap_draws(ridge_result) -> None:
    model = FittedResponse(ridge_result)
    n = len(_members(ridge_result))
    info = {k: v for k, v in ridge_result.info.items() if k != "ensemble"}
    point = FittedResponse(dataclasses.replace(ridge_result, info=info))
    assert point.n_draws == 400  # bootstrap x Pareto front
    assert model.n_draws == 2 * n
    x = np.array([model.current * 0.9, model.current * 0.7])  # below history: no clipping
    draws = model.response_draws(x)
    assert draws.shape == (2 * n, 2)
    members = np.array([_member_model(ridge_result, m).response(x) for m in _members(ridge_result)])
    np.testing.assert_allclose(draws[:n], members, rtol=1e-9)
    idx = np.unique(np.linspace(0, point.n_draws - 1, n).round().astype(int))
    np.testing.assert_allclose(draws[n:], point.response_draws(x)[idx], rtol=1e-9)
