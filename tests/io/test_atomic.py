"""Atomic writes: a reader sees the old file or the new one, never a part; a failed
folder build changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediamix.io.atomic import atomic_dir, atomic_write_bytes, atomic_write_json


def test_write_replaces_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "plan.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, {"a": 2})
    assert target.read_text() == '{\n  "a": 2\n}\n'
    assert [p.name for p in target.parent.iterdir()] == ["plan.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    atomic_write_bytes(target, b"old")
    with pytest.raises(ValueError, match="not JSON compliant"):
        atomic_write_json(target, {"x": float("nan")})  # refused before anything is written
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def _fail_half_way(target: Path) -> None:
    with atomic_dir(target) as tmp:
        (tmp / "summary.json").write_text("3")
        raise RuntimeError("the fit failed half-way")


def test_atomic_dir_replaces_files_and_a_failure_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "fit"
    with atomic_dir(out) as tmp:
        (tmp / "summary.json").write_text("1")
        (tmp / "model").mkdir()
        (tmp / "model" / "model.json").write_text("m1")
    with atomic_dir(out) as tmp:
        (tmp / "summary.json").write_text("2")
    assert (out / "summary.json").read_text() == "2"
    assert (out / "model" / "model.json").read_text() == "m1"  # untouched: not rewritten

    with pytest.raises(RuntimeError):
        _fail_half_way(out)
    assert (out / "summary.json").read_text() == "2"
    with pytest.raises(RuntimeError):
        _fail_half_way(tmp_path / "never")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit"]  # no new folder, no temporary
