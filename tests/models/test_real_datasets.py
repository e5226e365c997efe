"""Real third-party datasets: every example spec fits; recovery against published truth.

Truth for the two PyMC-Marketing datasets (see their SOURCE.md):

- ``mmm_example.csv``: y = 1000 x (intercept + trend + seasonality + events
  + 3.0 * logistic(adstock(x1; alpha 0.4, l_max 8, normalized); lam 4)
  + 2.0 * logistic(adstock(x2; alpha 0.2); lam 3) + noise). The test recomputes the
  true contributions from these parameters (274,848 and 65,906).
- ``mmm_roas_data.csv``: y - y0k is the exact effect of channel k, so the true ROAS
  is sum(y - y0k) / sum(xk) (93.39 and 171.41).

Tolerances. The ridge engine fits geometric adstock + Hill saturation, not the
generating logistic curve, and has no prior to separate an always-on channel from
the intercept. x1 in ``mmm_example`` never drops below 5% of its peak, so part of its
level is confounded with the baseline: we accept 35% there and 20% for the bursty
x2, whose on/off weeks identify it. The ROAS data has 131 weeks and a confounder
given as a control; 25% per channel. These bounds fail if a channel is dropped,
doubled, or swapped with the other.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mediamix.transforms.adstock import geometric_adstock
from mediamix.transforms.saturation import logistic

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _fit(run_cli, tmp_path: Path, example: str) -> dict:
    out = tmp_path / example
    res = run_cli(["fit", EXAMPLES / example / "spec.yaml", "--out", out, "--seed", "0"])
    assert res.code == 0, res.err
    return json.loads((out / "summary.json").read_text())


@pytest.mark.slow
def test_pymc_example_contributions(run_cli, tmp_path, shared_datasets):
    data = pd.read_csv(shared_datasets / "pymc-marketing-mmm-example" / "mmm_example.csv")
    truth = {}
    for channel, alpha, lam, beta in (("x1", 0.4, 4.0, 3.0), ("x2", 0.2, 3.0, 2.0)):
        x = data[channel].to_numpy()
        truth[channel] = float(
            (
                1000 * beta * logistic(geometric_adstock(x, alpha, l_max=8, normalize=True), lam)
            ).sum()
        )
    # the published figures, recomputed
    assert truth["x1"] == pytest.approx(274_848, rel=1e-4)
    assert truth["x2"] == pytest.approx(65_906, rel=1e-4)
    summary = _fit(run_cli, tmp_path, "pymc-marketing-mmm-example")
    estimate = {c: summary["channels"][c]["contribution"] for c in truth}
    assert estimate["x1"] == pytest.approx(truth["x1"], rel=0.35)
    assert estimate["x2"] == pytest.approx(truth["x2"], rel=0.20)


@pytest.mark.slow
def test_pymc_roas_confounding(run_cli, tmp_path, shared_datasets):
    data = pd.read_csv(shared_datasets / "pymc-marketing-roas-confounding" / "mmm_roas_data.csv")
    truth = {
        "x1": float((data["y"] - data["y01"]).sum() / data["x1"].sum()),
        "x2": float((data["y"] - data["y02"]).sum() / data["x2"].sum()),
    }
    assert truth["x1"] == pytest.approx(93.39, abs=0.01)
    assert truth["x2"] == pytest.approx(171.41, abs=0.01)
    summary = _fit(run_cli, tmp_path, "pymc-marketing-roas-confounding")
    for channel, roas in truth.items():
        assert summary["channels"][channel]["roi"] == pytest.approx(roas, rel=0.25)


@pytest.mark.slow
def test_mmm_stan_weekly_fits(run_cli, tmp_path, shared_datasets):
    summary = _fit(run_cli, tmp_path, "mmm-stan-weekly")
    assert summary["n_periods"] == 209
    assert len(summary["channels"]) == 10
    dec = pd.read_csv(tmp_path / "mmm-stan-weekly" / "decomposition.csv")
    parts = dec.drop(columns=["date", "actual", "fitted"]).sum(axis=1)
    np.testing.assert_allclose(parts, dec["fitted"], rtol=1e-6)
    assert all(
        np.isfinite(c["contribution"]) and c["contribution"] >= 0
        for c in summary["channels"].values()
    )
