"""Aggregated paths (ChannelAttribution's layout) into :class:`~.journeys.Journeys`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mediamix.attribution.journeys import PATH_COLUMNS, PATH_REQUIRED, STEP_SEPARATOR, Journeys
from mediamix.attribution.layout import column_problems, read_header, rows_problem
from mediamix.errors import InputError

__all__ = ["parse_paths_frame", "read_paths"]


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
    problems = column_problems(list(df.columns), PATH_COLUMNS, PATH_REQUIRED, file)
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
                rows_problem(rows[bad], vals, "expected a number, found '{value}'", col, file)
            )
        if col != "total_conversion_value":
            neg = np.isfinite(num) & (num < 0)
            if neg.any():
                problems.append(
                    rows_problem(
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
        problems.append(rows_problem(rows[empty], [""], "empty path", "path", file))
    if bad_step.any():
        vals = [texts[i] for i in np.flatnonzero(bad_step)]
        problems.append(
            rows_problem(
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
    _, sep = read_header(file)
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
