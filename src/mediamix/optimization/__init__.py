"""optimization layer: budget allocation on any response model.

Public entry points: :func:`optimize_budget` (single period),
:func:`optimize_multiperiod` (weekly plans with carry-over), :func:`compare_allocations`
and :func:`efficient_frontier` (scenarios), :func:`risk_adjusted_plan` (plans that
are safe under the model's uncertainty), :func:`reach_pareto_front` (revenue, ROI and
reach), and the :class:`ResponseModel` protocol that
models implement to be optimized.
"""

from mediamix.optimization.constraints import (
    Constraints,
    SpendLimits,
    SpendReference,
    constraints_from_dict,
    read_constraints,
    resolve_constraints,
)
from mediamix.optimization.multiperiod import (
    MultiPeriodModel,
    MultiPeriodOptions,
    MultiPeriodPlan,
    evaluate_multiperiod,
    optimize_multiperiod,
)
from mediamix.optimization.reach import (
    FrontSweep,
    ReachCurve,
    ReachResponse,
    fit_reach_curve,
    reach_pareto_front,
)
from mediamix.optimization.response import (
    CurvesResponse,
    DrawsResponse,
    PosteriorResponseModel,
    ResponseModel,
    SeparableResponseModel,
    curves_from_dict,
    read_curves,
)
from mediamix.optimization.risk import RiskAssessment, assess_change, risk_adjusted_plan
from mediamix.optimization.scenarios import compare_allocations, efficient_frontier
from mediamix.optimization.solver import (
    ChannelAllocation,
    Objective,
    Plan,
    PlanContext,
    SolverOptions,
    allocate,
    evaluate_allocation,
    optimize_budget,
)

__all__ = [
    "ChannelAllocation",
    "Constraints",
    "CurvesResponse",
    "DrawsResponse",
    "FrontSweep",
    "MultiPeriodModel",
    "MultiPeriodOptions",
    "MultiPeriodPlan",
    "Objective",
    "Plan",
    "PlanContext",
    "PosteriorResponseModel",
    "ReachCurve",
    "ReachResponse",
    "ResponseModel",
    "RiskAssessment",
    "SeparableResponseModel",
    "SolverOptions",
    "SpendLimits",
    "SpendReference",
    "allocate",
    "assess_change",
    "compare_allocations",
    "constraints_from_dict",
    "curves_from_dict",
    "efficient_frontier",
    "evaluate_allocation",
    "evaluate_multiperiod",
    "fit_reach_curve",
    "optimize_budget",
    "optimize_multiperiod",
    "reach_pareto_front",
    "read_constraints",
    "read_curves",
    "resolve_constraints",
    "risk_adjusted_plan",
]
