"""``/v1/jobs``: state with progress, result, error; the job's log; cancel."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from mediamix.api.auth import Caller, audit, context, require
from mediamix.api.routes.common import errors, not_found, valid_id
from mediamix.api.schemas import JobLogLine, JobOut
from mediamix.api.worker import take_back_lost_jobs
from mediamix.state import jobs

__all__ = ["router"]

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.get("", response_model=list[JobOut], summary="List jobs", responses=errors())
def list_jobs(
    request: Request,
    caller: Annotated[Caller, Depends(require("model:read"))],
    state: Annotated[
        Literal["queued", "running", "succeeded", "failed", "cancelled"] | None, Query()
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    """The tenant's jobs, newest first."""
    engine = context(request).store.engine
    found = jobs.list_jobs(engine, caller.tenant, state=state, limit=limit, offset=offset)
    return [j.to_dict() for j in found]


@router.get("/{job_id}", response_model=JobOut, summary="Get a job", responses=errors(404))
def get_job(
    request: Request, job_id: str, caller: Annotated[Caller, Depends(require("model:read"))]
) -> dict[str, Any]:
    """State, progress (0..1, the same as the CLI's bar), result or error."""
    store = context(request).store
    engine = store.engine
    take_back_lost_jobs(store)  # a job whose worker died reads as such at once
    job = jobs.get_job(engine, valid_id(job_id, "job"), caller.tenant)
    if job is None:
        raise not_found("job")
    return job.to_dict()


@router.get(
    "/{job_id}/logs",
    response_model=list[JobLogLine],
    summary="A job's log",
    responses=errors(404),
)
def get_job_logs(
    request: Request,
    job_id: str,
    caller: Annotated[Caller, Depends(require("model:read"))],
    after: Annotated[int, Query(ge=0, le=2**62, description="lines after this seq")] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[dict[str, Any]]:
    """What happened to the job, oldest first: queued, started by which worker, each
    stage of its progress, lost workers and retries, the outcome. Poll with
    ``after`` set to the last ``seq`` seen to follow a running job."""
    store = context(request).store
    take_back_lost_jobs(store)
    lines = jobs.job_log(
        store.engine, valid_id(job_id, "job"), caller.tenant, after=after, limit=limit
    )
    if lines is None:
        raise not_found("job")
    return [line.to_dict() for line in lines]


@router.post(
    "/{job_id}/cancel", response_model=JobOut, summary="Cancel a job", responses=errors(404)
)
def cancel_job(
    request: Request, job_id: str, caller: Annotated[Caller, Depends(require("model:train"))]
) -> dict[str, Any]:
    """Cancel: a queued job at once, a running one at its next progress step."""
    ctx = context(request)
    job = jobs.request_cancel(ctx.store.engine, valid_id(job_id, "job"), caller.tenant)
    if job is None:
        raise not_found("job")
    audit(ctx, "job.cancel", job.state, caller=caller, obj=f"job/{job_id}")
    return job.to_dict()
