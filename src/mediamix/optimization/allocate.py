"""Allocation of a fixed budget: the global optimum of a response model under constraints.

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
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.optimize import linprog, minimize

from mediamix.errors import InputError
from mediamix.optimization.constraints import SpendLimits
from mediamix.optimization.plan import Status
from mediamix.optimization.response import (
    ResponseModel,
    SeparableResponseModel,
    is_separable,
)

__all__ = ["SolverOptions", "allocate"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SolverOptions:
    """Knobs of :func:`allocate` that callers rarely change.

    Attributes
    ----------
    grid_steps : int
        Steps of the dynamic-programme spend grid (global stage).
    n_starts : int
        Starting points of the multi-start (response models that are not separable).
    seed : int
        Seeds the multi-start's random starting points.
    """

    grid_steps: int = 1000
    n_starts: int = 16
    seed: int = 0


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
