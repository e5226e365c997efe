r"""Lag weights and the causal convolution every finite-window adstock shares.

``y_t = sum_l w_l x_{t-l}`` with zero history before the first period
(:func:`convolve_weights`); the conventions differ only in their weights, computed
here (geometric, Meridian's geometric and binomial, delayed peak, Weibull CDF/PDF in
Robyn's or PyMC-Marketing's convention). Shapes follow
:mod:`mediamix.transforms.adstock`; the weight formulas are the kernels of
:mod:`mediamix.transforms.kernels`, shared with the Bayesian engine.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from mediamix.errors import InputError
from mediamix.transforms import kernels
from mediamix.transforms.kernels import NUMPY

FloatArray = npt.NDArray[np.float64]
WeibullKind = Literal["cdf", "pdf"]
WeibullConvention = Literal["robyn", "pymc"]

#: PyMC-Marketing's default ``l_max`` for its windowed adstocks.
PYMC_DEFAULT_L_MAX = 12

__all__ = [
    "PYMC_DEFAULT_L_MAX",
    "binomial_weights",
    "convolve_weights",
    "delayed_weights",
    "geometric_weights",
    "lagged_copies",
    "meridian_geometric_weights",
    "weibull_weights",
]


# --------------------------------------------------------------------------- helpers


def _series(x: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        raise InputError("x must have a time axis: shape (T,) or (T, C), got a scalar")
    n_periods = arr.shape[0] if arr.ndim == 1 else arr.shape[-2]
    if n_periods == 0:
        raise InputError("x has no periods")
    return arr


def _param(
    name: str,
    value: npt.ArrayLike,
    low: float,
    high: float = np.inf,
    *,
    low_open: bool = False,
) -> FloatArray:
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} must be finite, got {value!r}")
    bad = (arr <= low) if low_open else (arr < low)
    bad |= arr > high
    if np.any(bad):
        bracket = "(" if low_open else "["
        raise InputError(f"{name} must be in {bracket}{low}, {high}], got {value!r}")
    return arr


def _window(name: str, value: int | None) -> int:
    if value is None or isinstance(value, bool) or int(value) != value or int(value) < 1:
        raise InputError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _normalized(w: FloatArray) -> FloatArray:
    return np.asarray(kernels.normalized(w, NUMPY), dtype=np.float64)


def _squeeze(out: FloatArray, x: FloatArray, *params: FloatArray) -> FloatArray:
    # 1-D x with scalar parameters was lifted to one channel; give back (T,).
    if x.ndim == 1 and all(p.ndim == 0 for p in params):
        return out[..., 0]
    return out


# ------------------------------------------------------------------ convolution core


def convolve_weights(x: npt.ArrayLike, w: npt.ArrayLike) -> FloatArray:
    r"""Causal convolution of a series with lag weights, vectorized over channels and batches.

    .. math:: y_t = \sum_{l=0}^{L-1} w_l \, x_{t-l}, \qquad x_s = 0 \text{ for } s < 0

    This is the one convolution used by every finite-window convention (PyMC-Marketing
    ``batched_convolution`` with ``mode=After``, Meridian ``adstock``, Robyn's Weibull
    loop). Lags beyond the series length never meet data and are dropped.

    Parameters
    ----------
    x : array_like, shape (T,), (T, C) or (*batch, T, C)
        Series, time first, in any additive unit.
    w : array_like, shape (L,), (C, L) or (*batch, C, L)
        Weight of lag ``l`` in ``w[..., l]``; ``w[..., 0]`` is the same period.

    Returns
    -------
    ndarray
        ``(T,)`` when both ``x`` and ``w`` are 1-D, else ``(*batch, T, C)``, in the
        units of ``x``.

    Notes
    -----
    With 2-D ``x`` and batched weights the lagged copies of ``x`` are built once and
    every batch is one matrix product per channel (BLAS), so a thousand parameter
    sets cost little more than one.

    Examples
    --------
    >>> convolve_weights([100.0, 0.0, 0.0, 50.0], [0.5, 0.25]).tolist()
    [50.0, 25.0, 0.0, 25.0]
    """
    xa = _series(x)
    wa = np.asarray(w, dtype=np.float64)
    if wa.ndim == 0 or wa.shape[-1] == 0:
        raise InputError("weights need a lag axis with at least one lag")
    x2 = xa[:, None] if xa.ndim == 1 else xa
    w2 = wa[None, :] if wa.ndim == 1 else wa
    n_periods = x2.shape[-2]
    n_lags = min(w2.shape[-1], n_periods)
    n_channels = np.broadcast_shapes((x2.shape[-1],), (w2.shape[-2],))[0]

    lags = lagged_copies(x2, n_lags)

    if x2.ndim == 2:
        batch = w2.shape[:-2]
        w_lags = w2[..., :n_lags]
        if not batch:
            # One parameter set (a fitted model's transforms): lag L - 1 first, the order
            # fitted models have always been evaluated in, so that stored results
            # reproduce bit for bit. Batches (the ridge search) sum lag 0 first.
            lags, w_lags = lags[..., ::-1], w_lags[..., ::-1]
        # lagged[c, t, l] = x[t - l, c] (l reversed above), contiguous, so every parameter
        # set of a batch is one BLAS product per channel.
        lagged = np.ascontiguousarray(
            np.broadcast_to(lags, (n_periods, n_channels, n_lags)).transpose(1, 0, 2)
        )
        w_ncl = np.broadcast_to(w_lags, (*batch, n_channels, n_lags)).reshape(
            -1, n_channels, n_lags
        )
        w_cln = w_ncl.transpose(1, 2, 0)
        res = np.matmul(lagged, np.ascontiguousarray(w_cln) if batch else w_cln)  # (C, T, N)
        out = res.transpose(2, 1, 0).reshape(*batch, n_periods, n_channels)
        if batch:
            out = np.ascontiguousarray(out)
    else:
        # Lag L - 1 first (the order this branch has always summed in).
        w_rev = w2[..., :n_lags][..., ::-1]
        windows = lags[..., ::-1]
        lagged = np.broadcast_to(windows, (*windows.shape[:-2], n_channels, n_lags))
        w_b = np.broadcast_to(w_rev, (*w_rev.shape[:-2], n_channels, n_lags))
        out = np.einsum("...tcl,...cl->...tc", lagged, w_b)
    if xa.ndim == 1 and wa.ndim == 1:
        return np.asarray(out[..., 0], dtype=np.float64)
    return np.asarray(out, dtype=np.float64)


def lagged_copies(x: FloatArray, n_lags: int) -> FloatArray:
    """Lagged copies ``out[..., t, c, l] = x[..., t - l, c]``, 0 before the first period.

    A read-only view of shape ``(*batch, T, C, n_lags)`` on a zero-padded copy of
    ``x`` (``(*batch, T, C)``): the operand of every causal convolution here.

    Examples
    --------
    >>> lagged_copies(np.array([[1.0], [2.0], [3.0]]), 2)[:, 0].tolist()
    [[1.0, 0.0], [2.0, 1.0], [3.0, 2.0]]
    """
    pad = [(0, 0)] * x.ndim
    pad[-2] = (n_lags - 1, 0)
    # windows[..., t, c, j] = x[t + j - (L - 1), c] holds lag L - 1 - j: reverse j.
    return sliding_window_view(np.pad(x, pad), n_lags, axis=-2)[..., ::-1]


def _geometric_recursion(x: FloatArray, alpha: FloatArray) -> FloatArray:
    """y_t = x_t + alpha * y_{t-1}, y_0 = x_0, along the time axis of (*batch, T, C) x."""
    if alpha.ndim == 0:
        # One filter for every series: scipy's IIR filter runs the loop in C.
        # imported here: scipy.signal takes over a second to import, and every CLI
        # start imports this module
        from scipy.signal import lfilter

        return np.asarray(lfilter([1.0], [1.0, -float(alpha)], x, axis=-2), dtype=np.float64)
    # Per-channel or batched decay: lfilter takes one coefficient set per call, so
    # step through time instead, each step vectorized over all batches and channels.
    xt = np.moveaxis(x, -2, 0)
    out = np.empty((xt.shape[0], *np.broadcast_shapes(xt.shape[1:], alpha.shape)))
    out[0] = xt[0]
    for t in range(1, xt.shape[0]):
        np.multiply(alpha, out[t - 1], out=out[t])
        out[t] += xt[t]
    return np.moveaxis(out, 0, -2)


# ------------------------------------------------------------------------- weights


def geometric_weights(alpha: npt.ArrayLike, l_max: int, *, normalize: bool = False) -> FloatArray:
    r"""Finite geometric lag weights :math:`w_l = \alpha^l`, :math:`l = 0, \dots, l_{max}-1`.

    PyMC-Marketing's ``geometric_adstock`` weights (``pymc_marketing/mmm/transformers.py``):
    the window holds ``l_max`` lags including lag 0; with ``normalize`` they are divided
    by their sum.

    Parameters
    ----------
    alpha : array_like, shape () or (C,) or (B, C)
        Retention rate per period, in [0, 1].
    l_max : int
        Number of lags in the window (lag 0 included).
    normalize : bool
        Divide the weights by their sum.

    Returns
    -------
    ndarray, shape ``alpha.shape + (l_max,)``

    Examples
    --------
    >>> geometric_weights(0.5, 4).tolist()
    [1.0, 0.5, 0.25, 0.125]
    """
    a = _param("alpha", alpha, 0.0, 1.0)
    n = _window("l_max", l_max)
    w = kernels.geometric_weights(a, n, NUMPY)
    return _normalized(w) if normalize else w


def meridian_geometric_weights(
    alpha: npt.ArrayLike, max_lag: int, *, n_periods: int | None = None
) -> FloatArray:
    r"""Meridian's geometric decay weights, always normalized.

    .. math:: w_l = \frac{\alpha^l}{\sum_{j=0}^{W-1} \alpha^j}, \qquad
              l = 0, \dots, W-1, \quad W = \min(\text{max\_lag} + 1, T)

    Follows ``meridian/model/adstock_hill.py`` (``_adstock`` and
    ``compute_decay_weights``): the window covers lags 0 to ``max_lag`` inclusive, is
    cut to the series length ``T`` when that is shorter, and the weights are
    normalized over the (possibly cut) window.

    Parameters
    ----------
    alpha : array_like, shape () or (C,) or (B, C)
        Decay rate in [0, 1].
    max_lag : int
        Largest lag, >= 0.
    n_periods : int, optional
        Series length ``T``; ``None`` means the full window ``max_lag + 1``.

    Returns
    -------
    ndarray, shape ``alpha.shape + (W,)``

    Examples
    --------
    >>> meridian_geometric_weights(0.5, 2).round(6).tolist()
    [0.571429, 0.285714, 0.142857]
    """
    window = _meridian_window(max_lag, n_periods)
    return geometric_weights(alpha, window, normalize=True)


def _meridian_window(max_lag: int, n_periods: int | None) -> int:
    if isinstance(max_lag, bool) or int(max_lag) != max_lag or max_lag < 0:
        raise InputError(f"max_lag must be a non-negative integer, got {max_lag!r}")
    window = int(max_lag) + 1
    return window if n_periods is None else min(window, _window("n_periods", n_periods))


def binomial_weights(
    alpha: npt.ArrayLike, max_lag: int, *, n_periods: int | None = None
) -> FloatArray:
    r"""Meridian's binomial decay weights, always normalized.

    .. math:: w_l \propto \left(1 - \frac{l}{W}\right)^{1/\alpha - 1}, \qquad
              l = 0, \dots, W-1, \quad W = \min(\text{max\_lag} + 1, T)

    Follows ``meridian/model/adstock_hill.py`` (``_compute_single_decay_function_weights``
    with ``_map_alpha_for_binomial_decay``: the exponent is ``1/alpha - 1``, the
    denominator is the window size). ``alpha = 1`` gives equal weights over the window;
    ``alpha -> 0`` gives no carry-over.

    Parameters
    ----------
    alpha : array_like, shape () or (C,) or (B, C)
        Decay parameter in [0, 1].
    max_lag : int
        Largest lag, >= 0.
    n_periods : int, optional
        Series length ``T``; ``None`` means the full window ``max_lag + 1``.

    Returns
    -------
    ndarray, shape ``alpha.shape + (W,)``

    Examples
    --------
    >>> binomial_weights(0.5, 3).round(6).tolist()
    [0.4, 0.3, 0.2, 0.1]
    """
    a = _param("alpha", alpha, 0.0, 1.0)
    window = _meridian_window(max_lag, n_periods)
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        exponent = 1.0 / a[..., None] - 1.0  # alpha = 0 -> inf: only lag 0 survives
        base = 1.0 - np.arange(window, dtype=np.float64) / window
        w = base**exponent
    return _normalized(w)


def delayed_weights(
    alpha: npt.ArrayLike, theta: npt.ArrayLike, l_max: int, *, normalize: bool = True
) -> FloatArray:
    r"""Delayed-peak lag weights of Jin et al. (2017): :math:`w_l = \alpha^{(l-\theta)^2}`.

    For :math:`l = 0, \dots, l_{max}-1`; the effect peaks ``theta`` periods after the
    spend. Matches PyMC-Marketing ``delayed_adstock`` and LightweightMMM ``carryover``
    (``ad_effect_retention_rate`` = ``alpha``, ``peak_effect_delay`` = ``theta``,
    ``number_lags`` = ``l_max``, always normalized there).

    Parameters
    ----------
    alpha : array_like, shape () or (C,) or (B, C)
        Retention rate in (0, 1].
    theta : array_like, broadcastable with ``alpha``
        Delay of the peak in periods, >= 0 (non-integer allowed).
    l_max : int
        Number of lags in the window (lag 0 included).
    normalize : bool
        Divide by the sum of the weights (Jin et al. and LightweightMMM do;
        PyMC-Marketing's default does not).

    Returns
    -------
    ndarray, shape ``broadcast(alpha, theta).shape + (l_max,)``

    Examples
    --------
    >>> delayed_weights(0.5, 1.0, 3).tolist()
    [0.25, 0.5, 0.25]
    """
    a = _param("alpha", alpha, 0.0, 1.0, low_open=True)
    th = _param("theta", theta, 0.0)
    n = _window("l_max", l_max)
    w = kernels.delayed_weights(a, th, n, NUMPY)
    return _normalized(w) if normalize else w


def weibull_weights(
    shape: npt.ArrayLike,
    scale: npt.ArrayLike,
    *,
    kind: WeibullKind = "cdf",
    convention: WeibullConvention = "robyn",
    l_max: int | None = None,
    n_periods: int | None = None,
    normalize: bool = False,
) -> FloatArray:
    r"""Weibull lag weights in Robyn's or PyMC-Marketing's convention.

    With :math:`S(t) = \exp(-(t/\lambda)^k)` the Weibull survival function and
    :math:`f(t) = \frac{k}{\lambda}(t/\lambda)^{k-1} e^{-(t/\lambda)^k}` its density:

    ``kind="cdf"`` (survival-based decay, peak at lag 0):
        :math:`w_0 = 1`, :math:`w_l = \prod_{j=1}^{l} S(j)`.
    ``kind="pdf"`` (allows a delayed peak):
        :math:`w_l = \dfrac{f(l+1) - \min_j f(j)}{\max_j f(j) - \min_j f(j)}`
        (min-max scaled so the peak weight is 1; the smallest weight becomes 0).

    Conventions:

    ``"robyn"`` (``R/R/transformation.R``, ``adstock_weibull``)
        ``scale`` is a share of the window length ``W`` (``l_max``, default the series
        length): :math:`\lambda = \mathrm{round}(1 + \text{scale}\,(W-1))` (R's
        ``round(quantile(1:W, scale))``; R and numpy both round halves to even).
        The CDF window has ``W`` lags, the PDF window ``W`` lags. ``shape == 0`` or
        ``scale == 0`` returns ``x`` unchanged (Robyn >= 3.10 behaviour).
    ``"pymc"`` (``pymc_marketing/mmm/transformers.py``, ``weibull_adstock``)
        ``scale`` is :math:`\lambda` in periods, ``l_max`` defaults to 12. The PDF window
        has ``l_max`` lags; the CDF window has ``l_max + 1`` lags because PyMC-Marketing
        prepends the weight 1 before the cumulative product of ``l_max`` survival
        values (followed here as published).

    A flat PDF curve (max == min) gives ``[1, 0, ..., 0]`` in both conventions
    (Robyn's rule; PyMC-Marketing would divide by zero).

    Parameters
    ----------
    shape : array_like, shape () or (C,) or (B, C)
        Weibull shape :math:`k` >= 0.
    scale : array_like, broadcastable with ``shape``
        Robyn: share of the window in [0, 1]; PyMC: :math:`\lambda` in periods, >= 0.
    kind : {"cdf", "pdf"}
    convention : {"robyn", "pymc"}
    l_max : int, optional
        Window length (Robyn's ``windlen``; PyMC's ``l_max``).
    n_periods : int, optional
        Series length, the Robyn window when ``l_max`` is None.
    normalize : bool
        Divide the weights by their sum (PyMC-Marketing's ``normalize`` option;
        Robyn never normalizes).

    Returns
    -------
    ndarray, shape ``broadcast(shape, scale).shape + (L,)``

    Examples
    --------
    >>> weibull_weights(1.0, 3.0, kind="cdf", convention="pymc", l_max=2).round(6).tolist()
    [1.0, 0.716531, 0.367879]
    """
    if kind not in ("cdf", "pdf"):
        raise InputError(f"kind must be 'cdf' or 'pdf', got {kind!r}")
    if convention not in ("robyn", "pymc"):
        raise InputError(f"convention must be 'robyn' or 'pymc', got {convention!r}")
    k = _param("shape", shape, 0.0)
    if convention == "robyn":
        s = _param("scale", scale, 0.0, 1.0)
        if l_max is None and n_periods is None:
            raise InputError(
                "Robyn's Weibull scale is a share of the window length: pass l_max or n_periods"
            )
        window = _window("l_max", l_max if l_max is not None else n_periods)
        lam = np.round(1.0 + s * (window - 1))
        n_survival = window - 1
    else:
        s = _param("scale", scale, 0.0)
        window = _window("l_max", l_max if l_max is not None else PYMC_DEFAULT_L_MAX)
        lam = s
        n_survival = window
    k, s, lam = np.broadcast_arrays(k, s, lam)
    # Robyn tests the raw scale: scale = 0 means no carry-over even though its
    # rounded lambda would be 1.
    identity = (k == 0) | (s == 0)
    if kind == "pdf":
        w = kernels.weibull_pdf_weights(k, lam, identity, window, NUMPY)
    else:
        k_safe = np.where(k > 0, k, 1.0)[..., None]
        lam_safe = np.where(lam > 0, lam, 1.0)[..., None]
        t = np.arange(1, n_survival + 1, dtype=np.float64)
        with np.errstate(over="ignore", under="ignore"):
            survival = np.exp(-((t / lam_safe) ** k_safe))
        ones = np.ones((*survival.shape[:-1], 1))
        w = np.cumprod(np.concatenate([ones, survival], axis=-1), axis=-1)
        w = np.where(identity[..., None], NUMPY.first_lag(w.shape, w.dtype), w)
    return _normalized(w) if normalize else w
