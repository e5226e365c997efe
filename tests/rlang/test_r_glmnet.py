"""R's glmnet against the ridge engine: same design, same penalty, same coefficients.

Tolerance: 1e-5 relative (to the largest coefficient, and to the total media
contribution). Both solve the same strictly convex problem; the ridge engine exactly
(bounded least squares), glmnet by coordinate descent to ``thresh = 1e-14``, which
leaves differences near 1e-7. The differences that do not vanish are conventions,
tested here too: glmnet's ``standardize = TRUE`` (Robyn's default) penalizes
``b_j * sd(x_j)``, and glmnet reads ``lambda`` on the scale of ``y / sd(y)``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from mediamix.data.spec import ModelSpec
from mediamix.data.synthetic import SynthConfig, synthesize
from mediamix.data.validation import build_dataset
from mediamix.models.result import ChannelFit
from mediamix.models.ridge import RidgeOptions, fit_ridge
from mediamix.rlang.glmnet import (
    compare_glmnet,
    fit_r_glmnet,
    glmnet_ridge,
    model_design,
    python_ridge,
    result_coefficients,
)
from mediamix.service.data import load_dataset

pytestmark = pytest.mark.r

TOL = 1e-5
REPO = Path(__file__).resolve().parents[2]
SMALL = RidgeOptions(seed=0, candidates=600, bootstrap=0, ensemble=0)


@pytest.fixture(scope="module")
def synthetic():
    syn = synthesize(SynthConfig(seed=3, weeks=104, channels=3))
    spec = ModelSpec.model_validate(syn.spec)
    data, _ = build_dataset(syn.frame, spec, source="synth")
    return data, spec, syn.truth


@pytest.fixture(scope="module")
def robyn_simulated():
    loaded = load_dataset(REPO / "examples" / "robyn-simulated-weekly" / "spec.yaml")
    return fit_ridge(loaded.dataset, loaded.spec, SMALL)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def test_true_transforms_same_coefficients_and_recovery(synthetic):
    """On the true transforms and a given lambda, glmnet and the ridge solver agree."""
    data, spec, truth = synthetic
    ridge = fit_ridge(data, spec, SMALL)
    channels = {
        name: ChannelFit(adstock=t["adstock"], saturation=t["saturation"], beta=1.0)
        for name, t in truth["channels"].items()
    }
    true_design = dataclasses.replace(ridge, channels=channels)
    design = model_design(true_design, lam=1e-4)
    py = python_ridge(design)
    glm = glmnet_ridge(design)
    assert _rel(glm, py) < TOL
    # with the true curves and a light penalty the coefficients recover the truth
    media = design.X[:, design.n_baseline :] * glm[1 + design.n_baseline :] * design.scale_y
    true = np.array([t["contribution"] for t in truth["channels"].values()])
    assert np.sum(np.abs(media.sum(axis=0) - true)) / true.sum() < 0.15


def test_searched_design_same_coefficients(synthetic):
    data, spec, _ = synthetic
    ridge = fit_ridge(data, spec, SMALL)
    report = compare_glmnet(ridge, tolerance=TOL)
    assert report["within_tolerance"], report
    assert report["max_rel_diff_coef"] < TOL
    # the model's own coefficients are the ridge solver's on the rebuilt design
    design = model_design(ridge)
    assert _rel(result_coefficients(ridge, design), python_ridge(design)) < 1e-9


def test_robyn_simulated_same_coefficients(robyn_simulated):
    report = compare_glmnet(robyn_simulated, tolerance=TOL)
    assert report["max_rel_diff_coef"] < TOL
    assert report["max_rel_diff_contribution"] < TOL
    assert set(report["contributions"]) == set(robyn_simulated.channel_names)


def test_standardization_is_the_difference(robyn_simulated):
    """glmnet's standardize=TRUE is the ridge engine's standardize_media weights."""
    design = model_design(robyn_simulated)
    standardized = glmnet_ridge(design, standardize=True)
    plain = python_ridge(design)
    assert _rel(standardized, plain) > 100 * TOL  # a real difference ...
    assert _rel(standardized, python_ridge(design, standardize=True)) < TOL  # ... and its cause


def test_lambda_scale_is_glmnets(robyn_simulated):
    """Passing the engine's lambda to glmnet unconverted gives another model."""
    design = model_design(robyn_simulated)
    unconverted = dataclasses.replace(design, lam=design.lam / float(np.std(design.y)))
    assert _rel(glmnet_ridge(unconverted), python_ridge(design)) > 100 * TOL


def test_r_glmnet_engine_gives_an_ordinary_model(synthetic):
    data, spec, _ = synthetic
    result = fit_r_glmnet(data, spec, options=SMALL)
    assert result.engine == "r-glmnet"
    summary = result.summary()
    assert summary["engine"] == "r-glmnet"
    assert set(summary["channels"]) == set(spec.channels)
    assert summary["info"]["glmnet"]["max_abs_diff_to_ridge"] < TOL
    dec = result.decomposition()
    parts = dec.drop(columns=["date", "actual", "fitted"]).sum(axis=1)
    np.testing.assert_allclose(parts, dec["fitted"], rtol=1e-9)
    assert all(fit.beta >= 0 for fit in result.channels.values())
    assert "response_curves" in result.info


def test_cli_fit_r_glmnet_and_check(run_cli, tmp_path):
    data = tmp_path / "data"
    assert (
        run_cli(["synth", "--out", data, "--seed", "4", "--weeks", "80", "--channels", "2"]).code
        == 0
    )
    res = run_cli(["fit", data / "spec.yaml", "--out", tmp_path / "glm", "--engine", "r-glmnet"])
    assert res.code == 0, res.err
    summary = json.loads((tmp_path / "glm" / "summary.json").read_text())
    assert summary["engine"] == "r-glmnet"
    assert (tmp_path / "glm" / "model" / "manifest.json").is_file()
    # the r-glmnet model is a ridge-convention model: check it against glmnet again
    res = run_cli(["check", "r-glmnet", tmp_path / "glm", "--out", tmp_path / "check.json"])
    assert res.code == 0, res.err
    assert "match" in res.out
    report = json.loads((tmp_path / "check.json").read_text())
    assert report["within_tolerance"]
    # and it plans like any model
    res = run_cli(["optimize", "--model", tmp_path / "glm", "--budget", "100000"])
    assert res.code == 0, res.err


def test_cli_without_r_exits_2_and_writes_nothing(without_r):
    run = without_r["fit_r_glmnet"]
    assert run["code"] == 2, run["err"]
    assert "--engine r-glmnet needs R" in run["err"]
    assert "apt-get install r-base-core r-cran-glmnet" in run["err"]
    assert "fit" not in without_r["written"]


def test_check_refuses_a_model_without_lambda(robyn_simulated):
    from mediamix.errors import InputError

    info = {k: v for k, v in robyn_simulated.info.items() if k != "lambda"}
    with pytest.raises(InputError, match="no ridge penalty"):
        compare_glmnet(dataclasses.replace(robyn_simulated, info=info))


def test_starting_r_leaves_the_library_path_of_child_processes_alone():
    """R sets LD_LIBRARY_PATH when it starts; children must not inherit it (they would
    load the system's libraries, e.g. another libpython, before their own)."""
    import os

    from mediamix.rlang.bridge import r_session

    before = os.environ.get("LD_LIBRARY_PATH")
    r_session(("glmnet",))
    assert os.environ.get("LD_LIBRARY_PATH") == before
