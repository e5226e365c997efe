"""The SageMaker serving contract: ``GET /ping`` and ``POST /invocations`` for one model.

The model folder (``/opt/ml/model`` on SageMaker; a setting, so tests use a
temporary folder) holds a fit output or its ``model/`` safe artifact. It is loaded
once at start (hashes checked, nothing executed); ``/ping`` answers 200 from then on.

``/invocations`` takes a spend plan, ``text/csv`` (a header row of channel names,
then one row of spend per period) or JSON ``{"spend": {"tv": [...], ...}}``, and
answers ``{"response": [...], "contributions": {"tv": [...], ...}}``: each
channel's modelled response per period and their sum (the paid media's part of
the KPI; the baseline needs dates and controls, which a spend plan has not). The
plan starts without carry-over from earlier spend. uvicorn drains in-flight
requests on ``SIGTERM`` (30 s at most) before exiting.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from mediamix.api import usecases
from mediamix.api.errors import error_response, problem_dict, relative_problems
from mediamix.api.metrics import Metrics
from mediamix.errors import InputError, MediamixError, Problem

__all__ = ["create_sagemaker_app", "parse_plan", "plan_matrix", "serve_sagemaker"]

log = logging.getLogger(__name__)

MAX_PERIODS = 10_000
MAX_BODY = 5_000_000


SOURCE = "request body"


def parse_plan(body: bytes, content_type: str, channels: list[str]) -> np.ndarray:
    """A (T, C) spend matrix in the model's channel order from a CSV or JSON plan.

    Raises
    ------
    InputError
        Unknown or missing channels, non-numbers, negative or non-finite spend,
        ragged rows, no periods or too many; each problem names row and column.
    """
    kind = content_type.split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError.single("the body is not UTF-8 text", file=SOURCE) from None
    if kind == "text/csv":
        columns = _csv_columns(text)
    elif kind == "application/json":
        columns = _json_columns(text)
    else:
        raise InputError.single(
            f"unsupported content type '{kind}': use text/csv or application/json", file=SOURCE
        )
    return plan_matrix(columns, channels)


def plan_matrix(columns: dict[str, list[Any]], channels: list[str]) -> np.ndarray:
    """A (T, C) spend matrix in the model's channel order from spend per channel.

    Raises
    ------
    InputError
        Unknown or missing channels, ragged or empty columns, non-numbers,
        negative or non-finite spend; each problem names row and column.
    """
    _check_channels(columns, channels)
    return _spend_matrix(columns, channels)


def _csv_columns(text: str) -> dict[str, list[Any]]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise InputError.single("empty CSV: expected a header of channel names", file=SOURCE)
    header = [h.strip() for h in rows[0]]
    columns: dict[str, list[Any]] = {h: [] for h in header}
    if len(columns) != len(header):
        raise InputError.single("duplicate channel in the header", file=SOURCE, row=0)
    for r, row in enumerate(rows[1:], start=1):
        if len(row) != len(header):
            raise InputError.single(
                f"expected {len(header)} values, found {len(row)}", file=SOURCE, row=r
            )
        for name, cell in zip(header, row, strict=True):
            columns[name].append(cell.strip())
    return columns


def _json_columns(text: str) -> dict[str, list[Any]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError.single(f"invalid JSON: {exc.msg}", file=SOURCE, row=exc.lineno) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("spend"), dict):
        raise InputError.single(
            'expected {"spend": {"<channel>": [spend per period, ...]}}', file=SOURCE
        )
    columns: dict[str, list[Any]] = {}
    for name, values in doc["spend"].items():
        if not isinstance(values, list):
            raise InputError.single("expected a list of numbers", file=SOURCE, column=name)
        columns[str(name)] = values
    return columns


def _check_channels(columns: dict[str, list[Any]], channels: list[str]) -> None:
    problems = [
        Problem(f"unknown channel; the model has {', '.join(channels)}", file=SOURCE, column=n)
        for n in columns
        if n not in channels
    ]
    problems += [
        Problem("missing channel", file=SOURCE, column=n) for n in channels if n not in columns
    ]
    if problems:
        raise InputError(problems)
    lengths = {len(columns[n]) for n in channels}
    if len(lengths) != 1:
        raise InputError.single("every channel needs the same number of periods", file=SOURCE)
    n_periods = lengths.pop()
    if not 1 <= n_periods <= MAX_PERIODS:
        raise InputError.single(
            f"expected 1 to {MAX_PERIODS} periods, found {n_periods}", file=SOURCE
        )


def _spend_matrix(columns: dict[str, list[Any]], channels: list[str]) -> np.ndarray:
    n_periods = len(columns[channels[0]])
    spend = np.empty((n_periods, len(channels)))
    problems = []
    for c, name in enumerate(channels):
        for t, value in enumerate(columns[name]):
            number = _number(value)
            if number is None or number < 0:
                found = str(value)[:40]
                problems.append(
                    Problem(
                        f"expected a finite spend >= 0, found {found!r}",
                        file=SOURCE,
                        row=t + 1,
                        column=name,
                    )
                )
            else:
                spend[t, c] = number
    if problems:
        raise InputError(problems)
    return spend


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def create_sagemaker_app(model_dir: Path) -> FastAPI:
    """The SageMaker app for the model in ``model_dir`` (loaded here, once)."""
    metrics = Metrics()
    start = time.perf_counter()
    result = usecases.load_fitted(Path(model_dir))
    metrics.model_load.observe(time.perf_counter() - start)
    channels = list(result.channel_names)
    app = FastAPI(title="mediamix SageMaker model", docs_url=None, redoc_url=None)

    @app.get("/ping")
    def ping() -> dict[str, str]:
        """200 once the model is loaded (it is, or the app would not have started)."""
        return {"status": "ok"}

    @app.post("/invocations")
    async def invocations(request: Request) -> JSONResponse:
        """Response and contributions per period for a spend plan (CSV or JSON)."""
        body = await request.body()
        if len(body) > MAX_BODY:
            return error_response(413, "too_large", f"request body over {MAX_BODY} bytes")
        try:
            spend = parse_plan(body, request.headers.get("content-type", ""), channels)
        except InputError as exc:
            problems = relative_problems(exc.problems, {})
            return error_response(
                422,
                "invalid_input",
                f"{len(problems)} problem(s) in the input",
                [problem_dict(p) for p in problems],
            )
        except MediamixError as exc:
            return error_response(400, "error", str(exc))
        return JSONResponse(usecases.predict(result, spend))

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Any:
        from fastapi import Response

        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    return app


def serve_sagemaker(model_dir: Path, *, host: str = "0.0.0.0", port: int = 8080) -> None:  # noqa: S104 -- SageMaker's container contract listens on every interface
    """Run the SageMaker app under uvicorn; SIGTERM drains requests (30 s at most)."""
    import uvicorn

    app = create_sagemaker_app(model_dir)
    uvicorn.run(app, host=host, port=port, log_config=None, timeout_graceful_shutdown=30)
