"""Reading the small documents planning takes (constraints, scenarios, curves, reach).

Each reader returns the parsed content, or raises :class:`InputError` naming the
file and, for a syntax error, its line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mediamix.errors import InputError

__all__ = ["read_json_object", "read_yaml"]


def _text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as err:
        raise InputError.single(
            f"cannot read the {what} file: {err.strerror}", file=str(path)
        ) from None


def read_yaml(path: Path | str, what: str) -> Any:
    """Parsed YAML of ``path`` (``None`` for an empty file); ``what`` names it in errors."""
    import yaml

    path = Path(path)
    text = _text(path, what)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError.single(f"not valid YAML: {err}", file=str(path), row=line) from None


def read_json_object(
    path: Path | str, what: str, expected: str = "a JSON object"
) -> dict[str, Any]:
    """Parsed JSON of ``path``, which must be an object; ``what`` names it in errors."""
    path = Path(path)
    text = _text(path, what)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError.single(
            f"not valid JSON: {err.msg}", file=str(path), row=err.lineno
        ) from None
    if not isinstance(data, dict):
        raise InputError.single(f"expected {expected}", file=str(path))
    return data
