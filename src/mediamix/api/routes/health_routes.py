"""Liveness, readiness and metrics (no key needed)."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from mediamix.api.auth import context
from mediamix.state.db import ping
from mediamix.state.jobs import count_by_state

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get(
    "/livez",
    summary="The process is alive",
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
async def livez() -> dict[str, str]:
    """Answers while the API process runs; touches nothing else (jobs never block it)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The service can serve requests",
    responses={
        200: {"content": {"application/json": {"example": {"status": "ok", "checks": {}}}}},
        503: {"description": "A dependency is not reachable"},
    },
)
def readyz(request: Request) -> JSONResponse:
    """200 when the database answers and the model store is writable, else 503."""
    ctx = context(request)
    checks: dict[str, str] = {}
    try:
        ping(ctx.store.engine)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    root = ctx.store.root
    checks["model_store"] = "ok" if os.access(root, os.W_OK) else "not writable"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> Response:
    """Request latency per route, jobs by state, model load time (text format)."""
    ctx = context(request)
    ctx.metrics.watch_jobs(lambda: count_by_state(ctx.store.engine))
    return Response(ctx.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
