"""Reading a model spec from YAML, with errors that name the line and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from mediamix.data.spec import ModelSpec
from mediamix.documents import parse_yaml, read_text
from mediamix.errors import InputError, Problem, problems_from_validation

__all__ = ["WAREHOUSE", "line_of", "read_spec", "spec_from_text"]

WAREHOUSE = "warehouse"
"""``data: warehouse`` reads the ``mmm_weekly_input`` mart of the warehouse."""


def read_spec(path: str | Path) -> ModelSpec:
    """Read and validate a spec file; ``data`` becomes an absolute path.

    Raises
    ------
    InputError
        Missing file, YAML syntax error (with its line), unknown or invalid keys
        (each with its line and key).
    """
    path = Path(path)
    text = read_text(path, "spec")
    spec = spec_from_text(text, source=str(path))
    if spec.data == WAREHOUSE:
        return spec
    data = Path(spec.data)
    if not data.is_absolute():
        data = (path.resolve().parent / data).resolve()
    return spec.with_data(str(data))


def spec_from_text(text: str, *, source: str = "<spec>") -> ModelSpec:
    """Parse and validate spec YAML text; paths are left as written."""
    document = parse_yaml(text, file=source)
    content, root = document.content, document.root
    if not isinstance(content, dict):
        raise InputError.single(
            "expected a mapping of spec keys (data, date, kpi, channels ...)", file=source
        )
    try:
        return ModelSpec.model_validate(content)
    except ValidationError as exc:
        raise InputError(_spec_problems(exc, root, source)) from None


# pydantic's tags for the members of a union (``seasonality: SeasonalitySpec | int``,
# transform parameters ``float | tuple[float, float]``): not keys of the spec
_UNION_TAGS = ("float", "int", "SeasonalitySpec")


def _spec_problems(exc: ValidationError, root: yaml.Node | None, source: str) -> list[Problem]:
    """The spec's validation errors, each with the line and key path it concerns."""

    def keys(path: str) -> list[Any]:
        return [int(k) if k.isdigit() else k for k in path.split(".")] if path else []

    def message(err: Any, path: str) -> str:
        kind = err.get("type", "")
        parts = keys(path)
        if kind == "extra_forbidden":
            text = f"unknown key '{parts[-1] if parts else path}'"
            parent = ".".join(str(k) for k in parts[:-1])
            if parent:
                text += f" under '{parent}'"
            return text + " (check the spelling; see the spec reference in the README)"
        if kind == "missing":
            return f"required key '{path}' is missing"
        return f"'{path}': {err.get('msg', 'invalid value')}" if path else err.get("msg", "")

    return problems_from_validation(
        exc,
        file=source,
        message=message,
        row=lambda path: line_of(root, keys(path)),
        root=None,
        skip=_UNION_TAGS,
    )


def line_of(root: yaml.Node | None, keys: list[Any]) -> int | None:
    """1-based line of the deepest node the key path reaches."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            found = None
            for key_node, value_node in node.value:
                if key_node.value == str(key):
                    found = (key_node, value_node)
                    break
            if found is None:
                return line
            line = found[0].start_mark.line + 1
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line
