"""``/v1/attribution``: upload journeys (aggregated paths or an event log), get the table."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from mediamix.api import usecases
from mediamix.api.auth import Caller, context, require
from mediamix.api.errors import ApiError
from mediamix.api.routes.common import errors, not_found, valid_id
from mediamix.api.routes.dataset_routes import copy_upload, data_name
from mediamix.attribution.compare import Method
from mediamix.io.exports import csv_text

__all__ = ["router"]

router = APIRouter(prefix="/v1/attribution", tags=["attribution"])


@router.post(
    "",
    summary="Attribute conversions to channels",
    responses={
        **errors(404, 413),
        200: {
            "description": "the table `mediamix attribute` writes: JSON records, or CSV "
            "with format=csv",
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
    },
)
def attribute(  # noqa: PLR0913 -- one parameter per form field (FastAPI reads each from its own)
    request: Request,
    journeys: Annotated[
        UploadFile,
        File(
            description="Aggregated paths (path;total_conversions[;total_conversion_value]"
            "[;total_null]) or an event log (user_id,timestamp,channel,conversion"
            "[,conversion_value][,milestone]); CSV or Parquet"
        ),
    ],
    caller: Annotated[Caller, Depends(require("data:read"))],
    method: Annotated[Method, Form()] = Method.ALL,
    order: Annotated[int, Form(ge=1, le=4, description="Markov order")] = 1,
    half_life: Annotated[float | None, Form(gt=0, le=3650)] = None,
    lookback_days: Annotated[int, Form(ge=1, le=3650)] = 30,
    keep_repeats: Annotated[bool, Form()] = False,
    model_id: Annotated[
        str | None,
        Form(max_length=64, description="mmm: the model whose decomposition is attributed"),
    ] = None,
    window_start: Annotated[str | None, Form(max_length=32)] = None,
    window_end: Annotated[str | None, Form(max_length=32)] = None,
    seed: Annotated[int, Form(ge=0, le=2**32 - 1)] = 0,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    """Run one attribution method, or all side by side, like ``mediamix attribute``
    (synchronous; the upload is read from a temporary file and not kept). With
    ``model_id``, the model's decomposition feeds the MMM-based method."""
    ctx = context(request)
    decomposition = None
    if model_id is not None:
        if not caller.key.allows("model:read"):
            raise ApiError(403, "forbidden", "model_id needs the 'model:read' scope")
        record = ctx.store.get_model(caller.tenant, valid_id(model_id, "model"))
        if record is None:
            raise not_found("model")
        decomposition = ctx.store.model_dir(caller.tenant, record.id) / "decomposition.csv"
    name = data_name(journeys, "journeys")
    home = ctx.store.tenant_dir(caller.tenant)
    home.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".attribution-", dir=home))
    try:
        copy_upload(journeys.file, scratch / name, ctx.config.api.max_upload_bytes, "journeys")
        request_fields = {
            "method": method.value,
            "order": order,
            "half_life": half_life,
            "lookback_days": lookback_days,
            "keep_repeats": keep_repeats,
            "window_start": window_start,
            "window_end": window_end,
            "seed": seed,
        }
        table = usecases.attribute(scratch / name, request_fields, decomposition)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if format == "csv":
        return Response(csv_text(table), media_type="text/csv")
    return JSONResponse(json.loads(table.to_json(orient="records")))
