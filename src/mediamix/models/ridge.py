"""Ridge MMM: geometric adstock + Hill saturation, non-negative media effects.

The model on the scaled KPI ``y / mean(y)``::

    y_t = b0 + sum_k b_k z_tk + sum_c beta_c hill(adstock(spend_c), K_c, s_c)_t + e_t

with standardized baseline features ``z``, a ridge penalty on every coefficient
but the intercept, and ``beta_c >= 0``. Transform parameters come from a seeded
coordinate search over a grid (each sweep tries every (decay, half-saturation,
slope) for one channel with the others held, scoring all candidates in one batched
ridge solve); the penalty is then chosen on a time-ordered holdout. Half-saturation
is searched as a multiple of the channel's mean non-zero adstocked spend, so the
search and its results are invariant to the currency unit.

ROI intervals come from a moving-block bootstrap of residuals (blocks of 4
periods) that refits the linear coefficients with the transforms held fixed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import lsq_linear

from mediamix.data.dataset import Dataset
from mediamix.data.spec import Frequency, ModelSpec
from mediamix.errors import InputError, Problem
from mediamix.models.design import BaselineDesign, baseline_features
from mediamix.models.metrics import nrmse
from mediamix.models.result import ChannelFit, FitResult
from mediamix.transforms.adstock import geometric_adstock
from mediamix.transforms.saturation import hill

__all__ = ["RidgeOptions", "count_parameters", "fit_ridge"]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

_ALPHAS = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
_K_MULTS = np.array([0.25, 0.4, 0.6, 0.85, 1.2, 1.7, 2.5, 3.5])
_SLOPES = np.array([0.8, 1.1, 1.5, 2.0, 2.7])


@dataclass(frozen=True)
class RidgeOptions:
    """Search and fit settings of the ridge engine."""

    seed: int = 0
    sweeps: int = 3
    lambdas: tuple[float, ...] = (1e-5, 1e-4, 1e-3, 1e-2)
    holdout_share: float = 0.15
    bootstrap: int = 200
    block: int = 4


def count_parameters(spec: ModelSpec, n_events: int | None = None) -> int:
    """Parameters the ridge model estimates: the minimum number of periods.

    Intercept, trend, 2 per yearly harmonic, events, controls, organic, and per
    channel a coefficient plus three transform parameters.
    """
    events = len(spec.events) if n_events is None else n_events
    return (
        1
        + int(spec.trend)
        + 2 * spec.yearly_harmonics
        + events
        + len(spec.controls)
        + len(spec.organic)
        + 4 * len(spec.channels)
    )


def _grid_for(spec: ModelSpec, channel: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate (alpha, K multiple, slope) values, narrowed by the spec if it says so."""
    cs = spec.channels[channel]
    alphas, kmults, slopes = _ALPHAS, _K_MULTS, _SLOPES
    problems = []
    if cs.adstock is not None:
        if cs.adstock.type != "geometric":
            problems.append(
                Problem(
                    f"the ridge engine searches geometric adstock; '{cs.adstock.type}' is not "
                    "supported here yet",
                    column=f"channels.{channel}.adstock.type",
                )
            )
        alphas = _restrict(alphas, cs.adstock.params.get("alpha"))
    if cs.saturation is not None:
        if cs.saturation.type != "hill":
            problems.append(
                Problem(
                    f"the ridge engine searches Hill saturation; '{cs.saturation.type}' is not "
                    "supported here yet",
                    column=f"channels.{channel}.saturation.type",
                )
            )
        slopes = _restrict(slopes, cs.saturation.params.get("slope"))
    if problems:
        raise InputError(problems)
    return alphas, kmults, slopes


def _restrict(grid: np.ndarray, value: float | tuple[float, float] | None) -> np.ndarray:
    if value is None:
        return grid
    if isinstance(value, tuple):
        inside = grid[(grid >= value[0]) & (grid <= value[1])]
        return inside if inside.size else np.linspace(value[0], value[1], 5)
    return np.array([float(value)])


def _batched_ridge(X: np.ndarray, y: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Ridge solutions and SSE for a batch of designs X (B, T, P); column 0 unpenalized."""
    p = X.shape[-1]
    penalty = np.eye(p) * lam * X.shape[-2]
    penalty[0, 0] = 0.0
    gram = np.einsum("btp,btq->bpq", X, X) + penalty
    rhs = np.einsum("btp,t->bp", X, y)
    coef = np.linalg.solve(gram, rhs[..., None])[..., 0]
    resid = y[None] - np.einsum("btp,bp->bt", X, coef)
    return coef, np.sum(resid**2, axis=1)


def _nonneg_ridge(X: np.ndarray, y: np.ndarray, lam: float, n_media: int) -> np.ndarray:
    """Ridge with the last ``n_media`` coefficients >= 0 (bounded least squares)."""
    t, p = X.shape
    penalty = np.sqrt(lam * t) * np.eye(p)[1:]
    A = np.vstack([X, penalty])
    b = np.concatenate([y, np.zeros(p - 1)])
    lower = np.full(p, -np.inf)
    lower[p - n_media :] = 0.0
    return np.asarray(lsq_linear(A, b, bounds=(lower, np.full(p, np.inf)), method="bvls").x)


def fit_ridge(
    data: Dataset,
    spec: ModelSpec,
    options: RidgeOptions | None = None,
    progress: Progress | None = None,
) -> FitResult:
    """Fit the ridge MMM to national data.

    Parameters
    ----------
    data : Dataset
        Validated data; geo data is summed to national first.
    spec : ModelSpec
        Baseline choices and per-channel transform constraints.
    options : RidgeOptions, optional
    progress : callable(fraction, message), optional
        Called as the search advances.

    Returns
    -------
    FitResult
    """
    options = options or RidgeOptions()
    rng = np.random.default_rng(options.seed)
    data = data.national()
    T, C = data.n_periods, data.n_channels
    spend = data.spend[0]
    kpi = data.kpi[0]
    scale_y = float(np.mean(kpi)) or 1.0
    y = kpi / scale_y

    span = float((data.dates[-1] - data.dates[0]).astype(int))
    yearly = spec.yearly_harmonics if span >= 300 else 0
    weekly = (
        spec.seasonality.weekly
        if (not isinstance(spec.seasonality, int) and data.frequency == Frequency.daily)
        else 0
    )
    design = BaselineDesign(
        origin=str(data.dates[0]),
        trend_span_days=max(span, 1.0),
        trend=spec.trend,
        yearly=yearly,
        weekly=weekly,
        events=data.event_names,
        controls=data.control_names,
        organic=data.organic_names,
    )
    raw = baseline_features(design, data)
    mu = raw.mean(axis=0)
    sd = raw.std(axis=0)
    sd[sd == 0] = 1.0
    Z = np.column_stack([np.ones(T), (raw - mu) / sd])

    grids = {ch: _grid_for(spec, ch) for ch in data.channels}
    # adstocked spend per channel and alpha, with its reference scale for K
    adstocked: dict[str, np.ndarray] = {}
    refs: dict[str, np.ndarray] = {}
    for c, ch in enumerate(data.channels):
        alphas = grids[ch][0]
        a = geometric_adstock(spend[:, c][:, None], alphas[None, :])
        a = np.asarray(a).reshape(T, len(alphas))
        adstocked[ch] = a
        pos = np.where(a > 0, a, np.nan)
        with np.errstate(all="ignore"):
            ref = np.nanmean(pos, axis=0)
        refs[ch] = np.where(np.isfinite(ref) & (ref > 0), ref, 1.0)

    def feature(ch: str, ai: int, km: float, slope: float) -> np.ndarray:
        return np.asarray(hill(adstocked[ch][:, ai], km * refs[ch][ai], slope))

    # start from the middle of each grid
    state = {}
    for ch in data.channels:
        alphas, kmults, slopes = grids[ch]
        state[ch] = (
            len(alphas) // 2,
            float(kmults[len(kmults) // 2]),
            float(slopes[len(slopes) // 2]),
        )
    lam_search = options.lambdas[1]
    total_steps = options.sweeps * C
    step = 0
    order = list(data.channels)
    for sweep in range(options.sweeps):
        rng.shuffle(order)
        for ch in order:
            alphas, kmults, slopes = grids[ch]
            others = [feature(o, *state[o]) for o in data.channels if o != ch]
            base = np.column_stack([Z, *others]) if others else Z
            combos = [(ai, km, sl) for ai in range(len(alphas)) for km in kmults for sl in slopes]
            cand = np.stack([feature(ch, *combo) for combo in combos])
            X = np.concatenate(
                [np.broadcast_to(base, (len(combos), *base.shape)), cand[..., None]], axis=2
            )
            coef, sse = _batched_ridge(X, y, lam_search)
            sse = np.where(coef[:, -1] >= 0, sse, np.inf)
            best = int(np.argmin(sse))
            if np.isfinite(sse[best]):
                state[ch] = combos[best]
            step += 1
            if progress:
                progress(step / (total_steps + 2), f"search sweep {sweep + 1}: {ch}")

    M = np.column_stack([feature(ch, *state[ch]) for ch in data.channels])
    X_full = np.column_stack([Z, M])
    cut = max(round(T * (1 - options.holdout_share)), X_full.shape[1] + 1)
    best_lam, best_err = options.lambdas[0], np.inf
    if cut < T:
        for lam in options.lambdas:
            coef = _nonneg_ridge(X_full[:cut], y[:cut], lam, C)
            err = nrmse(y[cut:], X_full[cut:] @ coef) if T - cut > 1 else np.inf
            if err < best_err:
                best_lam, best_err = lam, err
    coef = _nonneg_ridge(X_full, y, best_lam, C)
    if progress:
        progress((total_steps + 1) / (total_steps + 2), "bootstrap")

    # back to raw units
    k = raw.shape[1]
    baseline_coef = coef[1 : 1 + k] / sd * scale_y
    intercept = float((coef[0] - np.sum(coef[1 : 1 + k] * mu / sd)) * scale_y)
    channels: dict[str, ChannelFit] = {}
    for c, ch in enumerate(data.channels):
        ai, km, slope = state[ch]
        alpha = float(grids[ch][0][ai])
        channels[ch] = ChannelFit(
            adstock={"type": "geometric", "alpha": alpha},
            saturation={
                "type": "hill",
                "half_saturation": float(km * refs[ch][ai]),
                "slope": float(slope),
            },
            beta=float(coef[1 + k + c] * scale_y),
        )

    bounds, roi_draws = _bootstrap_roi(
        X_full, y, coef, best_lam, C, M, spend, scale_y, options, rng
    )
    intervals = dict(zip(data.channels, bounds, strict=True))
    revenue = data.kpi_type.value == "revenue"
    info = {
        "lambda": best_lam,
        "holdout_nrmse": None if not np.isfinite(best_err) else best_err,
        "search": {
            "method": "coordinate grid search",
            "sweeps": options.sweeps,
            "candidates_per_channel": {
                ch: int(np.prod([len(g) for g in grids[ch]])) for ch in data.channels
            },
        },
        "yearly_harmonics": yearly,
    }
    if progress:
        progress(1.0, "done")
    return FitResult(
        engine="ridge",
        spec=spec.to_dict(),
        data=data,
        design=design,
        intercept=intercept,
        baseline_coef=baseline_coef,
        channels=channels,
        roi_interval=intervals if revenue else {ch: None for ch in data.channels},
        info=info,
        draws={"roi": roi_draws} if revenue else {},
    )


def _bootstrap_roi(
    X: np.ndarray,
    y: np.ndarray,
    coef: np.ndarray,
    lam: float,
    n_media: int,
    M: np.ndarray,
    spend: np.ndarray,
    scale_y: float,
    options: RidgeOptions,
    rng: np.random.Generator,
) -> tuple[list[tuple[float, float] | None], np.ndarray]:
    """90% ROI intervals from a moving-block residual bootstrap (transforms held)."""
    T = len(y)
    fitted = X @ coef
    resid = y - fitted
    n_blocks = int(np.ceil(T / options.block))
    draws = np.full((options.bootstrap, n_media), np.nan)
    totals = spend.sum(axis=0)
    media_sum = M.sum(axis=0)
    for b in range(options.bootstrap):
        starts = rng.integers(0, max(T - options.block, 1), n_blocks)
        idx = (starts[:, None] + np.arange(options.block)[None, :]).reshape(-1)[:T]
        yb = fitted + resid[np.minimum(idx, T - 1)]
        cb = _nonneg_ridge(X, yb, lam, n_media)
        with np.errstate(divide="ignore", invalid="ignore"):
            draws[b] = cb[-n_media:] * scale_y * media_sum / totals
    out: list[tuple[float, float] | None] = []
    for i in range(n_media):
        col = draws[:, i]
        col = col[np.isfinite(col)]
        out.append(
            (float(np.quantile(col, 0.05)), float(np.quantile(col, 0.95))) if col.size else None
        )
    return out, draws
