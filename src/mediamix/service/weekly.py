"""Use case: a week-by-week plan from a fitted model, with carry-over in and out.

The plan starts after the modeling window: the model's spend history carries over
into the plan weeks (``carryover_in``: what the history alone earns in the plan
weeks) and the plan's own spend keeps working after the horizon
(``carryover_out``, reported separately and counted in the objective unless
``count_carryover_out`` is false). See :mod:`mediamix.optimization.multiperiod`.

Per-week bounds (flighting) come from the ``weeks`` block of the constraints
document (:class:`~mediamix.optimization.constraints.Constraints`)::

    weeks:
      tv: {min: 1000, max: 20000}
      search: {max: [5000, 5000, 0, 0]}   # dark in weeks 3 and 4
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mediamix.errors import InputError
from mediamix.io.atomic import atomic_write_json
from mediamix.models.result import FitResult
from mediamix.optimization.multiperiod import SolverStatus
from mediamix.optimization.solver import Objective
from mediamix.service.requests import OptimizeRequest, parse_request

__all__ = ["MAX_ITERATIONS", "WeeklyChannel", "WeeklyPlan", "optimize_weekly", "plan_weekly"]

logger = logging.getLogger(__name__)

MAX_ITERATIONS = 3000
"""Iterations of the projected-gradient solver per start before it stops."""


@dataclass(frozen=True)
class WeeklyChannel:
    """One channel of a weekly plan: totals over the plan weeks."""

    spend: float
    response: float


@dataclass(frozen=True)
class WeeklyPlan:
    """A weekly plan; :meth:`to_dict` is its ``plan.json`` document.

    Attributes
    ----------
    budget : float
        Total spend over the plan weeks.
    status : SolverStatus
        What the solver reported: ``converged``, or ``iteration_limit`` when it
        stopped at its iteration limit before its convergence test held.
    periods : int
        Plan weeks.
    total_response, carryover_in, carryover_out : float
        Response in the plan weeks (carry-over from history included), the part of
        it the history alone earns, and what the plan earns after the horizon.
    count_carryover_out : bool
        Whether ``carryover_out`` counts in the objective.
    channels : dict of str -> WeeklyChannel
    weeks : tuple of dict
        One row per week: ``week``, ``date``, spend per channel, ``response``.
    current : dict
        The historical weekly pattern rescaled to the budget, evaluated the same way.
    notes : tuple of str
    """

    budget: float
    status: SolverStatus
    periods: int
    total_response: float
    carryover_in: float
    carryover_out: float
    count_carryover_out: bool
    channels: Mapping[str, WeeklyChannel]
    weeks: tuple[dict[str, Any], ...]
    current: Mapping[str, Any]
    notes: tuple[str, ...] = ()

    @property
    def objective_value(self) -> float:
        """What the solver maximized: the response, plus carry-over out when counted."""
        return self.total_response + (self.carryover_out if self.count_carryover_out else 0.0)

    def to_dict(self) -> dict[str, Any]:
        """The ``plan.json`` document of a weekly plan."""
        return {
            "objective": "revenue",
            "mode": "weekly",
            "budget": self.budget,
            "status": self.status,
            "periods": self.periods,
            "total_response": self.total_response,
            "carryover_in": self.carryover_in,
            "carryover_out": self.carryover_out,
            "objective_value": self.objective_value,
            "count_carryover_out": self.count_carryover_out,
            "channels": {
                c: {"spend": a.spend, "response": a.response, "marginal_roi": None}
                for c, a in self.channels.items()
            },
            "weekly": [dict(row) for row in self.weeks],
            "current": dict(self.current),
            "notes": list(self.notes),
        }


def optimize_weekly(
    model_dir: str | Path,
    request: OptimizeRequest | Mapping[str, Any],
    *,
    out: Path | None = None,
) -> WeeklyPlan:
    """:func:`plan_weekly` for a fit output folder; also writes ``plan.json`` to ``out``."""
    from mediamix.service.fit import load_model

    req = parse_request(OptimizeRequest, request)
    plan = plan_weekly(load_model(model_dir), req)
    if out is not None:
        atomic_write_json(out, plan.to_dict())
        logger.info("wrote %s", out)
    return plan


def plan_weekly(result: FitResult, request: OptimizeRequest | Mapping[str, Any]) -> WeeklyPlan:
    """A week-by-week plan of the request's budget over ``periods`` weeks.

    ``periods`` defaults to the length of the modeling window; ``constraints`` may
    hold a ``weeks`` block (and nothing else yet).

    Raises
    ------
    InputError
        Adstocks other than geometric (not supported yet), objectives other than
        revenue, bad per-week bounds (named with their key).
    """
    from mediamix.optimization.multiperiod import (
        MultiPeriodOptions,
        multiperiod_from_transforms,
        optimize_multiperiod,
    )

    req = parse_request(OptimizeRequest, request)
    if req.objective != Objective.REVENUE:
        raise InputError.single(
            "weekly plans support the revenue objective only (not yet the others)",
            column="objective",
        )
    history = np.asarray(result.data.spend[0], dtype=float)
    T = history.shape[0]
    H = T if req.periods is None else req.periods
    names = list(result.channels)
    model = multiperiod_from_transforms(
        names,
        [result.channels[c].beta for c in names],
        [dict(result.channels[c].adstock) for c in names],
        [dict(result.channels[c].saturation) for c in names],
    )
    lower, upper = _bounds(req, names, H)
    try:
        plan = optimize_multiperiod(
            model,
            req.budget,
            H,
            history=history,
            lower=lower,
            upper=upper,
            options=MultiPeriodOptions(
                count_carryover_out=req.count_carryover_out, max_iter=MAX_ITERATIONS
            ),
        )
    except InputError as err:
        if req.constraints is None:
            raise
        raise InputError(
            [
                dataclasses.replace(p, file=req.constraints_file, column="weeks")
                for p in err.problems
            ]
        ) from None
    dates = np.asarray(result.data.dates).astype("datetime64[D]")
    notes = [
        f"Weekly plan over {H} weeks after {dates[-1]}: total_response counts the "
        f"plan weeks, including {plan.carryover_in:,.2f} carried over from the "
        f"model's history; {plan.carryover_out:,.2f} more is earned after the "
        "horizon (carryover_out)."
    ]
    if result.synergy:
        notes.append(
            "The model's synergy terms are not part of weekly plans yet: the plan values "
            "each channel on its own curve."
        )
    per_channel = _channel_totals(model, plan.spend, history)
    assert plan.status is not None  # noqa: S101 -- a solved plan always carries its status
    return WeeklyPlan(
        budget=float(req.budget),
        status=plan.status,
        periods=H,
        total_response=plan.response,
        carryover_in=plan.carryover_in,
        carryover_out=plan.carryover_out,
        count_carryover_out=req.count_carryover_out,
        channels={
            c: WeeklyChannel(spend=float(plan.spend[:, i].sum()), response=float(per_channel[i]))
            for i, c in enumerate(names)
        },
        weeks=_week_rows(plan, names, dates),
        current=_historical_pattern(model, history, H, req.budget, names),
        notes=tuple(notes),
    )


def _week_rows(plan: Any, names: list[str], dates: np.ndarray) -> tuple[dict[str, Any], ...]:
    """One row per plan week: number, date (continuing the window), spend, response."""
    step = dates[-1] - dates[-2] if len(dates) >= 2 else np.timedelta64(7, "D")
    return tuple(
        {"week": k + 1, "date": str(dates[-1] + step * (k + 1))}
        | {c: float(plan.spend[k, i]) for i, c in enumerate(names)}
        | {"response": float(plan.weekly_response[k])}
        for k in range(plan.spend.shape[0])
    )


def _historical_pattern(
    model: Any, history: np.ndarray, H: int, budget: float, names: list[str]
) -> dict[str, Any]:
    """The window's weekly pattern (repeated when the plan is longer) rescaled to the
    budget and evaluated like the plan: the status quo the plan is compared with."""
    from mediamix.optimization.multiperiod import evaluate_multiperiod

    T = history.shape[0]
    pattern = np.tile(history, (int(np.ceil(H / T)), 1))[-H:]
    if pattern.sum() <= 0:  # no spend in the window: the historical pattern is an even split
        pattern = np.ones_like(pattern)
    current = evaluate_multiperiod(
        model, pattern * (budget / pattern.sum()), history, budget=budget
    )
    return {
        "description": "historical weekly pattern rescaled to the budget",
        "total_response": current.response,
        "carryover_out": current.carryover_out,
        "channels": {
            c: float(pattern[:, i].sum() * budget / pattern.sum()) for i, c in enumerate(names)
        },
    }


def _bounds(req: OptimizeRequest, names: list[str], H: int) -> tuple[Any, Any]:
    """Per-week bounds from the request's constraints, or none."""
    cons = req.constraints
    if cons is None:
        return None, None
    other = cons.single_period_keys()
    if other:
        raise InputError.single(
            f"weekly plans support only a 'weeks' block yet, not {other}",
            file=req.constraints_file,
            column=other[0],
        )
    return cons.weekly_bounds(names, H, file=req.constraints_file)


def _channel_totals(model: Any, spend: np.ndarray, history: np.ndarray) -> np.ndarray:
    """Response per channel over the plan weeks (carry-over in included), shape (C,)."""
    from mediamix.optimization.multiperiod import evaluate_multiperiod

    C = spend.shape[1]
    out = np.zeros(C)
    for i in range(C):
        keep = np.zeros_like(spend)
        keep[:, i] = spend[:, i]
        hist = np.zeros_like(history)
        hist[:, i] = history[:, i]
        out[i] = evaluate_multiperiod(model, keep, hist).response
    return out
