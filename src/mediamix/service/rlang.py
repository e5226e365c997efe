"""Use cases of the R integration: glmnet engine and check, Robyn import/export, R scripts.

Each writes its outputs atomically: on any error nothing is left behind. Models
written here carry ``model/lineage.json`` like a fit's: an R script model names
the script (SHA-256), the R version and the spec and data; a Robyn import names the
JSON export and the input table (:mod:`mediamix.service.lineage`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mediamix.data.validation import ValidationRules, validate_table
from mediamix.errors import InputError
from mediamix.io.atomic import atomic_dir, atomic_write_json
from mediamix.io.table import ReadLimits, read_table
from mediamix.models.result import FitResult
from mediamix.service.data import LoadedData
from mediamix.service.fit import load_model, summary_document, write_fit

__all__ = [
    "RobynExport",
    "check_r_glmnet",
    "export_robyn",
    "fit_r_glmnet_loaded",
    "import_robyn",
    "run_r_script_model",
    "write_model",
]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


def fit_r_glmnet_loaded(
    loaded: LoadedData, *, seed: int = 0, progress: Progress | None = None
) -> FitResult:
    """``--engine r-glmnet`` on validated data (see :mod:`mediamix.rlang.glmnet`)."""
    from mediamix.rlang.glmnet import fit_r_glmnet

    return fit_r_glmnet(loaded.dataset, loaded.spec, seed=seed, progress=progress)


def write_model(
    result: FitResult,
    out: str | Path,
    warnings: Sequence[str] = (),
    *,
    lineage: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ``summary.json``, ``decomposition.csv`` and ``model/`` (with ``lineage``)
    atomically; the summary."""
    summary = summary_document(result, warnings)
    write_fit(result, out, summary=summary, lineage=lineage)
    return summary


def check_r_glmnet(
    model: str | Path, *, tolerance: float = 1e-5, out: str | Path | None = None
) -> dict[str, Any]:
    """Compare a model with glmnet on its design; optionally write the report (JSON).

    A ridge or r-glmnet model is compared in the ridge engine's convention
    (``standardize = FALSE``, its own penalty). A model imported from Robyn is
    compared in Robyn's (``standardize = TRUE``, the JSON's ``lambda``, which is on
    glmnet's scale for the raw KPI): that refits Robyn's own glmnet step.
    """
    from mediamix.rlang.glmnet import compare_glmnet

    result = load_model(model)
    robyn = result.engine_info.robyn
    if robyn is not None:
        if robyn.penalty is None:
            raise InputError.single(
                "the Robyn model has no lambda in hyper_values", column="hyper_values.lambda"
            )
        sd = float(np.std(np.asarray(result.data.kpi[0], float)))
        report = compare_glmnet(
            result, tolerance=tolerance, lam=robyn.penalty / sd, standardize=True
        )
    else:
        report = compare_glmnet(result, tolerance=tolerance)
    if out is not None:
        atomic_write_json(out, report)
    return report


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError.single(f"file not found: {path}", file=str(path))
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError.single(f"not valid JSON: {exc}", file=str(path)) from None
    if not isinstance(doc, dict):
        raise InputError.single("a Robyn export is a JSON object", file=str(path))
    return doc


def import_robyn(
    json_path: str | Path,
    data: str | Path,
    out: str | Path,
    *,
    limits: ReadLimits | None = None,
) -> tuple[FitResult, dict[str, Any]]:
    """Read a Robyn JSON export and its input table into a model folder.

    The result reproduces Robyn's decomposition: ``info.robyn.decompAgg`` keeps
    Robyn's own figures beside the recomputed ones in the summary.
    """
    from mediamix.rlang.robyn import parse_robyn, robyn_spec, robyn_to_result
    from mediamix.service.lineage import robyn_import_lineage

    json_path = Path(json_path)
    model = parse_robyn(_read_json(json_path), str(json_path))
    table = read_table(data, limits)
    missing = [p for p in model.prophet if p not in table.frame.columns]
    if missing:
        raise InputError.single(
            f"Prophet components {missing} are not columns of the data: Robyn's JSON does not "
            "hold Prophet's series; add them from Robyn's InputCollect$dt_mod",
            file=str(data),
            column=missing[0],
        )
    spec = robyn_spec(model, str(Path(data).resolve()))
    report = validate_table(
        table.frame, spec, source=table.source, rules=ValidationRules(min_periods=2)
    )
    if not report.ok or report.dataset is None:
        raise InputError(report.problems)
    result = robyn_to_result(model, report.dataset, spec)
    lineage = robyn_import_lineage(json_path, data, spec, report.dataset)
    summary = write_model(result, out, [str(w) for w in report.warnings], lineage=lineage)
    return result, summary


@dataclass(frozen=True)
class RobynExport:
    """What ``export robyn`` wrote."""

    json: Path
    data: Path
    select_model: str


def export_robyn(model: str | Path, out: str | Path) -> RobynExport:
    """Write a model as ``RobynModel-<id>.json`` plus ``dt_input.csv`` into ``out``.

    ``lambda`` is written on glmnet's scale for the raw KPI when the model records
    its ridge penalty. Robyn's ``robyn_recreate`` refits glmnet with its defaults
    (``standardize = TRUE``), so its coefficients can differ from the exported ones by
    that convention; ``mediamix check r-glmnet`` reports the size of that difference.
    """
    from mediamix.rlang.robyn import result_to_robyn

    result = load_model(model)
    info = result.engine_info
    lam_glmnet = None
    if info.penalty is not None:
        kpi = np.asarray(result.data.kpi[0], float)
        lam_glmnet = info.penalty * float(np.std(kpi))
    elif info.robyn is not None:
        lam_glmnet = info.robyn.penalty
    doc, table = result_to_robyn(result, lam_glmnet)
    select = str(doc["ExportedModel"]["select_model"][0])
    out = Path(out)
    with atomic_dir(out) as tmp:
        (tmp / f"RobynModel-{select}.json").write_text(
            json.dumps(doc, indent=2, allow_nan=False) + "\n"
        )
        table.to_csv(tmp / "dt_input.csv", index=False)
    return RobynExport(
        json=out / f"RobynModel-{select}.json", data=out / "dt_input.csv", select_model=select
    )


def run_r_script_model(
    script: str | Path,
    spec: str | Path,
    out: str | Path,
    *,
    timeout: float = 600.0,
    limits: ReadLimits | None = None,
    home: str | Path | None = None,
) -> tuple[FitResult, dict[str, Any]]:
    """Run an R script model on a spec's data and write it as a model folder.

    See :mod:`mediamix.rlang.script` for the input and output layout.
    """
    from mediamix.rlang.script import run_r_script
    from mediamix.service.data import load_dataset
    from mediamix.service.lineage import script_lineage

    loaded = load_dataset(spec, limits=limits, home=home)
    result = run_r_script(script, loaded.dataset, loaded.spec, timeout=timeout)
    run = result.info.get("r_script") or {}
    lineage = script_lineage(
        str(run.get("script", script)),
        str(run.get("sha256")),
        str(run.get("r_version", "unknown")),
        spec,
        loaded.spec,
        loaded.dataset,
        home=home,
    )
    summary = write_model(result, out, [str(w) for w in loaded.warnings], lineage=lineage)
    return result, summary
