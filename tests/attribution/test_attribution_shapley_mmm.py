"""Shapley (exact and Monte Carlo) and MMM-based attribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mediamix.attribution import (
    AttributionOptions,
    Journeys,
    compare_methods,
    linear_channel,
    mmm_attribution,
    shapley,
)
from mediamix.attribution.shapley import shapley_exact_values


def _random_journeys(n_channels: int, n: int, seed: int) -> Journeys:
    rng = np.random.default_rng(seed)
    names = [f"c{i:02d}" for i in range(n_channels)]
    paths = [list(rng.choice(names, size=rng.integers(1, 5))) for _ in range(n)]
    # channel c00 raises the conversion odds, so the values are not all alike
    p = np.array([0.6 if "c00" in p else 0.2 for p in paths])
    conv = rng.binomial(5, p)
    return Journeys.from_paths(paths, conversions=conv, nulls=5 - conv)


def test_monte_carlo_agrees_with_exact_within_its_error() -> None:
    j = _random_journeys(6, 400, seed=3)
    exact = shapley(j)
    mc = shapley(j, exact_max_channels=0, n_permutations=3000, seed=11)
    assert exact.exact
    assert not mc.exact
    assert (mc.standard_error > 0).all()
    z = (mc.conversions - exact.conversions) / mc.standard_error
    assert np.all(np.abs(z) < 4.5), z
    assert exact.conversions.sum() == pytest.approx(j.total_conversions)
    assert mc.conversions.sum() == pytest.approx(j.total_conversions)


def test_more_than_fifteen_channels_switch_to_monte_carlo() -> None:
    j = _random_journeys(17, 300, seed=5)
    res = shapley(j, n_permutations=200)
    assert not res.exact
    assert res.n_permutations == 200
    assert res.conversions.sum() == pytest.approx(j.total_conversions)
    assert np.argmax(res.conversions) == 0  # c00 drives conversions


def test_count_valued_game_would_reduce_to_linear_per_channel() -> None:
    # Why v(S) is a rate: with v(S) = conversions of journeys inside S the game is a sum
    # of unanimity games, whose Shapley value is linear attribution per distinct channel.
    j = _random_journeys(4, 50, seed=2)
    n = j.n_channels
    masks = j.channel_sets()
    v = np.array([j.conversions[(masks & ~s) == 0].sum() for s in range(1 << n)])
    np.testing.assert_allclose(shapley_exact_values(v, n), linear_channel(j).conversions)
    assert not np.allclose(shapley(j).conversions, linear_channel(j).conversions)


def test_mmm_shares_over_a_window_side_by_side() -> None:
    dec = pd.DataFrame(
        {
            "date": ["2024-01-01", "2024-01-08", "2024-01-15"],
            "actual": [100.0, 100.0, 100.0],
            "fitted": [99.0, 101.0, 100.0],
            "baseline": [50.0, 50.0, 50.0],
            "A": [30.0, 10.0, 999.0],
            "B": [19.0, 41.0, 0.0],
        }
    )
    j = Journeys.from_paths(["A > B", "B"], conversions=[3, 1], nulls=[1, 1], value=[30, 10])
    # window Jan 1..Jan 8: A 40, B 60 -> shares .4/.6 of 4 conversions and 40 value
    out = mmm_attribution(dec, ["A", "B"], total_conversions=4, total_value=40, end="2024-01-08")
    np.testing.assert_allclose(out.conversions, [1.6, 2.4])
    np.testing.assert_allclose(out.conversion_value, [16.0, 24.0])
    table = compare_methods(
        j, options=AttributionOptions(decomposition=dec, window_end="2024-01-08")
    )
    assert list(table.columns[-2:]) == ["mmm_conversions", "mmm_value"]
    np.testing.assert_allclose(table["mmm_conversions"], [1.6, 2.4])
    assert "markov_conversions" in table.columns
    assert "shapley_conversions" in table.columns


def test_mmm_channel_missing_from_decomposition_is_nan() -> None:
    dec = pd.DataFrame({"date": ["2024-01-01"], "A": [1.0]})
    out = mmm_attribution(dec, ["A", "Z"], total_conversions=2)
    assert out.conversions.iloc[0] == 2
    assert np.isnan(out.conversions.iloc[1])
