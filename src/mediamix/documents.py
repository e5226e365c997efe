"""Reading the small YAML and JSON documents users write (specs, constraints, scenarios,
curves, reach, plans): one reader, one set of error messages.

Each reader returns the parsed content or raises :class:`~mediamix.errors.InputError`
naming the file and, for a syntax error, its line. It sits beside
:mod:`mediamix.errors`, below every layer, because the documents belong to several
layers: the spec to ``io``, the planning documents to ``optimization``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediamix.errors import InputError

__all__ = ["YamlDocument", "parse_yaml", "read_json_object", "read_text", "read_yaml"]


def read_text(path: Path | str, what: str) -> str:
    """The text of ``path`` (UTF-8, a byte-order mark allowed); ``what`` names it in errors."""
    path = Path(path)
    if not path.is_file():
        raise InputError.single(f"{what} file not found: {path}", file=str(path))
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise InputError.single(
            f"cannot read the {what} file: {err.strerror}", file=str(path)
        ) from None
    except UnicodeDecodeError as err:
        raise InputError.single(f"not a UTF-8 text file ({err.reason})", file=str(path)) from None


@dataclass(frozen=True)
class YamlDocument:
    """Parsed YAML with its node tree, so that errors can name the line of a key."""

    content: Any
    root: Any  # yaml.Node or None (empty document)


def parse_yaml(text: str, *, file: str | None = None) -> YamlDocument:
    """Parse YAML text (safe loader: plain data only).

    Examples
    --------
    >>> parse_yaml("a: 1\\nb: [2, 3]\\n").content
    {'a': 1, 'b': [2, 3]}
    >>> try:
    ...     parse_yaml("a: [1, 2\\nb: 3\\n", file="c.yaml")
    ... except InputError as err:
    ...     print(err.problems[0].file, err.problems[0].row)
    c.yaml 2
    """
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        content = yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError.single(f"YAML syntax error: {err.problem}", file=file, row=line) from None
    except yaml.YAMLError as err:
        raise InputError.single(f"YAML syntax error: {err}", file=file) from None
    return YamlDocument(content=content, root=root)


def read_yaml(path: Path | str, what: str) -> Any:
    """Parsed YAML of ``path`` (``None`` for an empty file); ``what`` names it in errors."""
    return parse_yaml(read_text(path, what), file=str(path)).content


def read_json_object(
    path: Path | str, what: str, expected: str = "a JSON object"
) -> dict[str, Any]:
    """Parsed JSON of ``path``, which must be an object; ``what`` names it in errors."""
    text = read_text(path, what)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError.single(
            f"not valid JSON: {err.msg}", file=str(path), row=err.lineno
        ) from None
    if not isinstance(data, dict):
        raise InputError.single(f"expected {expected}", file=str(path))
    return data
