"""The FastAPI application: routers, error mapping, middleware.

``create_app()`` is the factory ``mediamix serve`` runs under uvicorn (one per API
process); tests call it with a configuration of their own.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from mediamix import __version__
from mediamix.api.auth import REQUIRED_SCOPE, required_scope
from mediamix.api.config import ApiConfig, load_config
from mediamix.api.context import ApiContext
from mediamix.api.errors import ApiError, error_response, problem_dict, relative_problems
from mediamix.api.middleware import ServiceMiddleware
from mediamix.api.ratelimit import RateLimiter
from mediamix.api.routes import (
    attribution_routes,
    dataset_routes,
    health_routes,
    job_routes,
    model_routes,
    registry_routes,
    scenario_routes,
    warehouse_routes,
)
from mediamix.api.worker import take_back_lost_jobs
from mediamix.errors import BusyError, InputError, MediamixError, Problem
from mediamix.state.store import StateStore

__all__ = ["create_app"]

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def _input_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)  # noqa: S101 -- type narrowing of an internal invariant, not input validation
    problems = relative_problems(exc.problems, {})
    return error_response(
        422,
        "invalid_input",
        f"{len(problems)} problem(s) in the input",
        [problem_dict(p) for p in problems],
    )


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 -- type narrowing of an internal invariant, not input validation
    problems = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        where = loc[0] if loc else None
        column = ".".join(loc[1:]) or where
        problems.append({"file": where, "row": None, "column": column, "message": err["msg"]})
    return error_response(422, "invalid_input", "the request does not match its schema", problems)


def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)  # noqa: S101 -- type narrowing of an internal invariant, not input validation
    return error_response(exc.status, exc.code, exc.message, exc.problems, exc.headers)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 -- type narrowing of an internal invariant, not input validation
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(exc.status_code, code, message, headers=exc.headers)


def _busy(request: Request, exc: Exception) -> JSONResponse:
    return error_response(503, "busy", str(exc), headers={"Retry-After": "5"})


def _mediamix_error(request: Request, exc: Exception) -> JSONResponse:
    # the message only: server paths in it are cut to their last component
    message = relative_problems([Problem(str(exc) or type(exc).__name__)], {})[0].message
    return error_response(400, "error", message)


def create_app(config: ApiConfig | None = None) -> FastAPI:
    """The API for ``config`` (default: from the environment)."""
    config = config or load_config()
    store = StateStore(config.root, config.api.database_url, ca_bundle=config.tls_ca_bundle)
    ctx = ApiContext(
        config=config,
        store=store,
        limiter=RateLimiter(config.api.rate_per_minute, config.api.rate_burst),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        taken = take_back_lost_jobs(store)
        for job_id, state in taken:
            log.warning("job %s: its worker was lost; now %s", job_id, state)
        yield
        store.engine.dispose()

    app = FastAPI(
        title="mediamix",
        version=__version__,
        summary="Media mix modeling, budget optimization and attribution over HTTP.",
        description=(
            "Authenticate with `Authorization: Bearer KEY` (keys from `mediamix keys create`). "
            "Errors answer `{code, message, problems: [{file, row, column, message}]}`; "
            "another tenant's id answers 404 exactly like a missing one."
        ),
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    for router in (
        health_routes.router,
        dataset_routes.router,
        model_routes.router,
        registry_routes.router,
        scenario_routes.router,
        attribution_routes.router,
        warehouse_routes.router,
        job_routes.router,
    ):
        for route in router.routes:
            scope = required_scope(route)
            if isinstance(route, APIRoute) and scope is not None:
                route.openapi_extra = {**(route.openapi_extra or {}), REQUIRED_SCOPE: scope}
        app.include_router(router)
    handlers: dict[Any, Any] = {
        ApiError: _api_error,
        InputError: _input_error,
        BusyError: _busy,
        MediamixError: _mediamix_error,
        RequestValidationError: _validation_error,
        StarletteHTTPException: _http_error,
    }
    from mediamix.dashboard.routes import router as dashboard_router

    app.include_router(dashboard_router)
    for exc_type, handler in handlers.items():
        app.add_exception_handler(exc_type, handler)
    if config.api.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=config.api.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        )
    app.add_middleware(ServiceMiddleware, ctx=ctx)
    return app
