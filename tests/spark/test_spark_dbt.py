"""The shipped dbt project on dbt-spark (session method) builds the marts DuckDB builds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from _wh_data import WIDE_SPEC, long_frame, wide_frame

pytest.importorskip("dbt.adapters.spark")

from mediamix.warehouse.spark import copy_raw_tables, read_spark_table, run_dbt_spark
from mediamix.warehouse.transform import MARTS, read_mart, run_dbt

PARAMS = "channel,alpha,l_max,half_saturation,slope\ntv,0.6,4,,1.5\n__default__,0.3,3,,1.0\n"


def _same(name: str, duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    assert list(duck.columns) == list(spark.columns), name
    assert len(duck) == len(spark), name
    text = [c for c in duck.columns if not pd.api.types.is_numeric_dtype(duck[c])]
    duck = duck.sort_values(text).reset_index(drop=True)
    spark = spark.sort_values(text).reset_index(drop=True)
    for column in duck.columns:
        a, b = duck[column], spark[column]
        if pd.api.types.is_numeric_dtype(a):
            # the same double up to the last bits of a float sum's order
            np.testing.assert_allclose(
                a.to_numpy(float),
                b.to_numpy(float),
                rtol=1e-12,
                atol=1e-9,
                err_msg=f"{name}.{column}",
            )
        else:
            assert a.astype(str).tolist() == b.astype(str).tolist(), f"{name}.{column}"


@pytest.mark.slow
def test_dbt_spark_marts_equal_duckdb_marts(
    spark: Any, home: Path, cli: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    wide_frame(weeks=20).to_csv(folder / "wide.csv", index=False)
    (folder / "spec.yaml").write_text(WIDE_SPEC)
    long_frame().to_csv(folder / "meta.csv", index=False)
    (folder / "params.csv").write_text(PARAMS)
    for args in (
        ["ingest", "csv", folder / "wide.csv", "--spec", folder / "spec.yaml", "--account", "b"],
        ["ingest", "csv", folder / "meta.csv", "--account", "meta_export"],
    ):
        assert cli(args).code == 0
    run_dbt(home, params=folder / "params.csv")

    copied = copy_raw_tables(home, spark)
    assert copied["raw_ad_reporting"] == 20 * 2 * 3 + 42
    # models and seed only: the data tests run on DuckDB above and add a minute on Spark
    result = run_dbt_spark(
        tmp_path / "dbt-spark",
        command="build --exclude-resource-type test",
        params=folder / "params.csv",
    )
    assert result.success
    assert len(result.nodes) == 12
    for name in MARTS:
        _same(name, read_mart(home, name), read_spark_table(spark, name))
    _same(
        "int_media_transforms",
        read_mart(home, "int_media_transforms"),
        read_spark_table(spark, "int_media_transforms"),
    )
