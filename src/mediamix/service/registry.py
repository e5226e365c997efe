"""Use cases of the model registry: register, list, show, promote, compare, resolve.

Called by ``mediamix models ...``, by every command that takes ``--model`` (a folder
or ``models:/NAME/VERSION`` / ``models:/NAME@ALIAS``) and, later, by the API.
"""

from __future__ import annotations

import getpass
import json
import logging
import time
from pathlib import Path
from typing import Any

from mediamix.aws.storage import StorageConfig
from mediamix.errors import InputError
from mediamix.io.artifacts import load_artifact, load_lineage
from mediamix.models.result import FitResult
from mediamix.tracking.config import TrackingConfig

__all__ = [
    "compare_models",
    "list_models",
    "load_new_weeks",
    "load_result",
    "promote_model",
    "register_model",
    "resolve_model",
    "resolve_model_version",
    "show_model",
]

log = logging.getLogger(__name__)


def _registry(config: TrackingConfig) -> Any:
    from mediamix.tracking.registry import Registry

    return Registry(config)


def resolve_model(
    model: str | Path, config: TrackingConfig | None, storage: StorageConfig | None = None
) -> Path:
    """A local, verified model folder for ``--model``: a path, a registry reference or
    a stored model.

    Registry references are fetched (once, cached under ``MEDIAMIX_HOME``) and
    verified against the checksum recorded at registration before use. Stored models
    (``s3://bucket/prefix/models/NAME[/VERSION]``, ``store:NAME[/VERSION]`` in the
    store of ``storage``) are fetched into ``storage.cache`` with every object's hash
    and the safe-artifact checks verified first (:func:`mediamix.service.storage.fetch_model`).
    """
    from mediamix.service.storage import resolve_stored
    from mediamix.tracking.registry import is_registry_ref

    stored = resolve_stored(model, storage)
    if stored is not None:
        return stored
    if not is_registry_ref(model):
        return Path(model)
    if config is None:
        raise InputError.single(f"{model}: no registry configured", column="--model")
    return Path(_registry(config).fetch(str(model)))


def resolve_model_version(
    model: str | Path, config: TrackingConfig | None
) -> tuple[Path, dict[str, Any] | None]:
    """:func:`resolve_model`, and the registry version a reference points to.

    The version is ``{"name", "version", "run_id"}``, or ``None`` for a folder. An
    alias is resolved once and that version fetched, so the folder and the version
    named are the same even if the alias moves meanwhile.
    """
    from mediamix.tracking.registry import is_registry_ref

    if not is_registry_ref(model):
        return Path(model), None
    if config is None:
        raise InputError.single(f"{model}: no registry configured", column="--model")
    registry = _registry(config)
    info = registry.resolve(str(model))
    folder = Path(registry.fetch(f"models:/{info['name']}/{info['version']}"))
    return folder, {"name": info["name"], "version": info["version"], "run_id": info["run_id"]}


def register_model(folder: str | Path, name: str, config: TrackingConfig) -> dict[str, Any]:
    """Register a fit output folder as a new version of ``name``."""
    return dict(_registry(config).register(folder, name))


def list_models(config: TrackingConfig) -> list[dict[str, Any]]:
    """Every registered model and its versions (with aliases)."""
    return list(_registry(config).list_models())


def load_result(folder: Path) -> FitResult:
    """A fitted model from a verified folder (fit output or its ``model/``)."""
    target = folder / "model" if (folder / "model" / "manifest.json").is_file() else folder
    meta, arrays = load_artifact(target)
    return FitResult.from_artifact(meta, arrays)


def show_model(ref: str, config: TrackingConfig) -> dict[str, Any]:
    """A version's record plus its summary (metrics, channels with ROI and intervals)
    and its lineage (``None`` for models fitted before lineage was recorded)."""
    registry = _registry(config)
    info = registry.resolve(ref)
    folder = registry.fetch(ref)
    summary_path = folder / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    model = folder / "model" if (folder / "model").is_dir() else folder
    return {
        **info,
        "summary": {
            k: summary.get(k)
            for k in ("engine", "kpi", "start", "end", "n_periods", "metrics", "channels")
        },
        "lineage": load_lineage(model),
    }


def _decision_record(decision: Any, decided_by: str | None) -> dict[str, Any]:
    record = decision.to_dict() if hasattr(decision, "to_dict") else dict(decision)
    record["decided_by"] = decided_by or getpass.getuser()
    record["decided_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return record


def promote_model(  # noqa: PLR0913 -- the promotion's inputs (who, why, forced) are each recorded
    name: str,
    version: int,
    alias: str,
    config: TrackingConfig,
    *,
    decided_by: str | None = None,
    force: bool = False,
    reason: str | None = None,
    holdout: str | Path | None = None,
    roi_tolerance: float | None = None,
    home: str | Path | None = None,
) -> dict[str, Any]:
    """Point ``alias`` at ``version``; to ``champion`` only if the promotion rule passes.

    The rule (:func:`mediamix.tracking.promotion.decide`) compares the candidate with
    the current champion: holdout error on the newest weeks (``holdout``: a spec of
    weeks neither model was fitted on; default, each model's own holdout error),
    agreement with the candidate's lift tests, and ROI moves within ``roi_tolerance``
    unless a ``reason`` is recorded. ``force`` overrides a refusal (the API requires
    the ``model:promote`` scope for it); the decision, its figures, who decided and
    any override are recorded on the version either way.

    Raises
    ------
    InputError
        Unknown version or alias, or a refusal without ``force`` (nothing changed,
        the refused decision is still recorded on the version).
    """
    from mediamix.tracking.promotion import PromotionRule, decide
    from mediamix.tracking.registry import ModelRef

    registry = _registry(config)
    candidate_ref = ModelRef(name, version)
    registry.resolve(candidate_ref)
    champion_ref: ModelRef | None = ModelRef(name, alias="champion")
    try:
        champion_info = registry.resolve(champion_ref)
    except InputError:
        champion_info, champion_ref = None, None
    rule = PromotionRule() if roi_tolerance is None else PromotionRule(roi_tolerance=roi_tolerance)
    new_data = load_new_weeks(holdout, home) if holdout is not None else None
    candidate = load_result(registry.fetch(candidate_ref))
    champion = load_result(registry.fetch(champion_ref)) if champion_ref is not None else None
    if champion_info is not None and int(champion_info["version"]) == version:
        champion = None  # re-promoting the champion to itself: nothing to compare
    decision = decide(
        candidate,
        champion,
        rule=rule,
        new_data=new_data,
        reason=reason,
        candidate_holdout=_holdout_tag(registry.resolve(candidate_ref)),
        champion_holdout=_holdout_tag(champion_info) if champion_info else None,
    )
    record = _decision_record(decision, decided_by)
    record["alias"] = alias
    record["champion_version"] = int(champion_info["version"]) if champion_info else None
    record["override"] = bool(force and not decision.accepted)
    target = f"models:/{name}/{version}@{alias}"
    if alias == "champion" and not decision.accepted and not force:
        registry.record(name, version, "mediamix.promotion.refused", record)
        _audit(config, target, f"refused (decided by {record['decided_by']})")
        raise InputError.single(
            f"models:/{name}/{version} was not promoted to champion: "
            + "; ".join(decision.reasons),
            column="VERSION",
        )
    if record["override"]:
        log.warning("promotion of %s/%s overridden by %s", name, version, record["decided_by"])
    registry.set_alias(name, version, alias, record)
    how = "override of a refusal" if record["override"] else "promoted"
    _audit(config, target, f"{how} (decided by {record['decided_by']})")
    return record


def _audit(config: TrackingConfig, target: str, outcome: str) -> None:
    """One line in the service's hash-chained audit log for a promotion decision."""
    from mediamix.state.audit import service_audit_log

    service_audit_log(config.home).append(action="model.promote", outcome=outcome, obj=target)


def load_new_weeks(spec_path: str | Path, home: str | Path | None) -> Any:
    """Validated data of weeks to score models on; no minimum length (nothing is fitted)."""
    from mediamix.data.validation import ValidationRules, validate_table
    from mediamix.io.spec import read_spec
    from mediamix.service.data import read_source

    spec = read_spec(spec_path)
    table = read_source(spec, home=home)
    report = validate_table(table.frame, spec, source=table.source, rules=ValidationRules())
    if not report.ok or report.dataset is None:
        raise InputError(report.problems)
    return report.dataset


def _holdout_tag(info: dict[str, Any] | None) -> float | None:
    value = (info or {}).get("tags", {}).get("mediamix.holdout_nrmse")
    return float(value) if value is not None else None


def compare_models(
    a: str | Path, b: str | Path, config: TrackingConfig | None, budget: float | None = None
) -> dict[str, Any]:
    """Two models side by side: metrics, ROI and mROI with intervals, contribution by channel.

    ``a`` and ``b`` are folders or registry references. Contributions are compared
    over the periods both windows share, per channel, as totals and as the largest
    single-period difference. With ``budget``, each model's recommended plan for that
    budget (revenue objective, no constraints, over its own window's length) is added.
    """
    import numpy as np

    folders = [resolve_model(a, config), resolve_model(b, config)]
    models = [load_result(f) for f in folders]
    summaries = [m.summary() for m in models]
    channels = sorted(set(models[0].channel_names) | set(models[1].channel_names))
    by_channel: dict[str, Any] = {}
    dates = [np.asarray(m.data.dates) for m in models]
    shared = np.intersect1d(dates[0], dates[1])
    for name in channels:
        row: dict[str, Any] = {}
        for label, s in zip(("a", "b"), summaries, strict=True):
            c = s["channels"].get(name) or {}
            row[label] = {
                k: c.get(k)
                for k in (
                    "spend",
                    "contribution",
                    "roi",
                    "mroi",
                    "roi_interval",
                    "contribution_share",
                )
            }
        if all(name in m.channel_names for m in models) and shared.size:
            parts = []
            for m, d in zip(models, dates, strict=True):
                mask = np.isin(d, shared)
                parts.append(m.media_components()[mask, m.channel_names.index(name)])
            row["shared_periods"] = int(shared.size)
            row["contribution_difference"] = float(parts[1].sum() - parts[0].sum())
            row["max_period_difference"] = float(np.max(np.abs(parts[1] - parts[0])))
        by_channel[name] = row
    plans = None
    if budget is not None:
        from mediamix.service.optimize import model_response, optimize

        plans = {
            label: optimize({"budget": budget}, response_model=model_response(folder)).to_dict()
            for label, folder in zip(("a", "b"), folders, strict=True)
        }
    return {
        "plans": plans,
        "a": {
            "model": str(a),
            "engine": summaries[0]["engine"],
            "start": summaries[0]["start"],
            "end": summaries[0]["end"],
            "metrics": summaries[0]["metrics"],
        },
        "b": {
            "model": str(b),
            "engine": summaries[1]["engine"],
            "start": summaries[1]["start"],
            "end": summaries[1]["end"],
            "metrics": summaries[1]["metrics"],
        },
        "channels": by_channel,
    }
