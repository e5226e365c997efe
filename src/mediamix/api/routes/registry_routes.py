"""``/v1/registry``: the tenant's registered models, registration, promotion, plans from a
registry reference.

Registered names are the tenant's own: a name ``brand`` of tenant ``acme`` is the
MLflow registered model ``acme.brand``, so tenants never see or touch each other's
versions (another tenant's name answers 404 exactly like a missing one). Promotion
applies the written rule of :func:`mediamix.service.registry.promote_model`; the key
that decided is recorded on the version and in the audit log.
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mediamix.api import usecases
from mediamix.api.auth import Caller, audit, context, require
from mediamix.api.errors import ApiError
from mediamix.api.routes.common import errors, not_found, valid_id
from mediamix.api.schemas import (
    OptimizeRequest,
    PromoteRequest,
    RegisteredModelOut,
    RegisterRequest,
    RegistryVersionOut,
)
from mediamix.errors import InputError
from mediamix.tracking.config import TrackingConfig

__all__ = ["router"]

router = APIRouter(prefix="/v1/registry", tags=["registry"])

_NAME = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_VERSION = re.compile(r"[1-9][0-9]{0,8}|champion|challenger")
_MODEL_ID_TAG = "mediamix.api.model_id"
# MLflow's fluent logging keeps process-wide state (tracking URI, active run):
# registrations from concurrent requests take turns
_REGISTER_LOCK = threading.Lock()


def _tracking(request: Request) -> TrackingConfig:
    config = context(request).config.tracking
    if config is None:
        raise ApiError(
            409,
            "registry_off",
            "this server has no model registry (tracking is not configured)",
        )
    return config


def _full_name(caller: Caller, name: str) -> str:
    """The MLflow name of the tenant's ``name``; a malformed name is simply not found."""
    if not _NAME.fullmatch(name):
        raise not_found("registered model")
    return f"{caller.tenant}.{name}"


def _ref(caller: Caller, name: str, version: str) -> Any:
    from mediamix.tracking.registry import ModelRef

    full = _full_name(caller, name)
    if not _VERSION.fullmatch(version):
        raise not_found("registered model version")
    if version.isdigit():
        return ModelRef(full, int(version))
    return ModelRef(full, alias=version)


def _version_out(caller: Caller, info: dict[str, Any]) -> dict[str, Any]:
    tags = info.get("tags") or {}
    holdout = tags.get("mediamix.holdout_nrmse")
    return {
        "name": str(info["name"]).removeprefix(f"{caller.tenant}."),
        "version": int(info["version"]),
        "aliases": list(info.get("aliases") or []),
        "created": info.get("created", ""),
        "model_id": tags.get(_MODEL_ID_TAG),
        "engine": tags.get("mediamix.engine"),
        "holdout_nrmse": float(holdout) if holdout is not None else None,
    }


def _resolve(registry: Any, ref: Any) -> dict[str, Any]:
    try:
        info: dict[str, Any] = registry.resolve(ref)
    except InputError:
        raise not_found("registered model version") from None
    return info


def _pinned(registry: Any, ref: Any) -> Any:
    """``ref`` with an alias replaced by the version it points to now (404 when none),
    so the rest of the request reads that one version even if the alias moves."""
    from mediamix.tracking.registry import ModelRef

    return ModelRef(ref.name, int(_resolve(registry, ref)["version"]))


@functools.lru_cache(maxsize=8)
def _registry(config: TrackingConfig) -> Any:
    """One registry client per tracking configuration (opening the store is not cheap)."""
    from mediamix.tracking.registry import Registry

    return Registry(config)


@router.get(
    "",
    response_model=list[RegisteredModelOut],
    summary="List the tenant's registered models",
    responses=errors(409),
)
def list_registered(
    request: Request, caller: Annotated[Caller, Depends(require("model:read"))]
) -> list[dict[str, Any]]:
    """Every registered name of the tenant with its versions and aliases."""
    registry = _registry(_tracking(request))
    prefix = f"{caller.tenant}."
    names = sorted(
        m.name for m in registry.client.search_registered_models() if m.name.startswith(prefix)
    )
    return [
        {
            "name": name.removeprefix(prefix),
            "versions": [_version_out(caller, v) for v in registry.versions(name)],
        }
        for name in names
    ]


@router.post(
    "/{name}/versions",
    status_code=201,
    response_model=RegistryVersionOut,
    summary="Register a fitted model as a new version",
    responses=errors(404, 409),
)
def register_version(
    request: Request,
    name: str,
    body: RegisterRequest,
    caller: Annotated[Caller, Depends(require("model:train"))],
) -> dict[str, Any]:
    """Register one of the tenant's fitted models under ``name`` (created on first use).

    The model's artifact is verified before anything is stored; an interrupted
    registration leaves no version behind.
    """
    ctx = context(request)
    config = _tracking(request)
    full = _full_name(caller, name)
    record = ctx.store.get_model(caller.tenant, valid_id(body.model_id, "model"))
    if record is None:
        raise not_found("model")
    folder = ctx.store.model_dir(caller.tenant, record.id)
    registry = _registry(config)
    with _REGISTER_LOCK:
        info = registry.register(folder, full)
    registry.client.set_model_version_tag(full, str(info["version"]), _MODEL_ID_TAG, record.id)
    info.setdefault("tags", {})[_MODEL_ID_TAG] = record.id
    audit(ctx, "registry.register", "ok", caller=caller, obj=f"models:/{name}/{info['version']}")
    return _version_out(caller, info)


@router.get(
    "/{name}/versions/{version}",
    summary="A registered version (a number or an alias) with its summary",
    responses={
        **errors(404, 409),
        200: {
            "description": "the version's record, decisions recorded on it, and its summary",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
    },
)
def show_version(
    request: Request,
    name: str,
    version: str,
    caller: Annotated[Caller, Depends(require("model:read"))],
) -> JSONResponse:
    """The version ``version`` (``3``, ``champion`` or ``challenger``) of ``name``: its
    aliases, the promotion decisions recorded on it, and the model's summary."""
    from mediamix.service.registry import show_model

    config = _tracking(request)
    ref = _pinned(_registry(config), _ref(caller, name, version))
    shown = show_model(str(ref), config)
    doc = {
        **_version_out(caller, shown),
        "decisions": {
            k: v for k, v in (shown.get("tags") or {}).items() if k.startswith("mediamix.promotion")
        },
        "summary": shown.get("summary"),
    }
    return JSONResponse(doc)


@router.post(
    "/{name}/versions/{version}/promote",
    summary="Point an alias at a version by the promotion rule",
    responses={
        **errors(404, 409),
        200: {
            "description": "the decision: accepted, reasons, figures, who decided",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
    },
)
def promote_version(
    request: Request,
    name: str,
    version: str,
    body: PromoteRequest,
    caller: Annotated[Caller, Depends(require("model:promote"))],
) -> JSONResponse:
    """Promote ``version`` to ``champion`` (only if the rule passes) or ``challenger``.

    A refusal answers 409 with the rule's reasons; the refused decision is still
    recorded on the version. ``force`` with a ``reason`` overrides a refusal and is
    recorded as an override.
    """
    from mediamix.service.registry import promote_model

    ctx = context(request)
    config = _tracking(request)
    ref = _ref(caller, name, version)
    info = _resolve(_registry(config), ref)
    if body.force and not body.reason:
        raise ApiError(422, "reason_required", "an override (force) needs a reason")
    target = f"models:/{name}/{info['version']}@{body.alias}"
    try:
        record = promote_model(
            ref.name,
            int(info["version"]),
            body.alias,
            config,
            decided_by=f"api-key:{caller.key.key_id}",
            force=body.force,
            reason=body.reason,
            roi_tolerance=body.roi_tolerance,
            home=ctx.config.home,
        )
    except InputError as exc:
        audit(ctx, "registry.promote", "refused", caller=caller, obj=target)
        raise ApiError(
            409, "promotion_refused", "; ".join(p.message for p in exc.problems)
        ) from None
    audit(
        ctx,
        "registry.promote",
        "override" if record["override"] else "ok",
        caller=caller,
        obj=target,
    )
    return JSONResponse(record)


@router.post(
    "/{name}/versions/{version}/optimize",
    summary="A budget plan from a registered version (a number or an alias)",
    responses={
        **errors(404, 409),
        200: {
            "description": "the plan.json document of CONTRACTS.md",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
    },
)
def optimize_version(
    request: Request,
    name: str,
    version: str,
    body: OptimizeRequest,
    caller: Annotated[Caller, Depends(require("optimize:run"))],
) -> JSONResponse:
    """Plan on the version an alias points to now (``champion``), or a numbered one:
    the same plan as ``/v1/models/{model_id}/optimize`` on that model."""
    from mediamix.service.registry import resolve_model

    config = _tracking(request)
    ref = _pinned(_registry(config), _ref(caller, name, version))
    folder = resolve_model(str(ref), config)
    models = context(request).models
    loaded = models.get(folder) if body.weekly and models is not None else None
    plan = usecases.optimize_model(folder, body.model_dump(exclude_none=False), loaded)
    return JSONResponse(plan)
