"""Scenarios: allocations side by side, and the efficient frontier.

Both return plain data (a pandas DataFrame plus a JSON-ready dict); charts are
drawn by the reporting layer from these tables.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mediamix.optimization.constraints import Constraints, SpendLimits, resolve_constraints
from mediamix.optimization.response import ResponseModel
from mediamix.optimization.solver import Plan, PlanContext, allocate, evaluate_allocation

__all__ = [
    "Frontier",
    "ScenarioComparison",
    "compare_allocations",
    "efficient_frontier",
    "frontier_block",
    "read_scenarios",
    "read_scenarios_document",
    "scenario_block",
    "scenarios_from_dict",
]

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
        plan = evaluate_allocation(model, spend, PlanContext(objective="scenario", method=name))
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


# --------------------------------------------------------------------------- what-if files


def read_scenarios(path: Path | str, channels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Read a what-if YAML and check it against ``channels`` (see :func:`scenarios_from_dict`)."""
    return scenarios_from_dict(read_scenarios_document(path), channels, file=str(path))


def read_scenarios_document(path: Path | str) -> Any:
    """The parsed what-if YAML, not checked yet (the model's channels check it)."""
    from mediamix.documents import read_yaml

    return read_yaml(Path(path), "scenarios")


def scenarios_from_dict(
    data: Any, channels: Sequence[str], *, file: str | None = None
) -> dict[str, dict[str, float]]:
    """Check what-if allocations (totals over the plan, currency) against the model.

    The layout is::

        scenarios:                 # optional wrapper
          more_search: {tv: 30000, search: 70000}
          tv_heavy: {tv: 80000, search: 20000}

    Every allocation names every channel of the model, each with a spend ``>= 0``.

    Raises
    ------
    InputError
        Unknown or missing channels, bad numbers, reserved names; the problem names
        ``file`` (when the document came from one) and the scenario key.

    Examples
    --------
    >>> scenarios_from_dict({"even": {"tv": 5, "search": 5}}, ["tv", "search"])
    {'even': {'tv': 5.0, 'search': 5.0}}
    """
    from mediamix.errors import InputError

    if isinstance(data, dict) and set(data) == {"scenarios"}:
        data = data["scenarios"]
    if not isinstance(data, dict) or not data:
        raise InputError.single("expected a mapping of scenario name -> allocation", file=file)
    out: dict[str, dict[str, float]] = {}
    reserved = {"current", "optimized", "recommended"}
    for name, alloc in data.items():
        key = f"scenarios.{name}"
        if str(name) in reserved:
            raise InputError.single(f"scenario name '{name}' is reserved", file=file, column=key)
        if not isinstance(alloc, dict):
            raise InputError.single("expected a mapping channel -> spend", file=file, column=key)
        unknown = [str(c) for c in alloc if str(c) not in channels]
        missing = [c for c in channels if c not in alloc]
        if unknown or missing:
            raise InputError.single(
                f"channels do not match the model: unknown {unknown}, missing {missing}",
                file=file,
                column=key,
            )
        spend: dict[str, float] = {}
        for c in channels:
            v = alloc[c]
            if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v) or v < 0:
                raise InputError.single(
                    f"spend must be a number >= 0, got {v!r}", file=file, column=f"{key}.{c}"
                )
            spend[c] = float(v)
        out[str(name)] = spend
    return out


def scenario_block(
    model: ResponseModel,
    allocations: Mapping[str, Mapping[str, float] | Plan],
    baseline: str = "current",
) -> dict[str, Any]:
    """JSON-ready side-by-side comparison for ``plan.json`` (``scenarios``).

    Per scenario: ``total_spend``, ``total_response``, ``roi``, ``change_vs_current``
    (relative change of the response against the ``baseline`` scenario),
    ``response_interval`` (90% over the model's draws, or null without draws) and the
    channels (spend, response, ROI, marginal ROI). With a
    :class:`~mediamix.optimization.response.PosteriorResponseModel`, also
    ``probability_better``: the share of draws in which the scenario's response
    beats the baseline's.
    """
    from mediamix.optimization.response import PosteriorResponseModel, has_draws

    cmp = compare_allocations(model, allocations)
    base = cmp.plans.get(baseline)
    draws_ok = has_draws(model)
    out: dict[str, Any] = {}
    for name, plan in cmp.plans.items():
        entry: dict[str, Any] = {
            "total_spend": plan.total_spend,
            "total_response": plan.total_response,
            "roi": plan.roi,
            "change_vs_current": (
                (plan.total_response - base.total_response) / abs(base.total_response)
                if base is not None and base.total_response
                else None
            ),
            "response_interval": (
                list(plan.response_interval) if plan.response_interval is not None else None
            ),
            "channels": {k: v.to_dict() for k, v in plan.channels.items()},
        }
        if draws_ok and base is not None and name != baseline:
            assert isinstance(model, PosteriorResponseModel)  # noqa: S101 -- type narrowing of an internal invariant, not input validation
            d = np.asarray(model.response_draws(np.vstack([base.spend, plan.spend])), dtype=float)
            entry["probability_better"] = float(np.mean(d[:, 1] > d[:, 0]))
        out[name] = entry
    return out


def frontier_block(frontier: Frontier) -> dict[str, Any]:
    """JSON-ready frontier (NaN -> null) for ``plan.json`` (``frontier``)."""
    points = []
    for row in frontier.table.to_dict(orient="records"):
        points.append(
            {
                str(k): (None if isinstance(v, float) and not np.isfinite(v) else v)
                for k, v in row.items()
            }
        )
    return {"points": points}
