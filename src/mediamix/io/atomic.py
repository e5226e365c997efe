"""Atomic writes: a reader sees the old file or the new one, never half of one.

Every file mediamix writes goes through here: write to a temporary file in the
same directory, flush and fsync it, then ``os.replace`` it over the target and
fsync the directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_dir",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "fsync_dir",
]


def fsync_dir(path: Path) -> None:
    """Flush a directory entry to disk (no-op where the OS does not allow it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 text atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Write JSON (2-space indent, sorted as given) atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, allow_nan=False) + "\n")


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Build a directory's content in a temporary sibling, then move it in place.

    Files already in ``target`` that the block also wrote are replaced one by one
    with ``os.replace``; on any error inside the block nothing in ``target``
    changes, and a ``target`` that did not exist is not created.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_dir(root / "out") as tmp:
    ...     _ = (tmp / "a.txt").write_text("hi")
    >>> (root / "out" / "a.txt").read_text()
    'hi'
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        for file in tmp.rglob("*"):
            if file.is_file():
                with open(file, "rb") as handle:
                    os.fsync(handle.fileno())
        if not target.exists():
            os.replace(tmp, target)
            fsync_dir(target.parent)
            return
        for entry in sorted(tmp.iterdir()):
            destination = target / entry.name
            if entry.is_dir() and destination.exists():
                # swap the whole subdirectory: the old one is moved aside, then removed
                aside = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".old", dir=target))
                os.replace(destination, aside / entry.name)
                os.replace(entry, destination)
                shutil.rmtree(aside, ignore_errors=True)
            else:
                os.replace(entry, destination)
        fsync_dir(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
