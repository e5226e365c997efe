"""The one reader of YAML and JSON documents: errors name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediamix.documents import read_json_object, read_yaml
from mediamix.errors import InputError


def test_yaml_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes("\ufeffchannels:\n  tv: {max: 5}\n".encode())
    assert read_yaml(path, "constraints") == {"channels": {"tv": {"max": 5}}}


@pytest.mark.parametrize(
    ("text", "row"),
    [("a: 1\nb: [1, 2\nc: 3\n", 3), ("a: 1\n  b: 2\n", 2), ("key: 'open\n", 2)],
)
def test_yaml_syntax_errors_name_the_line(tmp_path: Path, text: str, row: int) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        read_yaml(path, "constraints")
    problem = err.value.problems[0]
    assert (problem.file, problem.row) == (str(path), row)
    assert problem.message.startswith("YAML syntax error")


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="constraints file not found"):
        read_yaml(tmp_path / "nope.yaml", "constraints")
    path = tmp_path / "b.json"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="UTF-8"):
        read_json_object(path, "curves")


def test_json_must_be_an_object(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("[1, 2]")
    with pytest.raises(InputError, match="expected a JSON object"):
        read_json_object(path, "curves")
    path.write_text('{"a": 1,\n "b": }')
    with pytest.raises(InputError) as err:
        read_json_object(path, "curves")
    assert err.value.problems[0].row == 2
