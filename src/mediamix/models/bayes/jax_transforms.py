r"""JAX versions of the transforms the Bayesian engine samples through.

Each function computes the same operator, in the same named convention, as its numpy
counterpart in :mod:`mediamix.transforms` (tests check equality to 1e-6); they exist
because NUTS needs gradients through the transform parameters.

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

import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.nn import sigmoid
from jax.typing import ArrayLike

__all__ = [
    "convolve_weights",
    "delayed_weights",
    "geometric_adstock",
    "geometric_weights",
    "hill",
    "lag_stack",
    "logistic",
    "weibull_pdf_weights",
]


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
        pad = [(0, 0)] * (x.ndim - 2) + [(n_lags - 1, 0), (0, 0)]
        windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, pad), n_lags, axis=-2)
        return jnp.asarray(np.ascontiguousarray(windows[..., ::-1]))
    xa = jnp.asarray(x)
    n_periods = xa.shape[-2]
    shifted = [xa] + [
        jnp.pad(xa, [(0, 0)] * (xa.ndim - 2) + [(lag, 0), (0, 0)])[..., :n_periods, :]
        for lag in range(1, n_lags)
    ]
    return jnp.stack(shifted, axis=-1)


def _normalized(w: Array) -> Array:
    total = w.sum(axis=-1, keepdims=True)
    return w / jnp.where(total > 0, total, 1.0)


def geometric_weights(alpha: ArrayLike, l_max: int, *, normalize: bool = False) -> Array:
    r"""PyMC-Marketing geometric weights :math:`w_l = \alpha^l`, ``l < l_max`` (optionally / sum).

    Matches :func:`mediamix.transforms.adstock.geometric_weights`.

    Examples
    --------
    >>> geometric_weights(jnp.array([0.5]), 3).tolist()
    [[1.0, 0.5, 0.25]]
    """
    a = jnp.asarray(alpha)
    w = a[..., None] ** jnp.arange(l_max, dtype=a.dtype)
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
    a = jnp.asarray(alpha)
    th = jnp.asarray(theta)
    lags = jnp.arange(l_max, dtype=a.dtype)
    w = a[..., None] ** ((lags - th[..., None]) ** 2)
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
    k = jnp.asarray(shape)
    lam = jnp.asarray(scale)
    k, lam = jnp.broadcast_arrays(k, lam)
    identity = ((k == 0) | (lam == 0))[..., None]
    k_safe = jnp.where(k > 0, k, 1.0)[..., None]
    lam_safe = jnp.where(lam > 0, lam, 1.0)[..., None]
    t = jnp.arange(1, l_max + 1, dtype=k_safe.dtype)
    # log space, with (t / lam)^k capped at e^30: a tiny scale must give weights of 0,
    # not inf * 0 = nan (nor nan gradients for the sampler).
    log_z = jnp.log(t) - jnp.log(lam_safe)
    z_k = jnp.exp(jnp.minimum(k_safe * log_z, 30.0))
    pdf = jnp.exp(jnp.log(k_safe) - jnp.log(lam_safe) + (k_safe - 1.0) * log_z - z_k)
    lo = pdf.min(axis=-1, keepdims=True)
    span = pdf.max(axis=-1, keepdims=True) - lo
    first = jnp.zeros(pdf.shape, pdf.dtype).at[..., 0].set(1.0)
    w = jnp.where(span > 0, (pdf - lo) / jnp.where(span > 0, span, 1.0), first)
    w = jnp.where(identity, first, w)
    return _normalized(w) if normalize else w


def hill(x: ArrayLike, half_saturation: ArrayLike, slope: ArrayLike) -> Array:
    r"""Hill curve :math:`x^s / (x^s + K^s) = \operatorname{expit}(s(\ln x - \ln K))`, ``f(0) = 0``.

    Matches :func:`mediamix.transforms.saturation.hill`; the logit form does not
    overflow and the ``x = 0`` branch keeps gradients finite.
    """
    xa = jnp.asarray(x)
    positive = xa > 0
    x_safe = jnp.where(positive, xa, 1.0)
    y = sigmoid(jnp.asarray(slope) * (jnp.log(x_safe) - jnp.log(jnp.asarray(half_saturation))))
    return jnp.where(positive, y, 0.0)


def logistic(x: ArrayLike, lam: ArrayLike) -> Array:
    r"""PyMC-Marketing's logistic saturation :math:`(1 - e^{-\lambda x})/(1 + e^{-\lambda x}) = \tanh(\lambda x / 2)`.

    Matches :func:`mediamix.transforms.saturation.logistic`.
    """
    return jnp.tanh(0.5 * jnp.asarray(lam) * jnp.asarray(x))
