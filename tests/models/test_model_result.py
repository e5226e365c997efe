"""FitResult invariants: decomposition sums, contribution and mROI definitions, units."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mediamix.data.spec import ModelSpec
from mediamix.data.synthetic import SynthConfig, synthesize
from mediamix.data.validation import build_dataset
from mediamix.io.artifacts import load_artifact, save_artifact
from mediamix.models.response import FittedResponse
from mediamix.models.result import FitResult
from mediamix.models.ridge import RidgeOptions, fit_ridge


def _fit(seed: int = 1, spend_scale: float = 1.0, kpi_scale: float = 1.0, weeks: int = 104):
    res = synthesize(SynthConfig(seed=seed, weeks=weeks, channels=3))
    frame = res.frame.copy()
    for c in res.spec["channels"].values():
        frame[c["spend"]] = frame[c["spend"]] * spend_scale
    frame["revenue"] = frame["revenue"] * kpi_scale
    spec = ModelSpec.model_validate(res.spec)
    data, _ = build_dataset(frame, spec, source="synth.csv")
    return fit_ridge(data, spec, RidgeOptions(seed=0, bootstrap=30)), res


@pytest.fixture(scope="module")
def fitted():
    return _fit()


def test_components_sum_to_fitted(fitted):
    result, _ = fitted
    dec = result.decomposition()
    parts = dec.drop(columns=["date", "actual", "fitted"]).sum(axis=1)
    np.testing.assert_allclose(parts, dec["fitted"], rtol=1e-6)
    assert list(dec.columns[:3]) == ["date", "actual", "fitted"]
    for ch in result.channel_names:
        assert ch in dec.columns


def test_contribution_is_fitted_minus_fitted_without_channel(fitted):
    result, _ = fitted
    spend = result.data.spend[0]
    base_fitted = result.fitted.sum()
    metrics = result.channel_metrics()
    for c, ch in enumerate(result.channel_names):
        zeroed = spend.copy()
        zeroed[:, c] = 0.0
        without = (
            result.baseline_components().to_numpy().sum() + result.media_components(zeroed).sum()
        )
        assert np.isclose(base_fitted - without, metrics[ch]["contribution"], rtol=1e-9)
        bumped = spend.copy()
        bumped[:, c] *= 1.01
        plus = result.media_components(bumped)[:, c].sum()
        expected_mroi = (plus - metrics[ch]["contribution"]) / (0.01 * spend[:, c].sum())
        assert np.isclose(metrics[ch]["mroi"], expected_mroi, rtol=1e-9)
        assert np.isclose(metrics[ch]["roi"], metrics[ch]["contribution"] / spend[:, c].sum())


def test_summary_has_contract_fields(fitted):
    result, _ = fitted
    s = result.summary()
    for key in (
        "schema_version",
        "engine",
        "kpi",
        "kpi_type",
        "start",
        "end",
        "n_periods",
        "channels",
        "metrics",
    ):
        assert key in s
    for c in s["channels"].values():
        for key in (
            "spend",
            "contribution",
            "contribution_share",
            "roi",
            "mroi",
            "cpa",
            "roi_interval",
            "adstock",
            "saturation",
        ):
            assert key in c
        low, high = c["roi_interval"]
        assert low <= high
    assert set(s["metrics"]) == {"r2", "nrmse", "mape", "decomp_rssd"}


def test_invariant_to_currency_and_kpi_units(fitted):
    base, _ = fitted
    cents, _ = _fit(spend_scale=100.0)
    scaled_kpi, _ = _fit(kpi_scale=100.0)
    np.testing.assert_allclose(cents.contributions(), base.contributions(), rtol=1e-5)
    np.testing.assert_allclose(scaled_kpi.contributions(), 100 * base.contributions(), rtol=1e-5)


def test_artifact_round_trip(tmp_path, fitted):
    result, _ = fitted
    meta, arrays = result.to_artifact()
    save_artifact(tmp_path / "model", meta, arrays)
    meta2, arrays2 = load_artifact(tmp_path / "model")
    again = FitResult.from_artifact(meta2, arrays2)
    np.testing.assert_allclose(again.fitted, result.fitted, rtol=1e-12)
    assert again.summary()["channels"] == result.summary()["channels"]


def test_predict_carries_adstock_from_history(fitted):
    result, _res = fitted
    data = result.data
    head = data.window(0, 80)
    tail = data.window(80, data.n_periods)
    from dataclasses import replace

    short = replace(result, data=head)
    pred = short.predict(tail)
    # the predicted tail equals the in-window decomposition over the same periods
    full = result.decomposition().iloc[80:].reset_index(drop=True)
    for ch in result.channel_names:
        np.testing.assert_allclose(pred[ch], full[ch], rtol=1e-9)
    # and differs from decomposing the tail alone (no carry-over in)
    alone = result.media_components(tail.spend[0])
    assert not np.allclose(alone[:3].sum(), pred[list(result.channel_names)].to_numpy()[:3].sum())


def test_fitted_response_matches_contributions(fitted):
    result, _ = fitted
    # the recommended model's own curves (a ridge fit plans on its model ensemble,
    # whose response at history is the members' mean: tests/optimization/test_opt_ensemble.py)
    info = {k: v for k, v in result.info.items() if k != "ensemble"}
    response = FittedResponse(replace(result, info=info))
    np.testing.assert_allclose(
        response.channel_response(response.current), result.contributions(), rtol=1e-9
    )
    x = response.current * 0.8
    grad = response.gradient(x)
    eps = 1e-3 * x
    for c in range(len(x)):
        e = np.zeros_like(x)
        e[c] = eps[c]
        fd = (response.response(x + e) - response.response(x - e)) / (2 * eps[c])
        assert np.isclose(grad[c], fd, rtol=1e-4)


def test_recovers_roi_on_clean_data():
    # with little noise and geometric+hill truth the grid engine finds the contributions
    res = synthesize(
        SynthConfig(
            seed=21,
            weeks=156,
            channels=3,
            noise=0.01,
            media_share=0.35,
            adstock_kinds=("geometric",),
            saturation_kinds=("hill",),
        )
    )
    spec = ModelSpec.model_validate(res.spec)
    data, _ = build_dataset(res.frame, spec, source="synth.csv")
    result = fit_ridge(data, spec, RidgeOptions(bootstrap=20))
    est = result.contributions()
    true = np.array([c["contribution"] for c in res.truth["channels"].values()])
    error = np.abs(est - true).sum() / true.sum()
    assert error < 0.25, (error, est, true)
