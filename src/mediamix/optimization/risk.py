"""Uncertainty-aware plans: is the recommended allocation safely better than today's?

A plan optimized for the expected (point) response can be worse than the current
allocation under plausible models. With a :class:`PosteriorResponseModel` (draws
``s = 1..S``) the relative change of a plan ``x`` against a baseline ``x0`` is, per
draw::

    change_s(x) = (R_s(x) - R_s(x0)) / R_s(x0)

The baseline is the current allocation rescaled to the plan's total spend (the
historical mix at the same budget), so plans at another budget are judged by
their allocation, not by spending more.

**Rule.** A plan is *safe* when ``P(change > 0) >= level``, evaluated as the
``1 - level`` quantile of ``change_s`` being ``>= 0``. When the optimized plan is
not safe, the recommendation is the point ``x(t) = x0 + t (x - x0)``,
``t in [0, 1]``, with the largest expected response among the safe points (a
move part of the way, which keeps the budget and, the feasible set being convex,
the constraints that both ends satisfy). ``t = 0`` is the current mix: then the
advice is to keep it. ``level = 0.9`` by default; ``benchmarks/decision_bench.py``
shows how the choice trades captured uplift against plans worse than history.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from mediamix.optimization.constraints import SpendLimits
from mediamix.optimization.response import PosteriorResponseModel, ResponseModel
from mediamix.optimization.solver import Plan, PlanContext, evaluate_allocation

__all__ = ["PlanRisk", "Recommendation", "RiskAssessment", "assess_change", "risk_adjusted_plan"]

logger = logging.getLogger(__name__)

Recommendation = Literal["optimized", "partial", "current", "unsafe"]
"""``optimized``: the optimized plan is safe; ``partial``: part of the way from the
current mix to the optimized plan; ``current``: keep the current mix; ``unsafe``: no
point of the line both meets the constraints and is safe (the optimized plan is
returned, flagged)."""

DEFAULT_LEVEL = 0.9


@dataclass(frozen=True)
class RiskAssessment:
    """How a plan compares with the baseline across the model's draws.

    ``probability_better`` is the share of draws in which the plan's response beats
    the baseline's; ``change`` the 5%, 50% and 95% quantiles of the relative change.
    """

    probability_better: float
    change: tuple[float, float, float]
    n_draws: int

    def to_dict(self) -> dict[str, Any]:
        """The assessment's part of the ``risk`` block of ``plan.json``."""
        q05, q50, q95 = self.change
        return {
            "probability_better": self.probability_better,
            "change_q05": q05,
            "change_q50": q50,
            "change_q95": q95,
            "n_draws": self.n_draws,
        }


@dataclass(frozen=True)
class PlanRisk:
    """The risk check of a plan (its ``risk`` block in ``plan.json``).

    Attributes
    ----------
    recommendation : Recommendation
        What the check recommends (see :data:`Recommendation`).
    level : float
        Required probability that the recommendation beats the baseline.
    step : float
        ``t`` of the recommended point ``x0 + t (x - x0)`` (1: the optimized plan,
        0: the current mix).
    baseline : mapping of str to float
        The current mix rescaled to the plan's total spend, per channel (currency).
    optimized : RiskAssessment
        The optimized plan against the baseline.
    optimized_response : float
        The optimized plan's expected total response (KPI units).
    optimized_spend : mapping of str to float
        The optimized plan's spend per channel (currency), kept when another point
        is recommended.
    recommended : RiskAssessment
        The recommended plan against the baseline.

    Examples
    --------
    >>> same = RiskAssessment(probability_better=0.95, change=(0.01, 0.05, 0.1), n_draws=200)
    >>> risk = PlanRisk("optimized", 0.9, 1.0, {"tv": 10.0}, same, 12.0, {"tv": 10.0}, same)
    >>> doc = risk.to_dict()
    >>> doc["recommendation"], doc["optimized"]["total_response"], doc["recommended"]["n_draws"]
    ('optimized', 12.0, 200)
    """

    recommendation: Recommendation
    level: float
    step: float
    baseline: Mapping[str, float]
    optimized: RiskAssessment
    optimized_response: float
    optimized_spend: Mapping[str, float]
    recommended: RiskAssessment

    @property
    def rule(self) -> str:
        """The rule the check applied, in words."""
        return (
            f"recommend a plan only if it beats the current mix (rescaled to the plan's "
            f"budget) in at least {self.level:.0%} of the model's draws; otherwise move from "
            "the current mix toward the optimized plan only as far as that still holds"
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``risk`` block of ``plan.json`` (docs/formats.md)."""
        return {
            "recommendation": self.recommendation,
            "level": self.level,
            "rule": self.rule,
            "step": self.step,
            "baseline": dict(self.baseline),
            "optimized": self.optimized.to_dict()
            | {"total_response": self.optimized_response, "spend": dict(self.optimized_spend)},
            "recommended": self.recommended.to_dict(),
        }


def _as_vector(model: ResponseModel, spend: np.ndarray | Mapping[str, float]) -> np.ndarray:
    if isinstance(spend, Mapping):
        return np.array([float(spend[c]) for c in model.channels])
    return np.asarray(spend, dtype=float)


def _changes(model: PosteriorResponseModel, points: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Relative change per draw (S, P) of ``points`` (P, C) against ``base`` (C,)."""
    draws = np.asarray(model.response_draws(np.vstack([base[None], points])), dtype=float)
    ref = draws[:, :1]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = (draws[:, 1:] - ref) / np.abs(ref)
    return np.where(np.isfinite(rel), rel, 0.0)


def assess_change(
    model: PosteriorResponseModel,
    spend: np.ndarray | Mapping[str, float],
    baseline: np.ndarray | Mapping[str, float],
) -> RiskAssessment:
    """Probability that ``spend`` beats ``baseline``, and quantiles of the change.

    Examples
    --------
    >>> import numpy as np
    >>> class Lin:  # two channels, linear, draws disagree on which is better
    ...     channels = ("a", "b")
    ...     def response_draws(self, x):
    ...         w = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 3.0], [1.0, 4.0]])
    ...         return np.tensordot(w, np.asarray(x), axes=([1], [-1]))
    ...     def response(self, x):
    ...         return self.response_draws(x).mean(0)
    ...     def gradient(self, x):
    ...         return np.broadcast_to([1.25, 2.5], np.shape(x))
    >>> r = assess_change(Lin(), [0.0, 1.0], [0.5, 0.5])
    >>> r.probability_better
    0.75
    """
    x = _as_vector(model, spend)
    base = _as_vector(model, baseline)
    rel = _changes(model, x[None], base)[:, 0]
    q = np.quantile(rel, [0.05, 0.5, 0.95])
    return RiskAssessment(
        probability_better=float(np.mean(rel > 0)),
        change=(float(q[0]), float(q[1]), float(q[2])),
        n_draws=int(rel.size),
    )


def _pct(v: float) -> str:
    return f"{v:+.1%}"


def risk_adjusted_plan(
    model: PosteriorResponseModel,
    plan: Plan,
    current_spend: np.ndarray | Mapping[str, float],
    *,
    level: float = DEFAULT_LEVEL,
    steps: int = 50,
    limits: SpendLimits | None = None,
) -> Plan:
    """The plan to recommend given the model's uncertainty, with a ``risk`` block.

    Parameters
    ----------
    model : PosteriorResponseModel
        The model ``plan`` was optimized on (its ``response`` is the point or mean).
    plan : Plan
        The optimized plan.
    current_spend : array (C,) or mapping
        The current (historical) allocation; rescaled to the plan's total spend.
    level : float
        Required probability that the recommendation beats the baseline.
    steps : int
        Points on the line from the baseline to the optimized plan.
    limits : SpendLimits, optional
        The plan's constraints: points of the line that break them are not
        recommended (the current mix may break constraints the user just set).

    Returns
    -------
    Plan
        ``plan`` itself when it is safe, otherwise the safe point on the line; in
        both cases with ``risk`` (a :class:`PlanRisk`: the recommendation, the
        assessments of the optimized and recommended plans, the step ``t``, the
        optimized allocation) and plain-language ``notes``.
    """
    if not 0.5 <= level < 1.0:
        raise ValueError("level must be in [0.5, 1)")
    cur = _as_vector(model, current_spend)
    x = plan.spend
    total = float(x.sum())
    base = cur * (total / cur.sum()) if cur.sum() > 0 else cur
    t = np.linspace(0.0, 1.0, steps + 1)
    points = base[None] + t[:, None] * (x - base)[None]
    rel = _changes(model, points, base)  # (S, P)
    lower = np.quantile(rel, 1.0 - level, axis=0)
    mean = np.asarray(model.response(points), dtype=float)
    feasible = np.ones(len(t), dtype=bool)
    if limits is not None:
        bound = limits.with_budget(total, "equal")
        feasible[:-1] = [not bound.violations(p, rtol=1e-6) for p in points[:-1]]
    safe = (lower >= 0.0) & feasible
    safe[0] = feasible[0]  # the baseline itself: no change
    idx = int(np.argmax(np.where(safe, mean, -np.inf)))
    optimized = assess_change(model, x, base)
    rec: Recommendation
    if not safe.any():
        rec, chosen, idx = "unsafe", plan, steps
    elif safe[-1] and idx == steps:
        rec, chosen = "optimized", plan
    else:
        rec = "current" if idx == 0 else "partial"
        chosen = evaluate_allocation(
            model,
            points[idx],
            PlanContext(
                objective=plan.objective,
                status=plan.status,
                budget=plan.budget,
                max_budget=plan.max_budget,
                target=plan.target,
                method=f"{plan.method}; risk-adjusted",
            ),
        )
    recommended = assess_change(model, chosen.spend, base)
    note = _note(rec, level, optimized, recommended, float(t[idx]))
    logger.info("risk: %s", note)
    risk = PlanRisk(
        recommendation=rec,
        level=level,
        step=float(t[idx]),
        baseline={c: float(v) for c, v in zip(model.channels, base, strict=True)},
        optimized=optimized,
        optimized_response=plan.total_response,
        optimized_spend={c: a.spend for c, a in plan.channels.items()},
        recommended=recommended,
    )
    return dataclasses.replace(chosen, risk=risk, notes=(*plan.notes, note))


def _note(
    rec: Recommendation,
    level: float,
    optimized: RiskAssessment,
    recommended: RiskAssessment,
    step: float,
) -> str:
    lo, mid, hi = optimized.change
    head = (
        f"The optimized plan beats the current mix in {optimized.probability_better:.0%} of "
        f"the model's draws (change {_pct(mid)}, 90% range {_pct(lo)} to {_pct(hi)})"
    )
    if rec == "optimized":
        return f"{head}; recommended."
    if rec == "unsafe":
        return (
            f"{head}, below the required {level:.0%}, and no move from the current mix "
            "toward it both meets the constraints and is safe: the optimized plan is shown "
            "but NOT recommended; relax the constraints or test before moving budget."
        )
    if rec == "current":
        return (
            f"{head}, below the required {level:.0%}: the model is too uncertain to "
            "recommend a reallocation; keep the current mix and test before moving budget."
        )
    rlo, rmid, rhi = recommended.change
    return (
        f"{head}, below the required {level:.0%}: recommending a partial move, "
        f"{step:.0%} of the way from the current mix to the optimized plan, which beats "
        f"the current mix in {recommended.probability_better:.0%} of draws (change "
        f"{_pct(rmid)}, 90% range {_pct(rlo)} to {_pct(rhi)})."
    )
