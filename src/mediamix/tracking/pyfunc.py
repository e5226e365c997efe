"""MLflow pyfunc flavour of a fitted mediamix model (models-from-code, no pickle).

``predict`` takes a spend plan, one row per period and one column per channel
(currency units), and answers the media response of that plan: a ``response``
column (KPI units, sum over channels) and one ``contribution.<channel>`` column per
channel, with carry-over inside the plan. The model itself is the safe artifact
(``artifacts/model``: JSON + npz + SHA-256 manifest), verified before it is parsed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from mediamix.errors import InputError
from mediamix.io.artifacts import load_artifact
from mediamix.models.result import FitResult

__all__ = ["MediamixModel", "load_result", "predict_plan"]


def load_result(folder: str | Path) -> FitResult:
    """A verified fitted model from a model folder (refuses anything else)."""
    meta, arrays = load_artifact(folder)
    if meta.get("kind") != "mmm":
        raise InputError.single(
            f"not an MMM artifact (kind {meta.get('kind')!r})", file=str(folder)
        )
    return FitResult.from_artifact(meta, arrays)


def predict_plan(result: FitResult, plan: pd.DataFrame) -> pd.DataFrame:
    """Media response of a spend plan (rows periods, columns channels).

    Examples
    --------
    >>> import pandas as pd
    >>> plan = pd.DataFrame({"tv": [100.0, 0.0]})  # doctest: +SKIP
    >>> predict_plan(result, plan).columns.tolist()  # doctest: +SKIP
    ['response', 'contribution.tv']
    """
    names = list(result.channel_names)
    missing = [c for c in names if c not in plan.columns]
    if missing:
        raise InputError.single(f"the spend plan lacks channels {missing}", column=missing[0])
    spend = plan[names].to_numpy(dtype=float)
    if not np.isfinite(spend).all() or (spend < 0).any():
        raise InputError.single("spend must be finite and not negative")
    media = result.media_components(spend)
    out = pd.DataFrame({"response": media.sum(axis=1)}, index=plan.index)
    for c, name in enumerate(names):
        out[f"contribution.{name}"] = media[:, c]
    return out


class MediamixModel(PythonModel):  # type: ignore[misc]
    """pyfunc wrapper: loads the safe artifact, predicts media response of spend plans."""

    result: FitResult | None = None

    def load_context(self, context: Any) -> None:
        """Read the checksummed artifact logged under the ``model`` key."""
        self.result = load_result(context.artifacts["model"])

    # no type hints on the arguments: MLflow reads them as an input schema
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        """Response and per-channel contributions for a spend plan."""
        if self.result is None:
            self.load_context(context)
        assert self.result is not None  # noqa: S101 -- type narrowing of an internal invariant, not input validation
        return predict_plan(self.result, pd.DataFrame(model_input))
