"""Safe model artifacts: JSON + ``.npz`` arrays, checksummed, never pickled.

A model folder holds::

    model.json      metadata (schema_version, kind, engine, parameters ...)
    arrays.npz      numeric arrays, loaded with ``allow_pickle=False``
    lineage.json    optional: the data, dbt models and spec the model was fitted on
    manifest.json   schema_version, mediamix version and the SHA-256 of the other files

Loading verifies the schema version and both checksums before reading, so a
tampered or truncated folder is refused; nothing stored is executed, the code comes
from the installed package. Folders are written atomically.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mediamix import __version__
from mediamix.errors import InputError
from mediamix.io.artifact_checks import check_json_text, check_model_contents, check_model_folder
from mediamix.io.atomic import atomic_dir

__all__ = [
    "ARTIFACT_SCHEMA_VERSION",
    "load_artifact",
    "load_lineage",
    "save_artifact",
    "sha256_file",
]

ARTIFACT_SCHEMA_VERSION = 1


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_artifact(
    folder: str | Path,
    meta: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    *,
    lineage: Mapping[str, Any] | None = None,
) -> Path:
    """Write a model folder atomically; returns its path.

    Object arrays are refused: only numeric and fixed-width string arrays are
    stored, so the file can be read back without pickle. ``lineage`` (what the
    model was fitted on) is written as ``lineage.json`` and checksummed in the
    manifest like the model itself.
    """
    folder = Path(folder)
    for key, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise TypeError(f"array '{key}' has dtype object; artifacts store plain arrays only")
    with atomic_dir(folder) as tmp:
        (tmp / "model.json").write_text(json.dumps(dict(meta), indent=2, allow_nan=False) + "\n")
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **{k: np.asarray(v) for k, v in arrays.items()})  # type: ignore[arg-type]
        (tmp / "arrays.npz").write_bytes(buffer.getvalue())
        names = ["model.json", "arrays.npz"]
        if lineage is not None:
            (tmp / "lineage.json").write_text(
                json.dumps(dict(lineage), indent=2, allow_nan=False) + "\n"
            )
            names.append("lineage.json")
        manifest = {
            "schema_version": ARTIFACT_SCHEMA_VERSION,
            "mediamix_version": __version__,
            "files": {name: sha256_file(tmp / name) for name in names},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return folder


def load_artifact(folder: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and verify a model folder.

    Raises
    ------
    InputError
        Missing files, unknown schema version, or a checksum mismatch.
    """
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise InputError.single("not a mediamix model folder (no manifest.json)", file=str(folder))
    try:
        manifest = json.loads(check_json_text(manifest_path.read_bytes(), manifest_path))
    except json.JSONDecodeError as exc:
        raise InputError.single(
            f"manifest.json is not valid JSON: {exc}", file=str(manifest_path)
        ) from None
    if manifest.get("schema_version") != ARTIFACT_SCHEMA_VERSION:
        raise InputError.single(
            f"artifact schema version {manifest.get('schema_version')!r} is not supported "
            f"(this mediamix reads version {ARTIFACT_SCHEMA_VERSION})",
            file=str(manifest_path),
        )
    check_model_folder(folder, manifest.get("files"))
    for name, expected in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            raise InputError.single(f"model file missing: {name}", file=str(folder))
        if sha256_file(path) != expected:
            raise InputError.single(
                f"checksum mismatch for {name}: the file changed after it was saved", file=str(path)
            )
    check_model_contents(folder)
    meta = json.loads((folder / "model.json").read_text())
    with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    return meta, arrays


def load_lineage(folder: str | Path) -> dict[str, Any] | None:
    """A verified model folder's ``lineage.json``; ``None`` for models saved without one.

    Raises
    ------
    InputError
        The folder fails verification (:func:`load_artifact`).
    """
    folder = Path(folder)
    load_artifact(folder)
    path = folder / "lineage.json"
    if not path.is_file():
        return None
    document = json.loads(path.read_text())
    return document if isinstance(document, dict) else None
