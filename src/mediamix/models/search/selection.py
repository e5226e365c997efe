r"""The Pareto front of the search, its clusters, and the pick of one model.

Contributions are weakly identified: near-equal fits disagree on them, because the
level of an always-on channel trades off against the intercept and seasonal spend
against the Fourier terms. So the default rule, ``medoid_near_best``, picks for
recovery of known contributions on synthetic data rather than by one objective; the
measured recovery of every rule, and how its tolerance was chosen, are in
``benchmarks/results/ridge.md``.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import chi2

from mediamix.errors import InputError
from mediamix.models.search.evaluation import Scores

__all__ = [
    "NEAR_BEST_TOLERANCE",
    "SELECTION_RULES",
    "cluster_front",
    "fit_loss",
    "pareto_front",
    "plausible_models",
    "select",
]

#: Rules that pick the recommended model among the Pareto front.
SELECTION_RULES = ("medoid_near_best", "min_nrmse_val", "min_nrmse_train", "min_distance")
#: Relative tolerance of the near-best set of ``medoid_near_best``.
NEAR_BEST_TOLERANCE = 0.15


def pareto_front(objectives: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``objectives`` (N, m), all minimized.

    Row ``i`` is dominated when some row ``j`` is <= in every objective and < in one;
    identical rows are all kept. Rows with a NaN are never on the front. Rows are
    visited by increasing sum of objectives (a row can only be dominated by one with
    a smaller sum), each compared with the front found so far.

    Examples
    --------
    >>> pareto_front(np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 3.0], [1.0, 3.0]])).tolist()
    [True, True, False, True]
    """
    obj = np.asarray(objectives, float)
    ok = np.all(np.isfinite(obj), axis=1)
    front = np.zeros(obj.shape[0], bool)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return front
    order = idx[np.lexsort((*obj[idx].T[::-1], obj[idx].sum(axis=1)))]
    kept = np.empty((0, obj.shape[1]))
    for i in order:
        row = obj[i]
        if kept.shape[0] and np.any(np.all(kept <= row, axis=1) & np.any(kept < row, axis=1)):
            continue
        kept = np.vstack([kept, row])
        front[i] = True
    return front


def cluster_front(roi: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k-means labels (N,) of ROI vectors (N, C), each channel standardized first.

    Uses :func:`scipy.cluster.vq.kmeans2` with ``k-means++`` starts seeded by ``seed``;
    fewer than ``k`` distinct rows give one cluster per distinct row.
    """
    from scipy.cluster.vq import kmeans2

    n = roi.shape[0]
    if n == 0:
        return np.zeros(0, int)
    sd = roi.std(axis=0)
    z = (roi - roi.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    k = int(min(k, len(np.unique(z.round(9), axis=0))))
    if k <= 1:
        return np.zeros(n, int)
    _, labels = kmeans2(z, k, seed=np.random.default_rng(seed), minit="++")
    return np.asarray(labels, int)


def fit_loss(scores: Scores, with_lift: bool, lift_weight: float) -> np.ndarray:
    """The in-sample fit loss the selection rules compare: ``nrmse_train`` (plus
    ``lift_weight * mape_lift`` with lift tests), ``inf`` where not finite."""
    loss = scores.nrmse_train + (
        lift_weight * np.nan_to_num(scores.mape_lift, nan=0.0) if with_lift else 0.0
    )
    return np.where(np.isfinite(loss), loss, np.inf)


def select(
    scores: Scores,
    front: np.ndarray,
    rule: str,
    with_lift: bool,
    tolerance: float = NEAR_BEST_TOLERANCE,
    lift_weight: float = 1.0,
) -> tuple[int, str]:
    """Index of the recommended model and the reason in words.

    Rules
    -----
    ``medoid_near_best`` (default)
        The near-best set holds every candidate whose fit loss ``nrmse_train``
        (``+ lift_weight * mape_lift`` with lift tests) is within ``tolerance``
        (relative) of the best; the pick is its medoid: the member whose
        contribution vector is closest (L1) to the set's per-channel median.
        Contributions are weakly identified (the level of an always-on channel
        trades off against the intercept; seasonal spend against the Fourier
        terms), so near-equal fits disagree; the medoid is the most typical of
        them. The measured recovery of each rule is in ``benchmarks/results/ridge.md``.
    ``min_nrmse_val``
        Lowest validation NRMSE on the Pareto front (out-of-time fit).
    ``min_nrmse_train``
        Lowest in-sample NRMSE.
    ``min_distance``
        Robyn's pick: smallest Euclidean distance to the origin of the Pareto
        objectives, each min-max scaled over the front.
    """
    idx = np.flatnonzero(front)
    if idx.size == 0:
        raise ValueError("empty Pareto front")
    if rule == "medoid_near_best":
        loss = fit_loss(scores, with_lift, lift_weight)
        near = np.flatnonzero(loss <= loss.min() * (1.0 + tolerance))
        med = np.median(scores.effects[near], axis=0)
        best = int(near[int(np.argmin(np.abs(scores.effects[near] - med).sum(axis=1)))])
        what = "nrmse_train + mape_lift" if with_lift else "nrmse_train"
        return best, (
            f"medoid (contributions closest to the per-channel median) of the "
            f"{near.size} candidates with {what} within {tolerance:.0%} of the best"
        )
    if rule == "min_nrmse_val":
        key = scores.nrmse_val[idx]
        why = "lowest validation NRMSE on the Pareto front"
    elif rule == "min_nrmse_train":
        idx = np.arange(len(scores.nrmse_train))
        key = np.where(np.isfinite(scores.nrmse_train), scores.nrmse_train, np.inf)
        why = "lowest in-sample NRMSE"
    elif rule == "min_distance":
        objs = scores.objectives(with_lift)[idx]
        lo, hi = objs.min(axis=0), objs.max(axis=0)
        Z = (objs - lo) / np.where(hi > lo, hi - lo, 1.0)
        key = np.sqrt(np.sum(Z**2, axis=1))
        why = "closest to the origin of the min-max scaled Pareto objectives (Robyn's rule)"
    else:
        raise InputError.single(
            f"unknown selection rule '{rule}'; choose one of {', '.join(SELECTION_RULES)}",
            column="selection",
        )
    # Ties (e.g. identical candidates) go to the first evaluated, for reproducibility.
    return int(idx[int(np.argmin(key))]), why


def plausible_models(
    scores: Scores,
    n_periods: int,
    n_params: int,
    level: float = 0.9,
    with_lift: bool = False,
    lift_weight: float = 1.0,
) -> tuple[np.ndarray, float]:
    r"""Candidates whose in-sample fit the data cannot tell from the best one's.

    A likelihood-ratio set: with Gaussian errors over :math:`T` = ``n_periods``
    and :math:`p` = ``n_params``
    estimated parameters (coefficients and transform parameters), a candidate
    is kept when its residual sum of squares exceeds the best one's by no more
    than :math:`\chi^2_p(\text{level})` error variances, the variance estimated
    from the best fit as :math:`\mathrm{SSE}_{best} / (T - p)`. In NRMSE terms
    (the same span divides both)::

        nrmse_i <= nrmse_best * (1 + tol),   tol = sqrt(1 + chi2_p(level) / (T - p)) - 1

    so the set widens when there are few periods per parameter (104 weeks and 7
    channels, 37 parameters: tol = 0.31; 208 weeks and 4 channels: 0.09). With
    lift tests the loss is ``nrmse_train + lift_weight * mape_lift``, as in
    :func:`select`, with the same relative tolerance.

    Returns
    -------
    index : ndarray (K,) int
        The set, best fit first.
    tol : float
        The relative tolerance used (``inf`` when ``T <= p``: nothing is ruled out).

    Examples
    --------
    >>> z = np.zeros(3)
    >>> s = Scores(z, np.array([0.10, 0.12, 0.105]), z, z, np.zeros((3, 1)), np.zeros((3, 2)))
    >>> idx, tol = plausible_models(s, n_periods=104, n_params=37, level=0.9)
    >>> idx.tolist(), round(tol, 3)
    ([0, 2, 1], 0.312)
    >>> plausible_models(s, n_periods=208, n_params=25, level=0.9)[0].tolist()
    [0, 2]
    """
    T = int(n_periods)
    loss = fit_loss(scores, with_lift, lift_weight)
    if n_params < T:
        tol = float(np.sqrt(1.0 + chi2.ppf(level, n_params) / (T - n_params)) - 1.0)
    else:
        tol = float("inf")
    keep = np.flatnonzero(np.isfinite(loss) & (loss <= loss.min() * (1.0 + tol)))
    return keep[np.argsort(loss[keep], kind="stable")], tol
