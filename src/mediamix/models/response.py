"""A fitted model seen as a response model: plan spend totals -> expected KPI.

The optimizer needs only ``channels``, ``response(spend)`` and ``gradient(spend)``
(see :mod:`mediamix.optimization.response`); this adapter provides them for a
:class:`~mediamix.models.result.FitResult` without exposing model internals.

A plan gives each channel a total ``X_c`` over ``H`` periods. It is spread over
the periods in the channel's historical pattern (the last ``H`` periods of the
window, or the window repeated when ``H`` is longer), so at the historical totals
the response equals the fitted contribution. Because adstock is linear,
``adstock(X_c * u_c) = X_c * adstock(u_c)`` with ``u_c`` the unit pattern, hence::

    response_c(X_c) = beta_c * sum_t sat_c(X_c * a_tc),   a_c = adstock_c(u_c)
    d response_c / d X_c = beta_c * sum_t sat_c'(X_c * a_tc) * a_tc
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mediamix.models.result import ChannelFit, FitResult
from mediamix.transforms.registry import adstock_from_dict, saturation_from_dict

__all__ = ["FittedResponse"]


class FittedResponse:
    """Response of a fitted model to total spend per channel over a plan.

    Parameters
    ----------
    result : FitResult
    periods : int, optional
        Plan length; the modeling window by default.

    Examples
    --------
    At the historical totals the response equals the model's contributions.
    """

    def __init__(self, result: FitResult, periods: int | None = None) -> None:
        self._setup(result.channels, result.data.spend[0], periods)

    @classmethod
    def from_parts(
        cls, channels: Mapping[str, ChannelFit], history: np.ndarray, periods: int | None = None
    ) -> FittedResponse:
        """A response model from channel fits and a spend history (T, C) directly.

        Used to plan with known curves, e.g. the true curves of synthetic data.
        """
        self = cls.__new__(cls)
        self._setup(channels, np.asarray(history, float), periods)
        return self

    def _setup(
        self, fits: Mapping[str, ChannelFit], history: np.ndarray, periods: int | None
    ) -> None:
        T, _ = history.shape
        periods = T if periods is None else int(periods)
        if periods <= 0:
            raise ValueError("periods must be positive")
        if periods <= T:
            pattern = history[T - periods :]
        else:
            reps = int(np.ceil(periods / T))
            pattern = np.tile(history, (reps, 1))[-periods:]
        totals = pattern.sum(axis=0)
        self._channels = tuple(fits)
        self.periods = periods
        self.current = totals.copy()
        self._betas = np.array([fits[c].beta for c in self._channels])
        self._sats = [saturation_from_dict(dict(fits[c].saturation)) for c in self._channels]
        unit = np.divide(
            pattern, totals, out=np.full_like(pattern, 1.0 / periods), where=totals > 0
        )
        self._a = np.column_stack(
            [
                np.asarray(adstock_from_dict(dict(fits[c].adstock)).apply(unit[:, i]))
                for i, c in enumerate(self._channels)
            ]
        )  # (H, C)

    @property
    def current_spend(self) -> dict[str, float]:
        """Historical spend per channel over the plan's periods (the status quo)."""
        return {c: float(v) for c, v in zip(self._channels, self.current, strict=True)}

    @property
    def channels(self) -> tuple[str, ...]:
        """Channel names, the order of the last axis of spend arrays."""
        return self._channels

    def channel_response(self, spend: np.ndarray) -> np.ndarray:
        """Response per channel (..., C) to plan totals ``spend`` (..., C)."""
        x = np.asarray(spend, float)
        out = np.empty(x.shape)
        for c, sat in enumerate(self._sats):
            v = x[..., c, None] * self._a[:, c]  # (..., H)
            out[..., c] = self._betas[c] * np.asarray(sat.apply(v)).sum(axis=-1)
        return out

    def channel_gradient(self, spend: np.ndarray) -> np.ndarray:
        """Derivative of each channel's response w.r.t. its own spend (..., C)."""
        return self.gradient(spend)

    def response(self, spend: np.ndarray) -> np.ndarray:
        """Total response (...) to plan totals (..., C)."""
        return self.channel_response(spend).sum(axis=-1)

    def gradient(self, spend: np.ndarray) -> np.ndarray:
        """d response / d spend (..., C)."""
        x = np.asarray(spend, float)
        out = np.empty(x.shape)
        for c, sat in enumerate(self._sats):
            a = self._a[:, c]
            v = x[..., c, None] * a
            with np.errstate(divide="ignore", invalid="ignore"):
                # periods with no adstocked spend add nothing (a Hill slope < 1 has an
                # infinite derivative at 0, and inf * 0 must count as 0 here)
                terms = np.where(a > 0, np.asarray(sat.derivative(v)) * a, 0.0)
            out[..., c] = self._betas[c] * terms.sum(-1)
        return out
