"""Fixtures of the warehouse tests: a home, input files, the CLI with its commands."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from _wh_data import WIDE_SPEC, wide_frame


@pytest.fixture
def wide_files(tmp_path: Path) -> tuple[Path, Path]:
    """(data, spec) of a valid wide file."""
    data = tmp_path / "in" / "wide.csv"
    data.parent.mkdir()
    wide_frame().to_csv(data, index=False)
    spec = data.with_name("spec.yaml")
    spec.write_text(WIDE_SPEC)
    return data, spec


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh MEDIAMIX_HOME, also set for CLI runs."""
    path = tmp_path / "home"
    monkeypatch.setenv("MEDIAMIX_HOME", str(path))
    return path


@pytest.fixture
def cli(run_cli: Callable[[Sequence[str]], object]) -> Callable[[Sequence[str]], object]:
    """The CLI runner (the warehouse commands are part of the main app)."""
    return run_cli
