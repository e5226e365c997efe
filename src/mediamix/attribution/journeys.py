"""Customer journeys: reading aggregated paths and event logs, validating them.

Two input layouts are accepted (CONTRACTS.md, ``mediamix attribute``):

* **aggregated paths** (ChannelAttribution's layout): columns ``path``,
  ``total_conversions``, optional ``total_conversion_value``, optional
  ``total_null``; steps separated by ``>``; delimiter ``;`` or ``,``.
* **event logs**: ``user_id``, ``timestamp``, ``channel``, ``conversion`` (0/1),
  optional ``conversion_value`` and ``milestone`` (0/1, for W-shaped attribution).
  They are turned into journeys by DuckDB SQL (window functions, out of core):

  - a user's touches are ordered by ``timestamp`` (ties by file order);
  - ``conversion = 1`` marks the touch after which the user converted: the journey
    ends with it, and the user's later touches start a new journey;
  - touches more than ``lookback_days`` before the conversion are dropped;
  - journeys without a conversion are null journeys (all their touches are kept).

Whatever the layout, the result is a :class:`Journeys` object: a compressed
sparse-row (CSR) store of touches, one row per journey (or per aggregated path),
with the journey's conversions, null count and conversion value. All methods
work on it with vectorised numpy, so their cost is linear in the number of touches.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mediamix.errors import InputError, Problem

logger = logging.getLogger(__name__)

PATH_COLUMNS = ("path", "total_conversions", "total_conversion_value", "total_null")
PATH_REQUIRED = ("path", "total_conversions")
EVENT_COLUMNS = ("user_id", "timestamp", "channel", "conversion", "conversion_value", "milestone")
EVENT_REQUIRED = ("user_id", "timestamp", "channel", "conversion")
STEP_SEPARATOR = ">"
SECONDS_PER_DAY = 86_400.0
#: At most this many rows are listed per problem (the count says how many there were).
MAX_ROWS_REPORTED = 20


@dataclass(frozen=True, eq=False)
class Journeys:
    """Journeys (or aggregated paths) stored as compressed sparse rows of touches.

    Journey ``j`` has touches ``codes[offsets[j]:offsets[j + 1]]`` (indices into
    ``channels``), in time order, and stands for ``conversions[j]`` converting and
    ``nulls[j]`` non-converting journeys (1 and 0 for a single converting journey of
    an event log). Validated once at the boundary; trusted everywhere inside.

    Parameters
    ----------
    channels : tuple of str
        Channel names, sorted; ``codes`` index into it.
    codes : ndarray of int32, shape (n_touches,)
        Channel code of each touch.
    offsets : ndarray of int64, shape (n_journeys + 1,)
        Start of each journey in ``codes``; every journey has at least one touch.
    conversions, nulls : ndarray of float64, shape (n_journeys,)
        Converting and non-converting journeys each row stands for.
    value : ndarray of float64, shape (n_journeys,), optional
        Total conversion value of the row (``None`` when the input had none).
    days_to_conversion : ndarray of float64, shape (n_touches,), optional
        Days from each touch to its journey's conversion (event logs only; NaN in
        null journeys). Needed by time-decay attribution.
    milestone : ndarray of bool, shape (n_touches,), optional
        Milestone flags (event logs with a ``milestone`` column), for W-shaped.

    Examples
    --------
    >>> j = Journeys.from_paths(["A > B", "B"], conversions=[1, 0], nulls=[0, 2])
    >>> j.channels, j.n_journeys, j.total_conversions
    (('A', 'B'), 2, 1.0)
    >>> j.paths()
    ['A > B', 'B']
    """

    channels: tuple[str, ...]
    codes: np.ndarray
    offsets: np.ndarray
    conversions: np.ndarray
    nulls: np.ndarray
    value: np.ndarray | None = None
    days_to_conversion: np.ndarray | None = None
    milestone: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.offsets) - 1
        if n < 0 or self.offsets[0] != 0 or self.offsets[-1] != len(self.codes):
            raise ValueError("offsets must start at 0 and end at len(codes)")
        if n and np.any(np.diff(self.offsets) < 1):
            raise ValueError("every journey needs at least one touch")
        for name in ("conversions", "nulls"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} must have one entry per journey")
        if self.value is not None and len(self.value) != n:
            raise ValueError("value must have one entry per journey")

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_paths(
        cls,
        paths: Sequence[str] | Sequence[Sequence[str]],
        conversions: Sequence[float] | np.ndarray,
        nulls: Sequence[float] | np.ndarray | None = None,
        value: Sequence[float] | np.ndarray | None = None,
        *,
        separator: str = STEP_SEPARATOR,
    ) -> Journeys:
        """Build journeys from path strings (``"A > B"``) or lists of channels.

        Steps are stripped of surrounding spaces. Raises ``ValueError`` on an empty
        path or step (readers report those as :class:`InputError` with the row).
        """
        steps: list[list[str]] = []
        for p in paths:
            parts = [s.strip() for s in p.split(separator)] if isinstance(p, str) else list(p)
            if not parts or any(not s for s in parts):
                raise ValueError(f"empty path or empty step in {p!r}")
            steps.append(parts)
        channels = tuple(sorted({s for parts in steps for s in parts}))
        index = {c: i for i, c in enumerate(channels)}
        lengths = np.fromiter((len(p) for p in steps), dtype=np.int64, count=len(steps))
        offsets = np.zeros(len(steps) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        codes = np.fromiter(
            (index[s] for parts in steps for s in parts), dtype=np.int32, count=int(offsets[-1])
        )
        conv = np.asarray(conversions, dtype=np.float64)
        nul = np.zeros(len(steps)) if nulls is None else np.asarray(nulls, dtype=np.float64)
        val = None if value is None else np.asarray(value, dtype=np.float64)
        return cls(channels, codes, offsets, conv, nul, val)

    # -- views --------------------------------------------------------------------------
    @property
    def n_journeys(self) -> int:
        """Number of rows (journeys or aggregated paths)."""
        return len(self.offsets) - 1

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return len(self.channels)

    @property
    def lengths(self) -> np.ndarray:
        """Touches per journey, shape (n_journeys,)."""
        return np.diff(self.offsets)

    @property
    def journey_of_touch(self) -> np.ndarray:
        """Journey index of every touch, shape (n_touches,)."""
        return np.repeat(np.arange(self.n_journeys), self.lengths)

    @property
    def total_conversions(self) -> float:
        """Sum of conversions."""
        return float(self.conversions.sum())

    @property
    def total_value(self) -> float | None:
        """Sum of conversion value (``None`` without a value column)."""
        return None if self.value is None else float(self.value.sum())

    def paths(self, separator: str = " > ") -> list[str]:
        """Path strings, one per journey (for display and tests; not vectorised)."""
        names = np.asarray(self.channels, dtype=object)[self.codes]
        return [
            separator.join(names[a:b])
            for a, b in zip(self.offsets[:-1], self.offsets[1:], strict=True)
        ]

    def collapse_repeats(self) -> Journeys:
        """Merge consecutive repeated channels (``A > A > B`` becomes ``A > B``).

        This is ChannelAttribution's convention for Markov models. Per-touch
        arrays keep the entry of the first touch of each run.

        Examples
        --------
        >>> Journeys.from_paths(["A > A > B > A"], [1]).collapse_repeats().paths()
        ['A > B > A']
        """
        keep = np.ones(len(self.codes), dtype=bool)
        keep[1:] = self.codes[1:] != self.codes[:-1]
        keep[self.offsets[:-1]] = True  # a journey's first touch always stays
        if keep.all():
            return self
        counts = np.add.reduceat(keep.astype(np.int64), self.offsets[:-1]) if len(keep) else keep
        offsets = np.zeros_like(self.offsets)
        np.cumsum(counts, out=offsets[1:])
        return Journeys(
            self.channels,
            self.codes[keep],
            offsets,
            self.conversions,
            self.nulls,
            self.value,
            None if self.days_to_conversion is None else self.days_to_conversion[keep],
            None if self.milestone is None else self.milestone[keep],
        )

    def channel_sets(self) -> np.ndarray:
        """Bitmask (int64) of the distinct channels of each journey; needs <= 62 channels."""
        if self.n_channels > 62:
            raise ValueError("channel bitmasks need at most 62 channels")
        bits = np.left_shift(np.int64(1), self.codes.astype(np.int64))
        return np.bitwise_or.reduceat(bits, self.offsets[:-1]) if len(bits) else bits


# ----------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------
def detect_delimiter(header_line: str) -> str:
    """The delimiter of a header line: ``;`` if present, else ``,``.

    Examples
    --------
    >>> detect_delimiter("path;total_conversions"), detect_delimiter("path,total_conversions")
    (';', ',')
    """
    return ";" if ";" in header_line else ","


def _read_header(file: Path) -> tuple[list[str], str]:
    try:
        with open(file, encoding="utf-8-sig") as fh:
            first = fh.readline().rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise InputError.single(f"not a UTF-8 text file ({exc})", file=str(file)) from exc
    if not first.strip():
        raise InputError.single("the file is empty (no header line)", file=str(file), row=None)
    sep = detect_delimiter(first)
    return [c.strip().strip('"') for c in first.split(sep)], sep


def detect_input_kind(columns: Sequence[str], *, file: str | None = None) -> str:
    """``"paths"`` or ``"events"`` from the column names, else :class:`InputError`.

    Examples
    --------
    >>> detect_input_kind(["path", "total_conversions"])
    'paths'
    >>> detect_input_kind(["user_id", "timestamp", "channel", "conversion"])
    'events'
    """
    cols = set(columns)
    if "path" in cols:
        return "paths"
    if "user_id" in cols or "channel" in cols:
        return "events"
    raise InputError.single(
        f"cannot tell the layout from columns {sorted(cols)}: expected aggregated paths "
        f"({', '.join(PATH_COLUMNS)}) or an event log ({', '.join(EVENT_COLUMNS)})",
        file=file,
    )


def _column_problems(
    columns: Sequence[str], allowed: Sequence[str], required: Sequence[str], file: str | None
) -> list[Problem]:
    problems = [
        Problem(f"unknown column; expected some of {', '.join(allowed)}", file=file, column=c)
        for c in columns
        if c not in allowed
    ]
    problems += [
        Problem("required column is missing", file=file, column=c)
        for c in required
        if c not in columns
    ]
    seen: set[str] = set()
    for c in columns:
        if c in seen:
            problems.append(Problem("column appears twice", file=file, column=c))
        seen.add(c)
    return problems


def _rows_problem(
    rows: np.ndarray, values: Sequence[Any], message: str, column: str, file: str | None
) -> Problem:
    """One problem for a set of bad rows (1-based), naming the first and listing more."""
    first = int(rows[0])
    extra = tuple(int(r) for r in rows[1:MAX_ROWS_REPORTED])
    more = f" ({len(rows)} rows in all)" if len(rows) > 1 else ""
    return Problem(
        message.format(value=values[0]) + more, file=file, row=first, column=column, rows=extra
    )


def parse_paths_frame(df: pd.DataFrame, *, file: str | None = None) -> Journeys:
    """Validate an aggregated-paths table and turn it into :class:`Journeys`.

    Every problem is collected (unknown or missing columns, empty paths or steps,
    unparseable or negative counts, unparseable values) and raised together as one
    :class:`InputError` naming rows (1-based data rows) and columns.

    Examples
    --------
    >>> df = pd.DataFrame({"path": ["A > B", "C"], "total_conversions": ["1", "2"]})
    >>> parse_paths_frame(df).total_conversions
    3.0
    >>> parse_paths_frame(pd.DataFrame({"path": [""], "total_conversions": ["1"]}))
    Traceback (most recent call last):
    ...
    mediamix.errors.InputError: row 1, column 'path': empty path
    """
    problems = _column_problems(list(df.columns), PATH_COLUMNS, PATH_REQUIRED, file)
    if problems:
        raise InputError(problems)
    if len(df) == 0:
        raise InputError.single("no data rows", file=file)
    rows = np.arange(1, len(df) + 1)
    numbers: dict[str, np.ndarray] = {}
    for col in ("total_conversions", "total_null", "total_conversion_value"):
        if col not in df.columns:
            continue
        raw = df[col].astype("string").str.strip()
        num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(num)
        if bad.any():
            vals = raw[bad].fillna("").tolist()
            problems.append(
                _rows_problem(rows[bad], vals, "expected a number, found '{value}'", col, file)
            )
        if col != "total_conversion_value":
            neg = np.isfinite(num) & (num < 0)
            if neg.any():
                problems.append(
                    _rows_problem(
                        rows[neg],
                        num[neg].tolist(),
                        "count must not be negative, found {value}",
                        col,
                        file,
                    )
                )
        numbers[col] = np.nan_to_num(num)
    texts = df["path"].astype("string").fillna("").tolist()
    split = [[s.strip() for s in t.split(STEP_SEPARATOR)] for t in texts]
    empty = np.array([not t.strip() for t in texts], dtype=bool)
    bad_step = np.array([any(not s for s in parts) for parts in split], dtype=bool) & ~empty
    if empty.any():
        problems.append(_rows_problem(rows[empty], [""], "empty path", "path", file))
    if bad_step.any():
        vals = [texts[i] for i in np.flatnonzero(bad_step)]
        problems.append(
            _rows_problem(
                rows[bad_step],
                vals,
                "empty step in path '{value}' (two '>' in a row or a leading/trailing '>')",
                "path",
                file,
            )
        )
    if problems:
        raise InputError(problems)
    return Journeys.from_paths(
        split,
        numbers["total_conversions"],
        numbers.get("total_null"),
        numbers.get("total_conversion_value"),
    )


def read_paths(file: Path | str) -> Journeys:
    """Read an aggregated-paths CSV (``;`` or ``,`` delimited) into :class:`Journeys`.

    See :func:`parse_paths_frame` for the validation.
    """
    file = Path(file)
    _, sep = _read_header(file)
    try:
        df = pd.read_csv(
            file,
            sep=sep,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError.single(f"cannot parse the file as CSV: {exc}", file=str(file)) from exc
    df.columns = [str(c).strip() for c in df.columns]
    return parse_paths_frame(df, file=str(file))


# ----------------------------------------------------------------------------------------
# Event logs -> journeys (DuckDB SQL)
# ----------------------------------------------------------------------------------------
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


def _validate_events(con: Any, columns: Sequence[str], file: str | None) -> None:
    """Row-level checks on the all-VARCHAR ``raw`` table; raises :class:`InputError`."""
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
    problems: list[Problem] = []
    for column, condition, message in checks:
        quoted = f'"{column}"'
        found = con.execute(
            f"SELECT rn, {quoted} FROM raw WHERE {condition} ORDER BY rn LIMIT {MAX_ROWS_REPORTED}"
        ).fetchall()
        if not found:
            continue
        count = con.execute(f"SELECT COUNT(*) FROM raw WHERE {condition}").fetchone()[0]
        rows = np.array([r[0] for r in found])
        values = ["" if r[1] is None else r[1] for r in found]
        p = _rows_problem(rows, values, message, column, file)
        if count > 1:
            p = Problem(
                message.format(value=values[0]) + f" ({count} rows in all)",
                file=file,
                row=p.row,
                column=column,
                rows=p.rows,
            )
        problems.append(p)
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
        _, sep = _read_header(source)
        relation = (
            f"read_csv({_sql_string(str(source))}, all_varchar = true, header = true, "
            f"delim = {_sql_string(sep)}, quote = '\"')"
        )
    names = [str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    problems = _column_problems(names, EVENT_COLUMNS, EVENT_REQUIRED, file)
    if problems:
        raise InputError(problems)
    cast = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in names)
    # Row numbers follow the scan order (DuckDB preserves insertion order by default).
    con.execute(
        f"CREATE TEMP TABLE raw AS SELECT ROW_NUMBER() OVER () AS rn, {cast} FROM {relation}"
    )
    return names


def read_event_log(
    source: Path | str | pd.DataFrame,
    *,
    lookback_days: float = 30.0,
    memory_limit: str | None = "1GB",
    temp_directory: Path | str | None = None,
    threads: int | None = None,
) -> Journeys:
    """Turn an event log (CSV, Parquet or DataFrame) into :class:`Journeys` with DuckDB.

    The rules (CONTRACTS.md) are applied by :data:`JOURNEY_TOUCHES_SQL`: touches are
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
            has_value = "conversion_value" in columns
            has_milestone = "milestone" in columns
            con.execute(
                "CREATE TEMP TABLE channels AS SELECT channel, "
                "CAST(ROW_NUMBER() OVER (ORDER BY channel) - 1 AS INTEGER) AS code "
                "FROM (SELECT DISTINCT TRIM(channel) AS channel FROM raw) d"
            )
            value_expr = (
                "COALESCE(TRY_CAST(TRIM(r.conversion_value) AS DOUBLE), 0)" if has_value else "0.0"
            )
            milestone_expr = (
                "COALESCE(TRY_CAST(TRIM(r.milestone) AS DOUBLE), 0) = 1"
                if has_milestone
                else "FALSE"
            )
            con.execute(
                "CREATE TEMP TABLE staged AS SELECT r.rn, r.user_id, "
                'epoch(CAST(TRIM(r."timestamp") AS TIMESTAMP)) AS ts, c.code AS channel_code, '
                "CAST(CAST(TRIM(r.conversion) AS DOUBLE) AS INTEGER) AS conversion, "
                f"{value_expr} AS conversion_value, {milestone_expr} AS milestone "
                "FROM raw r JOIN channels c ON TRIM(r.channel) = c.channel"
            )
            con.execute("DROP TABLE raw")
            channels = tuple(
                str(r[0])
                for r in con.execute("SELECT channel FROM channels ORDER BY code").fetchall()
            )
            sql = JOURNEY_TOUCHES_SQL.format(
                lookback_seconds=float(lookback_days) * SECONDS_PER_DAY
            )
            cols = con.execute(
                "SELECT pos, channel_code, conversion, conversion_value, days_to_conversion, "
                f"milestone FROM ({sql}) t"
            ).fetchnumpy()
        finally:
            con.close()
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


def read_journeys(
    file: Path | str, *, lookback_days: float = 30.0, memory_limit: str | None = "1GB"
) -> Journeys:
    """Read either layout, detected from the header (``path`` or ``user_id`` columns).

    Parquet files are event logs.
    """
    file = Path(file)
    if not file.exists():
        raise InputError.single("file not found", file=str(file))
    if file.suffix.lower() in (".parquet", ".pq"):
        return read_event_log(file, lookback_days=lookback_days, memory_limit=memory_limit)
    columns, _ = _read_header(file)
    if detect_input_kind(columns, file=str(file)) == "paths":
        return read_paths(file)
    return read_event_log(file, lookback_days=lookback_days, memory_limit=memory_limit)


def journey_paths_table(journeys: Journeys) -> pd.DataFrame:
    """Aggregate identical journeys into ChannelAttribution's layout.

    Examples
    --------
    >>> j = Journeys.from_paths(["A > B", "A > B", "C"], [1, 0, 1], [0, 1, 0])
    >>> journey_paths_table(j)
        path  total_conversions  total_null
    0  A > B                1.0         1.0
    1      C                1.0         0.0
    """
    df = pd.DataFrame(
        {
            "path": journeys.paths(),
            "total_conversions": journeys.conversions,
            "total_null": journeys.nulls,
        }
    )
    if journeys.value is not None:
        df["total_conversion_value"] = journeys.value
    out = df.groupby("path", sort=True, as_index=False).sum()
    return out
