"""Input layouts of attribution data: which columns, which delimiter, which problems.

Shared by the readers of aggregated paths (:mod:`.paths`) and event logs
(:mod:`.events`): problems name the file, the column and the rows (1-based data rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mediamix.attribution.journeys import EVENT_COLUMNS, PATH_COLUMNS
from mediamix.errors import InputError, Problem

__all__ = [
    "column_problems",
    "detect_delimiter",
    "detect_input_kind",
    "read_header",
    "rows_problem",
]

#: At most this many rows are listed per problem (the count says how many there were).
MAX_ROWS_REPORTED = 20


def detect_delimiter(header_line: str) -> str:
    """The delimiter of a header line: ``;`` if present, else ``,``.

    Examples
    --------
    >>> detect_delimiter("path;total_conversions"), detect_delimiter("path,total_conversions")
    (';', ',')
    """
    return ";" if ";" in header_line else ","


def read_header(file: Path) -> tuple[list[str], str]:
    """Column names and delimiter of a CSV file's first line."""
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


def column_problems(
    columns: Sequence[str], allowed: Sequence[str], required: Sequence[str], file: str | None
) -> list[Problem]:
    """Unknown, missing and repeated columns, one problem each."""
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


def rows_problem(
    rows: np.ndarray, values: Sequence[Any], message: str, column: str, file: str | None
) -> Problem:
    """One problem for a set of bad rows (1-based), naming the first and listing more."""
    first = int(rows[0])
    extra = tuple(int(r) for r in rows[1:MAX_ROWS_REPORTED])
    more = f" ({len(rows)} rows in all)" if len(rows) > 1 else ""
    return Problem(
        message.format(value=values[0]) + more, file=file, row=first, column=column, rows=extra
    )
