r"""Carry-over (adstock) transforms, one named convention per function.

"Geometric adstock" names four different operators across the reference tools, and
Weibull adstock two; each function below says which one it computes and which
published source it follows.

Shapes (the vectorization contract shared by every function here)
-------------------------------------------------------------------
``x`` is time first: ``(T,)`` or ``(T, C)`` (``(*batch, T, C)`` is accepted too).
Parameters are scalars, arrays of shape ``(C,)`` (one value per channel) or
``(B, C)`` (a batch of parameter sets, e.g. hyperparameter-search trials or
posterior draws). The output broadcasts to ``(T,)`` (1-D ``x`` and scalar
parameters), ``(T, C)`` or ``(B, T, C)``.

Units: every adstock is linear in ``x``, so the output is in the units of ``x``
(currency, impressions, GRPs). Lags ``l`` are counted in periods of ``x``.

All finite-window conventions are a causal convolution
:math:`y_t = \sum_{l=0}^{L-1} w_l \, x_{t-l}` with zero history before the first
period (:func:`convolve_weights`); they differ only in their weights
(:func:`adstock_weights`). Because the operator is linear, the long-run multiplier
of a steady spend is the sum of the weights (:func:`adstock_total_weight`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from mediamix.errors import InputError
from mediamix.transforms.lags import (
    PYMC_DEFAULT_L_MAX,
    FloatArray,
    WeibullConvention,
    WeibullKind,
    _geometric_recursion,
    _param,
    _series,
    _squeeze,
    _window,
    binomial_weights,
    convolve_weights,
    delayed_weights,
    geometric_weights,
    lagged_copies,
    meridian_geometric_weights,
    weibull_weights,
)

__all__ = [
    "PYMC_DEFAULT_L_MAX",
    "adstock_total_weight",
    "adstock_weights",
    "binomial_adstock",
    "binomial_weights",
    "convolve_weights",
    "delayed_adstock",
    "delayed_weights",
    "geometric_adstock",
    "geometric_adstock_lightweight",
    "geometric_adstock_meridian",
    "geometric_adstock_pymc",
    "geometric_adstock_robyn",
    "geometric_weights",
    "lagged_copies",
    "meridian_geometric_weights",
    "weibull_adstock",
    "weibull_weights",
]


# ------------------------------------------------------------------------- adstocks


def geometric_adstock(
    x: npt.ArrayLike,
    alpha: npt.ArrayLike,
    *,
    l_max: int | None = None,
    normalize: bool = False,
) -> FloatArray:
    r"""Geometric adstock: Robyn's infinite recursion or PyMC-Marketing's finite window.

    ``l_max=None`` (Robyn ``adstock_geometric``, ``R/R/transformation.R``):

    .. math:: y_0 = x_0, \qquad y_t = x_t + \alpha\, y_{t-1}

    i.e. weights :math:`\alpha^l` over the whole history. With ``normalize=True`` the
    output is multiplied by :math:`1-\alpha` so the weights sum to 1 in the long run
    (LightweightMMM's ``adstock``).

    ``l_max=L`` (PyMC-Marketing ``geometric_adstock``, ``mode=After``):

    .. math:: y_t = \sum_{l=0}^{L-1} w_l\, x_{t-l}, \qquad w_l = \alpha^l
              \;\left(\text{or } \alpha^l / \textstyle\sum_{j<L} \alpha^j
              \text{ if normalize}\right)

    Parameters
    ----------
    x : array_like, shape (T,) or (T, C)
        Spend or exposure per period, time first.
    alpha : array_like, shape () or (C,) or (B, C)
        Retention rate per period in [0, 1] (Robyn's ``theta``).
    l_max : int, optional
        Window length (lags 0 to ``l_max - 1``); ``None`` for the infinite recursion.
    normalize : bool
        Scale the weights to sum to 1 (see above).

    Returns
    -------
    ndarray, shape (T,), (T, C) or (B, T, C)
        Adstocked series in the units of ``x``.

    Examples
    --------
    >>> geometric_adstock([100.0, 0.0, 0.0, 0.0, 50.0], 0.5).tolist()
    [100.0, 50.0, 25.0, 12.5, 56.25]
    >>> geometric_adstock([100.0, 0.0, 0.0], 0.5, l_max=2, normalize=True).round(4).tolist()
    [66.6667, 33.3333, 0.0]
    """
    xa = _series(x)
    a = _param("alpha", alpha, 0.0, 1.0)
    if l_max is None:
        x2 = xa[:, None] if xa.ndim == 1 else xa
        out = _geometric_recursion(x2, a)
        if normalize:
            out = out * (1.0 - a)[..., None, :] if a.ndim else out * (1.0 - a)
        return _squeeze(out, xa, a)
    return convolve_weights(xa, geometric_weights(a, l_max, normalize=normalize))


def geometric_adstock_robyn(x: npt.ArrayLike, theta: npt.ArrayLike) -> FloatArray:
    r"""Robyn's geometric adstock: :math:`y_0 = x_0,\; y_t = x_t + \theta\, y_{t-1}`.

    Infinite recursion, not normalized (``adstock_geometric`` in Robyn's
    ``R/R/transformation.R``). Long-run multiplier :math:`1/(1-\theta)`.

    Parameters
    ----------
    x : array_like, shape (T,) or (T, C)
        Spend or exposure per period, time first.
    theta : array_like, shape () or (C,) or (B, C)
        Decay rate in [0, 1].

    Returns
    -------
    ndarray, shape (T,), (T, C) or (B, T, C)

    Examples
    --------
    >>> geometric_adstock_robyn([100.0, 100.0, 100.0], 0.5).tolist()
    [100.0, 150.0, 175.0]
    """
    return geometric_adstock(x, theta)


def geometric_adstock_pymc(
    x: npt.ArrayLike, alpha: npt.ArrayLike, l_max: int, normalize: bool = False
) -> FloatArray:
    r"""PyMC-Marketing's geometric adstock: finite window of ``l_max`` lags.

    .. math:: y_t = \sum_{l=0}^{l_{max}-1} w_l\, x_{t-l}, \qquad
              w_l = \alpha^l \text{ (divided by } \textstyle\sum_j \alpha^j
              \text{ if normalize)}

    Follows ``pymc_marketing/mmm/transformers.py`` ``geometric_adstock`` with the default
    ``mode=ConvMode.After`` (zero history before the first period).

    Parameters
    ----------
    x : array_like, shape (T,) or (T, C)
    alpha : array_like, shape () or (C,) or (B, C)
        Retention rate in [0, 1].
    l_max : int
        Window length (lag 0 included).
    normalize : bool
        Normalize the weights to sum to 1 (PyMC-Marketing's default is False).

    Returns
    -------
    ndarray, shape (T,), (T, C) or (B, T, C)

    Examples
    --------
    >>> y = geometric_adstock_pymc([100.0, 0.0, 0.0, 0.0, 0.0], 0.5, 4, normalize=True)
    >>> y.round(4).tolist()
    [53.3333, 26.6667, 13.3333, 6.6667, 0.0]
    """
    return geometric_adstock(x, alpha, l_max=_window("l_max", l_max), normalize=normalize)


def geometric_adstock_meridian(x: npt.ArrayLike, alpha: npt.ArrayLike, max_lag: int) -> FloatArray:
    r"""Meridian's geometric adstock: normalized window over lags 0 to ``max_lag``.

    .. math:: y_t = \sum_{l=0}^{W-1} \frac{\alpha^l}{\sum_{j=0}^{W-1}\alpha^j}\, x_{t-l},
              \qquad W = \min(\text{max\_lag} + 1, T)

    Follows ``meridian/model/adstock_hill.py`` ``_adstock``: history before the first
    period is zero, and the weights are always normalized over the window.

    Parameters
    ----------
    x : array_like, shape (T,) or (T, C)
    alpha : array_like, shape () or (C,) or (B, C)
        Decay rate in [0, 1].
    max_lag : int
        Largest lag, >= 0 (Meridian's default is 8).

    Returns
    -------
    ndarray, shape (T,), (T, C) or (B, T, C)

    Examples
    --------
    >>> geometric_adstock_meridian([70.0, 0.0, 0.0, 0.0], 0.5, 2).round(4).tolist()
    [40.0, 20.0, 10.0, 0.0]
    """
    xa = _series(x)
    n_periods = xa.shape[0] if xa.ndim == 1 else xa.shape[-2]
    return convolve_weights(xa, meridian_geometric_weights(alpha, max_lag, n_periods=n_periods))


def geometric_adstock_lightweight(
    x: npt.ArrayLike, lam: npt.ArrayLike, normalize: bool = True
) -> FloatArray:
    r"""LightweightMMM's geometric adstock: recursion scaled by :math:`1-\lambda`.

    .. math:: s_0 = x_0, \quad s_t = x_t + \lambda\, s_{t-1}, \qquad
              y_t = (1-\lambda)\, s_t \text{ if normalize else } s_t

    Follows ``lightweight_mmm/media_transforms.py`` ``adstock`` (``lag_weight`` =
    ``lam``; ``normalise`` divides by :math:`1/(1-\lambda)`), so a constant spend
    converges to itself.

    Parameters
    ----------
    x : array_like, shape (T,) or (T, C)
    lam : array_like, shape () or (C,) or (B, C)
        Lag weight in [0, 1] (LightweightMMM default 0.9).
    normalize : bool
        Apply the :math:`1-\lambda` factor (LightweightMMM's default True).

    Returns
    -------
    ndarray, shape (T,), (T, C) or (B, T, C)

    Examples
    --------
    >>> geometric_adstock_lightweight([100.0, 0.0, 0.0], 0.5).tolist()
    [50.0, 25.0, 12.5]
    """
    return geometric_adstock(x, lam, normalize=normalize)


def delayed_adstock(
    x: npt.ArrayLike,
    alpha: npt.ArrayLike,
    theta: npt.ArrayLike,
    l_max: int = PYMC_DEFAULT_L_MAX,
    normalize: bool = True,
) -> FloatArray:
    r"""Delayed adstock of Jin et al. (2017): weights :math:`\alpha^{(l-\theta)^2}`.

    .. math:: y_t = \sum_{l=0}^{l_{max}-1} w_l\, x_{t-l}, \qquad
              w_l = \alpha^{(l-\theta)^2} \text{ (divided by } \textstyle\sum_j w_j
              \text{ if normalize)}

    Same operator as PyMC-Marketing ``delayed_adstock`` (``mode=After``) and, with
    ``normalize=True``, LightweightMMM ``carryover`` (whose ``mode="same"`` convolution
    with a zero-padded kernel is this causal window).

    Parameters
    ----------
    x : array_like, shape (T,) or (T, C)
    alpha : array_like, shape () or (C,) or (B, C)
        Retention rate in (0, 1].
    theta : array_like, broadcastable with ``alpha``
        Delay of the peak effect in periods, >= 0.
    l_max : int
        Window length (lag 0 included).
    normalize : bool
        Normalize the weights (the paper's weighted average; PyMC's default is False).

    Returns
    -------
    ndarray, shape (T,), (T, C) or (B, T, C)

    Examples
    --------
    >>> delayed_adstock([100.0, 0.0, 0.0, 0.0], 0.5, 1.0, 3).tolist()
    [25.0, 50.0, 25.0, 0.0]
    """
    return convolve_weights(x, delayed_weights(alpha, theta, l_max, normalize=normalize))


def binomial_adstock(x: npt.ArrayLike, alpha: npt.ArrayLike, max_lag: int) -> FloatArray:
    r"""Meridian's binomial adstock.

    .. math:: y_t = \sum_{l=0}^{W-1} w_l\, x_{t-l}, \qquad
              w_l \propto \left(1 - \frac{l}{W}\right)^{1/\alpha - 1}, \quad
              \textstyle\sum_l w_l = 1, \quad W = \min(\text{max\_lag} + 1, T)

    See :func:`binomial_weights` for the source.

    Parameters
    ----------
    x : array_like, shape (T,) or (T, C)
    alpha : array_like, shape () or (C,) or (B, C)
        Decay parameter in [0, 1].
    max_lag : int
        Largest lag, >= 0.

    Returns
    -------
    ndarray, shape (T,), (T, C) or (B, T, C)

    Examples
    --------
    >>> binomial_adstock([100.0, 0.0, 0.0, 0.0, 0.0], 0.5, 3).round(6).tolist()
    [40.0, 30.0, 20.0, 10.0, 0.0]
    """
    xa = _series(x)
    n_periods = xa.shape[0] if xa.ndim == 1 else xa.shape[-2]
    return convolve_weights(xa, binomial_weights(alpha, max_lag, n_periods=n_periods))


def weibull_adstock(
    x: npt.ArrayLike,
    shape: npt.ArrayLike,
    scale: npt.ArrayLike,
    *,
    kind: WeibullKind = "cdf",
    convention: WeibullConvention = "robyn",
    l_max: int | None = None,
    normalize: bool = False,
) -> FloatArray:
    r"""Weibull adstock (CDF or PDF decay) in Robyn's or PyMC-Marketing's convention.

    .. math:: y_t = \sum_{l=0}^{L-1} w_l\, x_{t-l}

    with the weights of :func:`weibull_weights`. In Robyn's convention ``scale`` is a
    share of the window, which defaults to the series length ``T``; in PyMC-Marketing's
    it is in periods and ``l_max`` defaults to 12.

    Parameters
    ----------
    x : array_like, shape (T,) or (T, C)
    shape : array_like, shape () or (C,) or (B, C)
        Weibull shape, >= 0.
    scale : array_like, broadcastable with ``shape``
        Robyn: share of the window in [0, 1]; PyMC: periods, >= 0.
    kind : {"cdf", "pdf"}
    convention : {"robyn", "pymc"}
    l_max : int, optional
        Window length (Robyn ``windlen``, PyMC ``l_max``).
    normalize : bool
        Normalize the weights to sum to 1.

    Returns
    -------
    ndarray, shape (T,), (T, C) or (B, T, C)

    Examples
    --------
    >>> y = weibull_adstock([100.0, 0.0, 0.0], 1.0, 3.0, convention="pymc", l_max=2)
    >>> y.round(4).tolist()
    [100.0, 71.6531, 36.7879]
    """
    xa = _series(x)
    n_periods = xa.shape[0] if xa.ndim == 1 else xa.shape[-2]
    w = weibull_weights(
        shape,
        scale,
        kind=kind,
        convention=convention,
        l_max=l_max,
        n_periods=n_periods,
        normalize=normalize,
    )
    return convolve_weights(xa, w)


# ---------------------------------------------------------------- by registry name


def adstock_weights(name: str, /, *, n_periods: int | None = None, **params: Any) -> FloatArray:
    r"""Lag weights of the adstock registered as ``name``, so that ``y = convolve(x, w)``.

    Names and parameters are those of :mod:`mediamix.transforms.registry`:
    ``geometric`` (``alpha``; needs ``n_periods``: the recursion over ``T`` periods is
    the window :math:`\alpha^l, l<T`), ``lightweight`` (``lam``, ``normalize``; needs
    ``n_periods``), ``geometric_window`` (``alpha``, ``l_max``, ``normalize``),
    ``delayed`` (``alpha``, ``theta``, ``l_max``, ``normalize``), ``binomial``
    (``alpha``, ``max_lag``), ``weibull_cdf`` / ``weibull_pdf`` (``shape``, ``scale``,
    ``convention``, ``l_max``, ``normalize``).

    Parameters
    ----------
    name : str
        Registered adstock name.
    n_periods : int, optional
        Series length ``T`` (needed by the infinite recursions and Robyn's Weibull).
    **params
        The transform's parameters.

    Returns
    -------
    ndarray, shape ``params.shape + (L,)``

    Examples
    --------
    >>> adstock_weights("binomial", alpha=0.5, max_lag=3).round(6).tolist()
    [0.4, 0.3, 0.2, 0.1]
    """
    try:
        if name in ("geometric", "lightweight"):
            if n_periods is None:
                raise InputError(f"adstock {name!r} is a recursion over the series: pass n_periods")
            rate = params["alpha"] if name == "geometric" else params["lam"]
            w = geometric_weights(rate, _window("n_periods", n_periods))
            if name == "lightweight" and params.get("normalize", True):
                w = w * (1.0 - np.asarray(rate, dtype=np.float64))[..., None]
            return w
        if name == "geometric_window":
            return geometric_weights(
                params["alpha"], params["l_max"], normalize=params.get("normalize", False)
            )
        if name == "delayed":
            return delayed_weights(
                params["alpha"],
                params["theta"],
                params.get("l_max", PYMC_DEFAULT_L_MAX),
                normalize=params.get("normalize", True),
            )
        if name == "binomial":
            return binomial_weights(params["alpha"], params["max_lag"], n_periods=n_periods)
        if name in ("weibull_cdf", "weibull_pdf"):
            return weibull_weights(
                params["shape"],
                params["scale"],
                kind="cdf" if name == "weibull_cdf" else "pdf",
                convention=params.get("convention", "robyn"),
                l_max=params.get("l_max"),
                n_periods=n_periods,
                normalize=params.get("normalize", False),
            )
    except KeyError as missing:
        raise InputError(f"adstock {name!r} needs parameter {missing.args[0]!r}") from None
    raise InputError(
        f"unknown adstock {name!r}; known: binomial, delayed, geometric, geometric_window, "
        "lightweight, weibull_cdf, weibull_pdf"
    )


def adstock_total_weight(
    name: str, /, *, n_periods: int | None = None, **params: Any
) -> FloatArray:
    r"""Sum of the lag weights: the long-run multiplier of a steady spend.

    Because adstock is linear, a spend of ``s`` every period settles at
    ``s * adstock_total_weight(...)`` once the window is full; the marginal effect of one
    extra unit of spend, summed over all later periods, is the same number.

    For ``geometric`` without ``n_periods`` this is the closed form
    :math:`1/(1-\alpha)` (infinite for :math:`\alpha = 1`); with ``n_periods`` it is
    the finite sum :math:`(1-\alpha^T)/(1-\alpha)`. ``lightweight`` with
    ``normalize=True`` gives :math:`1` (resp. :math:`1-\alpha^T`). Normalized
    windows give 1. Otherwise the weights of :func:`adstock_weights` are summed.

    Parameters
    ----------
    name : str
        Registered adstock name.
    n_periods : int, optional
        Series length; ``None`` means the long run where that is defined.
    **params
        The transform's parameters.

    Returns
    -------
    ndarray, shape of the broadcast parameters

    Examples
    --------
    >>> float(adstock_total_weight("geometric", alpha=0.5))
    2.0
    >>> float(adstock_total_weight("geometric_window", alpha=0.5, l_max=3))
    1.75
    """
    if name in ("geometric", "lightweight") and n_periods is None:
        key = "alpha" if name == "geometric" else "lam"
        if key not in params:
            raise InputError(f"adstock {name!r} needs parameter {key!r}")
        rate = _param(key, params[key], 0.0, 1.0)
        if name == "lightweight" and params.get("normalize", True):
            return np.ones_like(rate)
        with np.errstate(divide="ignore"):
            return np.asarray(1.0 / (1.0 - rate), dtype=np.float64)
    return np.asarray(
        adstock_weights(name, n_periods=n_periods, **params).sum(axis=-1), dtype=np.float64
    )
