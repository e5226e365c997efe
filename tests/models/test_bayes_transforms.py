"""The JAX transforms of the Bayesian engine equal the numpy reference transforms."""

from __future__ import annotations

import numpy as np
import pytest

from mediamix.transforms import adstock as ad
from mediamix.transforms import saturation as sat

jax = pytest.importorskip("jax")
pytest.importorskip("numpyro")
jt = pytest.importorskip("mediamix.models.bayes.jax_transforms")

# The engine samples in float64 (fit_bayes enables it); compare in the same precision.
jax.config.update("jax_enable_x64", True)

pytestmark = pytest.mark.bayes

RTOL = 1e-6


@pytest.fixture
def spend() -> np.ndarray:
    rng = np.random.default_rng(7)
    x = rng.gamma(2.0, 1.0, (30, 3))
    x[5:9, 1] = 0.0  # flighted channel: zero weeks must pass through
    return x


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("l_max", [1, 8, 13, 40])
def test_geometric_window_matches_numpy(spend, l_max, normalize):
    alpha = np.array([0.0, 0.35, 0.9])
    got = np.asarray(jt.geometric_adstock(spend, alpha, l_max, normalize=normalize))
    want = ad.geometric_adstock(spend, alpha, l_max=l_max, normalize=normalize)
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-12)


def test_geometric_batched_parameters(spend):
    alphas = np.array([[0.1, 0.5, 0.7], [0.6, 0.2, 0.3]])
    got = np.asarray(jt.geometric_adstock(spend, alphas, 13, normalize=True))
    want = ad.geometric_adstock(spend, alphas, l_max=13, normalize=True)
    assert got.shape == want.shape == (2, 30, 3)
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("normalize", [False, True])
def test_weibull_pdf_matches_numpy(spend, normalize):
    shape = np.array([1.5, 2.7, 0.8])
    scale = np.array([1.0, 3.5, 2.0])
    w = jt.weibull_pdf_weights(shape, scale, 13, normalize=normalize)
    want_w = ad.weibull_weights(
        shape, scale, kind="pdf", convention="pymc", l_max=13, normalize=normalize
    )
    np.testing.assert_allclose(np.asarray(w), want_w, rtol=RTOL, atol=1e-12)
    got = np.asarray(jt.convolve_weights(spend, w))
    want = ad.weibull_adstock(
        spend, shape, scale, kind="pdf", convention="pymc", l_max=13, normalize=normalize
    )
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-12)


def test_delayed_matches_numpy(spend):
    alpha, theta = np.array([0.4, 0.6, 0.9]), np.array([0.0, 1.5, 3.0])
    got = np.asarray(jt.convolve_weights(spend, jt.delayed_weights(alpha, theta, 13)))
    want = ad.delayed_adstock(spend, alpha, theta, 13, True)
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-12)


def test_hill_matches_numpy(spend):
    k, s = np.array([0.5, 2.0, 1.0]), np.array([0.8, 2.5, 1.0])
    np.testing.assert_allclose(
        np.asarray(jt.hill(spend, k, s)), sat.hill(spend, k, s), rtol=RTOL, atol=1e-12
    )
    assert float(jt.hill(np.zeros((1, 1)), np.ones(1), np.ones(1))[0, 0]) == 0.0


def test_logistic_matches_numpy(spend):
    lam = np.array([0.3, 1.0, 4.0])
    np.testing.assert_allclose(
        np.asarray(jt.logistic(spend, lam)), sat.logistic(spend, lam), rtol=RTOL, atol=1e-12
    )


def test_hill_gradient_is_finite_at_zero():
    grad = jax.grad(lambda k: jt.hill(np.array([[0.0], [1.0]]), k, np.array([1.5])).sum())
    assert np.all(np.isfinite(np.asarray(grad(np.array([0.7])))))
