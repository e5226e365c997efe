"""Ingest through the CLI, build the dbt models, and check the marts.

One dbt build for the whole module (a build takes seconds): the same file is
ingested twice, a long-layout file from another platform beside it, then
``mediamix transform`` runs with explicit transform parameters.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _wh_data import CHANNELS, WIDE_SPEC, long_frame, wide_frame
from mediamix.transforms import geometric_adstock, hill
from mediamix.warehouse.store import Warehouse

pytestmark = pytest.mark.warehouse

PARAMS = """\
channel,alpha,l_max,half_saturation,slope
tv,0.6,4,5000,1.5
search,0.3,3,,1.0
__default__,0.5,6,,2.0
"""


def _tables(home: Path) -> dict[str, str]:
    with Warehouse.reader(home) as wh:
        return wh.checksums()


def test_bad_file_exits_2_names_row_and_column_and_changes_nothing(
    home: Path, cli, wide_files, tmp_path: Path
) -> None:
    data, spec = wide_files
    assert cli(["ingest", "csv", data, "--spec", spec]).code == 0
    before = _tables(home)
    raw_before = sorted((home / "raw").rglob("*.parquet"))
    frame = wide_frame()
    frame = frame.astype({"search_spend": object, "date": object})
    frame.loc[3, "search_spend"] = "$1,200.00"
    frame.loc[5, "date"] = "not a date"
    bad = tmp_path / "in" / "bad.csv"
    frame.to_csv(bad, index=False)
    run = cli(["ingest", "csv", bad, "--spec", spec])
    assert run.code == 2
    assert "row 4, column 'search_spend'" in run.err
    assert "currency-formatted" in run.err
    assert "row 6, column 'date'" in run.err
    assert "nothing was written" in run.err
    assert _tables(home) == before
    assert sorted((home / "raw").rglob("*.parquet")) == raw_before
    # the same problems, word for word, as mediamix validate
    bad_spec = bad.with_name("bad_spec.yaml")
    bad_spec.write_text(spec.read_text().replace("data: wide.csv", "data: bad.csv"))
    validate = cli(["validate", bad_spec])
    assert validate.code == 2
    problems = [line.strip() for line in run.err.splitlines() if str(bad) in line]
    assert problems
    for line in problems:
        assert line in validate.err


def test_double_ingest_then_transform_counts_spend_once(
    home: Path, cli, wide_files, tmp_path: Path
) -> None:
    data, spec = wide_files
    wide = wide_frame()
    long_file = tmp_path / "in" / "meta.csv"
    long = long_frame()
    long.to_csv(long_file, index=False)
    params = tmp_path / "in" / "params.csv"
    params.write_text(PARAMS)

    first = cli(["ingest", "csv", data, "--spec", spec, "--account", "brand"])
    assert first.code == 0, first.err
    assert "loaded" in first.out
    second = cli(["ingest", "csv", data, "--spec", spec, "--account", "brand"])
    assert second.code == 0, second.err
    assert "unchanged" in second.out
    third = cli(["ingest", "csv", long_file, "--account", "meta_export"])
    assert third.code == 0, third.err
    run = cli(["transform", "--params", params, "--export", tmp_path / "export"])
    assert run.code == 0, run.err
    assert "fail" not in run.out
    assert "error" not in run.out

    expected = {c: wide[f"{c}_spend"].sum() for c in CHANNELS}
    expected["social"] += long["spend"].sum()
    total = sum(expected.values())
    with Warehouse.reader(home) as wh:
        mart = wh.query("select * from mmm_weekly_input")
        perf = wh.query("select channel, spend from media_performance")
        report = wh.query("select sum(spend) as s from ad_reporting__campaign_report")
        attribution = wh.query("select channel, spend from attribution_summary")
        transforms = wh.query("select * from int_media_transforms")
        n_loads = wh.query("select count(*) as n from load_log")["n"][0]
    assert n_loads == 2
    by_channel = mart.groupby("channel")["spend"].sum()
    for channel, value in expected.items():
        assert by_channel[channel] == pytest.approx(value, rel=1e-12)
        assert perf.set_index("channel")["spend"][channel] == pytest.approx(value, rel=1e-12)
        assert attribution.set_index("channel")["spend"][channel] == pytest.approx(value, rel=1e-12)
    assert float(report["s"][0]) == pytest.approx(total, rel=1e-12)
    # grain: one row per week, geo and channel over the dense grid
    assert not mart.duplicated(["week_start", "geo", "channel"]).any()
    assert len(mart) == 30 * 2 * 3
    # the week's KPI and controls ride along on every channel row
    tv = mart[mart["channel"] == "tv"].sort_values(["geo", "week_start"])
    assert np.allclose(tv["kpi"].to_numpy(), wide.sort_values(["geo", "date"])["revenue"])
    assert np.allclose(
        tv["price_index"].to_numpy(), wide.sort_values(["geo", "date"])["price_index"]
    )

    _check_transforms_equal_python(mart, transforms)

    # the exported mart is a valid model input
    validate = cli(["validate", tmp_path / "export" / "spec.yaml"])
    assert validate.code == 0, validate.err
    assert "30 weekly periods" in validate.out
    assert "2 geo(s), 3 channels" in validate.out


def _check_transforms_equal_python(mart: pd.DataFrame, sql: pd.DataFrame) -> None:
    """int_media_transforms equals mediamix.transforms on the same weekly spend."""
    params = pd.read_csv(pd.io.common.StringIO(PARAMS)).set_index("channel")
    for channel in CHANNELS:
        # a channel's empty value falls back to the __default__ row, then (K only)
        # to the channel's mean positive adstocked spend
        p = (
            params.loc[channel].fillna(params.loc["__default__"])
            if channel in params.index
            else params.loc["__default__"]
        )
        alpha, l_max, slope = float(p["alpha"]), int(p["l_max"]), float(p["slope"])
        adstocked: dict[str, np.ndarray] = {}
        for geo, group in mart[mart["channel"] == channel].groupby("geo"):
            x = group.sort_values("week_start")["spend"].to_numpy(dtype=float)
            adstocked[str(geo)] = geometric_adstock(x, alpha, l_max=l_max)
        if pd.isna(p["half_saturation"]):
            positive = np.concatenate(list(adstocked.values()))
            k = float(positive[positive > 0].mean())
        else:
            k = float(p["half_saturation"])
        for geo, values in adstocked.items():
            got = sql[(sql["channel"] == channel) & (sql["geo"] == geo)].sort_values("week_start")
            assert len(got) == len(values)
            np.testing.assert_allclose(got["adstocked_spend"], values, rtol=1e-9, atol=1e-6)
            np.testing.assert_allclose(got["half_saturation"], k, rtol=1e-9)
            np.testing.assert_allclose(
                got["saturated"], hill(values, k, slope), rtol=1e-9, atol=1e-12
            )


def test_a_gap_in_the_weeks_fails_the_build_as_bad_input(home: Path, cli, tmp_path: Path) -> None:
    frame = wide_frame(weeks=30)
    frame = frame[~frame["date"].isin(["2023-03-06", "2023-03-13"])]
    early, late = frame[frame["date"] < "2023-03-06"], frame[frame["date"] > "2023-03-13"]
    spec = tmp_path / "spec.yaml"
    spec.write_text(WIDE_SPEC)
    for name, part in (("early", early), ("late", late)):
        part.to_csv(tmp_path / f"{name}.csv", index=False)
        assert cli(["ingest", "csv", tmp_path / f"{name}.csv", "--spec", spec]).code == 0
    before = _tables(home)
    run = cli(["transform"])
    assert run.code == 2
    assert "no_missing_weeks" in run.err
    assert "load the missing period" in run.err
    # the build ran on a copy: the warehouse is exactly as it was, no model half-built
    assert _tables(home) == before
    assert "mmm_weekly_input" not in before


def test_spec_reads_the_mart_with_data_warehouse(
    home: Path, cli, wide_files, tmp_path: Path
) -> None:
    data, spec = wide_files
    assert cli(["ingest", "csv", data, "--spec", spec, "--account", "brand"]).code == 0
    export = tmp_path / "export"
    assert cli(["transform", "--export", export]).code == 0
    # the exported spec, pointed at the warehouse instead of the exported CSV
    text = (
        (export / "spec.yaml").read_text().replace("data: mmm_weekly_input.csv", "data: warehouse")
    )
    mart_spec = tmp_path / "mart.yaml"
    mart_spec.write_text(text)
    res = cli(["validate", mart_spec])
    assert res.code == 0, res.err
    assert "warehouse:mmm_weekly_input: OK" in res.out
    from_file = cli(["validate", export / "spec.yaml"])
    assert from_file.out.split(": OK", 1)[1] == res.out.split(": OK", 1)[1]
    out = tmp_path / "fit"
    fit = cli(["fit", mart_spec, "--out", out])
    assert fit.code == 0, fit.err
    assert (out / "summary.json").is_file()
