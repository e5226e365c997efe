"""Reading a model spec from YAML, with errors that name the line and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from mediamix.data.spec import ModelSpec
from mediamix.errors import InputError, Problem

__all__ = ["WAREHOUSE", "read_spec", "spec_from_text"]

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
    if not path.is_file():
        raise InputError.single(f"spec file not found: {path}", file=str(path))
    text = path.read_text(encoding="utf-8-sig")
    spec = spec_from_text(text, source=str(path))
    if spec.data == WAREHOUSE:
        return spec
    data = Path(spec.data)
    if not data.is_absolute():
        data = (path.resolve().parent / data).resolve()
    return spec.with_data(str(data))


def spec_from_text(text: str, *, source: str = "<spec>") -> ModelSpec:
    """Parse and validate spec YAML text; paths are left as written."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        content = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError.single(
            f"YAML syntax error: {exc.problem}", file=source, row=line
        ) from None
    if not isinstance(content, dict):
        raise InputError.single(
            "expected a mapping of spec keys (data, date, kpi, channels ...)", file=source
        )
    try:
        return ModelSpec.model_validate(content)
    except ValidationError as exc:
        problems = [_problem_from_pydantic(err, root, source) for err in exc.errors()]
        raise InputError(problems) from None


def _problem_from_pydantic(err: Any, root: yaml.Node | None, source: str) -> Problem:
    loc = tuple(err.get("loc", ()))
    # pydantic reports union alternatives as extra loc parts; keep the spec keys only
    keys = [
        part
        for part in loc
        if not (
            isinstance(part, str)
            and (
                "[" in part
                or part
                in {"float", "tuple[float,float]", "int", "SeasonalitySpec", "function-after"}
            )
        )
    ]
    dotted = ".".join(str(k) for k in keys)
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        message = f"unknown key '{keys[-1] if keys else dotted}'"
        parent = ".".join(str(k) for k in keys[:-1])
        if parent:
            message += f" under '{parent}'"
        message += " (check the spelling; see the spec reference in the README)"
    elif kind == "missing":
        message = f"required key '{dotted}' is missing"
    else:
        message = f"'{dotted}': {err.get('msg', 'invalid value')}" if dotted else err.get("msg", "")
    line = _line_of(root, keys)
    return Problem(message, file=source, row=line, column=dotted or None)


def _line_of(root: yaml.Node | None, keys: list[Any]) -> int | None:
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
