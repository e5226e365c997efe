"""Plans for models with synergy: the planning adapter includes the term, judged in truth."""

from __future__ import annotations

import numpy as np
import pytest

from mediamix.data.synthetic import SynthConfig, synthesize, true_plan_response
from mediamix.models.response import FittedResponse, SynergyResponse
from mediamix.models.result import ChannelFit
from mediamix.optimization.solver import optimize_budget


@pytest.fixture(scope="module")
def synth():  # type: ignore[no-untyped-def]
    return synthesize(SynthConfig(seed=4242, weeks=104, channels=3, synergy=0.4, noise=0.03))


def _true_models(res):  # type: ignore[no-untyped-def]
    truth = res.truth
    names = list(truth["channels"])
    history = res.frame[[f"{c}_spend" for c in names]].to_numpy(float)
    fits = {
        c: ChannelFit(
            adstock=truth["channels"][c]["adstock"],
            saturation=truth["channels"][c]["saturation"],
            beta=float(truth["channels"][c]["beta"]),
        )
        for c in names
    }
    synergy = {tuple(t["channels"]): float(t["gamma"]) for t in truth["synergy"]}
    return (
        history,
        SynergyResponse.from_parts(fits, history, synergy),
        FittedResponse.from_parts(fits, history),
    )


def test_synth_with_synergy_has_the_term_in_spec_and_truth(synth) -> None:  # type: ignore[no-untyped-def]
    assert synth.spec["synergy"] == [["tv", "search"]]
    assert synth.truth["synergy"][0]["gamma"] > 0
    names = list(synth.truth["channels"])
    history = synth.frame[[f"{c}_spend" for c in names]].to_numpy(float)
    current = {c: float(v) for c, v in zip(names, history.sum(axis=0), strict=True)}
    contributions = sum(v["contribution"] for v in synth.truth["channels"].values())
    assert true_plan_response(synth.truth, history, current) == pytest.approx(contributions)
    # without synergy the generator draws the same data but for the interaction
    plain = synthesize(SynthConfig(seed=4242, weeks=104, channels=3, noise=0.03))
    assert "synergy" not in plain.truth
    assert plain.frame["tv_spend"].equals(synth.frame["tv_spend"])


def test_adapter_equals_the_truth_and_its_gradient(synth) -> None:  # type: ignore[no-untyped-def]
    history, with_synergy, _ = _true_models(synth)
    rng = np.random.default_rng(0)
    names = with_synergy.channels
    for _ in range(5):
        x = with_synergy.current * rng.uniform(0.2, 2.0, len(names))
        truth = true_plan_response(synth.truth, history, dict(zip(names, x, strict=True)))
        assert float(with_synergy.response(x)) == pytest.approx(truth, rel=1e-9)
        grad = with_synergy.gradient(x)
        for c in range(len(names)):
            h = 1e-4 * x[c]
            step = np.zeros_like(x)
            step[c] = h
            fd = (with_synergy.response(x + step) - with_synergy.response(x - step)) / (2 * h)
            assert grad[c] == pytest.approx(float(fd), rel=1e-4)


def test_plans_that_know_the_synergy_earn_more_in_truth(synth) -> None:  # type: ignore[no-untyped-def]
    history, with_synergy, without = _true_models(synth)
    names = with_synergy.channels
    current = with_synergy.current
    bounds = {c: (0.5 * v, 2.0 * v) for c, v in zip(names, current, strict=True)}
    from mediamix.optimization.constraints import SpendReference

    ref = SpendReference(dict(zip(names, current.tolist(), strict=True)), bounds)
    budget = float(current.sum())

    def true_value(model) -> float:  # type: ignore[no-untyped-def]
        plan = optimize_budget(model, budget, reference=ref)
        return true_plan_response(
            synth.truth, history, {c: a.spend for c, a in plan.channels.items()}
        )

    aware, blind = true_value(with_synergy), true_value(without)
    at_current = true_plan_response(synth.truth, history, dict(zip(names, current, strict=True)))
    assert aware >= at_current
    # the synergy pulls budget toward the pair: ignoring it loses true response
    assert aware > blind + 1e-4 * abs(at_current)
