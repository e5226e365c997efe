"""Use case: optimize a budget from response curves or a response model.

Called by the CLI (``mediamix optimize``), the API and the pipelines. Reads the
inputs, runs :func:`mediamix.optimization.solver.optimize_budget` and writes
``plan.json`` atomically (temporary file in the same folder, fsync, rename) only
after the plan has been found, so a failed run leaves no file behind.
"""

from __future__ import annotations

import logging
from pathlib import Path

from mediamix.errors import InputError
from mediamix.io.atomic import atomic_write_json
from mediamix.optimization.constraints import read_constraints
from mediamix.optimization.response import CurvesResponse, ResponseModel, read_curves
from mediamix.optimization.solver import Objective, Plan, optimize_budget

__all__ = ["optimize"]

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
) -> Plan:
    """Optimize ``budget`` and optionally write ``plan.json``.

    Exactly one of ``curves`` (a ``CURVES.json`` file) and ``response_model`` (any
    :class:`~mediamix.optimization.response.ResponseModel`, e.g. a fitted model's
    adapter) must be given. Current spend and per-channel bounds come from the
    curves file when there is one.

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
    if out is not None:
        atomic_write_json(out, plan.to_dict())
        logger.info("wrote %s", out)
    return plan


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
