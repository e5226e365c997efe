"""Property-based tests (hypothesis) over every adstock and saturation convention."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediamix.transforms import (
    ADSTOCKS,
    SATURATIONS,
    AdstockTransform,
    HillRobynSaturation,
    SaturationTransform,
    adstock_from_dict,
    binomial_adstock,
    convolve_weights,
    delayed_adstock,
    geometric_adstock,
    geometric_adstock_lightweight,
    geometric_adstock_meridian,
    hill,
    hill_robyn,
    logistic,
    michaelis_menten,
    saturation_from_dict,
    tanh_saturation,
    weibull_adstock,
)

FAST = settings(max_examples=40, deadline=None)

# Pure adstock callables with the range of each parameter: f(x, **params).
AdstockFn = Callable[..., np.ndarray]
ADSTOCK_CASES: dict[str, tuple[AdstockFn, dict[str, tuple[float, float]]]] = {
    "robyn_geometric": (lambda x, alpha: geometric_adstock(x, alpha), {"alpha": (0.0, 1.0)}),
    "pymc_geometric": (
        lambda x, alpha: geometric_adstock(x, alpha, l_max=5, normalize=True),
        {"alpha": (0.0, 1.0)},
    ),
    "pymc_geometric_raw": (
        lambda x, alpha: geometric_adstock(x, alpha, l_max=3),
        {"alpha": (0.0, 1.0)},
    ),
    "meridian_geometric": (
        lambda x, alpha: geometric_adstock_meridian(x, alpha, 4),
        {"alpha": (0.0, 1.0)},
    ),
    "lightweight": (
        lambda x, lam: geometric_adstock_lightweight(x, lam),
        {"lam": (0.0, 1.0)},
    ),
    "delayed": (
        lambda x, alpha, theta: delayed_adstock(x, alpha, theta, 6),
        {"alpha": (0.05, 1.0), "theta": (0.0, 4.0)},
    ),
    "binomial": (lambda x, alpha: binomial_adstock(x, alpha, 4), {"alpha": (0.0, 1.0)}),
    "weibull_cdf_robyn": (
        lambda x, shape, scale: weibull_adstock(x, shape, scale, kind="cdf"),
        {"shape": (0.0, 3.0), "scale": (0.0, 1.0)},
    ),
    "weibull_pdf_robyn": (
        lambda x, shape, scale: weibull_adstock(x, shape, scale, kind="pdf"),
        {"shape": (0.0, 10.0), "scale": (0.0, 1.0)},
    ),
    "weibull_cdf_pymc": (
        lambda x, shape, scale: weibull_adstock(
            x, shape, scale, kind="cdf", convention="pymc", l_max=5, normalize=True
        ),
        {"shape": (0.1, 3.0), "scale": (0.5, 8.0)},
    ),
    "weibull_pdf_pymc": (
        lambda x, shape, scale: weibull_adstock(
            x, shape, scale, kind="pdf", convention="pymc", l_max=5
        ),
        {"shape": (0.1, 5.0), "scale": (0.5, 8.0)},
    ),
}

# Conventions whose weights sum to 1 and whose window (in lags) is known.
NORMALIZED_WINDOWS = {
    "pymc_geometric": 5,
    "meridian_geometric": 5,
    "delayed": 6,
    "binomial": 5,
    "weibull_cdf_pymc": 6,  # PyMC's CDF window has l_max + 1 lags
}

SaturationFn = Callable[..., np.ndarray]
# (f, derivative-free bound on f, parameter ranges); x is media scaled to about 1.
SATURATION_CASES: dict[str, tuple[SaturationFn, Callable[..., float], dict[str, Any]]] = {
    "hill": (
        lambda x, k, s: hill(x, k, s),
        lambda k, s: 1.0,
        {"k": (0.1, 3.0), "s": (0.3, 4.0)},
    ),
    "hill_robyn": (
        lambda x, a, g: hill_robyn(x, a, g, x_range=[0.0, 2.0]),
        lambda a, g: 1.0,
        {"a": (0.3, 4.0), "g": (0.1, 1.0)},
    ),
    "logistic": (lambda x, lam: logistic(x, lam), lambda lam: 1.0, {"lam": (0.1, 10.0)}),
    "michaelis_menten": (
        lambda x, a, lam: michaelis_menten(x, a, lam),
        lambda a, lam: a,
        {"a": (0.1, 10.0), "lam": (0.1, 3.0)},
    ),
    "tanh": (
        lambda x, b, c: tanh_saturation(x, b, c),
        lambda b, c: b,
        {"b": (0.1, 10.0), "c": (0.1, 5.0)},
    ),
}


def _draw_params(
    rng: np.random.Generator, ranges: dict[str, tuple[float, float]], size: Any
) -> dict[str, Any]:
    return {k: rng.uniform(lo, hi, size=size) for k, (lo, hi) in ranges.items()}


def _series(rng: np.random.Generator, n_periods: int, n_channels: int | None = None) -> np.ndarray:
    shape = (n_periods,) if n_channels is None else (n_periods, n_channels)
    # Sparse pulses and zeros, as in real flighted spend.
    return rng.uniform(0, 100, size=shape) * (rng.uniform(size=shape) < 0.6)


seeds = st.integers(0, 2**32 - 1)
lengths = st.integers(1, 30)


# ------------------------------------------------------------------------- adstock


@pytest.mark.parametrize("case", sorted(ADSTOCK_CASES))
@FAST
@given(seed=seeds, n_periods=lengths, a=st.floats(-3, 3), b=st.floats(-3, 3))
def test_adstock_is_linear(case: str, seed: int, n_periods: int, a: float, b: float) -> None:
    fn, ranges = ADSTOCK_CASES[case]
    rng = np.random.default_rng(seed)
    params = _draw_params(rng, ranges, 2)
    x1, x2 = _series(rng, n_periods, 2), _series(rng, n_periods, 2)
    lhs = fn(a * x1 + b * x2, **params)
    rhs = a * fn(x1, **params) + b * fn(x2, **params)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("case", sorted(ADSTOCK_CASES))
@FAST
@given(seed=seeds, n_periods=lengths)
def test_adstock_is_non_negative(case: str, seed: int, n_periods: int) -> None:
    fn, ranges = ADSTOCK_CASES[case]
    rng = np.random.default_rng(seed)
    y = fn(_series(rng, n_periods, 3), **_draw_params(rng, ranges, 3))
    assert np.all(y >= 0)


@pytest.mark.parametrize("case", sorted(NORMALIZED_WINDOWS))
@FAST
@given(seed=seeds, n_active=st.integers(1, 20))
def test_normalized_adstock_preserves_mass(case: str, seed: int, n_active: int) -> None:
    fn, ranges = ADSTOCK_CASES[case]
    rng = np.random.default_rng(seed)
    window = NORMALIZED_WINDOWS[case]
    # Zeros after the last spend so the whole window fits in the series.
    x = np.concatenate([_series(rng, n_active, 2), np.zeros((window - 1, 2))])
    y = fn(x, **_draw_params(rng, ranges, 2))
    np.testing.assert_allclose(y.sum(axis=0), x.sum(axis=0), rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("case", sorted(ADSTOCK_CASES))
@settings(max_examples=15, deadline=None)
@given(seed=seeds, n_periods=lengths, n_batch=st.integers(1, 4), n_channels=st.integers(1, 3))
def test_adstock_batch_equals_loop(
    case: str, seed: int, n_periods: int, n_batch: int, n_channels: int
) -> None:
    fn, ranges = ADSTOCK_CASES[case]
    rng = np.random.default_rng(seed)
    x = _series(rng, n_periods, n_channels)
    params = _draw_params(rng, ranges, (n_batch, n_channels))
    batched = fn(x, **params)
    assert batched.shape == (n_batch, n_periods, n_channels)
    for i in range(n_batch):
        per_channel = fn(x, **{k: v[i] for k, v in params.items()})
        np.testing.assert_allclose(batched[i], per_channel, rtol=1e-12, atol=1e-10)
        for c in range(n_channels):
            single = fn(x[:, c], **{k: float(v[i, c]) for k, v in params.items()})
            assert single.shape == (n_periods,)
            np.testing.assert_allclose(batched[i, :, c], single, rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("name", sorted(ADSTOCKS))
@settings(max_examples=20, deadline=None)
@given(seed=seeds, n_periods=lengths)
def test_apply_equals_convolution_with_weights(name: str, seed: int, n_periods: int) -> None:
    cls = ADSTOCKS[name]
    rng = np.random.default_rng(seed)
    transform = cls(**{k: float(rng.uniform(lo, hi)) for k, (lo, hi) in cls.search_bounds.items()})
    x = _series(rng, n_periods)
    w = transform.weights(n_periods)
    np.testing.assert_allclose(transform.apply(x), convolve_weights(x, w), rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------- saturation


@pytest.mark.parametrize("case", sorted(SATURATION_CASES))
@FAST
@given(seed=seeds)
def test_saturation_monotone_bounded_zero_at_zero(case: str, seed: int) -> None:
    fn, bound, ranges = SATURATION_CASES[case]
    rng = np.random.default_rng(seed)
    params = {k: float(v) for k, v in _draw_params(rng, ranges, None).items()}
    x = np.concatenate([[0.0], np.sort(rng.uniform(0, 5, size=50)), [1e3, 1e6]])
    y = fn(x, **params)
    assert y[0] == 0.0
    assert np.all(np.diff(y) >= 0)
    assert np.all(y >= 0)
    assert np.all(y <= bound(**params) * (1 + 1e-12))


@pytest.mark.parametrize("name", sorted(SATURATIONS))
@FAST
@given(seed=seeds, x=st.floats(0.01, 5.0))
def test_saturation_derivative_matches_finite_difference(name: str, seed: int, x: float) -> None:
    cls = SATURATIONS[name]
    rng = np.random.default_rng(seed)
    transform = cls(**{k: float(rng.uniform(lo, hi)) for k, (lo, hi) in cls.search_bounds.items()})
    h = 1e-6 * x
    if isinstance(transform, HillRobynSaturation):
        # Robyn's inflexion follows the range of x; hold it on a fixed history.
        history = np.array([0.0, 2.0])
        f = lambda v: transform.apply(v, x_range=history)  # noqa: E731
        d = float(transform.derivative(x, x_range=history))
    else:
        f, d = transform.apply, float(transform.derivative(x))
    numeric = (float(f(x + h)) - float(f(x - h))) / (2 * h)
    assert d == pytest.approx(numeric, rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("case", sorted(SATURATION_CASES))
@settings(max_examples=15, deadline=None)
@given(seed=seeds, n_periods=lengths, n_batch=st.integers(1, 4), n_channels=st.integers(1, 3))
def test_saturation_batch_equals_loop(
    case: str, seed: int, n_periods: int, n_batch: int, n_channels: int
) -> None:
    fn, _, ranges = SATURATION_CASES[case]
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 3, size=(n_periods, n_channels))
    params = _draw_params(rng, ranges, (n_batch, n_channels))
    batched = fn(x, **params)
    assert batched.shape == (n_batch, n_periods, n_channels)
    for i in range(n_batch):
        for c in range(n_channels):
            single = fn(x[:, c], **{k: float(v[i, c]) for k, v in params.items()})
            np.testing.assert_allclose(batched[i, :, c], single, rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------------- registry


def _transform_strategy(cls: type[Any]) -> st.SearchStrategy[Any]:
    params = {k: st.floats(lo, hi) for k, (lo, hi) in cls.search_bounds.items()}
    if issubclass(cls, AdstockTransform):
        for extra in ("l_max", "max_lag"):
            if extra in {f for f in cls.__dataclass_fields__}:
                params[extra] = st.integers(1, 20)
        if "normalize" in cls.__dataclass_fields__:
            params["normalize"] = st.booleans()
    if "legacy" in cls.__dataclass_fields__:
        params["legacy"] = st.booleans()
    if "convention" in cls.__dataclass_fields__:
        params["convention"] = st.sampled_from(["robyn", "pymc"])
    return st.fixed_dictionaries(params).map(lambda kw: cls(**kw))


@pytest.mark.parametrize("name", sorted(ADSTOCKS))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_adstock_dict_round_trip(name: str, data: st.DataObject) -> None:
    transform = data.draw(_transform_strategy(ADSTOCKS[name]))
    d = transform.to_dict()
    assert d["type"] == name
    assert adstock_from_dict(d) == transform
    assert ADSTOCKS[name].from_dict(d) == transform


@pytest.mark.parametrize("name", sorted(SATURATIONS))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_saturation_dict_round_trip(name: str, data: st.DataObject) -> None:
    transform = data.draw(_transform_strategy(SATURATIONS[name]))
    d = transform.to_dict()
    assert d["type"] == name
    assert saturation_from_dict(d) == transform
    assert isinstance(saturation_from_dict(d), SaturationTransform)
