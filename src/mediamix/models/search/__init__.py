r"""Hyperparameter search of the ridge MMM: batched candidates, Pareto front, selection.

The search draws candidates of transforms and penalty (:mod:`.space`), scores whole
batches of them at once (:mod:`.problem` for the media features, :mod:`.linear`
for the non-negative ridge solves, :mod:`.evaluation` for the objectives),
proposes the next batch with an optimizer (:mod:`.optimizers`), and keeps every
candidate for the Pareto front, its clusters and the pick of one recommended model
(:mod:`.selection`); :func:`run_search` (:mod:`.runner`) ties them together.

The model, on the scaled KPI :math:`y_t = \mathrm{kpi}_t / \overline{\mathrm{kpi}}`:

.. math::

    y_t = b_0 + \sum_k b_k z_{tk} + \sum_c \beta_c h_{tc}
          + \sum_{(a, b) \in S} \gamma_{ab}\, h_{ta} h_{tb} + e_t,
    \qquad h_{tc} = \mathrm{hill}(\mathrm{adstock}_c(x_{\cdot c})_t;\ K_c, s_c)

with standardized baseline features :math:`z`, the ridge penalty
:math:`\lambda T \lVert (b_{1:}, \beta, \gamma) \rVert^2` (the intercept is not
penalized) and :math:`\beta, \gamma \ge 0`.

Design choices that rest on measurements (the default optimizer, the default
selection rule and its tolerance, the candidate budget) are measured with
``benchmarks/ridge_bench.py``; the figures are in ``benchmarks/results/ridge.md``.
"""

from mediamix.models.search.evaluation import Scores, evaluate, rssd_with_penalty, split_synergy
from mediamix.models.search.linear import gram, nonneg_ridge, penalty_weights, solve_projected
from mediamix.models.search.optimizers import (
    OPTIMIZERS,
    OptimizerContext,
    SearchOptimizer,
    jade,
    latin_hypercube,
    population_weights,
)
from mediamix.models.search.problem import LiftTarget, SearchProblem, media_features
from mediamix.models.search.runner import Progress, SearchOptions, SearchResult, run_search
from mediamix.models.search.selection import (
    NEAR_BEST_TOLERANCE,
    SELECTION_RULES,
    cluster_front,
    fit_loss,
    pareto_front,
    plausible_models,
    select,
)
from mediamix.models.search.space import (
    ADSTOCK_FAMILIES,
    GENES_PER_CHANNEL,
    WEIBULL_L_MAX,
    Candidates,
    ChannelSpace,
    SearchSpace,
    search_space,
)

__all__ = [
    "ADSTOCK_FAMILIES",
    "GENES_PER_CHANNEL",
    "NEAR_BEST_TOLERANCE",
    "OPTIMIZERS",
    "SELECTION_RULES",
    "WEIBULL_L_MAX",
    "Candidates",
    "ChannelSpace",
    "LiftTarget",
    "OptimizerContext",
    "Progress",
    "Scores",
    "SearchOptimizer",
    "SearchOptions",
    "SearchProblem",
    "SearchResult",
    "SearchSpace",
    "cluster_front",
    "evaluate",
    "fit_loss",
    "gram",
    "jade",
    "latin_hypercube",
    "media_features",
    "nonneg_ridge",
    "pareto_front",
    "penalty_weights",
    "plausible_models",
    "population_weights",
    "rssd_with_penalty",
    "run_search",
    "search_space",
    "select",
    "solve_projected",
    "split_synergy",
]
