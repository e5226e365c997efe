r"""The total budget for the ``roi`` and target objectives.

Each objective is a property of the best response :math:`R^*(b)` at total spend
``b``: the smallest ``b`` with :math:`R^*(b) \ge` target (``target_revenue``), the
largest ``b`` whose average ROI :math:`R^*(b)/b` (``target_roi``) or marginal ROI
:math:`dR^*/db` (``target_mroi``) still reaches the target, or the ``b`` with the
largest average ROI (``roi``). :math:`R^*` is scanned on an even grid of budgets,
then the crossing (or the maximum) is refined by bisection (or a bounded scalar
search) to a millionth of the budget.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize_scalar

from mediamix.errors import InputError
from mediamix.optimization.allocate import allocate
from mediamix.optimization.constraints import SpendLimits
from mediamix.optimization.plan import Objective
from mediamix.optimization.response import ResponseModel

__all__ = ["choose_budget"]


_Value = Callable[[float], tuple[float, np.ndarray]]


def _best_value(
    model: ResponseModel, limits: SpendLimits, grid_steps: int
) -> Callable[[float], tuple[float, np.ndarray]]:
    cache: dict[float, tuple[float, np.ndarray]] = {}

    def value(b: float) -> tuple[float, np.ndarray]:
        if b not in cache:
            x, _, _ = allocate(model, limits.with_budget(b, "equal"), grid_steps=grid_steps)
            cache[b] = (float(model.response(x)), x)
        return cache[b]

    return value


def _budget_grid(lo: float, hi: float, n: int = 33) -> np.ndarray:
    return np.linspace(lo, hi, n)


def _bisect(pred: Callable[[float], bool], good: float, bad: float, tol: float) -> float:
    """Boundary between ``good`` (pred True) and ``bad`` (pred False)."""
    for _ in range(60):
        if abs(bad - good) <= tol:
            break
        mid = 0.5 * (good + bad)
        if pred(mid):
            good = mid
        else:
            bad = mid
    return good


def _last_crossing(
    grid: np.ndarray, ok: np.ndarray, pred: Callable[[float], bool], tol: float, message: str
) -> float:
    """The largest budget where ``pred`` holds: the last grid point ``ok``, refined by
    bisection towards the next; ``message`` when no grid point is ``ok``."""
    where = np.flatnonzero(ok)
    if len(where) == 0:
        raise InputError.single(message, column="--target")
    j = int(where[-1])
    if j == len(grid) - 1:
        return float(grid[-1])
    return _bisect(pred, float(grid[j]), float(grid[j + 1]), tol)


def _target_revenue(
    value: _Value, grid: np.ndarray, vals: np.ndarray, target: float, B: float, tol: float
) -> float:
    """The smallest budget whose best response reaches ``target``."""
    reach = np.flatnonzero(vals >= target)
    if len(reach) == 0:
        raise InputError.single(
            f"target response {target:g} is out of reach within the budget {B:g}; "
            f"the most it earns is {vals[-1]:g}",
            column="--target",
        )
    j = int(reach[0])
    if j == 0:
        return float(grid[0])
    return _bisect(lambda b: value(b)[0] < target, float(grid[j - 1]), float(grid[j]), tol) + tol


def _target_roi(
    value: _Value, grid: np.ndarray, vals: np.ndarray, target: float, B: float, tol: float
) -> float:
    """The largest budget whose average ROI is at least ``target``."""
    roi = vals / grid
    return _last_crossing(
        grid,
        roi >= target,
        lambda b: value(b)[0] / b >= target,
        tol,
        f"no budget up to {B:g} reaches an average ROI of {target:g} "
        f"(the best on the scan is {roi.max():.4g})",
    )


def _target_mroi(value: _Value, grid: np.ndarray, target: float, B: float, tol: float) -> float:
    """The largest budget whose marginal ROI (central difference of 0.1% of ``B``) reaches ``target``."""
    lo, hi = float(grid[0]), float(grid[-1])
    d = 1e-3 * B

    def mroi(b: float) -> float:
        b0, b1 = max(lo, b - d), min(hi, b + d)
        return (value(b1)[0] - value(b0)[0]) / (b1 - b0)

    m = np.array([mroi(float(b)) for b in grid])
    return _last_crossing(
        grid,
        m >= target,
        lambda b: mroi(b) >= target,
        tol,
        f"no budget up to {B:g} has a marginal ROI of {target:g} "
        f"(the best on the scan is {m.max():.4g})",
    )


def _best_roi(
    value: _Value, grid: np.ndarray, vals: np.ndarray, target: float | None, B: float, tol: float
) -> float:
    """The budget with the largest average ROI (whose response reaches ``target``, if given)."""
    roi = vals / grid
    if target is not None:
        roi = np.where(vals >= target, roi, -np.inf)
        if not np.isfinite(roi).any():
            raise InputError.single(
                f"target response {target:g} is out of reach within the budget {B:g}",
                column="--target",
            )
    j = int(np.argmax(roi))
    left, right = float(grid[max(j - 1, 0)]), float(grid[min(j + 1, len(grid) - 1)])
    if right - left <= tol:
        return float(grid[j])

    def neg_roi(bb: float) -> float:
        v = value(float(bb))[0]
        if target is not None and v < target:
            return math.inf
        return -v / bb

    res = minimize_scalar(neg_roi, bounds=(left, right), method="bounded", options={"xatol": tol})
    best = float(res.x)
    return best if neg_roi(best) <= -roi[j] else float(grid[j])


def choose_budget(
    model: ResponseModel,
    limits: SpendLimits,
    objective: Objective,
    target: float | None,
    grid_steps: int,
) -> float:
    """The total budget (at most ``limits.budget``) that ``objective`` asks for.

    Raises
    ------
    InputError
        No total spend satisfies the constraints, or the target is out of reach.
    """
    B = limits.budget
    b_min, b_max = limits.total_range()
    hi = min(B, b_max)
    lo = max(b_min, 0.01 * B if objective is Objective.ROI else b_min, 1e-9 * B)
    if lo > hi:
        raise InputError.single(
            f"no total spend between {lo:g} and {hi:g} satisfies the constraints"
        )
    value = _best_value(model, limits, grid_steps)
    tol = 1e-6 * B
    grid = _budget_grid(lo, hi)
    vals = np.array([value(float(b))[0] for b in grid])
    if objective is Objective.TARGET_REVENUE:
        assert target is not None
        return _target_revenue(value, grid, vals, target, B, tol)
    if objective is Objective.TARGET_ROI:
        assert target is not None
        return _target_roi(value, grid, vals, target, B, tol)
    if objective is Objective.TARGET_MROI:
        assert target is not None
        return _target_mroi(value, grid, target, B, tol)
    return _best_roi(value, grid, vals, target, B, tol)
