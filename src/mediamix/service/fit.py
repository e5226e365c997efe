"""Use case: fit a model from a spec and write summary, decomposition and artifact."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediamix.errors import InputError
from mediamix.io.artifacts import load_artifact, save_artifact
from mediamix.io.atomic import atomic_dir
from mediamix.io.table import ReadLimits
from mediamix.models.result import FitResult
from mediamix.service.data import LoadedData, load_dataset
from mediamix.tracking.config import TrackingConfig
from mediamix.tracking.runs import fit_run
from mediamix.tracking.runs import prepare as prepare_tracking

__all__ = ["ENGINES", "FitOutcome", "fit", "fit_loaded", "load_model"]

log = logging.getLogger(__name__)

ENGINES = ("ridge", "bayes")
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class FitOutcome:
    """What a fit wrote and its summary."""

    out: Path
    summary: dict[str, Any]
    result: FitResult
    warnings: tuple[str, ...]


def fit_loaded(
    loaded: LoadedData,
    *,
    engine: str = "ridge",
    seed: int = 0,
    progress: Progress | None = None,
    sampler: Mapping[str, Any] | None = None,
) -> FitResult:
    """Fit an engine on already validated data.

    ``sampler`` sets the Bayesian engine's inference (``method``, ``chains``,
    ``warmup``, ``draws``), ``geo_hierarchy`` (fit geo data with the geo model) and
    ``compile_cache`` (a directory for compiled samplers); the ridge engine takes none.
    """
    sampler = {k: v for k, v in (sampler or {}).items() if v is not None}
    if engine == "ridge":
        from mediamix.models.ridge import RidgeOptions, fit_ridge

        if sampler:
            flags = {"geo_hierarchy": "geo-model"}
            raise InputError.single(
                f"{', '.join('--' + flags.get(k, k) for k in sampler)} apply to --engine "
                "bayes only",
                column="--engine",
            )
        return fit_ridge(loaded.dataset, loaded.spec, RidgeOptions(seed=seed), progress)
    if engine == "bayes":
        from mediamix.models.bayes.fit import BayesOptions, fit_bayes

        method = sampler.get("method", "nuts")
        if method not in {"nuts", "svi", "map"}:
            raise InputError.single(
                f"--method must be nuts, svi or map, not '{method}'", column="--method"
            )
        for key in ("chains", "warmup", "draws"):
            if key in sampler and int(sampler[key]) < (0 if key == "warmup" else 1):
                raise InputError.single(f"--{key} must be positive", column=f"--{key}")
        options = BayesOptions(seed=seed, **sampler)
        return fit_bayes(loaded.dataset, loaded.spec, options, progress)
    raise InputError.single(
        f"unknown engine '{engine}'; choose one of {', '.join(ENGINES)}", column="--engine"
    )


def fit(
    spec_path: str | Path,
    out: str | Path,
    *,
    engine: str = "ridge",
    seed: int = 0,
    limits: ReadLimits | None = None,
    progress: Progress | None = None,
    home: str | Path | None = None,
    sampler: Mapping[str, Any] | None = None,
    tracking: TrackingConfig | None = None,
) -> FitOutcome:
    """Validate, fit and write ``summary.json``, ``decomposition.csv`` and ``model/``.

    Nothing is written unless the whole fit succeeds; the output folder is filled
    atomically. With ``tracking`` (enabled), the fit is an MLflow run and
    ``summary.json`` carries its ``tracking`` reference.
    """
    if engine not in ENGINES:
        raise InputError.single(
            f"unknown engine '{engine}'; choose one of {', '.join(ENGINES)}", column="--engine"
        )
    prepared = prepare_tracking(tracking)  # MLflow loads in a child while data is read
    loaded = load_dataset(spec_path, engine=engine, limits=limits, home=home)
    for warning in loaded.warnings:
        log.warning("%s", warning)
    # tracking: one MLflow run per fit (a no-op when `tracking` is None or off); it
    # ends FINISHED only if this block completes, and its files are logged before
    # the output folder is moved in place
    with fit_run(
        tracking,
        data=loaded.dataset,
        spec=loaded.spec.to_dict(),
        engine=engine,
        seed=seed,
        source=str(spec_path),
        prepared=prepared,
    ) as run:
        result = fit_loaded(loaded, engine=engine, seed=seed, progress=progress, sampler=sampler)
        summary = result.summary()
        summary["warnings"] = [str(w) for w in loaded.warnings]
        summary.update(run.summary_fields())
        out = Path(out)
        meta, arrays = result.to_artifact()
        with atomic_dir(out) as tmp:
            (tmp / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
            result.decomposition().to_csv(tmp / "decomposition.csv", index=False)
            save_artifact(tmp / "model", meta, arrays)
            run.log_outputs(tmp, summary, Path(spec_path))
    return FitOutcome(
        out=out, summary=summary, result=result, warnings=tuple(str(w) for w in loaded.warnings)
    )


def load_model(folder: str | Path) -> FitResult:
    """A fitted model from a fit output folder (or its ``model/`` subfolder)."""
    folder = Path(folder)
    if (folder / "model" / "manifest.json").is_file():
        folder = folder / "model"
    meta, arrays = load_artifact(folder)
    if meta.get("kind") != "mmm":
        raise InputError.single(
            f"not an MMM artifact (kind {meta.get('kind')!r})", file=str(folder)
        )
    return FitResult.from_artifact(meta, arrays)
