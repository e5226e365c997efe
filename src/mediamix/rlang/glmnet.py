r"""R's glmnet as a second engine on the ridge engine's design, and the check between them.

The ridge engine (:mod:`mediamix.models.ridge`) fits, on the scaled KPI
``y = kpi / mean(kpi)`` and the design ``X = [Z, H]`` (standardized baseline features
``Z``, saturated adstocked media ``H``, synergy products), the non-negative ridge

.. math:: \min_b \frac{1}{2T}\lVert y - b_0 - X b\rVert^2 + \frac{\lambda}{2}\sum_j b_j^2,
          \qquad b_{media} \ge 0

(:func:`mediamix.models.search.nonneg_ridge`, written there as
:math:`\lVert\cdot\rVert^2 + \lambda T \sum b_j^2`). glmnet with ``alpha = 0``,
``lower.limits = 0`` on the media columns and ``standardize = FALSE`` solves the same
problem once its ``lambda`` is put on glmnet's scale: for the Gaussian family glmnet
divides ``y`` by its standard deviation :math:`s_y` (``1/n`` form) before fitting and
interprets ``lambda`` there, which for a pure ridge penalty is the original problem
with :math:`\lambda/s_y`. So glmnet gets :math:`\lambda_{glmnet} = \lambda\, s_y`.

Two conventions make glmnet differ from the ridge engine when they are not matched,
and :func:`compare_glmnet` reports both: ``standardize = TRUE`` (glmnet's default,
which Robyn uses) penalizes :math:`b_j\,\mathrm{sd}(x_j)` instead of :math:`b_j`; and a
``lambda`` taken from glmnet's own path is a different penalty altogether. Given the
same ``lambda`` and convention, the two solvers agree to the convergence threshold of
glmnet's coordinate descent (``thresh``, set to 1e-14 here).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mediamix.data.dataset import Dataset
from mediamix.data.spec import ModelSpec
from mediamix.errors import InputError
from mediamix.models.design import baseline_features
from mediamix.models.result import ChannelFit, FitResult
from mediamix.models.ridge import RidgeOptions, fit_ridge, response_curves
from mediamix.models.search import nonneg_ridge, penalty_weights
from mediamix.rlang.bridge import r_session
from mediamix.transforms.registry import adstock_from_dict, saturation_from_dict

__all__ = [
    "ENGINE",
    "GLMNET_THRESH",
    "Design",
    "compare_glmnet",
    "fit_r_glmnet",
    "glmnet_ridge",
    "model_design",
    "with_coefficients",
]

log = logging.getLogger(__name__)

ENGINE = "r-glmnet"
#: glmnet's convergence threshold on the relative change of the objective; its
#: default 1e-7 leaves differences of about 1e-4 in the coefficients.
GLMNET_THRESH = 1e-14

Progress = Callable[[float, str], None]

_R_GLMNET = """
function(x, y, lambda, lower, standardize, thresh) {
  fit <- glmnet::glmnet(x, y, family = "gaussian", alpha = 0, lambda = lambda,
                        lower.limits = lower, standardize = standardize,
                        intercept = TRUE, thresh = thresh, maxit = 1e7)
  as.numeric(as.matrix(stats::coef(fit)))
}
"""


@dataclass(frozen=True)
class Design:
    """The ridge engine's design of a fitted model, rebuilt from the model alone.

    Attributes
    ----------
    names : tuple of str
        Column names of ``X``: baseline features, channels, then ``a*b`` synergy terms.
    X : ndarray (T, P)
        Standardized baseline features, then saturated adstocked media (and products).
    y : ndarray (T,)
        KPI divided by ``scale_y``.
    n_baseline : int
        Leading columns of ``X`` that are baseline features (unbounded).
    scale_y : float
        Mean KPI.
    mu, sd : ndarray (n_baseline,)
        Mean and standard deviation used to standardize the baseline features.
    lam : float
        The model's ridge penalty in the engine's convention.
    """

    names: tuple[str, ...]
    X: np.ndarray
    y: np.ndarray
    n_baseline: int
    scale_y: float
    mu: np.ndarray
    sd: np.ndarray
    lam: float

    @property
    def n_nonneg(self) -> int:
        """Trailing columns (media, synergy) whose coefficients are >= 0."""
        return self.X.shape[1] - self.n_baseline


def _media_column(fit: ChannelFit, spend: np.ndarray) -> np.ndarray:
    ad = adstock_from_dict(dict(fit.adstock))
    sat = saturation_from_dict(dict(fit.saturation))
    return np.asarray(sat.apply(ad.apply(np.asarray(spend, float))), float)


def model_design(result: FitResult, lam: float | None = None) -> Design:
    """The design the ridge engine fitted ``result`` on (same transforms, same scaling).

    Parameters
    ----------
    result : FitResult
        A model whose channels carry their transforms (any engine).
    lam : float, optional
        Penalty; default the one the fit recorded (``result.engine_info.penalty``).

    Raises
    ------
    InputError
        The model records no penalty and none is given.
    """
    if lam is None:
        lam = result.engine_info.penalty
        if lam is None:
            raise InputError.single(
                "the model records no ridge penalty (info.lambda); only ridge-engine models "
                "can be checked against glmnet",
                column="info.lambda",
            )
    data = result.data
    kpi = np.asarray(data.kpi[0], float)
    scale_y = float(np.mean(kpi)) or 1.0
    raw = baseline_features(result.design, data)
    mu = raw.mean(axis=0)
    sd = raw.std(axis=0)
    sd[sd == 0] = 1.0
    spend = data.spend[0]
    media = [_media_column(fit, spend[:, c]) for c, fit in enumerate(result.channels.values())]
    names = list(result.design.feature_names()) + list(result.channel_names)
    index = {ch: i for i, ch in enumerate(result.channel_names)}
    for a, b in result.synergy:
        media.append(media[index[a]] * media[index[b]])
        names.append(f"{a}*{b}")
    X = np.column_stack([(raw - mu) / sd, *media]) if media else (raw - mu) / sd
    return Design(
        names=tuple(names),
        X=X,
        y=kpi / scale_y,
        n_baseline=raw.shape[1],
        scale_y=scale_y,
        mu=mu,
        sd=sd,
        lam=float(lam),
    )


def result_coefficients(result: FitResult, design: Design) -> np.ndarray:
    """``result``'s coefficients on ``design``'s scale: intercept first, then ``names``."""
    base = np.asarray(result.baseline_coef, float) * design.sd / design.scale_y
    intercept = (result.intercept + float(np.sum(result.baseline_coef * design.mu))) / (
        design.scale_y
    )
    media = [fit.beta / design.scale_y for fit in result.channels.values()]
    synergy = [g / design.scale_y for g in result.synergy.values()]
    return np.concatenate([[intercept], base, media, synergy])


def python_ridge(design: Design, standardize: bool = False) -> np.ndarray:
    """The ridge engine's exact solver on ``design`` (intercept first)."""
    X1 = np.column_stack([np.ones(len(design.y)), design.X])
    weights = None
    if standardize:
        weights = penalty_weights(X1.T @ X1, X1.shape[0], 1)
    return nonneg_ridge(X1, design.y, design.lam, design.n_nonneg, weights)


def glmnet_ridge(
    design: Design, standardize: bool = False, thresh: float = GLMNET_THRESH
) -> np.ndarray:
    """glmnet's ridge on ``design`` at the design's penalty (intercept first).

    ``lambda`` is converted to glmnet's scale (see the module docstring); media and
    synergy coefficients have ``lower.limits = 0`` as in Robyn.

    Raises
    ------
    RMissingError
        R, rpy2 or glmnet is missing.

    Examples
    --------
    On a small design (one baseline column, one media column), glmnet and the ridge
    engine's exact solver give the same coefficients:

    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(60, 2))
    >>> y = 2.0 + X @ [1.0, 0.5] + rng.normal(0.0, 0.1, 60)
    >>> design = Design(names=("control", "tv"), X=X, y=y, n_baseline=1, scale_y=1.0,
    ...                 mu=np.zeros(1), sd=np.ones(1), lam=0.01)
    >>> bool(np.allclose(glmnet_ridge(design), python_ridge(design), atol=1e-7))
    True
    """
    ro = r_session(["glmnet"], purpose=f"--engine {ENGINE} and check {ENGINE}")
    T, P = design.X.shape
    lam_glmnet = design.lam * float(np.std(design.y))
    lower = np.concatenate([np.full(design.n_baseline, -np.inf), np.zeros(design.n_nonneg)])
    x = ro.r["matrix"](ro.FloatVector(design.X.ravel(order="F")), nrow=T, ncol=P)
    fit = ro.r(_R_GLMNET)
    out = fit(
        x,
        ro.FloatVector(design.y),
        lam_glmnet,
        ro.FloatVector(lower),
        standardize,
        thresh,
    )
    return np.asarray(list(out), float)


def with_coefficients(
    result: FitResult, design: Design, coef: np.ndarray, engine: str, info: dict[str, Any]
) -> FitResult:
    """``result`` with new coefficients (on ``design``'s scale), in input units."""
    k = design.n_baseline
    base = coef[1 : 1 + k] / design.sd * design.scale_y
    intercept = float((coef[0] - np.sum(coef[1 : 1 + k] * design.mu / design.sd)) * design.scale_y)
    C = len(result.channels)
    channels = {
        name: dataclasses.replace(fit, beta=float(coef[1 + k + c] * design.scale_y))
        for c, (name, fit) in enumerate(result.channels.items())
    }
    synergy = {
        pair: float(coef[1 + k + C + s] * design.scale_y) for s, pair in enumerate(result.synergy)
    }
    out = dataclasses.replace(
        result,
        engine=engine,
        intercept=intercept,
        baseline_coef=base,
        channels=channels,
        synergy=synergy,
        roi_interval={ch: None for ch in channels},
        draws={},
        info=info,
    )
    return dataclasses.replace(out, info={**info, "response_curves": response_curves(out)})


def fit_r_glmnet(
    data: Dataset,
    spec: ModelSpec,
    seed: int = 0,
    progress: Progress | None = None,
    options: RidgeOptions | None = None,
) -> FitResult:
    """Fit with R's glmnet on the design the ridge engine's search chooses.

    The ridge search picks the transforms and the penalty (as for ``--engine ridge``);
    glmnet then fits every coefficient on that design (``alpha = 0``, media >= 0, the
    same penalty on glmnet's scale). The result is an ordinary model: summary,
    decomposition, safe artifact. It has no bootstrap intervals and no model
    ensemble: plans use this one model.

    Raises
    ------
    RMissingError
        R, rpy2 or glmnet is missing (checked before the search runs).
    """
    r_session(["glmnet"], purpose=f"--engine {ENGINE}")
    options = options or RidgeOptions(seed=seed)
    options = dataclasses.replace(options, bootstrap=0, ensemble=0)

    def search_progress(fraction: float, message: str) -> None:
        if progress:
            progress(0.9 * fraction, f"ridge search: {message}")

    ridge = fit_ridge(data, spec, options, search_progress)
    if progress:
        progress(0.92, "glmnet fit in R")
    design = model_design(ridge)
    coef = glmnet_ridge(design)
    info = {k: v for k, v in ridge.info.items() if k not in ("ensemble", "response_curves")}
    info["glmnet"] = {
        "alpha": 0,
        "lambda": design.lam * float(np.std(design.y)),
        "standardize": False,
        "thresh": GLMNET_THRESH,
        "lower_limits": "0 for media and synergy columns",
        "transforms_from": "the ridge engine's search (same design)",
        "max_abs_diff_to_ridge": float(np.max(np.abs(coef - python_ridge(design)))),
    }
    result = with_coefficients(ridge, design, coef, ENGINE, info)
    if progress:
        progress(1.0, "done")
    return result


def compare_glmnet(
    result: FitResult,
    tolerance: float = 1e-5,
    lam: float | None = None,
    standardize: bool = False,
) -> dict[str, Any]:
    """Compare a model's coefficients and contributions with glmnet's on its design.

    glmnet is fitted twice on the model's design and penalty: with the model's own
    convention (``standardize``; the ridge engine's is ``False``, Robyn's ``True``)
    and, to show what the other convention would change, with the opposite one.

    Parameters
    ----------
    result : FitResult
    tolerance : float
        Largest relative difference still called a match.
    lam : float, optional
        Penalty in the ridge engine's convention; default the one the fit recorded
        (``result.engine_info.penalty``).
    standardize : bool
        The convention the model was fitted with.

    Returns
    -------
    dict
        ``coefficients``: per column the model's value, glmnet's with the same
        convention and with the other (scaled KPI units); ``contributions``: per
        channel the model's and glmnet's total contribution (KPI units) and their
        difference relative to the total media contribution; ``max_rel_diff_coef``
        (relative to the largest coefficient), ``max_rel_diff_contribution``,
        ``max_rel_diff_coef_other_convention``, ``within_tolerance``.
    """
    design = model_design(result, lam)
    own = result_coefficients(result, design)
    same = glmnet_ridge(design, standardize=standardize)
    other = glmnet_ridge(design, standardize=not standardize)
    names = ("(intercept)", *design.names)
    scale = max(float(np.max(np.abs(own))), 1e-12)
    coefficients = {
        name: {"model": float(a), "glmnet": float(b), "glmnet_other_convention": float(c)}
        for name, a, b, c in zip(names, own, same, other, strict=True)
    }
    contrib_model = result.contributions()
    contrib_glmnet = with_coefficients(result, design, same, ENGINE, {}).contributions()
    total = max(float(np.sum(np.abs(contrib_model))), 1e-12)
    contributions = {
        name: {
            "model": float(contrib_model[c]),
            "glmnet": float(contrib_glmnet[c]),
            "rel_diff": float((contrib_glmnet[c] - contrib_model[c]) / total),
        }
        for c, name in enumerate(result.channel_names)
    }
    max_coef = float(np.max(np.abs(same - own)) / scale)
    max_contrib = float(np.max(np.abs(contrib_glmnet - contrib_model)) / total)
    return {
        "engine": result.engine,
        "standardize": standardize,
        "lambda": design.lam,
        "lambda_glmnet": design.lam * float(np.std(design.y)),
        "tolerance": tolerance,
        "coefficients": coefficients,
        "contributions": contributions,
        "max_rel_diff_coef": max_coef,
        "max_rel_diff_contribution": max_contrib,
        "max_rel_diff_coef_other_convention": float(np.max(np.abs(other - own)) / scale),
        "within_tolerance": bool(max(max_coef, max_contrib) <= tolerance),
    }
