"""One ridge model per group: Spark's applyInPandas and the local pool give the same fits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from _many_data import many_groups
from mediamix.errors import InputError
from mediamix.service.fit import load_model
from mediamix.service.many import ManyBackend, ManyOptions, fit_many

GROUPS = ("brand", "market", "kpi")


def _options(backend: ManyBackend) -> ManyOptions:
    return ManyOptions(group_by=GROUPS, backend=backend, workers=2, candidates=60, bootstrap=0)


def test_spark_and_local_pool_fit_the_same_models(spark: Any, tmp_path: Path) -> None:
    _, spec, table = many_groups(tmp_path / "in", brands=2, markets=1, kpis=("sales", "leads"))
    on_spark = fit_many(spec, tmp_path / "spark", _options(ManyBackend.SPARK), spark=spark)
    local = fit_many(spec, tmp_path / "local", _options(ManyBackend.LOCAL))
    assert on_spark.backend == ManyBackend.SPARK
    assert local.backend == ManyBackend.LOCAL
    a = on_spark.summaries.drop(columns=["seconds"])
    b = local.summaries.drop(columns=["seconds"])
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 4
    assert set(a["status"]) == {"fitted"}
    assert list(a[list(GROUPS)].itertuples(index=False, name=None)) == [
        ("b0", "m0", "leads"),
        ("b0", "m0", "sales"),
        ("b1", "m0", "leads"),
        ("b1", "m0", "sales"),
    ]
    # each group's model is the one its own rows give: its fitted KPI is that series
    for row in a.itertuples(index=False):
        model = load_model(tmp_path / "spark" / row.path)
        rows = table[(table["brand"] == row.brand) & (table["kpi"] == row.kpi)]
        decomposition = pd.read_csv(tmp_path / "spark" / row.path / "decomposition.csv")
        np.testing.assert_allclose(decomposition["actual"], rows["revenue"].to_numpy())
        assert model.summary()["metrics"]["r2"] == pytest.approx(row.r2, rel=1e-12)
    written = pd.read_csv(tmp_path / "spark" / "summaries.csv")
    assert len(written) == 4


def test_a_bad_group_fails_all_with_file_rows_and_writes_nothing(
    spark: Any, tmp_path: Path
) -> None:
    data, spec, table = many_groups(tmp_path / "in", brands=2, markets=1)
    table["tv_spend"] = table["tv_spend"].astype(object)
    table.loc[60, "tv_spend"] = "12,5O"  # row 61 of the file, in group b1/m0
    table.to_csv(data, index=False)
    for backend, out in ((ManyBackend.SPARK, "spark"), (ManyBackend.LOCAL, "local")):
        with pytest.raises(InputError) as err:
            fit_many(spec, tmp_path / out, _options(backend), spark=spark)
        (problem,) = err.value.problems
        assert problem.row == 61
        assert problem.column == "tv_spend"
        assert problem.file is not None
        assert "brand=b1, market=m0, kpi=sales" in problem.file
        assert not (tmp_path / out).exists()
        assert [p.name for p in tmp_path.iterdir()] == ["in"]
