"""Identifiers that may become part of a file path, and the checks that make that safe.

Object ids are generated here (128 random bits, lowercase hex) and every id or name
that arrives from outside is checked against a strict pattern before it is used,
so no request can name a path outside the service's folders (no ``..``, no
separators, no symlink escape: :func:`child_path` also resolves the result).
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

__all__ = ["InvalidNameError", "check_id", "check_tenant", "child_path", "new_id"]

_ID = re.compile(r"[0-9a-f]{32}")
_TENANT = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


class InvalidNameError(ValueError):
    """An id or name that does not match its pattern (never used as a path)."""


def new_id() -> str:
    """A fresh object id: 32 lowercase hex digits (128 random bits).

    Examples
    --------
    >>> len(new_id()), check_id(new_id()) is not None
    (32, True)
    """
    return secrets.token_hex(16)


def check_id(value: str) -> str:
    """``value`` if it is a well-formed object id, else :class:`InvalidNameError`.

    Examples
    --------
    >>> check_id("0" * 32)
    '00000000000000000000000000000000'
    >>> check_id("../etc")
    Traceback (most recent call last):
    ...
    mediamix.state.ids.InvalidNameError: not an id: '../etc'
    """
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidNameError(f"not an id: {value!r}")
    return value


def check_tenant(value: str) -> str:
    """``value`` if it is a valid tenant name (lowercase letters, digits, ``-``, ``_``).

    Examples
    --------
    >>> check_tenant("acme-eu")
    'acme-eu'
    """
    if not isinstance(value, str) or not _TENANT.fullmatch(value):
        raise InvalidNameError(
            f"not a tenant name: {value!r} (1-63 of a-z, 0-9, '-', '_'; starts with a letter "
            "or digit)"
        )
    return value


def child_path(root: Path, *parts: str) -> Path:
    """``root/part/...`` after checking that the result stays inside ``root``.

    Each part must be a single plain path component; the joined path is resolved
    (symlinks followed) and must remain under the resolved ``root``.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> child_path(root, "a", "b") == root.resolve() / "a" / "b"
    True
    >>> child_path(root, "..")
    Traceback (most recent call last):
    ...
    mediamix.state.ids.InvalidNameError: not a plain path component: '..'
    """
    for part in parts:
        if (
            not part
            or part in {".", ".."}
            or "/" in part
            or "\\" in part
            or "\x00" in part
            or part != part.strip()
        ):
            raise InvalidNameError(f"not a plain path component: {part!r}")
    base = root.resolve()
    path = base.joinpath(*parts).resolve()
    if not path.is_relative_to(base):
        raise InvalidNameError(f"path leaves its folder: {'/'.join(parts)!r}")
    return path
