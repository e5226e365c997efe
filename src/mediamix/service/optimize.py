"""Use case: optimize a budget from response curves or a response model.

Called by the CLI (``mediamix optimize``), the API and the pipelines. Reads the
inputs, runs :func:`mediamix.optimization.solver.optimize_budget` and writes
``plan.json`` atomically (temporary file in the same folder, fsync, rename) only
after the plan has been found, so a failed run leaves no file behind.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mediamix.errors import InputError
from mediamix.io.atomic import atomic_write_json
from mediamix.optimization.constraints import (
    Constraints,
    SpendLimits,
    read_constraints,
    resolve_constraints,
)
from mediamix.optimization.response import (
    CurvesResponse,
    PosteriorResponseModel,
    ResponseModel,
    read_curves,
)
from mediamix.optimization.risk import DEFAULT_LEVEL, risk_adjusted_plan
from mediamix.optimization.solver import Objective, Plan, optimize_budget

__all__ = ["model_response", "optimize", "optimize_weekly"]

logger = logging.getLogger(__name__)


def optimize(
    *,
    curves: Path | None = None,
    response_model: ResponseModel | None = None,
    budget: float,
    objective: Objective | str = Objective.REVENUE,
    target: float | None = None,
    constraints: Path | None = None,
    out: Path | None = None,
    risk_level: float | None = DEFAULT_LEVEL,
    scenarios: Path | None = None,
    frontier: bool = False,
) -> Plan:
    """Optimize ``budget`` and optionally write ``plan.json``.

    Exactly one of ``curves`` (a ``CURVES.json`` file) and ``response_model`` (any
    :class:`~mediamix.optimization.response.ResponseModel`, e.g. a fitted model's
    adapter) must be given. Current spend and per-channel bounds come from the
    curves file when there is one.

    When the model has draws (a fitted model's bootstrap or posterior) and the
    current allocation is known, the optimized plan is checked against the
    current mix across the draws (:func:`mediamix.optimization.risk.risk_adjusted_plan`):
    if it does not beat it with probability ``risk_level``, a safer plan is
    recommended instead, and ``plan.json`` says so (``risk``, ``notes``).
    ``risk_level=None`` turns the check off.

    ``scenarios`` (a what-if YAML, see
    :func:`mediamix.optimization.scenarios.read_scenarios`) adds ``scenarios`` to
    the plan: current, optimized (and recommended, when the risk check moved the
    plan) and every what-if side by side. With ``scenarios`` or ``frontier``, the
    plan also carries the efficient frontier from 50% to 200% of current spend.

    Raises
    ------
    InputError
        Bad files, infeasible constraints (naming them), missing or unreachable target.
    """
    if (curves is None) == (response_model is None):
        raise InputError.single("give exactly one of --curves and --model")
    model: ResponseModel
    current: dict[str, float | None] | None = None
    bounds: dict[str, tuple[float, float | None]] | None = None
    if curves is not None:
        cmodel: CurvesResponse = read_curves(curves)
        model = cmodel
        current = cmodel.current_spend
        bounds = cmodel.bounds
    else:
        assert response_model is not None
        model = response_model
        get_current = getattr(model, "current_spend", None)
        current = dict(get_current) if isinstance(get_current, dict) else None
    cons = read_constraints(constraints) if constraints is not None else None
    try:
        obj = Objective(objective)
    except ValueError:
        raise InputError.single(f"unknown objective '{objective}'", column="--objective") from None
    file = str(constraints) if constraints is not None else None
    try:
        plan = optimize_budget(
            model, budget, cons, obj, target=target, current_spend=current, bounds=bounds
        )
    except InputError as err:
        if file is None or any(p.file for p in err.problems):
            raise
        raise InputError(
            [type(p)(p.message, file=file, row=p.row, column=p.column) for p in err.problems]
        ) from None
    plan = _with_risk(model, plan, current, risk_level, cons, bounds)
    if scenarios is not None or frontier:
        plan = _with_scenarios(model, plan, current, cons, bounds, scenarios)
    if out is not None:
        atomic_write_json(out, plan.to_dict())
        logger.info("wrote %s", out)
    return plan


def _with_scenarios(
    model: ResponseModel,
    plan: Plan,
    current: dict[str, float | None] | None,
    cons: Constraints | None,
    bounds: dict[str, tuple[float, float | None]] | None,
    scenarios: Path | None,
) -> Plan:
    """Add the side-by-side scenarios and the efficient frontier to ``plan``."""
    from mediamix.optimization.scenarios import (
        efficient_frontier,
        frontier_block,
        read_scenarios,
        scenario_block,
    )

    if current is None or any(current.get(c) is None for c in model.channels):
        raise InputError.single(
            "scenarios and the frontier need the current spend of every channel "
            "(a fitted model, or current_spend for every channel in CURVES.json)",
            column="--scenarios" if scenarios is not None else "--frontier",
        )
    cur = {c: float(current[c] or 0.0) for c in model.channels}
    what_ifs = read_scenarios(scenarios, model.channels) if scenarios is not None else {}
    allocations: dict[str, Mapping[str, float] | Plan] = {"current": cur}
    optimized = plan.risk.get("optimized", {}).get("spend") if plan.risk else None
    recommendation = plan.risk.get("recommendation") if plan.risk else None
    if optimized is not None and recommendation != "optimized":
        allocations["optimized"] = dict(optimized)
        if recommendation == "partial":  # "current": the current mix is the advice
            allocations["recommended"] = plan
    else:
        allocations["optimized"] = plan
    allocations.update(what_ifs)
    block = scenario_block(model, allocations)
    limits: Constraints | SpendLimits | None
    try:
        limits = resolve_constraints(
            cons, model.channels, sum(cur.values()), current_spend=dict(cur), bounds=bounds
        )
    except InputError:  # infeasible at the current total: resolve per budget instead
        limits = cons
    front = frontier_block(efficient_frontier(model, cur, limits, fractions=_FRACTIONS))
    return dataclasses.replace(plan, scenarios=block, frontier=front)


_FRACTIONS = tuple(0.5 + 0.1 * k for k in range(16))  # 50% to 200% of current spend


def _with_risk(
    model: ResponseModel,
    plan: Plan,
    current: dict[str, float | None] | None,
    level: float | None,
    cons: Constraints | None = None,
    bounds: dict[str, tuple[float, float | None]] | None = None,
) -> Plan:
    """The risk-adjusted plan when the model has draws and current spend is known."""
    if level is None or not isinstance(model, PosteriorResponseModel):
        return plan
    if getattr(model, "n_draws", 1) <= 0:
        return plan
    if not 0.5 <= level < 1.0:
        raise InputError.single(
            f"risk level must be in [0.5, 1), got {level:g}", column="--risk-level"
        )
    if current is None or any(current.get(c) is None for c in model.channels):
        return dataclasses.replace(
            plan,
            notes=(
                *plan.notes,
                "No current spend for every channel: the plan was not checked against "
                "the current allocation.",
            ),
        )
    cur = {c: float(current[c] or 0.0) for c in model.channels}
    if sum(cur.values()) <= 0:
        return plan
    limits = resolve_constraints(
        cons, model.channels, plan.budget, current_spend=dict(cur), bounds=bounds
    )
    return risk_adjusted_plan(model, plan, cur, level=level, limits=limits)


def model_response(model_dir: str | Path, periods: int | None = None) -> ResponseModel:
    """The response model of a fitted model folder, for a plan of ``periods`` periods.

    The plan covers the modeling window unless ``periods`` says otherwise; each
    channel's spend in the plan is its total over those periods.
    """
    from mediamix.models.response import FittedResponse
    from mediamix.service.fit import load_model

    if periods is not None and periods <= 0:
        raise InputError.single(
            "--periods must be a positive number of periods", column="--periods"
        )
    return FittedResponse(load_model(model_dir), periods)


def optimize_weekly(
    model_dir: str | Path,
    *,
    budget: float,
    periods: int | None = None,
    count_carryover_out: bool = True,
    constraints: Path | None = None,
    out: Path | None = None,
) -> dict[str, Any]:
    """A week-by-week plan of ``budget`` over ``periods`` weeks from a fitted model.

    The plan starts after the modeling window: the model's spend history carries
    over into the plan weeks (``carryover_in``: what the history alone earns in the
    plan weeks) and the plan's own spend keeps working after the horizon
    (``carryover_out``, reported separately and counted in the objective unless
    ``count_carryover_out`` is false). See :mod:`mediamix.optimization.multiperiod`.

    Returns the ``plan.json`` document (also written to ``out``): the contract
    fields, ``weekly`` (one row per week: ``week``, ``date``, spend per channel,
    ``response``), ``carryover_in``, ``carryover_out`` and ``current`` (the
    historical weekly pattern rescaled to the budget, evaluated the same way).

    ``constraints`` may hold a ``weeks`` block with per-week spend bounds (flighting)
    per channel, a number for every week or a list with one value per week::

        weeks:
          tv: {min: 1000, max: 20000}
          search: {max: [5000, 5000, 0, 0]}   # dark in weeks 3 and 4

    Raises
    ------
    InputError
        Adstocks other than geometric (not supported yet), a bad budget or horizon.
    """
    import numpy as np

    from mediamix.optimization.multiperiod import (
        evaluate_multiperiod,
        multiperiod_from_transforms,
        optimize_multiperiod,
    )
    from mediamix.service.fit import load_model

    if budget <= 0:
        raise InputError.single("--budget must be positive", column="--budget")
    result = load_model(model_dir)
    history = np.asarray(result.data.spend[0], dtype=float)
    T = history.shape[0]
    H = T if periods is None else int(periods)
    if H <= 0:
        raise InputError.single(
            "--periods must be a positive number of periods", column="--periods"
        )
    fits = result.channels
    names = list(fits)
    model = multiperiod_from_transforms(
        names,
        [fits[c].beta for c in names],
        [dict(fits[c].adstock) for c in names],
        [dict(fits[c].saturation) for c in names],
    )
    lower, upper = (
        _weekly_bounds(constraints, names, H) if constraints is not None else (None, None)
    )
    try:
        plan = optimize_multiperiod(
            model,
            budget,
            H,
            history=history,
            lower=lower,
            upper=upper,
            count_carryover_out=count_carryover_out,
        )
    except InputError as err:
        if constraints is None:
            raise
        raise InputError(
            [type(p)(p.message, file=str(constraints), column="weeks") for p in err.problems]
        ) from None
    reps = int(np.ceil(H / T))
    pattern = np.tile(history, (reps, 1))[-H:]
    if pattern.sum() <= 0:  # no spend in the window: the historical pattern is an even split
        pattern = np.ones_like(pattern)
    current = evaluate_multiperiod(
        model, pattern * (budget / pattern.sum()), history, budget=budget
    )
    dates = np.asarray(result.data.dates).astype("datetime64[D]")
    step = dates[-1] - dates[-2] if len(dates) >= 2 else np.timedelta64(7, "D")
    week_dates = [str(dates[-1] + step * (k + 1)) for k in range(H)]
    weekly = [
        {"week": k + 1, "date": week_dates[k]}
        | {c: float(plan.spend[k, i]) for i, c in enumerate(names)}
        | {"response": float(plan.weekly_response[k])}
        for k in range(H)
    ]
    per_channel = _channel_totals(model, plan.spend, history)
    doc: dict[str, Any] = {
        "objective": "revenue",
        "mode": "weekly",
        "budget": float(budget),
        "status": "converged",
        "periods": H,
        "total_response": plan.response,
        "carryover_in": plan.carryover_in,
        "carryover_out": plan.carryover_out,
        "objective_value": plan.response + (plan.carryover_out if count_carryover_out else 0.0),
        "count_carryover_out": count_carryover_out,
        "channels": {
            c: {
                "spend": float(plan.spend[:, i].sum()),
                "response": float(per_channel[i]),
                "marginal_roi": None,
            }
            for i, c in enumerate(names)
        },
        "weekly": weekly,
        "current": {
            "description": "historical weekly pattern rescaled to the budget",
            "total_response": current.response,
            "carryover_out": current.carryover_out,
            "channels": {
                c: float(pattern[:, i].sum() * budget / pattern.sum()) for i, c in enumerate(names)
            },
        },
        "notes": [
            f"Weekly plan over {H} weeks after {dates[-1]}: total_response counts the "
            f"plan weeks, including {plan.carryover_in:,.2f} carried over from the "
            f"model's history; {plan.carryover_out:,.2f} more is earned after the "
            "horizon (carryover_out)."
        ],
    }
    if result.synergy:
        doc["notes"].append(
            "The model's synergy terms are not part of weekly plans yet: the plan values "
            "each channel on its own curve."
        )
    if out is not None:
        atomic_write_json(out, doc)
        logger.info("wrote %s", out)
    return doc


def _weekly_bounds(path: Path, names: list[str], H: int) -> tuple[Any, Any]:
    """Per-week ``(lower, upper)`` arrays (H, C) from the ``weeks`` block of a YAML file."""
    import numpy as np

    from mediamix.optimization.documents import read_yaml

    file = str(path)
    data = read_yaml(path, "constraints") or {}
    if not isinstance(data, dict):
        raise InputError.single("expected a mapping at the top level", file=file)
    other = sorted(str(k) for k in data if k != "weeks")
    if other:
        raise InputError.single(
            f"with --weekly only a 'weeks' block is supported yet, not {other}",
            file=file,
            column=other[0],
        )
    block = data.get("weeks") or {}
    if not isinstance(block, dict):
        raise InputError.single("expected a mapping channel -> bounds", file=file, column="weeks")
    lower = np.zeros((H, len(names)))
    upper = np.full((H, len(names)), np.inf)
    for channel, spec in block.items():
        key = f"weeks.{channel}"
        if channel not in names:
            raise InputError.single(
                f"unknown channel '{channel}'; the model has {names}", file=file, column=key
            )
        if not isinstance(spec, dict) or not set(spec) <= {"min", "max"}:
            raise InputError.single("expected {min: ..., max: ...}", file=file, column=key)
        c = names.index(channel)
        for bound, target in (("min", lower), ("max", upper)):
            if bound not in spec:
                continue
            value = spec[bound]
            values = value if isinstance(value, list) else [value] * H
            if len(values) != H:
                raise InputError.single(
                    f"{len(values)} values for {H} weeks", file=file, column=f"{key}.{bound}"
                )
            for v in values:
                if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                    raise InputError.single(
                        f"spend bounds must be numbers >= 0, got {v!r}",
                        file=file,
                        column=f"{key}.{bound}",
                    )
            target[:, c] = np.asarray(values, dtype=float)
        if np.any(lower[:, c] > upper[:, c]):
            raise InputError.single("min is above max in some week", file=file, column=key)
    return lower, upper


def _channel_totals(model: Any, spend: Any, history: Any) -> Any:
    """Response per channel over the plan weeks (carry-over in included), shape (C,)."""
    import numpy as np

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


def reach_response(reach_file: str | Path, periods: int | None = None) -> ResponseModel:
    """The reach model of a ``reach.json`` file; the plan spreads spend over ``periods``
    weeks (the file's plan length by default)."""
    from mediamix.optimization.reach import read_reach

    if periods is not None and periods <= 0:
        raise InputError.single(
            "--periods must be a positive number of periods", column="--periods"
        )
    model, _ = read_reach(reach_file, periods=periods)
    return model
