"""Rule-based attribution: hand-computed cases and invariants over random journeys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediamix.attribution import Journeys, read_event_log, rules, time_decay, w_shaped


def test_time_decay_uses_days_from_an_event_log() -> None:
    # Touches 14, 7 and 0 days before the conversion, h = 7 days:
    # 2^-2, 2^-1, 2^0 = 1/4, 1/2, 1 (sum 7/4) -> 1/7, 2/7, 4/7.
    log = pd.DataFrame(
        {
            "user_id": ["u"] * 3,
            "timestamp": ["2024-01-01", "2024-01-08", "2024-01-15"],
            "channel": ["search", "tv", "display"],
            "conversion": [0, 0, 1],
        }
    )
    j = read_event_log(log)
    out = time_decay(j, half_life=7.0).set_index("channel")["conversions"]
    assert out["search"] == pytest.approx(1 / 7)
    assert out["tv"] == pytest.approx(2 / 7)
    assert out["display"] == pytest.approx(4 / 7)


def test_time_decay_fallback_on_paths_counts_touches() -> None:
    # No timestamps: dt = touches before the conversion. h = 2 touches on A > B > C:
    # 2^-1, 2^-1/2, 1 normalised.
    j = Journeys.from_paths(["A > B > C"], conversions=[1])
    raw = np.array([2**-1, 2**-0.5, 1.0])
    np.testing.assert_allclose(time_decay(j, half_life=2.0).conversions, raw / raw.sum())


def test_time_decay_long_journeys_do_not_underflow() -> None:
    j = Journeys.from_paths([" > ".join(["A"] * 3000 + ["B"])], conversions=[1])
    out = time_decay(j, half_life=0.5).conversions
    assert np.isfinite(out).all()
    assert out.sum() == pytest.approx(1.0)


def test_w_shaped_roles_and_fallback() -> None:
    # Journey 1: A B C D E with the milestone on C: 0.3 A, 0.3 C, 0.3 E, 0.05 B, 0.05 D.
    # Journey 2: F G, milestone on G (also last): F 0.3, G 0.6 -> renormalised 1/3, 2/3.
    # Journey 3: H I J without milestone: position-based 0.4, 0.2, 0.4.
    codes = np.arange(10, dtype=np.int32)
    milestone = np.array([0, 0, 1, 0, 0, 0, 1, 0, 0, 0], dtype=bool)
    j = Journeys(
        tuple("ABCDEFGHIJ"),
        codes,
        np.array([0, 5, 7, 10]),
        np.ones(3),
        np.zeros(3),
        milestone=milestone,
    )
    np.testing.assert_allclose(
        w_shaped(j).conversions, [0.3, 0.05, 0.3, 0.05, 0.3, 1 / 3, 2 / 3, 0.4, 0.2, 0.4]
    )


def test_w_shaped_needs_milestones() -> None:
    with pytest.raises(ValueError, match="milestone"):
        w_shaped(Journeys.from_paths(["A"], [1]))


WEIGHT_FUNCTIONS = [
    rules.first_touch_weights,
    rules.last_touch_weights,
    rules.linear_weights,
    rules.linear_channel_weights,
    rules.position_based_weights,
    rules.time_decay_weights,
]


@settings(max_examples=50, deadline=None)
@given(
    paths=st.lists(
        st.lists(st.sampled_from("ABCDE"), min_size=1, max_size=8), min_size=1, max_size=10
    )
)
def test_weights_are_a_distribution_per_journey(paths: list[list[str]]) -> None:
    j = Journeys.from_paths(paths, conversions=np.ones(len(paths)))
    for f in WEIGHT_FUNCTIONS:
        w = f(j)
        assert (w >= 0).all(), f.__name__
        np.testing.assert_allclose(np.add.reduceat(w, j.offsets[:-1]), 1.0, err_msg=f.__name__)


def test_null_journeys_get_no_credit() -> None:
    j = Journeys.from_paths(["A > B", "C"], conversions=[0, 2], nulls=[5, 0])
    for f in WEIGHT_FUNCTIONS:
        out = rules.credit(j, f(j))
        np.testing.assert_allclose(out.conversions, [0, 0, 2], err_msg=f.__name__)
