"""Every bad-input class: exit code 2, file/row/column named, nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mediamix.data.synthetic import SynthConfig, synthesize


def _write_case(
    tmp_path: Path,
    frame: pd.DataFrame | None = None,
    *,
    spec: dict | None = None,
    text: str | None = None,
    sep: str = ",",
) -> Path:
    """A small valid dataset (60 weeks, 2 channels), optionally replaced."""
    base = synthesize(SynthConfig(seed=11, weeks=60, channels=2, events=1, controls=1))
    data = tmp_path / "weekly.csv"
    if text is not None:
        data.write_text(text, encoding="utf-8")
    else:
        (base.frame if frame is None else frame).to_csv(data, index=False, sep=sep)
    spec_doc = dict(base.spec if spec is None else spec)
    spec_doc["data"] = "weekly.csv"
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec_doc, sort_keys=False))
    return spec_path


def _frame() -> pd.DataFrame:
    return synthesize(
        SynthConfig(seed=11, weeks=60, channels=2, events=1, controls=1)
    ).frame.astype(object)


def _assert_refused(run_cli, tmp_path: Path, spec_path: Path, *needles: str) -> str:
    """validate and fit both refuse with exit 2, naming the needles; fit writes nothing."""
    res = run_cli(["validate", spec_path])
    assert res.code == 2, res.err
    for needle in needles:
        assert needle in res.err, f"{needle!r} not in: {res.err}"
    out = tmp_path / "fit-out"
    before = sorted(p.name for p in tmp_path.iterdir())
    res_fit = run_cli(["fit", spec_path, "--out", out])
    assert res_fit.code == 2, res_fit.err
    for needle in needles:
        assert needle in res_fit.err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert "Traceback" not in res_fit.err
    return res.err


def test_valid_case_passes(run_cli, tmp_path):
    spec = _write_case(tmp_path)
    res = run_cli(["validate", spec])
    assert res.code == 0, res.err
    assert "OK - 60 weekly periods" in res.out


def test_missing_data_file(run_cli, tmp_path):
    spec = _write_case(tmp_path)
    (tmp_path / "weekly.csv").unlink()
    _assert_refused(run_cli, tmp_path, spec, "data file not found", "weekly.csv")


def test_missing_spec_file(run_cli, tmp_path):
    res = run_cli(["fit", tmp_path / "nope.yaml", "--out", tmp_path / "o"])
    assert res.code == 2
    assert "nope.yaml" in res.err
    assert not (tmp_path / "o").exists()


def test_column_absent_lists_existing(run_cli, tmp_path):
    frame = _frame().rename(columns={"tv_spend": "tv_cost"})
    spec = _write_case(tmp_path, frame)
    err = _assert_refused(run_cli, tmp_path, spec, "column 'tv_spend'", "not in the file")
    assert "'tv_cost'" in err
    assert "'revenue'" in err


def test_duplicate_column_names(run_cli, tmp_path):
    frame = _frame()
    text = frame.to_csv(index=False)
    header, rest = text.split("\n", 1)
    header = header.replace("price_index", "search_spend")
    spec = _write_case(tmp_path, text=header + "\n" + rest)
    _assert_refused(run_cli, tmp_path, spec, "duplicate column name", "'search_spend'")


def test_unparseable_date(run_cli, tmp_path):
    frame = _frame()
    frame.loc[4, "date"] = "2021/02/31"
    spec = _write_case(tmp_path, frame)
    _assert_refused(run_cli, tmp_path, spec, "row 5", "column 'date'", "'2021/02/31'", "ISO date")


def test_duplicate_period(run_cli, tmp_path):
    frame = _frame()
    frame.loc[9, "date"] = frame.loc[8, "date"]
    spec = _write_case(tmp_path, frame)
    _assert_refused(run_cli, tmp_path, spec, "duplicate period", "rows 9, 10", "column 'date'")


def test_missing_periods_named(run_cli, tmp_path):
    frame = _frame().drop(index=[20, 21]).reset_index(drop=True)
    missing = pd.to_datetime(_frame().loc[[20, 21], "date"]).dt.strftime("%Y-%m-%d").tolist()
    spec = _write_case(tmp_path, frame)
    err = _assert_refused(run_cli, tmp_path, spec, "missing 2 weekly period(s)", "row 20")
    for day in missing:
        assert day in err


def test_irregular_frequency(run_cli, tmp_path):
    frame = _frame()
    frame.loc[30, "date"] = str((pd.Timestamp(frame.loc[30, "date"]) + pd.Timedelta(days=3)).date())
    spec = _write_case(tmp_path, frame)
    _assert_refused(run_cli, tmp_path, spec, "irregular frequency", "row 31", "column 'date'")


@pytest.mark.parametrize(
    ("cell", "needle"),
    [
        ("$1,234.50", "currency-formatted amount"),
        ("1,234", "thousands separators"),
        ("12,5", "decimal comma"),
        ("abc", "text 'abc'"),
    ],
)
def test_non_numeric_text(run_cli, tmp_path, cell, needle):
    frame = _frame()
    frame.loc[6, "search_spend"] = cell
    spec = _write_case(tmp_path, frame)
    _assert_refused(run_cli, tmp_path, spec, needle, "row 7", "column 'search_spend'")


@pytest.mark.parametrize(
    ("column", "cell", "needle"),
    [
        ("revenue", "", "an empty cell"),
        ("tv_spend", "NaN", "missing value (NaN)"),
        ("price_index", "inf", "infinite value"),
    ],
)
def test_empty_nan_inf(run_cli, tmp_path, column, cell, needle):
    frame = _frame()
    frame.loc[2, column] = cell
    frame.loc[40, column] = cell
    spec = _write_case(tmp_path, frame)
    _assert_refused(run_cli, tmp_path, spec, needle, "row 3", "3, 41", f"column '{column}'")


def test_negative_spend(run_cli, tmp_path):
    frame = _frame()
    frame.loc[12, "tv_spend"] = -50.0
    spec = _write_case(tmp_path, frame)
    _assert_refused(run_cli, tmp_path, spec, "negative spend -50", "row 13", "column 'tv_spend'")


def test_negative_kpi(run_cli, tmp_path):
    frame = _frame()
    frame.loc[0, "revenue"] = -1.0
    spec = _write_case(tmp_path, frame)
    _assert_refused(run_cli, tmp_path, spec, "KPI -1", "row 1", "column 'revenue'", "KPI >= 0")


def test_zero_kpi_refused_where_model_needs_positive(run_cli, tmp_path):
    frame = _frame()
    frame.loc[5, "revenue"] = 0.0
    spec = _write_case(tmp_path, frame)
    assert run_cli(["validate", spec]).code == 0  # the additive ridge model accepts zero
    res = run_cli(["validate", spec, "--engine", "bayes"])
    assert res.code == 2
    assert "row 6" in res.err
    assert "column 'revenue'" in res.err
    assert "KPI > 0" in res.err


def test_fewer_periods_than_parameters(run_cli, tmp_path):
    frame = _frame().iloc[:12]
    spec = _write_case(tmp_path, frame)
    _assert_refused(run_cli, tmp_path, spec, "12 periods, fewer than the", "column 'date'")


@pytest.mark.parametrize(
    ("variable", "value", "needle"),
    [
        ("MEDIAMIX_MAX_ROWS", "10", "more than 10 data rows"),
        ("MEDIAMIX_MAX_COLUMNS", "3", "more than the limit of 3"),
        ("MEDIAMIX_MAX_BYTES", "1000", "more than the limit of 1,000"),
    ],
)
def test_size_limits(run_cli, tmp_path, monkeypatch, variable, value, needle):
    spec = _write_case(tmp_path)
    monkeypatch.setenv(variable, value)
    _assert_refused(run_cli, tmp_path, spec, needle, "weekly.csv")


def test_every_problem_is_reported(run_cli, tmp_path):
    frame = _frame()
    frame.loc[1, "tv_spend"] = "$10"
    frame.loc[3, "search_spend"] = -5
    frame.loc[7, "revenue"] = ""
    spec = _write_case(tmp_path, frame)
    err = _assert_refused(run_cli, tmp_path, spec, "row 2", "row 4", "row 8")
    assert "3 problem(s)" in err


def test_zero_and_constant_channels_warn_only(run_cli, tmp_path):
    frame = _frame()
    frame["tv_spend"] = 0.0
    frame["search_spend"] = 100.0
    spec = _write_case(tmp_path, frame)
    res = run_cli(["validate", spec])
    assert res.code == 0
    assert "zero spend in every period" in res.err
    assert "constant spend 100" in res.err


def test_bom_and_semicolon_accepted(run_cli, tmp_path):
    frame = _frame()
    spec = _write_case(tmp_path, frame, sep=";")
    data = tmp_path / "weekly.csv"
    data.write_bytes(b"\xef\xbb\xbf" + data.read_bytes())
    res = run_cli(["validate", spec])
    assert res.code == 0, res.err


def test_unknown_spec_key_named_with_line(run_cli, tmp_path):
    spec = _write_case(tmp_path)
    text = spec.read_text().replace("channels:", "chanels_extra: 1\nchannels:")
    spec.write_text(text)
    line = text.splitlines().index("chanels_extra: 1") + 1
    res = run_cli(["validate", spec])
    assert res.code == 2
    assert "unknown key 'chanels_extra'" in res.err
    assert f"row {line}" in res.err


def test_unknown_channel_key_named(run_cli, tmp_path):
    base = synthesize(SynthConfig(seed=11, weeks=60, channels=2)).spec
    base["channels"]["tv"]["spnd"] = "x"
    spec = _write_case(tmp_path, spec=base)
    res = run_cli(["fit", spec, "--out", tmp_path / "o"])
    assert res.code == 2
    assert "unknown key 'spnd' under 'channels.tv'" in res.err
    assert not (tmp_path / "o").exists()


def test_yaml_syntax_error_line(run_cli, tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("data: a.csv\ndate: date\nchannels: {tv: [\n")
    res = run_cli(["validate", spec])
    assert res.code == 2
    assert "YAML syntax error" in res.err
    assert "bad.yaml" in res.err


def test_internal_values_still_numbers():
    # guard: the helper frame really holds numbers where the spec expects them
    frame = _frame()
    assert np.isfinite(pd.to_numeric(frame["tv_spend"])).all()
