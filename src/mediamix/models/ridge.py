"""Ridge MMM engine: baseline + transformed paid media, searched hyperparameters.

The model, its objectives and the search are described in
:mod:`mediamix.models.search`. In short, on the scaled KPI ``y / mean(y)``::

    y_t = b0 + sum_k b_k z_tk + sum_c beta_c hill(adstock_c(spend_c))_t
          + sum_(a,b) gamma_ab h_ta h_tb + e_t,      beta, gamma >= 0

with a ridge penalty on every coefficient but the intercept. The search draws
candidates of (adstock family and parameters, Hill half-saturation as a multiple
of mean adstocked spend, Hill slope) per channel plus the penalty and the training
window of the validation split, evaluates them in vectorized batches (NRMSE on
that time-ordered validation split, DECOMP.RSSD with
Robyn's zero-effect penalty, MAPE.LIFT with lift tests), keeps the Pareto front,
clusters it and recommends one model by a recorded rule. The recommended model is
refitted on the whole window by bounded least squares, so ``beta >= 0`` holds
exactly. Results are invariant to the currency unit of spend and to the unit of
the KPI (contributions scale with the KPI).

ROI intervals come from a moving-block bootstrap of residuals (blocks of 4
periods) that refits the linear coefficients with the transforms held fixed,
combined with the spread of the model ensemble below, so they also carry the
uncertainty of the curves (:func:`curve_roi_interval`); ``draws["roi"]`` stays the
bootstrap alone.

Plans are made on a model ensemble (``info["ensemble"]``, :func:`model_ensemble`):
up to 100 models of the search whose in-sample fit is within a likelihood-ratio
bound of the best (:func:`mediamix.models.search.plausible_models`, level 0.9),
each with its own transforms and coefficients. The optimizer maximizes the
expected response over them and the risk check counts them as draws
(:mod:`mediamix.models.response`); the reported decomposition is still the one
recommended model's.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mediamix.data.dataset import Dataset
from mediamix.data.spec import ModelSpec
from mediamix.errors import InputError, Problem
from mediamix.models.design import BaselineDesign, baseline_design, baseline_features
from mediamix.models.response import evenly_spaced, response_curves
from mediamix.models.result import ChannelFit, FitResult
from mediamix.models.ridge_info import search_info
from mediamix.models.search import (
    ADSTOCK_FAMILIES,
    WEIBULL_L_MAX,
    Candidates,
    LiftTarget,
    SearchOptimizer,
    SearchOptions,
    SearchProblem,
    SearchResult,
    media_features,
    nonneg_ridge,
    penalty_weights,
    plausible_models,
    run_search,
    search_space,
)

__all__ = [
    "Prepared",
    "RidgeOptions",
    "count_parameters",
    "curve_roi_interval",
    "fit_ridge",
    "prepare",
]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class RidgeOptions:
    """Search and fit settings of the ridge engine.

    Attributes
    ----------
    seed : int
        Seeds the search, the clustering and the bootstrap.
    candidates : int
        Candidates evaluated by the search. 10,000 by default: with fewer, the
        recovered contributions depended more on the optimizer's seed
        (``benchmarks/results/ridge.md``).
    batch : int
        Candidates per vectorized evaluation (the DE population).
    optimizer : str or callable
        ``"de"`` (default): the numpy JADE differential evolution; ``"random"``:
        Latin hypercube; or a function of an
        :class:`~mediamix.models.search.OptimizerContext` (the optimizers measured
        against JADE are in ``benchmarks/search_optimizers.py``).
    selection : str
        Rule that picks the recommended model (see
        :data:`mediamix.models.search.SELECTION_RULES`).
    val_share : (float, float)
        Share of the last periods held out for ``nrmse_val``: equal bounds fix it
        (default 15%), different bounds search it per candidate (the training
        window of the time-ordered split). Searching it did not improve recovery
        and costs throughput (one solve per distinct window), so the default holds
        it fixed (``benchmarks/results/ridge.md``).
    log10_lambda : (float, float)
        Search bounds of the ridge penalty.
    standardize_media : bool
        Penalize each media coefficient times its column's standard deviation (as
        glmnet's standardization does) instead of the coefficient itself. Off by
        default: measured recovery was the same within noise
        (``benchmarks/results/ridge.md``).
    bootstrap, block : int
        Bootstrap draws and block length (periods) for the ROI intervals.
    ensemble : int
        Most models kept in ``info["ensemble"]`` for planning (0: none); see
        :func:`model_ensemble`.
    ensemble_level : float
        Level of the likelihood-ratio set the ensemble is drawn from
        (:func:`mediamix.models.search.plausible_models`).
    """

    seed: int = 0
    candidates: int = 10_000
    batch: int = 200
    optimizer: str | SearchOptimizer = "de"
    selection: str = "medoid_near_best"
    val_share: tuple[float, float] = (0.15, 0.15)
    log10_lambda: tuple[float, float] = (-6.0, -1.0)
    rssd_weight: float = 0.3
    clusters: int = 5
    standardize_media: bool = False
    bootstrap: int = 200
    block: int = 4
    ensemble: int = 100
    ensemble_level: float = 0.9


def count_parameters(spec: ModelSpec, n_events: int | None = None) -> int:
    """Parameters the ridge model estimates: the minimum number of periods.

    Intercept, trend, 2 per yearly harmonic, events, controls, organic, per channel
    a coefficient plus three transform parameters, and one per synergy pair.
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
        + len(spec.synergy)
    )


@dataclass(frozen=True)
class Prepared:
    """A dataset turned into a :class:`SearchProblem`, with what it takes to undo scaling."""

    data: Dataset
    spec: ModelSpec
    design: BaselineDesign
    problem: SearchProblem
    scale_y: float
    mu: np.ndarray
    sd: np.ndarray
    yearly: int


def prepare(data: Dataset, spec: ModelSpec, standardize_media: bool = False) -> Prepared:
    """National data -> scaled KPI, standardized baseline, lift targets, synergy pairs."""
    data = data.national()
    T = data.n_periods
    kpi = data.kpi[0]
    scale_y = float(np.mean(kpi)) or 1.0
    y = kpi / scale_y
    design = baseline_design(data, spec)
    yearly = design.yearly
    raw = baseline_features(design, data)
    mu = raw.mean(axis=0)
    sd = raw.std(axis=0)
    sd[sd == 0] = 1.0
    Z = np.column_stack([np.ones(T), (raw - mu) / sd])
    index = {ch: i for i, ch in enumerate(data.channels)}
    dates = data.dates.astype("datetime64[D]")
    lifts = []
    problems = []
    for i, test in enumerate(spec.lift_tests):
        mask = (dates >= np.datetime64(test.start, "D")) & (dates <= np.datetime64(test.end, "D"))
        if not mask.any() or test.lift == 0:
            problems.append(
                Problem(
                    f"lift test {i + 1} ({test.channel}, {test.start} to {test.end}) "
                    + ("has a zero lift" if mask.any() else "covers no period of the data"),
                    column=f"lift_tests[{i}]",
                )
            )
            continue
        lifts.append(
            LiftTarget(channel=index[test.channel], mask=mask, lift=float(test.lift) / scale_y)
        )
    if problems:
        raise InputError(problems)
    synergy = tuple((index[a], index[b]) for a, b in spec.synergy)
    problem = SearchProblem(
        y=y,
        Z=Z,
        spend=np.asarray(data.spend[0], float),
        lift=tuple(lifts),
        synergy=synergy,
        standardize_media=standardize_media,
    )
    return Prepared(
        data=data,
        spec=spec,
        design=design,
        problem=problem,
        scale_y=scale_y,
        mu=mu,
        sd=sd,
        yearly=yearly,
    )


def adstock_dict(cand: Candidates, b: int, c: int) -> dict[str, Any]:
    """Registry dict of candidate ``b``'s adstock for channel ``c``."""
    family = ADSTOCK_FAMILIES[int(cand.family[b, c])]
    if family == "geometric":
        return {"type": "geometric", "alpha": float(cand.alpha[b, c])}
    return {
        "type": "weibull_pdf",
        "shape": float(cand.shape[b, c]),
        "scale": float(cand.scale[b, c]),
        "convention": "pymc",
        "l_max": WEIBULL_L_MAX,
        "normalize": True,
    }


def _weights(prep: Prepared, X: np.ndarray) -> np.ndarray | None:
    """Penalty weights of the exact refit, matching the search's (see ``penalty_weights``)."""
    if not prep.problem.standardize_media:
        return None
    return penalty_weights(X.T @ X, X.shape[0], prep.problem.Z.shape[1])


def refit(prep: Prepared, cand: Candidates) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact non-negative ridge on the whole window for one candidate.

    Returns the coefficients (P,), the design ``X`` (T, P) and ``K`` (C,).
    """
    problem = prep.problem
    h, K = media_features(problem, cand)
    M = h[0]
    if problem.synergy:
        M = np.column_stack([M, *[M[:, a] * M[:, b] for a, b in problem.synergy]])
    X = np.column_stack([problem.Z, M])
    coef = nonneg_ridge(X, problem.y, float(cand.lam[0]), problem.n_media, _weights(prep, X))
    return coef, X, K[0]


def build_result(
    prep: Prepared,
    cand: Candidates,
    coef: np.ndarray,
    K: np.ndarray,
    info: Mapping[str, Any],
    roi_interval: Mapping[str, tuple[float, float] | None] | None = None,
    draws: Mapping[str, np.ndarray] | None = None,
) -> FitResult:
    """A :class:`FitResult` in input units for one candidate and its coefficients."""
    data = prep.data
    problem = prep.problem
    k = problem.Z.shape[1] - 1
    C = data.n_channels
    baseline_coef = coef[1 : 1 + k] / prep.sd * prep.scale_y
    intercept = float((coef[0] - np.sum(coef[1 : 1 + k] * prep.mu / prep.sd)) * prep.scale_y)
    channels: dict[str, ChannelFit] = {}
    for c, ch in enumerate(data.channels):
        channels[ch] = ChannelFit(
            adstock=adstock_dict(cand, 0, c),
            saturation={
                "type": "hill",
                "half_saturation": float(K[c]),
                "slope": float(cand.slope[0, c]),
            },
            beta=float(coef[1 + k + c] * prep.scale_y),
        )
    synergy = {
        (data.channels[a], data.channels[b]): float(coef[1 + k + C + s] * prep.scale_y)
        for s, (a, b) in enumerate(problem.synergy)
    }
    extra: dict[str, Any] = {"synergy": synergy} if synergy else {}
    return FitResult(
        engine="ridge",
        spec=prep.spec.to_dict(),
        data=data,
        design=prep.design,
        intercept=intercept,
        baseline_coef=baseline_coef,
        channels=channels,
        roi_interval=dict(roi_interval or {ch: None for ch in data.channels}),
        info=dict(info),
        draws=dict(draws or {}),
        **extra,
    )


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
        Baseline choices, per-channel transform constraints, lift tests, synergy.
    options : RidgeOptions, optional
    progress : callable(fraction, message), optional
        Called after every batch with the candidates per second.

    Returns
    -------
    FitResult
        ``info`` holds the search (optimizer, candidates, rate), the Pareto table,
        the clusters and the selection rule with its reason.
    """
    options = options or RidgeOptions()
    prep = prepare(data, spec, options.standardize_media)
    space = search_space(spec, prep.data.channels, options.log10_lambda, options.val_share)
    search = run_search(
        prep.problem,
        space,
        SearchOptions(
            candidates=options.candidates,
            batch=options.batch,
            seed=options.seed,
            optimizer=options.optimizer,
            rule=options.selection,
            rssd_weight=options.rssd_weight,
            clusters=options.clusters,
        ),
        progress,
    )
    cand = search.candidates.take([search.chosen])
    coef, X, K = refit(prep, cand)
    if progress:
        progress(0.92, "bootstrap ROI intervals")
    rng = np.random.default_rng([options.seed, 1])
    revenue = prep.data.kpi_type.value == "revenue"
    bounds, roi_draws = _bootstrap_roi(
        prep, X, coef, float(cand.lam[0]), options, rng, _weights(prep, X)
    )
    info = search_info(prep, search, options)
    ensemble = model_ensemble(prep, search, options.ensemble, options.ensemble_level)
    if ensemble is not None:
        info["ensemble"] = ensemble
        members = [int(m["candidate"]) for m in ensemble["members"]]
        bounds = curve_roi_interval(
            search.scores.effects[members] * prep.scale_y / prep.problem.spend.sum(axis=0),
            roi_draws,
            bounds,
        )
    intervals = dict(zip(prep.data.channels, bounds, strict=True))
    result = build_result(
        prep,
        cand,
        coef,
        K,
        info,
        intervals if revenue else None,
        {"roi": roi_draws} if revenue else None,
    )
    result = dataclasses.replace(
        result, info={**result.info, "response_curves": response_curves(result)}
    )
    if progress:
        progress(1.0, f"done: {len(search.u)} candidates at {search.rate:.0f} candidates/s")
    return result


def model_ensemble(
    prep: Prepared, search: SearchResult, size: int = 100, level: float = 0.9
) -> dict[str, Any] | None:
    """The models the data cannot tell apart, each with its own curves, for planning.

    The members are drawn from the likelihood-ratio set of the search
    (:func:`mediamix.models.search.plausible_models` at ``level``, with
    ``p`` = baseline coefficients + 4 per channel + synergy pairs): at most
    ``size`` of them, evenly spaced in the set's order of fit (best first). Each
    member keeps its own adstock, Hill curve and whole-window coefficients from the
    search, so transforms differ between members: the weak identification that the
    bootstrap (transforms held fixed) does not show. Plans maximize the expected
    response over the members and the risk check counts them as draws
    (:class:`mediamix.models.response.FittedResponse`).

    Returns None when ``size`` is below 2 or fewer than 2 models qualify.
    """
    if size < 2:
        return None
    problem = prep.problem
    T, C = problem.spend.shape
    n_params = problem.Z.shape[1] + 4 * C + len(problem.synergy)
    order, tol = plausible_models(search.scores, T, n_params, level, search.with_lift)
    if order.size < 2:
        return None
    pick = order[evenly_spaced(order.size, size)]
    cand = search.candidates.take(pick)
    _, K = media_features(problem, cand)
    k = problem.Z.shape[1]
    coef = search.scores.coef[pick]
    members = []
    for b, i in enumerate(pick):
        members.append(
            {
                "candidate": int(i),
                "nrmse_train": float(search.scores.nrmse_train[i]),
                "channels": {
                    ch: ChannelFit(
                        adstock=adstock_dict(cand, b, c),
                        saturation={
                            "type": "hill",
                            "half_saturation": float(K[b, c]),
                            "slope": float(cand.slope[b, c]),
                        },
                        beta=float(coef[b, k + c] * prep.scale_y),
                    ).to_dict()
                    for c, ch in enumerate(prep.data.channels)
                },
            }
        )
    return {
        "rule": (
            f"models with in-sample {'NRMSE + MAPE.LIFT' if search.with_lift else 'NRMSE'} "
            f"within {tol:.1%} of the best (likelihood-ratio "
            f"set at {level:.0%}, {n_params} parameters, {T} periods); {len(members)} of "
            f"{order.size}, evenly spaced by fit"
        ),
        "level": level,
        "tolerance": tol if np.isfinite(tol) else None,
        "n_parameters": n_params,
        "n_plausible": int(order.size),
        "members": members,
    }


def curve_roi_interval(
    member_roi: np.ndarray,
    boot_draws: np.ndarray,
    boot_bounds: Sequence[tuple[float, float] | None],
    level: float = 0.9,
) -> list[tuple[float, float] | None]:
    """ROI intervals that carry the uncertainty of the curves as well as the coefficients'.

    The residual bootstrap holds the recommended model's adstock and Hill curves fixed,
    so its interval misses the spread between models the data cannot tell apart (on
    a channel whose spend moves with the seasons, near-equal fits put its ROI
    anywhere from a third to twice the recommended model's). Each member ``m`` of the
    model ensemble (the likelihood-ratio set, see :func:`model_ensemble`) is combined
    with each bootstrap deviation ``b`` from the bootstrap median,
    ``roi_m + (draw_b - median)``, floored at 0 (effects are non-negative); the
    interval is the central ``level`` of these, widened where needed to contain the
    bootstrap interval, so the reported ROI's own interval stays inside.

    Parameters
    ----------
    member_roi : ndarray (M, C)
        ROI of each ensemble member, KPI per currency unit.
    boot_draws : ndarray (B, C)
        Bootstrap ROI draws of the recommended model.
    boot_bounds : sequence of (low, high) or None, length C
        The bootstrap intervals.
    level : float
        Central probability of the interval.

    Returns
    -------
    list of (low, high) or None
        None where the bootstrap gave none (no spend).

    Examples
    --------
    >>> members = np.array([[1.0], [2.0], [3.0]])
    >>> boot = np.array([[1.9], [2.0], [2.1]])
    >>> [tuple(round(v, 2) for v in b) for b in curve_roi_interval(members, boot, [(1.9, 2.1)])]
    [(0.94, 3.06)]
    """
    q = ((1.0 - level) / 2.0, (1.0 + level) / 2.0)
    out: list[tuple[float, float] | None] = []
    for c, bb in enumerate(boot_bounds):
        col = boot_draws[:, c]
        col = col[np.isfinite(col)]
        roi = member_roi[:, c]
        roi = roi[np.isfinite(roi)]
        if bb is None or col.size == 0 or roi.size == 0:
            out.append(bb)
            continue
        pooled = np.maximum((roi[:, None] + (col - np.median(col))[None, :]).ravel(), 0.0)
        lo, hi = np.quantile(pooled, q)
        out.append((float(min(lo, bb[0])), float(max(hi, bb[1]))))
    return out


def _bootstrap_roi(
    prep: Prepared,
    X: np.ndarray,
    coef: np.ndarray,
    lam: float,
    options: RidgeOptions,
    rng: np.random.Generator,
    weights: np.ndarray | None = None,
) -> tuple[list[tuple[float, float] | None], np.ndarray]:
    """90% ROI intervals from a moving-block residual bootstrap (transforms held).

    Each draw refits the non-negative ridge on ``fitted + resampled residual blocks``
    and computes every channel's ROI = contribution / spend (synergy split in).
    """
    from mediamix.models.search import split_synergy

    problem, scale_y = prep.problem, prep.scale_y
    y = problem.y
    T = len(y)
    C = problem.spend.shape[1]
    k = problem.Z.shape[1]
    n_media = problem.n_media
    fitted = X @ coef
    resid = y - fitted
    n_blocks = int(np.ceil(T / options.block))
    draws = np.full((options.bootstrap, C), np.nan)
    totals = problem.spend.sum(axis=0)
    H = X[:, k : k + C]
    S = X[:, k + C :]
    for b in range(options.bootstrap):
        starts = rng.integers(0, max(T - options.block, 1), n_blocks)
        idx = (starts[:, None] + np.arange(options.block)[None, :]).reshape(-1)[:T]
        cb = nonneg_ridge(X, fitted + resid[np.minimum(idx, T - 1)], lam, n_media, weights)
        own = H * cb[k : k + C]
        if problem.synergy:
            own = split_synergy(own, problem.synergy, S * cb[k + C :])
        with np.errstate(divide="ignore", invalid="ignore"):
            draws[b] = own.sum(axis=0) * scale_y / totals
    out: list[tuple[float, float] | None] = []
    for i in range(C):
        col = draws[:, i]
        col = col[np.isfinite(col)]
        out.append(
            (float(np.quantile(col, 0.05)), float(np.quantile(col, 0.95))) if col.size else None
        )
    return out, draws
