"""Lift tests enter the likelihood of the Bayesian engine (MAP, fast)."""

from __future__ import annotations

import numpy as np
import pytest

from mediamix.data.spec import ModelSpec
from mediamix.data.synthetic import SynthConfig, synthesize
from mediamix.data.validation import build_dataset

pytest.importorskip("jax")
pytest.importorskip("numpyro")

from mediamix.models.bayes.fit import BayesOptions, fit_bayes

pytestmark = [pytest.mark.bayes, pytest.mark.slow]


def test_a_confident_lift_test_pulls_the_channel():
    """A precise experiment saying TV added 3x its true KPI over a year moves TV's
    contribution in that year toward the experiment, and the fit reports it used it."""
    syn = synthesize(SynthConfig(seed=1, weeks=104, channels=3))
    truth = syn.truth["channels"]["tv"]
    year = syn.frame["date"] <= "2021-12-27"
    share = float(syn.frame.loc[year, "tv_spend"].sum() / syn.frame["tv_spend"].sum())
    claimed = 3.0 * truth["contribution"] * share  # rough: contribution in proportion to spend
    spec_dict = {
        **syn.spec,
        "lift_tests": [
            {
                "channel": "tv",
                "start": "2021-01-04",
                "end": "2021-12-27",
                "lift": claimed,
                "standard_error": 0.02 * claimed,
            }
        ],
    }
    spec = ModelSpec.model_validate(spec_dict)
    data, _ = build_dataset(syn.frame, spec, source="synth")
    res = fit_bayes(data, spec, BayesOptions(method="map", svi_steps=1500, seed=0))
    assert res.info["lift_tests_used"] == 1
    media = res.media_components()[:, 0]
    in_window = float(media[np.asarray(year)].sum())
    assert abs(in_window - claimed) / claimed < 0.25
