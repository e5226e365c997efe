r"""What the batched evaluation works on: the scaled data, lift targets, media features.

The ridge MMM on the scaled KPI :math:`y_t = \mathrm{kpi}_t / \overline{\mathrm{kpi}}`:

.. math::

    y_t = b_0 + \sum_k b_k z_{tk} + \sum_c \beta_c h_{tc}
          + \sum_{(a, b) \in S} \gamma_{ab}\, h_{ta} h_{tb} + e_t,
    \qquad h_{tc} = \mathrm{hill}(\mathrm{adstock}_c(x_{\cdot c})_t;\ K_c, s_c)

with standardized baseline features :math:`z`, :math:`\beta, \gamma \ge 0` and a
ridge penalty on every coefficient but the intercept. Because :math:`K_c` scales with
the spend and :math:`y` with the KPI, every objective is unchanged when spend or KPI
are rescaled (dollars to cents).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mediamix.models.search.space import WEIBULL_L_MAX, Candidates
from mediamix.transforms.adstock import convolve_weights, geometric_adstock, weibull_weights
from mediamix.transforms.saturation import hill

__all__ = ["LiftTarget", "SearchProblem", "media_features"]


@dataclass(frozen=True)
class LiftTarget:
    """A lift test in model units: channel index, period mask (T,), lift / KPI scale."""

    channel: int
    mask: np.ndarray
    lift: float


@dataclass(frozen=True)
class SearchProblem:
    """Everything the batched evaluation needs, in scaled units.

    Attributes
    ----------
    y : ndarray (T,)
        KPI divided by its mean.
    Z : ndarray (T, K)
        Intercept column then standardized baseline features.
    spend : ndarray (T, C)
        Spend in input units (only ratios matter).
    lift : tuple of LiftTarget
    synergy : tuple of (int, int)
        Channel index pairs with an interaction term.
    standardize_media : bool
        Penalize media coefficients in proportion to their column's standard
        deviation (:func:`penalty_weights`) instead of uniformly.
    """

    y: np.ndarray
    Z: np.ndarray
    spend: np.ndarray
    lift: tuple[LiftTarget, ...] = ()
    synergy: tuple[tuple[int, int], ...] = ()
    standardize_media: bool = False
    spend_share: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        totals = self.spend.sum(axis=0)
        share = totals / totals.sum() if totals.sum() > 0 else np.full(totals.shape, np.nan)
        object.__setattr__(self, "spend_share", share)

    @property
    def n_media(self) -> int:
        """Channels plus synergy terms (the non-negative coefficients)."""
        return self.spend.shape[1] + len(self.synergy)

    def cuts(self, val_share: np.ndarray) -> np.ndarray:
        """First validation period per candidate: ``round(T (1 - val_share))``.

        ``T`` (no validation; ``nrmse_val`` then equals ``nrmse_train``) when the
        training part would have fewer than ``P + 2`` periods, ``P`` the number of
        coefficients, or the validation part fewer than 2.
        """
        T = self.y.shape[0]
        cut = np.round(T * (1.0 - np.asarray(val_share, float))).astype(int)
        n_coef = self.Z.shape[1] + self.n_media
        return np.where((cut < n_coef + 2) | (T - cut < 2), T, cut)


def media_features(problem: SearchProblem, cand: Candidates) -> tuple[np.ndarray, np.ndarray]:
    """Saturated adstocked media ``h`` (B, T, C) and the half-saturation ``K`` (B, C).

    The transforms are those of :mod:`mediamix.transforms`, evaluated for the whole
    batch at once: Robyn's geometric recursion where the family is ``geometric``,
    PyMC-Marketing's normalized Weibull PDF window where it is ``weibull_pdf``, then
    the Hill curve. ``K`` is in spend units: the absolute half-saturation where
    given, else ``kmult`` times the mean of the adstocked spend over its non-zero
    periods.
    """
    x = problem.spend
    fam = cand.family
    # Channels of the other family get alpha = 0 here and are replaced below.
    alpha = np.where(fam == 0, cand.alpha, 0.0)
    ad = np.ascontiguousarray(geometric_adstock(x, alpha))
    wb = fam == 1
    if np.any(wb):
        w = weibull_weights(
            np.where(wb, cand.shape, 1.0),
            np.where(wb, cand.scale, 1.0),
            kind="pdf",
            convention="pymc",
            l_max=WEIBULL_L_MAX,
            normalize=True,
        )
        ad = np.where(wb[:, None, :], convolve_weights(x, w), ad)
    positive = ad > 0
    count = positive.sum(axis=1)
    ref = np.where(count > 0, ad.sum(axis=1) / np.maximum(count, 1), 1.0)
    K = np.where(np.isnan(cand.half_saturation), cand.kmult * ref, cand.half_saturation)
    return hill(ad, K, cand.slope), K
