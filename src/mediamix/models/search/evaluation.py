r"""Objectives of a batch of candidates, computed at once.

- ``nrmse_val``: Robyn's NRMSE, :math:`\sqrt{\mathrm{mean}(y-\hat y)^2} /
  (\max y - \min y)`, over the last ``val_share`` of the periods, predicted by the
  model fitted on the earlier periods only (time-ordered split; the share is a
  candidate gene when its bounds differ, as Robyn searches ``train_size``).
- ``nrmse_train``: the same over the whole window for the model fitted on it.
- ``decomp_rssd``: Robyn's DECOMP.RSSD on the whole-window fit,
  :math:`\sqrt{\sum_c (\mathrm{effect\_share}_c - \mathrm{spend\_share}_c)^2}`,
  times :math:`1 + n_0 / C` with :math:`n_0` the channels whose effect is zero
  (Robyn's ``rssd_zero_penalty``).
- ``mape_lift`` (with lift tests): :math:`\mathrm{mean}_i |\hat L_i - L_i| / |L_i|`,
  where :math:`\hat L_i` is the test channel's decomposed contribution summed over
  the test's periods (carry-over from earlier spend included, as in Robyn's
  calibration).

Synergy: an interaction :math:`\gamma_{ab} h_{ta} h_{tb}` between the saturated
media of a pair of channels is split between the two channels in proportion to
their own contributions in that period (:func:`split_synergy`), so the channel
columns still sum, with the baseline, to the fitted KPI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mediamix.models.search.linear import gram, penalty_weights, solve_projected
from mediamix.models.search.problem import SearchProblem, media_features
from mediamix.models.search.space import Candidates

__all__ = ["Scores", "evaluate", "rssd_with_penalty", "split_synergy"]


def _design_media(problem: SearchProblem, h: np.ndarray) -> np.ndarray:
    if not problem.synergy:
        return h
    extra = [h[..., a] * h[..., b] for a, b in problem.synergy]
    return np.concatenate([h, np.stack(extra, axis=-1)], axis=-1)


def split_synergy(
    own: np.ndarray, pairs: Sequence[tuple[int, int]], terms: np.ndarray
) -> np.ndarray:
    """Add synergy terms to the channels' own components, split by their shares.

    Parameters
    ----------
    own : ndarray (..., T, C)
        Each channel's own component.
    pairs : sequence of (a, b)
        Channel indices per synergy term.
    terms : ndarray (..., T, S)
        Synergy components.

    Returns
    -------
    ndarray (..., T, C)
        ``own`` plus, per term, ``term * own_a / (own_a + own_b)`` to ``a`` and the
        rest to ``b`` (half each where both own components are zero).

    Examples
    --------
    >>> split_synergy(np.array([[3.0, 1.0]]), [(0, 1)], np.array([[2.0]])).tolist()
    [[4.5, 1.5]]
    """
    out = np.array(own, dtype=float, copy=True)
    for s, (a, b) in enumerate(pairs):
        total = own[..., a] + own[..., b]
        share = np.divide(own[..., a], total, out=np.full(total.shape, 0.5), where=total > 0)
        out[..., a] += terms[..., s] * share
        out[..., b] += terms[..., s] * (1.0 - share)
    return out


@dataclass(frozen=True)
class Scores:
    """Objectives and whole-window fits of a batch (arrays with leading axis B).

    ``effects`` (B, C) are channel contributions in scaled KPI units (synergy
    split in); ``coef`` (B, P) are the whole-window coefficients.
    """

    nrmse_val: np.ndarray
    nrmse_train: np.ndarray
    decomp_rssd: np.ndarray
    mape_lift: np.ndarray
    effects: np.ndarray
    coef: np.ndarray

    def objectives(self, with_lift: bool) -> np.ndarray:
        """(B, 3) or (B, 4): nrmse_train, nrmse_val, decomp_rssd[, mape_lift]."""
        cols = [self.nrmse_train, self.nrmse_val, self.decomp_rssd]
        cols += [self.mape_lift] if with_lift else []
        return np.column_stack(cols)

    @staticmethod
    def concat(parts: Sequence[Scores]) -> Scores:
        """Stack batches."""
        return Scores(
            **{
                k: np.concatenate([getattr(p, k) for p in parts])
                for k in Scores.__dataclass_fields__
            }
        )


def _nrmse_rows(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    span = float(np.max(y) - np.min(y)) if y.size else 0.0
    rmse = np.sqrt(np.mean((pred - y[None]) ** 2, axis=1))
    return rmse / span if span > 0 else np.full(pred.shape[0], np.nan)


def rssd_with_penalty(effects: np.ndarray, spend_share: np.ndarray) -> np.ndarray:
    r"""Robyn's DECOMP.RSSD with its zero-effect penalty, per row of ``effects`` (B, C).

    .. math:: \sqrt{\textstyle\sum_c (e_c / \sum e - s_c)^2}\;(1 + n_0 / C)

    Rows whose effects are all zero get the largest value, :math:`\sqrt 2 \cdot 2`.

    Examples
    --------
    >>> rssd_with_penalty(np.array([[3.0, 1.0], [1.0, 0.0]]), np.array([0.5, 0.5])).round(4)
    array([0.3536, 1.0607])
    """
    total = effects.sum(axis=1, keepdims=True)
    share = np.divide(effects, total, out=np.zeros_like(effects), where=total > 0)
    rssd = np.sqrt(np.sum((share - spend_share[None]) ** 2, axis=1))
    zero = np.mean(effects <= 0, axis=1)
    out = rssd * (1.0 + zero)
    return np.where(total[:, 0] > 0, out, 2.0 * np.sqrt(2.0))


def _predict(Z: np.ndarray, M: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Fitted values (B, T) of coefficients (B, P) on the shared Z (T, k) and media M (B, T, m)."""
    k = Z.shape[1]
    fitted = (Z @ coef[:, :k].T).T
    return fitted + np.einsum("btm,bm->bt", M, coef[:, k:], optimize=True)


def _validation_nrmse(
    problem: SearchProblem,
    cand: Candidates,
    M: np.ndarray,
    whole: tuple[np.ndarray, np.ndarray],
    weights: np.ndarray | None,
    nrmse_train: np.ndarray,
) -> np.ndarray:
    """``nrmse_val`` per candidate: fit on the periods before its cut, score after it.

    The training Gram matrix is the whole window's minus the validation part's.
    Candidates without a usable split keep their ``nrmse_train``.
    """
    y, Z = problem.y, problem.Z
    T = y.shape[0]
    G_full, r_full = whole
    nrmse_val = nrmse_train.copy()
    cuts = problem.cuts(cand.val_share)
    # Candidates sharing a training window are solved together.
    for cut in np.unique(cuts[cuts < T]):
        rows = np.flatnonzero(cuts == cut)
        Mv = M[rows, cut:]
        G_val, r_val = gram(Z[cut:], Mv, y[cut:])
        coef_tr = solve_projected(
            G_full[rows] - G_val,
            r_full[rows] - r_val,
            cand.lam[rows],
            int(cut),
            problem.n_media,
            None if weights is None else weights[rows],
        )
        nrmse_val[rows] = _nrmse_rows(y[cut:], _predict(Z[cut:], Mv, coef_tr))
    return nrmse_val


def _mape_lift(problem: SearchProblem, comp: np.ndarray) -> np.ndarray:
    """Mean relative error of the decomposed lift over the lift tests, per candidate."""
    errs = [
        np.abs(comp[:, lt.mask, lt.channel].sum(axis=1) - lt.lift) / abs(lt.lift)
        for lt in problem.lift
    ]
    return np.asarray(np.mean(errs, axis=0))


def evaluate(problem: SearchProblem, cand: Candidates) -> Scores:
    """Score a batch of candidates at once (definitions in the module docstring)."""
    h, _K = media_features(problem, cand)
    M = _design_media(problem, h)
    y, Z = problem.y, problem.Z
    T = y.shape[0]
    C = h.shape[2]
    k = Z.shape[1]
    G_full, r_full = gram(Z, M, y)
    weights = penalty_weights(G_full, T, k) if problem.standardize_media else None
    coef = solve_projected(G_full, r_full, cand.lam, T, problem.n_media, weights)
    nrmse_train = _nrmse_rows(y, _predict(Z, M, coef))
    nrmse_val = _validation_nrmse(problem, cand, M, (G_full, r_full), weights, nrmse_train)
    own = h * coef[:, None, k : k + C]
    if problem.synergy:
        comp = split_synergy(own, problem.synergy, M[..., C:] * coef[:, None, k + C :])
    else:
        comp = own
    effects = comp.sum(axis=1)
    return Scores(
        nrmse_val=nrmse_val,
        nrmse_train=nrmse_train,
        decomp_rssd=rssd_with_penalty(effects, problem.spend_share),
        mape_lift=_mape_lift(problem, comp) if problem.lift else np.full(len(cand), np.nan),
        effects=effects,
        coef=coef,
    )
