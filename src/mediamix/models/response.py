"""A fitted model seen as a response model: plan spend totals -> expected KPI.

The optimizer needs only ``channels``, ``response(spend)`` and ``gradient(spend)``
(see :mod:`mediamix.optimization.response`); this adapter provides them for a
:class:`~mediamix.models.result.FitResult` without exposing model internals.

A plan gives each channel a total ``X_c`` over ``H`` periods. It is spread over
the periods in the channel's historical pattern (the last ``H`` periods of the
window, or the window repeated when ``H`` is longer), so at the historical totals
the response equals the fitted contribution. Because adstock is linear,
``adstock(X_c * u_c) = X_c * adstock(u_c)`` with ``u_c`` the unit pattern, hence::

    response_c(X_c) = beta_c * sum_t sat_c(X_c * a_tc),   a_c = adstock_c(u_c)
    d response_c / d X_c = beta_c * sum_t sat_c'(X_c * a_tc) * a_tc

Uncertainty: when the result carries ROI draws (``draws["roi"]``, shape (S, C):
the ridge engine's residual bootstrap with transforms held fixed, or a Bayesian
posterior), draw ``s`` scales each channel's coefficient by
``roi_sc / roi_c`` (``roi_c`` the point ROI), because with the transforms held the
contribution is linear in ``beta``::

    response_s(X) = sum_c (roi_sc / roi_c) * response_c(X_c)

with one conservative change for spend above the historical level
(``X_c > X0_c``): there the draws use ``min(response_c(X_c), response_c(X0_c) X_c / X0_c)``,
crediting no increasing returns the data never showed. The point response
(:meth:`FittedResponse.response`, what the optimizer maximizes) is unchanged.

Channels with a zero or undefined point ROI, and non-finite draws, keep the point
coefficient (scale 1).

A Bayesian fit that stores each draw's curve (``draws["curve__*"]``: coefficient and
transform parameters in the input's units) is planned on the posterior itself:
``response`` is the expected response over (up to ``MAX_POSTERIOR_DRAWS``) draws,
``gradient`` its gradient, and ``response_draws`` each draw's own curve. At the
historical spend every draw's response equals that draw's contribution.

A ridge fit that stores a model ensemble (``info["ensemble"]["members"]``, see
:func:`mediamix.models.ridge.model_ensemble`: up to 100 models from the
likelihood-ratio set of the search, each with its own adstock, Hill curve and
coefficient) is planned the same way, the members taking the place of posterior
draws::

    response(X) = mean_m sum_c beta_mc * sum_t hill_mc(X_c * adstock_mc(u_c)_t)

so the optimizer hedges where near-equal fits disagree. The risk check
(:mod:`mediamix.optimization.risk`) counts as draws the members and as many of
the recommended model's bootstrap x Pareto-front draws (below): each description
of uncertainty misses datasets the other catches. Measured with
``benchmarks/decision_bench.py`` (``benchmarks/results/decision.md``): members
alone let through a plan that was -5.04% in truth (seed 1041, 208 weeks, 4
channels: every member agreed), the bootstrap x Pareto draws alone one that was
-3.48% (seed 1027, 104 weeks, 7 channels); with both, neither, on seeds
1000-1059. As for the posterior, ``response_draws`` credits no increasing returns
above historical spend; ``response``, what the optimizer maximizes, is the plain
mean over the members. Fits stored before the ensemble existed keep the
bootstrap x Pareto-front draws alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from mediamix.models.result import ChannelFit, FitResult
from mediamix.transforms.registry import adstock_from_dict, saturation_from_dict

__all__ = [
    "PARETO_FIT_TOLERANCE",
    "FittedResponse",
    "SynergyResponse",
    "evenly_spaced",
    "planning_response",
    "response_curve_table",
    "response_curves",
]

PARETO_FIT_TOLERANCE = 0.05
"""Pareto-front models within this relative training NRMSE of the best count as draws."""


class FittedResponse:
    """Response of a fitted model to total spend per channel over a plan.

    Parameters
    ----------
    result : FitResult
    periods : int, optional
        Plan length; the modeling window by default.

    Examples
    --------
    At the historical totals the response equals the model's contributions.
    """

    def __init__(self, result: FitResult, periods: int | None = None) -> None:
        self._setup(result.channels, result.data.spend[0], periods)
        post = _posterior_curves(result, self._unit)
        ensemble = None if post is not None else _ensemble_curves(result, self._unit)
        self._post = post or ensemble
        self._scale = None if post is not None else _draw_scale(result)
        if ensemble is not None and self._scale is not None:
            # the recommended model's bootstrap x Pareto draws join the members, as
            # many of them (evenly spaced), so each description of uncertainty weighs half
            self._scale = self._scale[evenly_spaced(len(self._scale), ensemble.beta.shape[0])]

    @classmethod
    def from_parts(
        cls,
        channels: Mapping[str, ChannelFit],
        history: np.ndarray,
        periods: int | None = None,
        draw_scale: np.ndarray | None = None,
    ) -> FittedResponse:
        """A response model from channel fits and a spend history (T, C) directly.

        Used to plan with known curves, e.g. the true curves of synthetic data.
        ``draw_scale`` (S, C), optional, multiplies each channel's coefficient per
        draw (see the module docstring); without it the model has no draws.
        """
        self = cls.__new__(cls)
        self._setup(channels, np.asarray(history, float), periods)
        self._post = None
        self._scale = None
        if draw_scale is not None:
            scale = np.asarray(draw_scale, float)
            if scale.ndim != 2 or scale.shape[1] != len(self._channels):
                raise ValueError("draw_scale must have shape (S, C)")
            self._scale = np.where(np.isfinite(scale), scale, 1.0)
        return self

    def _setup(
        self, fits: Mapping[str, ChannelFit], history: np.ndarray, periods: int | None
    ) -> None:
        T, _ = history.shape
        periods = T if periods is None else int(periods)
        if periods <= 0:
            raise ValueError("periods must be positive")
        if periods <= T:
            pattern = history[T - periods :]
        else:
            reps = int(np.ceil(periods / T))
            pattern = np.tile(history, (reps, 1))[-periods:]
        totals = pattern.sum(axis=0)
        self._channels = tuple(fits)
        self.periods = periods
        self.current = totals.copy()
        self._betas = np.array([fits[c].beta for c in self._channels])
        self._sats = [saturation_from_dict(dict(fits[c].saturation)) for c in self._channels]
        unit = np.divide(
            pattern, totals, out=np.full_like(pattern, 1.0 / periods), where=totals > 0
        )
        self._unit = unit
        self._a = np.column_stack(
            [
                np.asarray(adstock_from_dict(dict(fits[c].adstock)).apply(unit[:, i]))
                for i, c in enumerate(self._channels)
            ]
        )  # (H, C)

    @property
    def current_spend(self) -> dict[str, float]:
        """Historical spend per channel over the plan's periods (the status quo)."""
        return {c: float(v) for c, v in zip(self._channels, self.current, strict=True)}

    @property
    def channels(self) -> tuple[str, ...]:
        """Channel names, the order of the last axis of spend arrays."""
        return self._channels

    def channel_response(self, spend: np.ndarray) -> np.ndarray:
        """Response per channel (..., C) to plan totals ``spend`` (..., C).

        For a posterior with per-draw curves, the expected response over the draws.
        """
        x = np.asarray(spend, float)
        if self._post is not None:
            return np.asarray(self._post.channel_draws(x).mean(axis=0))
        return self._point_channel_response(x)

    def _point_channel_response(self, x: np.ndarray) -> np.ndarray:
        """The recommended model's own curves (..., C)."""
        out = np.empty(x.shape)
        for c, sat in enumerate(self._sats):
            v = x[..., c, None] * self._a[:, c]  # (..., H)
            out[..., c] = self._betas[c] * np.asarray(sat.apply(v)).sum(axis=-1)
        return out

    def channel_gradient(self, spend: np.ndarray) -> np.ndarray:
        """Derivative of each channel's response w.r.t. its own spend (..., C)."""
        return self.gradient(spend)

    def response(self, spend: np.ndarray) -> np.ndarray:
        """Total response (...) to plan totals (..., C)."""
        return self.channel_response(spend).sum(axis=-1)

    @property
    def n_draws(self) -> int:
        """Number of draws behind :meth:`response_draws` (0 when the fit has none)."""
        n = 0 if self._post is None else int(self._post.beta.shape[0])
        return n + (0 if self._scale is None else int(self._scale.shape[0]))

    @property
    def draw_scale(self) -> np.ndarray | None:
        """Per-draw coefficient multipliers (S, C), or None without draws."""
        return None if self._scale is None else self._scale.copy()

    def response_draws(self, spend: np.ndarray) -> np.ndarray:
        """Total response under each draw, shape (S, ...), for plan totals (..., C).

        Without draws in the fit, a single draw: the point response, shape (1, ...).
        Note that :meth:`response` is the point fit (or, for a posterior or a model
        ensemble, the mean over its curves), not the mean of these draws. With a
        model ensemble the draws are the members' first, then the recommended
        model's bootstrap x Pareto draws.
        """
        x = np.asarray(spend, float)
        ratio = np.divide(x, self.current, out=np.ones_like(x), where=self.current > 0)
        parts = []
        if self._post is not None:
            per_draw = self._post.channel_draws(x)  # (S, ..., C)
            base = self._post.channel_draws(self.current)  # (S, C)
            base = base.reshape(base.shape[:1] + (1,) * (per_draw.ndim - 2) + base.shape[1:])
            clipped = np.where(ratio > 1.0, np.minimum(per_draw, base * ratio), per_draw)
            parts.append(clipped.sum(axis=-1))
        if self._scale is not None:
            per = self._point_channel_response(x)  # (..., C)
            shape = (self._scale.shape[0],) + (1,) * (per.ndim - 1) + (-1,)
            scale = self._scale.reshape(shape)
            point = self._point_channel_response(self.current)
            # beyond the historical spend the data say nothing about the curve's shape:
            # the draws credit no increasing returns there (at most the historical ROI
            # per extra unit; a concave curve through 0 is already below that line)
            per = np.where(ratio > 1.0, np.minimum(per, point * ratio), per)
            parts.append((per[None] * scale).sum(axis=-1))
        if not parts:
            return np.asarray(self._point_channel_response(x).sum(axis=-1)[None])
        return np.asarray(np.concatenate(parts, axis=0))

    def gradient(self, spend: np.ndarray) -> np.ndarray:
        """d response / d spend (..., C)."""
        x = np.asarray(spend, float)
        if self._post is not None:
            return np.asarray(self._post.channel_gradient_draws(x).mean(axis=0))
        out = np.empty(x.shape)
        for c, sat in enumerate(self._sats):
            a = self._a[:, c]
            v = x[..., c, None] * a
            with np.errstate(divide="ignore", invalid="ignore"):
                # periods with no adstocked spend add nothing (a Hill slope < 1 has an
                # infinite derivative at 0, and inf * 0 must count as 0 here)
                terms = np.where(a > 0, np.asarray(sat.derivative(v)) * a, 0.0)
            out[..., c] = self._betas[c] * terms.sum(-1)
        return out


class SynergyResponse:
    """A fitted model with synergy terms, seen as a (non-separable) response model.

    The fit's response to plan totals ``X`` is the separable part of
    :class:`FittedResponse` plus, per synergy pair ``(a, b)``::

        gamma_ab * sum_t h_a(X_a)_t * h_b(X_b)_t,   h_c(X_c)_t = sat_c(X_c * a_tc)

    (``a_c`` the adstocked unit pattern; the term of
    :class:`~mediamix.models.result.FitResult`), whose gradient is
    ``gamma_ab * sum_t sat_a'(X_a a_ta) a_ta h_b(X_b)_t`` for ``a`` and the same for
    ``b``. The optimizer sees no ``channel_response``, so it plans with its
    non-separable solver. At the historical totals the response equals the fit's
    media contribution, synergy included. The draws add the synergy term at the
    recommended model's curves and ``gamma`` to every draw: its uncertainty is not
    in them.

    Examples
    --------
    >>> from mediamix.models.result import example_result
    >>> import dataclasses
    >>> result = example_result()
    >>> syn = dataclasses.replace(result, synergy={("tv", "search"): 500.0})
    >>> model = planning_response(syn)
    >>> x = model.current
    >>> bool(np.isclose(model.response(x), syn.contributions().sum()))
    True
    """

    def __init__(self, result: FitResult, periods: int | None = None) -> None:
        self._setup(FittedResponse(result, periods), result.synergy)

    @classmethod
    def from_parts(
        cls,
        channels: Mapping[str, ChannelFit],
        history: np.ndarray,
        synergy: Mapping[tuple[str, str], float],
        periods: int | None = None,
    ) -> SynergyResponse:
        """A response model from channel fits, synergy terms and a spend history (T, C).

        Used to plan with known curves, e.g. the true curves of synthetic data.
        """
        self = cls.__new__(cls)
        self._setup(FittedResponse.from_parts(channels, history, periods), synergy)
        return self

    def _setup(self, base: FittedResponse, synergy: Mapping[tuple[str, str], float]) -> None:
        self._base = base
        names = list(base.channels)
        self._pairs = [(names.index(a), names.index(b), float(g)) for (a, b), g in synergy.items()]

    @property
    def channels(self) -> tuple[str, ...]:
        """Channel names, the order of the last axis of spend arrays."""
        return self._base.channels

    @property
    def current(self) -> np.ndarray:
        """Historical spend per channel over the plan's periods (C,)."""
        return self._base.current

    @property
    def periods(self) -> int:
        """Plan length in periods."""
        return self._base.periods

    @property
    def current_spend(self) -> dict[str, float]:
        """Historical spend per channel over the plan's periods (the status quo)."""
        return self._base.current_spend

    @property
    def n_draws(self) -> int:
        """Number of draws behind :meth:`response_draws`."""
        return self._base.n_draws

    def _unit(self, x: np.ndarray, c: int, derivative: bool) -> np.ndarray:
        """``h_c`` (..., H) at totals ``x`` or its derivative times ``a_c``."""
        base = self._base
        a = base._a[:, c]
        v = x[..., c, None] * a
        sat = base._sats[c]
        if not derivative:
            return np.asarray(sat.apply(v))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(a > 0, np.asarray(sat.derivative(v)) * a, 0.0)

    def synergy(self, spend: np.ndarray) -> np.ndarray:
        """The synergy terms' total response (...) to plan totals (..., C)."""
        x = np.asarray(spend, float)
        out = np.zeros(x.shape[:-1])
        for a, b, g in self._pairs:
            out = out + g * (self._unit(x, a, False) * self._unit(x, b, False)).sum(axis=-1)
        return out

    def response(self, spend: np.ndarray) -> np.ndarray:
        """Total response (...) to plan totals (..., C), synergy included."""
        x = np.asarray(spend, float)
        return np.asarray(self._base.response(x) + self.synergy(x))

    def gradient(self, spend: np.ndarray) -> np.ndarray:
        """d response / d spend (..., C), synergy included."""
        x = np.asarray(spend, float)
        out = np.array(self._base.gradient(x), dtype=float)
        for a, b, g in self._pairs:
            ha, hb = self._unit(x, a, False), self._unit(x, b, False)
            out[..., a] += g * (self._unit(x, a, True) * hb).sum(axis=-1)
            out[..., b] += g * (self._unit(x, b, True) * ha).sum(axis=-1)
        return out

    def response_draws(self, spend: np.ndarray) -> np.ndarray:
        """Total response under each draw (S, ...), the synergy term added to each."""
        x = np.asarray(spend, float)
        return np.asarray(self._base.response_draws(x) + self.synergy(x)[None])


def planning_response(
    result: FitResult, periods: int | None = None
) -> FittedResponse | SynergyResponse:
    """The response model to plan a fit on: with its synergy terms when it has any.

    Examples
    --------
    >>> from mediamix.models.result import example_result
    >>> type(planning_response(example_result())).__name__
    'FittedResponse'
    """
    if result.synergy:
        return SynergyResponse(result, periods)
    return FittedResponse(result, periods)


def response_curves(
    result: FitResult, multiples: Sequence[float] = tuple(np.linspace(0.0, 2.0, 21))
) -> dict[str, dict[str, list[float]]]:
    r"""Response and marginal ROI of each channel over a grid of its total spend.

    Channel ``c``'s spend in every period is multiplied by ``m`` (the others held at
    history), so the spend grid is ``m * total_spend_c`` and the historical pattern
    and carry-over are kept:

    .. math:: R_c(m) = \sum_t \mathrm{comp}_{tc}(m \cdot x_{\cdot c}), \qquad
              \mathrm{mROI}_c(m) = \frac{R_c(1.01\,m) - R_c(m)}{0.01\, m\, S_c}

    with :math:`S_c` the historical total spend (at ``m = 0`` the step is 1% of
    :math:`S_c` instead). ``R`` includes the channel's share of synergy terms.
    Units: KPI, and KPI per currency unit. Every engine's result has them (they
    read only the fitted transforms); :meth:`FitResult.response_curves
    <mediamix.models.result.FitResult.response_curves>` gives them as a tidy table.

    Examples
    --------
    >>> from mediamix.models.result import example_result
    >>> curves = response_curves(example_result(), multiples=(0.0, 1.0))
    >>> curves["tv"]["multiple"], curves["tv"]["response"][0]
    ([0.0, 1.0], 0.0)
    """
    spend = result.data.spend[0]
    totals = spend.sum(axis=0)
    out: dict[str, dict[str, list[float]]] = {}
    for c, name in enumerate(result.channel_names):

        def total(m: float, c: int = c) -> float:
            x = spend.copy()
            x[:, c] *= m
            return float(result.media_components(x)[:, c].sum())

        rows: dict[str, list[float]] = {
            "multiple": [],
            "spend": [],
            "response": [],
            "marginal_roi": [],
        }
        for m in multiples:
            r = total(m)
            step = 0.01 * m if m > 0 else 0.01
            dm = (total(m + step) - r) / (step * totals[c]) if totals[c] > 0 else float("nan")
            rows["multiple"].append(float(m))
            rows["spend"].append(float(m * totals[c]))
            rows["response"].append(r)
            rows["marginal_roi"].append(float(dm))
        out[name] = rows
    return out


def response_curve_table(
    result: FitResult, multiples: Sequence[float] = tuple(np.linspace(0.0, 2.0, 21))
) -> pd.DataFrame:
    """The response curves of :func:`response_curves` as a tidy table.

    One row per channel and spend multiple: ``channel``, ``multiple``, ``spend``,
    ``response``, ``marginal_roi``.
    """
    rows = [
        {"channel": name, **dict(zip(curve, values, strict=True))}
        for name, curve in response_curves(result, multiples).items()
        for values in zip(*curve.values(), strict=True)
    ]
    columns = ["channel", "multiple", "spend", "response", "marginal_roi"]
    return pd.DataFrame(rows, columns=columns)


MAX_POSTERIOR_DRAWS = 100
"""Posterior draws a plan averages over (evenly spaced through the chains)."""


class _PosteriorCurves:
    """Per-draw response curves of a Bayesian fit, on a plan's unit spend pattern.

    For draw ``s`` and channel ``c``: ``r_sc(X) = beta_sc * sum_t sat_sc(X * a_stc)``
    with ``a_sc`` the draw's adstock applied to the unit pattern. Hill and logistic
    saturations (the Bayesian engine's) are evaluated in closed form, vectorized over
    draws and periods.
    """

    def __init__(
        self, a: np.ndarray, beta: np.ndarray, kind: str, p1: np.ndarray, p2: np.ndarray | None
    ) -> None:
        self.a = a  # (S, H, C)
        self.beta = beta  # (S, C)
        self.kind = kind
        self.p1 = p1  # (S, C): half_saturation or lam
        self.p2 = p2  # (S, C): slope (hill)

    def _sat(self, v: np.ndarray, c: int, derivative: bool) -> np.ndarray:
        p1 = self.p1[:, c, None]
        if self.kind == "hill":
            s = self.p2[:, c, None]  # type: ignore[index]
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                if not derivative:
                    return np.where(v > 0, 1.0 / (1.0 + (p1 / v) ** s), 0.0)
                d = s * p1**s * v ** (s - 1.0) / (v**s + p1**s) ** 2
                return np.where(np.isfinite(d), d, 0.0)
        e = np.exp(-p1 * v)
        if not derivative:
            return (1.0 - e) / (1.0 + e)
        return 2.0 * p1 * e / (1.0 + e) ** 2

    def channel_draws(self, x: np.ndarray) -> np.ndarray:
        """Per-draw channel responses (S, ..., C) to plan totals ``x`` (..., C)."""
        S, _, C = self.a.shape
        out = np.empty((S, *x.shape))
        for c in range(C):
            v = x[..., c, None, None] * self.a[:, :, c]  # (..., S, H)
            r = self._sat(v, c, False).sum(axis=-1) * self.beta[:, c]  # (..., S)
            out[..., c] = np.moveaxis(r, -1, 0)
        return out

    def channel_gradient_draws(self, x: np.ndarray) -> np.ndarray:
        """Per-draw derivatives of each channel's response (S, ..., C)."""
        S, _, C = self.a.shape
        out = np.empty((S, *x.shape))
        for c in range(C):
            a = self.a[:, :, c]
            v = x[..., c, None, None] * a
            g = (self._sat(v, c, True) * a).sum(axis=-1) * self.beta[:, c]
            out[..., c] = np.moveaxis(g, -1, 0)
        return out


def _posterior_curves(result: FitResult, unit: np.ndarray) -> _PosteriorCurves | None:
    """The fit's per-draw curves (``draws["curve__*"]``) on the unit pattern, if any."""
    d = result.draws
    if "curve__beta" not in d:
        return None
    names = result.channel_names
    kinds = {dict(result.channels[c].saturation)["type"] for c in names}
    if not kinds <= {"hill", "logistic"} or len(kinds) != 1:
        return None
    kind = kinds.pop()
    beta = np.asarray(d["curve__beta"], float)
    n = beta.shape[0]
    idx = evenly_spaced(n, MAX_POSTERIOR_DRAWS)
    keys = [k for k in ("alpha", "theta", "shape", "scale") if f"curve__{k}" in d]
    a = np.empty((len(idx), unit.shape[0], len(names)))
    for c, ch in enumerate(names):
        base = dict(result.channels[ch].adstock)
        for j, s in enumerate(idx):
            params = dict(base, **{k: float(d[f"curve__{k}"][s, c]) for k in keys})
            a[j, :, c] = adstock_from_dict(params).apply(unit[:, c])
    if kind == "hill":
        p1 = np.asarray(d["curve__half_saturation"], float)[idx]
        p2: np.ndarray | None = np.asarray(d["curve__slope"], float)[idx]
    else:
        p1, p2 = np.asarray(d["curve__lam"], float)[idx], None
    return _PosteriorCurves(a, beta[idx], kind, p1, p2)


def evenly_spaced(n: int, k: int) -> np.ndarray:
    """At most ``k`` indices into ``n`` items, evenly spaced, first and last included.

    >>> evenly_spaced(10, 4).tolist()
    [0, 3, 6, 9]
    >>> evenly_spaced(3, 5).tolist()
    [0, 1, 2]
    """
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(int))


def _ensemble_curves(result: FitResult, unit: np.ndarray) -> _PosteriorCurves | None:
    """The curves of the fit's model ensemble (``info["ensemble"]["members"]``), if any.

    Each member holds, per channel, its own adstock, saturation and coefficient in
    the registry's JSON form (:meth:`~mediamix.models.result.ChannelFit.to_dict`).
    Needs at least two members and Hill or logistic saturation throughout.
    """
    members = result.engine_info.ensemble
    if len(members) < 2:
        return None
    names = result.channel_names
    S, H, C = len(members), unit.shape[0], len(names)
    a = np.empty((S, H, C))
    beta, p1, p2 = np.empty((S, C)), np.empty((S, C)), np.ones((S, C))
    kinds = set()
    for s, member in enumerate(members):
        for c, ch in enumerate(names):
            fit = member.channels[ch]
            sat = dict(fit["saturation"])
            kinds.add(sat["type"])
            a[s, :, c] = adstock_from_dict(dict(fit["adstock"])).apply(unit[:, c])
            beta[s, c] = float(fit["beta"])
            if sat["type"] == "hill":
                p1[s, c], p2[s, c] = float(sat["half_saturation"]), float(sat["slope"])
            elif sat["type"] == "logistic":
                p1[s, c] = float(sat["lam"])
    if len(kinds) != 1 or not kinds <= {"hill", "logistic"}:
        return None
    kind = kinds.pop()
    return _PosteriorCurves(a, beta, kind, p1, p2 if kind == "hill" else None)


def _draw_scale(result: FitResult, n_draws: int = 400, seed: int = 0) -> np.ndarray | None:
    """Coefficient multipliers per draw and channel (S, C), or None without draws.

    Two sources of uncertainty, combined when both are present:

    * estimation: ``draws["roi"]`` (S, C) (ridge residual bootstrap with the
      transforms held fixed, or a Bayesian posterior) as ``roi_sc / roi_c``, or
      ``draws["contribution"]`` the same way when there are no ROI draws;
    * model selection: the ROI of every model on the search's Pareto front
      (``info["pareto"][i]["roi"]``, ridge), as ``roi_ic / roi_c``. The bootstrap
      alone holds the chosen adstock and saturation fixed and is overconfident
      when they are wrong; models that fit about as well but tell a different
      story are the larger part of the uncertainty (Robyn's argument for
      reporting the whole front).

    When both exist, draw ``s`` multiplies a random Pareto model's scale by a
    random bootstrap draw's scale (seeded, so plans are reproducible).
    """
    C = len(result.channels)
    spend = result.data.spend[0].sum(axis=0)
    contrib = result.contributions()
    point = np.divide(contrib, spend, out=np.zeros(C), where=spend > 0)
    ok = np.abs(point) > 0

    def ratio(roi: np.ndarray) -> np.ndarray:
        out = np.ones_like(roi)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[:, ok] = roi[:, ok] / point[ok]
        return np.where(np.isfinite(out), out, 1.0)

    sources: list[np.ndarray] = []
    draws = result.draws.get("roi") if result.draws else None
    if draws is not None:
        roi = np.asarray(draws, float)
        if roi.ndim == 2 and roi.shape[1] == C and roi.shape[0] > 0:
            sources.append(ratio(roi))
    elif result.draws and result.draws.get("contribution") is not None:
        # conversions KPIs carry contribution draws only; the same ratio, per channel
        cd = np.asarray(result.draws["contribution"], float)
        if cd.ndim == 2 and cd.shape[1] == C and cd.shape[0] > 0:
            sources.append(ratio(cd / np.where(spend > 0, spend, np.nan)))
    front = _pareto_roi(result)
    if front is not None:
        sources.append(ratio(front))
    if not sources:
        return None
    if len(sources) == 1:
        return sources[0]
    rng = np.random.default_rng(seed)
    a, b = sources
    return np.asarray(a[rng.integers(len(a), size=n_draws)] * b[rng.integers(len(b), size=n_draws)])


def _pareto_roi(result: FitResult, tolerance: float = PARETO_FIT_TOLERANCE) -> np.ndarray | None:
    """ROI per Pareto-front model (K, C) from ``info["pareto"]``, when there are >= 2.

    Only the models that fit about as well as the best one on the front (training
    NRMSE within ``tolerance``, relative) count: they are the alternatives the
    data cannot rule out. Models kept on the front for a low DECOMP.RSSD but
    fitting clearly worse are not.
    """
    rows = result.engine_info.pareto
    if len(rows) < 2:
        return None
    fit = [r.nrmse_train for r in rows]
    if all(v is not None for v in fit):
        best = min(v for v in fit if v is not None)
        rows = tuple(
            r for r in rows if r.nrmse_train is not None and r.nrmse_train <= best * (1 + tolerance)
        )
    if len(rows) < 2:
        return None
    names = list(result.channels)
    out = [
        [np.nan if row.roi.get(c) is None else float(row.roi[c] or 0.0) for c in names]
        for row in rows
    ]
    return np.asarray(out, float)
