"""Shared fixtures of the attribution tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediamix.attribution import Journeys

DATASETS = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"
DATA_CSV = DATASETS / "channelattribution-paths" / "Data.csv"


@pytest.fixture(scope="session")
def data_csv() -> Path:
    """ChannelAttribution's Data.csv (GPL-3 test data, read in place, never copied)."""
    assert DATA_CSV.is_file(), (
        f"test data missing: {DATA_CSV} (expected ../shared/datasets next to the repo); "
        "these tests must not be skipped"
    )
    return DATA_CSV


@pytest.fixture
def worked_example() -> Journeys:
    """The issue's worked example: path; conversions; nulls."""
    return Journeys.from_paths(
        ["A > B > C", "A > C", "B", "A > A > B", "C"],
        conversions=[1, 1, 0, 0, 1],
        nulls=[1, 0, 1, 1, 0],
    )
