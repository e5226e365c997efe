"""Hashes that identify what a model was fitted on: the exact data and the spec."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from mediamix.data.dataset import Dataset

__all__ = ["data_fingerprint", "spec_hash"]


def _update_array(digest: Any, name: str, values: np.ndarray) -> None:
    arr = np.ascontiguousarray(values)
    digest.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
    digest.update(arr.tobytes())


def data_fingerprint(data: Dataset) -> str:
    """SHA-256 of the exact rows and columns a model was fitted on.

    Covers the dates, geos, channel/control/organic/event names and every value
    (KPI, spend, exposure, controls, organic, events, population), after validation:
    two files that differ only in formatting, column order or unused columns give the
    same fingerprint; a changed cell, an added week or an added channel does not.

    Examples
    --------
    >>> import numpy as np
    >>> from mediamix.data.dataset import Dataset
    >>> ds = Dataset(dates=np.array(["2024-01-01", "2024-01-08"], dtype="datetime64[D]"),
    ...              geos=("national",), channels=("tv",), kpi=np.array([[10.0, 12.0]]),
    ...              spend=np.array([[[1.0], [2.0]]]))
    >>> len(data_fingerprint(ds))
    64
    """
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            {
                "geos": list(data.geos),
                "channels": list(data.channels),
                "kpi_name": data.kpi_name,
                "kpi_type": str(data.kpi_type.value),
                "frequency": str(data.frequency.value),
                "controls": list(data.control_names),
                "organic": list(data.organic_names),
                "events": list(data.event_names),
                "exposure": sorted(data.exposure),
            },
            sort_keys=True,
        ).encode()
    )
    _update_array(digest, "dates", data.dates.astype("datetime64[D]"))
    _update_array(digest, "kpi", np.asarray(data.kpi, float))
    _update_array(digest, "spend", np.asarray(data.spend, float))
    for name in sorted(data.exposure):
        _update_array(digest, f"exposure:{name}", np.asarray(data.exposure[name], float))
    for name in ("controls", "organic", "events"):
        _update_array(digest, name, np.asarray(getattr(data, name), float))
    if data.population is not None:
        _update_array(digest, "population", np.asarray(data.population, float))
    return digest.hexdigest()


def spec_hash(spec: Mapping[str, Any]) -> str:
    """SHA-256 of a spec's canonical JSON form (key order and formatting do not matter).

    Examples
    --------
    >>> spec_hash({"kpi": "revenue", "date": "date"}) == spec_hash({"date": "date", "kpi": "revenue"})
    True
    """
    text = json.dumps(spec, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
