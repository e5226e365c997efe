"""The refresh use case: outputs like a fit plus refresh.json; bad new data writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mediamix.errors import InputError
from mediamix.service.fit import load_model
from mediamix.service.refresh import REFRESH_FILE, refresh

WEEKS, NEW = 104, 13  # as in the refresh_files fixture (tests/conftest.py)


@pytest.fixture
def files(refresh_files: dict[str, Path]) -> dict[str, Path]:
    return refresh_files


def test_refresh_writes_a_fit_folder_and_refresh_json(files, tmp_path):
    out = tmp_path / "refreshed"
    outcome = refresh(files["model"], files["new"], out)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_periods"] == WEEKS + NEW
    assert summary["refresh"]["within_tolerance"] is True
    assert summary["refresh"]["max_movement"] <= 0.05 + 1e-9
    assert len(pd.read_csv(out / "decomposition.csv")) == WEEKS + NEW
    loaded = load_model(out)
    assert loaded.data.n_periods == WEEKS + NEW
    report = json.loads((out / REFRESH_FILE).read_text())
    assert report == outcome.report
    assert report["new_periods"] == NEW
    assert report["previous_periods"] == WEEKS
    for c in report["channels"].values():
        assert {"movement", "roi_previous", "roi", "reasons"} <= set(c)


def test_new_weeks_alone_or_after_the_whole_window_give_the_same_model(files, tmp_path):
    a = refresh(files["model"], files["new"], tmp_path / "a")
    b = refresh(files["model"], files["full"], tmp_path / "b")
    assert a.summary["channels"] == b.summary["channels"]
    assert (tmp_path / "a" / "decomposition.csv").read_text() == (
        tmp_path / "b" / "decomposition.csv"
    ).read_text()


def _edited(files: dict[str, Path], tmp_path: Path, edit) -> Path:
    frame = pd.read_csv(files["full"], dtype=str)
    frame = edit(frame)
    path = tmp_path / "new-data.csv"
    frame.to_csv(path, index=False)
    return path


def _refused(files, data: Path, tmp_path: Path) -> InputError:
    out = tmp_path / "out"
    with pytest.raises(InputError) as err:
        refresh(files["model"], data, out)
    assert not out.exists()
    assert not list(tmp_path.glob(".out*"))
    return err.value


def test_a_disagreeing_overlap_names_file_row_and_column(files, tmp_path):
    def edit(frame):
        frame.loc[49, "tv_spend"] = str(float(frame.loc[49, "tv_spend"]) + 100.0)
        return frame

    data = _edited(files, tmp_path, edit)
    problem = _refused(files, data, tmp_path).problems[0]
    assert (problem.file, problem.row, problem.column) == (str(data), 50, "tv_spend")
    assert "disagrees" in problem.message


def test_missing_column_no_new_week_and_a_gap_are_refused(files, tmp_path):
    data = _edited(files, tmp_path, lambda f: f.drop(columns=["search_spend"]))
    assert _refused(files, data, tmp_path).problems[0].column == "search_spend"
    data = _edited(files, tmp_path, lambda f: f.iloc[:WEEKS])
    assert "no new period" in _refused(files, data, tmp_path).problems[0].message
    # new weeks alone, without the first: the file is regular but leaves a gap
    data = _edited(files, tmp_path, lambda f: f.iloc[WEEKS + 1 :])
    problem = _refused(files, data, tmp_path).problems[0]
    assert "does not follow" in problem.message
    assert (problem.row, problem.column) == (1, "date")
    # the whole window with a week missing: the file's own validation says so
    data = _edited(files, tmp_path, lambda f: f.drop(index=WEEKS))
    assert "missing 1 weekly period" in _refused(files, data, tmp_path).problems[0].message


def test_a_tolerance_outside_0_1_is_refused(files, tmp_path):
    with pytest.raises(InputError) as err:
        refresh(files["model"], files["new"], tmp_path / "out", tolerance=-0.1)
    assert err.value.problems[0].column == "--tolerance"
    assert not (tmp_path / "out").exists()


def test_a_row_before_the_window_is_refused(files, tmp_path):
    def edit(frame):
        before = frame.iloc[[0]].copy()
        first = pd.Timestamp(frame.loc[0, "date"])
        before.loc[:, "date"] = (first - pd.Timedelta(days=7)).strftime("%Y-%m-%d")
        return pd.concat([before, frame], ignore_index=True)

    data = _edited(files, tmp_path, edit)
    problem = _refused(files, data, tmp_path).problems[0]
    assert "before the model's window" in problem.message
    assert (problem.row, problem.column) == (1, "date")


def test_the_refreshed_model_s_lineage_names_the_previous_model_and_the_new_file(files, tmp_path):
    from mediamix.cli.models import lineage_lines
    from mediamix.io.artifacts import load_lineage, sha256_file
    from mediamix.tracking.fingerprint import data_fingerprint, spec_hash

    out = tmp_path / "refreshed"
    refresh(files["model"], files["new"], out)
    lineage = load_lineage(out / "model")
    assert lineage is not None
    manifest = json.loads((out / "model" / "manifest.json").read_text())
    assert manifest["files"]["lineage.json"] == sha256_file(out / "model" / "lineage.json")
    assert lineage["kind"] == "refresh"
    previous = load_model(files["model"])
    assert lineage["previous"]["model"] == str(files["model"])
    assert lineage["previous"]["registry"] is None  # a folder, not a registry reference
    assert lineage["previous"]["artifact_sha256"] == sha256_file(
        files["model"] / "model" / "manifest.json"
    )
    assert lineage["previous"]["fingerprint"] == data_fingerprint(previous.data)
    assert lineage["previous"]["lineage"] is None  # the fixture's model was written without
    assert lineage["data"]["sha256"] == sha256_file(files["new"])
    assert lineage["data"]["path"] == str(files["new"].resolve())
    assert lineage["spec"]["spec_hash"] == spec_hash(previous.spec)
    assert lineage["fingerprint"] == data_fingerprint(load_model(out).data)
    assert lineage["fingerprint"] != lineage["previous"]["fingerprint"]

    # what models show prints
    text = lineage_lines(lineage)
    assert any(f"refresh of {files['model']}" in line for line in text)
    assert any(lineage["data"]["sha256"][:12] in line for line in text)
    assert "  previous model's lineage: not recorded" in text
