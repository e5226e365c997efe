"""``/v1/datasets``: upload (streamed to disk, validated), list, get, delete."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile

from mediamix.api import usecases
from mediamix.api.auth import Caller, audit, context, require
from mediamix.api.errors import ApiError, problem_dict
from mediamix.api.routes.common import errors, not_found, valid_id
from mediamix.api.schemas import DatasetOut
from mediamix.errors import InputError
from mediamix.state.ids import new_id
from mediamix.state.store import DatasetRecord, now

__all__ = ["copy_upload", "data_name", "router"]

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])

_DATA_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_SUFFIXES = (".csv", ".parquet", ".pq")
_SPEC_MAX = 1_000_000
_CHUNK = 1 << 20


def copy_upload(source: BinaryIO, target: Path, limit: int, field: str) -> int:
    """Stream an upload to disk in chunks; 413 past ``limit`` bytes."""
    total = 0
    with open(target, "wb") as out:
        while chunk := source.read(_CHUNK):
            total += len(chunk)
            if total > limit:
                raise ApiError(413, "too_large", f"'{field}' is over {limit} bytes")
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return total


def data_name(upload: UploadFile, field: str = "data") -> str:
    """The upload's plain file name (letters, digits, ``._-``; .csv, .parquet or .pq)."""
    name = Path(upload.filename or "").name
    if not _DATA_NAME.fullmatch(name) or not name.lower().endswith(_SUFFIXES):
        raise ApiError(
            422,
            "invalid_input",
            f"the {field} file needs a plain name ending in .csv, .parquet or .pq",
            [{"file": None, "row": None, "column": field, "message": "bad file name"}],
        )
    return name


@router.post(
    "",
    status_code=201,
    response_model=DatasetOut,
    summary="Upload a dataset (data file + spec)",
    responses=errors(400),
)
def upload_dataset(
    request: Request,
    data: Annotated[UploadFile, File(description="CSV or Parquet file")],
    spec: Annotated[UploadFile, File(description="spec YAML whose data: names the data file")],
    caller: Annotated[Caller, Depends(require("data:write"))],
) -> dict[str, Any]:
    """Store the files, validate them like ``mediamix validate``, keep them only if valid.

    Files go to a temporary folder first; a rejected upload leaves nothing behind.
    """
    ctx = context(request)
    name = data_name(data)
    dataset_id = new_id()
    final = ctx.store.dataset_dir(caller.tenant, dataset_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{dataset_id}.upload")
    tmp.mkdir()
    try:
        size = copy_upload(data.file, tmp / name, ctx.config.api.max_upload_bytes, "data")
        copy_upload(spec.file, tmp / "spec.yaml", _SPEC_MAX, "spec")
        checked = usecases.check_upload(tmp / "spec.yaml", tmp / name, ctx.config)
        os.replace(tmp, final)
    except (ApiError, InputError):
        shutil.rmtree(tmp, ignore_errors=True)
        audit(ctx, "dataset.create", "rejected", caller=caller)
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    record = DatasetRecord(
        id=dataset_id,
        tenant=caller.tenant,
        data_file=name,
        bytes=size,
        n_periods=checked.n_periods,
        channels=checked.channels,
        created_at=now(),
    )
    ctx.store.add_dataset(record)
    audit(ctx, "dataset.create", "ok", caller=caller, obj=f"dataset/{dataset_id}")
    return {**record.to_dict(), "warnings": [problem_dict(w) for w in checked.warnings]}


@router.get("", response_model=list[DatasetOut], summary="List datasets", responses=errors())
def list_datasets(
    request: Request,
    caller: Annotated[Caller, Depends(require("data:read"))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    """The tenant's datasets, newest first."""
    records = context(request).store.list_datasets(caller.tenant, limit, offset)
    return [r.to_dict() for r in records]


@router.get(
    "/{dataset_id}", response_model=DatasetOut, summary="Get a dataset", responses=errors(404)
)
def get_dataset(
    request: Request, dataset_id: str, caller: Annotated[Caller, Depends(require("data:read"))]
) -> dict[str, Any]:
    """One of the tenant's datasets."""
    record = context(request).store.get_dataset(caller.tenant, valid_id(dataset_id, "dataset"))
    if record is None:
        raise not_found("dataset")
    return record.to_dict()


@router.delete("/{dataset_id}", status_code=204, summary="Delete a dataset", responses=errors(404))
def delete_dataset(
    request: Request, dataset_id: str, caller: Annotated[Caller, Depends(require("data:write"))]
) -> Response:
    """Delete the dataset's files and record (models fitted from it stay)."""
    ctx = context(request)
    if not ctx.store.delete_dataset(caller.tenant, valid_id(dataset_id, "dataset")):
        raise not_found("dataset")
    audit(ctx, "dataset.delete", "ok", caller=caller, obj=f"dataset/{dataset_id}")
    return Response(status_code=204)
