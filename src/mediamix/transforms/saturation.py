r"""Saturation (diminishing-returns) curves and their derivatives in the input.

Each curve names the tool whose parameterization it follows. Derivatives are with
respect to ``x`` (the optimizer's marginal response); they are exact formulas, not
finite differences.

Shapes
------
``x`` is ``(T, C)`` (time first), ``(T,)``, ``(C,)`` (a spend per channel) or a
scalar. Parameters are scalars, ``(C,)`` or ``(B, C)``. With ``(B, C)`` parameters
and a 2-D ``x`` a time axis is inserted so the output is ``(B, T, C)``; every other
combination follows numpy broadcasting (``(T, C)`` with ``(C,)`` gives ``(T, C)``,
``(C,)`` with ``(B, C)`` gives ``(B, C)``).

Units: ``x`` is in the units of the (adstocked) media; Hill and logistic curves are
dimensionless in [0, 1), Michaelis-Menten is in the units of ``alpha`` and tanh in
the units of ``b``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import expit

from mediamix.errors import InputError
from mediamix.transforms import kernels
from mediamix.transforms.kernels import NUMPY

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "hill",
    "hill_derivative",
    "hill_robyn",
    "hill_robyn_derivative",
    "logistic",
    "logistic_derivative",
    "michaelis_menten",
    "michaelis_menten_derivative",
    "robyn_inflexion",
    "tanh_saturation",
    "tanh_saturation_derivative",
]


def _positive(name: str, value: npt.ArrayLike, *, allow_zero: bool = False) -> FloatArray:
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0 if allow_zero else arr <= 0):
        sign = ">= 0" if allow_zero else "> 0"
        raise InputError(f"{name} must be finite and {sign}, got {value!r}")
    return arr


def _layout(x: npt.ArrayLike, *params: FloatArray) -> tuple[FloatArray, list[FloatArray]]:
    xa = np.asarray(x, dtype=np.float64)
    ps = [np.asarray(p) for p in np.broadcast_arrays(*params)]
    if xa.ndim >= 2 and ps[0].ndim >= 2:
        # (B, C) parameter sets against a (T, C) series: one output series per set.
        ps = [p[..., None, :] for p in ps]
    return xa, ps


def _non_negative(x: FloatArray) -> FloatArray:
    if np.any(x < 0):
        raise InputError("x must be >= 0 for the Hill curve (it raises x to a real power)")
    return x


# ---------------------------------------------------------------------------- Hill


def _hill_core(x: FloatArray, k: FloatArray, s: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        y = kernels.hill(x, k, s, NUMPY)
    # The kernel maps every non-positive input to 0 (the sampler needs finite
    # gradients); here x >= 0 is checked, and a NaN media value stays NaN.
    return np.asarray(np.where(np.isnan(x), np.nan, y), dtype=np.float64)


def _hill_core_derivative(x: FloatArray, k: FloatArray, s: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        z = s * (np.log(x) - np.log(k))
        d = s * expit(z) * expit(-z) / x
        # Limit at x = 0 of s x^(s-1) K^s / (x^s + K^s)^2.
        at_zero = np.where(s > 1, 0.0, np.where(s == 1, 1.0 / k, np.inf))
    return np.asarray(np.where(x == 0, at_zero, d), dtype=np.float64)


def hill(x: npt.ArrayLike, half_saturation: npt.ArrayLike, slope: npt.ArrayLike) -> FloatArray:
    r"""Hill curve in half-saturation form (Meridian, PyMC-Marketing, LightweightMMM).

    .. math:: f(x) = \frac{x^s}{x^s + K^s} = \frac{1}{1 + (x/K)^{-s}}

    ``K`` (``half_saturation``, Meridian's ``ec``) is the input at which the curve
    reaches 1/2; ``s`` (``slope``) > 1 gives an S shape, <= 1 a concave curve.
    Computed as :math:`\operatorname{expit}(s(\ln x - \ln K))`, with ``f(0) = 0``.

    Parameters
    ----------
    x : array_like
        Non-negative media, same units as ``half_saturation``.
    half_saturation : array_like, shape () or (C,) or (B, C)
        ``K`` > 0.
    slope : array_like, broadcastable with ``half_saturation``
        ``s`` > 0, dimensionless.

    Returns
    -------
    ndarray
        Values in [0, 1); shape per the module's broadcasting rule.

    Examples
    --------
    >>> hill([0.0, 20000.0, 40000.0, 80000.0], 40000.0, 2.0).round(12).tolist()
    [0.0, 0.2, 0.5, 0.8]
    """
    k = _positive("half_saturation", half_saturation)
    s = _positive("slope", slope)
    xa, (kk, ss) = _layout(x, k, s)
    return _hill_core(_non_negative(xa), kk, ss)


def hill_derivative(
    x: npt.ArrayLike, half_saturation: npt.ArrayLike, slope: npt.ArrayLike
) -> FloatArray:
    r"""Derivative of :func:`hill` in ``x``.

    .. math:: f'(x) = \frac{s\, x^{s-1} K^s}{(x^s + K^s)^2} = \frac{s}{x} f(x)\,(1 - f(x))

    At ``x = 0`` the limit is 0 for ``s > 1``, ``1/K`` for ``s = 1`` and infinite for
    ``s < 1``. Units: 1 / units of ``x``.

    Parameters
    ----------
    x, half_saturation, slope
        As in :func:`hill`.

    Returns
    -------
    ndarray
        Same shape as :func:`hill`.

    Examples
    --------
    >>> float(hill_derivative(40000.0, 40000.0, 2.0))  # s / (4 K) at x = K
    1.25e-05
    """
    k = _positive("half_saturation", half_saturation)
    s = _positive("slope", slope)
    xa, (kk, ss) = _layout(x, k, s)
    return _hill_core_derivative(_non_negative(xa), kk, ss)


def robyn_inflexion(
    x_range: npt.ArrayLike, gamma: npt.ArrayLike, *, legacy: bool = False
) -> FloatArray:
    r"""Robyn's Hill inflexion point from ``gamma`` and the range of the media series.

    .. math:: \text{inflexion} = \gamma \max_t x_t \quad (\text{Robyn} \ge 3.12),
              \qquad (1-\gamma)\min_t x_t + \gamma \max_t x_t \quad (\text{legacy})

    The legacy form is read from Robyn's ``R/R/transformation.R`` (``saturation_hill``:
    ``c(range(x) %*% c(1 - gamma, gamma))``; Robyn <= 3.11). The ``gamma * max(x)`` form
    is the current Robyn definition as given by its Python ports; the R source of that
    release was not available to check here.

    Parameters
    ----------
    x_range : array_like, shape (T,), (T, C) or (*batch, T, C)
        The series whose range sets the inflexion (time first).
    gamma : array_like, shape () or (C,) or (B, C)
        Share in [0, 1].
    legacy : bool
        Use the min-max interpolation of Robyn <= 3.11.

    Returns
    -------
    ndarray
        Inflexion in the units of ``x_range``; shape of ``gamma`` broadcast with the
        per-channel range.

    Examples
    --------
    >>> float(robyn_inflexion([100.0, 150.0, 200.0], 0.5))
    100.0
    >>> float(robyn_inflexion([100.0, 150.0, 200.0], 0.5, legacy=True))
    150.0
    """
    g = np.asarray(gamma, dtype=np.float64)
    if not np.all(np.isfinite(g)) or np.any((g < 0) | (g > 1)):
        raise InputError(f"gamma must be in [0, 1], got {gamma!r}")
    ref = np.asarray(x_range, dtype=np.float64)
    if ref.ndim == 0 or ref.size == 0:
        raise InputError("x_range must be a non-empty series")
    axis = 0 if ref.ndim == 1 else -2
    top = ref.max(axis=axis)
    if not legacy:
        return np.asarray(g * top, dtype=np.float64)
    return np.asarray((1.0 - g) * ref.min(axis=axis) + g * top, dtype=np.float64)


def _robyn_layout(
    x: npt.ArrayLike,
    alpha: npt.ArrayLike,
    gamma: npt.ArrayLike,
    x_range: npt.ArrayLike | None,
    legacy: bool,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``x``, the inflexion and ``alpha`` of Robyn's Hill, laid out for the Hill core."""
    a = _positive("alpha", alpha)
    xa = _non_negative(np.asarray(x, dtype=np.float64))
    inflexion = robyn_inflexion(xa if x_range is None else x_range, gamma, legacy=legacy)
    xa, (k, s) = _layout(xa, inflexion, a)
    return xa, k, s


def hill_robyn(
    x: npt.ArrayLike,
    alpha: npt.ArrayLike,
    gamma: npt.ArrayLike,
    *,
    x_range: npt.ArrayLike | None = None,
    legacy: bool = False,
) -> FloatArray:
    r"""Robyn's Hill saturation: the inflexion is set by ``gamma`` and the media range.

    .. math:: f(x) = \frac{x^\alpha}{x^\alpha + \text{inflexion}^\alpha}

    with the inflexion of :func:`robyn_inflexion` computed from ``x_range`` (default
    ``x`` itself, per channel along the time axis). Passing the historical series as
    ``x_range`` evaluates new spend levels on the fitted curve (Robyn's
    ``x_marginal``).

    Parameters
    ----------
    x : array_like, shape (T,) or (T, C)
        Non-negative media.
    alpha : array_like, shape () or (C,) or (B, C)
        Shape > 0 (larger: more S-shaped).
    gamma : array_like, broadcastable with ``alpha``
        Inflexion share in [0, 1].
    x_range : array_like, optional
        Series whose range sets the inflexion; defaults to ``x``.
    legacy : bool
        Robyn <= 3.11 inflexion ``(1-gamma) min + gamma max``.

    Returns
    -------
    ndarray
        Values in [0, 1].

    Examples
    --------
    >>> hill_robyn([0.0, 50.0, 100.0, 200.0], 2.0, 0.5).round(12).tolist()
    [0.0, 0.2, 0.5, 0.8]
    """
    return _hill_core(*_robyn_layout(x, alpha, gamma, x_range, legacy))


def hill_robyn_derivative(
    x: npt.ArrayLike,
    alpha: npt.ArrayLike,
    gamma: npt.ArrayLike,
    *,
    x_range: npt.ArrayLike | None = None,
    legacy: bool = False,
) -> FloatArray:
    r"""Derivative of :func:`hill_robyn` in ``x`` with the inflexion held fixed.

    .. math:: f'(x) = \frac{\alpha\, x^{\alpha-1} I^\alpha}{(x^\alpha + I^\alpha)^2}

    where :math:`I` is computed from ``x_range`` (default ``x``) and treated as a
    constant: this is the marginal response on a fitted curve. Pass the historical
    series as ``x_range`` when ``x`` is a grid of new spend levels.

    Parameters
    ----------
    x, alpha, gamma, x_range, legacy
        As in :func:`hill_robyn`.

    Returns
    -------
    ndarray
        1 / units of ``x``.

    Examples
    --------
    >>> float(hill_robyn_derivative(100.0, 2.0, 0.5, x_range=[0.0, 200.0]))  # 2/(4*100)
    0.005
    """
    return _hill_core_derivative(*_robyn_layout(x, alpha, gamma, x_range, legacy))


# ---------------------------------------------------------- PyMC-Marketing curves


def logistic(x: npt.ArrayLike, lam: npt.ArrayLike) -> FloatArray:
    r"""PyMC-Marketing's logistic saturation.

    .. math:: f(x) = \frac{1 - e^{-\lambda x}}{1 + e^{-\lambda x}} = \tanh(\lambda x / 2)

    (``logistic_saturation`` in ``pymc_marketing/mmm/transformers.py``; evaluated in the
    equivalent tanh form, which does not overflow for large ``|lam x|``).

    Parameters
    ----------
    x : array_like
        Media, units of ``1 / lam``.
    lam : array_like, shape () or (C,) or (B, C)
        Rate > 0.

    Returns
    -------
    ndarray
        Values in [0, 1) for ``x >= 0``.

    Examples
    --------
    >>> round(float(logistic(np.log(3.0), 1.0)), 12)  # (1 - 1/3) / (1 + 1/3)
    0.5
    """
    xa, (lm,) = _layout(x, _positive("lam", lam))
    return np.asarray(kernels.logistic(xa, lm, NUMPY), dtype=np.float64)


def logistic_derivative(x: npt.ArrayLike, lam: npt.ArrayLike) -> FloatArray:
    r"""Derivative of :func:`logistic` in ``x``: :math:`\frac{\lambda}{2}(1 - f(x)^2)`.

    Examples
    --------
    >>> round(float(logistic_derivative(np.log(3.0), 1.0)), 12)  # 0.5 * (1 - 0.25)
    0.375
    """
    xa, (lm,) = _layout(x, _positive("lam", lam))
    t = np.tanh(0.5 * lm * xa)
    return np.asarray(0.5 * lm * (1.0 - t) * (1.0 + t), dtype=np.float64)


def michaelis_menten(x: npt.ArrayLike, alpha: npt.ArrayLike, lam: npt.ArrayLike) -> FloatArray:
    r"""Michaelis-Menten saturation (PyMC-Marketing ``michaelis_menten``, Robyn ``mic_men``).

    .. math:: f(x) = \frac{\alpha\, x}{\lambda + x}

    Parameters
    ----------
    x : array_like
        Non-negative media, units of ``lam``.
    alpha : array_like, shape () or (C,) or (B, C)
        Ceiling (``f`` tends to ``alpha``), > 0; Robyn's ``Vmax``.
    lam : array_like, broadcastable with ``alpha``
        Half-saturation input, > 0; Robyn's ``Km``.

    Returns
    -------
    ndarray
        Units of ``alpha``.

    Examples
    --------
    >>> michaelis_menten([0.0, 50.0, 150.0], 10.0, 50.0).tolist()
    [0.0, 5.0, 7.5]
    """
    xa, (a, lm) = _layout(x, _positive("alpha", alpha), _positive("lam", lam))
    return np.asarray(a * xa / (lm + xa), dtype=np.float64)


def michaelis_menten_derivative(
    x: npt.ArrayLike, alpha: npt.ArrayLike, lam: npt.ArrayLike
) -> FloatArray:
    r"""Derivative of :func:`michaelis_menten` in ``x``: :math:`\alpha\lambda / (\lambda + x)^2`.

    Examples
    --------
    >>> float(michaelis_menten_derivative(50.0, 10.0, 50.0))  # 10 * 50 / 100**2
    0.05
    """
    xa, (a, lm) = _layout(x, _positive("alpha", alpha), _positive("lam", lam))
    return np.asarray(a * lm / (lm + xa) ** 2, dtype=np.float64)


def tanh_saturation(x: npt.ArrayLike, b: npt.ArrayLike, c: npt.ArrayLike) -> FloatArray:
    r"""PyMC-Marketing's tanh saturation: :math:`f(x) = b \tanh\left(\frac{x}{b c}\right)`.

    ``b`` is the ceiling (e.g. users at saturation), ``c`` the initial cost per unit of
    response (``f'(0) = 1/c``).

    Parameters
    ----------
    x : array_like
        Media (spend), units of ``b * c``.
    b : array_like, shape () or (C,) or (B, C)
        Ceiling, > 0.
    c : array_like, broadcastable with ``b``
        Initial cost per unit of response, > 0.

    Returns
    -------
    ndarray
        Units of ``b``.

    Examples
    --------
    >>> round(float(tanh_saturation(np.log(2.0), 2.0, 0.5)), 12)  # 2 tanh(ln 2) = 2 * 0.6
    1.2
    """
    xa, (bb, cc) = _layout(x, _positive("b", b), _positive("c", c))
    return np.asarray(bb * np.tanh(xa / (bb * cc)), dtype=np.float64)


def tanh_saturation_derivative(x: npt.ArrayLike, b: npt.ArrayLike, c: npt.ArrayLike) -> FloatArray:
    r"""Derivative of :func:`tanh_saturation` in ``x``: :math:`\frac{1}{c}(1 - \tanh^2(x / (bc)))`.

    Examples
    --------
    >>> round(float(tanh_saturation_derivative(np.log(2.0), 2.0, 0.5)), 12)  # 2 (1 - 0.36)
    1.28
    """
    xa, (bb, cc) = _layout(x, _positive("b", b), _positive("c", c))
    t = np.tanh(xa / (bb * cc))
    return np.asarray((1.0 - t) * (1.0 + t) / cc, dtype=np.float64)
