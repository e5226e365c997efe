"""What-if scenarios on a model (the planner of the dashboard): compare allocations
with the current mix, export them, and the planning curves with their band; plus
``/v1/session``, what a key may do."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from mediamix.api import usecases
from mediamix.api.auth import Caller, context, require
from mediamix.api.routes.common import errors, not_found, valid_id
from mediamix.api.schemas import ScenarioExportRequest, ScenariosRequest, SessionOut
from mediamix.io.exports import csv_text, xlsx_bytes

__all__ = ["router"]

router = APIRouter(tags=["scenarios"])

_OBJECT = {"type": "object", "additionalProperties": True}
EXPORT_COLUMNS = (
    "scenario",
    "channel",
    "spend",
    "response",
    "response_low",
    "response_high",
    "roi",
    "marginal_roi",
    "change_vs_current",
    "probability_better",
)


def _loaded(request: Request, caller: Caller, model_id: str) -> Any:
    ctx = context(request)
    record = ctx.store.get_model(caller.tenant, valid_id(model_id, "model"))
    if record is None:
        raise not_found("model")
    assert ctx.models is not None  # noqa: S101 -- set by ApiContext.__post_init__
    return ctx.models.get(ctx.store.model_dir(caller.tenant, record.id))


@router.get(
    "/v1/session",
    response_model=SessionOut,
    summary="The key's tenant and scopes",
    responses=errors(),
)
def get_session(caller: Annotated[Caller, Depends(require("model:read"))]) -> dict[str, Any]:
    """What the calling key may do, so a client (the dashboard) shows only what works."""
    key = caller.key
    return {"tenant": key.tenant, "key_id": key.key_id, "scopes": sorted(key.scopes)}


@router.post(
    "/v1/models/{model_id}/scenarios",
    summary="Compare what-if allocations with the current mix",
    responses={
        **errors(404),
        200: {
            "description": "per scenario (current first): total_spend, total_response, "
            "roi, response_interval, change_vs_current, probability_better and channels",
            "content": {"application/json": {"schema": _OBJECT}},
        },
    },
)
def compare_scenarios(
    request: Request,
    model_id: str,
    body: ScenariosRequest,
    caller: Annotated[Caller, Depends(require("optimize:run"))],
) -> JSONResponse:
    """Expected response, ROI and its 90% interval of each allocation on the response
    model the optimizer plans on (the ``scenarios`` block of plan.json), without
    optimizing: fast enough to follow a user editing budgets."""
    result = _loaded(request, caller, model_id)
    block = usecases.compare_scenarios(result, body.scenarios, body.periods)
    return JSONResponse(block)


@router.post(
    "/v1/models/{model_id}/scenarios/export",
    summary="Export scenarios as CSV, XLSX or the constraints YAML",
    response_class=Response,
    responses={
        **errors(404),
        200: {
            "description": "csv/xlsx: one row per scenario and channel plus a total row "
            "(formula-like text neutralized, numbers as numbers); yaml: the constraints "
            "document `mediamix optimize --constraints` reads",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
                "application/yaml": {"schema": {"type": "string"}},
            },
        },
    },
)
def export_scenarios(
    request: Request,
    model_id: str,
    body: ScenarioExportRequest,
    caller: Annotated[Caller, Depends(require("optimize:run"))],
    format: Annotated[Literal["csv", "xlsx", "yaml"], Query()] = "csv",
) -> Response:
    """The scenarios as the planner shows them (recomputed here, not taken from the
    client), or the constraints they were planned under as YAML."""
    result = _loaded(request, caller, model_id)
    channels = list(result.channel_names)
    if format == "yaml":
        document = body.constraints or {}
        usecases.check_constraints(document, channels)
        return _download(_constraints_yaml(document, body), "application/yaml", model_id, "yaml")
    block = usecases.compare_scenarios(result, body.scenarios, body.periods)
    frame = pd.DataFrame(_rows(block), columns=EXPORT_COLUMNS)
    if format == "xlsx":
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return _download(xlsx_bytes({"scenarios": frame}), kind, model_id, "xlsx")
    return _download(csv_text(frame).encode(), "text/csv", model_id, "csv")


@router.get(
    "/v1/models/{model_id}/planning-curves",
    summary="Response curves on the planning model, with their 90% band",
    responses={
        **errors(404),
        200: {
            "description": "rows of channel, multiple, spend, response, lower, upper, "
            "marginal_roi (lower/upper null without draws)",
            "content": {"application/json": {"schema": {"type": "array", "items": _OBJECT}}},
        },
    },
)
def planning_curves(
    request: Request,
    model_id: str,
    caller: Annotated[Caller, Depends(require("model:read"))],
    points: Annotated[int, Query(ge=2, le=101, description="points per channel")] = 21,
    max_multiple: Annotated[
        float, Query(gt=0.0, le=10.0, description="largest multiple of current spend")
    ] = 2.0,
    periods: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> JSONResponse:
    """Each channel's expected response from 0 to ``max_multiple`` times its current
    spend (the others held), on the basis the optimizer and the planner use, with the
    band over the model's draws."""
    result = _loaded(request, caller, model_id)
    step = max_multiple / (points - 1)
    table = usecases.planning_curves(result, [k * step for k in range(points)], periods)
    return JSONResponse(json.loads(table.to_json(orient="records")))


def _rows(block: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for name, entry in block.items():
        for channel, part in entry["channels"].items():
            rows.append(
                [
                    name,
                    channel,
                    part["spend"],
                    part["response"],
                    None,
                    None,
                    part["roi"],
                    part["marginal_roi"],
                    None,
                    None,
                ]
            )
        low, high = entry.get("response_interval") or (None, None)
        rows.append(
            [
                name,
                "total",
                entry["total_spend"],
                entry["total_response"],
                low,
                high,
                entry["roi"],
                None,
                entry["change_vs_current"],
                entry.get("probability_better"),
            ]
        )
    return rows


def _constraints_yaml(document: dict[str, Any], body: ScenarioExportRequest) -> bytes:
    import yaml

    spend = next(iter(body.scenarios.values()))
    budget = sum(spend.values())
    # the budget is no key of the constraints document: a comment tells the command
    head = (
        "# constraints for: mediamix optimize --model MODEL "
        f"--budget {budget:.2f} --constraints THIS_FILE\n"
    )
    body_text = yaml.safe_dump(document, sort_keys=False, allow_unicode=False)
    return (head + body_text).encode("utf-8")


def _download(content: bytes, kind: str, model_id: str, ext: str) -> Response:
    filename = f"mediamix-scenario-{model_id}.{ext}"
    return Response(
        content,
        media_type=kind,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
