"""A budget plan: the allocation, its response and ROI per channel (``plan.json``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from mediamix.errors import InputError
from mediamix.optimization.response import (
    PosteriorResponseModel,
    ResponseModel,
    channel_marginals,
    channel_responses,
    has_draws,
)

if TYPE_CHECKING:  # the risk check builds plans, so it imports this module
    from mediamix.optimization.risk import PlanRisk

__all__ = [
    "ChannelAllocation",
    "Objective",
    "Plan",
    "PlanContext",
    "Status",
    "evaluate_allocation",
]

Status = Literal["optimal", "converged"]
"""``optimal``: global stage exact up to the grid (DP) then polished;
``converged``: best of a multi-start (no proof of global optimality)."""


class Objective(StrEnum):
    """What the optimizer looks for.

    * ``revenue``: maximize the response (revenue or conversions) for the budget.
    * ``reach``: the same, for a response model whose response is reach.
    * ``roi``: the total budget ``b <= B`` (and its allocation) with the largest
      average ROI ``R*(b) / b``, where ``R*(b)`` is the best response at total
      ``b``; with ``target`` the plan must also reach a response of ``target``.
      Budgets under 1% of ``B`` are not considered.
    * ``target_roi``: the largest budget ``b <= B`` whose average ROI
      ``R*(b) / b`` is at least ``target``.
    * ``target_mroi``: the largest budget ``b <= B`` whose marginal ROI
      ``dR*/db`` is at least ``target``.
    * ``target_revenue``: the smallest budget ``b <= B`` with ``R*(b) >= target``.
    """

    REVENUE = "revenue"
    REACH = "reach"
    ROI = "roi"
    TARGET_ROI = "target_roi"
    TARGET_MROI = "target_mroi"
    TARGET_REVENUE = "target_revenue"


@dataclass(frozen=True)
class ChannelAllocation:
    """One channel of a plan.

    ``roi = response / spend`` (None at zero spend); ``marginal_roi`` is
    ``d response / d spend`` at the plan (None where infinite, e.g. a Hill slope
    below 1 at zero spend).
    """

    spend: float
    response: float
    roi: float | None
    marginal_roi: float | None

    def to_dict(self) -> dict[str, float | None]:
        return {
            "spend": self.spend,
            "response": self.response,
            "roi": self.roi,
            "marginal_roi": self.marginal_roi,
        }


@dataclass(frozen=True)
class Plan:
    """A recommended allocation (the ``plan.json`` of docs/formats.md).

    ``budget`` is the plan's total spend (for the target objectives, the budget
    found); ``max_budget`` the budget ``B`` given. ``response_interval`` is the
    90% interval of the plan's total response over posterior draws, when the
    model has draws. ``risk`` (a :class:`~mediamix.optimization.risk.PlanRisk`)
    compares the plan with the current allocation across the draws, and ``notes`` say in plain
    words what the plan recommends and why. ``scenarios`` and ``frontier`` (see
    :mod:`mediamix.optimization.scenarios`) are filled in on request.
    ``optimum_without_band`` is the exact optimum when the plan was held within a
    band around the current mix (:func:`mediamix.optimization.band.optimum_block`).
    """

    objective: str
    budget: float
    status: Status
    total_response: float
    channels: Mapping[str, ChannelAllocation]
    max_budget: float
    target: float | None = None
    response_interval: tuple[float, float] | None = None
    method: str = ""
    risk: PlanRisk | None = None
    notes: tuple[str, ...] = ()
    scenarios: Mapping[str, Any] | None = None
    frontier: Mapping[str, Any] | None = None
    optimum_without_band: Mapping[str, Any] | None = None

    @property
    def spend(self) -> np.ndarray:
        """Spend per channel, in channel order."""
        return np.array([c.spend for c in self.channels.values()])

    @property
    def total_spend(self) -> float:
        """Sum of the channels' spend (equal to ``budget`` unless the total is ``at_most``)."""
        return float(sum(c.spend for c in self.channels.values()))

    @property
    def roi(self) -> float | None:
        """``total_response / total_spend``."""
        spend = self.total_spend
        return self.total_response / spend if spend > 0 else None

    def to_dict(self) -> dict[str, Any]:
        """The ``plan.json`` layout (with extra fields)."""
        return {
            "objective": self.objective,
            "budget": self.budget,
            "status": self.status,
            "total_response": self.total_response,
            "channels": {k: v.to_dict() for k, v in self.channels.items()},
            "total_spend": self.total_spend,
            "max_budget": self.max_budget,
            "target": self.target,
            "roi": self.roi,
            "response_interval": (
                list(self.response_interval) if self.response_interval is not None else None
            ),
            "method": self.method,
            **({"risk": self.risk.to_dict()} if self.risk is not None else {}),
            **({"notes": list(self.notes)} if self.notes else {}),
            **({"scenarios": dict(self.scenarios)} if self.scenarios is not None else {}),
            **({"frontier": dict(self.frontier)} if self.frontier is not None else {}),
            **(
                {"optimum_without_band": dict(self.optimum_without_band)}
                if self.optimum_without_band is not None
                else {}
            ),
        }


def _finite_or_none(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


@dataclass(frozen=True)
class PlanContext:
    """How a plan came about, copied into the :class:`Plan` that describes an allocation.

    What was asked (``objective``, ``budget`` found, ``max_budget`` given, ``target``)
    and how the allocation was found (``status``, ``method``). ``budget=None`` means the
    allocation's total spend; ``max_budget=None`` the plan's budget.
    """

    objective: str = "revenue"
    status: Status = "optimal"
    budget: float | None = None
    max_budget: float | None = None
    target: float | None = None
    method: str = "given"


def evaluate_allocation(
    model: ResponseModel,
    spend: np.ndarray | Mapping[str, float],
    context: PlanContext | None = None,
) -> Plan:
    """Describe an allocation as a :class:`Plan` (response, ROI, marginal ROI per channel).

    Examples
    --------
    >>> from mediamix.optimization.response import curves_from_dict
    >>> m = curves_from_dict({"channels": {"tv": {"beta": 10.0,
    ...     "saturation": {"type": "hill", "half_saturation": 1.0, "slope": 1.0}}}})
    >>> p = evaluate_allocation(m, {"tv": 1.0})
    >>> p.total_response, p.channels["tv"].marginal_roi
    (5.0, 2.5)
    >>> evaluate_allocation(m, {"tv": 1.0}, PlanContext(objective="scenario", method="a")).method
    'a'
    """
    context = context or PlanContext()
    if isinstance(spend, Mapping):
        missing = [c for c in model.channels if c not in spend]
        unknown = [c for c in spend if c not in model.channels]
        if missing or unknown:
            raise InputError.single(
                f"allocation channels do not match the model: missing {missing}, unknown {unknown}"
            )
        x = np.array([float(spend[c]) for c in model.channels])
    else:
        x = np.asarray(spend, dtype=float)
    resp = channel_responses(model, x)
    marg = channel_marginals(model, x)
    chans = {
        name: ChannelAllocation(
            spend=float(x[i]),
            response=float(resp[i]),
            roi=float(resp[i] / x[i]) if x[i] > 0 else None,
            marginal_roi=_finite_or_none(float(marg[i])),
        )
        for i, name in enumerate(model.channels)
    }
    interval = None
    if isinstance(model, PosteriorResponseModel) and has_draws(model):
        draws = np.asarray(model.response_draws(x), dtype=float)
        interval = (float(np.quantile(draws, 0.05)), float(np.quantile(draws, 0.95)))
    total = float(np.sum(x)) if context.budget is None else float(context.budget)
    return Plan(
        objective=str(context.objective),
        budget=total,
        status=context.status,
        total_response=float(model.response(x)),
        channels=MappingProxyType(chans),
        max_budget=float(context.max_budget if context.max_budget is not None else total),
        target=context.target,
        response_interval=interval,
        method=context.method,
    )
