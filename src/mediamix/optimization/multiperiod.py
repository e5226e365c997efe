"""Weekly plans over a horizon, with carry-over in and out.

Model (one channel ``c``; weeks ``t``; plan weeks ``0 .. H-1``)::

    a_t = sum_{l=0}^{L} w_l x_{t-l},    w_l = decay**l  (divided by sum_l w_l if normalize)
    y_t = beta * saturation(a_t)

This is the geometric adstock of Robyn and PyMC-Marketing (``normalize=False``) or
Meridian's normalized form (``normalize=True``), with ``L = max_lag`` (default: until
``decay**l < 1e-6``). Spend before the plan (``history``) flows into the plan weeks;
the plan's own spend keeps working for ``L`` weeks after the horizon.

Reported separately (all in KPI units):

* ``response``: sum over plan weeks of ``y_t`` (history and plan together);
* ``carryover_in``: what the history alone would earn in the plan weeks,
  ``sum_{t<H} beta * s(a_t^{hist})``;
* ``carryover_out``: what the plan adds after the horizon,
  ``sum_{t>=H} beta * (s(a_t) - s(a_t^{hist}))``.

The optimizer maximizes ``response + carryover_out`` (or ``response`` alone when
``count_carryover_out=False``) subject to the total budget and per-week bounds
(flighting). The adstock is linear, ``a = M x + a^{hist}``, so the gradient is
``M^T (beta * s'(a))``. The solver is a spectral projected gradient (Birgin,
Martinez and Raydan, 2000) with exact projection onto
``{lower <= x <= upper, sum x = B}``, started from an even spread of the
channel totals that the single-period DP finds for the steady-state curves and
from an even spread of the budget; the better result is kept.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from mediamix.optimization.constraints import SpendLimits, TotalMode
from mediamix.optimization.response import (
    HillSaturationSchema,
    LogisticSaturationSchema,
    _saturation,
    _saturation_derivative,
)
from mediamix.transforms.adstock import geometric_weights

__all__ = [
    "MultiPeriodModel",
    "MultiPeriodOptions",
    "MultiPeriodPlan",
    "SolverStatus",
    "evaluate_multiperiod",
    "multiperiod_from_transforms",
    "optimize_multiperiod",
]

logger = logging.getLogger(__name__)

SolverStatus = Literal["converged", "iteration_limit"]
"""How the weekly solver stopped: ``converged`` when its projected-gradient step
fell below the tolerance, ``iteration_limit`` when it reached its iteration limit
first (the plan is the best point found, without the convergence test holding)."""


@dataclass(frozen=True)
class MultiPeriodModel:
    """Weekly response curves with geometric carry-over.

    ``half_saturation`` of a Hill curve is in weekly (adstocked) spend units.
    """

    channels: tuple[str, ...]
    beta: np.ndarray
    saturation: tuple[HillSaturationSchema | LogisticSaturationSchema, ...]
    decay: np.ndarray
    max_lag: int | None = None
    normalize: bool = False

    def __post_init__(self) -> None:
        C = len(self.channels)
        if np.shape(self.beta) != (C,) or np.shape(self.decay) != (C,) or len(self.saturation) != C:
            raise ValueError("beta, decay and saturation need one entry per channel")
        if np.any((np.asarray(self.decay) < 0) | (np.asarray(self.decay) >= 1)):
            raise ValueError("decay must be in [0, 1)")

    @property
    def lag(self) -> int:
        """Number of weeks ``L`` a unit of spend keeps working after its own week."""
        if self.max_lag is not None:
            return int(self.max_lag)
        a = float(np.max(self.decay))
        return 0 if a <= 0 else min(260, math.ceil(math.log(1e-6) / math.log(a)))

    def weights(self) -> np.ndarray:
        """Adstock weights ``w[c, l]`` for ``l = 0 .. L``, shape ``(C, L + 1)``."""
        return geometric_weights(self.decay, self.lag + 1, normalize=self.normalize)

    def _sat(self, a: np.ndarray) -> np.ndarray:
        out = np.empty_like(a)
        for c, spec in enumerate(self.saturation):
            out[:, c] = self.beta[c] * _saturation(spec, a[:, c])
        return out

    def _dsat(self, a: np.ndarray) -> np.ndarray:
        out = np.empty_like(a)
        for c, spec in enumerate(self.saturation):
            out[:, c] = self.beta[c] * _saturation_derivative(spec, a[:, c])
        return out


@dataclass(frozen=True)
class MultiPeriodPlan:
    """A weekly plan; see the module docstring for the response accounting.

    ``status`` and ``iterations`` describe the solver run whose plan was kept (of
    the starting points tried); a plan that was only evaluated
    (:func:`evaluate_multiperiod`) has no status.
    """

    channels: tuple[str, ...]
    spend: np.ndarray  # (H, C)
    weekly_response: np.ndarray  # (H,)
    response: float
    carryover_in: float
    carryover_out: float
    budget: float
    iterations: int = 0
    status: SolverStatus | None = None

    @property
    def total_spend(self) -> float:
        return float(self.spend.sum())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: per channel the total and the weekly spend."""
        return {
            "status": self.status,
            "budget": self.budget,
            "total_spend": self.total_spend,
            "response": self.response,
            "carryover_in": self.carryover_in,
            "carryover_out": self.carryover_out,
            "periods": int(self.spend.shape[0]),
            "channels": {
                name: {
                    "spend": float(self.spend[:, c].sum()),
                    "weekly_spend": self.spend[:, c].tolist(),
                }
                for c, name in enumerate(self.channels)
            },
            "weekly_response": self.weekly_response.tolist(),
        }


class _Problem:
    """Precomputed operators for a horizon ``H`` and a history."""

    def __init__(self, model: MultiPeriodModel, horizon: int, history: np.ndarray | None) -> None:
        self.model = model
        C = len(model.channels)
        L = model.lag
        w = model.weights()  # (C, L+1)
        H = horizon
        T = H + L  # plan weeks then tail weeks
        self.H, self.T = H, T
        # M[c, t, s] = w[c, t - s] for 0 <= t - s <= L
        d = np.arange(T)[:, None] - np.arange(H)[None, :]
        valid = (d >= 0) & (d <= L)
        self.M = np.where(valid[None], w[:, np.clip(d, 0, L)], 0.0)  # (C, T, H)
        a_hist = np.zeros((T, C))
        if history is not None and len(history):
            hist = np.asarray(history, dtype=float).reshape(-1, C)
            n = hist.shape[0]
            # week t of the plan gets hist[n - j] with lag t + j, j = 1 .. n
            for j in range(1, min(n, L) + 1):
                lag = np.arange(T) + j
                ok = lag <= L
                a_hist[ok] += w[:, lag[ok]].T * hist[n - j][None, :]
        self.a_hist = a_hist
        self.base = model._sat(a_hist)  # (T, C): response of the history alone

    def adstock(self, x: np.ndarray) -> np.ndarray:
        return np.einsum("cts,sc->tc", self.M, x) + self.a_hist

    def value(self, x: np.ndarray, count_out: bool) -> float:
        y = self.model._sat(self.adstock(x))
        return float(y.sum() if count_out else y[: self.H].sum())

    def grad(self, x: np.ndarray, count_out: bool, floor: float) -> np.ndarray:
        a = self.adstock(x)
        g = self.model._dsat(np.maximum(a, floor))
        g = np.where(np.isfinite(g), g, 1e12)
        if not count_out:
            g[self.H :] = 0.0
        return np.einsum("cts,tc->sc", self.M, g)


def evaluate_multiperiod(
    model: MultiPeriodModel,
    spend: np.ndarray,
    history: np.ndarray | None = None,
    *,
    budget: float | None = None,
) -> MultiPeriodPlan:
    """Response accounting of a weekly plan ``spend`` of shape ``(H, C)``.

    Examples
    --------
    One channel, decay 0.5, 10 spent the week before a 2-week plan that spends
    nothing: the adstock is 5 then 2.5, so the response is ``s(5) + s(2.5)``, all of
    it carried in.

    >>> m = MultiPeriodModel(("tv",), np.array([1.0]),
    ...                      (HillSaturationSchema(type="hill", half_saturation=5.0, slope=1.0),),
    ...                      np.array([0.5]), max_lag=3)
    >>> p = evaluate_multiperiod(m, np.zeros((2, 1)), history=np.array([[10.0]]))
    >>> round(p.response, 6), round(p.carryover_in, 6), p.carryover_out
    (0.833333, 0.833333, 0.0)
    """
    x = np.asarray(spend, dtype=float)
    prob = _Problem(model, x.shape[0], history)
    y = model._sat(prob.adstock(x))  # (T, C)
    H = prob.H
    return MultiPeriodPlan(
        channels=model.channels,
        spend=x,
        weekly_response=y[:H].sum(axis=1),
        response=float(y[:H].sum()),
        carryover_in=float(prob.base[:H].sum()),
        carryover_out=float((y[H:] - prob.base[H:]).sum()),
        budget=float(x.sum() if budget is None else budget),
    )


def _project(
    y: np.ndarray, lo: np.ndarray, hi: np.ndarray, total: float, equal: bool
) -> np.ndarray:
    """Euclidean projection onto ``{lo <= x <= hi, sum x = total}`` (or ``<= total``)."""
    z = np.clip(y, lo, hi)
    s = z.sum()
    if (not equal and s <= total) or s == total:
        return z
    # sum(clip(y - tau)) is non-increasing in tau: bisection on tau
    t_lo = float(np.min(y - np.where(np.isfinite(hi), hi, y + total)))
    t_hi = float(np.max(y - lo))
    for _ in range(100):
        tau = 0.5 * (t_lo + t_hi)
        if np.clip(y - tau, lo, hi).sum() > total:
            t_lo = tau
        else:
            t_hi = tau
        if t_hi - t_lo <= 1e-15 * max(1.0, abs(tau)):
            break
    z = np.clip(y - 0.5 * (t_lo + t_hi), lo, hi)
    # put the last rounding error on a channel with room
    gap = total - z.sum()
    room = (hi - z) if gap > 0 else (z - lo)
    k = int(np.argmax(room))
    z.flat[k] += np.sign(gap) * min(abs(gap), room.flat[k])
    return z


def _spg(
    f: Any,
    g: Any,
    x0: np.ndarray,
    proj: Any,
    max_iter: int,
    tol: float,
) -> tuple[np.ndarray, float, int, SolverStatus]:
    """Minimize ``f`` over a convex set by spectral projected gradient (non-monotone).

    Returns the point, its value, the iterations run and whether the projected step
    fell below ``tol`` (``converged``) or ``max_iter`` was reached first.
    """
    x = proj(x0)
    fx = f(x)
    gx = g(x)
    hist = [fx]
    lam = 1.0 / max(float(np.max(np.abs(proj(x - gx) - x))), 1e-12)
    it = 0
    for it in range(1, max_iter + 1):
        d = proj(x - lam * gx) - x
        if float(np.max(np.abs(d))) <= tol:
            return x, fx, it, "converged"
        gd = float(np.sum(gx * d))
        f_ref = max(hist[-10:])
        alpha = 1.0
        while True:
            x_new = x + alpha * d
            f_new = f(x_new)
            if f_new <= f_ref + 1e-4 * alpha * gd or alpha < 1e-10:
                break
            alpha *= 0.5
        g_new = g(x_new)
        s, yv = x_new - x, g_new - gx
        sty = float(np.sum(s * yv))
        lam = float(np.sum(s * s)) / sty if sty > 0 else 1e10
        lam = min(max(lam, 1e-10), 1e10)
        x, fx, gx = x_new, f_new, g_new
        hist.append(fx)
    return x, fx, it, "iteration_limit"


@dataclass(frozen=True)
class MultiPeriodOptions:
    """How :func:`optimize_multiperiod` seeks a weekly plan.

    Attributes
    ----------
    total : {"equal", "at_most"}
        Whether the plan spends the whole budget or at most the budget.
    count_carryover_out : bool
        Whether the plan's response after the horizon counts in the objective.
    max_iter : int
        Iterations of the projected-gradient solver, per starting point.
    tol : float
        The solver stops when its projected step is at most ``tol`` (scaled spend).
    """

    total: TotalMode = "equal"
    count_carryover_out: bool = True
    max_iter: int = 3000
    tol: float = 1e-10


# Long (about 70 lines): the projected-gradient solve with its two starting points,
# kept together so the start, the projection and the stopping rule read as one method.
def optimize_multiperiod(
    model: MultiPeriodModel,
    budget: float,
    horizon: int,
    *,
    history: np.ndarray | None = None,
    lower: np.ndarray | float | None = None,
    upper: np.ndarray | float | None = None,
    options: MultiPeriodOptions | None = None,
) -> MultiPeriodPlan:
    """Best weekly plan of ``budget`` over ``horizon`` weeks.

    Parameters
    ----------
    model : MultiPeriodModel
    budget : float
        Total spend over the plan (currency).
    horizon : int
        ``H``, number of plan weeks.
    history : ndarray, shape (n, C), optional
        Spend of the ``n`` weeks before the plan, oldest first.
    lower, upper : float or ndarray broadcastable to (H, C), optional
        Per-week bounds (flighting); a zero upper bound keeps a channel dark that week.
    options : MultiPeriodOptions, optional
        Budget mode, whether carry-over after the horizon counts, solver limits.

    Examples
    --------
    >>> sat = HillSaturationSchema(type="hill", half_saturation=10.0, slope=1.0)
    >>> m = MultiPeriodModel(("a", "b"), np.array([100.0, 100.0]), (sat, sat),
    ...                      np.array([0.0, 0.0]))
    >>> p = optimize_multiperiod(m, 40.0, 2)
    >>> np.round(p.spend, 4).tolist()
    [[10.0, 10.0], [10.0, 10.0]]
    """
    from mediamix.optimization.allocate import allocate

    options = options or MultiPeriodOptions()
    total, count_carryover_out = options.total, options.count_carryover_out
    C = len(model.channels)
    H = int(horizon)
    shape = (H, C)
    lo = np.broadcast_to(np.asarray(0.0 if lower is None else lower, dtype=float), shape).copy()
    hi = np.broadcast_to(np.asarray(np.inf if upper is None else upper, dtype=float), shape).copy()
    if np.any(lo > hi) or lo.sum() > budget or (total == "equal" and hi.sum() < budget):
        from mediamix.errors import InputError

        raise InputError.single(
            f"per-week bounds cannot hold with the budget {budget:g}: the weekly minimums "
            f"sum to {lo.sum():g} and the maximums to {hi.sum():g}"
        )
    prob = _Problem(model, H, history)
    equal = total == "equal"
    B = float(budget)
    scale_x = B
    f0 = max(abs(prob.value(np.full(shape, B / (H * C)), count_carryover_out)), 1e-12)
    floor = 1e-9 * B / (H * C)

    def fun(u: np.ndarray) -> float:
        return -prob.value(u * scale_x, count_carryover_out) / f0

    def jac(u: np.ndarray) -> np.ndarray:
        return -prob.grad(u * scale_x, count_carryover_out, floor) * scale_x / f0

    lo_u, hi_u = lo / scale_x, hi / scale_x

    def proj(u: np.ndarray) -> np.ndarray:
        return _project(u, lo_u, hi_u, 1.0, equal)

    # start 1: channel totals from the single-period DP on steady-state curves
    starts = [np.full(shape, 1.0 / (H * C))]
    wsum = model.weights().sum(axis=1)
    steady = _SteadyState(model, H, wsum)
    ch_lo, ch_hi = lo.sum(axis=0), hi.sum(axis=0)
    limits = SpendLimits(
        channels=model.channels,
        lower=ch_lo,
        upper=ch_hi,
        min_if_on=np.zeros(C),
        rules=(),
        budget=B,
        total=total,
    )
    totals, _, _ = allocate(steady, limits, grid_steps=400)
    starts.insert(0, np.broadcast_to(totals / H, shape) / scale_x)

    best: tuple[np.ndarray, float, int, SolverStatus] | None = None
    for u0 in starts:
        run = _spg(fun, jac, u0, proj, options.max_iter, options.tol)
        if best is None or run[1] < best[1]:
            best = run
    assert best is not None  # noqa: S101 -- type narrowing of an internal invariant, not input validation
    x = best[0] * scale_x
    plan = evaluate_multiperiod(model, x, history, budget=B)
    logger.info("multi-period plan %dx%d: %s after %d iterations", H, C, best[3], best[2])
    return MultiPeriodPlan(
        channels=plan.channels,
        spend=plan.spend,
        weekly_response=plan.weekly_response,
        response=plan.response,
        carryover_in=plan.carryover_in,
        carryover_out=plan.carryover_out,
        budget=B,
        iterations=best[2],
        status=best[3],
    )


@dataclass(frozen=True)
class _SteadyState:
    """Separable approximation: channel total ``T`` spread evenly over ``H`` weeks.

    Weekly adstock in steady state is ``T / H * sum_l w_l``; response ``H * beta * s(.)``.
    """

    model: MultiPeriodModel
    horizon: int
    wsum: np.ndarray

    @property
    def channels(self) -> tuple[str, ...]:
        return self.model.channels

    def channel_response(self, spend: np.ndarray) -> np.ndarray:
        x = np.asarray(spend, dtype=float)
        a = np.maximum(x, 0.0) / self.horizon * self.wsum
        flat = a.reshape(-1, a.shape[-1])
        return (self.horizon * self.model._sat(flat)).reshape(a.shape)

    def channel_gradient(self, spend: np.ndarray) -> np.ndarray:
        x = np.asarray(spend, dtype=float)
        a = np.maximum(x, 0.0) / self.horizon * self.wsum
        flat = a.reshape(-1, a.shape[-1])
        return (self.model._dsat(flat) * self.wsum).reshape(a.shape)

    def response(self, spend: np.ndarray) -> np.ndarray:
        return self.channel_response(spend).sum(axis=-1)

    def gradient(self, spend: np.ndarray) -> np.ndarray:
        return self.channel_gradient(spend)


def multiperiod_model(
    channels: Sequence[str],
    beta: Sequence[float],
    saturation: Sequence[HillSaturationSchema | LogisticSaturationSchema],
    decay: Sequence[float],
    *,
    max_lag: int | None = None,
    normalize: bool = False,
) -> MultiPeriodModel:
    """Convenience constructor from plain sequences."""
    return MultiPeriodModel(
        tuple(channels),
        np.asarray(beta, dtype=float),
        tuple(saturation),
        np.asarray(decay, dtype=float),
        max_lag=max_lag,
        normalize=normalize,
    )


def multiperiod_from_transforms(
    channels: Sequence[str],
    beta: Sequence[float],
    adstock: Sequence[Mapping[str, Any]],
    saturation: Sequence[Mapping[str, Any]],
) -> MultiPeriodModel:
    """A :class:`MultiPeriodModel` from a fitted model's transforms (registry dicts).

    Supported adstocks: ``geometric`` (Robyn's infinite recursion
    ``y_t = x_t + alpha y_{t-1}``: weights ``alpha**l``, not normalized, lags until
    ``alpha**l < 1e-6``) for every channel, or ``geometric_window`` (PyMC-Marketing,
    ``l_max`` lags, optionally normalized) with the same ``l_max`` and
    ``normalize`` for every channel. Saturations: ``hill`` and ``logistic``.

    Raises
    ------
    InputError
        Any other adstock or saturation, naming the channel (not supported yet).

    Examples
    --------
    >>> m = multiperiod_from_transforms(["tv"], [10.0], [{"type": "geometric", "alpha": 0.5}],
    ...     [{"type": "hill", "half_saturation": 4.0, "slope": 1.0}])
    >>> m.weights()[0, :3].tolist()
    [1.0, 0.5, 0.25]
    """
    from mediamix.errors import InputError

    problems: list[str] = []
    decay: list[float] = []
    kinds: set[tuple[str, int | None, bool]] = set()
    for name, ad in zip(channels, adstock, strict=True):
        kind = str(ad.get("type"))
        if kind == "geometric":
            decay.append(float(ad["alpha"]))
            kinds.add(("geometric", None, False))
        elif kind == "geometric_window":
            decay.append(float(ad["alpha"]))
            kinds.add(
                ("geometric_window", int(ad.get("l_max", 12)), bool(ad.get("normalize", False)))
            )
        else:
            decay.append(0.0)
            problems.append(f"channel '{name}' has a '{kind}' adstock")
    sats: list[HillSaturationSchema | LogisticSaturationSchema] = []
    for name, sat in zip(channels, saturation, strict=True):
        kind = str(sat.get("type"))
        if kind == "hill":
            sats.append(
                HillSaturationSchema(
                    type="hill",
                    half_saturation=float(sat["half_saturation"]),
                    slope=float(sat["slope"]),
                )
            )
        elif kind == "logistic":
            sats.append(LogisticSaturationSchema(type="logistic", lam=float(sat["lam"])))
        else:
            problems.append(f"channel '{name}' has a '{kind}' saturation")
    if problems:
        raise InputError.single(
            "weekly plans support geometric adstock (geometric, geometric_window) with "
            "hill or logistic saturation only, not yet other transforms: " + "; ".join(problems)
        )
    if len(kinds) > 1:
        raise InputError.single(
            "weekly plans need one geometric adstock form for all channels (the same "
            f"family, l_max and normalize); the model mixes {sorted(map(str, kinds))}"
        )
    (family, l_max, normalize) = kinds.pop() if kinds else ("geometric", None, False)
    return MultiPeriodModel(
        tuple(channels),
        np.asarray(beta, dtype=float),
        tuple(sats),
        np.asarray(decay, dtype=float),
        max_lag=None if family == "geometric" else int(l_max or 1) - 1,
        normalize=normalize,
    )
