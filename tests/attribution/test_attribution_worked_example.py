"""The issue's worked example, with every figure derived by hand below.

Journeys (path; conversions; nulls):
    A > B > C; 1; 1      A > C; 1; 0      B; 0; 1      A > A > B; 0; 1      C; 1; 0
3 conversions and 3 null journeys; 6 journeys in all.
"""

from __future__ import annotations

import numpy as np
import pytest

from mediamix.attribution import (
    Journeys,
    first_touch,
    last_touch,
    linear,
    linear_channel,
    markov,
    position_based,
    shapley,
)


def test_markov_order1_removal_effects_by_hand(worked_example: Journeys) -> None:
    # A > A > B collapses to A > B. Transition counts (a path weighs conv + null):
    #   start -> A: 2 (ABC) + 1 (AC) + 1 (AB) = 4;  start -> B: 1;  start -> C: 1
    #   A -> B: 2 (ABC) + 1 (AB) = 3;  A -> C: 1 (AC)
    #   B -> C: 2 (ABC);  B -> null: 1 (B) + 1 (AB)
    #   C -> conv: 1 (ABC) + 1 (AC) + 1 (C) = 3;  C -> null: 1 (ABC)
    # Probabilities: start A 4/6, B 1/6, C 1/6; A: B 3/4, C 1/4; B: C 1/2, null 1/2;
    #   C: conv 3/4, null 1/4.
    # x_C = 3/4; x_B = 1/2 * 3/4 = 3/8; x_A = 3/4 * 3/8 + 1/4 * 3/4 = 9/32 + 6/32 = 15/32
    # P(conv) = 4/6 * 15/32 + 1/6 * 3/8 + 1/6 * 3/4 = 60/192 + 12/192 + 24/192 = 1/2
    # Remove A (start -> A goes to null): 12/192 + 24/192 = 3/16; RE_A = 1 - (3/16)/(1/2) = 5/8
    # Remove B: x_A = 1/4 * 3/4 = 3/16; P = 4/6 * 3/16 + 1/6 * 3/4 = 1/8 + 1/8 = 1/4;
    #   RE_B = 1 - (1/4)/(1/2) = 1/2
    # Remove C: nothing converts; RE_C = 1
    # Credit: RE sum 5/8 + 4/8 + 8/8 = 17/8 -> 3 * (5/17, 4/17, 8/17) = 15/17, 12/17, 24/17
    res = markov(worked_example)
    assert res.channels == ("A", "B", "C")
    assert res.p_conversion == pytest.approx(0.5, abs=1e-12)
    np.testing.assert_allclose(res.removal_effects, [5 / 8, 1 / 2, 1.0], atol=1e-12)
    np.testing.assert_allclose(res.conversions, [15 / 17, 12 / 17, 24 / 17], atol=1e-12)
    assert np.isnan(res.conversion_value).all()  # no value column


def test_markov_transition_matrix_by_hand(worked_example: Journeys) -> None:
    t = markov(worked_example).transition_table()
    probs = {(a, b): p for a, b, p in t.itertuples(index=False)}
    assert probs[("(start)", "A")] == pytest.approx(4 / 6)
    assert probs[("A", "B")] == pytest.approx(3 / 4)
    assert probs[("B", "(null)")] == pytest.approx(1 / 2)
    assert probs[("C", "(conversion)")] == pytest.approx(3 / 4)
    assert ("A", "A") not in probs  # repeats collapsed


def test_markov_keep_repeats_adds_a_self_loop_with_the_same_answer(
    worked_example: Journeys,
) -> None:
    # Keeping A > A > B adds A -> A with count 1: A goes to A 1/5, B 3/5, C 1/5.
    # x_A = (3/5 x_B + 1/5 x_C) / (1 - 1/5) = (9/40 + 6/40) * 5/4 = 15/32: the self-loop
    # only delays, so P(conv) and removal effects are those of the collapsed chain.
    res = markov(worked_example, collapse_repeats=False)
    probs = {(a, b): p for a, b, p in res.transition_table().itertuples(index=False)}
    assert probs[("A", "A")] == pytest.approx(1 / 5)
    np.testing.assert_allclose(res.removal_effects, [5 / 8, 1 / 2, 1.0], atol=1e-12)


def test_linear_per_touch_by_hand(worked_example: Journeys) -> None:
    # ABC (1 conv): 1/3 each; AC: 1/2 each; C: 1.  A = 1/3 + 1/2 = 5/6, B = 1/3,
    # C = 1/3 + 1/2 + 1 = 11/6. Non-converting paths carry no credit.
    np.testing.assert_allclose(linear(worked_example).conversions, [5 / 6, 1 / 3, 11 / 6])


def test_linear_per_touch_and_per_channel_differ_on_repeats() -> None:
    # A > A > B with 1 conversion: per touch A 2/3, B 1/3; per distinct channel 1/2 each.
    j = Journeys.from_paths(["A > A > B"], conversions=[1])
    np.testing.assert_allclose(linear(j).conversions, [2 / 3, 1 / 3])
    np.testing.assert_allclose(linear_channel(j).conversions, [1 / 2, 1 / 2])


def test_position_based_by_hand(worked_example: Journeys) -> None:
    # ABC: A .4, B .2, C .4; AC: .5/.5; C: 1.  A = .9, B = .2, C = .4 + .5 + 1 = 1.9
    np.testing.assert_allclose(position_based(worked_example).conversions, [0.9, 0.2, 1.9])


def test_first_and_last_touch_by_hand(worked_example: Journeys) -> None:
    # First touches of converting paths: A (ABC), A (AC), C (C); last: C, C, C.
    np.testing.assert_allclose(first_touch(worked_example).conversions, [2, 0, 1])
    np.testing.assert_allclose(last_touch(worked_example).conversions, [0, 0, 3])


def test_shapley_by_hand(worked_example: Journeys) -> None:
    # Channel sets: {A,B,C} 1/2 (conv/journeys), {A,C} 1/1, {B} 0/1, {A,B} 0/1, {C} 1/1.
    # v(S) = conversion rate of journeys whose set is inside S:
    #   v(A) = 0 (none), v(B) = 0/1, v(C) = 1/1, v(AB) = 0/2, v(AC) = 2/2, v(BC) = 1/2,
    #   v(ABC) = 3/6.  Weights for n = 3: |S| = 0 -> 1/3, 1 -> 1/6, 2 -> 1/3.
    # phi_A = 1/3 (0) + 1/6 (0 - 0) + 1/6 (1 - 1) + 1/3 (1/2 - 1/2) = 0
    # phi_B = 1/3 (0) + 1/6 (0 - 0) + 1/6 (1/2 - 1) + 1/3 (1/2 - 1) = -1/12 - 1/6 = -1/4
    # phi_C = 1/3 (1) + 1/6 (1 - 0) + 1/6 (1/2 - 0) + 1/3 (1/2 - 0) = 3/4
    # Sum 1/2 = v(ABC). Scaled by the 6 journeys: 0, -1.5, 4.5 (sum 3 conversions).
    res = shapley(worked_example)
    assert res.exact
    np.testing.assert_allclose(res.phi, [0.0, -0.25, 0.75], atol=1e-12)
    np.testing.assert_allclose(res.conversions, [0.0, -1.5, 4.5], atol=1e-12)
