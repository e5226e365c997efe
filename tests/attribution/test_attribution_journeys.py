"""Event logs -> journeys (DuckDB), path parsing, and errors naming rows and columns."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mediamix.attribution import Journeys, read_event_log, read_journeys, read_paths
from mediamix.attribution.journeys import journey_paths_table
from mediamix.errors import InputError


def _log(rows: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id", "timestamp", "channel", "conversion"])


def test_journey_rules_from_contracts() -> None:
    log = _log(
        [
            ("u1", "2024-01-01", "search", 0),  # 50 days before the conversion: dropped
            ("u1", "2024-02-15", "tv", 0),
            ("u1", "2024-02-20", "search", 1),  # ends journey 1
            ("u1", "2024-02-21", "display", 0),  # starts journey 2, never converts: null
            ("u2", "2024-03-01 10:00", "tv", 0),
            ("u2", "2024-03-01 10:00", "email", 1),  # same timestamp: file order decides
            ("u2", "2024-03-02", "tv", 1),  # a conversion right after: one-touch journey
        ]
    )
    j = read_event_log(log, lookback_days=30)
    table = dict(zip(j.paths(), zip(j.conversions, j.nulls, strict=True), strict=True))
    assert table == {
        "tv > search": (1.0, 0.0),
        "display": (0.0, 1.0),
        "tv > email": (1.0, 0.0),
        "tv": (1.0, 0.0),
    }
    assert j.n_journeys == 4
    # days to conversion of the kept touches of u1's converting journey: 5 and 0
    first = j.paths().index("tv > search")
    a, b = j.offsets[first], j.offsets[first + 1]
    np.testing.assert_allclose(j.days_to_conversion[a:b], [5.0, 0.0])


def test_lookback_window_is_a_parameter() -> None:
    log = _log([("u", "2024-01-01", "a", 0), ("u", "2024-01-11", "b", 1)])
    assert read_event_log(log, lookback_days=30).paths() == ["a > b"]
    assert read_event_log(log, lookback_days=5).paths() == ["b"]


def test_conversion_value_of_the_converting_touch(tmp_path: Path) -> None:
    f = tmp_path / "log.csv"
    f.write_text(
        "user_id;timestamp;channel;conversion;conversion_value\n"
        "u;2024-01-01;a;0;\nu;2024-01-02;b;1;12.5\nv;2024-01-02;a;0;\n"
    )
    j = read_journeys(f)
    assert j.value is not None
    assert dict(zip(j.paths(), j.value, strict=True)) == {"a > b": 12.5, "a": 0.0}


def test_parquet_event_log(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    log = _log([("u", "2024-01-01", "a", 0), ("u", "2024-01-02", "b", 1)])
    log["timestamp"] = pd.to_datetime(log["timestamp"])
    log.to_parquet(tmp_path / "log.parquet")
    assert read_journeys(tmp_path / "log.parquet").paths() == ["a > b"]


def test_event_log_errors_name_rows_and_columns(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(
        "user_id,timestamp,channel,conversion\n"
        "u1,2024-01-01,a,0\n"
        "u1,yesterday,b,2\n"
        ",2024-01-03,,1\n"
    )
    with pytest.raises(InputError) as err:
        read_journeys(f)
    where = {(p.row, p.column) for p in err.value.problems}
    assert where == {(2, "timestamp"), (2, "conversion"), (3, "user_id"), (3, "channel")}
    assert "yesterday" in str(err.value)
    assert all(p.file == str(f) for p in err.value.problems)


def test_unknown_and_missing_event_columns(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("user_id,time,channel,conversion\nu,2024-01-01,a,1\n")
    with pytest.raises(InputError) as err:
        read_journeys(f)
    assert {(p.column, p.message.split(";")[0]) for p in err.value.problems} == {
        ("time", "unknown column"),
        ("timestamp", "required column is missing"),
    }


def test_paths_both_delimiters(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("path;total_conversions;total_null\nA > B;2;1\nB;0;3\n")
    (tmp_path / "b.csv").write_text("path,total_conversions,total_null\nA > B,2,1\nB,0,3\n")
    for name in ("a.csv", "b.csv"):
        j = read_paths(tmp_path / name)
        assert j.paths() == ["A > B", "B"]
        np.testing.assert_array_equal(j.conversions, [2, 0])
        np.testing.assert_array_equal(j.nulls, [1, 3])


def test_path_errors_name_rows_and_columns(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("path;total_conversions;total_null\nA > B;1;0\n;1;0\nA >  > B;1;0\nC;-1;x\n")
    with pytest.raises(InputError) as err:
        read_paths(f)
    where = {(p.row, p.column) for p in err.value.problems}
    assert where == {(2, "path"), (3, "path"), (4, "total_conversions"), (4, "total_null")}
    text = str(err.value)
    assert "empty path" in text
    assert "empty step" in text
    assert "negative" in text
    assert "found 'x'" in text


def test_unknown_path_column(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("path;total_conversions;total_nul\nA;1;0\n")
    with pytest.raises(InputError) as err:
        read_paths(f)
    assert [p.column for p in err.value.problems] == ["total_nul"]


def test_layout_detection_error(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="cannot tell the layout"):
        read_journeys(f)


def test_collapse_repeats_and_paths_table() -> None:
    j = Journeys.from_paths(["A > A > B > B > A", "A > B > A"], [1, 0], [0, 2])
    assert j.collapse_repeats().paths() == ["A > B > A", "A > B > A"]
    table = journey_paths_table(j.collapse_repeats())
    assert table.to_dict("list") == {
        "path": ["A > B > A"],
        "total_conversions": [1.0],
        "total_null": [2.0],
    }


def test_import_mediamix_does_not_import_duckdb() -> None:
    code = "import sys, mediamix, mediamix.attribution; print('duckdb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_exported_sql_builds_channelattribution_paths() -> None:
    # The SQL constants are the portable part (also meant for Spark SQL); run them as-is.
    import duckdb

    from mediamix.attribution.journeys import JOURNEY_PATHS_SQL, JOURNEY_TOUCHES_SQL

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE channels AS SELECT * FROM (VALUES ('a', 0), ('b', 1)) t(channel, code)"
    )
    con.execute(
        "CREATE TABLE staged AS SELECT * FROM (VALUES "
        "(1, 'u', 0.0, 0, 0, 0.0, FALSE), (2, 'u', 86400.0, 1, 1, 5.0, FALSE), "
        "(3, 'u', 172800.0, 1, 0, 0.0, FALSE), (4, 'v', 0.0, 0, 0, 0.0, FALSE)) "
        "t(rn, user_id, ts, channel_code, conversion, conversion_value, milestone)"
    )
    con.execute(
        f"CREATE TABLE touches AS {JOURNEY_TOUCHES_SQL.format(lookback_seconds=30 * 86400)}"
    )
    rows = con.execute(JOURNEY_PATHS_SQL).fetchall()
    assert rows == [("a", 0, 0.0, 1), ("a > b", 1, 5.0, 0), ("b", 0, 0.0, 1)]
