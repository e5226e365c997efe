"""Which channels the data cannot identify, and why.

A channel's effect is estimated from how the KPI moves when its spend moves apart
from everything else. Three situations leave the estimate resting on the
model's assumptions rather than on the data, and each is reported (the
``identification`` list of ``summary.json``, and the CLI after ``fit``):

* ``spend_variation``: the channel's weekly spend hardly varies (coefficient of
  variation below :data:`MIN_SPEND_CV`), so its effect is confounded with the
  intercept;
* ``collinear``: the channel's media regressor, ``sat(adstock(spend))`` with the
  fitted transforms, is largely explained by the other channels' regressors and
  the baseline (trend, seasonality, events, controls): ``R^2`` of that regression
  above :data:`MAX_R2` (a variance inflation factor above 1 / (1 - MAX_R2)). The
  single regressor most correlated with it is named;
* ``wide_interval``: the channel's 90% ROI interval is wider than the ROI itself
  on either side: its half-width exceeds the ROI, so at that level the data do not
  tell the channel's return from none (the interval form of a t statistic below
  1.64).

The first two read the data and the fitted transforms only, so they hold for any
engine; the third needs an interval (bootstrap and ensemble for the ridge, the
posterior for the Bayesian engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from mediamix.models.design import baseline_features
from mediamix.transforms.registry import adstock_from_dict, saturation_from_dict

if TYPE_CHECKING:
    from mediamix.models.result import FitResult

__all__ = [
    "MAX_R2",
    "MIN_SPEND_CV",
    "IdentificationWarning",
    "Issue",
    "identification_warnings",
]

MIN_SPEND_CV = 0.1
"""Weekly spend varying less than this (standard deviation / mean) is too steady."""

MAX_R2 = 0.9
"""A media regressor explained beyond this share by the others is collinear (VIF 10)."""

Issue = Literal["spend_variation", "collinear", "wide_interval"]


@dataclass(frozen=True)
class IdentificationWarning:
    """One reason a channel's effect is weakly identified.

    Attributes
    ----------
    channel : str
    issue : Issue
    value : float
        The measured figure: the spend's coefficient of variation, the ``R^2``, or the
        interval's half-width divided by the ROI.
    threshold : float
        The figure beyond which it is reported.
    partner : str or None
        For ``collinear``: the regressor most correlated with the channel's.
    message : str
        The warning in words, with what to do about it.
    """

    channel: str
    issue: Issue
    value: float
    threshold: float
    partner: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """One entry of the ``identification`` list of ``summary.json``."""
        return {
            "channel": self.channel,
            "issue": self.issue,
            "value": self.value,
            "threshold": self.threshold,
            "partner": self.partner,
            "message": self.message,
        }


def _regressors(result: FitResult) -> tuple[np.ndarray, list[str]]:
    """Other regressors per period (T, K) with a name each: media, then baseline."""
    spend = result.data.spend[0]
    names = list(result.channel_names)
    media = np.column_stack(
        [
            np.asarray(
                saturation_from_dict(dict(fit.saturation)).apply(
                    adstock_from_dict(dict(fit.adstock)).apply(spend[:, i])
                )
            )
            for i, fit in enumerate(result.channels.values())
        ]
    )
    base = baseline_features(result.design, result.data)
    base_names = [result.design.component_of(n) for n in result.design.feature_names()]
    return np.column_stack([media, base]), names + base_names


def _r2_and_partner(
    target: np.ndarray, others: np.ndarray, names: list[str]
) -> tuple[float, str | None]:
    """``R^2`` of ``target`` on ``others`` (with an intercept) and its closest regressor."""
    keep = np.std(others, axis=0) > 0
    others, names = others[:, keep], [n for n, k in zip(names, keep, strict=True) if k]
    y = target - target.mean()
    if not np.any(y) or others.shape[1] == 0:
        return 0.0, None
    X = others - others.mean(axis=0)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    r2 = 1.0 - float(np.sum((y - X @ coef) ** 2) / np.sum(y**2))
    corr = (X.T @ y) / (np.linalg.norm(X, axis=0) * np.linalg.norm(y))
    j = int(np.argmax(np.abs(corr)))
    return max(r2, 0.0), f"{names[j]} (r = {corr[j]:+.2f})"


def identification_warnings(result: FitResult) -> list[IdentificationWarning]:
    """Every reason a channel of ``result`` is weakly identified (see the module).

    Examples
    --------
    >>> import dataclasses
    >>> from mediamix.models.result import example_result
    >>> identification_warnings(example_result())
    []
    >>> wide = dataclasses.replace(example_result(), roi_interval={"tv": (0.1, 9.0)})
    >>> [(w.channel, w.issue) for w in identification_warnings(wide)]
    [('tv', 'wide_interval')]
    """
    spend = result.data.spend[0]
    names = list(result.channel_names)
    regressors, reg_names = _regressors(result)
    contributions = result.contributions()
    out: list[IdentificationWarning] = []
    for c, name in enumerate(names):
        mean = float(spend[:, c].mean())
        cv = float(spend[:, c].std() / mean) if mean > 0 else 0.0
        if cv < MIN_SPEND_CV:
            out.append(
                IdentificationWarning(
                    name,
                    "spend_variation",
                    cv,
                    MIN_SPEND_CV,
                    None,
                    f"{name}: weekly spend hardly varies (coefficient of variation {cv:.2f}); "
                    "its effect cannot be told from the baseline. Vary its spend (a flighting "
                    "or a geo holdout test) or give a lift test.",
                )
            )
        others = np.delete(regressors, c, axis=1)
        r2, partner = _r2_and_partner(
            regressors[:, c], others, [n for k, n in enumerate(reg_names) if k != c]
        )
        if r2 > MAX_R2:
            out.append(
                IdentificationWarning(
                    name,
                    "collinear",
                    r2,
                    MAX_R2,
                    partner,
                    f"{name}: its media moves with the other regressors (R^2 {r2:.2f}; most "
                    f"with {partner}); the data cannot split the effect between them. A lift "
                    "test or spend moved independently would separate it.",
                )
            )
        interval = result.roi_interval.get(name)
        total = float(spend[:, c].sum())
        roi = float(contributions[c] / total) if total > 0 else 0.0
        if interval is not None and roi != 0:
            lo, hi = interval
            ratio = float((hi - lo) / 2.0 / abs(roi))
            if ratio > 1.0:
                out.append(
                    IdentificationWarning(
                        name,
                        "wide_interval",
                        ratio,
                        1.0,
                        None,
                        f"{name}: the 90% ROI interval ({lo:.3g} to {hi:.3g}) is wider than "
                        f"the ROI ({roi:.3g}) on either side: the data barely tell its return "
                        "from none. Plans should not lean on it before a lift test.",
                    )
                )
    return out
