"""Budget allocation: the global optimum of a response model under constraints.

Response curves may be S-shaped (Hill slope > 1), so maximizing
``R(x) = sum_c r_c(x_c)`` subject to ``sum_c x_c = B`` is not a concave problem and
a local solver started anywhere can stop at a poor allocation. The solver works in
two stages:

1. **Global stage.** For a separable model (:class:`SeparableResponseModel`) whose
   only coupling constraint is the total, a dynamic programme over channels on a
   spend grid of step ``h = (B - sum_c lower_c) / N``:

   .. math:: V_c(n) = \\max_{0 \\le k \\le \\min(n, K_c)} V_{c-1}(n - k) + r_c(lower_c + k h)

   is exact on the grid (Bellman's principle holds for a sum of one-channel terms
   under one resource constraint). ``min_if_on`` channels simply forbid the grid
   points in ``(0, m)``. For any other model, or when groups, ratios or share-of-
   voice rules couple channels, the global stage is a multi-start: vertices of the
   feasible polytope from LPs with random costs, random convex combinations of
   them, and (separable models) the DP allocation projected onto the polytope;
   every on/off pattern of ``min_if_on`` channels is tried when there are at most
   five of them.
2. **Local stage.** SLSQP with analytic gradients from the best point(s), in
   spend scaled by the budget, then a repair step that puts the spend exactly on
   the budget and inside the bounds.

The test-suite checks the result against brute force (dense grids and an
independent fine DP) on random problems.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.optimize import linprog, minimize, minimize_scalar

from mediamix.errors import InputError
from mediamix.optimization.constraints import Constraints, SpendLimits, resolve_constraints
from mediamix.optimization.response import (
    PosteriorResponseModel,
    ResponseModel,
    SeparableResponseModel,
    channel_marginals,
    channel_responses,
    is_separable,
)

__all__ = [
    "ChannelAllocation",
    "Objective",
    "Plan",
    "allocate",
    "evaluate_allocation",
    "optimize_budget",
]

logger = logging.getLogger(__name__)

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
    """A recommended allocation (the ``plan.json`` of CONTRACTS.md).

    ``budget`` is the plan's total spend (for the target objectives, the budget
    found); ``max_budget`` the budget ``B`` given. ``response_interval`` is the
    90% interval of the plan's total response over posterior draws, when the
    model has draws. ``risk`` (see :mod:`mediamix.optimization.risk`) compares the
    plan with the current allocation across the draws, and ``notes`` say in plain
    words what the plan recommends and why. ``scenarios`` and ``frontier`` (see
    :mod:`mediamix.optimization.scenarios`) are filled in on request.
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
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    risk: Mapping[str, Any] | None = None
    notes: tuple[str, ...] = ()
    scenarios: Mapping[str, Any] | None = None
    frontier: Mapping[str, Any] | None = None

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
            **({"risk": dict(self.risk)} if self.risk is not None else {}),
            **({"notes": list(self.notes)} if self.notes else {}),
            **({"scenarios": dict(self.scenarios)} if self.scenarios is not None else {}),
            **({"frontier": dict(self.frontier)} if self.frontier is not None else {}),
        }


# --------------------------------------------------------------------------- helpers


def _finite_or_none(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def evaluate_allocation(
    model: ResponseModel,
    spend: np.ndarray | Mapping[str, float],
    *,
    objective: str = "revenue",
    status: Status = "optimal",
    budget: float | None = None,
    max_budget: float | None = None,
    target: float | None = None,
    method: str = "given",
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
    """
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
    if isinstance(model, PosteriorResponseModel) and getattr(model, "n_draws", 1) > 0:
        draws = np.asarray(model.response_draws(x), dtype=float)
        interval = (float(np.quantile(draws, 0.05)), float(np.quantile(draws, 0.95)))
    total = float(np.sum(x)) if budget is None else float(budget)
    return Plan(
        objective=str(objective),
        budget=total,
        status=status,
        total_response=float(model.response(x)),
        channels=MappingProxyType(chans),
        max_budget=float(max_budget if max_budget is not None else total),
        target=target,
        response_interval=interval,
        method=method,
    )


@dataclass(frozen=True)
class _Solution:
    x: np.ndarray
    value: float
    status: Status
    method: str


def _repair(x: np.ndarray, limits: SpendLimits) -> np.ndarray:
    """Clip to the bounds and move the total onto the budget using the channels' slack."""
    lo = limits.lower.copy()
    on_semi = (limits.min_if_on > 0) & (x > 0.5 * limits.min_if_on)
    lo[on_semi] = np.maximum(lo[on_semi], limits.min_if_on[on_semi])
    off_semi = (limits.min_if_on > 0) & ~on_semi
    hi = limits.upper.copy()
    hi[off_semi] = 0.0
    y = np.clip(x, lo, hi)
    y[off_semi] = 0.0
    y[(y < 1e-12 * limits.budget) & (lo <= 0)] = 0.0  # numerical dust, not a decision
    target = limits.budget
    for _ in range(20):
        gap = target - y.sum()
        if limits.total == "at_most" and gap >= 0:
            break
        if abs(gap) <= 1e-13 * max(target, 1.0):
            break
        room = (hi - y) if gap > 0 else (y - lo)
        room = np.where(np.isfinite(room), room, abs(gap) + 1.0)
        total_room = room.sum()
        if total_room <= 0:
            break
        y = np.clip(y + np.sign(gap) * room * min(1.0, abs(gap) / total_room), lo, hi)
    return y


def _safe_gradient(model: ResponseModel, x: np.ndarray, floor: float) -> np.ndarray:
    g = np.asarray(model.gradient(np.maximum(x, floor)), dtype=float)
    return np.where(np.isfinite(g), g, 1e12)


def _bounds_list(lower: np.ndarray, upper: np.ndarray) -> list[tuple[float, float | None]]:
    return [
        (float(a), float(b) if math.isfinite(b) else None)
        for a, b in zip(lower, upper, strict=True)
    ]


def _rule_matrices(limits: SpendLimits) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``G x <= h`` for the multi-channel rules (both sides)."""
    G: list[np.ndarray] = []
    h: list[float] = []
    for r in limits.rules:
        if math.isfinite(r.upper):
            G.append(r.coef)
            h.append(r.upper)
        if math.isfinite(r.lower):
            G.append(-r.coef)
            h.append(-r.lower)
    C = len(limits.channels)
    return (np.array(G).reshape(-1, C), np.array(h, dtype=float))


def _local(
    model: ResponseModel,
    x0: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    limits: SpendLimits,
    with_rules: bool,
) -> np.ndarray:
    """SLSQP from ``x0`` in scaled spend ``u = x / B``."""
    B = limits.budget
    scale = max(abs(float(model.response(x0))), 1e-12)
    floor = 1e-9 * B

    def fun(u: np.ndarray) -> float:
        return -float(model.response(np.maximum(u * B, 0.0))) / scale

    def jac(u: np.ndarray) -> np.ndarray:
        return -_safe_gradient(model, u * B, floor) * B / scale

    C = len(x0)
    cons: list[dict[str, Any]] = []
    ones = np.ones(C)
    if limits.total == "equal":
        cons.append(
            {
                "type": "eq",
                "fun": lambda u: np.array([u.sum() - 1.0]),
                "jac": lambda u: ones[None, :],
            }
        )
    else:
        cons.append(
            {
                "type": "ineq",
                "fun": lambda u: np.array([1.0 - u.sum()]),
                "jac": lambda u: -ones[None, :],
            }
        )
    if with_rules and limits.rules:
        G, h = _rule_matrices(limits)
        hs = h / B
        cons.append({"type": "ineq", "fun": lambda u: hs - G @ u, "jac": lambda u: -G})
    bounds = _bounds_list(lower / B, upper / B)
    res = minimize(
        fun,
        np.clip(x0 / B, lower / B, np.where(np.isfinite(upper), upper / B, np.inf)),
        jac=jac,
        bounds=bounds,
        constraints=cons,
        method="SLSQP",
        options={"maxiter": 300, "ftol": 1e-12},
    )
    return np.asarray(res.x) * B


# --------------------------------------------------------------------------- DP stage


def _grid(limits: SpendLimits, n_steps: int) -> tuple[float, list[np.ndarray]]:
    """Step ``h`` and each channel's grid of allowed spends (NaN where forbidden)."""
    lo, hi, semi = limits.lower, limits.upper, limits.min_if_on
    free = limits.budget - float(lo.sum())
    h = free / n_steps if free > 0 else 0.0
    grids = []
    for c in range(len(lo)):
        if h == 0:
            grids.append(np.array([lo[c]]))
            continue
        K = (
            n_steps
            if not math.isfinite(hi[c])
            else min(n_steps, math.floor((hi[c] - lo[c]) / h + 1e-9))
        )
        g = lo[c] + h * np.arange(K + 1)
        if semi[c] > 0:
            g = np.where((g > 0) & (g < semi[c] - 1e-12 * limits.budget), np.nan, g)
        grids.append(g)
    return h, grids


def _dp(values: list[np.ndarray], n_steps: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Max-plus DP: best value for each number of grid steps, and the choices.

    ``values[c][k]`` is channel ``c``'s response at its ``k``-th grid point
    (``-inf`` when forbidden). Returns ``V`` of shape ``(n_steps + 1,)`` and per
    channel the argmax table.
    """
    N = n_steps
    V = np.full(N + 1, -np.inf)
    V[: len(values[0])] = values[0][: N + 1]
    choices = [np.arange(N + 1)]
    for f in values[1:]:
        K = len(f) - 1
        Vp = np.concatenate([np.full(K, -np.inf), V])
        windows = sliding_window_view(Vp, K + 1)  # windows[n, j] = V[n + j - K]
        best = np.full(N + 1, -np.inf)
        arg = np.zeros(N + 1, dtype=np.int64)
        chunk = max(1, 4_000_000 // (K + 1))
        for s in range(0, N + 1, chunk):
            M = windows[s : s + chunk, ::-1] + f[None, :]  # M[n, k] = V[n - k] + f[k]
            a = np.argmax(M, axis=1)
            arg[s : s + chunk] = a
            best[s : s + chunk] = M[np.arange(M.shape[0]), a]
        V = best
        choices.append(arg)
    return V, choices


def _dp_solution(
    model: SeparableResponseModel, limits: SpendLimits, n_steps: int
) -> tuple[np.ndarray, float, np.ndarray, float]:
    """DP allocation at the budget; also the whole frontier ``V(n)`` and step ``h``."""
    h, grids = _grid(limits, n_steps)
    C = len(grids)
    values = []
    for c, g in enumerate(grids):
        pts = np.zeros((len(g), C))
        pts[:, c] = np.nan_to_num(g)
        r = model.channel_response(pts)[:, c]
        values.append(np.where(np.isnan(g), -np.inf, r))
    N = n_steps if h > 0 else 0
    V, choices = _dp([v if N else v[:1] for v in values], N)
    finite = np.flatnonzero(np.isfinite(V))
    if len(finite) == 0:
        raise InputError.single("no allocation on the spend grid satisfies the bounds")
    n = int(finite[-1]) if limits.total == "equal" else int(finite[np.argmax(V[finite])])
    ks = np.zeros(C, dtype=np.int64)
    for c in range(C - 1, 0, -1):
        ks[c] = choices[c][n]
        n -= int(ks[c])
    ks[0] = n
    x = np.array([np.nan_to_num(grids[c][ks[c]]) for c in range(C)])
    return x, h, V, float(limits.lower.sum())


def _polish_separable(
    model: ResponseModel, x_dp: np.ndarray, h: float, limits: SpendLimits
) -> np.ndarray:
    lo = limits.lower.copy()
    hi = limits.upper.copy()
    semi = limits.min_if_on
    off = (semi > 0) & (x_dp == 0)
    on = (semi > 0) & (x_dp > 0)
    lo[on] = np.maximum(lo[on], semi[on])
    hi[off] = 0.0
    blo = np.maximum(lo, x_dp - 2 * h)
    bhi = np.minimum(hi, x_dp + 2 * h)
    blo[off] = 0.0
    bhi[off] = 0.0
    if limits.total == "equal" and not (blo.sum() <= limits.budget <= bhi.sum()):
        blo, bhi = lo, hi
    x = _local(model, x_dp, blo, bhi, limits, with_rules=False)
    bounded = _replace_bounds(limits, lo, hi)
    return _repair(x, bounded)


def _replace_bounds(limits: SpendLimits, lower: np.ndarray, upper: np.ndarray) -> SpendLimits:
    """``limits`` with other channel bounds (semi-continuity dropped)."""
    from dataclasses import replace

    return replace(limits, lower=lower, upper=upper, min_if_on=np.zeros_like(lower))


# --------------------------------------------------------------------------- multi-start


def _lp_point(
    limits: SpendLimits, lower: np.ndarray, upper: np.ndarray, cost: np.ndarray
) -> np.ndarray | None:
    C = len(lower)
    G, h = _rule_matrices(limits)
    A_ub, b_ub = G, h
    A_eq = b_eq = None
    if limits.total == "equal":
        A_eq, b_eq = np.ones((1, C)), np.array([limits.budget])
    else:
        A_ub = np.vstack([G, np.ones((1, C))])
        b_ub = np.concatenate([h, [limits.budget]])
    res = linprog(
        cost,
        A_ub=A_ub if len(A_ub) else None,
        b_ub=b_ub if len(b_ub) else None,
        A_eq=A_eq,
        b_eq=b_eq,
        bounds=_bounds_list(lower, upper),
        method="highs",
    )
    return np.asarray(res.x) if res.status == 0 else None


def _projection(
    limits: SpendLimits, lower: np.ndarray, upper: np.ndarray, x0: np.ndarray
) -> np.ndarray | None:
    """The feasible point closest to ``x0`` in L1 (an LP with slack variables)."""
    C = len(x0)
    G, h = _rule_matrices(limits)
    # variables [x, t]; minimize sum t with t >= |x - x0|
    eye = np.eye(C)
    A_ub = [np.hstack([eye, -eye]), np.hstack([-eye, -eye])]
    b_ub = [x0, -x0]
    if len(G):
        A_ub.append(np.hstack([G, np.zeros_like(G)]))
        b_ub.append(h)
    A_eq = b_eq = None
    if limits.total == "equal":
        A_eq = np.hstack([np.ones((1, C)), np.zeros((1, C))])
        b_eq = np.array([limits.budget])
    else:
        A_ub.append(np.hstack([np.ones((1, C)), np.zeros((1, C))]))
        b_ub.append(np.array([limits.budget]))
    bnds = _bounds_list(lower, upper)
    res = linprog(
        np.concatenate([np.zeros(C), np.ones(C)]),
        A_ub=np.vstack(A_ub),
        b_ub=np.concatenate(b_ub),
        A_eq=A_eq,
        b_eq=b_eq,
        bounds=bnds + [(0, None)] * C,
        method="highs",
    )
    return np.asarray(res.x[:C]) if res.status == 0 else None


def _patterns(limits: SpendLimits, hint: np.ndarray | None) -> list[np.ndarray]:
    semi_idx = np.flatnonzero(limits.min_if_on > 0)
    if len(semi_idx) == 0:
        return [np.ones(len(limits.channels), dtype=bool)]
    if len(semi_idx) <= 5:
        out = []
        for bits in range(2 ** len(semi_idx)):
            on = np.ones(len(limits.channels), dtype=bool)
            for j, i in enumerate(semi_idx):
                on[i] = bool((bits >> j) & 1)
            out.append(on)
        return out
    pats = [np.ones(len(limits.channels), dtype=bool)]
    if hint is not None:
        pats.append(~((limits.min_if_on > 0) & (hint == 0)))
    return pats


def _multistart(
    model: ResponseModel,
    limits: SpendLimits,
    rng: np.random.Generator,
    hint: np.ndarray | None,
    n_starts: int,
) -> np.ndarray:
    best_x: np.ndarray | None = None
    best_v = -np.inf
    C = len(limits.channels)
    for on in _patterns(limits, hint):
        lo = np.where(on, np.maximum(limits.lower, limits.min_if_on), 0.0)
        hi = np.where(on, limits.upper, 0.0)
        starts: list[np.ndarray] = []
        if hint is not None:
            p = _projection(limits, lo, hi, hint)
            if p is not None:
                starts.append(p)
        vertices = []
        for _ in range(max(2, n_starts // 2)):
            vert = _lp_point(limits, lo, hi, rng.normal(size=C))
            if vert is None:
                break
            vertices.append(vert)
        if not vertices:
            continue  # this on/off pattern is infeasible
        V = np.array(vertices)
        starts.append(V.mean(axis=0))
        starts.extend(vertices[: n_starts // 4])
        while len(starts) < n_starts:
            starts.append(rng.dirichlet(np.ones(len(V))) @ V)
        pat_limits = _replace_bounds(limits, lo, hi)
        for x0 in starts:
            x = _repair(_local(model, x0, lo, hi, limits, with_rules=True), pat_limits)
            if (
                limits.rules
                and max((r.violation(x) for r in limits.rules), default=0.0) > 1e-7 * limits.budget
            ):
                continue
            v = float(model.response(x))
            if v > best_v:
                best_x, best_v = x, v
    if best_x is None:
        raise InputError.single("no feasible allocation found for these constraints")
    return best_x


def allocate(
    model: ResponseModel,
    limits: SpendLimits,
    *,
    grid_steps: int = 1000,
    n_starts: int = 16,
    seed: int = 0,
) -> tuple[np.ndarray, Status, str]:
    """Maximize ``model.response(x)`` subject to ``limits``.

    Returns the spend vector, the status and the method used.

    Examples
    --------
    >>> from mediamix.optimization.response import curves_from_dict
    >>> from mediamix.optimization.constraints import resolve_constraints
    >>> hill = {"type": "hill", "half_saturation": 10.0, "slope": 1.0}
    >>> m = curves_from_dict({"channels": {"a": {"beta": 1.0, "saturation": hill},
    ...                                    "b": {"beta": 1.0, "saturation": hill}}})
    >>> x, status, _ = allocate(m, resolve_constraints(None, m.channels, 20.0))
    >>> np.round(x, 6).tolist(), status
    ([10.0, 10.0], 'optimal')
    """
    rng = np.random.default_rng(seed)
    if is_separable(model):
        sep: SeparableResponseModel = model  # type: ignore[assignment]
        x_dp, h, _, _ = _dp_solution(sep, limits, grid_steps)
        x = _polish_separable(model, x_dp, h, limits)
        if float(model.response(x)) < float(model.response(x_dp)):
            x = x_dp
        if not limits.rules:
            return x, "optimal", "dp+slsqp"
        if not limits.violations(x):
            # the DP optimum without the coupling rules already satisfies them
            return x, "optimal", "dp+slsqp"
        return _multistart(model, limits, rng, x, n_starts), "converged", "multistart-slsqp"
    return _multistart(model, limits, rng, None, n_starts), "converged", "multistart-slsqp"


# --------------------------------------------------------------------------- objectives


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


def _choose_budget(
    model: ResponseModel,
    limits: SpendLimits,
    objective: Objective,
    target: float | None,
    grid_steps: int,
) -> float:
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
        return (
            _bisect(lambda b: value(b)[0] < target, float(grid[j - 1]), float(grid[j]), tol) + tol
        )

    if objective is Objective.TARGET_ROI:
        assert target is not None
        roi = vals / grid
        ok = np.flatnonzero(roi >= target)
        if len(ok) == 0:
            raise InputError.single(
                f"no budget up to {B:g} reaches an average ROI of {target:g} "
                f"(the best on the scan is {roi.max():.4g})",
                column="--target",
            )
        j = int(ok[-1])
        if j == len(grid) - 1:
            return float(grid[-1])
        return _bisect(lambda b: value(b)[0] / b >= target, float(grid[j]), float(grid[j + 1]), tol)

    if objective is Objective.TARGET_MROI:
        assert target is not None
        d = 1e-3 * B

        def mroi(b: float) -> float:
            b0, b1 = max(lo, b - d), min(hi, b + d)
            return (value(b1)[0] - value(b0)[0]) / (b1 - b0)

        m = np.array([mroi(float(b)) for b in grid])
        ok = np.flatnonzero(m >= target)
        if len(ok) == 0:
            raise InputError.single(
                f"no budget up to {B:g} has a marginal ROI of {target:g} "
                f"(the best on the scan is {m.max():.4g})",
                column="--target",
            )
        j = int(ok[-1])
        if j == len(grid) - 1:
            return float(grid[-1])
        return _bisect(lambda b: mroi(b) >= target, float(grid[j]), float(grid[j + 1]), tol)

    # Objective.ROI: the budget with the largest average ROI (at least the target response)
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


def optimize_budget(
    model: ResponseModel,
    budget: float,
    constraints: Constraints | SpendLimits | None = None,
    objective: Objective | str = Objective.REVENUE,
    *,
    target: float | None = None,
    current_spend: Mapping[str, float | None] | None = None,
    bounds: Mapping[str, tuple[float, float | None]] | None = None,
    grid_steps: int = 1000,
    n_starts: int = 16,
    seed: int = 0,
) -> Plan:
    """Find the allocation of ``budget`` that best meets ``objective``.

    Parameters
    ----------
    model : ResponseModel
        Expected response to total spend per channel (posterior mean for Bayesian
        models; the plan then carries the 90% interval of its response).
    budget : float
        ``B``, currency, total over the plan. For the target and ``roi``
        objectives, the largest budget considered.
    constraints : Constraints or SpendLimits, optional
        Parsed constraints YAML, or limits already resolved.
    objective : Objective or str
        See :class:`Objective`.
    target : float, optional
        Target ROI, marginal ROI or response, as the objective needs.
    current_spend, bounds : mapping, optional
        Current spend and ``(min, max)`` per channel (e.g. from ``CURVES.json``).
    grid_steps : int
        Steps of the DP spend grid (global stage).

    Returns
    -------
    Plan

    Raises
    ------
    InputError
        Constraints that cannot hold (naming them), a missing or unreachable target.

    Examples
    --------
    >>> from mediamix.optimization.response import curves_from_dict
    >>> s_curve = {"type": "hill", "half_saturation": 50.0, "slope": 3.0}
    >>> m = curves_from_dict({"channels": {"a": {"beta": 100.0, "saturation": s_curve},
    ...                                    "b": {"beta": 100.0, "saturation": s_curve}}})
    >>> plan = optimize_budget(m, 60.0)
    >>> sorted(round(c.spend, 3) for c in plan.channels.values())  # all-in beats a split
    [0.0, 60.0]
    >>> round(plan.total_response, 3)
    63.343
    """
    objective = Objective(objective)
    needs_target = {Objective.TARGET_ROI, Objective.TARGET_MROI, Objective.TARGET_REVENUE}
    if objective in needs_target and target is None:
        raise InputError.single(f"objective '{objective}' needs --target", column="--target")
    if isinstance(constraints, SpendLimits):
        limits = constraints.with_budget(budget)
    else:
        limits = resolve_constraints(
            constraints, model.channels, budget, current_spend=current_spend, bounds=bounds
        )
    chosen = budget
    if objective not in (Objective.REVENUE, Objective.REACH):
        chosen = _choose_budget(model, limits, objective, target, grid_steps)
        limits = limits.with_budget(chosen, "equal")
    x, status, method = allocate(model, limits, grid_steps=grid_steps, n_starts=n_starts, seed=seed)
    logger.info("optimized %d channels for budget %g: %s (%s)", len(x), chosen, status, method)
    return evaluate_allocation(
        model,
        x,
        objective=objective.value,
        status=status,
        budget=chosen,
        max_budget=budget,
        target=target,
        method=method,
    )
