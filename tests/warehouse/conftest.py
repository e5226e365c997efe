"""Fixtures of the warehouse tests: input files."""

from __future__ import annotations

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
