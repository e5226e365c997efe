"""Use case: which lift test to run next (``mediamix experiments suggest``).

Plans the model's budget the way ``optimize`` does (default band, risk check),
then ranks the channels by how much a lift test on each would narrow the
uncertainty of the optimized plan's gain over the current mix
(:func:`mediamix.optimization.experiments.suggest_tests`), with a geo holdout
design for each: duration, holdout share and the minimum detectable lift at 80%
power given the model's residual noise. The optimized plan, not the recommended
one, is the plan judged: when the risk check keeps the current mix because the
model is unsure, the test is what would let the plan move.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from mediamix.errors import InputError
from mediamix.io.atomic import atomic_write_json

__all__ = ["suggest_experiments"]

logger = logging.getLogger(__name__)


def suggest_experiments(
    model_dir: str | Path,
    budget: float | None = None,
    *,
    top: int = 3,
    out: Path | None = None,
) -> dict[str, Any]:
    """The ranked lift tests for a fitted model folder (the ``experiments.json`` document).

    ``budget`` defaults to the current total spend over the modeling window. The
    document holds ``plan`` (the optimized plan's spend per channel and the 90%
    interval of its gain over the current mix) and ``suggestions``, best first,
    the first ``top`` with their design.

    Raises
    ------
    InputError
        A model without draws (nothing to rank by), or a bad budget.
    """
    from mediamix.models.response import planning_response
    from mediamix.optimization.experiments import suggest_tests
    from mediamix.optimization.response import PosteriorResponseModel, has_draws
    from mediamix.service.fit import load_model
    from mediamix.service.optimize import optimize, optimize_request

    result = load_model(model_dir)
    model = planning_response(result)
    if not (isinstance(model, PosteriorResponseModel) and has_draws(model)):
        raise InputError.single(
            "the model has no draws (bootstrap, ensemble or posterior) to rank tests by",
            file=str(model_dir),
        )
    current = model.current_spend
    total = float(budget if budget is not None else sum(current.values()))
    if not (total > 0 and np.isfinite(total)):
        raise InputError.single(
            f"the budget must be a positive number, got {total}", column="--budget"
        )
    plan = optimize(optimize_request(total), response_model=model)
    spend = (
        np.array([plan.risk.optimized_spend[c] for c in model.channels])
        if plan.risk is not None
        else plan.spend
    )
    residual = np.asarray(result.actual, float) - np.asarray(result.fitted, float)
    sigma = float(np.std(residual, ddof=1))
    ranked = suggest_tests(model, spend, current, sigma, model.periods)
    cur = np.array([current[c] for c in model.channels])
    base = cur * spend.sum() / cur.sum()
    draws = np.asarray(model.response_draws(np.vstack([spend, base])), float)
    gain = draws[:, 0] - draws[:, 1]
    doc = {
        "budget": total,
        "noise_sd": sigma,
        "plan": {
            "spend": {c: float(v) for c, v in zip(model.channels, spend, strict=True)},
            "recommendation": plan.risk.recommendation if plan.risk is not None else None,
            "gain_interval": [float(np.quantile(gain, 0.05)), float(np.quantile(gain, 0.95))],
            "n_draws": int(draws.shape[0]),
        },
        "suggestions": [
            s.to_dict() if k < top else {k2: v for k2, v in s.to_dict().items() if k2 != "design"}
            for k, s in enumerate(ranked)
        ],
    }
    logger.info("experiments: %s first", ranked[0].channel if ranked else None)
    if out is not None:
        atomic_write_json(out, doc)
    return doc
