"""What the routers share: documented error answers, tenant-scoped lookups, queueing jobs."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from mediamix.api.auth import Caller, audit, context
from mediamix.api.errors import ApiError
from mediamix.api.schemas import ErrorBody
from mediamix.state import jobs
from mediamix.state.ids import InvalidNameError, check_id

__all__ = ["NOT_FOUND", "errors", "not_found", "queue_job", "valid_id"]

_DESCRIPTIONS = {
    400: "Bad request",
    401: "No key, or an unknown or revoked key",
    403: "The key lacks the scope of this operation",
    404: "No such object for this tenant (a missing id and another tenant's id look the same)",
    409: "Conflict with the object's state",
    413: "Request body or upload too large",
    422: "Invalid input: every problem with file, row and column",
    429: "Rate limit of the key, or the tenant's cap on active jobs (see Retry-After)",
    503: "Timeout or a busy resource (see Retry-After)",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given error statuses (every one an ErrorBody)."""
    base = {400, 401, 403, 413, 422, 429, 503}
    return {
        code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]}
        for code in sorted(base | set(codes))
    }


NOT_FOUND = "not_found"


def not_found(kind: str) -> ApiError:
    """The one 404 of an object kind: the same body whether missing or foreign."""
    return ApiError(404, NOT_FOUND, f"no {kind} with this id")


def valid_id(value: str, kind: str) -> str:
    """``value`` if it is a well-formed id; a malformed id is simply not found."""
    try:
        return check_id(value)
    except InvalidNameError:
        raise not_found(kind) from None


def queue_job(
    request: Request, caller: Caller, kind: str, params: dict[str, Any], action: str
) -> str:
    """Queue a job of the caller's tenant within its cap and audit it; the job's id.

    Raises
    ------
    ApiError
        429 with ``Retry-After`` when the tenant has its cap of active jobs.
    """
    ctx = context(request)
    settings = ctx.config.api
    try:
        job = jobs.submit(
            ctx.store.engine,
            caller.tenant,
            kind,
            params,
            max_attempts=settings.job_max_attempts,
            max_active=settings.max_active_jobs,
        )
    except jobs.TooManyJobsError as exc:
        audit(ctx, action, "denied: job cap", caller=caller)
        raise ApiError(429, "too_many_jobs", str(exc), headers={"Retry-After": "30"}) from None
    audit(ctx, action, "queued", caller=caller, obj=f"job/{job.id}")
    return job.id
