"""Reach as an objective: exposure-to-reach curves, a reach response model, and the
Pareto front between revenue, ROI and reach.

**Curves.** Weekly reach of a channel, as a share of the population, against its
weekly impressions per person ``i`` (gross rating points / 100)::

    exponential:  r(i) = r_max * (1 - exp(-k i))
    hill:         r(i) = r_max * i**s / (i**s + h**s)

fitted by least squares (:func:`scipy.optimize.curve_fit`) to reach and frequency
data (e.g. Meridian's ``geo_media_rf.csv``: ``reach / population`` against
``impressions / population``, one point per geo and week).

**Response.** A plan gives channel ``c`` a total spend ``X_c`` over ``H`` weeks,
spread evenly; with cost per impression ``q_c`` and population ``P`` the weekly
impressions per person are ``i_c = X_c / (q_c H P)``. Channels are combined under
independence (Sainsbury's formula), so the response, in people reached per week,
is::

    Reach(X) = P * (1 - prod_c (1 - r_c(i_c)))

Channels without a reach curve add nothing. This is not a sum over channels, but
``-log(1 - Reach / P) = sum_c -log(1 - r_c(i_c))`` is, and it increases with
reach: :func:`reach_pareto_front` optimizes weighted sums of revenue and this
separable form, so every point comes from the exact dynamic programme.

**Pareto front.** For budgets ``b`` (fractions of a reference) and weights ``w``,
maximize ``w * Revenue(x) / Revenue* + (1 - w) * L(x) / L*`` with ``L`` the
separable reach form above and ``*`` the single-objective optima; keep the points
no other point beats on revenue, ROI (= revenue / b) and reach at once.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from mediamix.errors import InputError, problems_from_validation
from mediamix.optimization.allocate import allocate
from mediamix.optimization.constraints import Constraints, SpendLimits, resolve_constraints
from mediamix.optimization.response import ResponseModel, SeparableResponseModel, is_separable

__all__ = [
    "FrontSweep",
    "ReachCurve",
    "ReachResponse",
    "fit_reach_curve",
    "reach_from_dict",
    "reach_pareto_front",
    "reach_to_dict",
    "read_reach",
]

logger = logging.getLogger(__name__)

ReachForm = Literal["exponential", "hill"]


@dataclass(frozen=True)
class ReachCurve:
    """Weekly reach share as a function of weekly impressions per person.

    ``params``: ``(r_max, k)`` for ``exponential``, ``(r_max, h, s)`` for ``hill``.
    ``r2`` and ``rmse`` describe the fit (share units), ``n`` the points used.

    Examples
    --------
    >>> c = ReachCurve("exponential", (0.9, 1.0))
    >>> round(float(c.reach(1.0)), 4), round(float(c.derivative(0.0)), 4)
    (0.5689, 0.9)
    """

    form: ReachForm
    params: tuple[float, ...]
    r2: float | None = None
    rmse: float | None = None
    n: int = 0

    def reach(self, impressions: np.ndarray | float) -> np.ndarray:
        """Reach share (0 to ``r_max``) at weekly impressions per person."""
        i = np.maximum(np.asarray(impressions, dtype=float), 0.0)
        return _curve(self.form, i, *self.params)

    def derivative(self, impressions: np.ndarray | float) -> np.ndarray:
        """d reach share / d impressions per person."""
        i = np.maximum(np.asarray(impressions, dtype=float), 0.0)
        if self.form == "exponential":
            r_max, k = self.params
            return np.asarray(r_max * k * np.exp(-k * i))
        r_max, h, s = self.params
        with np.errstate(divide="ignore", invalid="ignore"):
            d = r_max * s * h**s * i ** (s - 1.0) / (i**s + h**s) ** 2
        return np.where(np.isfinite(d), d, 0.0 if s > 1 else np.inf)

    def to_dict(self) -> dict[str, Any]:
        names = ("r_max", "k") if self.form == "exponential" else ("r_max", "h", "s")
        return {
            "form": self.form,
            **dict(zip(names, self.params, strict=True)),
            "r2": self.r2,
            "rmse": self.rmse,
            "n": self.n,
        }


def _curve(form: str, i: np.ndarray, *p: float) -> np.ndarray:
    if form == "exponential":
        r_max, k = p
        return np.asarray(r_max * -np.expm1(-k * i))
    r_max, h, s = p
    xs = np.power(i, s)
    return np.asarray(r_max * xs / (xs + h**s))


def fit_reach_curve(
    impressions: Sequence[float] | np.ndarray,
    reach: Sequence[float] | np.ndarray,
    population: Sequence[float] | np.ndarray | float = 1.0,
    form: ReachForm = "exponential",
) -> ReachCurve:
    """Fit a reach curve to observed (impressions, reach) pairs.

    Parameters
    ----------
    impressions, reach : array (n,)
        Weekly impressions and weekly reach (people), one pair per geo and week.
    population : float or array (n,)
        Population behind each pair; both are divided by it.
    form : {"exponential", "hill"}

    Returns
    -------
    ReachCurve
        With ``r2`` and ``rmse`` on the share scale. Pairs with no impressions,
        or non-finite values, are left out.

    Raises
    ------
    InputError
        Fewer than 5 usable points, reach above the population, or no fit.

    Examples
    --------
    >>> i = np.linspace(0.1, 3.0, 30)
    >>> c = fit_reach_curve(i, 0.8 * (1 - np.exp(-1.5 * i)))
    >>> [round(p, 3) for p in c.params]
    [0.8, 1.5]
    """
    from scipy.optimize import curve_fit

    imp = np.asarray(impressions, dtype=float)
    rch = np.asarray(reach, dtype=float)
    pop = np.broadcast_to(np.asarray(population, dtype=float), imp.shape)
    ok = np.isfinite(imp) & np.isfinite(rch) & np.isfinite(pop) & (imp > 0) & (pop > 0)
    if ok.sum() < 5:
        raise InputError.single("a reach curve needs at least 5 weeks with impressions")
    i = imp[ok] / pop[ok]
    r = rch[ok] / pop[ok]
    if np.any(r > 1.0 + 1e-9) or np.any(r < 0):
        raise InputError.single("reach must be between 0 and the population")
    if form == "exponential":
        p0: list[float] = [min(0.99, float(r.max()) * 1.1), 1.0 / max(float(np.median(i)), 1e-12)]
        bounds = ([0.0, 0.0], [1.0, np.inf])
    elif form == "hill":
        p0 = [min(0.99, float(r.max()) * 1.1), float(np.median(i)), 1.0]
        bounds = ([0.0, 1e-12, 0.1], [1.0, np.inf, 10.0])
    else:
        raise InputError.single(f"unknown reach curve '{form}'; use exponential or hill")
    try:
        params, _ = curve_fit(
            lambda x, *p: _curve(form, x, *p), i, r, p0=p0, bounds=bounds, maxfev=20000
        )
    except (RuntimeError, ValueError) as err:
        raise InputError.single(f"the reach curve could not be fitted: {err}") from None
    pred = _curve(form, i, *params)
    ss_res = float(np.sum((r - pred) ** 2))
    ss_tot = float(np.sum((r - r.mean()) ** 2))
    return ReachCurve(
        form=form,
        params=tuple(float(p) for p in params),
        r2=1.0 - ss_res / ss_tot if ss_tot > 0 else None,
        rmse=math.sqrt(ss_res / len(r)),
        n=len(r),
    )


class ReachResponse:
    """Weekly people reached, combined across channels, for plan spend totals.

    Parameters
    ----------
    channels : sequence of str
        All channels of the plan (the same order as the revenue model's).
    curves : mapping of str -> ReachCurve
        Reach curve per channel; channels without one add no reach.
    cost_per_impression : mapping of str -> float
        Currency per impression, for the channels with a curve.
    population : float
        People in the market.
    periods : int
        Weeks the plan's spend is spread over.

    Examples
    --------
    >>> m = ReachResponse(["tv"], {"tv": ReachCurve("exponential", (0.8, 1.0))},
    ...                   {"tv": 0.01}, population=1000.0, periods=1)
    >>> round(float(m.response(np.array([10.0]))), 3)  # 1000 impressions, 1 per person
    505.696
    """

    def __init__(
        self,
        channels: Sequence[str],
        curves: Mapping[str, ReachCurve],
        cost_per_impression: Mapping[str, float],
        population: float,
        periods: int = 1,
    ) -> None:
        unknown = [c for c in curves if c not in channels]
        if unknown:
            raise InputError.single(f"reach curves for unknown channels: {unknown}")
        missing = [c for c in curves if not cost_per_impression.get(c, 0) > 0]
        if missing:
            raise InputError.single(f"no positive cost per impression for {missing}")
        if population <= 0 or periods <= 0:
            raise InputError.single("population and periods must be positive")
        self._channels = tuple(channels)
        self.curves = dict(curves)
        self.population = float(population)
        self.periods = int(periods)
        # impressions per person per week for one currency unit of plan spend
        self._per_unit = np.array(
            [
                1.0 / (cost_per_impression[c] * self.periods * self.population)
                if c in self.curves
                else 0.0
                for c in self._channels
            ]
        )

    @property
    def channels(self) -> tuple[str, ...]:
        return self._channels

    def shares(self, spend: np.ndarray) -> np.ndarray:
        """Reach share of each channel (..., C) (0 for channels without a curve)."""
        x = np.asarray(spend, dtype=float)
        out = np.zeros(x.shape)
        for c, name in enumerate(self._channels):
            if name in self.curves:
                out[..., c] = self.curves[name].reach(x[..., c] * self._per_unit[c])
        return out

    def _share_derivatives(self, spend: np.ndarray) -> np.ndarray:
        x = np.asarray(spend, dtype=float)
        out = np.zeros(x.shape)
        for c, name in enumerate(self._channels):
            if name in self.curves:
                i = x[..., c] * self._per_unit[c]
                out[..., c] = self.curves[name].derivative(i) * self._per_unit[c]
        return out

    def response(self, spend: np.ndarray) -> np.ndarray:
        """People reached per week (...), channels combined under independence."""
        r = self.shares(spend)
        return np.asarray(self.population * (1.0 - np.prod(1.0 - r, axis=-1)))

    def gradient(self, spend: np.ndarray) -> np.ndarray:
        """d response / d spend (..., C)."""
        r = self.shares(spend)
        d = self._share_derivatives(spend)
        one_minus = 1.0 - r
        total = np.prod(one_minus, axis=-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            others = np.where(one_minus > 0, total / one_minus, 0.0)
        return np.asarray(self.population * others * d)

    def log_terms(self, spend: np.ndarray) -> np.ndarray:
        """``-log(1 - r_c)`` per channel (..., C): the separable form of reach."""
        return np.asarray(-np.log1p(-np.minimum(self.shares(spend), 1.0 - 1e-12)))

    def log_term_derivatives(self, spend: np.ndarray) -> np.ndarray:
        r = np.minimum(self.shares(spend), 1.0 - 1e-12)
        return np.asarray(self._share_derivatives(spend) / (1.0 - r))


@dataclass(frozen=True)
class _Scalarized:
    """``w * revenue / s_rev + (1 - w) * L / s_reach`` as a separable model."""

    revenue: SeparableResponseModel
    reach: ReachResponse
    weight: float
    s_rev: float
    s_reach: float

    @property
    def channels(self) -> tuple[str, ...]:
        return self.revenue.channels

    def channel_response(self, spend: np.ndarray) -> np.ndarray:
        return (
            self.weight * self.revenue.channel_response(spend) / self.s_rev
            + (1.0 - self.weight) * self.reach.log_terms(spend) / self.s_reach
        )

    def channel_gradient(self, spend: np.ndarray) -> np.ndarray:
        return (
            self.weight * self.revenue.channel_gradient(spend) / self.s_rev
            + (1.0 - self.weight) * self.reach.log_term_derivatives(spend) / self.s_reach
        )

    def response(self, spend: np.ndarray) -> np.ndarray:
        return self.channel_response(spend).sum(axis=-1)

    def gradient(self, spend: np.ndarray) -> np.ndarray:
        return self.channel_gradient(spend)


@dataclass(frozen=True)
class _LogReach:
    reach: ReachResponse

    @property
    def channels(self) -> tuple[str, ...]:
        return self.reach.channels

    def channel_response(self, spend: np.ndarray) -> np.ndarray:
        return self.reach.log_terms(spend)

    def channel_gradient(self, spend: np.ndarray) -> np.ndarray:
        return self.reach.log_term_derivatives(spend)

    def response(self, spend: np.ndarray) -> np.ndarray:
        return self.channel_response(spend).sum(axis=-1)

    def gradient(self, spend: np.ndarray) -> np.ndarray:
        return self.channel_gradient(spend)


@dataclass(frozen=True)
class FrontSweep:
    """The plans :func:`reach_pareto_front` computes.

    Attributes
    ----------
    fractions : sequence of float
        Budgets of the sweep, as fractions of the reference budget.
    weights : sequence of float, optional
        Weights on revenue, default 11 values from 0 (reach only) to 1.
    grid_steps : int
        Steps of the dynamic-programme spend grid of each plan.
    """

    fractions: Sequence[float] = (1.0,)
    weights: Sequence[float] | np.ndarray | None = None
    grid_steps: int = 400


def reach_pareto_front(
    revenue: ResponseModel,
    reach: ReachResponse,
    budget: float,
    constraints: Constraints | None = None,
    *,
    current_spend: Mapping[str, float] | None = None,
    sweep: FrontSweep | None = None,
) -> pd.DataFrame:
    """Plans trading revenue, ROI and reach: the weighted-sum sweep and its front.

    Parameters
    ----------
    revenue : SeparableResponseModel
        Separable revenue model (e.g. a fitted model's adapter or curves).
    reach : ReachResponse
        Reach model on the same channels.
    budget : float
        Reference budget; the sweep covers ``fraction * budget`` for each fraction.
    constraints : Constraints, optional
        Resolved at every budget (relative bounds use ``current_spend``).
    sweep : FrontSweep, optional
        Budget fractions, weights on revenue and grid of the sweep (default: the
        reference budget only, 11 weights from 0 to 1).

    Returns
    -------
    DataFrame
        One row per (budget, weight): ``budget, weight, revenue, roi, reach``, spend
        per channel (``spend_<channel>``) and ``pareto`` (True when no other row is
        at least as good on revenue, ROI and reach and better on one).
    """
    if list(revenue.channels) != list(reach.channels):
        raise InputError.single("the revenue and reach models must have the same channels")
    if not is_separable(revenue):
        raise InputError.single("the reach front needs a separable revenue model")
    sep: SeparableResponseModel = revenue  # type: ignore[assignment]
    sweep = sweep or FrontSweep()
    grid_steps = sweep.grid_steps
    w_all = np.linspace(0.0, 1.0, 11) if sweep.weights is None else np.asarray(sweep.weights, float)
    rows: list[dict[str, Any]] = []
    for f in sweep.fractions:
        b = float(f * budget)
        limits: SpendLimits = resolve_constraints(
            constraints, revenue.channels, b, current_spend=current_spend
        )
        x_rev, _, _ = allocate(revenue, limits, grid_steps=grid_steps)
        x_rch, _, _ = allocate(_LogReach(reach), limits, grid_steps=grid_steps)
        s_rev = max(float(revenue.response(x_rev)), 1e-12)
        s_reach = max(float(_LogReach(reach).response(x_rch)), 1e-12)
        for w in w_all:
            model = _Scalarized(sep, reach, float(w), s_rev, s_reach)
            x, _, _ = allocate(model, limits, grid_steps=grid_steps)
            rev = float(revenue.response(x))
            rows.append(
                {
                    "budget": b,
                    "weight": float(w),
                    "revenue": rev,
                    "roi": rev / b if b > 0 else float("nan"),
                    "reach": float(reach.response(x)),
                }
                | {f"spend_{c}": float(v) for c, v in zip(revenue.channels, x, strict=True)}
            )
    table = pd.DataFrame(rows)
    obj = table[["revenue", "roi", "reach"]].to_numpy()
    tol = 1e-9 * np.maximum(np.abs(obj).max(axis=0), 1.0)
    pareto = []
    for k in range(len(obj)):
        ge = np.all(obj >= obj[k] - tol, axis=1)
        gt = np.any(obj > obj[k] + tol, axis=1)
        pareto.append(not bool(np.any(ge & gt)))
    table["pareto"] = pareto
    logger.info("reach front: %d of %d plans non-dominated", sum(pareto), len(pareto))
    return table


# ----------------------------------------------------------------------------- files


class _ReachCurveDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")

    form: ReachForm = "exponential"
    r_max: float = Field(gt=0, le=1)
    k: float | None = Field(default=None, gt=0)
    h: float | None = Field(default=None, gt=0)
    s: float | None = Field(default=None, gt=0)
    r2: float | None = None
    rmse: float | None = None
    n: int = 0

    def curve(self) -> ReachCurve:
        if self.form == "exponential":
            if self.k is None:
                raise ValueError("an exponential reach curve needs k")
            params: tuple[float, ...] = (self.r_max, self.k)
        else:
            if self.h is None or self.s is None:
                raise ValueError("a hill reach curve needs h and s")
            params = (self.r_max, self.h, self.s)
        return ReachCurve(self.form, params, r2=self.r2, rmse=self.rmse, n=self.n)


class _ReachChannelDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")

    curve: _ReachCurveDoc
    cost_per_impression: float = Field(gt=0)
    current_spend: float | None = Field(default=None, ge=0)


class _ReachDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")

    population: float = Field(gt=0)
    periods: int = Field(default=1, gt=0)
    channels: dict[str, _ReachChannelDoc] = Field(min_length=1)


def reach_to_dict(
    curves: Mapping[str, ReachCurve],
    cost_per_impression: Mapping[str, float],
    population: float,
    periods: int,
    current_spend: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """The ``reach.json`` document (see :func:`read_reach`)."""
    return {
        "population": float(population),
        "periods": int(periods),
        "channels": {
            c: {
                "curve": curve.to_dict(),
                "cost_per_impression": float(cost_per_impression[c]),
                **({"current_spend": float(current_spend[c])} if current_spend else {}),
            }
            for c, curve in curves.items()
        },
    }


def reach_from_dict(
    doc: Mapping[str, Any], *, periods: int | None = None, file: str | None = None
) -> tuple[ReachResponse, dict[str, float]]:
    """A reach model (and current spend, where given) from a ``reach.json`` document.

    The document::

        {"population": 1000000, "periods": 52,
         "channels": {"tv": {"curve": {"form": "exponential", "r_max": 0.8, "k": 1.2},
                             "cost_per_impression": 0.012, "current_spend": 250000}}}

    ``periods`` overrides the document's plan length. Errors name the key path.
    """
    from pydantic import ValidationError

    try:
        parsed = _ReachDoc.model_validate(dict(doc))
        curves = {c: ch.curve.curve() for c, ch in parsed.channels.items()}
    except ValidationError as err:
        problems = problems_from_validation(
            err, file=file, message=lambda e, path: f"{path}: {e['msg']}", root=None
        )
        raise InputError(problems) from None
    except ValueError as err:
        raise InputError.single(str(err), file=file) from None
    model = ReachResponse(
        list(parsed.channels),
        curves,
        {c: ch.cost_per_impression for c, ch in parsed.channels.items()},
        population=parsed.population,
        periods=periods or parsed.periods,
    )
    current = {
        c: ch.current_spend for c, ch in parsed.channels.items() if ch.current_spend is not None
    }
    return model, current


def read_reach(
    path: str | Path, *, periods: int | None = None
) -> tuple[ReachResponse, dict[str, float]]:
    """Read ``reach.json`` (written by ``mediamix reach-fit`` or by hand)."""
    from mediamix.documents import read_json_object

    doc = read_json_object(path, "reach")
    return reach_from_dict(doc, periods=periods, file=str(path))
