"""Use cases of the R integration: the glmnet engine and its check.

Each writes its outputs atomically: on any error nothing is left behind.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mediamix.errors import InputError
from mediamix.io.artifacts import save_artifact
from mediamix.io.atomic import atomic_dir, atomic_write_json
from mediamix.models.result import FitResult
from mediamix.service.data import LoadedData
from mediamix.service.fit import load_model

__all__ = [
    "check_r_glmnet",
    "fit_r_glmnet_loaded",
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


def write_model(result: FitResult, out: str | Path, warnings: Sequence[str] = ()) -> dict[str, Any]:
    """Write ``summary.json``, ``decomposition.csv`` and ``model/`` atomically; the summary."""
    summary = result.summary()
    summary["warnings"] = list(warnings)
    meta, arrays = result.to_artifact()
    with atomic_dir(Path(out)) as tmp:
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
        result.decomposition().to_csv(tmp / "decomposition.csv", index=False)
        save_artifact(tmp / "model", meta, arrays)
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
    robyn = result.info.get("robyn")
    if isinstance(robyn, dict):
        lam_robyn = robyn.get("hyper_values", {}).get("lambda")
        if lam_robyn is None:
            raise InputError.single(
                "the Robyn model has no lambda in hyper_values", column="hyper_values.lambda"
            )
        sd = float(np.std(np.asarray(result.data.kpi[0], float)))
        report = compare_glmnet(
            result, tolerance=tolerance, lam=float(lam_robyn) / sd, standardize=True
        )
    else:
        report = compare_glmnet(result, tolerance=tolerance)
    if out is not None:
        atomic_write_json(out, report)
    return report
