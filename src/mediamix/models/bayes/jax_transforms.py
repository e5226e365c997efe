r"""The transforms the Bayesian engine samples through, on a JAX backend.

NUTS needs gradients through the transform parameters, so the model evaluates the
kernels of :mod:`mediamix.transforms.kernels` (the formulas the numpy transforms
evaluate too) with :data:`JAX`; the functions here only convert their arguments to
JAX arrays (tests check equality with the numpy transforms to 1e-6).

Shapes
------
``x`` is time first, ``(T, C)`` or ``(*batch, T, C)``; parameters are ``(C,)`` or
``(*batch, C)`` (e.g. one row per posterior draw). Lag weights are ``(*batch, C, L)``.
The finite-window adstocks are the causal convolution

.. math:: y_t = \sum_{l=0}^{L-1} w_l \, x_{t-l}, \qquad x_s = 0 \text{ for } s < 0,

computed as one multiply-add against the stack of lagged copies of ``x``
(:func:`lag_stack`; ``L`` is 8-13 here, so this is cheaper than an FFT and
differentiable in the weights).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.nn import sigmoid
from jax.typing import ArrayLike

from mediamix.transforms import kernels
from mediamix.transforms.adstock import lagged_copies

__all__ = [
    "JAX",
    "convolve_weights",
    "delayed_weights",
    "geometric_adstock",
    "geometric_weights",
    "hill",
    "lag_stack",
    "logistic",
    "weibull_pdf_weights",
]


def _jax_first_lag(shape: tuple[int, ...], dtype: Any) -> Array:
    return jnp.zeros(shape, dtype).at[..., 0].set(1.0)


#: The JAX backend of the transform kernels.
JAX = kernels.Backend(xp=jnp, expit=sigmoid, first_lag=_jax_first_lag)


def convolve_weights(x: ArrayLike, w: ArrayLike) -> Array:
    r"""Causal convolution of ``x`` (``(*batch, T, C)``) with lag weights ``w`` (``(*batch, C, L)``).

    .. math:: y_t = \sum_{l=0}^{L-1} w_l \, x_{t-l}

    Same operator as :func:`mediamix.transforms.adstock.convolve_weights`; lags beyond
    the series length are dropped.

    Examples
    --------
    >>> convolve_weights(jnp.array([[100.0], [0.0], [0.0], [50.0]]), jnp.array([[0.5, 0.25]])).ravel().tolist()
    [50.0, 25.0, 0.0, 25.0]
    """
    wa = jnp.asarray(w)
    n_periods = np.shape(x)[-2]
    n_lags = min(wa.shape[-1], n_periods)
    lagged = lag_stack(x, n_lags)  # (*batch, T, C, L)
    wl = wa[..., :n_lags][..., None, :, :]  # (*batch, 1, C, L)
    return jnp.sum(lagged * wl, axis=-1)


def lag_stack(x: ArrayLike, n_lags: int) -> Array:
    """Lagged copies ``out[..., t, c, l] = x[..., t - l, c]`` (0 before the first period).

    A numpy ``x`` (data, the usual case inside the model) is stacked in numpy once, so
    the traced program holds one multiply-add instead of ``n_lags`` pads and slices:
    fewer operations to compile.
    """
    if isinstance(x, np.ndarray):
        return jnp.asarray(np.ascontiguousarray(lagged_copies(x, n_lags)))
    xa = jnp.asarray(x)
    n_periods = xa.shape[-2]
    shifted = [xa] + [
        jnp.pad(xa, [(0, 0)] * (xa.ndim - 2) + [(lag, 0), (0, 0)])[..., :n_periods, :]
        for lag in range(1, n_lags)
    ]
    return jnp.stack(shifted, axis=-1)


def _normalized(w: Array) -> Array:
    return kernels.normalized(w, JAX)  # type: ignore[no-any-return]


def geometric_weights(alpha: ArrayLike, l_max: int, *, normalize: bool = False) -> Array:
    r"""PyMC-Marketing geometric weights :math:`w_l = \alpha^l`, ``l < l_max`` (optionally / sum).

    Matches :func:`mediamix.transforms.adstock.geometric_weights`.

    Examples
    --------
    >>> geometric_weights(jnp.array([0.5]), 3).tolist()
    [[1.0, 0.5, 0.25]]
    """
    w = kernels.geometric_weights(jnp.asarray(alpha), l_max, JAX)
    return _normalized(w) if normalize else w


def geometric_adstock(
    x: ArrayLike, alpha: ArrayLike, l_max: int, *, normalize: bool = False
) -> Array:
    r"""Finite-window geometric adstock (PyMC-Marketing ``geometric_adstock``, ``mode=After``).

    .. math:: y_t = \sum_{l=0}^{l_{max}-1} w_l x_{t-l}, \quad w_l = \alpha^l
              \left(/ \textstyle\sum_j \alpha^j \text{ if normalize}\right)

    Matches ``mediamix.transforms.adstock.geometric_adstock(x, alpha, l_max=..., normalize=...)``
    and the registry's ``geometric_window``.
    """
    return convolve_weights(x, geometric_weights(alpha, l_max, normalize=normalize))


def delayed_weights(
    alpha: ArrayLike, theta: ArrayLike, l_max: int, *, normalize: bool = True
) -> Array:
    r"""Delayed-peak weights :math:`w_l = \alpha^{(l-\theta)^2}` (Jin et al. 2017).

    Matches :func:`mediamix.transforms.adstock.delayed_weights`.
    """
    w = kernels.delayed_weights(jnp.asarray(alpha), jnp.asarray(theta), l_max, JAX)
    return _normalized(w) if normalize else w


def weibull_pdf_weights(
    shape: ArrayLike, scale: ArrayLike, l_max: int, *, normalize: bool = False
) -> Array:
    r"""Weibull-PDF lag weights in PyMC-Marketing's convention (``scale`` in periods).

    .. math:: f(t) = \frac{k}{\lambda}\left(\frac{t}{\lambda}\right)^{k-1}
              e^{-(t/\lambda)^k}, \qquad
              w_l = \frac{f(l+1) - \min_j f(j)}{\max_j f(j) - \min_j f(j)},
              \quad l = 0, \dots, l_{max}-1

    (optionally divided by their sum). A flat curve gives ``[1, 0, ..., 0]`` and
    ``shape == 0`` or ``scale == 0`` means no carry-over, as in
    :func:`mediamix.transforms.adstock.weibull_weights` with ``convention="pymc"``.
    """
    k, lam = jnp.broadcast_arrays(jnp.asarray(shape), jnp.asarray(scale))
    w = kernels.weibull_pdf_weights(k, lam, (k == 0) | (lam == 0), l_max, JAX)
    return _normalized(w) if normalize else w


def hill(x: ArrayLike, half_saturation: ArrayLike, slope: ArrayLike) -> Array:
    r"""Hill curve :math:`x^s / (x^s + K^s) = \operatorname{expit}(s(\ln x - \ln K))`, ``f(0) = 0``.

    Matches :func:`mediamix.transforms.saturation.hill`; the logit form does not
    overflow and the ``x = 0`` branch keeps gradients finite.
    """
    return kernels.hill(  # type: ignore[no-any-return]
        jnp.asarray(x), jnp.asarray(half_saturation), jnp.asarray(slope), JAX
    )


def logistic(x: ArrayLike, lam: ArrayLike) -> Array:
    r"""PyMC-Marketing's logistic saturation :math:`(1 - e^{-\lambda x})/(1 + e^{-\lambda x}) = \tanh(\lambda x / 2)`.

    Matches :func:`mediamix.transforms.saturation.logistic`.
    """
    return kernels.logistic(jnp.asarray(x), jnp.asarray(lam), JAX)  # type: ignore[no-any-return]
