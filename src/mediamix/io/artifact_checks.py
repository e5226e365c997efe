"""Checks a model folder must pass before any of its files is parsed.

The manifest's SHA-256 catches accidental change, not an attacker: whoever can
replace ``arrays.npz`` can rewrite the manifest too. So, before anything is read,
every file is checked for what it must be, without executing or unpickling anything:

- the folder holds regular files only (no symlinks, no subfolders), each named in
  the manifest and no larger than :data:`MAX_FILE_BYTES`;
- JSON files are UTF-8 text no deeper than :data:`MAX_JSON_DEPTH` (a deeply nested
  document would exhaust the parser's recursion);
- ``arrays.npz`` is a zip archive (a pickle, gzip'd or not, is refused by its first
  bytes) whose entries are flat ``.npy`` names (no ``/``, ``..`` or absolute paths:
  no zip-slip), no symlink entries, declared sizes within bounds (a "2 GB" entry is
  refused from its header, not by inflating it) and plain dtypes (object arrays,
  which only pickle can read, are refused from the ``.npy`` header).
"""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import numpy as np

from mediamix.errors import InputError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_JSON_DEPTH",
    "check_json_text",
    "check_model_contents",
    "check_model_folder",
    "check_npz",
]

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_JSON_DEPTH = 64
_ZIP_MAGIC = b"PK\x03\x04"
_ALLOWED = {"manifest.json", "model.json", "arrays.npz", "lineage.json"}
_REQUIRED = {"model.json", "arrays.npz"}
_OPTIONAL = {"lineage.json"}


def _refuse(message: str, path: Path) -> InputError:
    return InputError.single(f"refused model artifact: {message}", file=str(path))


def check_json_text(data: bytes, path: Path) -> str:
    """The text of a JSON file if it is UTF-8 and not nested deeper than the limit.

    Examples
    --------
    >>> check_json_text(b'{"a": [1, 2]}', Path("m.json"))
    '{"a": [1, 2]}'
    >>> check_json_text(b"[" * 100 + b"]" * 100, Path("m.json"))
    Traceback (most recent call last):
    ...
    mediamix.errors.InputError: ...
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse("not UTF-8 JSON text", path) from None
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                raise _refuse(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", path)
        elif char in "]}":
            depth -= 1
    return text


def check_npz(path: Path, max_bytes: int = MAX_FILE_BYTES) -> None:
    """Refuse an ``.npz`` that is not a plain zip of plain ``.npy`` arrays."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head != _ZIP_MAGIC:
        kind = {b"\x1f\x8b": "gzip data", b"\x80": "a Python pickle"}
        what = next((v for k, v in kind.items() if head.startswith(k)), "not a zip archive")
        raise _refuse(f"arrays.npz is {what}, not an npz archive", path)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise _refuse(f"arrays.npz is not a valid zip archive ({exc})", path) from None
    with archive:
        total = 0
        for info in archive.infolist():
            name = info.filename
            if "/" in name or "\\" in name or name.startswith(".") or ".." in name:
                raise _refuse(f"archive entry {name!r} is a path, not a flat array name", path)
            if not name.endswith(".npy"):
                raise _refuse(f"archive entry {name!r} is not an .npy array", path)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise _refuse(f"archive entry {name!r} is a symbolic link", path)
            total += info.file_size
            if info.file_size > max_bytes or total > max_bytes:
                raise _refuse(
                    f"archive entry {name!r} declares {info.file_size} bytes "
                    f"(limit {max_bytes} for the whole archive)",
                    path,
                )
            with archive.open(info) as member:
                try:
                    version = np.lib.format.read_magic(member)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
                except ValueError as exc:
                    raise _refuse(
                        f"archive entry {name!r} is not an .npy array ({exc})", path
                    ) from None
            if dtype.hasobject:
                raise _refuse(f"array {name!r} has object dtype (only pickle reads it)", path)
            size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if size > max_bytes:
                raise _refuse(f"array {name!r} declares {size} bytes (limit {max_bytes})", path)


def check_model_folder(folder: Path, manifest_files: object) -> None:
    """Refuse a model folder whose files are not exactly what a model folder holds.

    ``manifest_files`` is the manifest's ``files`` mapping (name -> SHA-256). Called
    before any file is hashed, so a symlink to an endless device is never read.
    """
    folder = Path(folder)
    if folder.is_symlink():
        raise _refuse("the model folder is a symbolic link", folder)
    if not isinstance(manifest_files, dict) or not (
        _REQUIRED <= set(manifest_files) <= _REQUIRED | _OPTIONAL
    ):
        raise _refuse(
            "the manifest must list model.json and arrays.npz (and lineage.json, if present)",
            folder,
        )
    for entry in folder.iterdir():
        if entry.is_symlink():
            raise _refuse(f"{entry.name} is a symbolic link", entry)
        if entry.name not in _ALLOWED:
            raise _refuse(f"unexpected file {entry.name!r} in a model folder", entry)
        if entry.name in _OPTIONAL and entry.name not in manifest_files:
            raise _refuse(f"{entry.name} is not listed in the manifest", entry)
        if not entry.is_file():
            raise _refuse(f"{entry.name} is not a regular file", entry)
        size = entry.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _refuse(f"{entry.name} is {size} bytes (limit {MAX_FILE_BYTES})", entry)


def check_model_contents(folder: Path) -> None:
    """Refuse ``model.json`` nested too deep or ``arrays.npz`` that is not plain arrays.

    Called after the checksums matched and before either file is parsed.
    """
    folder = Path(folder)
    for name in ("model.json", "lineage.json"):
        document = folder / name
        if document.is_file():
            text = check_json_text(document.read_bytes(), document)
            try:
                json.loads(text)
            except json.JSONDecodeError as exc:
                raise _refuse(f"{name} is not valid JSON: {exc}", document) from None
    if (folder / "arrays.npz").is_file():
        check_npz(folder / "arrays.npz")
