"""Scenarios: allocations side by side, and the efficient frontier.

Both return plain data (a pandas DataFrame plus a JSON-ready dict); charts are
drawn by the reporting layer from these tables.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mediamix.optimization.constraints import Constraints, SpendLimits, resolve_constraints
from mediamix.optimization.response import ResponseModel
from mediamix.optimization.solver import Plan, allocate, evaluate_allocation

__all__ = ["Frontier", "ScenarioComparison", "compare_allocations", "efficient_frontier"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScenarioComparison:
    """Per scenario and channel: spend, response, ROI and marginal ROI.

    ``table`` has one row per (scenario, channel) plus a ``total`` row per scenario.
    """

    table: pd.DataFrame
    plans: Mapping[str, Plan]

    def to_dict(self) -> dict[str, Any]:
        return {name: plan.to_dict() for name, plan in self.plans.items()}


def compare_allocations(
    model: ResponseModel, allocations: Mapping[str, Mapping[str, float] | Plan]
) -> ScenarioComparison:
    """Evaluate several allocations with the same model.

    ``allocations`` maps a scenario name (``current``, ``optimized``, a what-if) to a
    spend per channel or to a :class:`Plan`.

    Examples
    --------
    >>> from mediamix.optimization.response import curves_from_dict
    >>> hill = {"type": "hill", "half_saturation": 10.0, "slope": 1.0}
    >>> m = curves_from_dict({"channels": {"a": {"beta": 10.0, "saturation": hill},
    ...                                    "b": {"beta": 20.0, "saturation": hill}}})
    >>> cmp = compare_allocations(m, {"current": {"a": 10.0, "b": 10.0},
    ...                               "what_if": {"a": 0.0, "b": 20.0}})
    >>> cmp.table.loc[("what_if", "total"), "response"].round(3)
    np.float64(13.333)
    """
    plans: dict[str, Plan] = {}
    rows = []
    for name, alloc in allocations.items():
        spend = (
            {k: v.spend for k, v in alloc.channels.items()} if isinstance(alloc, Plan) else alloc
        )
        plan = evaluate_allocation(model, spend, objective="scenario", method=name)
        plans[name] = plan
        for ch, a in plan.channels.items():
            rows.append((name, ch, a.spend, a.response, a.roi, a.marginal_roi))
        rows.append((name, "total", plan.total_spend, plan.total_response, plan.roi, None))
    table = pd.DataFrame(
        rows, columns=["scenario", "channel", "spend", "response", "roi", "marginal_roi"]
    ).set_index(["scenario", "channel"])
    return ScenarioComparison(table=table, plans=plans)


@dataclass(frozen=True)
class Frontier:
    """Best response for each total budget (``table``: one row per budget)."""

    table: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        return {"points": self.table.to_dict(orient="records")}


def efficient_frontier(
    model: ResponseModel,
    current_spend: Mapping[str, float] | np.ndarray,
    constraints: Constraints | SpendLimits | None = None,
    *,
    fractions: Sequence[float] | np.ndarray | None = None,
    grid_steps: int = 1000,
) -> Frontier:
    """Optimized response versus total budget, from 50% to 200% of current spend.

    For each budget ``b = f * sum(current)`` the optimal allocation under the
    constraints; columns ``fraction, budget, response, roi, marginal_roi`` (the
    slope of the frontier, by central differences) and one spend column per
    channel. Budgets at which the constraints cannot hold are skipped (logged).

    Examples
    --------
    >>> from mediamix.optimization.response import curves_from_dict
    >>> hill = {"type": "hill", "half_saturation": 10.0, "slope": 1.0}
    >>> m = curves_from_dict({"channels": {"a": {"beta": 10.0, "saturation": hill}}})
    >>> fr = efficient_frontier(m, {"a": 10.0}, fractions=[0.5, 1.0, 2.0])
    >>> fr.table["response"].round(3).tolist()
    [3.333, 5.0, 6.667]
    """
    from mediamix.errors import InputError

    if isinstance(current_spend, Mapping):
        cur = np.array([float(current_spend[c]) for c in model.channels])
    else:
        cur = np.asarray(current_spend, dtype=float)
    base = float(cur.sum())
    fr = np.linspace(0.5, 2.0, 16) if fractions is None else np.asarray(fractions, dtype=float)
    rows = []
    for f in fr:
        b = float(f * base)
        try:
            if isinstance(constraints, SpendLimits):
                limits = constraints.with_budget(b)
            else:
                limits = resolve_constraints(
                    constraints,
                    model.channels,
                    b,
                    current_spend=dict(zip(model.channels, cur.tolist(), strict=True)),
                )
            x, _, _ = allocate(model, limits, grid_steps=grid_steps)
        except InputError as err:
            logger.info("frontier: budget %g skipped: %s", b, err)
            continue
        r = float(model.response(x))
        rows.append(
            {"fraction": float(f), "budget": b, "response": r, "roi": r / b}
            | {f"spend_{c}": float(v) for c, v in zip(model.channels, x, strict=True)}
        )
    table = pd.DataFrame(rows)
    if len(table) >= 2:
        table.insert(4, "marginal_roi", np.gradient(table["response"], table["budget"]))
    elif len(table):
        table.insert(4, "marginal_roi", np.nan)
    return Frontier(table=table)
