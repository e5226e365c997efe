"""Shared fixtures of the attribution tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mediamix.attribution import Journeys

#: Names the folder holding ChannelAttribution's Data.csv. The file is GPL-3, so it is
#: never bundled: CI points this variable at its copy, everyone else skips these tests.
DATA_ENV = "MEDIAMIX_CHANNELATTRIBUTION_DATA"


@pytest.fixture(scope="session")
def data_csv() -> Path:
    """ChannelAttribution's Data.csv (GPL-3 test data, read in place, never copied).

    Skipped, with the reason shown, when ``MEDIAMIX_CHANNELATTRIBUTION_DATA`` is unset;
    a variable that is set but names no Data.csv is an error, not a skip.
    """
    folder = os.environ.get(DATA_ENV)
    if not folder:
        pytest.skip(
            f"{DATA_ENV} is not set: ChannelAttribution's Data.csv (GPL-3) is not bundled; "
            "set it to the folder holding Data.csv to run these comparisons"
        )
    path = Path(folder) / "Data.csv"
    assert path.is_file(), f"{DATA_ENV}={folder} but {path} does not exist"
    return path


@pytest.fixture
def worked_example() -> Journeys:
    """The issue's worked example: path; conversions; nulls."""
    return Journeys.from_paths(
        ["A > B > C", "A > C", "B", "A > A > B", "C"],
        conversions=[1, 1, 0, 0, 1],
        nulls=[1, 0, 1, 1, 0],
    )
