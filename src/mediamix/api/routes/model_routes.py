"""``/v1/models``: start a fit job, list, summary, decomposition, response curves,
diagnostics, report, predict, optimize, delete."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic_core import to_json
from starlette.concurrency import run_in_threadpool

from mediamix.api import usecases
from mediamix.api.auth import Caller, audit, context, require
from mediamix.api.errors import ApiError
from mediamix.api.routes.common import errors, not_found, queue_job, valid_id
from mediamix.api.schemas import (
    DecompositionPage,
    DiagnosticsOut,
    FitRequest,
    JobAccepted,
    ModelOut,
    OptimizeRequest,
    PredictOut,
    PredictRequest,
    ReportRequest,
)
from mediamix.io.exports import csv_text
from mediamix.state import jobs
from mediamix.state.ids import new_id
from mediamix.state.store import ModelRecord

__all__ = ["router"]

router = APIRouter(prefix="/v1/models", tags=["models"])

_BAYES_ONLY = ("method", "chains", "warmup", "draws")
_INLINE_CELLS = 10_000
"""Plans up to this many cells (periods x channels) are predicted on the event loop
(well under a millisecond); larger ones in a worker thread, so they do not hold up
other requests."""
_OBJECT = {"type": "object", "additionalProperties": True}


def _float(cell: str) -> float | None:
    # the CSV holds finite numbers; an empty cell (no value) reads as null
    return float(cell) if cell else None


def _loaded(request: Request, folder: Path) -> Any:
    models = context(request).models
    assert models is not None  # noqa: S101 -- set by ApiContext.__post_init__
    return models.get(folder)


async def _loaded_async(request: Request, folder: Path) -> Any:
    """The cached model without leaving the event loop; a load goes to a worker thread."""
    models = context(request).models
    assert models is not None  # noqa: S101 -- set by ApiContext.__post_init__
    model = models.peek(folder)
    if model is None:
        model = await run_in_threadpool(models.get, folder)
    return model


def _model(request: Request, caller: Caller, model_id: str) -> tuple[ModelRecord, Path]:
    store = context(request).store
    record = store.get_model(caller.tenant, valid_id(model_id, "model"))
    if record is None:
        raise not_found("model")
    folder = store.model_dir(caller.tenant, record.id)
    # a replica without a shared disk fetches the model from the S3 store once
    usecases.ensure_model(folder, caller.tenant, record.id, context(request).config)
    return record, folder


@router.post(
    "",
    status_code=202,
    response_model=JobAccepted,
    summary="Start a fit job",
    responses=errors(404),
)
def start_fit(
    request: Request,
    body: FitRequest,
    response: Response,
    caller: Annotated[Caller, Depends(require("model:train"))],
) -> dict[str, Any]:
    """Queue a fit of one of the tenant's datasets; poll ``/v1/jobs/{job_id}``.

    The model id is reserved now; the model exists once the job succeeds.
    """
    ctx = context(request)
    dataset = ctx.store.get_dataset(caller.tenant, valid_id(body.dataset_id, "dataset"))
    if dataset is None:
        raise not_found("dataset")
    sampler: dict[str, Any] = {k: getattr(body, k) for k in _BAYES_ONLY}
    sampler["geo_hierarchy"] = True if body.geo_model else None
    if body.engine != "bayes":
        given = [k for k, v in sampler.items() if v is not None]
        if given:
            raise ApiError(
                422,
                "invalid_input",
                "these options apply to engine 'bayes' only",
                [{"file": None, "row": None, "column": k, "message": "bayes only"} for k in given],
            )
    model_id = new_id()
    params = {
        "dataset_id": dataset.id,
        "model_id": model_id,
        "engine": body.engine,
        "seed": body.seed,
        "sampler": {k: v for k, v in sampler.items() if v is not None},
    }
    job_id = queue_job(request, caller, "fit", params, "model.fit")
    response.headers["Location"] = f"/v1/jobs/{job_id}"
    return {"job_id": job_id, "model_id": model_id}


@router.get("", response_model=list[ModelOut], summary="List models", responses=errors())
def list_models(
    request: Request,
    caller: Annotated[Caller, Depends(require("model:read"))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    """The tenant's models, newest first."""
    return [r.to_dict() for r in context(request).store.list_models(caller.tenant, limit, offset)]


@router.get("/{model_id}", response_model=ModelOut, summary="Get a model", responses=errors(404))
def get_model(
    request: Request, model_id: str, caller: Annotated[Caller, Depends(require("model:read"))]
) -> dict[str, Any]:
    """One of the tenant's models."""
    record, _ = _model(request, caller, model_id)
    return record.to_dict()


@router.get(
    "/{model_id}/summary",
    summary="The model's summary.json",
    response_class=Response,
    responses={
        **errors(404),
        200: {
            "description": "summary.json, byte for byte as the fit wrote it",
            "content": {"application/json": {"schema": _OBJECT}},
        },
    },
)
async def get_summary(
    request: Request, model_id: str, caller: Annotated[Caller, Depends(require("model:read"))]
) -> Response:
    """The summary.json document of CONTRACTS.md, exactly the bytes the fit wrote."""
    # the read routes are async with their blocking part in one worker-thread trip:
    # a sync route costs a trip per dependency too, and under load those threads
    # fight the event loop for the GIL
    return await run_in_threadpool(_summary, request, caller, model_id)


def _summary(request: Request, caller: Caller, model_id: str) -> Response:
    _, folder = _model(request, caller, model_id)
    return Response((folder / "summary.json").read_bytes(), media_type="application/json")


@router.get(
    "/{model_id}/decomposition",
    summary="The per-period decomposition, paged",
    response_model=DecompositionPage,
    responses={
        **errors(404),
        200: {
            "description": "JSON page, or CSV rows (header + page) with format=csv",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
    },
)
async def get_decomposition(
    request: Request,
    model_id: str,
    caller: Annotated[Caller, Depends(require("model:read"))],
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> Response:
    """Rows ``offset .. offset + limit`` of decomposition.csv (date, actual, fitted, parts)."""
    return await run_in_threadpool(_decomposition, request, caller, model_id, format, offset, limit)


def _decomposition(
    request: Request, caller: Caller, model_id: str, format: str, offset: int, limit: int
) -> Response:
    _, folder = _model(request, caller, model_id)
    lines = (folder / "decomposition.csv").read_text().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    page = rows[offset : offset + limit]
    headers = {"X-Total-Count": str(len(rows))}
    if format == "csv":
        return Response("".join([header, *page]), media_type="text/csv", headers=headers)
    columns = next(csv.reader([header]))
    records = [
        {
            name: cell if name == "date" else _float(cell)
            for name, cell in zip(columns, row, strict=True)
        }
        for row in csv.reader(page)
    ]
    body = {
        "total": len(rows),
        "offset": offset,
        "limit": limit,
        "columns": columns,
        "rows": records,
    }
    return JSONResponse(body, headers=headers)


@router.get(
    "/{model_id}/curves",
    summary="The channels' response curves",
    responses={
        **errors(404),
        200: {
            "description": "rows of channel, multiple, spend, response, marginal_roi "
            "(JSON records, or CSV with format=csv)",
            "content": {
                "application/json": {"schema": {"type": "array", "items": _OBJECT}},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
    },
)
def get_curves(
    request: Request,
    model_id: str,
    caller: Annotated[Caller, Depends(require("model:read"))],
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    points: Annotated[int, Query(ge=2, le=201, description="points per channel")] = 21,
    max_multiple: Annotated[
        float, Query(gt=0.0, le=10.0, description="largest multiple of historical spend")
    ] = 2.0,
) -> Response:
    """Each channel's total response to its historical spend scaled from 0 to
    ``max_multiple`` (the others held at history), with the marginal ROI."""
    import numpy as np

    _, folder = _model(request, caller, model_id)
    result = _loaded(request, folder)
    table = usecases.response_curves(result, np.linspace(0.0, max_multiple, points).tolist())
    if format == "csv":
        return Response(csv_text(table), media_type="text/csv")
    return JSONResponse(json.loads(table.to_json(orient="records")))


@router.get(
    "/{model_id}/diagnostics",
    response_model=DiagnosticsOut,
    summary="Fit quality and the engine's checks",
    responses=errors(404),
)
def get_diagnostics(
    request: Request, model_id: str, caller: Annotated[Caller, Depends(require("model:read"))]
) -> dict[str, Any]:
    """Fit metrics, holdout error, the sampler's convergence checks (Bayes) or the
    selection rule (ridge), and the channels whose return the data cannot pin down."""
    _, folder = _model(request, caller, model_id)
    return usecases.model_diagnostics(folder)


@router.get(
    "/{model_id}/report",
    summary="The model's executive report",
    response_class=Response,
    responses={
        **errors(404),
        200: {
            "description": "self-contained HTML (opens offline), or the charts as PDF",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
        },
    },
)
def get_report(
    request: Request,
    model_id: str,
    caller: Annotated[Caller, Depends(require("report:read"))],
    format: Annotated[Literal["html", "pdf"], Query()] = "html",
) -> Response:
    """Render the report ``mediamix report`` writes for the model without a plan (a few
    seconds); ``POST`` the same path with a plan for the executive report."""
    _, folder = _model(request, caller, model_id)
    body = usecases.render_report(_loaded(request, folder), folder, pdf=format == "pdf")
    return _report_response(body, model_id, format)


def _report_response(body: bytes, model_id: str, format: str) -> Response:
    kind = "application/pdf" if format == "pdf" else "text/html; charset=utf-8"
    name = f"mediamix-report-{model_id}.{format}"
    return Response(
        body, media_type=kind, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _job_plan(request: Request, caller: Caller, job_id: str, model_id: str) -> dict[str, Any]:
    """The plan an optimize job of this model made; another tenant's job is not found."""
    job = jobs.get_job(context(request).store.engine, valid_id(job_id, "job"), caller.tenant)
    if job is None:
        raise not_found("job")
    where = {"file": None, "row": None, "column": "plan_job_id"}
    if job.kind != "optimize" or job.params.get("model_id") != model_id:
        raise ApiError(
            422,
            "invalid_input",
            "the job is not an optimize job of this model",
            [{**where, "message": f"a {job.kind} job, not a plan of model {model_id}"}],
        )
    plan = (job.result or {}).get("plan")
    if job.state != "succeeded" or not isinstance(plan, dict):
        raise ApiError(
            409,
            "job_not_done",
            f"the optimize job has no plan (state {job.state})",
            [{**where, "message": f"state {job.state}: wait until it succeeds"}],
        )
    return plan


@router.post(
    "/{model_id}/report",
    summary="The executive report of the model and a plan",
    response_class=Response,
    responses={
        **errors(404, 409),
        200: {
            "description": "self-contained HTML (opens offline) or PDF: the bytes "
            "`mediamix report MODEL --plan plan.json` writes for the same model and plan",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
        },
    },
)
def post_report(
    request: Request,
    model_id: str,
    body: ReportRequest,
    caller: Annotated[Caller, Depends(require("report:read"))],
) -> Response:
    """Render the executive report of the model and one plan (a few seconds): page 1 in
    plain words, then the analyses. The plan is a plan.json document in the body, or
    the result of an optimize job of this model (``plan_job_id``). A plan that does not
    fit the model answers 422 with every problem; nothing is stored."""
    record, folder = _model(request, caller, model_id)
    if body.plan_job_id is not None:
        plan = _job_plan(request, caller, body.plan_job_id, record.id)
        source = f"job {body.plan_job_id}"
    else:
        plan, source = body.plan or {}, "plan"
    # a plan that does not fit the model is an InputError: 422, its problems under file
    # "plan" (or "job ID"), each naming the field inside the plan
    rendered = usecases.render_report(
        _loaded(request, folder), folder, pdf=body.format == "pdf", plan=plan, source=source
    )
    return _report_response(rendered, record.id, body.format)


@router.post(
    "/{model_id}/predict",
    response_model=PredictOut,
    summary="Response and contributions for a spend plan",
    responses=errors(404),
)
async def predict(
    request: Request,
    model_id: str,
    body: PredictRequest,
    caller: Annotated[Caller, Depends(require("model:read"))],
) -> Response:
    """Each channel's modelled response per period to the plan, as SageMaker's
    ``/invocations`` answers it; problems name the channel (column) and period (row)."""

    from mediamix.api.sagemaker import plan_matrix

    _, folder = await run_in_threadpool(_model, request, caller, model_id)
    result = await _loaded_async(request, folder)
    spend = plan_matrix({k: list(v) for k, v in body.spend.items()}, list(result.channel_names))
    if spend.size <= _INLINE_CELLS:
        doc = usecases.predict(result, spend)
    else:
        doc = await run_in_threadpool(usecases.predict, result, spend)
    # the document is built here from finite spend: encoded directly, not revalidated
    # against PredictOut (which cost more than the prediction); non-finite numbers
    # become null as the response model would write them
    return Response(to_json(doc, inf_nan_mode="null"), media_type="application/json")


@router.post(
    "/{model_id}/optimize",
    summary="A budget plan from the model",
    responses={
        **errors(404, 429),
        200: {
            "description": "the plan.json document of CONTRACTS.md",
            "content": {"application/json": {"schema": _OBJECT}},
        },
        202: {
            "description": "as_job: the plan is made by a job; its result holds the plan",
            "model": JobAccepted,
        },
    },
)
def optimize_model(
    request: Request,
    model_id: str,
    body: OptimizeRequest,
    caller: Annotated[Caller, Depends(require("optimize:run"))],
    as_job: Annotated[
        bool,
        Query(description="plan in a job (long weekly plans, frontiers): answers 202"),
    ] = False,
) -> JSONResponse:
    """Optimize a budget on the model's response curves: one plan with the risk
    check, what-if scenarios and the efficient frontier on request, or a
    week-by-week plan with carry-over (``weekly``). Synchronous by default; with
    ``as_job`` the plan is made by a job worker and is the job's ``result.plan``."""
    record, folder = _model(request, caller, model_id)
    if as_job:
        params = {"model_id": record.id, "request": body.model_dump(exclude_none=False)}
        job_id = queue_job(request, caller, "optimize", params, "model.optimize")
        return JSONResponse(
            {"job_id": job_id, "model_id": record.id},
            status_code=202,
            headers={"Location": f"/v1/jobs/{job_id}"},
        )
    loaded = _loaded(request, folder) if body.weekly else None
    plan = usecases.optimize_model(folder, body.model_dump(exclude_none=False), loaded)
    return JSONResponse(plan)


@router.delete("/{model_id}", status_code=204, summary="Delete a model", responses=errors(404))
def delete_model(
    request: Request, model_id: str, caller: Annotated[Caller, Depends(require("model:train"))]
) -> Response:
    """Delete the model's files and record."""
    ctx = context(request)
    model_id = valid_id(model_id, "model")
    folder = ctx.store.model_dir(caller.tenant, model_id)
    if not ctx.store.delete_model(caller.tenant, model_id):
        raise not_found("model")
    if ctx.models is not None:
        ctx.models.forget(folder)
    audit(ctx, "model.delete", "ok", caller=caller, obj=f"model/{model_id}")
    return Response(status_code=204)
