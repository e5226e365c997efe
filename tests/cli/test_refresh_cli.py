"""``mediamix refresh``: a table per channel on success; bad new data exits 2 and writes nothing."""

from __future__ import annotations

import json

import pandas as pd


def test_refresh_prints_a_table_and_writes_refresh_json(run_cli, refresh_files, tmp_path):
    out = tmp_path / "refreshed"
    done = run_cli(
        [
            "refresh",
            "--model",
            refresh_files["model"],
            "--data",
            refresh_files["new"],
            "--out",
            out,
            "--no-track",
        ]
    )
    assert done.code == 0, done.err
    assert "13 new periods" in done.out
    for name in ("tv", "search"):
        assert name in done.out
    report = json.loads((out / "refresh.json").read_text())
    assert report["within_tolerance"] is True
    assert (out / "model" / "manifest.json").is_file()


def test_a_disagreeing_row_exits_2_naming_file_row_and_column(run_cli, refresh_files, tmp_path):
    frame = pd.read_csv(refresh_files["full"], dtype=str)
    frame.loc[9, "revenue"] = "1.0"
    data = tmp_path / "edited.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "out"
    done = run_cli(["refresh", "--model", refresh_files["model"], "--data", data, "--out", out])
    assert done.code == 2
    assert str(data) in done.err
    assert "row 10" in done.err
    assert "revenue" in done.err
    assert not out.exists()


def test_no_new_week_exits_2(run_cli, refresh_files, tmp_path):
    frame = pd.read_csv(refresh_files["full"], dtype=str).iloc[:50]
    data = tmp_path / "old.csv"
    frame.to_csv(data, index=False)
    done = run_cli(
        ["refresh", "--model", refresh_files["model"], "--data", data, "--out", tmp_path / "out"]
    )
    assert done.code == 2
    assert "no new period" in done.err
    assert not (tmp_path / "out").exists()
