"""``/v1/warehouse``: load a dataset into the tenant's warehouse, run the dbt models.

Each tenant has a warehouse of its own (a DuckDB file and its dbt state under the
tenant's folder). Both operations are jobs: poll ``/v1/jobs/{job_id}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from mediamix.api.auth import Caller, context, require
from mediamix.api.routes.common import errors, not_found, queue_job, valid_id
from mediamix.api.schemas import JobAccepted
from mediamix.state.ids import new_id

__all__ = ["router"]

router = APIRouter(prefix="/v1/warehouse", tags=["warehouse"])


class IngestBody(BaseModel):
    """Load one of the tenant's datasets into its warehouse (``mediamix ingest csv``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"dataset_id": "5f2b0c7d9e8a4b1c8d7e6f5a4b3c2d1e", "account": "brand"}]
        },
    )

    dataset_id: str = Field(min_length=1, max_length=64)
    account: str = Field("default", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class TransformBody(BaseModel):
    """Run the dbt models on the tenant's warehouse (``mediamix transform``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"export": True}]})

    export: bool = Field(
        True, description="also store the mmm_weekly_input mart as a new dataset to fit on"
    )


def _queue(
    request: Request, caller: Caller, kind: str, params: dict[str, Any], response: Response
) -> dict[str, Any]:
    job_id = queue_job(request, caller, kind, params, f"warehouse.{kind}")
    response.headers["Location"] = f"/v1/jobs/{job_id}"
    return {"job_id": job_id, "model_id": None}


@router.post(
    "/ingest",
    status_code=202,
    response_model=JobAccepted,
    summary="Load a dataset into the warehouse",
    responses=errors(404),
)
def ingest(
    request: Request,
    body: IngestBody,
    response: Response,
    caller: Annotated[Caller, Depends(require("data:write"))],
) -> dict[str, Any]:
    """Queue a load of one of the tenant's datasets into its warehouse; loading the
    same rows again changes nothing (the job's result says ``unchanged``)."""
    dataset_id = valid_id(body.dataset_id, "dataset")
    if context(request).store.get_dataset(caller.tenant, dataset_id) is None:
        raise not_found("dataset")
    params = {"dataset_id": dataset_id, "account": body.account}
    return _queue(request, caller, "ingest", params, response)


@router.post(
    "/transform",
    status_code=202,
    response_model=JobAccepted,
    summary="Run the dbt models",
    responses=errors(),
)
def transform(
    request: Request,
    body: TransformBody,
    response: Response,
    caller: Annotated[Caller, Depends(require("data:write"))],
) -> dict[str, Any]:
    """Queue ``dbt build`` on the tenant's warehouse; with ``export``, the job's result
    names a new dataset holding the mmm_weekly_input mart and its spec."""
    params: dict[str, Any] = {"export": body.export}
    if body.export:
        params["dataset_id"] = new_id()  # reserved now, so a retried job makes one dataset
    return _queue(request, caller, "transform", params, response)
