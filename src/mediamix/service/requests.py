"""Typed requests of the use cases: what a shell asks the service layer to do.

Every shell builds one of these and hands it to a use case: the CLI from its flags,
the REST API from a JSON body (``Model.model_validate(body)`` maps it directly),
the Python API from keyword arguments. Validation happens here, once; an invalid
request raises :class:`~mediamix.errors.InputError` whose problems name the
field by its key path (``engine``, ``sampler.chains``), which each shell maps to
its own names (the CLI to ``--engine``, ``--chains``; the API to JSON paths).

Choices are enums (:class:`Engine`, :class:`SamplerMethod`, the optimizer's
``Objective``, the attribution ``Method``), so an unknown value is refused with the
list of valid ones.

Inputs that are files on the CLI (constraints, what-if scenarios) are documents
here: the shell reads the file and passes the document, and names the file in
``*_file`` so that errors found later (an infeasible rule) can say where it came
from.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core.core_schema import ValidationInfo

from mediamix.attribution.compare import Method
from mediamix.errors import InputError, problems_from_validation
from mediamix.optimization.constraints import Constraints
from mediamix.optimization.risk import DEFAULT_LEVEL
from mediamix.optimization.solver import Objective

__all__ = [
    "AttributeRequest",
    "Engine",
    "FitRequest",
    "Method",
    "Objective",
    "OptimizeRequest",
    "ReportRequest",
    "RidgeSettings",
    "SamplerMethod",
    "SamplerOptions",
    "SynthRequest",
    "parse_request",
]

R = TypeVar("R", bound=BaseModel)


class Engine(StrEnum):
    """Estimation engines."""

    RIDGE = "ridge"
    BAYES = "bayes"
    R_GLMNET = "r-glmnet"


class SamplerMethod(StrEnum):
    """Inference of the Bayesian engine."""

    NUTS = "nuts"
    SVI = "svi"
    MAP = "map"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


def _choice(enum: type[StrEnum], value: Any, what: str, verb: str = "choose one of") -> Any:
    """Refuse an unknown choice with the valid ones listed (pydantic's own message
    lists them with quotes and "or", which reads worse in a terminal)."""
    if isinstance(value, enum) or not isinstance(value, str):
        return value
    names = [m.value for m in enum]
    if value not in names:
        raise ValueError(f"unknown {what} '{value}'; {verb} {', '.join(names)}")
    return value


class SamplerOptions(_Request):
    """Inference settings of the Bayesian engine (``engine: bayes`` only).

    Attributes
    ----------
    method : SamplerMethod
        ``nuts`` (default), ``svi`` or ``map`` (fast looks, no interval).
    chains : int, optional
        NUTS chains (default: one per core).
    warmup, draws : int, optional
        Warmup and kept draws per chain (default 1000 each).
    geo_hierarchy : bool
        Fit geo data with the geo hierarchy instead of summing geos to national.
    compile_cache : str, optional
        A folder where compiled samplers are kept between fits.
    """

    method: SamplerMethod = SamplerMethod.NUTS
    chains: int | None = Field(default=None, ge=1)
    warmup: int | None = Field(default=None, ge=0)
    draws: int | None = Field(default=None, ge=1)
    geo_hierarchy: bool = False
    compile_cache: str | None = None

    @field_validator("method", mode="before")
    @classmethod
    def _method(cls, value: Any) -> Any:
        return _choice(SamplerMethod, value, "method", "expected one of")

    def chosen(self) -> list[str]:
        """The options set to something else than their default (named in errors)."""
        return [
            name
            for name in ("method", "chains", "warmup", "draws", "geo_hierarchy")
            if name in self.model_fields_set and getattr(self, name) not in (None, False)
        ]

    def engine_options(self) -> dict[str, Any]:
        """Keyword arguments of the engine's options (unset ones left to its defaults)."""
        out: dict[str, Any] = {"method": self.method.value}
        for name in ("chains", "warmup", "draws", "compile_cache"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.geo_hierarchy:
            out["geo_hierarchy"] = True
        return out


class RidgeSettings(_Request):
    """Search settings of the ridge engine a user may change (``engine: ridge`` only).

    Attributes
    ----------
    candidates : int, optional
        Candidates the hyperparameter search evaluates (default 10,000); fewer for a
        quick look.
    bootstrap : int, optional
        Bootstrap draws behind the ROI intervals (default 200).
    """

    candidates: int | None = Field(default=None, ge=10)
    bootstrap: int | None = Field(default=None, ge=0)


class FitRequest(_Request):
    """Fit a model: which engine, its seed and its settings.

    ``sampler`` applies to the Bayesian engine, ``ridge`` to the ridge engine; giving
    the other engine's settings is an error on ``engine``.

    Examples
    --------
    >>> FitRequest.model_validate({"engine": "bayes", "sampler": {"method": "map"}}).engine
    <Engine.BAYES: 'bayes'>
    >>> try:
    ...     parse_request(FitRequest, {"sampler": {"chains": 0}})
    ... except InputError as err:
    ...     print(err.problems[0].column)
    sampler.chains
    """

    seed: int = 0
    sampler: SamplerOptions | None = None
    ridge: RidgeSettings | None = None
    engine: Engine = Engine.RIDGE  # last: its check reads the settings above

    @field_validator("engine", mode="before")
    @classmethod
    def _engine(cls, value: Any) -> Any:
        return _choice(Engine, value, "engine")

    @field_validator("engine")
    @classmethod
    def _settings_match(cls, value: Engine, info: ValidationInfo) -> Engine:
        sampler = info.data.get("sampler")
        if value != Engine.BAYES and sampler is not None and sampler.chosen():
            raise ValueError(
                f"sampler options ({', '.join(sampler.chosen())}) apply to engine bayes only"
            )
        ridge = info.data.get("ridge")
        if value == Engine.BAYES and ridge is not None and ridge.model_fields_set:
            raise ValueError("ridge settings apply to engine ridge only")
        return value


class OptimizeRequest(_Request):
    """Allocate a budget across channels.

    Attributes
    ----------
    budget : float
        Total over the plan, currency (for target objectives, the largest budget).
    objective : Objective
        ``revenue`` (default), ``roi``, ``reach``, ``target_roi``, ...
    target : float, optional
        The target of the ``target_*`` objectives.
    constraints : Constraints, optional
        The constraints document of docs/formats.md (with ``weeks`` for weekly plans).
    periods : int, optional
        Plan length in periods (default: the modeling window).
    risk_level : float or None
        Recommend a plan only if it beats the current mix with this probability
        across the model's draws; ``None`` skips the check.
    scenarios : dict, optional
        What-if allocations, name -> channel -> spend, compared side by side (checked
        against the model's channels by
        :func:`~mediamix.optimization.scenarios.scenarios_from_dict`).
    frontier : bool
        Add the efficient frontier (50%-200% of current spend).
    weekly : bool
        Plan week by week with carry-over (fitted models with geometric adstock).
    count_carryover_out : bool
        Weekly plans: count what the plan earns after the horizon in the objective.
    constraints_file, scenarios_file : str, optional
        Where the documents came from, named in errors found while planning.

    Examples
    --------
    >>> r = OptimizeRequest.model_validate(
    ...     {"budget": 1000, "constraints": {"channels": {"tv": {"max": 600}}}})
    >>> r.constraints.channels["tv"].max
    600.0
    """

    budget: float
    objective: Objective = Objective.REVENUE
    target: float | None = None
    constraints: Constraints | None = None
    periods: int | None = None
    risk_level: float | None = DEFAULT_LEVEL
    scenarios: Any = None
    frontier: bool = False
    weekly: bool = False
    count_carryover_out: bool = True
    constraints_file: str | None = None
    scenarios_file: str | None = None

    @field_validator("objective", mode="before")
    @classmethod
    def _objective(cls, value: Any) -> Any:
        return _choice(Objective, value, "objective", "expected one of")

    @field_validator("budget")
    @classmethod
    def _budget(cls, value: float) -> float:
        if not value > 0:
            raise ValueError(f"the budget must be a positive number, got {value}")
        return value

    @field_validator("periods")
    @classmethod
    def _periods(cls, value: int | None) -> int | None:
        if value is not None and value <= 0:
            raise ValueError("periods must be a positive number of periods")
        return value

    @field_validator("risk_level")
    @classmethod
    def _risk_level(cls, value: float | None) -> float | None:
        if value is not None and not 0.5 <= value < 1.0:
            raise ValueError(f"risk level must be in [0.5, 1), got {value:g}")
        return value


class AttributeRequest(_Request):
    """Attribute conversions to channels.

    Attributes
    ----------
    method : Method
        One method or ``all``.
    order : int
        Markov order (states are the last ``order`` channels).
    half_life : float, optional
        Time decay half-life: days for event logs (default 7), touches for paths (1).
    lookback_days : int
        Event logs: touches older than this before a conversion are dropped.
    keep_repeats : bool
        Markov: keep consecutive repeated channels.
    window_start, window_end : str, optional
        MMM-based attribution window (inclusive ISO dates).
    shapley_permutations, seed : int
        Monte Carlo Shapley beyond 15 channels.

    Examples
    --------
    >>> try:
    ...     parse_request(AttributeRequest, {"method": "magic", "order": 0})
    ... except InputError as err:
    ...     print([p.column for p in err.problems])
    ['method', 'order']
    """

    method: Method = Method.ALL
    order: int = 1
    half_life: float | None = None
    lookback_days: int = 30
    keep_repeats: bool = False
    window_start: str | None = None
    window_end: str | None = None
    shapley_permutations: int = Field(default=2000, ge=1)
    seed: int = 0

    @field_validator("method", mode="before")
    @classmethod
    def _method(cls, value: Any) -> Any:
        return _choice(Method, value, "method", "expected one of")

    @field_validator("order")
    @classmethod
    def _order(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"order must be >= 1, got {value}")
        return value

    @field_validator("half_life")
    @classmethod
    def _half_life(cls, value: float | None) -> float | None:
        if value is not None and not value > 0:
            raise ValueError(f"half-life must be positive, got {value}")
        return value

    @field_validator("lookback_days")
    @classmethod
    def _lookback(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"lookback must be at least 1 day, got {value}")
        return value


class ReportRequest(_Request):
    """Render the report of a fitted model.

    Attributes
    ----------
    pdf : bool
        Also render the report as PDF.
    plan : dict, optional
        A ``plan.json`` document made from the model: with it, the executive report.
    attribution : str, optional
        A folder of attribution tables (or one table) to compare with the MMM.
    drift : dict, optional
        A ``drift.json`` document for the data-quality page.
    title : str
        The report's title.
    """

    pdf: bool = False
    plan: dict[str, Any] | None = None
    attribution: str | None = None
    drift: dict[str, Any] | None = None
    title: str = Field(default="Marketing mix report", min_length=1, max_length=200)


class SynthRequest(_Request):
    """Generate synthetic data with known truth (see :class:`~mediamix.data.synthetic.SynthConfig`)."""

    seed: int = 0
    weeks: int = Field(default=156, ge=20, le=2000)
    channels: int = Field(default=4, ge=1, le=50)
    geos: int = Field(default=1, ge=1, le=500)
    noise: float = Field(default=0.04, ge=0.0, le=1.0)
    media_share: float | None = Field(default=None, ge=0.01, le=0.9)
    kpi_type: str = "revenue"

    @field_validator("kpi_type")
    @classmethod
    def _kpi_type(cls, value: str) -> str:
        if value not in {"revenue", "conversions"}:
            raise ValueError(f"kpi type must be revenue or conversions, not '{value}'")
        return value


def parse_request(kind: type[R], data: Mapping[str, Any] | R) -> R:
    """Validate ``data`` as a request of type ``kind``, or raise :class:`InputError`.

    Every invalid field is a problem whose ``column`` is the field's key path.

    Examples
    --------
    >>> parse_request(FitRequest, {"engine": "bayes"}).engine.value
    'bayes'
    >>> try:
    ...     parse_request(FitRequest, {"engine": "glm"})
    ... except InputError as err:
    ...     print(err)
    column 'engine': unknown engine 'glm'; choose one of ridge, bayes, r-glmnet
    """
    if isinstance(data, kind):
        return data
    try:
        return kind.model_validate(dict(data))  # type: ignore[arg-type]
    except ValidationError as err:
        raise InputError(problems_from_validation(err, root="request")) from None
