"""Synthetic data: deterministic by seed, truth consistent with CONTRACTS.md definitions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from mediamix.data.synthetic import SynthConfig, channel_response, synthesize, true_plan_response


def test_deterministic_by_seed():
    a = synthesize(SynthConfig(seed=5, weeks=80, channels=3))
    b = synthesize(SynthConfig(seed=5, weeks=80, channels=3))
    c = synthesize(SynthConfig(seed=6, weeks=80, channels=3))
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert json.dumps(a.truth, sort_keys=True) == json.dumps(b.truth, sort_keys=True)
    assert not a.frame.equals(c.frame)


def test_truth_matches_definitions():
    res = synthesize(SynthConfig(seed=2, weeks=120, channels=4, noise=0.0))
    for name, info in res.truth["channels"].items():
        spend = res.frame[f"{name}_spend"].to_numpy()
        contribution = channel_response(
            spend, info["adstock"], info["saturation"], info["beta"]
        ).sum()
        # spend is rounded to cents in the CSV: allow that much
        assert np.isclose(contribution, info["contribution"], rtol=1e-4)
        bumped = channel_response(
            spend * 1.01, info["adstock"], info["saturation"], info["beta"]
        ).sum()
        assert np.isclose((bumped - contribution) / (0.01 * spend.sum()), info["mroi"], rtol=1e-3)
        assert np.isclose(info["roi"], info["contribution"] / info["spend"])


def test_truth_covers_several_transform_kinds_and_media_share():
    res = synthesize(SynthConfig(seed=3, weeks=156, channels=6, media_share=0.3, noise=0.0))
    kinds = {c["adstock"]["type"] for c in res.truth["channels"].values()}
    sats = {c["saturation"]["type"] for c in res.truth["channels"].values()}
    assert {"geometric", "weibull_pdf", "delayed"} <= kinds
    assert {"hill", "logistic"} <= sats
    media = sum(c["contribution"] for c in res.truth["channels"].values())
    assert np.isclose(media / res.frame["revenue"].sum(), 0.3, atol=0.01)


def test_true_plan_response_reproduces_contributions_at_history():
    res = synthesize(SynthConfig(seed=4, weeks=104, channels=3, noise=0.0))
    names = list(res.truth["channels"])
    history = res.frame[[f"{n}_spend" for n in names]].to_numpy()
    totals = {n: float(history[:, i].sum()) for i, n in enumerate(names)}
    total = true_plan_response(res.truth, history, totals)
    expected = sum(c["contribution"] for c in res.truth["channels"].values())
    assert np.isclose(total, expected, rtol=1e-4)


def test_geo_data_has_geo_and_population_columns():
    res = synthesize(SynthConfig(seed=1, weeks=60, channels=2, geos=3))
    assert set(res.frame["geo"]) == {"geo_01", "geo_02", "geo_03"}
    assert res.spec["geo"] == "geo"
    assert res.spec["population"] == "population"
    assert len(res.frame) == 180
