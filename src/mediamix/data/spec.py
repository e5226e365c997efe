"""The model spec: what a user writes in YAML to describe data and model.

The minimal form (docs/formats.md) is always accepted::

    data: weekly.csv
    date: date
    kpi: revenue
    kpi_type: revenue
    channels:
      tv: {spend: tv_spend}
    controls: [price_index]

Every other key is optional. Unknown keys are rejected with the key named, so a
typo such as ``chanels`` never silently drops part of a model. Paths inside a spec
are relative to the spec file; resolving them is the reader's job
(:func:`mediamix.io.spec.read_spec`), this module only describes the content.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "ChannelSpec",
    "Frequency",
    "KpiType",
    "LiftTest",
    "ModelSpec",
    "SeasonalitySpec",
    "TransformSpec",
]


class KpiType(StrEnum):
    """What the KPI counts: money (ROI is reported) or conversions (CPA is)."""

    revenue = "revenue"
    conversions = "conversions"


class Frequency(StrEnum):
    """Spacing of the periods in the data."""

    weekly = "weekly"
    daily = "daily"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


ParamValue = float | tuple[float, float]
"""A transform parameter: a fixed value, or ``[low, high]`` search bounds."""


class TransformSpec(_Strict):
    """An adstock or saturation choice for one channel.

    ``type`` is a registry name (``geometric``, ``weibull_pdf``, ``hill`` ...);
    each other key is one of that transform's parameters, given either as a fixed
    number or as ``[low, high]`` bounds for the search. Parameter names are checked
    against the registry by the engine that uses them.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str

    @property
    def params(self) -> dict[str, ParamValue]:
        """Parameters as given (everything but ``type``)."""
        extra = self.model_extra or {}
        out: dict[str, ParamValue] = {}
        for key, value in extra.items():
            if isinstance(value, list | tuple):
                out[key] = (float(value[0]), float(value[1]))
            else:
                out[key] = float(value)
        return out

    @model_validator(mode="after")
    def _check_params(self) -> TransformSpec:
        for key, value in (self.model_extra or {}).items():
            if isinstance(value, bool):
                raise ValueError(f"parameter '{key}' must be a number or [low, high]")
            if isinstance(value, list | tuple):
                if len(value) != 2 or not all(isinstance(v, int | float) for v in value):
                    raise ValueError(f"parameter '{key}' bounds must be [low, high] numbers")
                if value[0] > value[1]:
                    raise ValueError(
                        f"parameter '{key}' bounds [{value[0]}, {value[1]}]: low > high"
                    )
            elif not isinstance(value, int | float):
                raise ValueError(f"parameter '{key}' must be a number or [low, high]")
        return self


class ChannelSpec(_Strict):
    """A paid media channel: its spend column and optional exposure and transforms."""

    spend: str
    exposure: str | None = None
    adstock: TransformSpec | None = None
    saturation: TransformSpec | None = None


class SeasonalitySpec(_Strict):
    """Fourier seasonality: ``yearly`` harmonics (0 turns it off), optional weekly for daily data."""

    yearly: Annotated[int, Field(ge=0, le=10)] = 2
    weekly: Annotated[int, Field(ge=0, le=3)] = 0


class LiftTest(_Strict):
    """An experiment result: the KPI a channel added between ``start`` and ``end``."""

    channel: str
    start: dt.date
    end: dt.date
    lift: float
    standard_error: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> LiftTest:
        if self.end < self.start:
            raise ValueError(f"lift test end {self.end} is before start {self.start}")
        return self


class ModelSpec(_Strict):
    """A validated model spec (see the module docstring for the YAML form).

    Examples
    --------
    >>> spec = ModelSpec.model_validate({
    ...     "data": "weekly.csv", "date": "date", "kpi": "revenue", "kpi_type": "revenue",
    ...     "channels": {"tv": {"spend": "tv_spend"}}, "controls": ["price_index"]})
    >>> spec.channel_names, spec.spend_columns
    (('tv',), ('tv_spend',))
    """

    data: str
    date: str
    kpi: str
    kpi_type: KpiType = KpiType.revenue
    channels: Annotated[dict[str, ChannelSpec], Field(min_length=1)]
    controls: list[str] = Field(default_factory=list)
    organic: list[str] = Field(default_factory=list)
    events: list[str] = Field(default_factory=list)
    geo: str | None = None
    population: str | None = None
    frequency: Frequency | None = None
    seasonality: SeasonalitySpec | int = Field(default_factory=SeasonalitySpec)
    trend: bool = True
    holidays: list[dt.date] = Field(default_factory=list)
    lift_tests: list[LiftTest] = Field(default_factory=list)
    synergy: list[tuple[str, str]] = Field(default_factory=list)

    @field_validator("seasonality", mode="after")
    @classmethod
    def _seasonality(cls, value: SeasonalitySpec | int) -> SeasonalitySpec | int:
        if isinstance(value, int) and not 0 <= value <= 10:
            raise ValueError("seasonality must be between 0 and 10 yearly harmonics")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> ModelSpec:
        names = set(self.channels)
        for pair in self.synergy:
            for name in pair:
                if name not in names:
                    raise ValueError(f"synergy names channel '{name}', not in channels")
            if pair[0] == pair[1]:
                raise ValueError(f"synergy pair ({pair[0]}, {pair[1]}) repeats a channel")
        for test in self.lift_tests:
            if test.channel not in names:
                raise ValueError(f"lift test names channel '{test.channel}', not in channels")
        roles: dict[str, str] = {}
        for label, columns in self._column_roles().items():
            for column in columns:
                if column in roles and roles[column] != label:
                    raise ValueError(
                        f"column '{column}' is used both as {roles[column]} and as {label}"
                    )
                roles[column] = label
        return self

    def _column_roles(self) -> dict[str, list[str]]:
        roles: dict[str, list[str]] = {
            "date": [self.date],
            "kpi": [self.kpi],
            "spend": [c.spend for c in self.channels.values()],
            "exposure": [c.exposure for c in self.channels.values() if c.exposure],
            "control": list(self.controls),
            "organic": list(self.organic),
            "event": list(self.events),
        }
        if self.geo:
            roles["geo"] = [self.geo]
        if self.population:
            roles["population"] = [self.population]
        return roles

    @property
    def channel_names(self) -> tuple[str, ...]:
        """Channel names in spec order."""
        return tuple(self.channels)

    @property
    def spend_columns(self) -> tuple[str, ...]:
        """Spend column per channel, in channel order."""
        return tuple(c.spend for c in self.channels.values())

    @property
    def yearly_harmonics(self) -> int:
        """Number of yearly Fourier pairs."""
        if isinstance(self.seasonality, int):
            return self.seasonality
        return self.seasonality.yearly

    @property
    def numeric_columns(self) -> dict[str, str]:
        """Columns that must be numbers, with their role (``kpi``, ``spend`` ...)."""
        out: dict[str, str] = {self.kpi: "kpi"}
        for channel in self.channels.values():
            out[channel.spend] = "spend"
            if channel.exposure:
                out[channel.exposure] = "exposure"
        for column in self.controls:
            out[column] = "control"
        for column in self.organic:
            out[column] = "organic"
        if self.population:
            out[self.population] = "population"
        return out

    def referenced_columns(self) -> list[str]:
        """Every column the spec names, in a stable order, without repeats."""
        seen: dict[str, None] = {}
        for columns in self._column_roles().values():
            for column in columns:
                seen.setdefault(column, None)
        return list(seen)

    def with_data(self, data: str) -> ModelSpec:
        """A copy with another data path (used when the reader resolves it)."""
        return self.model_copy(update={"data": data})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored beside fitted models)."""
        return self.model_dump(mode="json", exclude_defaults=False)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> ModelSpec:
        """Validate a mapping (raises pydantic's ValidationError)."""
        return cls.model_validate(dict(mapping))
