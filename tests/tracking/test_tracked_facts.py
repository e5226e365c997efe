"""What tracking, promotion and drift read from a fit's ``info``: through the typed
view, so a fit that recorded no holdout error or malformed blocks is handled, not
a crash."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest

from mediamix.tracking.drift import check_drift
from mediamix.tracking.promotion import decide
from mediamix.tracking.runs import fit_metrics, fit_params


@pytest.fixture(scope="module")
def ridge(small_ridge_fit: Any) -> Any:
    return small_ridge_fit


def _summary(info: Any) -> dict[str, Any]:
    return {"engine": "ridge", "metrics": {"r2": 0.9}, "channels": {}, "info": info}


def test_params_and_metrics_of_a_ridge_summary(ridge: Any) -> None:
    summary = ridge.summary()
    params = fit_params(summary)
    metrics = fit_metrics(summary)
    assert params["search.candidates"] == str(ridge.info["search"]["candidates"])
    assert "search.val_share_bounds" not in params  # a list is not a parameter
    assert metrics["holdout_nrmse"] == ridge.info["holdout_nrmse"]
    assert not any(k.startswith("diagnostics.") for k in metrics)


def test_params_and_metrics_of_a_bayes_summary() -> None:
    info = {
        "sampler": {"chains": 2, "method": "nuts"},
        "diagnostics": {
            "method": "nuts",
            "max_rhat": 1.01,
            "divergences": 0,
            "final_loss": float("nan"),
            "warnings": ["x"],
            "parameters": [{"rhat": 1.0}],
        },
    }
    assert fit_params(_summary(info))["sampler.chains"] == "2"
    metrics = fit_metrics(_summary(info))
    assert {k: v for k, v in metrics.items() if k.startswith("diagnostics.")} == {
        "diagnostics.max_rhat": 1.01,
        "diagnostics.divergences": 0.0,
    }
    assert "holdout_nrmse" not in metrics


@pytest.mark.parametrize(
    "info", [None, {}, {"diagnostics": "junk", "search": [1], "holdout_nrmse": "x"}]
)
def test_missing_or_malformed_info_logs_nothing_from_it(info: Any) -> None:
    params = fit_params(_summary(info))
    metrics = fit_metrics(_summary(info))
    assert not any("." in k for k in params)
    assert metrics == {"r2": 0.9}


def test_promotion_compares_recorded_holdout_errors(ridge: Any) -> None:
    worse = dataclasses.replace(
        ridge, info={**ridge.info, "holdout_nrmse": ridge.info["holdout_nrmse"] * 2}
    )
    refused = decide(worse, ridge)
    assert not refused.accepted
    figures = refused.figures["holdout"]
    assert figures["candidate_nrmse"] == worse.info["holdout_nrmse"]
    assert figures["champion_nrmse"] == ridge.info["holdout_nrmse"]


def test_promotion_without_a_recorded_holdout_asks_for_one(ridge: Any) -> None:
    bare = dataclasses.replace(
        ridge, info={k: v for k, v in ridge.info.items() if k != "holdout_nrmse"}
    )
    decision = decide(bare, ridge)
    assert not decision.accepted
    assert math.isnan(decision.figures["holdout"]["candidate_nrmse"])
    assert any("--holdout" in r for r in decision.reasons)


def test_drift_compares_with_the_recorded_holdout_error(ridge: Any) -> None:
    data = ridge.data
    report = check_drift(data, data, model=ridge)
    assert report.model is not None
    assert report.model["holdout_nrmse"] == ridge.info["holdout_nrmse"]
    assert report.model["error_ratio"] == pytest.approx(
        report.model["nrmse"] / ridge.info["holdout_nrmse"]
    )
    bare = dataclasses.replace(ridge, info={"holdout_nrmse": "junk"})
    report = check_drift(data, data, model=bare)
    assert report.model is not None
    assert (report.model["holdout_nrmse"], report.model["error_ratio"]) == (None, None)
    assert np.isfinite(report.model["nrmse"])
