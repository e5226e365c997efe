"""Use case: optimize a budget from response curves or a response model.

Called by the CLI (``mediamix optimize``), the Python API, the REST API and the
pipelines with an :class:`~mediamix.service.requests.OptimizeRequest`. Runs
:func:`mediamix.optimization.solver.optimize_budget` and writes ``plan.json``
atomically (temporary file in the same folder, fsync, rename) only after the plan
has been found, so a failed run leaves no file behind. Weekly plans
(:func:`plan_weekly`) live in :mod:`mediamix.service.weekly`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mediamix.errors import InputError
from mediamix.io.atomic import atomic_write_json
from mediamix.optimization.constraints import (
    Constraints,
    SpendLimits,
    SpendReference,
    resolve_constraints,
)
from mediamix.optimization.response import (
    CurvesResponse,
    PosteriorResponseModel,
    ResponseModel,
    current_spend_of,
    has_draws,
    read_curves,
)
from mediamix.optimization.risk import risk_adjusted_plan
from mediamix.optimization.solver import Plan, optimize_budget
from mediamix.service.requests import OptimizeRequest, parse_request
from mediamix.service.weekly import WeeklyPlan, optimize_weekly, plan_weekly

__all__ = [
    "WeeklyPlan",
    "compare_scenarios",
    "model_response",
    "optimize",
    "optimize_request",
    "optimize_weekly",
    "plan_weekly",
    "planning_curves",
    "reach_response",
]

logger = logging.getLogger(__name__)

Current = dict[str, float | None]
Bounds = dict[str, tuple[float, float | None]]


@dataclasses.dataclass(frozen=True)
class _Source:
    """The model to plan on, with what is known of the current allocation."""

    model: ResponseModel
    current: Current | None
    bounds: Bounds | None


def optimize(
    request: OptimizeRequest | Mapping[str, Any],
    *,
    curves: Path | None = None,
    response_model: ResponseModel | None = None,
    out: Path | None = None,
) -> Plan:
    """Optimize the request's budget and optionally write ``plan.json`` to ``out``.

    Exactly one of ``curves`` (a ``CURVES.json`` file) and ``response_model`` (any
    :class:`~mediamix.optimization.response.ResponseModel`, e.g. a fitted model's
    adapter) must be given. Current spend and per-channel bounds come from the
    curves file when there is one, else from the model when it knows them
    (:class:`~mediamix.optimization.response.CurrentSpendModel`).

    Unless the constraints document says otherwise (``band``, a number or ``null``),
    revenue and reach plans keep every channel without bounds of its own within
    :data:`~mediamix.optimization.band.DEFAULT_BAND` (+-30%) of its current spend
    scaled to the budget, when the current spend of every channel is known. The exact
    optimum without the band is then computed too and shown beside the plan
    (``optimum_without_band``), and every channel that the plan or that optimum cuts
    below half its current spend is explained in ``notes`` by its marginal ROI
    against the other channels' and by the share of the model's draws that agree
    (:mod:`mediamix.optimization.band`).

    When the model has draws (a fitted model's bootstrap or posterior) and the
    current allocation is known, the optimized plan is checked against the
    current mix across the draws (:func:`mediamix.optimization.risk.risk_adjusted_plan`):
    if it does not beat it with probability ``risk_level``, a safer plan is
    recommended instead, and ``plan.json`` says so (``risk``, ``notes``).
    ``risk_level=None`` turns the check off.

    ``scenarios`` (what-if allocations, see
    :func:`mediamix.optimization.scenarios.scenarios_from_dict`) adds ``scenarios`` to
    the plan: current, optimized (and recommended, when the risk check moved the
    plan) and every what-if side by side. With ``scenarios`` or ``frontier``, the
    plan also carries the efficient frontier from 50% to 200% of current spend.

    Raises
    ------
    InputError
        Bad request fields (named), infeasible constraints (naming them), missing or
        unreachable target.
    """
    req = parse_request(OptimizeRequest, request)
    if req.weekly:
        raise InputError.single("weekly plans come from plan_weekly", column="weekly")
    source = _source(curves, response_model)
    if req.constraints is not None and req.constraints.weeks:
        raise InputError.single(
            "per-week bounds apply to weekly plans only", file=req.constraints_file, column="weeks"
        )
    cons = _banded(req)
    default_band = cons is not None and cons.band is not None and cons is not req.constraints

    def solve(constraints: Constraints | None) -> Plan:
        with _named_file(req.constraints_file):
            return optimize_budget(
                source.model,
                req.budget,
                constraints,
                req.objective,
                target=req.target,
                reference=SpendReference(source.current, source.bounds),
            )

    dropped = None
    try:
        plan = solve(cons)
    except InputError as exc:
        if not default_band or cons is None:
            raise
        # the default band is a safety net, not the user's rule: when it cannot hold
        # together with the document's own bounds, those win (an explicit band is kept
        # and refused by name instead)
        dropped = "; ".join(p.message for p in exc.problems)
        cons = cons.model_copy(update={"band": None})
        plan = solve(cons)
    plan = _with_risk(source, plan, req.risk_level, cons)
    plan = _with_band_view(source, plan, cons, req)
    if dropped is not None:
        note = (
            "The default band around the current mix was not applied: it cannot hold "
            f"together with the constraints given ({dropped})."
        )
        plan = dataclasses.replace(plan, notes=(*plan.notes, note))
    if req.scenarios is not None or req.frontier:
        plan = _with_scenarios(source, plan, cons, req)
    if out is not None:
        atomic_write_json(out, plan.to_dict())
        logger.info("wrote %s", out)
    return plan


def optimize_request(
    budget: float,
    *,
    constraints: Constraints | Mapping[str, Any] | str | Path | None = None,
    scenarios: Mapping[str, Any] | str | Path | None = None,
    **fields: Any,
) -> OptimizeRequest:
    """An :class:`OptimizeRequest` whose documents may be given as files.

    ``constraints`` and ``scenarios`` are documents or the YAML files that hold
    them (read here, and named in later errors); ``fields`` are the request's other
    fields (``objective``, ``periods``, ...).

    Examples
    --------
    >>> optimize_request(100.0, constraints={"total": "at_most"}).constraints.total
    'at_most'
    """
    from mediamix.optimization.constraints import read_constraints
    from mediamix.optimization.scenarios import read_scenarios_document

    doc: dict[str, Any] = {"budget": budget, **fields}
    if isinstance(constraints, str | Path):
        doc["constraints"] = read_constraints(constraints)
        doc["constraints_file"] = str(constraints)
    elif constraints is not None:
        doc["constraints"] = constraints
    if isinstance(scenarios, str | Path):
        doc["scenarios"] = read_scenarios_document(scenarios)
        doc["scenarios_file"] = str(scenarios)
    elif scenarios is not None:
        doc["scenarios"] = scenarios
    return parse_request(OptimizeRequest, doc)


def _source(curves: Path | None, response_model: ResponseModel | None) -> _Source:
    if (curves is None) == (response_model is None):
        raise InputError.single("give exactly one of --curves and --model")
    if curves is not None:
        cmodel: CurvesResponse = read_curves(curves)
        return _Source(cmodel, cmodel.current_spend, cmodel.bounds)
    assert response_model is not None  # noqa: S101 -- type narrowing of an internal invariant, not input validation
    return _Source(response_model, current_spend_of(response_model), None)


@contextmanager
def _named_file(file: str | None) -> Iterator[None]:
    """Name ``file`` in the problems of an :class:`InputError` that name no file.

    Infeasible constraints are found by the solver, which does not know where the
    constraints came from.
    """
    try:
        yield
    except InputError as err:
        if file is None or any(p.file for p in err.problems):
            raise
        raise InputError([dataclasses.replace(p, file=file) for p in err.problems]) from None


def _known_current(source: _Source) -> dict[str, float] | None:
    """Current spend of every channel, or None when some channel's is unknown."""
    current = source.current
    if current is None or any(current.get(c) is None for c in source.model.channels):
        return None
    return {c: float(current[c] or 0.0) for c in source.model.channels}


def _with_scenarios(
    source: _Source, plan: Plan, cons: Constraints | None, req: OptimizeRequest
) -> Plan:
    """Add the side-by-side scenarios and the efficient frontier to ``plan``."""
    from mediamix.optimization.scenarios import (
        efficient_frontier,
        frontier_block,
        scenario_block,
        scenarios_from_dict,
    )

    model = source.model
    cur = _known_current(source)
    if cur is None:
        raise InputError.single(
            "scenarios and the frontier need the current spend of every channel "
            "(a fitted model, or current_spend for every channel in CURVES.json)",
            column="scenarios" if req.scenarios is not None else "frontier",
        )
    what_ifs = (
        scenarios_from_dict(req.scenarios, model.channels, file=req.scenarios_file)
        if req.scenarios is not None
        else {}
    )
    allocations: dict[str, Mapping[str, float] | Plan] = {"current": cur}
    risk = plan.risk
    if risk is not None and risk.recommendation != "optimized":
        allocations["optimized"] = dict(risk.optimized_spend)
        if risk.recommendation == "partial":  # "current": the current mix is the advice
            allocations["recommended"] = plan
    else:
        allocations["optimized"] = plan
    if plan.optimum_without_band is not None:
        allocations["optimum without band"] = {
            c: float(v["spend"]) for c, v in plan.optimum_without_band["channels"].items()
        }
    allocations.update(what_ifs)
    block = scenario_block(model, allocations)
    limits: Constraints | SpendLimits | None
    # the frontier is the exact optimum per budget: the band, centred on the current
    # mix at one budget, would pin it there
    cons = None if cons is None else cons.model_copy(update={"band": None})
    try:
        limits = resolve_constraints(
            cons, model.channels, sum(cur.values()), current_spend=dict(cur), bounds=source.bounds
        )
    except InputError:  # infeasible at the current total: resolve per budget instead
        limits = cons
    front = frontier_block(efficient_frontier(model, cur, limits, fractions=_FRACTIONS))
    return dataclasses.replace(plan, scenarios=block, frontier=front)


_FRACTIONS = tuple(0.5 + 0.1 * k for k in range(16))  # 50% to 200% of current spend


def _banded(req: OptimizeRequest) -> Constraints | None:
    """The request's constraints with the default band when the document names none.

    The default applies to revenue and reach plans at the given budget; the target
    objectives choose their own budget, for which a band around the current mix at
    ``B`` means little, so they get a band only when the document asks for one.
    """
    from mediamix.optimization.band import DEFAULT_BAND
    from mediamix.optimization.solver import Objective

    cons = req.constraints
    if cons is not None and "band" in cons.model_fields_set:
        return cons
    if req.objective not in (Objective.REVENUE, Objective.REACH):
        return cons
    return (cons or Constraints()).model_copy(update={"band": DEFAULT_BAND})


def _with_band_view(
    source: _Source, plan: Plan, cons: Constraints | None, req: OptimizeRequest
) -> Plan:
    """Add the optimum without the band and explain deep cuts, when current spend is known."""
    from mediamix.optimization.band import cut_notes, optimum_block

    cur = _known_current(source)
    if cur is None or sum(cur.values()) <= 0:
        return plan
    notes = list(plan.notes)
    block = None
    if cons is not None and cons.band is not None and cons.banded_channels(source.model.channels):
        free = cons.model_copy(update={"band": None})
        with _named_file(req.constraints_file):
            optimum = optimize_budget(
                source.model,
                req.budget,
                free,
                req.objective,
                target=req.target,
                reference=SpendReference(source.current, source.bounds),
            )
        block = optimum_block(source.model, plan, optimum, cur, cons.band)
        notes.append(_band_note(cons.band, block))
        notes.extend(cut_notes(source.model, optimum, cur, "The optimum without the band"))
    notes.extend(cut_notes(source.model, plan, cur))
    return dataclasses.replace(plan, notes=tuple(notes), optimum_without_band=block)


def _band_note(band: float, block: Mapping[str, Any]) -> str:
    change = block.get("change_vs_plan")
    text = (
        f"Channels without bounds of their own stay within {band:.0%} of their current spend "
        "(scaled to the budget); widen this with --band or 'band:' in the constraints. "
        "The exact optimum without the band is shown beside the plan"
    )
    if change is not None:
        text += f" (expected response {change:+.1%} against this plan"
        prob = block.get("probability_better_than_current")
        if prob is not None:
            text += f"; it beats the current mix in {prob:.0%} of the model's draws"
        text += ")"
    return text + "."


def _with_risk(source: _Source, plan: Plan, level: float | None, cons: Constraints | None) -> Plan:
    """The risk-adjusted plan when the model has draws and current spend is known."""
    model = source.model
    if level is None or not has_draws(model):
        return plan
    assert isinstance(model, PosteriorResponseModel)  # noqa: S101 -- type narrowing of an internal invariant, not input validation
    cur = _known_current(source)
    if cur is None:
        return dataclasses.replace(
            plan,
            notes=(
                *plan.notes,
                "No current spend for every channel: the plan was not checked against "
                "the current allocation.",
            ),
        )
    if sum(cur.values()) <= 0:
        return plan
    limits = resolve_constraints(
        cons, model.channels, plan.budget, current_spend=dict(cur), bounds=source.bounds
    )
    return risk_adjusted_plan(model, plan, cur, level=level, limits=limits)


def model_response(model_dir: str | Path, periods: int | None = None) -> ResponseModel:
    """The response model of a fitted model folder, for a plan of ``periods`` periods.

    The plan covers the modeling window unless ``periods`` says otherwise; each
    channel's spend in the plan is its total over those periods.
    """
    from mediamix.models.response import planning_response
    from mediamix.service.fit import load_model

    if periods is not None and periods <= 0:
        raise InputError.single("periods must be a positive number of periods", column="periods")
    return planning_response(load_model(model_dir), periods)


def reach_response(reach_file: str | Path, periods: int | None = None) -> ResponseModel:
    """The reach model of a ``reach.json`` file; the plan spreads spend over ``periods``
    weeks (the file's plan length by default)."""
    from mediamix.optimization.reach import read_reach

    if periods is not None and periods <= 0:
        raise InputError.single("periods must be a positive number of periods", column="periods")
    model, _ = read_reach(reach_file, periods=periods)
    return model


def compare_scenarios(
    model: ResponseModel, scenarios: Mapping[str, Any], *, file: str | None = None
) -> dict[str, Any]:
    """The current mix and what-if allocations side by side, nothing optimized.

    What the planner shows while a user edits budgets: per allocation its
    expected response, ROI, 90% interval over the model's draws, change against the
    current mix and (with draws) the probability of beating it; the same block as
    ``plan.json``'s ``scenarios`` (:func:`mediamix.optimization.scenarios.scenario_block`),
    on the same response model the optimizer plans on.

    Raises
    ------
    InputError
        Allocations that do not name every channel of the model with a spend
        ``>= 0`` (named by scenario and channel, in ``file``), reserved names, or a
        model that does not know the current spend of every channel.
    """
    from mediamix.optimization.scenarios import scenario_block, scenarios_from_dict

    current = current_spend_of(model)
    if current is None or any(current.get(c) is None for c in model.channels):
        raise InputError.single(
            "comparing scenarios needs the current spend of every channel", column="scenarios"
        )
    what_ifs = scenarios_from_dict(dict(scenarios), model.channels, file=file)
    allocations: dict[str, Mapping[str, float]] = {
        "current": {c: float(current[c] or 0.0) for c in model.channels},
        **what_ifs,
    }
    return scenario_block(model, allocations)


def planning_curves(model: ResponseModel, multiples: Any) -> Any:
    """Each channel's response curve on the planning model, with its 90% band.

    The table of :func:`mediamix.optimization.bands.curve_bands` around the model's
    current spend (``channel, multiple, spend, response, lower, upper,
    marginal_roi``): the basis the optimizer and the planner use.
    """
    from mediamix.optimization.bands import curve_bands

    current = current_spend_of(model)
    if current is None or any(current.get(c) is None for c in model.channels):
        raise InputError.single("curves need the current spend of every channel")
    return curve_bands(model, {c: float(current[c] or 0.0) for c in model.channels}, multiples)
