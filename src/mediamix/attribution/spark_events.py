"""Event logs into :class:`~.journeys.Journeys` with Spark SQL, for logs one machine's
DuckDB cannot hold.

The rules are those of :mod:`.events` (docs/formats.md, attribution inputs), and so
is the SQL: the row checks (:func:`~.events.event_checks`) and the journey query
(:data:`~.events.JOURNEY_TOUCHES_SQL`) are the same text on both engines. Only the
staging differs: row numbers (the tie-break "file order") and epoch seconds are
taken the Spark way. The touches come back to the driver in journey order, about 25
bytes each, which is what the attribution methods work on.

``pyspark`` is imported inside the functions: ``import mediamix`` stays free of it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mediamix.attribution.events import (
    JOURNEY_TOUCHES_SQL,
    SECONDS_PER_DAY,
    bad_rows_problem,
    event_checks,
    journeys_from_touches,
)
from mediamix.attribution.journeys import EVENT_COLUMNS, EVENT_REQUIRED, Journeys
from mediamix.attribution.layout import MAX_ROWS_REPORTED, column_problems
from mediamix.errors import InputError, Problem

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["read_event_log_spark", "spark_journey_touches"]

logger = logging.getLogger(__name__)

_TOUCH_COLUMNS = (
    "pos",
    "channel_code",
    "conversion",
    "conversion_value",
    "days_to_conversion",
    "milestone",
)


def _raw(spark: SparkSession, source: Path | str | pd.DataFrame | DataFrame) -> DataFrame:
    """The log as all-text columns plus ``rn``, the 1-based row number in file order."""
    from pyspark.sql import DataFrame as SparkFrame
    from pyspark.sql import functions as F  # noqa: N812 -- Spark's own convention
    from pyspark.sql.window import Window

    if isinstance(source, pd.DataFrame):
        from pyspark.sql.types import LongType, StringType, StructField, StructType

        names = [str(c) for c in source.columns]
        # text as DuckDB's CAST(... AS VARCHAR) writes it; missing cells stay null
        local = pd.DataFrame(
            {
                name: [None if pd.isna(v) else str(v) for v in source[column]]
                for name, column in zip(names, source.columns, strict=True)
            },
            dtype=object,
        )
        local.insert(0, "rn", np.arange(1, len(source) + 1, dtype=np.int64))
        schema = StructType(
            [StructField("rn", LongType()), *[StructField(n, StringType()) for n in names]]
        )
        return spark.createDataFrame(local, schema=schema)
    if isinstance(source, SparkFrame):
        frame = source
    else:
        path = str(source)
        if path.lower().endswith((".parquet", ".pq")):
            frame = spark.read.parquet(path)
        else:
            with open(path, encoding="utf-8-sig") as handle:
                header = handle.readline()
            sep = ";" if header.count(";") > header.count(",") else ","
            frame = spark.read.csv(path, header=True, sep=sep, quote='"', inferSchema=False)
    # monotonically_increasing_id follows the scan order (partition, then row), so a
    # row number over it is the position in the file
    ordered = Window.orderBy(F.monotonically_increasing_id())
    return frame.select(
        F.row_number().over(ordered).alias("rn"),
        *[F.col(f"`{c}`").cast("string").alias(c) for c in frame.columns],
    )


def _validate(raw: DataFrame, file: str | None) -> None:
    columns = [c for c in raw.columns if c != "rn"]
    problems = column_problems(columns, EVENT_COLUMNS, EVENT_REQUIRED, file)
    if problems:
        raise InputError(problems)
    from pyspark.sql import functions as F  # noqa: N812 -- Spark's own convention

    checks = [(c, cond.replace('"', "`"), m) for c, cond, m in event_checks(columns)]
    # one pass counts the rows breaking each rule; only broken rules are looked at again
    counts = raw.select(
        *[
            F.sum(F.when(F.expr(cond), 1).otherwise(0)).alias(f"n{i}")
            for i, (_, cond, _) in enumerate(checks)
        ]
    ).first()
    found_problems: list[Problem] = []
    for i, (column, condition, message) in enumerate(checks):
        count = int(counts[f"n{i}"] or 0) if counts is not None else 0
        if count == 0:
            continue
        first = (
            raw.where(condition).orderBy("rn").select("rn", column).limit(MAX_ROWS_REPORTED)
        ).collect()
        found = [(int(r[0]), r[1]) for r in first]
        found_problems.append(bad_rows_problem(column, message, found, count, file))
    if found_problems:
        raise InputError(found_problems)


@contextlib.contextmanager
def _utc(spark: SparkSession) -> Iterator[None]:
    """Read wall-clock timestamps as UTC (no daylight-saving gaps), as DuckDB does."""
    key = "spark.sql.session.timeZone"
    before = spark.conf.get(key)
    spark.conf.set(key, "UTC")
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, before)


def spark_journey_touches(
    spark: SparkSession,
    source: Path | str | pd.DataFrame | DataFrame,
    *,
    lookback_days: float = 30.0,
) -> tuple[DataFrame, tuple[str, ...]]:
    """The touches of the journeys as a Spark DataFrame, and the channel names.

    Columns: ``pos`` (1-based position in the journey), ``channel_code`` (index
    into the channel names, which are sorted), ``conversion``, ``conversion_value``,
    ``days_to_conversion`` (null in null journeys), ``milestone``, ``user_id``,
    ``journey_no``; ordered by user, journey and position. The input is checked
    first (the rules of :func:`~mediamix.attribution.events.read_event_log`).

    Parameters
    ----------
    spark : SparkSession
        The session to run on.
    source : path, pandas DataFrame or Spark DataFrame
        CSV (``,`` or ``;``), Parquet, or a frame with the event-log columns. A Spark
        DataFrame's row order (its scan order) is the tie-break of equal timestamps.
    lookback_days : float
        Lookback window before a conversion, in days.

    Raises
    ------
    InputError
        Missing or unknown columns, or rows that break a rule (rows and column named).
    """
    touches, channels, _ = _touches(spark, source, lookback_days)
    return touches, channels


def _touches(
    spark: SparkSession, source: Path | str | pd.DataFrame | DataFrame, lookback_days: float
) -> tuple[DataFrame, tuple[str, ...], list[str]]:
    """The touches, the channel names and the event-log columns of ``source``."""
    if lookback_days <= 0:
        raise ValueError("lookback_days must be positive")
    file = None if not isinstance(source, str | Path) else str(source)
    raw = _raw(spark, source).cache()
    _validate(raw, file)
    columns = [c for c in raw.columns if c != "rn"]
    channels = tuple(
        str(r[0])
        for r in spark.sql(
            "SELECT DISTINCT TRIM(channel) AS channel FROM {raw} ORDER BY channel", raw=raw
        ).collect()
    )
    value = (
        "COALESCE(TRY_CAST(TRIM(r.conversion_value) AS DOUBLE), 0D)"
        if "conversion_value" in columns
        else "0D"
    )
    milestone = (
        "COALESCE(TRY_CAST(TRIM(r.milestone) AS DOUBLE), 0) = 1"
        if "milestone" in columns
        else "FALSE"
    )
    codes = spark.createDataFrame(
        pd.DataFrame({"channel": list(channels), "code": np.arange(len(channels), dtype=np.int32)})
    )
    # epoch seconds with the fraction, as DuckDB's epoch(); unix_timestamp drops it
    staged = spark.sql(
        "SELECT r.rn, r.user_id, "  # noqa: S608 -- fixed SQL text; the values come as frames
        "unix_micros(CAST(TRIM(r.`timestamp`) AS TIMESTAMP)) / 1e6 AS ts, c.code AS channel_code, "
        "CAST(CAST(TRIM(r.conversion) AS DOUBLE) AS INT) AS conversion, "
        f"{value} AS conversion_value, {milestone} AS milestone "
        "FROM {raw} r JOIN {codes} c ON TRIM(r.channel) = c.channel",
        raw=raw,
        codes=codes,
    )
    sql = JOURNEY_TOUCHES_SQL.format(lookback_seconds=float(lookback_days) * SECONDS_PER_DAY)
    touches = spark.sql(sql.replace("FROM staged s", "FROM {staged} s"), staged=staged)
    return touches, channels, columns


def read_event_log_spark(
    spark: SparkSession,
    source: Path | str | pd.DataFrame | DataFrame,
    *,
    lookback_days: float = 30.0,
) -> Journeys:
    """Turn an event log into :class:`Journeys` with Spark SQL.

    Gives the same journeys as :func:`~mediamix.attribution.events.read_event_log`
    (DuckDB) on the same log: same channel codes, order, conversions, values and
    days to conversion.

    Parameters
    ----------
    spark : SparkSession
        The session to run on (a local one: ``mediamix.warehouse.spark.local_session``).
    source : path, pandas DataFrame or Spark DataFrame
        The event log (see :func:`spark_journey_touches`).
    lookback_days : float
        Lookback window before a conversion, in days.

    Raises
    ------
    InputError
        The log breaks a rule; each problem names its rows and column.
    """
    file = None if not isinstance(source, str | Path) else str(source)
    with _utc(spark):
        touches, channels, columns = _touches(spark, source, lookback_days)
        arrow: Any = touches.select(*_TOUCH_COLUMNS).toArrow()
    cols = {name: arrow.column(name).to_numpy(zero_copy_only=False) for name in _TOUCH_COLUMNS}
    # nulls (touches of null journeys) become NaN, as DuckDB's masked arrays do
    cols["days_to_conversion"] = (
        arrow.column("days_to_conversion").to_pandas().to_numpy(dtype=np.float64, na_value=np.nan)
    )
    return journeys_from_touches(
        cols, channels, "conversion_value" in columns, "milestone" in columns, file
    )
