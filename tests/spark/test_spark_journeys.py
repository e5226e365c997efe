"""Event logs -> journeys in Spark SQL equal the DuckDB journeys, and bad logs name rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mediamix.attribution import read_event_log
from mediamix.attribution.journeys import Journeys
from mediamix.attribution.spark_events import read_event_log_spark
from mediamix.errors import InputError


def _event_log(n_users: int, seed: int) -> pd.DataFrame:
    """Users with several journeys, equal timestamps, touches beyond the lookback,
    fractional seconds, values on conversions and milestones."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        t = pd.Timestamp("2024-01-01") + pd.Timedelta(seconds=int(rng.integers(0, 86_400 * 30)))
        for _ in range(int(rng.integers(1, 9))):
            # gaps from 0 (a tie: file order decides) to about 40 days (beyond the lookback)
            t += pd.Timedelta(seconds=float(rng.choice([0.0, rng.uniform(0, 40 * 86_400)])))
            converts = int(rng.random() < 0.25)
            rows.append(
                {
                    "user_id": f"u{u:04d}",
                    "timestamp": t.isoformat(sep=" "),
                    "channel": str(rng.choice(["tv", "search", "social", "email", "display"])),
                    "conversion": converts,
                    "conversion_value": round(float(rng.uniform(5, 200)), 2) if converts else None,
                    "milestone": int(rng.random() < 0.1),
                }
            )
    frame = pd.DataFrame(rows)
    # shuffled: the file order is not the time order
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def _assert_same(a: Journeys, b: Journeys) -> None:
    assert a.channels == b.channels
    np.testing.assert_array_equal(a.offsets, b.offsets)
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_array_equal(a.conversions, b.conversions)
    np.testing.assert_array_equal(a.nulls, b.nulls)
    assert (a.value is None) == (b.value is None)
    if a.value is not None and b.value is not None:
        np.testing.assert_allclose(a.value, b.value, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.days_to_conversion, b.days_to_conversion, rtol=1e-12, atol=1e-9)
    assert (a.milestone is None) == (b.milestone is None)
    if a.milestone is not None and b.milestone is not None:
        np.testing.assert_array_equal(a.milestone, b.milestone)


def test_spark_journeys_equal_duckdb_journeys(spark: Any, tmp_path: Path) -> None:
    log = _event_log(300, seed=7)
    path = tmp_path / "events.csv"
    log.to_csv(path, index=False)
    for lookback in (30.0, 3.5):
        duck = read_event_log(path, lookback_days=lookback)
        assert duck.n_journeys > 300  # several journeys per user, some of them null
        assert 0 < duck.conversions.sum() < duck.n_journeys
        _assert_same(duck, read_event_log_spark(spark, path, lookback_days=lookback))


def test_spark_journeys_from_parquet(spark: Any, tmp_path: Path) -> None:
    log = _event_log(60, seed=3).drop(columns=["milestone"])
    log["timestamp"] = pd.to_datetime(log["timestamp"], format="ISO8601")
    # Spark reads microsecond Parquet timestamps (pandas writes nanoseconds by default)
    log.to_parquet(
        tmp_path / "events.parquet", coerce_timestamps="us", allow_truncated_timestamps=True
    )
    duck = read_event_log(tmp_path / "events.parquet", lookback_days=30)
    sp = read_event_log_spark(spark, tmp_path / "events.parquet", lookback_days=30)
    _assert_same(duck, sp)
    assert sp.milestone is None


def test_spark_event_log_errors_name_rows_and_columns(spark: Any, tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(
        "user_id,timestamp,channel,conversion\n"
        "u1,2024-01-01,a,0\n"
        "u1,yesterday,b,2\n"
        ",2024-01-03,,1\n"
    )
    with pytest.raises(InputError) as spark_err:
        read_event_log_spark(spark, f)
    with pytest.raises(InputError) as duck_err:
        read_event_log(f)
    assert [str(p) for p in spark_err.value.problems] == [str(p) for p in duck_err.value.problems]
    where = {(p.row, p.column) for p in spark_err.value.problems}
    assert where == {(2, "timestamp"), (2, "conversion"), (3, "user_id"), (3, "channel")}
    f.write_text("user_id,time,channel,conversion\nu,2024-01-01,a,1\n")
    with pytest.raises(InputError) as missing:
        read_event_log_spark(spark, f)
    assert {p.column for p in missing.value.problems} == {"time", "timestamp"}
