"""Lambda handlers: ``optimize`` (API Gateway or direct JSON) and ``drift`` (scheduled).

``optimize`` takes ``{"model": NAME, "version": optional, "budget": B,
"constraints": {...}, "objective": ...}`` (the fields of the optimize request) as
the event itself or as the JSON ``body`` of an API Gateway proxy event, and answers
``{"statusCode": 200, "body": plan.json + {"model": {"name", "version"}}}``. Bad
input answers 400 (unparseable) or 422 (invalid) with the API's error body
``{"code", "message", "problems": [{"file", "row", "column", "message"}]}``; no
traceback leaves the function.

``drift`` runs on an EventBridge schedule. The event (or the environment,
``MEDIAMIX_DRIFT_MODEL``/``MEDIAMIX_DRIFT_DATA``) names the stored model and the
landing data (a spec and its new weeks); the report is published to
``reports/drift-<model>`` and the answer says whether retraining is due.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mediamix.errors import InputError, MediamixError
from mediamix.settings import load_settings

__all__ = ["drift_handler", "optimize_handler"]

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000
# a warm Lambda keeps verified models in its /tmp between invocations
_CACHE = Path(tempfile.gettempdir()) / "mediamix-models"
_OPTIMIZE_KEYS = {"model", "version"}


def _answer(status: int, doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(doc, allow_nan=False),
    }


def _error(
    status: int, code: str, message: str, problems: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return _answer(status, {"code": code, "message": message, "problems": problems or []})


def _problems(exc: InputError) -> list[dict[str, Any]]:
    return [
        {"file": p.file, "row": p.row, "column": p.column, "message": p.message}
        for p in exc.problems
    ]


def _request(event: Any) -> dict[str, Any]:
    """The request document of a direct invocation or an API Gateway proxy event."""
    if (
        isinstance(event, dict)
        and "body" in event
        and ("httpMethod" in event or "requestContext" in event)
    ):
        body = event.get("body") or ""
        if len(body) > MAX_BODY:
            raise InputError.single(f"request body over {MAX_BODY} bytes", file="request body")
        try:
            event = json.loads(body)
        except json.JSONDecodeError as exc:
            raise InputError.single(
                f"invalid JSON: {exc.msg}", file="request body", row=exc.lineno
            ) from None
    if not isinstance(event, dict):
        raise InputError.single("expected a JSON object", file="request body")
    return event


def _answered(what: str, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``call``'s document as a 200, or its error as the API's error body (no traceback)."""
    try:
        return _answer(200, call())
    except InputError as exc:
        message = f"{len(exc.problems)} problem(s) in the input"
        return _error(422, "invalid_input", message, _problems(exc))
    except MediamixError as exc:
        return _error(400, "error", str(exc))
    except Exception:
        log.exception("%s failed", what)
        return _error(500, "internal", "internal error (see the function's log)")


def optimize_handler(event: Any, context: Any = None) -> dict[str, Any]:
    """A budget plan from a stored model (see the module docstring for the shapes)."""
    return _answered("optimize", lambda: _plan(event))


def _plan(event: Any) -> dict[str, Any]:
    from mediamix.service.cloud import plan_from_store

    request = _request(event)
    model = request.get("model")
    if not isinstance(model, str) or not model:
        raise InputError.single(
            "a stored model name is required", file="request body", column="model"
        )
    version = request.get("version")
    if version is not None and not isinstance(version, str):
        raise InputError.single("expected a version id", file="request body", column="version")
    fields = {k: v for k, v in request.items() if k not in _OPTIMIZE_KEYS}
    settings = load_settings()
    return plan_from_store(
        settings.storage_uri, settings.aws_config(), model, fields, version=version, cache=_CACHE
    )


def drift_handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Scheduled drift check of a stored model on the latest landed weeks."""
    return _answered("drift check", lambda: _drift(event))


def _drift(event: Any) -> dict[str, Any]:
    from mediamix.service.cloud import drift_from_store

    event = event if isinstance(event, dict) else {}
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else event
    model = detail.get("model") or os.environ.get("MEDIAMIX_DRIFT_MODEL")
    data = detail.get("data") or os.environ.get("MEDIAMIX_DRIFT_DATA")
    if not model or not data:
        raise InputError.single(
            "name the stored model and landing data (event 'model'/'data' or "
            "MEDIAMIX_DRIFT_MODEL/MEDIAMIX_DRIFT_DATA)",
            column="model" if not model else "data",
        )
    settings = load_settings()
    outcome = drift_from_store(
        settings.storage_uri,
        settings.aws_config(),
        str(model),
        str(data),
        thresholds=detail.get("thresholds"),
    )
    log.info("drift check of %s: retrain=%s", model, outcome["retrain"])
    return outcome
