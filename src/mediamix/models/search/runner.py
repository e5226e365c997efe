"""Run the search: evaluate candidates in batches, keep the front, pick a model."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from mediamix.errors import InputError
from mediamix.models.search.evaluation import Scores, evaluate
from mediamix.models.search.optimizers import (
    OPTIMIZERS,
    OptimizerContext,
    SearchOptimizer,
    population_weights,
)
from mediamix.models.search.problem import SearchProblem
from mediamix.models.search.selection import (
    SELECTION_RULES,
    cluster_front,
    pareto_front,
    select,
)
from mediamix.models.search.space import Candidates, SearchSpace

__all__ = ["Progress", "SearchOptions", "SearchResult", "run_search"]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
Guide = Literal["train", "val", "sum"]


@dataclass(frozen=True)
class SearchOptions:
    """How many candidates to evaluate, how to propose them and how to pick one.

    Attributes
    ----------
    candidates : int
        Total evaluations (rounded up to whole batches).
    batch : int
        Candidates per vectorized evaluation (the DE population size; at least 4).
    seed : int
        Seeds the initial design, the optimizer and the clustering.
    optimizer : str or callable
        A name of :data:`~mediamix.models.search.optimizers.OPTIMIZERS` (``"de"``,
        ``"random"``) or a function of an
        :class:`~mediamix.models.search.optimizers.OptimizerContext`.
    rule : str
        One of :data:`~mediamix.models.search.selection.SELECTION_RULES`.
    rssd_weight : float
        Largest weight of DECOMP.RSSD in the scalarized losses that guide the
        optimizer (not in the front or the pick).
    lift_weight : float
        Weight of MAPE.LIFT in those losses and in the selection's fit loss.
    clusters : int
        k of the k-means on the front.
    guide : {"train", "val", "sum"}
        The fit the optimizer minimizes: ``nrmse_train``, ``nrmse_val`` or their mean.

    Examples
    --------
    >>> SearchOptions(candidates=400, batch=100).optimizer
    'de'
    """

    candidates: int = 4000
    batch: int = 200
    seed: int = 0
    optimizer: str | SearchOptimizer = "de"
    rule: str = "medoid_near_best"
    rssd_weight: float = 0.3
    lift_weight: float = 1.0
    clusters: int = 5
    guide: Guide = "train"


@dataclass(frozen=True)
class SearchResult:
    """Every evaluated candidate, the Pareto front, its clusters and the pick.

    Attributes
    ----------
    u : ndarray (N, D)
        Points in the unit cube, in evaluation order.
    candidates : Candidates
        Decoded ``u``.
    scores : Scores
    front : ndarray (N,) bool
    clusters : ndarray (N,) int
        Cluster label on the front, -1 elsewhere.
    chosen : int
    reason : str
    rule : str
    seconds : float
    """

    u: np.ndarray
    candidates: Candidates
    scores: Scores
    front: np.ndarray
    clusters: np.ndarray
    chosen: int
    reason: str
    rule: str
    seconds: float
    with_lift: bool

    @property
    def rate(self) -> float:
        """Candidates evaluated per second."""
        return len(self.u) / self.seconds if self.seconds > 0 else float("inf")


def _optimizer(options: SearchOptions) -> SearchOptimizer:
    if callable(options.optimizer):
        return options.optimizer
    if options.optimizer not in OPTIMIZERS:
        raise InputError.single(
            f"unknown optimizer '{options.optimizer}'; choose one of {', '.join(OPTIMIZERS)} "
            "(benchmarks/search_optimizers.py holds the others that were measured)",
            column="optimizer",
        )
    return OPTIMIZERS[options.optimizer]


class _Recorder:
    """Evaluates batches, keeps every one, and reports progress."""

    def __init__(
        self, problem: SearchProblem, space: SearchSpace, total: int, progress: Progress | None
    ) -> None:
        self.problem, self.space, self.total, self.progress = problem, space, total, progress
        self.us: list[np.ndarray] = []
        self.parts: list[Scores] = []
        self.start = time.perf_counter()

    def __call__(self, u: np.ndarray) -> Scores:
        s = evaluate(self.problem, self.space.decode(u))
        self.us.append(u)
        self.parts.append(s)
        if self.progress is not None:
            done = sum(len(x) for x in self.us)
            elapsed = time.perf_counter() - self.start
            rate = done / elapsed if elapsed > 0 else float("inf")
            self.progress(
                0.9 * done / self.total, f"search: {done} candidates, {rate:.0f} candidates/s"
            )
        return s


def _context(
    problem: SearchProblem, options: SearchOptions, run: _Recorder, n_dims: int, n_gen: int
) -> OptimizerContext:
    """The losses and budget an optimizer works with (see :class:`OptimizerContext`)."""
    batch = max(4, int(options.batch))
    with_lift = bool(problem.lift)
    lift_w = options.lift_weight if with_lift else 0.0
    guide = options.guide

    def fit_of(s: Scores) -> np.ndarray:
        return {
            "train": s.nrmse_train,
            "val": s.nrmse_val,
            "sum": 0.5 * (s.nrmse_train + s.nrmse_val),
        }[guide]

    def loss(s: Scores, weights: np.ndarray) -> np.ndarray:
        extra = lift_w * np.nan_to_num(s.mape_lift, nan=0.0) if with_lift else 0.0
        out = fit_of(s) + weights * s.decomp_rssd + extra
        return np.where(np.isfinite(out), out, np.inf)

    return OptimizerContext(
        run=run,
        loss=loss,
        fit_of=fit_of,
        weights=population_weights(batch, options.rssd_weight),
        n_dims=n_dims,
        n_generations=n_gen,
        population=batch,
        rng=np.random.default_rng(options.seed),
        seed=options.seed,
        with_lift=with_lift,
    )


def run_search(
    problem: SearchProblem,
    space: SearchSpace,
    options: SearchOptions | None = None,
    progress: Progress | None = None,
) -> SearchResult:
    """Evaluate ``options.candidates`` points in batches and pick a model.

    Every evaluated candidate is kept; the Pareto front over (``nrmse_train``,
    ``nrmse_val``, ``decomp_rssd`` [, ``mape_lift``]) is computed exactly and
    clustered (k-means on the standardized ROI vectors of the front), and
    ``options.rule`` picks the recommended model, which need not lie on the front.

    Parameters
    ----------
    problem : SearchProblem
    space : SearchSpace
    options : SearchOptions, optional
    progress : callable(fraction, message), optional
        Called after every batch with the candidates per second.

    Returns
    -------
    SearchResult
    """
    options = options or SearchOptions()
    if options.rule not in SELECTION_RULES:
        raise InputError.single(
            f"unknown selection rule '{options.rule}'; choose one of {', '.join(SELECTION_RULES)}",
            column="selection",
        )
    optimizer = _optimizer(options)
    batch = max(4, int(options.batch))
    n_gen = max(1, int(np.ceil(options.candidates / batch)))
    with_lift = bool(problem.lift)
    run = _Recorder(problem, space, n_gen * batch, progress)
    optimizer(_context(problem, options, run, space.n_dims, n_gen))

    u_all = np.concatenate(run.us)
    scores = Scores.concat(run.parts)
    seconds = time.perf_counter() - run.start
    front = pareto_front(scores.objectives(with_lift))
    chosen, why = select(scores, front, options.rule, with_lift, lift_weight=options.lift_weight)
    labels = np.full(len(u_all), -1)
    idx = np.flatnonzero(front)
    roi = scores.effects[idx] / np.maximum(problem.spend.sum(axis=0), 1e-300)
    labels[idx] = cluster_front(roi, options.clusters, options.seed)
    log.info(
        "search: %d candidates in %.2f s (%.0f/s), front %d, chosen %d (%s)",
        len(u_all),
        seconds,
        len(u_all) / max(seconds, 1e-9),
        int(front.sum()),
        chosen,
        why,
    )
    return SearchResult(
        u=u_all,
        candidates=space.decode(u_all),
        scores=scores,
        front=front,
        clusters=labels,
        chosen=chosen,
        reason=why,
        rule=options.rule,
        seconds=seconds,
        with_lift=with_lift,
    )
