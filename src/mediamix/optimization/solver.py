"""Budget optimization: the plan that best meets an objective, for a budget or a target.

:func:`optimize_budget` resolves the constraints, chooses the total budget where the
objective asks for one (``roi`` and the targets: :mod:`mediamix.optimization.targets`),
allocates it (:func:`mediamix.optimization.allocate.allocate`, global then local
stage) and describes the result as a :class:`~mediamix.optimization.plan.Plan`.
"""

from __future__ import annotations

import logging

from mediamix.errors import InputError
from mediamix.optimization.allocate import SolverOptions, allocate
from mediamix.optimization.constraints import (
    Constraints,
    SpendLimits,
    SpendReference,
    resolve_constraints,
)
from mediamix.optimization.plan import (
    ChannelAllocation,
    Objective,
    Plan,
    PlanContext,
    Status,
    evaluate_allocation,
)
from mediamix.optimization.response import ResponseModel
from mediamix.optimization.targets import choose_budget

__all__ = [
    "ChannelAllocation",
    "Objective",
    "Plan",
    "PlanContext",
    "SolverOptions",
    "SpendReference",
    "Status",
    "allocate",
    "evaluate_allocation",
    "optimize_budget",
]

logger = logging.getLogger(__name__)


def optimize_budget(
    model: ResponseModel,
    budget: float,
    constraints: Constraints | SpendLimits | None = None,
    objective: Objective | str = Objective.REVENUE,
    *,
    target: float | None = None,
    reference: SpendReference | None = None,
    solver: SolverOptions | None = None,
) -> Plan:
    """Find the allocation of ``budget`` that best meets ``objective``.

    Parameters
    ----------
    model : ResponseModel
        Expected response to total spend per channel (posterior mean for Bayesian
        models; the plan then carries the 90% interval of its response).
    budget : float
        ``B``, currency, total over the plan. For the target and ``roi``
        objectives, the largest budget considered.
    constraints : Constraints or SpendLimits, optional
        Parsed constraints YAML, or limits already resolved.
    objective : Objective or str
        See :class:`Objective`.
    target : float, optional
        Target ROI, marginal ROI or response, as the objective needs.
    reference : SpendReference, optional
        Current spend and ``(min, max)`` per channel (e.g. from ``CURVES.json``), which
        the constraints are resolved against.
    solver : SolverOptions, optional
        Grid steps, starts and seed of the allocator (defaults: ``SolverOptions()``).

    Returns
    -------
    Plan

    Raises
    ------
    InputError
        Constraints that cannot hold (naming them), a missing or unreachable target.

    Examples
    --------
    >>> from mediamix.optimization.response import curves_from_dict
    >>> s_curve = {"type": "hill", "half_saturation": 50.0, "slope": 3.0}
    >>> m = curves_from_dict({"channels": {"a": {"beta": 100.0, "saturation": s_curve},
    ...                                    "b": {"beta": 100.0, "saturation": s_curve}}})
    >>> plan = optimize_budget(m, 60.0)
    >>> sorted(round(c.spend, 3) for c in plan.channels.values())  # all-in beats a split
    [0.0, 60.0]
    >>> round(plan.total_response, 3)
    63.343
    """
    objective = Objective(objective)
    needs_target = {Objective.TARGET_ROI, Objective.TARGET_MROI, Objective.TARGET_REVENUE}
    if objective in needs_target and target is None:
        raise InputError.single(f"objective '{objective}' needs --target", column="--target")
    reference = reference or SpendReference()
    solver = solver or SolverOptions()
    if isinstance(constraints, SpendLimits):
        limits = constraints.with_budget(budget)
    else:
        limits = resolve_constraints(
            constraints,
            model.channels,
            budget,
            current_spend=reference.current_spend,
            bounds=reference.bounds,
        )
    chosen = budget
    if objective not in (Objective.REVENUE, Objective.REACH):
        chosen = choose_budget(model, limits, objective, target, solver.grid_steps)
        limits = limits.with_budget(chosen, "equal")
    x, status, method = allocate(
        model, limits, grid_steps=solver.grid_steps, n_starts=solver.n_starts, seed=solver.seed
    )
    logger.info("optimized %d channels for budget %g: %s (%s)", len(x), chosen, status, method)
    return evaluate_allocation(
        model,
        x,
        PlanContext(
            objective=objective.value,
            status=status,
            budget=chosen,
            max_budget=budget,
            target=target,
            method=method,
        ),
    )
