"""Search optimizers that were measured against the default (JADE) and not kept in src.

Each is a function of a :class:`mediamix.models.search.OptimizerContext` and plugs
into the ridge search as ``SearchOptions(optimizer=...)`` or
``RidgeOptions(optimizer=...)``; ``benchmarks/ridge_bench.py --optimizer NAME``
runs them by name. Why none of them is the default (recovery and speed against
JADE) is in ``benchmarks/results/ridge.md``.

They need packages that the library does not install::

    .venv/bin/python -m pip install "nevergrad>=1.0" "pymoo>=0.6.1"

(scipy's differential evolution needs nothing more.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import qmc

from mediamix.models.search import OPTIMIZERS, OptimizerContext, SearchOptimizer


def scipy_de(ctx: OptimizerContext) -> None:
    """:func:`scipy.optimize.differential_evolution`, vectorized, one batch per generation.

    ``vectorized=True`` with ``updating="deferred"`` hands the objective the whole
    trial population, shape (D, NP), in member order, so member ``i`` is scalarized
    with its own weight ``w[i]`` (trial ``i`` competes with member ``i`` only). The
    initial population is a Latin hypercube of ``NP`` points; ``tol = atol = 0`` so
    the run spends the whole budget; no polishing (L-BFGS-B would evaluate one
    candidate at a time). Strategy ``rand1bin``: ``currenttobest1bin`` was less
    stable in the measurements.
    """
    from scipy.optimize import differential_evolution

    init = qmc.LatinHypercube(d=ctx.n_dims, seed=ctx.rng).random(ctx.population)

    def objective(x: np.ndarray) -> np.ndarray:
        u = np.atleast_2d(np.asarray(x, float).T)
        values = ctx.loss(ctx.run(u), ctx.weights[: len(u)])
        # scipy compares energies and takes their spread; keep them finite.
        return np.where(np.isfinite(values), values, 1e9)

    differential_evolution(
        objective,
        [(0.0, 1.0)] * ctx.n_dims,
        strategy="rand1bin",
        maxiter=max(0, ctx.n_generations - 1),
        init=init,
        tol=0.0,
        atol=0.0,
        mutation=(0.5, 1.0),
        recombination=0.7,
        polish=False,
        vectorized=True,
        updating="deferred",
        rng=ctx.rng,
    )


def pymoo_nsga2(ctx: OptimizerContext) -> None:
    """pymoo's NSGA-II on the objectives themselves, one batch per generation.

    Objectives: the guiding fit, DECOMP.RSSD and, with lift tests, MAPE.LIFT.
    Population ``NP`` from a Latin hypercube, ``NP`` offspring per generation (SBX
    crossover, polynomial mutation, rank-and-crowding survival).
    """
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem
    from pymoo.optimize import minimize

    def finite(v: np.ndarray) -> np.ndarray:
        return np.where(np.isfinite(v), v, 1e9)

    class _Objectives(Problem):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(n_var=ctx.n_dims, n_obj=2 + int(ctx.with_lift), xl=0.0, xu=1.0)

        def _evaluate(self, x: np.ndarray, out: dict[str, Any], *args: Any, **kwargs: Any) -> None:
            s = ctx.run(np.asarray(x, float))
            cols = [finite(ctx.fit_of(s)), finite(s.decomp_rssd)]
            if ctx.with_lift:
                cols.append(finite(s.mape_lift))
            out["F"] = np.column_stack(cols)

    init = qmc.LatinHypercube(d=ctx.n_dims, seed=ctx.seed).random(ctx.population)
    algorithm = NSGA2(pop_size=ctx.population, sampling=init, eliminate_duplicates=False)
    minimize(_Objectives(), algorithm, ("n_gen", ctx.n_generations), seed=ctx.seed, verbose=False)


def nevergrad_de(ctx: OptimizerContext) -> None:
    """nevergrad ``TwoPointsDE`` by ask/tell, one batch per generation.

    Candidate ``j`` of each batch is scalarized with weight ``w[j]``. Its
    per-candidate ask/tell overhead exceeds the cost of evaluating the candidate.
    """
    import nevergrad as ng

    param = ng.p.Array(shape=(ctx.n_dims,), lower=0.0, upper=1.0)
    param.random_state = np.random.RandomState(ctx.seed)
    opt = ng.optimizers.TwoPointsDE(
        parametrization=param, budget=ctx.n_generations * ctx.population, num_workers=ctx.population
    )
    for _ in range(ctx.n_generations):
        asked = [opt.ask() for _ in range(ctx.population)]
        u = np.stack([np.asarray(a.value, float) for a in asked])
        values = ctx.loss(ctx.run(u), ctx.weights)
        for a, value in zip(asked, values, strict=True):
            opt.tell(a, float(value) if np.isfinite(value) else 1e9)


#: Every optimizer by name: the library's and these.
ALL: dict[str, SearchOptimizer] = {
    **OPTIMIZERS,
    "scipy": scipy_de,
    "pymoo": pymoo_nsga2,
    "nevergrad": nevergrad_de,
}


def by_name(name: str) -> SearchOptimizer | str:
    """The library's name where it knows the optimizer (recorded as is), else the function."""
    return name if name in OPTIMIZERS else ALL[name]
