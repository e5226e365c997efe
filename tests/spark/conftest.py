"""One local Spark session for every Spark test (starting the JVM is the slow part)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("pyspark")


@pytest.fixture(scope="package")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local[2] session: UI off, two shuffle partitions, managed tables in a temp dir."""
    from mediamix.warehouse.spark import SparkOptions, local_session

    session = local_session(
        SparkOptions(
            master="local[2]",
            shuffle_partitions=2,
            warehouse_dir=tmp_path_factory.mktemp("spark-warehouse"),
        )
    )
    yield session
    session.stop()
