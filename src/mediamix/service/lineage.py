"""Use case: the lineage of a fit, what a model version was fitted on.

``lineage.json`` (stored in the model folder, checksummed by its manifest, logged
with the tracked run) records:

- ``spec``: the spec file, its SHA-256 and the hash of its parsed content;
- ``data``: the data file with its SHA-256 and size, or the warehouse mart; for a
  file exported from the warehouse (``mediamix transform --export``, the pipeline)
  whose checksum matches what the export recorded, the export's own lineage;
- for warehouse data, ``loads`` (every batch load: source, account, period,
  content SHA-256, raw landing file; API pulls land the same way) and ``dbt``
  (every model, seed and source upstream of the mart, with version and checksum);
- ``fingerprint``: the SHA-256 of the validated dataset the engine saw.

Models made other ways say so in ``kind`` and add what they came from:

- ``"kind": "refresh"`` (``mediamix refresh``): ``previous`` names the model refreshed
  (the reference given, its registry name and version when it came from the
  registry, the SHA-256 of its manifest, which covers its files, its tracked run,
  its dataset fingerprint and its own lineage, nested), and ``data`` the file of new
  weeks with its SHA-256; the spec is the previous model's.
- ``"kind": "r-script"`` (``mediamix r-script``): ``script`` (file and SHA-256) and
  ``r`` (the R version that ran it) beside the spec and data as for a fit.
- ``"kind": "robyn-import"`` (``mediamix import robyn``): the Robyn JSON export (file
  and SHA-256) and its input table.

A fit's document has ``"kind": "fit"``; documents written before kinds were
recorded have none and are fits.

Example of the layout::

    {"schema_version": 1, "spec": {"file": ..., "sha256": ..., "spec_hash": ...},
     "data": {"kind": "file", "path": ..., "sha256": ..., "bytes": ...,
              "upstream": {"mart": "mmm_weekly_input", "dbt": {...}, "loads": [...]}},
     "fingerprint": ..., "mediamix_version": ...}
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mediamix import __version__
from mediamix.data.dataset import Dataset
from mediamix.data.spec import ModelSpec
from mediamix.io.artifacts import sha256_file
from mediamix.io.spec import WAREHOUSE
from mediamix.tracking.fingerprint import data_fingerprint, spec_hash

__all__ = [
    "LINEAGE_SCHEMA_VERSION",
    "file_lineage",
    "fit_lineage",
    "refresh_lineage",
    "robyn_import_lineage",
    "script_lineage",
]

log = logging.getLogger(__name__)

LINEAGE_SCHEMA_VERSION = 1
_MART = "mmm_weekly_input"


def fit_lineage(
    spec_path: str | Path, spec: ModelSpec, dataset: Dataset, *, home: str | Path | None = None
) -> dict[str, Any]:
    """The lineage document of a fit of ``spec`` (read from ``spec_path``) on ``dataset``.

    ``home`` is the mediamix home whose warehouse a spec with ``data: warehouse`` reads.
    """
    spec_file = Path(spec_path)
    document: dict[str, Any] = {
        "schema_version": LINEAGE_SCHEMA_VERSION,
        "kind": "fit",
        "spec": {
            "file": str(spec_file.resolve()),
            "sha256": sha256_file(spec_file) if spec_file.is_file() else None,
            "spec_hash": spec_hash(spec.to_dict()),
        },
        "data": _data_lineage(spec, home),
        "fingerprint": data_fingerprint(dataset),
        "mediamix_version": __version__,
    }
    return document


def _data_lineage(spec: ModelSpec, home: str | Path | None) -> dict[str, Any]:
    if spec.data == WAREHOUSE:
        from mediamix.warehouse.lineage import mart_lineage
        from mediamix.warehouse.store import Warehouse

        assert home is not None  # noqa: S101 -- reading the data already required the home
        with Warehouse.reader(home) as wh:
            return {"kind": "warehouse", **mart_lineage(wh, _MART)}
    return file_lineage(spec.data)


def file_lineage(path: str | Path) -> dict[str, Any]:
    """A data file's part of a lineage: path, SHA-256 and size, and the lineage of the
    warehouse export it came from when the file is that export unchanged."""
    path = Path(path)
    entry: dict[str, Any] = {
        "kind": "file",
        "path": str(path.resolve()),
        "sha256": sha256_file(path),
        "bytes": path.stat().st_size,
    }
    upstream = _export_lineage(path, entry["sha256"])
    if upstream is not None:
        entry["upstream"] = upstream
    return entry


def refresh_lineage(
    previous: dict[str, Any], data: str | Path, spec: Mapping[str, Any], dataset: Dataset
) -> dict[str, Any]:
    """The lineage of a refresh: the previous model, the new data file and the dataset.

    ``previous`` is what :func:`mediamix.service.refresh.refresh` knows of the model it
    refreshed (``model``, ``folder``, ``registry``, ``artifact_sha256``, ``run_id``,
    ``fingerprint``, ``lineage``); ``spec`` the previous model's spec, which the
    refresh keeps; ``dataset`` the combined data the refreshed model was fitted on.
    """
    return {
        "schema_version": LINEAGE_SCHEMA_VERSION,
        "kind": "refresh",
        "spec": {"file": None, "sha256": None, "spec_hash": spec_hash(spec)},
        "previous": previous,
        "data": file_lineage(data),
        "fingerprint": data_fingerprint(dataset),
        "mediamix_version": __version__,
    }


def script_lineage(
    script: str | Path,
    sha256: str,
    r_version: str,
    spec_path: str | Path,
    spec: ModelSpec,
    dataset: Dataset,
    *,
    home: str | Path | None = None,
) -> dict[str, Any]:
    """The lineage of an R script model: the script and the SHA-256 of the text that
    ran, the R version that ran it, and the spec and data as for a fit
    (:func:`fit_lineage`)."""
    return {
        **fit_lineage(spec_path, spec, dataset, home=home),
        "kind": "r-script",
        "script": {"file": str(Path(script).resolve()), "sha256": sha256},
        "r": {"version": r_version},
    }


def robyn_import_lineage(
    model_json: str | Path, data: str | Path, spec: ModelSpec, dataset: Dataset
) -> dict[str, Any]:
    """The lineage of a model imported from Robyn: its JSON export and input table."""
    model_json = Path(model_json)
    return {
        "schema_version": LINEAGE_SCHEMA_VERSION,
        "kind": "robyn-import",
        "spec": {"file": None, "sha256": None, "spec_hash": spec_hash(spec.to_dict())},
        "robyn_json": {"file": str(model_json.resolve()), "sha256": sha256_file(model_json)},
        "data": file_lineage(data),
        "fingerprint": data_fingerprint(dataset),
        "mediamix_version": __version__,
    }


def _export_lineage(path: Path, sha256: str) -> dict[str, Any] | None:
    """The lineage an export wrote beside ``path``, if it describes this very file."""
    from mediamix.service.transform import EXPORT_LINEAGE

    beside = path.with_name(EXPORT_LINEAGE)
    if not beside.is_file():
        return None
    try:
        document = json.loads(beside.read_text())
    except (OSError, ValueError):
        log.warning("%s is not readable JSON: lineage of %s stops at the file", beside, path)
        return None
    export = document.get("export") if isinstance(document, dict) else None
    if not isinstance(export, dict) or export.get("file") != path.name:
        return None
    if export.get("sha256") != sha256:
        log.warning("%s changed after it was exported: lineage stops at the file", path)
        return None
    return document
