"""Markov chain attribution against an independent dense implementation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediamix.attribution import Journeys, markov


def dense_removal_effects(
    paths: list[list[str]], conv: list[int], null: list[int], order: int, collapse: bool
) -> tuple[float, dict[str, float]]:
    """Textbook version: Python dicts for the states, a dense solve per removal."""
    states: dict[tuple[str, ...], int] = {("(start)",): 0}
    counts: dict[tuple[int, int], float] = {}
    to_conv: dict[int, float] = {}
    to_null: dict[int, float] = {}
    for p, c, n in zip(paths, conv, null, strict=True):
        if c + n == 0:
            continue
        if collapse:
            p = [ch for i, ch in enumerate(p) if i == 0 or ch != p[i - 1]]
        seq = (
            [tuple(p)]
            if len(p) < order
            else [tuple(p[i - order + 1 : i + 1]) for i in range(order - 1, len(p))]
        )
        prev = 0
        for s in seq:
            idx = states.setdefault(s, len(states))
            counts[(prev, idx)] = counts.get((prev, idx), 0.0) + c + n
            prev = idx
        to_conv[prev] = to_conv.get(prev, 0.0) + c
        to_null[prev] = to_null.get(prev, 0.0) + n
    m = len(states)
    Q = np.zeros((m, m))
    for (a, b), w in counts.items():
        Q[a, b] += w
    r = np.array([to_conv.get(i, 0.0) for i in range(m)])
    out = Q.sum(axis=1) + r + np.array([to_null.get(i, 0.0) for i in range(m)])
    Q, r = Q / out[:, None], r / out

    def p_conv(keep: np.ndarray) -> float:
        idx = np.flatnonzero(keep)
        x = np.linalg.solve(np.eye(len(idx)) - Q[np.ix_(idx, idx)], r[idx])
        return float(x[0])

    base = p_conv(np.ones(m, dtype=bool))
    names = sorted({ch for p in paths for ch in p})
    re = {}
    for ch in names:
        keep = np.array([ch not in s or s == ("(start)",) for s in states])
        re[ch] = 1 - p_conv(keep) / base
    return base, re


journey_sets = st.lists(
    st.tuples(
        st.lists(st.sampled_from("ABCD"), min_size=1, max_size=6),
        st.integers(0, 3),
        st.integers(0, 3),
    ),
    min_size=1,
    max_size=12,
).filter(lambda rows: sum(c for _, c, _ in rows) > 0)


@settings(max_examples=60, deadline=None)
@given(rows=journey_sets, order=st.integers(1, 3), collapse=st.booleans())
def test_matches_dense_reference(
    rows: list[tuple[list[str], int, int]], order: int, collapse: bool
) -> None:
    paths = [p for p, _, _ in rows]
    conv = [c for _, c, _ in rows]
    null = [n for _, _, n in rows]
    j = Journeys.from_paths(paths, conv, null)
    res = markov(j, order, collapse_repeats=collapse)
    base, re = dense_removal_effects(paths, conv, null, order, collapse)
    assert res.p_conversion == pytest.approx(base, abs=1e-10)
    np.testing.assert_allclose(res.removal_effects, [re[c] for c in j.channels], atol=1e-9)
    # Invariants: the fitted chain reproduces the empirical conversion rate, and the
    # credited conversions add up to the total.
    weight = sum(conv) + sum(null)
    assert res.p_conversion == pytest.approx(sum(conv) / weight, abs=1e-10)
    assert res.conversions.sum() == pytest.approx(sum(conv))
    assert (res.removal_effects >= 0).all()
    assert (res.removal_effects <= 1).all()


def test_removal_effect_is_the_share_of_converting_walks_visiting_the_channel() -> None:
    # ChannelAttribution 2.x estimates this share by simulation; check it by simulation too.
    j = Journeys.from_paths(
        ["A > B > C", "A > C", "B", "A > A > B", "C", "B > A"],
        conversions=[1, 1, 0, 0, 1, 2],
        nulls=[1, 0, 1, 1, 0, 1],
    )
    res = markov(j)
    rng = np.random.default_rng(1)
    P = res.transitions.toarray()
    n_states = P.shape[0]
    full = np.hstack([P, res.to_conversion[:, None], res.to_null[:, None]])
    visits = np.zeros(3)
    n_conv = 0
    for _ in range(20_000):
        s, seen = 0, set()
        while s < n_states:
            s = int(rng.choice(n_states + 2, p=full[s]))
            if s < n_states:
                seen.add(res.states[s - 1][0])
        if s == n_states:
            n_conv += 1
            for ch in seen:
                visits[j.channels.index(ch)] += 1
    share = visits / n_conv
    se = np.sqrt(share * (1 - share) / n_conv) + 1e-9
    assert np.all(np.abs(share - res.removal_effects) < 5 * se)


def test_value_removal_effects_use_mean_value_of_the_last_state() -> None:
    # A converts with value 10 per conversion, B with 30. Paths: "A" 1 conv, "B" 1 conv,
    # "A > B" 1 null. Chain: start -> A 2/3, B 1/3; A -> conv 1/2, B 1/2; B -> conv 1/2,
    # null 1/2 (B ends 1 conversion of 2 transitions out).
    # Expected value: y_B = 1/2 * 30 = 15 (value ending in B / transitions out of B);
    # y_A = 10/2 + 1/2 * 15 = 12.5; V = 2/3 * 12.5 + 1/3 * 15 = 40/3.
    # Without A: V = 1/3 * 15 = 5 -> RE^v_A = 1 - 5 / (40/3) = 5/8.
    # Without B: y_A = 5; V = 2/3 * 5 = 10/3 -> RE^v_B = 1 - (10/3) / (40/3) = 3/4.
    # Credited value: 40 * (5/8, 3/4) / (11/8) = 200/11, 240/11.
    j = Journeys.from_paths(
        ["A", "B", "A > B"], conversions=[1, 1, 0], nulls=[0, 0, 1], value=[10.0, 30.0, 0.0]
    )
    res = markov(j)
    assert res.value_removal_effects is not None
    np.testing.assert_allclose(res.value_removal_effects, [5 / 8, 3 / 4])
    np.testing.assert_allclose(res.conversion_value, [200 / 11, 240 / 11])


def test_order_two_states_are_channel_pairs() -> None:
    j = Journeys.from_paths(["A > B > C", "C"], conversions=[1, 1], nulls=[0, 1])
    res = markov(j, order=2)
    assert set(res.states) == {("A", "B"), ("B", "C"), ("C",)}


def test_order_must_be_positive() -> None:
    with pytest.raises(ValueError, match="order"):
        markov(Journeys.from_paths(["A"], [1]), order=0)
