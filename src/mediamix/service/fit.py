"""Use case: fit a model from a spec and write summary, decomposition and artifact."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediamix.errors import InputError
from mediamix.io.artifacts import load_artifact, save_artifact
from mediamix.io.atomic import atomic_dir
from mediamix.io.table import ReadLimits
from mediamix.models.result import FitResult
from mediamix.service.data import LoadedData, load_dataset

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
    loaded: LoadedData, *, engine: str = "ridge", seed: int = 0, progress: Progress | None = None
) -> FitResult:
    """Fit an engine on already validated data."""
    if engine == "ridge":
        from mediamix.models.ridge import RidgeOptions, fit_ridge

        return fit_ridge(loaded.dataset, loaded.spec, RidgeOptions(seed=seed), progress)
    if engine == "bayes":
        raise InputError.single(
            "the bayes engine is not available in this version; use --engine ridge",
            column="--engine",
        )
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
) -> FitOutcome:
    """Validate, fit and write ``summary.json``, ``decomposition.csv`` and ``model/``.

    Nothing is written unless the whole fit succeeds; the output folder is filled
    atomically.
    """
    if engine not in ENGINES:
        raise InputError.single(
            f"unknown engine '{engine}'; choose one of {', '.join(ENGINES)}", column="--engine"
        )
    loaded = load_dataset(spec_path, engine=engine, limits=limits, home=home)
    for warning in loaded.warnings:
        log.warning("%s", warning)
    result = fit_loaded(loaded, engine=engine, seed=seed, progress=progress)
    summary = result.summary()
    summary["warnings"] = [str(w) for w in loaded.warnings]
    out = Path(out)
    meta, arrays = result.to_artifact()
    with atomic_dir(out) as tmp:
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
        result.decomposition().to_csv(tmp / "decomposition.csv", index=False)
        save_artifact(tmp / "model", meta, arrays)
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
