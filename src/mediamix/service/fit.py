"""Use case: fit a model from a spec and write summary, decomposition and artifact."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediamix.errors import InputError
from mediamix.io.artifacts import load_artifact, save_artifact
from mediamix.io.atomic import atomic_dir
from mediamix.io.exports import write_csv
from mediamix.io.table import ReadLimits
from mediamix.models.result import FitResult
from mediamix.service.data import LoadedData, load_dataset
from mediamix.service.lineage import fit_lineage
from mediamix.service.requests import Engine, FitRequest, SamplerOptions, parse_request
from mediamix.tracking.config import TrackingConfig
from mediamix.tracking.runs import fit_run
from mediamix.tracking.runs import prepare as prepare_tracking

if TYPE_CHECKING:
    from mediamix.service.storage import Publication, PublishedVersion

__all__ = [
    "ENGINES",
    "FitOutcome",
    "fit",
    "fit_loaded",
    "load_model",
    "summary_document",
    "write_fit",
]

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
    published: PublishedVersion | None = None


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


def fit(  # noqa: PLR0913 -- input, output and the caller's settings (limits, home, tracking, store)
    spec_path: str | Path,
    out: str | Path,
    request: FitRequest | Mapping[str, Any] | None = None,
    *,
    limits: ReadLimits | None = None,
    progress: Progress | None = None,
    home: str | Path | None = None,
    tracking: TrackingConfig | None = None,
    publish: Publication | None = None,
) -> FitOutcome:
    """Validate, fit and write ``summary.json``, ``decomposition.csv`` and ``model/``.

    Nothing is written unless the whole fit succeeds; the output folder is filled
    atomically. The request (engine, seed and the engine's settings: a
    :class:`FitRequest` or its JSON form, e.g. ``{"engine": "bayes", "seed": 1}``) is
    checked before the data are read. ``limits`` bound what the reader accepts;
    ``home`` is the mediamix home whose warehouse a spec with ``data: warehouse`` reads. With
    ``tracking`` (enabled), the fit is an MLflow run and ``summary.json`` carries its
    ``tracking`` reference. ``model/lineage.json`` records the spec, the data and,
    for warehouse data, the loads and dbt models it came from.

    With ``publish`` naming an enabled store (``MEDIAMIX_STORAGE_URI``), the output is
    also published as a new version of ``models/<name>`` (default name: the output
    folder's) before the local folder is moved in place: a fit that fails, or whose
    publication fails, writes and publishes nothing (``FitOutcome.published``).
    """
    req = parse_request(FitRequest, request or {})
    # a bad store name is refused before any work
    publish_as = publish.target(out) if publish is not None else None
    prepared = prepare_tracking(tracking)  # MLflow loads in a child while data is read
    loaded = load_dataset(spec_path, engine=req.engine.value, limits=limits, home=home)
    for warning in loaded.warnings:
        log.warning("%s", warning)
    lineage = fit_lineage(spec_path, loaded.spec, loaded.dataset, home=home)
    # tracking: one MLflow run per fit (a no-op when `tracking` is None or off); it
    # ends FINISHED only if this block completes, and its files are logged before
    # the output folder is moved in place
    with fit_run(
        tracking,
        data=loaded.dataset,
        spec=loaded.spec.to_dict(),
        engine=req.engine.value,
        seed=req.seed,
        source=str(spec_path),
        prepared=prepared,
    ) as run:
        result = fit_loaded(loaded, req, progress=progress)
        summary = summary_document(result, loaded.warnings, run.summary_fields())
        published: list[PublishedVersion] = []

        def before_publish(tmp: Path) -> None:
            run.log_outputs(tmp, summary, Path(spec_path))
            if publish_as is not None and publish is not None:
                from mediamix.service.storage import publish_fit

                if progress is not None:
                    progress(0.99, f"publishing models/{publish_as}")
                published.append(publish_fit(publish.storage, tmp, publish_as))

        write_fit(result, out, summary=summary, lineage=lineage, before_publish=before_publish)
    return FitOutcome(
        out=Path(out),
        summary=summary,
        result=result,
        warnings=tuple(str(w) for w in loaded.warnings),
        published=published[0] if published else None,
    )


def summary_document(
    result: FitResult, warnings: Sequence[object] = (), extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The ``summary.json`` document: the result's summary, the data's validation
    ``warnings`` and ``extra`` top-level fields (the tracking reference)."""
    summary = result.summary()
    summary["warnings"] = [str(w) for w in warnings]
    summary.update(extra or {})
    return summary


def write_fit(
    result: FitResult,
    out: str | Path,
    *,
    warnings: Sequence[object] = (),
    summary: Mapping[str, Any] | None = None,
    lineage: Mapping[str, Any] | None = None,
    before_publish: Callable[[Path], None] | None = None,
) -> Path:
    """Write a fit's ``summary.json``, ``decomposition.csv`` and ``model/`` atomically.

    ``summary`` is the document to write (default: :func:`summary_document` with the
    data's validation ``warnings``). ``before_publish`` sees the filled temporary
    folder before it is moved in place (the tracking run logs the files there).
    ``lineage`` (:func:`~mediamix.service.lineage.fit_lineage`) is stored in ``model/``.
    """
    document = dict(summary) if summary is not None else summary_document(result, warnings)
    out = Path(out)
    meta, arrays = result.to_artifact()
    with atomic_dir(out) as tmp:
        (tmp / "summary.json").write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
        write_csv(result.decomposition(), tmp / "decomposition.csv")
        save_artifact(tmp / "model", meta, arrays, lineage=lineage)
        if before_publish is not None:
            before_publish(tmp)
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
