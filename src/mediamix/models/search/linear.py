r"""Batched ridge solves with non-negative media coefficients.

Candidates are solved by the normal equations, all at once: media coefficients that
come out negative are fixed at zero and the rest refitted, repeated until none is
negative (a feasible active-set projection). The recommended model is refitted
exactly by bounded least squares (:func:`nonneg_ridge`).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import lsq_linear

__all__ = ["gram", "nonneg_ridge", "penalty_weights", "solve_projected"]


def gram(Z: np.ndarray, M: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """X'X (B, P, P) and X'y (B, P) for X = [Z, M] with Z shared and M (B, T, m)."""
    B, k = M.shape[0], Z.shape[1]
    m = M.shape[2]
    G = np.empty((B, k + m, k + m))
    G[:, :k, :k] = Z.T @ Z
    zm = np.einsum("tk,btm->bkm", Z, M, optimize=True)
    G[:, :k, k:] = zm
    G[:, k:, :k] = zm.transpose(0, 2, 1)
    G[:, k:, k:] = M.transpose(0, 2, 1) @ M
    r = np.empty((B, k + m))
    r[:, :k] = Z.T @ y
    r[:, k:] = np.einsum("btm,t->bm", M, y, optimize=True)
    return G, r


def solve_projected(
    G: np.ndarray,
    r: np.ndarray,
    lam: np.ndarray,
    n_rows: int,
    n_media: int,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Ridge solutions for a batch with media coefficients projected to >= 0.

    The penalty is ``lam * n_rows * weights_j * b_j^2`` (``weights`` (B, P), default
    1 except 0 for the intercept). Negative media coefficients are fixed at zero and
    the rest re-solved until none is negative (at most ``n_media`` rounds).
    """
    B, P = r.shape
    if weights is None:
        weights = np.ones((B, P))
        weights[:, 0] = 0.0
    diag = np.zeros((B, P, P))
    idx = np.arange(P)
    diag[:, idx, idx] = weights
    A = G + (lam * n_rows)[:, None, None] * diag
    free = np.ones((B, P), bool)
    eye = np.eye(P)[None]
    coef = np.zeros((B, P))
    todo = np.arange(B)
    for _ in range(n_media + 1):
        f = free[todo]
        mask = f[:, :, None] & f[:, None, :]
        As = np.where(mask, A[todo], 0.0) + np.where(~f[:, :, None], eye, 0.0)
        rs = np.where(f, r[todo], 0.0)
        sol = np.linalg.solve(As, rs[..., None])[..., 0]
        coef[todo] = sol
        neg = sol[:, P - n_media :] < 0
        bad = neg.any(axis=1)
        if not bad.any():
            break
        rows = todo[bad]
        free[rows, P - n_media :] &= ~neg[bad]
        todo = rows
    coef[:, P - n_media :] = np.maximum(coef[:, P - n_media :], 0.0)
    return coef


def penalty_weights(G: np.ndarray, n_rows: int, n_baseline: int) -> np.ndarray:
    """Per-coefficient penalty weights (..., P): 0 intercept, 1 baseline, var(column) media.

    With these the media penalty is on :math:`\\beta_c\\,\\mathrm{sd}(h_c)`, the
    variation a channel explains, as when the columns are standardized (glmnet's
    default, which Robyn uses), instead of on :math:`\\beta_c` itself. Computed from
    the Gram matrix of ``[1, Z, M]``: :math:`\\mathrm{var} = G_{jj}/T - (G_{0j}/T)^2`.
    """
    diag = np.diagonal(G, axis1=-2, axis2=-1) / n_rows
    mean = G[..., 0, :] / n_rows
    w = np.maximum(diag - mean**2, 1e-12)
    w[..., :n_baseline] = 1.0
    w[..., 0] = 0.0
    return w


def nonneg_ridge(
    X: np.ndarray,
    y: np.ndarray,
    lam: float,
    n_media: int,
    weights: np.ndarray | None = None,
    center: np.ndarray | None = None,
) -> np.ndarray:
    r"""Exact ridge with the last ``n_media`` coefficients >= 0 (bounded least squares).

    Minimizes :math:`\lVert y - X b\rVert^2 + \lambda T \sum_{j \ge 1} w_j (b_j - c_j)^2`
    subject to :math:`b_{P-n_{media}:} \ge 0`; column 0 is the unpenalized intercept,
    ``weights`` (P,) default to 1 and the centre ``c`` (P,) to 0 (a model refresh
    shrinks toward the previous fit's coefficients instead of toward zero).

    Examples
    --------
    >>> X = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]])
    >>> y = np.array([1.0, 2.0, 3.0, 4.0])
    >>> nonneg_ridge(X, y, 0.0, 1).round(6).tolist()
    [1.0, 1.0]
    >>> nonneg_ridge(X, y, 1e6, 1, center=np.array([0.0, 0.5])).round(3).tolist()
    [1.75, 0.5]
    """
    t, p = X.shape
    w = np.ones(p) if weights is None else np.asarray(weights, float)
    root = np.sqrt(lam * t * w[1:])
    A = np.vstack([X, root[:, None] * np.eye(p)[1:]])
    c = np.zeros(p) if center is None else np.asarray(center, float)
    b = np.concatenate([y, root * c[1:]])
    lower = np.full(p, -np.inf)
    lower[p - n_media :] = 0.0
    return np.asarray(lsq_linear(A, b, bounds=(lower, np.full(p, np.inf)), method="bvls").x)
