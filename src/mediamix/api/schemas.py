"""Request and response bodies of the API (pydantic), with examples for the OpenAPI document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DatasetOut",
    "DecompositionPage",
    "ErrorBody",
    "FitRequest",
    "JobAccepted",
    "JobOut",
    "ModelOut",
    "OptimizeRequest",
    "ProblemOut",
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


class DecompositionPage(BaseModel):
    """A page of the decomposition table."""

    total: int = Field(examples=[156])
    offset: int = Field(examples=[0])
    limit: int = Field(examples=[100])
    columns: list[str] = Field(examples=[["date", "actual", "fitted", "intercept", "tv"]])
    rows: list[dict[str, Any]]
