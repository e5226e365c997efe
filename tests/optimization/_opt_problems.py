"""Random budget problems and brute-force references for the optimizer tests.

The references are independent of the solver's code:

* 2 channels: the budget line sampled at 200,001 points.
* 3 channels: the budget plane sampled on a 1,201 x 1,201 grid.
* 4-8 channels: an exhaustive dynamic programme over channels on a grid of
  ``n`` steps (written here as a plain loop over the spend of each channel, not the
  solver's vectorized form), then a local SLSQP polish from the grid optimum.

Why the reference is the global optimum to well within 0.1%: the objective is a sum
of one-channel terms under one budget, so the DP is exact on its grid (Bellman).
The true optimum ``x*`` can be rounded to a grid point with the same total by
moving each channel by less than one step ``h``; the loss is at most
``sum_c |r_c(x*_c) - r_c(x*_c +- h)|``, which for ``h = B / 2000`` and these curves
(largest slope ``beta / half_saturation`` of order ``C / B`` per unit of spend) is of
the order of 1e-4 of the total, and the polish only increases the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from mediamix.optimization.constraints import resolve_constraints
from mediamix.optimization.response import CurvesResponse, curves_from_dict


@dataclass
class Problem:
    model: CurvesResponse
    budget: float
    lower: np.ndarray
    upper: np.ndarray


def random_problem(seed: int, n_channels: int | None = None) -> Problem:
    rng = np.random.default_rng(seed)
    C = int(n_channels or rng.integers(2, 9))
    budget = float(rng.uniform(50, 500))
    channels = {}
    lower = np.zeros(C)
    upper = np.full(C, np.inf)
    for i in range(C):
        beta = float(rng.uniform(0.5, 3.0) * budget / C)
        if rng.random() < 0.7:
            sat = {
                "type": "hill",
                "half_saturation": float(rng.uniform(0.2, 1.5) * budget / C),
                "slope": float(rng.uniform(0.7, 3.0)),
            }
        else:
            sat = {"type": "logistic", "lam": float(rng.uniform(0.5, 4.0) * C / budget)}
        ch = {"beta": beta, "saturation": sat}
        if rng.random() < 0.3:
            lower[i] = float(rng.uniform(0, 0.5) * budget / C)
            ch["min"] = lower[i]
        if rng.random() < 0.4:
            upper[i] = float(max(lower[i], 0.0) + rng.uniform(0.3, 1.5) * budget / C)
            ch["max"] = upper[i]
        channels[f"ch{i}"] = ch
    # keep the problem feasible: the bounds must leave room for the budget
    if np.sum(upper) < budget:
        upper[np.argmax(np.isfinite(upper))] = np.inf
        name = f"ch{int(np.argmax(np.isinf(upper)))}"
        channels[name].pop("max", None)
    model = curves_from_dict({"channels": channels})
    return Problem(model, budget, lower, upper)


def _polish(model, x0, lower, upper, budget):
    cons = [{"type": "eq", "fun": lambda x: np.array([x.sum() - budget])}]
    ub = [None if not np.isfinite(u) else u for u in upper]
    res = minimize(
        lambda x: -float(model.response(np.maximum(x, 0))),
        x0,
        bounds=list(zip(lower, ub, strict=True)),
        constraints=cons,
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 500},
    )
    x = np.clip(res.x, lower, upper)
    if abs(x.sum() - budget) < 1e-9 * budget and model.response(x) > model.response(x0):
        return x
    return x0


def reference_optimum(p: Problem, steps: int = 2000) -> float:
    lo, hi, B, m = p.lower, p.upper, p.budget, p.model
    C = len(lo)
    if C == 2:
        x1 = np.linspace(max(lo[0], B - hi[1]), min(hi[0], B - lo[1]), 200_001)
        pts = np.stack([x1, B - x1], axis=1)
        vals = m.response(pts)
        best = pts[np.argmax(vals)]
    elif C == 3:
        g1 = np.linspace(lo[0], min(hi[0], B), 1201)
        g2 = np.linspace(lo[1], min(hi[1], B), 1201)
        X1, X2 = np.meshgrid(g1, g2, indexing="ij")
        X3 = B - X1 - X2
        ok = (lo[2] <= X3) & (hi[2] >= X3)
        pts = np.stack([X1[ok], X2[ok], X3[ok]], axis=1)
        vals = m.response(pts)
        best = pts[np.argmax(vals)]
    else:
        h = (B - lo.sum()) / steps
        tables = []
        V = None
        for c in range(C):
            K = steps if not np.isfinite(hi[c]) else min(steps, int((hi[c] - lo[c]) / h))
            spend = np.zeros((K + 1, C))
            spend[:, c] = lo[c] + h * np.arange(K + 1)
            f = m.channel_response(spend)[:, c]
            if V is None:
                V = np.full(steps + 1, -np.inf)
                V[: K + 1] = f
                tables.append(np.arange(steps + 1))
                continue
            new = np.full(steps + 1, -np.inf)
            arg = np.zeros(steps + 1, dtype=int)
            for k in range(K + 1):
                cand = V[: steps + 1 - k] + f[k]
                better = cand > new[k:]
                new[k:][better] = cand[better]
                arg[k:][better] = k
            V = new
            tables.append(arg)
        n = steps
        ks = np.zeros(C, dtype=int)
        for c in range(C - 1, 0, -1):
            ks[c] = tables[c][n]
            n -= ks[c]
        ks[0] = n
        best = lo + h * ks
    best = _polish(m, best, lo, hi, B)
    return float(m.response(best))


def limits_of(p: Problem):
    bounds = {
        name: (float(p.lower[i]), float(p.upper[i]) if np.isfinite(p.upper[i]) else None)
        for i, name in enumerate(p.model.channels)
    }
    return resolve_constraints(None, p.model.channels, p.budget, bounds=bounds)
