"""Request and response bodies of the API (pydantic), with examples for the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "DatasetOut",
    "DecompositionPage",
    "DiagnosticsOut",
    "ErrorBody",
    "FitRequest",
    "JobAccepted",
    "JobLogLine",
    "JobOut",
    "ModelOut",
    "OptimizeRequest",
    "PredictOut",
    "PredictRequest",
    "ProblemOut",
    "ReportRequest",
    "ScenarioExportRequest",
    "ScenariosRequest",
    "SessionOut",
]

Objective = Literal["revenue", "roi", "target_roi", "target_mroi", "target_revenue"]


class ProblemOut(BaseModel):
    """One problem in the input: where it is and what is wrong."""

    file: str | None = Field(None, examples=["weekly.csv"])
    row: int | None = Field(None, examples=[12])
    column: str | None = Field(None, examples=["tv_spend"])
    message: str = Field(examples=["expected a number, found 'abc'"])


class ErrorBody(BaseModel):
    """Every error answer."""

    code: str = Field(examples=["invalid_input"])
    message: str = Field(examples=["1 problem(s) in the input"])
    problems: list[ProblemOut] = Field(default_factory=list)


class DatasetOut(BaseModel):
    """An uploaded, validated dataset."""

    id: str = Field(examples=["5f2b0c7d9e8a4b1c8d7e6f5a4b3c2d1e"])
    data_file: str = Field(examples=["weekly.csv"])
    bytes: int = Field(examples=[48211])
    n_periods: int = Field(examples=[156])
    channels: list[str] = Field(examples=[["tv", "search"]])
    created_at: float = Field(examples=[1767225600.0])
    warnings: list[ProblemOut] = Field(default_factory=list)


class FitRequest(BaseModel):
    """Start a fit of a dataset (the options of ``mediamix fit``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"dataset_id": "5f2b0c7d9e8a4b1c8d7e6f5a4b3c2d1e", "engine": "ridge"}]
        },
    )

    dataset_id: str = Field(min_length=1, max_length=64)
    engine: Literal["ridge", "bayes"] = "ridge"
    seed: int = Field(0, ge=0, le=2**32 - 1)
    method: Literal["nuts", "svi", "map"] | None = Field(None, description="bayes only")
    chains: int | None = Field(None, ge=1, le=16, description="bayes only")
    warmup: int | None = Field(None, ge=0, le=20_000, description="bayes only")
    draws: int | None = Field(None, ge=1, le=20_000, description="bayes only")
    geo_model: bool = Field(False, description="bayes only: fit the geo hierarchy")


class JobAccepted(BaseModel):
    """A job was queued."""

    job_id: str = Field(examples=["0a1b2c3d4e5f60718293a4b5c6d7e8f9"])
    model_id: str | None = Field(None, examples=["9f8e7d6c5b4a39281706f5e4d3c2b1a0"])


class JobOut(BaseModel):
    """A job's state, progress and outcome."""

    id: str
    kind: str = Field(examples=["fit"])
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: float = Field(ge=0.0, le=1.0, examples=[0.42])
    message: str | None = Field(None, examples=["search: 4200 of 10000 candidates"])
    result: dict[str, Any] | None = Field(None, examples=[{"model_id": "9f8e7d6c..."}])
    error: dict[str, Any] | None = None
    attempts: int
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None


class ModelOut(BaseModel):
    """A fitted model."""

    id: str
    dataset_id: str
    engine: str = Field(examples=["ridge"])
    job_id: str
    created_at: float


class OptimizeRequest(BaseModel):
    """A budget plan from a fitted model (the options of ``mediamix optimize --model``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "budget": 100000.0,
                    "constraints": {"channels": {"tv": {"min": 10000, "max": 60000}}},
                }
            ]
        },
    )

    budget: float = Field(gt=0, le=1e15, allow_inf_nan=False)
    objective: Objective = "revenue"
    target: float | None = Field(None, ge=-1e15, le=1e15, allow_inf_nan=False)
    constraints: dict[str, Any] | None = Field(
        None, description="The constraints document (C.yaml of CONTRACTS.md) as JSON."
    )
    periods: int | None = Field(None, ge=1, le=10_000)
    risk_level: float | None = Field(
        0.9, gt=0.0, lt=1.0, description="null turns the risk check off"
    )
    scenarios: dict[str, dict[str, float]] | None = Field(
        None,
        max_length=50,
        description="What-if allocations (name -> channel -> spend) compared with the plan",
    )
    frontier: bool = Field(False, description="add the efficient frontier (50%-200% of spend)")
    weekly: bool = Field(
        False,
        description="plan week by week with carry-over (models with geometric carry-over); "
        "constraints may then hold only a weeks block",
    )
    count_carryover_out: bool = Field(
        True, description="weekly: count what the plan earns after the horizon"
    )


class DecompositionPage(BaseModel):
    """A page of the decomposition table."""

    total: int = Field(examples=[156])
    offset: int = Field(examples=[0])
    limit: int = Field(examples=[100])
    columns: list[str] = Field(examples=[["date", "actual", "fitted", "intercept", "tv"]])
    rows: list[dict[str, Any]]


class JobLogLine(BaseModel):
    """One line of a job's log: a state change or a new stage of its progress."""

    seq: int = Field(examples=[3])
    time: float = Field(examples=[1767225600.0])
    level: Literal["info", "warning", "error"] = Field(examples=["info"])
    message: str = Field(examples=["40% search: 4000 of 10000 candidates"])


class ChannelDiagnostics(BaseModel):
    """How well the data pin down one channel's return."""

    roi: float | None = Field(examples=[1.8])
    roi_interval: list[float] | None = Field(None, examples=[[1.1, 2.6]])
    interval_wider_than_estimate: bool = Field(
        examples=[False],
        description="the 90% ROI interval is wider than the ROI itself: the data "
        "cannot tell this channel's return apart from much smaller or larger ones",
    )


class DiagnosticsOut(BaseModel):
    """The fit's quality and the engine's own checks."""

    engine: str = Field(examples=["ridge"])
    metrics: dict[str, float | None] = Field(examples=[{"r2": 0.95, "nrmse": 0.06}])
    holdout_nrmse: float | None = Field(None, examples=[0.12])
    sampler: dict[str, Any] | None = Field(
        None, description="bayes: method, max R-hat, min bulk ESS, divergences"
    )
    selection: dict[str, Any] | None = Field(None, description="ridge: how the model was chosen")
    channels: dict[str, ChannelDiagnostics]
    warnings: list[str] = Field(default_factory=list)


class PredictRequest(BaseModel):
    """A spend plan: per channel, the spend of each period (every channel of the model)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"spend": {"tv": [1000.0, 0.0], "search": [500.0, 800.0]}}]
        },
    )

    spend: dict[str, list[float]] = Field(max_length=200)


class PredictOut(BaseModel):
    """Each channel's modelled response per period, and their sum (the paid media's
    part of the KPI; the plan starts without carry-over from earlier spend)."""

    response: list[float] = Field(examples=[[1520.4, 1398.2]])
    contributions: dict[str, list[float]] = Field(
        examples=[{"tv": [1100.1, 610.7], "search": [420.3, 787.5]}]
    )


class RegisterRequest(BaseModel):
    """Register one of the tenant's fitted models as a new version of a registered name."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"model_id": "3f2a9c0d4b5e4f61a7b8c9d0e1f2a3b4"}]},
    )

    model_id: str = Field(max_length=64)


class RegistryVersionOut(BaseModel):
    """A registered version: its number, aliases and, when registered here, its model id."""

    name: str = Field(examples=["brand"])
    version: int = Field(examples=[3])
    aliases: list[str] = Field(examples=[["champion"]])
    created: str = Field(examples=["2026-11-30T08:00:00Z"])
    model_id: str | None = Field(default=None, examples=["3f2a9c0d4b5e4f61a7b8c9d0e1f2a3b4"])
    engine: str | None = Field(default=None, examples=["ridge"])
    holdout_nrmse: float | None = Field(default=None, examples=[0.081])


class RegisteredModelOut(BaseModel):
    """A registered name of the tenant and its versions, oldest first."""

    name: str = Field(examples=["brand"])
    versions: list[RegistryVersionOut]


class PromoteRequest(BaseModel):
    """Point an alias at a version; to ``champion`` only if the promotion rule passes.

    ``force`` overrides a refusal and needs a ``reason``; the decision, its figures and
    the key that decided are recorded on the version and in the audit log either way.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"alias": "champion"},
                {"alias": "champion", "force": True, "reason": "TV flight change, agreed"},
            ]
        },
    )

    alias: Literal["champion", "challenger"] = "champion"
    reason: str | None = Field(default=None, min_length=1, max_length=500)
    force: bool = False
    roi_tolerance: float | None = Field(default=None, gt=0, le=10)


# no control characters: names end up in file cells and headers
ScenarioName = Annotated[
    str, StringConstraints(min_length=1, max_length=80, pattern=r"^[^\x00-\x1f\x7f]+$")
]
ChannelName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Spend = Annotated[float, Field(ge=0.0, le=1e15, allow_inf_nan=False)]


class ScenariosRequest(BaseModel):
    """What-if allocations to compare with the current mix (nothing is optimized)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"scenarios": {"more_search": {"tv": 30000.0, "search": 70000.0}}}]
        },
    )

    scenarios: dict[ScenarioName, dict[ChannelName, Spend]] = Field(
        min_length=1,
        max_length=20,
        description="name -> channel -> spend (totals over the plan, every channel of the "
        "model); the names current, optimized and recommended are reserved",
    )
    periods: int | None = Field(
        None, ge=1, le=10_000, description="plan length (default: the modeling window)"
    )


class ScenarioExportRequest(ScenariosRequest):
    """Scenarios to export, with the constraints the planner used for them."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "scenarios": {"more_search": {"tv": 30000.0, "search": 70000.0}},
                    "constraints": {"channels": {"tv": {"min": 10000.0}}},
                }
            ]
        },
    )

    constraints: dict[str, Any] | None = Field(
        None, description="The constraints document (C.yaml of CONTRACTS.md) as JSON."
    )


class SessionOut(BaseModel):
    """Who the key is: its tenant and scopes (never the key)."""

    tenant: str = Field(examples=["acme"])
    key_id: str = Field(examples=["k_3f2a1b"])
    scopes: list[str] = Field(examples=[["model:read", "optimize:run"]])


_PLAN_EXAMPLE: Any = {
    "objective": "revenue",
    "budget": 100000.0,
    "status": "optimal",
    "total_response": 123456.0,
    "channels": {
        "tv": {"spend": 41000.0, "response": 60000.0, "marginal_roi": 0.8},
        "search": {"spend": 59000.0, "response": 63456.0, "marginal_roi": 0.8},
    },
}


class ReportRequest(BaseModel):
    """The executive report of a model and one plan: the plan.json document itself, or
    the optimize job (``as_job``) of this model whose ``result.plan`` it is."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"plan_job_id": "9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f", "format": "pdf"},
                {"plan": _PLAN_EXAMPLE, "format": "html"},
            ]
        },
    )

    plan: dict[str, Any] | None = Field(
        None,
        description="A plan.json document made from this model (CONTRACTS.md), checked "
        "like the CLI's --plan file",
    )
    plan_job_id: str | None = Field(
        None,
        max_length=64,
        description="A succeeded optimize job of this model (POST .../optimize?as_job=true)",
    )
    format: Literal["html", "pdf"] = Field("html", description="self-contained HTML, or PDF")

    @model_validator(mode="after")
    def _one_plan(self) -> ReportRequest:
        if (self.plan is None) == (self.plan_job_id is None):
            raise ValueError("give exactly one of plan and plan_job_id")
        return self
