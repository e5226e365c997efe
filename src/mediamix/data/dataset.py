"""The validated, immutable MMM dataset.

Built once at the boundary by :func:`mediamix.data.validation.build_dataset`, then
trusted everywhere inside. Arrays are read-only. Shapes use ``G`` geos (1 for a
national dataset), ``T`` periods and ``C`` channels; the geo axis is always present
so engines can treat national data as one geo.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mediamix.data.spec import Frequency, KpiType

__all__ = ["NATIONAL", "Dataset"]

NATIONAL = "national"


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Dataset:
    """Periods x geos x channels of spend, KPI and baseline drivers.

    Attributes
    ----------
    dates : ndarray of datetime64[D], shape (T,)
        Period start dates, strictly increasing and evenly spaced.
    geos : tuple of str
        Geo names; ``("national",)`` without a geo column.
    channels : tuple of str
        Paid media channel names.
    kpi : ndarray, shape (G, T)
        The KPI in its own units (revenue in currency or conversions).
    spend : ndarray, shape (G, T, C)
        Spend per channel in currency units.
    exposure : mapping of channel -> ndarray (G, T)
        Optional impressions/GRPs per channel.
    controls, organic, events : ndarray, shape (G, T, K)
        Baseline drivers, with names in ``control_names``, ``organic_names``,
        ``event_names`` (categorical event columns arrive one-hot encoded).
    population : ndarray (G,) or None
        Population per geo, for per-capita scaling.
    """

    dates: np.ndarray
    geos: tuple[str, ...]
    channels: tuple[str, ...]
    kpi: np.ndarray
    spend: np.ndarray
    kpi_name: str = "kpi"
    kpi_type: KpiType = KpiType.revenue
    frequency: Frequency = Frequency.weekly
    exposure: Mapping[str, np.ndarray] = field(default_factory=dict)
    controls: np.ndarray = field(default_factory=lambda: np.zeros(0))
    control_names: tuple[str, ...] = ()
    organic: np.ndarray = field(default_factory=lambda: np.zeros(0))
    organic_names: tuple[str, ...] = ()
    events: np.ndarray = field(default_factory=lambda: np.zeros(0))
    event_names: tuple[str, ...] = ()
    population: np.ndarray | None = None
    source: str = ""

    def __post_init__(self) -> None:
        dates = np.asarray(self.dates, dtype="datetime64[D]").copy()
        dates.setflags(write=False)
        object.__setattr__(self, "dates", dates)
        g, t, c = len(self.geos), len(dates), len(self.channels)
        object.__setattr__(self, "kpi", _frozen(self.kpi).reshape(g, t))
        object.__setattr__(self, "spend", _frozen(self.spend).reshape(g, t, c))
        for name, n in (
            ("controls", self.control_names),
            ("organic", self.organic_names),
            ("events", self.event_names),
        ):
            value = getattr(self, name)
            value = np.zeros((g, t, 0)) if value is None or np.size(value) == 0 else value
            object.__setattr__(self, name, _frozen(value).reshape(g, t, len(n)))
        object.__setattr__(
            self, "exposure", {k: _frozen(v).reshape(g, t) for k, v in self.exposure.items()}
        )
        if self.population is not None:
            object.__setattr__(self, "population", _frozen(self.population).reshape(g))

    @property
    def n_periods(self) -> int:
        """Number of periods T."""
        return int(self.dates.shape[0])

    @property
    def n_geos(self) -> int:
        """Number of geos G."""
        return len(self.geos)

    @property
    def n_channels(self) -> int:
        """Number of paid channels C."""
        return len(self.channels)

    @property
    def is_geo(self) -> bool:
        """Whether the data has more than the national level."""
        return self.n_geos > 1

    @property
    def period_days(self) -> int:
        """Days per period (7 weekly, 1 daily)."""
        return 7 if self.frequency == Frequency.weekly else 1

    def national(self) -> Dataset:
        """The dataset summed over geos (controls averaged, population-weighted if known).

        KPI, spend, exposure and organic media add up across geos; controls
        (prices, indices) are averaged; events take the maximum.
        """
        if not self.is_geo:
            return self
        weights = None
        if self.population is not None and self.population.sum() > 0:
            weights = self.population / self.population.sum()
        controls = (
            np.einsum("g,gtk->tk", weights, self.controls)
            if weights is not None
            else self.controls.mean(axis=0)
        )
        return Dataset(
            dates=self.dates,
            geos=(NATIONAL,),
            channels=self.channels,
            kpi=self.kpi.sum(axis=0),
            spend=self.spend.sum(axis=0),
            kpi_name=self.kpi_name,
            kpi_type=self.kpi_type,
            frequency=self.frequency,
            exposure={k: v.sum(axis=0) for k, v in self.exposure.items()},
            controls=controls,
            control_names=self.control_names,
            organic=self.organic.sum(axis=0),
            organic_names=self.organic_names,
            events=self.events.max(axis=0),
            event_names=self.event_names,
            population=None if self.population is None else np.array([self.population.sum()]),
            source=self.source,
        )

    def to_frame(self) -> pd.DataFrame:
        """Long-by-geo wide table: one row per (geo, period), one column per variable."""
        rows = []
        for gi, geo in enumerate(self.geos):
            block = {"date": pd.to_datetime(self.dates), "geo": geo, self.kpi_name: self.kpi[gi]}
            for ci, ch in enumerate(self.channels):
                block[ch] = self.spend[gi, :, ci]
            for names, values in (
                (self.control_names, self.controls),
                (self.organic_names, self.organic),
                (self.event_names, self.events),
            ):
                for k, name in enumerate(names):
                    block[name] = values[gi, :, k]
            rows.append(pd.DataFrame(block))
        return pd.concat(rows, ignore_index=True)

    def spend_totals(self) -> dict[str, float]:
        """Total spend per channel over all periods and geos."""
        totals = self.spend.sum(axis=(0, 1))
        return {ch: float(totals[i]) for i, ch in enumerate(self.channels)}

    def window(self, start: int, stop: int) -> Dataset:
        """Periods ``start:stop`` (positions), all else equal."""
        sl = slice(start, stop)
        return Dataset(
            dates=self.dates[sl],
            geos=self.geos,
            channels=self.channels,
            kpi=self.kpi[:, sl],
            spend=self.spend[:, sl],
            kpi_name=self.kpi_name,
            kpi_type=self.kpi_type,
            frequency=self.frequency,
            exposure={k: v[:, sl] for k, v in self.exposure.items()},
            controls=self.controls[:, sl],
            control_names=self.control_names,
            organic=self.organic[:, sl],
            organic_names=self.organic_names,
            events=self.events[:, sl],
            event_names=self.event_names,
            population=self.population,
            source=self.source,
        )
