"""Planning curves with a band: hand-computed on two draws of known curves."""

from __future__ import annotations

import numpy as np
import pytest

from mediamix.optimization.bands import curve_bands
from mediamix.optimization.response import DrawsResponse, curves_from_dict
from mediamix.optimization.scenarios import scenario_block

HILL = {"type": "hill", "half_saturation": 10.0, "slope": 1.0}


def _model(beta_a: float, beta_b: float) -> object:
    return curves_from_dict(
        {
            "channels": {
                "a": {"beta": beta_a, "saturation": HILL},
                "b": {"beta": beta_b, "saturation": HILL},
            }
        }
    )


def test_band_is_the_quantiles_of_each_draws_channel_part() -> None:
    model = DrawsResponse((_model(10.0, 4.0), _model(30.0, 4.0)))
    table = curve_bands(model, {"a": 10.0, "b": 10.0}, [0.0, 1.0, 3.0])
    a = table[table["channel"] == "a"].reset_index(drop=True)
    # channel a at spend s: beta * s / (s + 10) under each draw; the others held cancel out
    for k, spend in enumerate([0.0, 10.0, 30.0]):
        parts = np.array([10.0, 30.0]) * spend / (spend + 10.0)
        assert a.loc[k, "spend"] == spend
        assert a.loc[k, "response"] == pytest.approx(parts.mean())
        assert a.loc[k, "lower"] == pytest.approx(parts[0] + 0.05 * (parts[1] - parts[0]))
        assert a.loc[k, "upper"] == pytest.approx(parts[0] + 0.95 * (parts[1] - parts[0]))
        assert a.loc[k, "marginal_roi"] == pytest.approx(20.0 * 10.0 / (spend + 10.0) ** 2)
    b = table[table["channel"] == "b"]
    assert np.allclose(b["lower"], b["upper"])  # both draws agree on channel b


def test_scenario_block_carries_the_interval_of_each_allocation() -> None:
    model = DrawsResponse((_model(10.0, 4.0), _model(30.0, 4.0)))
    block = scenario_block(model, {"current": {"a": 10.0, "b": 10.0}, "x": {"a": 0.0, "b": 20.0}})
    low, high = block["x"]["response_interval"]
    totals = np.array([4.0 * 20.0 / 30.0, 4.0 * 20.0 / 30.0])
    assert low == pytest.approx(totals.min())
    assert high == pytest.approx(totals.max())
    assert block["current"]["response_interval"][0] < block["current"]["response_interval"][1]
    plain = scenario_block(_model(10.0, 4.0), {"current": {"a": 10.0, "b": 10.0}})
    assert plain["current"]["response_interval"] is None
