"""Goodness-of-fit and plausibility metrics shared by engines and search.

Definitions follow Robyn where Robyn defines them:

- ``r2`` = 1 - SSE / SST.
- ``nrmse`` = sqrt(mean((y - yhat)^2)) / (max(y) - min(y))  (Robyn's NRMSE).
- ``mape`` = mean(|y - yhat| / |y|) over periods with y != 0.
- ``decomp_rssd`` = sqrt(sum_c (effect_share_c - spend_share_c)^2) over paid channels,
  where shares are taken among paid channels (Robyn's DECOMP.RSSD).
"""

from __future__ import annotations

import numpy as np

__all__ = ["decomp_rssd", "fit_metrics", "mape", "nrmse", "r_squared"]


def r_squared(y: np.ndarray, yhat: np.ndarray) -> float:
    """Coefficient of determination.

    Examples
    --------
    >>> round(r_squared(np.array([1.0, 2, 3]), np.array([1.0, 2, 4])), 4)
    0.5
    """
    sst = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum((y - yhat) ** 2)) / sst if sst > 0 else float("nan")


def nrmse(y: np.ndarray, yhat: np.ndarray) -> float:
    """Root mean squared error over the range of ``y`` (Robyn's NRMSE).

    Examples
    --------
    >>> round(nrmse(np.array([0.0, 10.0]), np.array([1.0, 9.0])), 4)
    0.1
    """
    span = float(np.max(y) - np.min(y))
    rmse = float(np.sqrt(np.mean((y - yhat) ** 2)))
    return rmse / span if span > 0 else float("nan")


def mape(y: np.ndarray, yhat: np.ndarray) -> float:
    """Mean absolute percentage error over periods with ``y != 0``.

    Examples
    --------
    >>> mape(np.array([100.0, 200.0]), np.array([110.0, 180.0]))
    0.1
    """
    mask = y != 0
    return (
        float(np.mean(np.abs(y[mask] - yhat[mask]) / np.abs(y[mask])))
        if mask.any()
        else float("nan")
    )


def decomp_rssd(effects: np.ndarray, spends: np.ndarray) -> float:
    """Robyn's DECOMP.RSSD: distance between effect shares and spend shares.

    Parameters
    ----------
    effects, spends : ndarray, shape (C,)
        Total contribution and total spend per paid channel.

    Examples
    --------
    >>> round(decomp_rssd(np.array([3.0, 1.0]), np.array([1.0, 1.0])), 4)
    0.3536
    """
    e, s = np.asarray(effects, float), np.asarray(spends, float)
    if e.sum() <= 0 or s.sum() <= 0:
        return float("nan")
    return float(np.sqrt(np.sum((e / e.sum() - s / s.sum()) ** 2)))


def fit_metrics(
    y: np.ndarray, yhat: np.ndarray, effects: np.ndarray, spends: np.ndarray
) -> dict[str, float]:
    """All four metrics of ``summary.json``."""
    return {
        "r2": r_squared(y, yhat),
        "nrmse": nrmse(y, yhat),
        "mape": mape(y, yhat),
        "decomp_rssd": decomp_rssd(effects, spends),
    }
