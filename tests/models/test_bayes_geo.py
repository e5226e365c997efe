"""The geo hierarchy of the Bayesian engine on a small synthetic geo dataset (SVI and MAP, fast)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mediamix.data.spec import ModelSpec
from mediamix.data.synthetic import SynthConfig, synthesize
from mediamix.data.validation import build_dataset

pytest.importorskip("jax")
pytest.importorskip("numpyro")

from mediamix.models.bayes.fit import BayesOptions, fit_bayes

pytestmark = [pytest.mark.bayes, pytest.mark.slow]


@pytest.fixture(scope="module")
def geo_fit():
    syn = synthesize(SynthConfig(seed=2, weeks=80, channels=2, geos=3))
    spec = ModelSpec.model_validate(syn.spec)
    data, _ = build_dataset(syn.frame, spec, source="synth")
    assert data.n_geos == 3
    res = fit_bayes(
        data,
        spec,
        BayesOptions(method="svi", svi_steps=1500, draws=200, seed=0, geo_hierarchy=True),
    )
    return res, data, syn.truth


def test_geo_fit_is_national_and_consistent(geo_fit):
    res, data, _ = geo_fit
    assert res.info["geos"] == 3
    assert res.data.n_geos == 1
    # per-draw metrics are summed over geos: ROI x national spend = contribution
    spend = data.spend.sum(axis=(0, 1))
    np.testing.assert_allclose(res.draws["roi"] * spend, res.draws["contribution"], rtol=1e-12)
    # the national point model reproduces the posterior median contribution
    np.testing.assert_allclose(
        res.contributions(), np.median(res.draws["contribution"], axis=0), rtol=1e-9
    )
    frame = res.decomposition()
    parts = frame.drop(columns=["date", "actual", "fitted"]).sum(axis=1).to_numpy()
    np.testing.assert_allclose(parts, frame["fitted"].to_numpy(), rtol=1e-6)
    # the national summary tracks the KPI (noise is 4% of the mean)
    assert res.metrics()["r2"] > 0.8
    # SVI has no R-hat; the report says so instead of showing none
    assert res.info["diagnostics"]["max_rhat"] is None
    assert any("SVI" in w for w in res.info["diagnostics"]["warnings"])


def test_cli_geo_model(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIAMIX_HOME", str(tmp_path / "home"))  # its compile cache
    data = tmp_path / "data"
    args = ["synth", "--out", data, "--seed", "4", "--weeks", "60", "--channels", "2"]
    assert run_cli([*args, "--geos", "3"]).code == 0
    out = tmp_path / "fit"
    res = run_cli(
        [
            "fit",
            data / "spec.yaml",
            "--out",
            out,
            "--engine",
            "bayes",
            "--method",
            "map",
            "--geo-model",
        ]
    )
    assert res.code == 0, res.err
    info = json.loads((out / "summary.json").read_text())["info"]
    assert info["geos"] == 3
    assert len(info["geo_names"]) == 3
    # without --geo-model the geos are summed to national
    res = run_cli(
        ["fit", data / "spec.yaml", "--out", tmp_path / "n", "--engine", "bayes", "--method", "map"]
    )
    assert res.code == 0, res.err
    assert json.loads((tmp_path / "n" / "summary.json").read_text())["info"]["geos"] == 1
    bad = run_cli(["fit", data / "spec.yaml", "--out", tmp_path / "r", "--geo-model"])
    assert bad.code == 2
    assert (
        "column '--engine': sampler options (geo_hierarchy) apply to engine bayes only" in bad.err
    )
    assert not (tmp_path / "r").exists()
