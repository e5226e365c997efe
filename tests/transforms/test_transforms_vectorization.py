"""Shapes of the vectorization contract, input errors, speed, and the docstring examples."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from mediamix.errors import InputError
from mediamix.transforms import (
    adstock,
    binomial_adstock,
    convolve_weights,
    geometric_adstock,
    hill,
    hill_derivative,
    hill_robyn,
    registry,
    saturation,
    weibull_adstock,
)

T, C, B = 12, 3, 4
RNG = np.random.default_rng(7)
X_TC = RNG.uniform(0, 10, size=(T, C))


@pytest.mark.parametrize(
    ("x_shape", "param_shape", "out_shape"),
    [
        ((T,), (), (T,)),
        ((T,), (C,), (T, C)),
        ((T, C), (), (T, C)),
        ((T, C), (C,), (T, C)),
        ((T, C), (B, C), (B, T, C)),
        ((T,), (B, C), (B, T, C)),
        ((B, T, C), (B, C), (B, T, C)),
    ],
)
@pytest.mark.parametrize(
    "fn",
    [
        lambda x, a: geometric_adstock(x, a),
        lambda x, a: geometric_adstock(x, a, l_max=4, normalize=True),
        lambda x, a: binomial_adstock(x, a, 3),
        lambda x, a: weibull_adstock(x, 2 * a, a / 2, kind="pdf"),
    ],
)
def test_adstock_shapes(x_shape: tuple, param_shape: tuple, out_shape: tuple, fn) -> None:
    x = RNG.uniform(0, 10, size=x_shape)
    alpha = RNG.uniform(0.1, 0.9, size=param_shape)
    assert fn(x, alpha).shape == out_shape


def test_batched_x_matches_unbatched() -> None:
    alpha = RNG.uniform(0.1, 0.9, size=(B, C))
    x = np.broadcast_to(X_TC, (B, T, C))
    for l_max in (None, 5):
        np.testing.assert_allclose(
            geometric_adstock(x, alpha, l_max=l_max), geometric_adstock(X_TC, alpha, l_max=l_max)
        )


@pytest.mark.parametrize(
    ("x_shape", "param_shape", "out_shape"),
    [
        ((T,), (), (T,)),
        ((T, C), (C,), (T, C)),
        ((T, C), (B, C), (B, T, C)),
        ((C,), (B, C), (B, C)),
        ((C,), (C,), (C,)),
        ((), (), ()),
    ],
)
def test_saturation_shapes(x_shape: tuple, param_shape: tuple, out_shape: tuple) -> None:
    x = RNG.uniform(0, 10, size=x_shape)
    k = RNG.uniform(1, 5, size=param_shape)
    assert hill(x, k, 1.5).shape == out_shape
    assert hill_derivative(x, k, 1.5).shape == out_shape


def test_hill_robyn_per_channel_inflexion() -> None:
    # Inflexion per channel: gamma * max over time of each column.
    x = np.array([[0.0, 0.0], [10.0, 100.0]])
    np.testing.assert_allclose(hill_robyn(x, 1.0, 0.5), [[0.0, 0.0], [2 / 3, 2 / 3]])
    batch = hill_robyn(x, np.ones((2, 2)), np.array([[0.5, 0.5], [1.0, 1.0]]))
    assert batch.shape == (2, 2, 2)
    np.testing.assert_allclose(batch[1, 1], [0.5, 0.5])


def test_convolve_drops_lags_longer_than_the_series() -> None:
    np.testing.assert_allclose(convolve_weights([1.0, 2.0], [1.0, 1.0, 1.0, 1.0]), [1.0, 3.0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: geometric_adstock([1.0], 1.5), "alpha must be in"),
        (lambda: geometric_adstock([1.0], np.nan), "alpha must be finite"),
        (lambda: geometric_adstock(5.0, 0.5), "time axis"),
        (lambda: geometric_adstock([], 0.5), "no periods"),
        (lambda: geometric_adstock([1.0], 0.5, l_max=0), "l_max must be a positive integer"),
        (lambda: binomial_adstock([1.0], 0.5, -1), "max_lag must be a non-negative integer"),
        (lambda: weibull_adstock([1.0], 1.0, 2.0), "scale must be in"),
        (lambda: weibull_adstock([1.0], 1.0, 0.5, kind="mass"), "kind must be"),
        (lambda: hill([-1.0], 1.0, 1.0), "x must be >= 0"),
        (lambda: hill([1.0], 0.0, 1.0), "half_saturation must be finite and > 0"),
    ],
)
def test_bad_input_raises_input_error(call, message: str) -> None:
    with pytest.raises(InputError, match=message):
        call()


@pytest.mark.parametrize("module", [adstock, saturation, registry])
def test_docstring_examples(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
