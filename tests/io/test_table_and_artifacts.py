"""Reading tables within limits, and model artifacts that load without executing code."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from mediamix.errors import InputError
from mediamix.io.artifacts import load_artifact, save_artifact
from mediamix.io.table import ReadLimits, read_table


def test_read_table_limits_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "weekly.csv"
    path.write_text("date;revenue;tv\n2024-01-01;10;1\n2024-01-08;11;2\n")
    table = read_table(path)
    assert table.delimiter == ";"
    assert table.frame.shape == (2, 3)
    assert table.frame["revenue"].tolist() == ["10", "11"]  # text cells: validation types them
    for limits, words in (
        (ReadLimits(max_bytes=10), "bytes"),
        (ReadLimits(max_rows=1), "rows"),
        (ReadLimits(max_columns=2), "columns"),
    ):
        with pytest.raises(InputError) as err:
            read_table(path, limits)
        (problem,) = err.value.problems
        assert problem.file == str(path)
        assert words in problem.message
    with pytest.raises(InputError, match="not found"):
        read_table(tmp_path / "missing.csv")
    dup = tmp_path / "dup.csv"
    dup.write_text("date,tv,tv\n2024-01-01,1,2\n")
    with pytest.raises(InputError, match="tv"):
        read_table(dup)


def test_artifact_round_trip_and_refusals(tmp_path: Path) -> None:
    folder = save_artifact(tmp_path / "model", {"kind": "mmm"}, {"beta": np.array([1.5, 2.0])})
    meta, arrays = load_artifact(folder)
    assert meta == {"kind": "mmm"}
    np.testing.assert_array_equal(arrays["beta"], [1.5, 2.0])
    with pytest.raises(TypeError, match="object"):
        save_artifact(tmp_path / "bad", {}, {"x": np.array([{"a": 1}], dtype=object)})
    assert not (tmp_path / "bad").exists()

    # an edited file fails its checksum
    (folder / "model.json").write_text(json.dumps({"kind": "mmm", "x": 1}))
    with pytest.raises(InputError, match="checksum"):
        load_artifact(folder)

    # an npz holding a pickled object array never loads, even with a matching manifest
    evil = tmp_path / "evil"
    save_artifact(evil, {"kind": "mmm"}, {"beta": np.zeros(2)})
    buffer = io.BytesIO()
    np.savez(buffer, beta=np.array([object()], dtype=object))
    (evil / "arrays.npz").write_bytes(buffer.getvalue())
    manifest = json.loads((evil / "manifest.json").read_text())
    from mediamix.io.artifacts import sha256_file

    manifest["files"]["arrays.npz"] = sha256_file(evil / "arrays.npz")
    (evil / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises((InputError, ValueError)):
        load_artifact(evil)
