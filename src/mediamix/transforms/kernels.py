r"""The transform formulas, written once for any array backend (numpy or jax.numpy).

The numpy transforms (:mod:`mediamix.transforms.adstock`,
:mod:`mediamix.transforms.saturation`), which the ridge search and the planners
call, validate their arguments and then evaluate these kernels with :data:`NUMPY`;
the Bayesian engine evaluates the same kernels with a JAX backend
(:mod:`mediamix.models.bayes.jax_transforms`), because NUTS needs gradients
through the transform parameters. So every engine computes one formula per
convention, operation for operation.

Kernels assume valid inputs (the numpy wrappers check them) and use only
operations that are differentiable where the sampler goes: logs are taken of
values made safe first, and ``where`` picks the limits at the edges (``x = 0``, a
flat Weibull curve, no carry-over).

Examples
--------
>>> import numpy as np
>>> hill(np.array([0.0, 2.0, 4.0]), np.array(2.0), np.array(1.0), NUMPY).tolist()
[0.0, 0.5, 0.6666666666666666]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit

__all__ = [
    "NUMPY",
    "Backend",
    "delayed_weights",
    "geometric_weights",
    "hill",
    "logistic",
    "normalized",
    "weibull_pdf_weights",
]


def _numpy_first_lag(shape: tuple[int, ...], dtype: Any) -> Any:
    e0 = np.zeros(shape, dtype)
    e0[..., 0] = 1.0
    return e0


@dataclass(frozen=True)
class Backend:
    """An array namespace and the two operations it spells its own way.

    Attributes
    ----------
    xp : module
        ``numpy`` or ``jax.numpy``.
    expit : callable
        The logistic function :math:`1 / (1 + e^{-z})`.
    first_lag : callable(shape, dtype)
        Weights ``[1, 0, ..., 0]`` along the last axis (jax arrays are immutable, so
        the two backends build them differently).
    """

    xp: Any
    expit: Callable[[Any], Any]
    first_lag: Callable[[tuple[int, ...], Any], Any]


#: The numpy backend (scipy's ``expit``).
NUMPY = Backend(xp=np, expit=expit, first_lag=_numpy_first_lag)


def normalized(w: Any, b: Backend) -> Any:
    """Weights divided by their sum along the last axis (all-zero weights stay zero)."""
    total = w.sum(axis=-1, keepdims=True)
    return w / b.xp.where(total > 0, total, 1.0)


def geometric_weights(alpha: Any, n_lags: int, b: Backend) -> Any:
    r"""Geometric lag weights :math:`w_l = \alpha^l`, :math:`l = 0, \dots, n-1`, shape ``alpha.shape + (n,)``."""
    return alpha[..., None] ** b.xp.arange(n_lags, dtype=alpha.dtype)


def delayed_weights(alpha: Any, theta: Any, n_lags: int, b: Backend) -> Any:
    r"""Delayed-peak lag weights :math:`w_l = \alpha^{(l-\theta)^2}` (Jin et al. 2017)."""
    lags = b.xp.arange(n_lags, dtype=alpha.dtype)
    return alpha[..., None] ** ((lags - theta[..., None]) ** 2)


def weibull_pdf_weights(shape: Any, scale: Any, identity: Any, n_lags: int, b: Backend) -> Any:
    r"""Min-max scaled Weibull-density lag weights, :math:`\lambda` in periods.

    .. math:: f(t) = \frac{k}{\lambda}\left(\frac{t}{\lambda}\right)^{k-1}
              e^{-(t/\lambda)^k}, \qquad
              w_l = \frac{f(l+1) - \min_j f(j)}{\max_j f(j) - \min_j f(j)}

    A flat curve, and every set where ``identity`` is true (no carry-over), gives
    ``[1, 0, ..., 0]``. Evaluated in log space with :math:`(t/\lambda)^k` capped at
    :math:`e^{30}`, where the density is 0 in double precision already: a tiny
    scale gives weights of 0, not ``inf * 0 = nan`` (nor nan gradients).

    Parameters
    ----------
    shape, scale : array
        Broadcast shapes ``(...)``; values where ``identity`` is false are > 0.
    identity : array of bool, shape ``(...)``
    n_lags : int
    b : Backend

    Returns
    -------
    array, shape ``(..., n_lags)``
    """
    xp = b.xp
    k = xp.where(shape > 0, shape, 1.0)[..., None]
    lam = xp.where(scale > 0, scale, 1.0)[..., None]
    t = xp.arange(1, n_lags + 1, dtype=k.dtype)
    log_z = xp.log(t) - xp.log(lam)
    z_k = xp.exp(xp.minimum(k * log_z, 30.0))
    pdf = xp.exp(xp.log(k) - xp.log(lam) + (k - 1.0) * log_z - z_k)
    lo = pdf.min(axis=-1, keepdims=True)
    span = pdf.max(axis=-1, keepdims=True) - lo
    first = b.first_lag(pdf.shape, pdf.dtype)
    w = xp.where(span > 0, (pdf - lo) / xp.where(span > 0, span, 1.0), first)
    return xp.where(identity[..., None], first, w)


def hill(x: Any, half_saturation: Any, slope: Any, b: Backend) -> Any:
    r"""Hill curve :math:`x^s / (x^s + K^s) = \operatorname{expit}(s(\ln x - \ln K))`, 0 for ``x <= 0``.

    The logit form does not overflow for large ``x`` or ``s``; the log is taken of a
    safe value where ``x <= 0`` so that gradients stay finite there.
    """
    xp = b.xp
    positive = x > 0
    x_safe = xp.where(positive, x, 1.0)
    y = b.expit(slope * (xp.log(x_safe) - xp.log(half_saturation)))
    return xp.where(positive, y, 0.0)


def logistic(x: Any, lam: Any, b: Backend) -> Any:
    r"""PyMC-Marketing's logistic saturation :math:`(1 - e^{-\lambda x})/(1 + e^{-\lambda x}) = \tanh(\lambda x / 2)`."""
    return b.xp.tanh(0.5 * lam * x)
