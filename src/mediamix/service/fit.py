"""Use case: fit a model from a spec and write summary, decomposition and artifact."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediamix.errors import InputError
from mediamix.io.artifacts import load_artifact, save_artifact
from mediamix.io.atomic import atomic_dir
from mediamix.io.table import ReadLimits
from mediamix.models.result import FitResult
from mediamix.service.data import LoadedData, load_dataset
from mediamix.service.requests import Engine, FitRequest, SamplerOptions, parse_request

__all__ = ["ENGINES", "FitOutcome", "fit", "fit_loaded", "load_model", "write_fit"]

log = logging.getLogger(__name__)

ENGINES = tuple(e.value for e in Engine)
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
    request: FitRequest | Mapping[str, Any] | None = None,
    *,
    progress: Progress | None = None,
) -> FitResult:
    """Fit the requested engine on already validated data.

    ``request`` says which engine, its seed and its settings (a :class:`FitRequest`
    or its JSON form); see :class:`~mediamix.service.requests.SamplerOptions` for the
    Bayesian engine's inference.
    """
    req = parse_request(FitRequest, request or {})
    if req.engine == Engine.RIDGE:
        from mediamix.models.ridge import RidgeOptions, fit_ridge

        settings = req.ridge.model_dump(exclude_none=True) if req.ridge else {}
        options = RidgeOptions(seed=req.seed, **settings)
        return fit_ridge(loaded.dataset, loaded.spec, options, progress)
    if req.engine == Engine.R_GLMNET:
        from mediamix.service.rlang import fit_r_glmnet_loaded

        return fit_r_glmnet_loaded(loaded, seed=req.seed, progress=progress)
    from mediamix.models.bayes.fit import BayesOptions, fit_bayes

    sampler = req.sampler or SamplerOptions()
    bayes = BayesOptions(seed=req.seed, **sampler.engine_options())
    return fit_bayes(loaded.dataset, loaded.spec, bayes, progress)


def fit(
    spec_path: str | Path,
    out: str | Path,
    request: FitRequest | Mapping[str, Any] | None = None,
    *,
    engine: str | None = None,
    seed: int | None = None,
    limits: ReadLimits | None = None,
    progress: Progress | None = None,
    home: str | Path | None = None,
) -> FitOutcome:
    """Validate, fit and write ``summary.json``, ``decomposition.csv`` and ``model/``.

    Nothing is written unless the whole fit succeeds; the output folder is filled
    atomically. The request is checked before the data are read; ``engine`` and
    ``seed`` are shortcuts for the request's fields of the same names.
    """
    req = _with_shortcuts(request, engine=engine, seed=seed)
    loaded = load_dataset(spec_path, engine=req.engine.value, limits=limits, home=home)
    for warning in loaded.warnings:
        log.warning("%s", warning)
    result = fit_loaded(loaded, req, progress=progress)
    write_fit(result, out, warnings=loaded.warnings)
    summary = result.summary()
    summary["warnings"] = [str(w) for w in loaded.warnings]
    return FitOutcome(
        out=Path(out),
        summary=summary,
        result=result,
        warnings=tuple(str(w) for w in loaded.warnings),
    )


def _with_shortcuts(request: FitRequest | Mapping[str, Any] | None, **fields: Any) -> FitRequest:
    """The request with the fields given as keywords set (those not ``None``)."""
    base = (
        request.model_dump(exclude_unset=True)
        if isinstance(request, FitRequest)
        else dict(request or {})
    )
    base.update({k: v for k, v in fields.items() if v is not None})
    return parse_request(FitRequest, base)


def write_fit(result: FitResult, out: str | Path, *, warnings: Sequence[object] = ()) -> Path:
    """Write a fit's ``summary.json``, ``decomposition.csv`` and ``model/`` atomically.

    ``warnings`` (validation warnings of the data) are listed in ``summary.json``.
    """
    summary = result.summary()
    summary["warnings"] = [str(w) for w in warnings]
    out = Path(out)
    meta, arrays = result.to_artifact()
    with atomic_dir(out) as tmp:
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
        result.decomposition().to_csv(tmp / "decomposition.csv", index=False)
        save_artifact(tmp / "model", meta, arrays)
    return out


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
