"""Baseline design: intercept, trend, Fourier seasonality, events, controls, organic.

Features are computed from dates and the dataset alone, so the same function builds
them for the training window and for new periods (trend keeps counting from the
training origin; seasonality follows the calendar).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mediamix.data.dataset import Dataset
from mediamix.data.spec import Frequency, ModelSpec

__all__ = ["BaselineDesign", "baseline_design", "baseline_features"]


@dataclass(frozen=True)
class BaselineDesign:
    """How baseline features are made, stored with the model.

    Attributes
    ----------
    origin : str
        ISO date of the first training period (trend is 0 there).
    trend_span_days : float
        Days over which the trend feature goes from 0 to 1 (the training window).
    trend : bool
        Whether a linear trend is included.
    yearly : int
        Yearly Fourier harmonics.
    weekly : int
        Weekly harmonics (daily data only).
    events, controls, organic : tuple of str
        Dataset columns used as they are.
    """

    origin: str
    trend_span_days: float
    trend: bool
    yearly: int
    weekly: int
    events: tuple[str, ...]
    controls: tuple[str, ...]
    organic: tuple[str, ...]

    def feature_names(self) -> list[str]:
        """Names of the columns of :func:`baseline_features`, intercept excluded."""
        names = ["trend"] if self.trend else []
        for k in range(1, self.yearly + 1):
            names += [f"season_sin_{k}", f"season_cos_{k}"]
        for k in range(1, self.weekly + 1):
            names += [f"week_sin_{k}", f"week_cos_{k}"]
        return names + list(self.events) + list(self.controls) + list(self.organic)

    def component_of(self, feature: str) -> str:
        """The decomposition column a feature adds to (Fourier terms pool into one)."""
        if feature.startswith("season_"):
            return "seasonality"
        if feature.startswith("week_"):
            return "weekday"
        return feature

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "origin": self.origin,
            "trend_span_days": self.trend_span_days,
            "trend": self.trend,
            "yearly": self.yearly,
            "weekly": self.weekly,
            "events": list(self.events),
            "controls": list(self.controls),
            "organic": list(self.organic),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BaselineDesign:
        """Inverse of :meth:`to_dict`."""
        return cls(
            origin=str(d["origin"]),
            trend_span_days=float(d["trend_span_days"]),
            trend=bool(d["trend"]),
            yearly=int(d["yearly"]),
            weekly=int(d["weekly"]),
            events=tuple(d["events"]),
            controls=tuple(d["controls"]),
            organic=tuple(d["organic"]),
        )


def baseline_design(data: Dataset, spec: ModelSpec) -> BaselineDesign:
    """The baseline a spec asks for, fitted to the data's window.

    Yearly seasonality needs at least 300 days of data (fewer cannot tell it from
    trend and noise); weekly seasonality applies to daily data only. The trend counts
    from the first period, in units of the window's span.
    """
    span = float((data.dates[-1] - data.dates[0]).astype(int))
    yearly = spec.yearly_harmonics if span >= 300 else 0
    weekly = (
        spec.seasonality.weekly
        if (not isinstance(spec.seasonality, int) and data.frequency == Frequency.daily)
        else 0
    )
    return BaselineDesign(
        origin=str(data.dates[0]),
        trend_span_days=max(span, 1.0),
        trend=spec.trend,
        yearly=yearly,
        weekly=weekly,
        events=data.event_names,
        controls=data.control_names,
        organic=data.organic_names,
    )


def baseline_features(design: BaselineDesign, data: Dataset, geo: int = 0) -> np.ndarray:
    """Baseline feature matrix (T, K) for one geo, intercept excluded.

    Seasonality uses sin/cos(2 pi k d / 365.25) with d the day of the year, so
    features depend on the calendar only.
    """
    dates = data.dates.astype("datetime64[D]")
    days = (dates - np.datetime64(design.origin, "D")).astype(float)
    columns: list[np.ndarray] = []
    if design.trend:
        columns.append(days / max(design.trend_span_days, 1.0))
    if design.yearly:
        years = dates.astype("datetime64[Y]")
        doy = (dates - years.astype("datetime64[D]")).astype(float)
        for k in range(1, design.yearly + 1):
            angle = 2 * np.pi * k * doy / 365.25
            columns += [np.sin(angle), np.cos(angle)]
    if design.weekly:
        dow = (dates.astype(int) + 3) % 7  # 1970-01-01 was a Thursday
        for k in range(1, design.weekly + 1):
            angle = 2 * np.pi * k * dow / 7.0
            columns += [np.sin(angle), np.cos(angle)]
    for names, values, present in (
        (design.events, data.events, data.event_names),
        (design.controls, data.controls, data.control_names),
        (design.organic, data.organic, data.organic_names),
    ):
        index = {n: i for i, n in enumerate(present)}
        for name in names:
            columns.append(
                values[geo, :, index[name]] if name in index else np.zeros(data.n_periods)
            )
    if not columns:
        return np.zeros((data.n_periods, 0))
    return np.column_stack(columns)
