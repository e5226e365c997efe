"""Event logs into :class:`~.journeys.Journeys`, with DuckDB SQL (out of core).

The rules (docs/formats.md, attribution inputs): a user's touches are ordered by
``timestamp`` (ties by file order); ``conversion = 1`` marks the touch after which
the user converted, so the journey ends with it and the user's later touches start
a new journey; touches more than ``lookback_days`` before the conversion are
dropped; journeys without a conversion are null journeys.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mediamix.attribution.journeys import EVENT_COLUMNS, EVENT_REQUIRED, Journeys
from mediamix.attribution.layout import (
    MAX_ROWS_REPORTED,
    column_problems,
    read_header,
    rows_problem,
)
from mediamix.errors import InputError, Problem

__all__ = [
    "JOURNEY_PATHS_SQL",
    "JOURNEY_TOUCHES_SQL",
    "SECONDS_PER_DAY",
    "bad_rows_problem",
    "check_event_log",
    "event_checks",
    "journeys_from_touches",
    "read_event_log",
    "read_event_table",
]

logger = logging.getLogger(__name__)

SECONDS_PER_DAY = 86_400.0

#: Turns staged touches into journeys. Standard SQL with window functions; the same
#: text runs on Spark SQL. Input ``staged(rn, user_id, ts, channel_code, conversion,
#: conversion_value, milestone)`` with ``ts`` in epoch seconds (the one dialect-specific
#: step, done while staging: DuckDB ``epoch(...)``, Spark ``unix_timestamp(...)``).
#: ``{lookback_seconds}`` is substituted as a number.
JOURNEY_TOUCHES_SQL = """
WITH numbered AS (
    SELECT s.*,
           COALESCE(SUM(conversion) OVER (
               PARTITION BY user_id ORDER BY ts, rn
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS journey_no
    FROM staged s
),
ended AS (
    SELECT n.*,
           MAX(CASE WHEN conversion = 1 THEN ts END)
               OVER (PARTITION BY user_id, journey_no) AS conversion_ts
    FROM numbered n
),
kept AS (
    SELECT * FROM ended
    WHERE conversion_ts IS NULL OR conversion_ts - ts <= {lookback_seconds}
)
SELECT ROW_NUMBER() OVER (PARTITION BY user_id, journey_no ORDER BY ts, rn) AS pos,
       channel_code,
       conversion,
       conversion_value,
       (conversion_ts - ts) / 86400.0 AS days_to_conversion,
       milestone,
       user_id,
       journey_no
FROM kept
ORDER BY user_id, journey_no, pos
"""

#: Aggregated paths from the same journeys, in ChannelAttribution's layout, for export
#: or inspection. ``string_agg(... ORDER BY ...)`` is DuckDB/PostgreSQL; on Spark use
#: ``array_join(transform(array_sort(collect_list(struct(pos, channel))), x -> x.channel), ' > ')``.
JOURNEY_PATHS_SQL = """
SELECT path,
       SUM(converted) AS total_conversions,
       SUM(value) AS total_conversion_value,
       SUM(1 - converted) AS total_null
FROM (
    SELECT user_id, journey_no,
           string_agg(c.channel, ' > ' ORDER BY pos) AS path,
           MAX(conversion) AS converted,
           SUM(CASE WHEN conversion = 1 THEN conversion_value ELSE 0 END) AS value
    FROM touches t JOIN channels c ON t.channel_code = c.code
    GROUP BY user_id, journey_no
) j
GROUP BY path
ORDER BY path
"""


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Long (about 50 lines): one SQL check per column rule, in the order the problems are
# reported; each check is three lines of the same shape.
def event_checks(columns: Sequence[str]) -> list[tuple[str, str, str]]:
    """The row rules of an event log as ``(column, SQL condition of a bad row, message)``.

    The conditions are standard SQL on the all-text columns (``TRY_CAST``, ``TRIM``,
    ``POSITION``) that DuckDB and Spark SQL both run; identifiers are double-quoted
    (Spark reads them with backticks instead).
    """
    checks: list[tuple[str, str, str]] = [
        ("user_id", "user_id IS NULL OR TRIM(user_id) = ''", "empty user_id"),
        (
            "timestamp",
            '"timestamp" IS NULL OR TRY_CAST(TRIM("timestamp") AS TIMESTAMP) IS NULL',
            "cannot parse timestamp '{value}' (expected ISO 8601, e.g. 2024-01-31 13:45:00)",
        ),
        ("channel", "channel IS NULL OR TRIM(channel) = ''", "empty channel"),
        (
            "channel",
            "POSITION('>' IN channel) > 0",
            "channel name '{value}' contains '>', the path step separator",
        ),
        (
            "conversion",
            "conversion IS NULL OR TRY_CAST(TRIM(conversion) AS DOUBLE) IS NULL "
            "OR TRY_CAST(TRIM(conversion) AS DOUBLE) NOT IN (0, 1)",
            "conversion must be 0 or 1, found '{value}'",
        ),
    ]
    if "conversion_value" in columns:
        checks.append(
            (
                "conversion_value",
                "TRIM(COALESCE(conversion_value, '')) <> '' AND "
                "TRY_CAST(TRIM(conversion_value) AS DOUBLE) IS NULL",
                "expected a number, found '{value}'",
            )
        )
        checks.append(
            (
                "conversion_value",
                "TRY_CAST(TRIM(conversion_value) AS DOUBLE) < 0",
                "conversion value must not be negative, found '{value}'",
            )
        )
    if "milestone" in columns:
        checks.append(
            (
                "milestone",
                "TRIM(COALESCE(milestone, '')) <> '' AND "
                "COALESCE(TRY_CAST(TRIM(milestone) AS DOUBLE) NOT IN (0, 1), TRUE)",
                "milestone must be 0 or 1, found '{value}'",
            )
        )
    return checks


def bad_rows_problem(
    column: str, message: str, found: Sequence[tuple[Any, Any]], count: int, file: str | None
) -> Problem:
    """The problem for a broken rule: its first rows ``found`` (row number, value) of ``count``."""
    rows = np.array([r[0] for r in found])
    values = ["" if r[1] is None else r[1] for r in found]
    p = rows_problem(rows, values, message, column, file)
    if count > 1:
        p = Problem(
            message.format(value=values[0]) + f" ({count} rows in all)",
            file=file,
            row=p.row,
            column=column,
            rows=p.rows,
        )
    return p


def _validate_events(con: Any, columns: Sequence[str], file: str | None) -> None:
    """Row-level checks on the all-VARCHAR ``raw`` table; raises :class:`InputError`."""
    problems: list[Problem] = []
    for column, condition, message in event_checks(columns):
        quoted = f'"{column}"'
        found = con.execute(
            f"SELECT rn, {quoted} FROM raw WHERE {condition} ORDER BY rn LIMIT {MAX_ROWS_REPORTED}"  # noqa: S608 -- column and condition are module constants
        ).fetchall()
        if not found:
            continue
        count = con.execute(f"SELECT COUNT(*) FROM raw WHERE {condition}").fetchone()[0]  # noqa: S608 -- condition is a module constant
        problems.append(bad_rows_problem(column, message, found, int(count), file))
    if problems:
        raise InputError(problems)


def _load_raw(con: Any, source: Path | pd.DataFrame, file: str | None) -> list[str]:
    """Create the all-VARCHAR table ``raw(rn, <columns>)``; return the column names."""
    if isinstance(source, pd.DataFrame):
        con.register("source_df", source)
        relation = "source_df"
    elif source.suffix.lower() in (".parquet", ".pq"):
        relation = f"read_parquet({_sql_string(str(source))})"
    else:
        _, sep = read_header(source)
        relation = (
            f"read_csv({_sql_string(str(source))}, all_varchar = true, header = true, "
            f"delim = {_sql_string(sep)}, quote = '\"')"
        )
    names = [str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]  # noqa: S608 -- path and delimiter are escaped by _sql_string
    problems = column_problems(names, EVENT_COLUMNS, EVENT_REQUIRED, file)
    if problems:
        raise InputError(problems)
    cast = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in names)
    # Row numbers follow the scan order (DuckDB preserves insertion order by default).
    con.execute(
        f"CREATE TEMP TABLE raw AS SELECT ROW_NUMBER() OVER () AS rn, {cast} FROM {relation}"  # noqa: S608 -- header names were checked against EVENT_COLUMNS
    )
    return names


def check_event_log(frame: pd.DataFrame, file: str | None = None) -> None:
    """Check an event log's columns and values as :func:`read_event_log` does, without
    building journeys; problems name ``file``.

    Raises
    ------
    InputError
        The same problems :func:`read_event_log` finds, each with rows and column.

    Examples
    --------
    >>> check_event_log(pd.DataFrame({"user_id": ["u1"], "timestamp": ["2024-01-01"],
    ...                               "channel": ["tv"], "conversion": [1]}))
    """
    import duckdb  # lazy: `import mediamix` must not import duckdb

    con = duckdb.connect(":memory:")
    try:
        _validate_events(con, _load_raw(con, frame, file), file)
    finally:
        con.close()


def read_event_log(
    source: Path | str | pd.DataFrame,
    *,
    lookback_days: float = 30.0,
    memory_limit: str | None = "1GB",
    temp_directory: Path | str | None = None,
    threads: int | None = None,
) -> Journeys:
    """Turn an event log (CSV, Parquet or DataFrame) into :class:`Journeys` with DuckDB.

    The rules (docs/formats.md) are applied by :data:`JOURNEY_TOUCHES_SQL`: touches are
    ordered per user by timestamp (ties by file order); a touch with
    ``conversion = 1`` ends its journey; touches with
    ``t_conversion - t > lookback_days`` days are dropped; journeys with no
    conversion are null journeys. Each journey is one row with
    ``conversions = 1, nulls = 0`` (converted) or ``0, 1`` (null); its value is the
    ``conversion_value`` of the converting touch.

    DuckDB runs the sort and window functions and spills to ``temp_directory`` when
    ``memory_limit`` is reached, so the log need not fit in memory; the touches that
    come back take about 25 bytes each.

    Parameters
    ----------
    source : path or DataFrame
        CSV (``,`` or ``;``), Parquet, or a DataFrame with the event-log columns.
    lookback_days : float
        Lookback window before a conversion, in days.
    memory_limit : str, optional
        DuckDB memory limit (e.g. ``"1GB"``); ``None`` keeps DuckDB's default.
    temp_directory : path, optional
        Where DuckDB spills; a fresh temporary directory by default.
    threads : int, optional
        DuckDB threads; DuckDB's default (all cores) when ``None``.

    Raises
    ------
    InputError
        Unknown or missing columns, empty ids or channels, unparseable timestamps,
        conversion flags other than 0/1, bad values: each names its rows and column.

    Examples
    --------
    >>> log = pd.DataFrame({
    ...     "user_id": ["u1", "u1", "u1", "u2"],
    ...     "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-01"],
    ...     "channel": ["search", "tv", "search", "tv"],
    ...     "conversion": [0, 1, 0, 0]})
    >>> j = read_event_log(log)
    >>> j.paths(), j.conversions.tolist(), j.nulls.tolist()
    (['search > tv', 'search', 'tv'], [1.0, 0.0, 0.0], [0.0, 1.0, 1.0])
    """
    import duckdb  # lazy: `import mediamix` must not import duckdb

    if lookback_days <= 0:
        raise ValueError("lookback_days must be positive")
    file = None if isinstance(source, pd.DataFrame) else str(source)
    src: Path | pd.DataFrame = source if isinstance(source, pd.DataFrame) else Path(source)
    with tempfile.TemporaryDirectory(prefix="mediamix-duckdb-") as tmp:
        con = duckdb.connect(":memory:")
        try:
            con.execute(f"SET temp_directory = {_sql_string(str(temp_directory or tmp))}")
            if memory_limit:
                con.execute(f"SET memory_limit = {_sql_string(memory_limit)}")
            if threads:
                con.execute(f"SET threads = {int(threads)}")
            con.execute("SET preserve_insertion_order = true")
            columns = _load_raw(con, src, file)
            _validate_events(con, columns, file)
            channels = _stage(con, columns)
            sql = JOURNEY_TOUCHES_SQL.format(
                lookback_seconds=float(lookback_days) * SECONDS_PER_DAY
            )
            cols = con.execute(
                "SELECT pos, channel_code, conversion, conversion_value, days_to_conversion, "  # noqa: S608 -- the SQL is a module constant formatted with a float
                f"milestone FROM ({sql}) t"
            ).fetchnumpy()
        finally:
            con.close()
    return journeys_from_touches(
        cols, channels, "conversion_value" in columns, "milestone" in columns, file
    )


def read_event_table(
    con: Any, table: str, *, lookback_days: float = 30.0, source: str | None = None
) -> Journeys:
    """Build :class:`Journeys` from a typed event table inside a DuckDB database.

    The warehouse keeps event logs as rows (``user_id``, ``event_time`` timestamp,
    ``channel``, ``conversion`` integer, ``conversion_value`` double,
    ``milestone`` text), already checked on ingest; this runs the same journey rules
    as :func:`read_event_log` (:data:`JOURNEY_TOUCHES_SQL`) on them where they are, so
    no copy of the user-level rows leaves the database. Ties in time are broken by
    the order the rows were loaded in, as a file's row order breaks them.

    Only temporary tables are created, so a read-only connection is enough. The
    journeys are not stored: nothing derived per user outlives the call.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        An open connection whose default catalog holds ``table``.
    table : str
        The event table's name (a trusted name from the caller, not user input).
    lookback_days : float
        Lookback window before a conversion, in days.
    source : str, optional
        How problems name the table (default: the table's name).

    Raises
    ------
    InputError
        The table holds no events.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute(
    ...     "create table ev as select * from (values "
    ...     "('u1', timestamp '2024-01-01', 'search', 0, null, null), "
    ...     "('u1', timestamp '2024-01-02', 'tv', 1, 12.5, null), "
    ...     "('u2', timestamp '2024-01-01', 'tv', 0, null, null)) "
    ...     "t(user_id, event_time, channel, conversion, conversion_value, milestone)")
    >>> j = read_event_table(con, "ev")
    >>> j.paths(), j.conversions.tolist(), j.value.tolist()
    (['search > tv', 'tv'], [1.0, 0.0], [12.5, 0.0])
    """
    if lookback_days <= 0:
        raise ValueError("lookback_days must be positive")
    name = source or table
    # a column counts as present when any row carries a value for it: loads without
    # a value or milestone column leave it empty
    has_value, has_milestone = con.execute(
        "SELECT COUNT(*) FILTER (WHERE conversion_value IS NOT NULL "  # noqa: S608 -- the table name comes from the caller's code, not from input
        "AND NOT isnan(conversion_value)) > 0, "
        "COUNT(*) FILTER (WHERE milestone IS NOT NULL) > 0 "
        f"FROM {table}"
    ).fetchone()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE raw AS SELECT rowid + 1 AS rn, user_id, "  # noqa: S608 -- the table name comes from the caller's code, not from input
        'CAST(event_time AS VARCHAR) AS "timestamp", channel, '
        "CAST(conversion AS VARCHAR) AS conversion, "
        "CASE WHEN isnan(conversion_value) THEN NULL "
        "ELSE CAST(conversion_value AS VARCHAR) END AS conversion_value, "
        f"milestone FROM {table}"
    )
    columns = [*EVENT_REQUIRED, "conversion_value", "milestone"]
    try:
        channels = _stage(con, columns)
        sql = JOURNEY_TOUCHES_SQL.format(lookback_seconds=float(lookback_days) * SECONDS_PER_DAY)
        cols = con.execute(
            "SELECT pos, channel_code, conversion, conversion_value, days_to_conversion, "  # noqa: S608 -- the SQL is a module constant formatted with a float
            f"milestone FROM ({sql}) t"
        ).fetchnumpy()
    finally:
        con.execute("DROP TABLE IF EXISTS temp.staged")
        con.execute("DROP TABLE IF EXISTS temp.channels")
        con.execute("DROP TABLE IF EXISTS temp.raw")
    return journeys_from_touches(cols, channels, bool(has_value), bool(has_milestone), name)


def _stage(con: Any, columns: Sequence[str]) -> tuple[str, ...]:
    """Code the channels and stage the typed touches (table ``staged``); the channel names."""
    value_expr = (
        "COALESCE(TRY_CAST(TRIM(r.conversion_value) AS DOUBLE), 0)"
        if "conversion_value" in columns
        else "0.0"
    )
    milestone_expr = (
        "COALESCE(TRY_CAST(TRIM(r.milestone) AS DOUBLE), 0) = 1"
        if "milestone" in columns
        else "FALSE"
    )
    con.execute(
        "CREATE TEMP TABLE channels AS SELECT channel, "
        "CAST(ROW_NUMBER() OVER (ORDER BY channel) - 1 AS INTEGER) AS code "
        "FROM (SELECT DISTINCT TRIM(channel) AS channel FROM raw) d"
    )
    con.execute(
        "CREATE TEMP TABLE staged AS SELECT r.rn, r.user_id, "  # noqa: S608 -- fixed SQL text, no input
        'epoch(CAST(TRIM(r."timestamp") AS TIMESTAMP)) AS ts, c.code AS channel_code, '
        "CAST(CAST(TRIM(r.conversion) AS DOUBLE) AS INTEGER) AS conversion, "
        f"{value_expr} AS conversion_value, {milestone_expr} AS milestone "
        "FROM raw r JOIN channels c ON TRIM(r.channel) = c.channel"
    )
    con.execute("DROP TABLE raw")
    return tuple(
        str(r[0]) for r in con.execute("SELECT channel FROM channels ORDER BY code").fetchall()
    )


def journeys_from_touches(
    cols: dict[str, Any],
    channels: tuple[str, ...],
    has_value: bool,
    has_milestone: bool,
    file: str | None,
) -> Journeys:
    """The CSR store from the touches the SQL returned, in journey order."""
    pos = np.asarray(cols["pos"])
    if len(pos) == 0:
        raise InputError.single("the event log has no data rows", file=file)
    starts = np.flatnonzero(pos == 1)
    offsets = np.append(starts, len(pos)).astype(np.int64)
    last = offsets[1:] - 1
    conversion = np.asarray(cols["conversion"], dtype=np.float64)
    converted = conversion[last]
    value = np.asarray(cols["conversion_value"], dtype=np.float64)[last] * converted
    days_arr = np.ma.filled(np.ma.asarray(cols["days_to_conversion"], dtype=np.float64), np.nan)
    milestone = np.ma.filled(np.ma.asarray(cols["milestone"]), False).astype(bool)
    logger.info(
        "event log: %d touches, %d journeys, %d conversions",
        len(pos),
        len(starts),
        int(converted.sum()),
    )
    return Journeys(
        channels=channels,
        codes=np.asarray(cols["channel_code"], dtype=np.int32),
        offsets=offsets,
        conversions=converted,
        nulls=1.0 - converted,
        value=value if has_value else None,
        days_to_conversion=days_arr,
        milestone=milestone if has_milestone else None,
    )
