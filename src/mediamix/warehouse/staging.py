"""A staged copy of the warehouse, published only when everything on it passed.

A scheduled ingest loads new data and then runs ``dbt build`` with its tests. Loads
alone are atomic, but a load followed by a failing dbt test would leave new raw rows
in the warehouse beside marts built from the old ones. So the scheduled path works
on a copy: :func:`stage` copies the live file into a staging home, the loads and the
build run there, and :func:`publish` swaps the copy in (one ``os.replace``) only if
the live file is still the one that was copied. A failure anywhere before the swap
leaves the live warehouse byte-identical.

Layout of a staging home (``home/staging/<key>/``)::

    warehouse.duckdb     the copy the loads and dbt write
    base.sha256          SHA-256 of the live file when it was copied ("none": no warehouse yet)
    raw/...              raw files landed by the loads, moved under ``home/raw`` on publish
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

from mediamix.errors import BusyError, InputError
from mediamix.io.artifacts import sha256_file
from mediamix.io.atomic import fsync_dir
from mediamix.warehouse.crypto import current_key
from mediamix.warehouse.store import hold_lock, warehouse_path
from mediamix.warehouse.transform import _checkpoint

__all__ = ["publish", "stage", "staging_home"]

log = logging.getLogger(__name__)

_BASE = "base.sha256"
_NONE = "none"


def staging_home(home: str | Path, key: str) -> Path:
    """``home/staging/<key>`` for a run key (letters, digits, ``._-`` only)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", key)
    if not safe.strip("._"):
        raise InputError.single(f"staging key '{key}' has no usable characters", column="key")
    return Path(home) / "staging" / safe


def _file_sha256(path: Path) -> str:
    return sha256_file(path) if path.is_file() else _NONE


def stage(home: str | Path, key: str) -> Path:
    """Copy the live warehouse into a fresh staging home and return that folder.

    A staging home left by an earlier attempt with the same key is replaced, so a
    retried run starts again from the live warehouse.

    Raises
    ------
    BusyError
        Another process is writing the warehouse.
    """
    home = Path(home)
    target = staging_home(home, key)
    with hold_lock(home):
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        live = warehouse_path(home)
        if live.is_file():
            _checkpoint(live, current_key())
            shutil.copyfile(live, warehouse_path(target))
        (target / _BASE).write_text(_file_sha256(live) + "\n")
    log.info("staged the warehouse of %s in %s", home, target)
    return target


def publish(home: str | Path, staged: str | Path) -> Path:
    """Swap the staged warehouse in for the live one, with the raw files it landed.

    Raises
    ------
    BusyError
        The live warehouse changed since it was staged (another run published first):
        nothing is published; stage again.
    InputError
        ``staged`` is not a staging home of ``home``.
    """
    home, staged = Path(home), Path(staged)
    base_file = staged / _BASE
    if not base_file.is_file() or staged.resolve().parent != (home / "staging").resolve():
        raise InputError.single(f"{staged} is not a staging home of {home}", file=str(staged))
    copy = warehouse_path(staged)
    if not copy.is_file():
        raise InputError.single("nothing was loaded into the staged warehouse", file=str(copy))
    with hold_lock(home):
        live = warehouse_path(home)
        if _file_sha256(live) != base_file.read_text().strip():
            raise BusyError(
                f"the warehouse {live} changed since it was staged in {staged}; stage again"
            )
        raw = staged / "raw"
        if raw.is_dir():
            for path in sorted(p for p in raw.rglob("*") if p.is_file()):
                dest = home / path.relative_to(staged)
                # raw files are named by their content: one already there is the same file
                if not dest.exists():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(path, dest)
                    fsync_dir(dest.parent)
        _checkpoint(copy, current_key())
        with open(copy, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(copy, live)
        fsync_dir(home)
    shutil.rmtree(staged, ignore_errors=True)
    log.info("published the staged warehouse %s into %s", staged, home)
    return live
