"""ChannelAttribution's Data.csv (GPL-3 test data, read from ``$MEDIAMIX_CHANNELATTRIBUTION_DATA``).

Reference values:
* Markov order 1: the exact absorbing-chain solution quoted in the issue
  (P(conversion) = 0.22385, alpha 5,344.95 conversions). It also equals the
  empirical conversion rate 19,785 / (19,785 + 68,602) = 0.2238451..., which the
  maximum-likelihood chain reproduces exactly (flow conservation), for any order.
* Heuristics: golden values printed by ChannelAttribution 2.2.5
  ``heuristic_models(Data, "path", "total_conversions", var_value="total_conversion_value")``
  (run in a separate venv by benchmarks/attribution_bench.py; GPL-3, never a dependency).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mediamix.attribution import (
    Journeys,
    compare_methods,
    first_touch,
    last_touch,
    linear,
    markov,
    read_paths,
)

CHANNELS = (
    "alpha",
    "beta",
    "delta",
    "epsilon",
    "eta",
    "gamma",
    "iota",
    "kappa",
    "lambda",
    "mi",
    "theta",
    "zeta",
)
# ChannelAttribution 2.2.5 heuristic_models on Data.csv, rows sorted by channel.
CA_FIRST = [6308, 2831, 1, 99, 3164, 165, 4606, 74, 902, 2, 1606, 27]
CA_LAST = [8447, 989, 5, 531, 4167, 92, 3355, 230, 1207, 2, 653, 107]
CA_LINEAR = [
    7574.718594,
    2083.500145,
    1.725000,
    272.170438,
    3539.951157,
    121.041639,
    3857.096221,
    137.964078,
    1035.257572,
    2.222222,
    1022.801394,
    136.551540,
]
CA_LINEAR_VALUE = [
    24524.709569,
    8954.266717,
    4.404050,
    1106.270065,
    13783.497051,
    569.417358,
    15988.988995,
    599.747786,
    4430.316169,
    6.081444,
    4295.743619,
    539.528763,
]
CA_FIRST_VALUE = [
    19121.272356,
    12235.591744,
    6.119000,
    412.301243,
    11909.476213,
    718.977992,
    19597.261277,
    305.743250,
    3735.602165,
    5.273000,
    6652.349347,
    103.004000,
]


@pytest.fixture(scope="module")
def data(data_csv: Path) -> Journeys:
    return read_paths(data_csv)


def test_totals_match_source_md(data: Journeys) -> None:
    assert data.n_journeys == 10_000
    assert data.channels == CHANNELS
    assert data.total_conversions == 19_785
    assert data.nulls.sum() == 68_602
    assert data.total_value == pytest.approx(74_802.97, abs=0.01)


def test_markov_order1_exact(data: Journeys) -> None:
    res = markov(data, order=1)
    assert res.p_conversion == pytest.approx(0.22385, abs=5e-6)
    assert res.p_conversion == pytest.approx(19_785 / (19_785 + 68_602), rel=1e-12)
    alpha = res.conversions[CHANNELS.index("alpha")]
    assert alpha == pytest.approx(5_344.95, abs=0.005)
    assert res.conversions.sum() == pytest.approx(19_785)
    assert res.conversion_value.sum() == pytest.approx(74_802.97, abs=0.01)


@pytest.mark.parametrize("order", [2, 3])
def test_markov_higher_order_keeps_the_empirical_rate(data: Journeys, order: int) -> None:
    res = markov(data, order=order)
    assert res.p_conversion == pytest.approx(19_785 / (19_785 + 68_602), rel=1e-10)
    assert res.conversions.sum() == pytest.approx(19_785)
    assert len(res.states) > 12 * order  # tuples, not channels


def test_heuristics_match_channelattribution(data: Journeys) -> None:
    np.testing.assert_allclose(first_touch(data).conversions, CA_FIRST)
    np.testing.assert_allclose(last_touch(data).conversions, CA_LAST)
    np.testing.assert_allclose(linear(data).conversions, CA_LINEAR, atol=1e-5)
    np.testing.assert_allclose(linear(data).conversion_value, CA_LINEAR_VALUE, atol=1e-5)
    np.testing.assert_allclose(first_touch(data).conversion_value, CA_FIRST_VALUE, atol=1e-5)


def test_every_method_credits_the_totals(data: Journeys) -> None:
    table = compare_methods(data)
    for col in table.columns:
        if col.endswith("_conversions"):
            assert table[col].sum() == pytest.approx(19_785), col
        elif col.endswith("_value"):
            assert table[col].sum() == pytest.approx(74_802.97, abs=0.01), col
