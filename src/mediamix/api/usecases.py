"""The one place the API calls the service layer.

Routes and workers call these functions instead of ``mediamix.service.*``, so that
moving to the service's typed requests is a change in this file only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediamix.api.config import ApiConfig
from mediamix.errors import InputError, Problem
from mediamix.io.table import ReadLimits

__all__ = [
    "OBJECTIVES",
    "CheckedUpload",
    "attribute",
    "check_upload",
    "compare_scenarios",
    "ensure_model",
    "export_mart",
    "fit_model",
    "ingest_dataset",
    "load_fitted",
    "media_response",
    "model_diagnostics",
    "optimize_model",
    "planning_curves",
    "predict",
    "read_limits",
    "render_report",
    "response_curves",
    "stored_model_name",
    "transform_warehouse",
]

OBJECTIVES = ("revenue", "roi", "target_roi", "target_mroi", "target_revenue")
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class CheckedUpload:
    """What validation found in an uploaded spec and data file."""

    n_periods: int
    channels: list[str]
    warnings: tuple[Problem, ...]


def read_limits(config: ApiConfig) -> ReadLimits:
    """The input size limits of the settings."""
    return ReadLimits(
        max_rows=config.max_rows, max_columns=config.max_columns, max_bytes=config.max_bytes
    )


def check_upload(spec_path: Path, data_path: Path, config: ApiConfig) -> CheckedUpload:
    """Validate an uploaded spec and the data file it must name.

    The spec's ``data`` has to be the uploaded file itself (same folder, same
    name): a spec may not point the server at any other file or at the warehouse.

    Raises
    ------
    InputError
        Every problem, with file, row and column.
    """
    from mediamix.io.spec import read_spec
    from mediamix.service.data import validate_spec

    spec = read_spec(spec_path)
    if Path(spec.data) != data_path.resolve():
        raise InputError.single(
            f"the spec's data must name the uploaded file '{data_path.name}'",
            file=spec_path.name,
            column="data",
        )
    _, report = validate_spec(spec_path, limits=read_limits(config), home=None)
    if not report.ok or report.dataset is None:
        raise InputError(list(report.problems) + list(report.warnings))
    ds = report.dataset
    return CheckedUpload(
        n_periods=int(ds.n_periods), channels=list(ds.channels), warnings=report.warnings
    )


def fit_model(
    spec_path: Path,
    out: Path,
    request: Mapping[str, Any],
    *,
    progress: Progress,
    config: ApiConfig,
    name: str | None = None,
) -> dict[str, Any]:
    """Fit like ``mediamix fit`` and write the same folder; returns summary.json's document.

    ``request`` is the service's fit request as JSON (``engine``, ``seed``,
    ``sampler``); Bayesian fits share the compiled-sampler cache of the CLI, and
    fits are tracked in MLflow as the CLI's are (``config.tracking``). With a store
    (``config.storage``), the model is published as ``models/<name>`` too.
    """
    from mediamix.service.fit import fit
    from mediamix.service.storage import Publication

    doc = dict(request)
    if doc.get("engine") == "bayes" and config.compile_cache:
        doc["sampler"] = {**(doc.get("sampler") or {}), "compile_cache": config.compile_cache}
    outcome = fit(
        spec_path,
        out,
        doc,
        limits=read_limits(config),
        progress=progress,
        home=config.home,
        tracking=config.tracking,
        publish=Publication(config.storage, name) if config.storage is not None else None,
    )
    return outcome.summary


def stored_model_name(tenant: str, model_id: str) -> str:
    """The S3 store name of a tenant's model (``<tenant>.<model id>``; both checked ids)."""
    return f"{tenant}.{model_id}"


def ensure_model(folder: Path, tenant: str, model_id: str, config: ApiConfig) -> bool:
    """Whether the model's folder is there, fetching it from the store when this
    replica lacks it (verified, atomically; see :func:`mediamix.service.storage.restore_model`)."""
    from mediamix.service.storage import restore_model

    return restore_model(config.storage, stored_model_name(tenant, model_id), folder)


def optimize_model(
    model_dir: Path, request: Mapping[str, Any], result: Any = None
) -> dict[str, Any]:
    """A budget plan from a fitted model folder: the plan.json document.

    ``request`` is the service's optimize request as JSON (``budget``,
    ``objective``, ``target``, ``constraints`` as the C.yaml document, ``periods``,
    ``risk_level``, ``scenarios``, ``frontier``, ``weekly``); problems in the
    documents name the files ``constraints`` and ``scenarios``. ``result`` is the
    model already loaded, for weekly plans.
    """
    from mediamix.service.optimize import model_response, optimize, optimize_request

    fields = {k: v for k, v in request.items() if k not in {"budget", "constraints", "scenarios"}}
    if request.get("constraints") is not None:
        fields["constraints_file"] = "constraints"
    if request.get("scenarios") is not None:
        fields["scenarios_file"] = "scenarios"
    parsed = optimize_request(
        request["budget"],
        constraints=request.get("constraints"),
        scenarios=request.get("scenarios"),
        **fields,
    )
    if parsed.weekly:
        from mediamix.service.weekly import plan_weekly

        return plan_weekly(
            result if result is not None else load_fitted(model_dir), parsed
        ).to_dict()
    plan = optimize(parsed, response_model=model_response(model_dir, parsed.periods))
    return plan.to_dict()


def load_fitted(model_dir: Path) -> Any:
    """The fitted model of a fit folder (safe artifact: hashes checked, nothing executed)."""
    from mediamix.service.fit import load_model

    return load_model(model_dir)


def predict(result: Any, spend: Any) -> dict[str, Any]:
    """The prediction document for a spend plan (T, C) in the model's channel order:
    ``response`` per period and ``contributions`` per channel and period."""
    import numpy as np

    parts = np.asarray(media_response(result, spend))
    return {
        "response": parts.sum(axis=1).tolist(),
        "contributions": {n: parts[:, c].tolist() for c, n in enumerate(result.channel_names)},
    }


def media_response(result: Any, spend: Any) -> Any:
    """Each channel's response per period (T, C) to a spend plan (T, C), no history.

    The plan starts from no carry-over: adstock builds up from its first period.
    """
    return result.media_components(spend)


def response_curves(result: Any, multiples: Sequence[float]) -> Any:
    """Each channel's response to its historical spend scaled by ``multiples``.

    The table of :meth:`mediamix.models.result.FitResult.response_curves`:
    ``channel``, ``multiple``, ``spend``, ``response``, ``marginal_roi``.
    """
    return result.response_curves(multiples=tuple(multiples))


def model_diagnostics(model_dir: Path) -> dict[str, Any]:
    """The fit's quality and checks, read from its summary.json.

    Per channel, whether its 90% ROI interval is wider than the ROI itself (the
    data cannot pin that channel's return down); for Bayesian fits the sampler's
    R-hat, bulk ESS and divergences with their warnings in plain words.
    """
    from mediamix.models.info import EngineInfo

    doc = json.loads((model_dir / "summary.json").read_text())
    info = EngineInfo.from_dict(doc.get("info"))
    warnings = [str(w) for w in doc.get("warnings") or []]
    sampler = None
    if info.diagnostics is not None:
        d = info.diagnostics
        sampler = {
            "method": d.method,
            "max_rhat": d.max_rhat,
            "min_ess_bulk": d.min_ess_bulk,
            "divergences": d.divergences,
        }
        warnings += list(d.warnings)
    channels = {}
    for name, ch in (doc.get("channels") or {}).items():
        roi, interval = ch.get("roi"), ch.get("roi_interval")
        wide = bool(
            roi is not None
            and interval is not None
            and None not in interval
            and interval[1] - interval[0] > abs(roi)
        )
        channels[name] = {
            "roi": roi,
            "roi_interval": interval,
            "interval_wider_than_estimate": wide,
        }
    return {
        "engine": doc.get("engine"),
        "metrics": doc.get("metrics") or {},
        "holdout_nrmse": info.holdout_nrmse,
        "sampler": sampler,
        "selection": (doc.get("info") or {}).get("selection"),
        "channels": channels,
        "warnings": warnings,
    }


def render_report(
    result: Any,
    model_dir: Path,
    pdf: bool,
    plan: Mapping[str, Any] | None = None,
    source: str = "plan",
) -> bytes:
    """The model's report, the bytes ``mediamix report`` writes: self-contained HTML or
    PDF; with a plan, the executive report of the model and that plan."""
    from mediamix.service.report import render_model_dir

    request = {"pdf": pdf, "plan": dict(plan) if plan is not None else None}
    report = render_model_dir(model_dir, request, result=result, plan_file=source, html=not pdf)
    if pdf:
        assert report.pdf is not None  # noqa: S101 -- asked for, so rendered
        return report.pdf
    return report.html.encode("utf-8")


def attribute(journeys: Path, request: Mapping[str, Any], decomposition: Path | None) -> Any:
    """The attribution table of ``mediamix attribute`` for an uploaded journeys file.

    ``request`` is the service's attribute request as JSON; ``decomposition`` a
    model's decomposition.csv for the MMM-based method.
    """
    from mediamix.service.attribute import attribute_journeys

    return attribute_journeys(journeys, dict(request), decomposition=decomposition)


def ingest_dataset(
    warehouse_home: Path, data: Path, spec: Path, account: str, config: ApiConfig
) -> dict[str, Any]:
    """Load an uploaded dataset into a tenant's warehouse, like ``mediamix ingest csv``.

    Returns the load: ``status`` (``loaded``, or ``unchanged`` when the same rows
    were loaded before), the
    period and the row counts.
    """
    from mediamix.service.ingest import LoadTarget, ingest_file

    outcome = ingest_file(
        warehouse_home,
        data,
        spec=spec,
        target=LoadTarget(account=account),
        limits=read_limits(config),
    )
    load = outcome.load
    return {
        "status": load.status,
        "account": account,
        "period_start": str(load.period_start),
        "period_end": str(load.period_end),
        "media_rows": int(load.media_rows),
    }


def transform_warehouse(warehouse_home: Path) -> dict[str, int]:
    """``dbt build`` on a tenant's warehouse; the count of nodes per outcome.

    Raises
    ------
    InputError
        A model or test failed (each named).
    """
    from mediamix.service.transform import transform

    return dict(transform(warehouse_home).counts())


def export_mart(warehouse_home: Path, folder: Path) -> None:
    """Write the ``mmm_weekly_input`` mart and its spec into ``folder``."""
    from mediamix.service.transform import export_mmm_input

    export_mmm_input(warehouse_home, folder)


def planning_response(result: Any, periods: int | None) -> Any:
    """The response model the optimizer plans on, for a loaded fit and plan length."""
    from mediamix.models.response import FittedResponse

    return FittedResponse(result, periods)


def compare_scenarios(
    result: Any, scenarios: Mapping[str, Any], periods: int | None
) -> dict[str, Any]:
    """The current mix and the what-if allocations side by side on the planning model
    (:func:`mediamix.service.optimize.compare_scenarios`); problems name ``scenarios``."""
    from mediamix.service.optimize import compare_scenarios as compare

    return compare(planning_response(result, periods), scenarios, file="scenarios")


def planning_curves(result: Any, multiples: Sequence[float], periods: int | None) -> Any:
    """Response curves with their 90% band on the planning model (a table)."""
    from mediamix.service.optimize import planning_curves as curves

    return curves(planning_response(result, periods), list(multiples))


def check_constraints(document: Mapping[str, Any], channels: Sequence[str]) -> None:
    """Check a constraints document as ``mediamix optimize --constraints`` would.

    Raises
    ------
    InputError
        Unknown keys or bad values (named by key path), or channels the model lacks.
    """
    from mediamix.optimization.constraints import constraints_from_dict

    cons = constraints_from_dict(document, file="constraints")
    unknown = sorted(set(cons.channels) - set(channels))
    if unknown:
        raise InputError.single(
            f"channels not in the model: {unknown}", file="constraints", column="channels"
        )
