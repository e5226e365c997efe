r"""Optimizers of the search: how the next batch of candidates is proposed.

An optimizer is a function of an :class:`OptimizerContext`. It proposes points of the
unit hypercube in batches and hands each batch to ``context.run``, which evaluates
it and records every candidate (so the Pareto front sees all of them); it returns
nothing. Two are built in:

- ``"de"`` (default, :func:`jade`): a vectorized differential evolution
  (``current-to-pbest/1/bin`` with an external archive and JADE's parameter
  adaptation; Zhang and Sanderson 2009), one generation per batch. Member ``i``
  scalarizes the objectives with its own weight, :math:`\mathrm{fit} +
  w_i\,\mathrm{decomp\_rssd} (+ \mathrm{mape\_lift})`, with :math:`w_i = 0` for half
  of the population and up to ``rssd_weight`` for the rest, so the population also
  spreads along the front (a weighted decomposition in the spirit of MOEA/D).
- ``"random"`` (:func:`latin_hypercube`): Latin hypercube sampling.

The well-kept optimizers of the field (scipy's differential evolution, pymoo's
NSGA-II, nevergrad's ``TwoPointsDE``) were measured against JADE and recovered
contributions worse or ran slower; they live in ``benchmarks/search_optimizers.py``
and plug in as functions of the same context (``benchmarks/results/ridge.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from mediamix.models.search.evaluation import Scores

__all__ = [
    "OPTIMIZERS",
    "OptimizerContext",
    "SearchOptimizer",
    "jade",
    "latin_hypercube",
    "population_weights",
]


@dataclass(frozen=True)
class OptimizerContext:
    """What an optimizer is given: the evaluator, the losses and the budget.

    Attributes
    ----------
    run : callable(u) -> Scores
        Evaluates points ``u`` (B, D) of the unit hypercube and records them.
    loss : callable(scores, weights) -> ndarray
        The scalarized loss per candidate: the guiding fit plus ``weights`` (B,)
        times DECOMP.RSSD (plus the lift weight times MAPE.LIFT with lift tests),
        ``inf`` where not finite.
    fit_of : callable(scores) -> ndarray
        The guiding fit alone (``nrmse_train``, ``nrmse_val`` or their mean).
    weights : ndarray (population,)
        Each population member's DECOMP.RSSD weight (:func:`population_weights`).
    n_dims : int
        Dimension ``D`` of the unit hypercube.
    n_generations : int
        Batches to evaluate.
    population : int
        Candidates per batch.
    rng : numpy.random.Generator
        The search's generator (seeded by its seed).
    seed : int
        The search's seed, for optimizers that take an integer.
    with_lift : bool
        Whether MAPE.LIFT is an objective.
    """

    run: Callable[[np.ndarray], Scores]
    loss: Callable[[Scores, np.ndarray], np.ndarray]
    fit_of: Callable[[Scores], np.ndarray]
    weights: np.ndarray
    n_dims: int
    n_generations: int
    population: int
    rng: np.random.Generator
    seed: int
    with_lift: bool


SearchOptimizer = Callable[[OptimizerContext], None]


def population_weights(n: int, w_max: float) -> np.ndarray:
    """DECOMP.RSSD weight of each of ``n`` members: 0 for the first half, then rising to ``w_max``.

    Half the population optimizes the fit alone; the rest leans towards low RSSD.

    Examples
    --------
    >>> population_weights(4, 0.3).round(4).tolist()
    [0.0, 0.0, 0.1333, 0.3]
    """
    w = np.linspace(0.0, 1.0, n) ** 2 * w_max
    w[: n // 2] = 0.0
    return w


def latin_hypercube(ctx: OptimizerContext) -> None:
    """Latin hypercube sampling: ``n_generations`` independent batches."""
    sampler = qmc.LatinHypercube(d=ctx.n_dims, seed=ctx.rng)
    for _ in range(ctx.n_generations):
        ctx.run(sampler.random(ctx.population))


def _adapted_rates(
    rng: np.random.Generator, mu_f: float, mu_cr: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """JADE's per-member crossover rates ``CR ~ N(mu_CR, 0.1)`` and scale factors ``F``.

    ``F ~ Cauchy(mu_F, 0.1)``, redrawn where not positive, capped at 1.
    """
    cr = np.clip(rng.normal(mu_cr, 0.1, n), 0.0, 1.0)
    f = mu_f + 0.1 * rng.standard_cauchy(n)
    while np.any(f <= 0):
        bad = f <= 0
        f[bad] = mu_f + 0.1 * rng.standard_cauchy(int(bad.sum()))
    return np.minimum(f, 1.0), cr


def _pbest(
    ctx: OptimizerContext, pop_scores: Scores, levels: np.ndarray, level_of: np.ndarray
) -> np.ndarray:
    """For each member, one of the best ``p`` share of the population under its own weight."""
    NP = ctx.population
    n_best = max(2, round(0.1 * NP))
    best_for = np.empty(NP, int)
    for lv, wv in enumerate(levels):
        rows = np.flatnonzero(level_of == lv)
        ranked = np.argsort(ctx.loss(pop_scores, np.full(NP, wv)), kind="stable")
        best_for[rows] = ctx.rng.choice(ranked[:n_best], rows.size)
    return best_for


def _keep_better(better: np.ndarray, trial: Scores, parent: Scores) -> Scores:
    """Scores of the survivors: the trial's where it won, the parent's elsewhere."""
    return Scores(
        **{
            k: np.where(
                better.reshape((-1,) + (1,) * (getattr(trial, k).ndim - 1)),
                getattr(trial, k),
                getattr(parent, k),
            )
            for k in Scores.__dataclass_fields__
        }
    )


def jade(ctx: OptimizerContext) -> None:
    """JADE: current-to-pbest/1/bin with archive and adaptive F, CR (Zhang and Sanderson 2009).

    Trial ``v_i = x_i + F_i (x_pbest - x_i) + F_i (x_r1 - x_r2)``, ``x_r2`` drawn from
    the population and the archive of replaced parents; binomial crossover with
    rate ``CR_i``; out-of-bounds genes are set midway between the parent and the
    bound. ``F_i ~ Cauchy(mu_F, 0.1)``, ``CR_i ~ N(mu_CR, 0.1)``, and the means move
    towards the successful values (Lehmer mean for F) at rate ``c = 0.1``. Member
    ``i`` is judged by its own weight ``w_i``, and so is its pbest: one of the best
    ``p = 10%`` of the population under ``w_i``.
    """
    rng, D, NP, w = ctx.rng, ctx.n_dims, ctx.population, ctx.weights
    pop = qmc.LatinHypercube(d=D, seed=rng).random(NP)
    pop_scores = ctx.run(pop)
    fit = ctx.loss(pop_scores, w)
    archive = np.empty((0, D))
    mu_f, mu_cr, c = 0.5, 0.5, 0.1
    levels, level_of = np.unique(w, return_inverse=True)
    for _ in range(ctx.n_generations - 1):
        f, cr = _adapted_rates(rng, mu_f, mu_cr, NP)
        best_for = _pbest(ctx, pop_scores, levels, level_of)
        r1 = rng.integers(0, NP, NP)
        union = np.vstack([pop, archive]) if archive.size else pop
        r2 = rng.integers(0, len(union), NP)
        v = pop + f[:, None] * (pop[best_for] - pop) + f[:, None] * (pop[r1] - union[r2])
        v = np.where(v < 0, pop / 2, v)
        v = np.where(v > 1, (pop + 1) / 2, v)
        cross = rng.random((NP, D)) < cr[:, None]
        cross[np.arange(NP), rng.integers(0, D, NP)] = True
        trial = np.where(cross, v, pop)
        trial_scores = ctx.run(trial)
        tfit = ctx.loss(trial_scores, w)
        better = tfit <= fit
        if np.any(better):
            archive = np.vstack([archive, pop[better]])
            if len(archive) > NP:
                archive = archive[rng.choice(len(archive), NP, replace=False)]
            s_f, s_cr = f[better], cr[better]
            mu_cr = (1 - c) * mu_cr + c * float(np.mean(s_cr))
            mu_f = (1 - c) * mu_f + c * float(np.sum(s_f**2) / np.sum(s_f))
        pop = np.where(better[:, None], trial, pop)
        fit = np.where(better, tfit, fit)
        pop_scores = _keep_better(better, trial_scores, pop_scores)


#: The optimizers the search knows by name.
OPTIMIZERS: dict[str, SearchOptimizer] = {"de": jade, "random": latin_hypercube}
