"""The unified long layout every source lands in, and its validation.

One row per (date_day, platform, account_id, campaign_id, channel, geo), with the
Fivetran ad-reporting columns plus ``channel`` (the MMM channel the campaign
belongs to) and ``geo``. Money is in the row's ``currency_code``; ``spend`` is
required, the other metrics may be empty (unknown), never negative.

Two further long tables carry what a wide MMM file adds: the KPI
(``date_day, geo, name, value``) and the baseline drivers
(``date_day, geo, name, kind, value`` with kind ``control``, ``organic`` or
``event``).

Validation names every problem with its 1-based data row and column, like
:mod:`mediamix.data.validation`, and never stops at the first one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from mediamix.data.unified import (
    CONTROL_COLUMNS,
    CONTROL_KINDS,
    KPI_COLUMNS,
    MEDIA_COLUMNS,
    MEDIA_GRAIN,
    MEDIA_METRICS,
    MEDIA_TEXT,
)
from mediamix.errors import Problem

__all__ = [
    "CONTROL_COLUMNS",
    "CONTROL_KINDS",
    "KPI_COLUMNS",
    "MEDIA_COLUMNS",
    "MEDIA_GRAIN",
    "MEDIA_METRICS",
    "MEDIA_TEXT",
    "validate_long",
]


_MAX_LISTED = 8
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}([ T]00:00(:00(\.0+)?)?)?$"


def _rows_text(rows: Sequence[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:_MAX_LISTED])
    more = len(rows) - _MAX_LISTED
    return f"{shown} and {more} more" if more > 0 else shown


def _problem(source: str, column: str, rows: np.ndarray, found: str, expected: str) -> Problem:
    listed = [int(r) for r in rows]
    if len(listed) == 1:
        message = f"found {found}; expected {expected}"
    else:
        message = f"found {found} in {len(listed)} rows ({_rows_text(listed)}); expected {expected}"
    return Problem(message, file=source, row=listed[0], column=column, rows=tuple(listed))


def _dates(
    series: pd.Series, column: str, source: str, rows: np.ndarray
) -> tuple[pd.Series, list[Problem]]:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        parsed = pd.to_datetime(series)
    else:
        text = series.astype(str).str.strip()
        ok = text.str.match(_ISO_DATE)
        parsed = pd.to_datetime(text.where(ok), format="ISO8601", errors="coerce")
    bad = parsed.isna().to_numpy()
    problems: list[Problem] = []
    if bad.any():
        first = str(series.iloc[int(np.flatnonzero(bad)[0])])
        found = f"'{first}'" if first.strip() else "an empty cell"
        problems.append(_problem(source, column, rows[bad], found, "an ISO date (YYYY-MM-DD)"))
    return parsed.dt.normalize(), problems


def _numbers(
    series: pd.Series, column: str, source: str, rows: np.ndarray, *, required: bool, signed: bool
) -> tuple[np.ndarray, list[Problem]]:
    problems: list[Problem] = []
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        empty = np.isnan(values)
        bad_text = np.zeros(len(values), dtype=bool)
    else:
        text = series.astype("string").fillna("").str.strip()
        empty = (text == "").to_numpy() | text.str.lower().isin(["nan", "null", "none"]).to_numpy()
        values = pd.to_numeric(text.where(~empty), errors="coerce").to_numpy(dtype=float)
        bad_text = ~empty & np.isnan(values)
        if bad_text.any():
            first = text.iloc[int(np.flatnonzero(bad_text)[0])]
            problems.append(_problem(source, column, rows[bad_text], f"text '{first}'", "a number"))
    if required and empty.any():
        problems.append(_problem(source, column, rows[empty], "an empty cell", "a number"))
    inf = np.isinf(values)
    if inf.any():
        problems.append(_problem(source, column, rows[inf], "an infinite value", "a finite number"))
    if not signed:
        negative = np.isfinite(values) & (values < 0)
        if negative.any():
            first_value = values[negative][0]
            problems.append(
                _problem(source, column, rows[negative], f"negative value {first_value:g}", ">= 0")
            )
    return values, problems


def _texts(
    series: pd.Series, column: str, source: str, rows: np.ndarray
) -> tuple[pd.Series, list[Problem]]:
    text = series.astype("string").fillna("").str.strip()
    empty = (text == "").to_numpy()
    problems: list[Problem] = []
    if empty.any():
        problems.append(_problem(source, column, rows[empty], "an empty cell", "a non-empty name"))
    return text.astype(object), problems


def validate_long(
    frame: pd.DataFrame,
    kind: str,
    *,
    source: str,
    period: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check and type a long table; return the typed frame and every problem.

    Parameters
    ----------
    frame : DataFrame
        The rows as given (text or typed cells).
    kind : {"media", "kpi", "controls"}
        Which layout (see the module docstring).
    source : str
        Name used as ``file`` in every problem.
    period : (Timestamp, Timestamp), optional
        Inclusive first and last day the load covers; rows outside it are errors.

    Returns
    -------
    frame : DataFrame
        Columns in layout order: ``date_day`` as datetime64 (midnight), names as
        text, metrics as float (NaN where empty and allowed).
    problems : list of Problem
        Empty when the table is valid.
    """
    columns = {"media": MEDIA_COLUMNS, "kpi": KPI_COLUMNS, "controls": CONTROL_COLUMNS}[kind]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        present = ", ".join(f"'{c}'" for c in frame.columns)
        return frame, [
            Problem(
                f"required column '{c}' of the {kind} layout is missing; columns present: {present}",
                file=source,
                column=c,
            )
            for c in missing
        ]
    rows = np.arange(1, len(frame) + 1)
    problems: list[Problem] = []
    out: dict[str, object] = {}
    dates, date_problems = _dates(frame["date_day"], "date_day", source, rows)
    problems += date_problems
    out["date_day"] = dates
    if kind == "media":
        for column in MEDIA_TEXT:
            out[column], found = _texts(frame[column], column, source, rows)
            problems += found
        currency = pd.Series(out["currency_code"], dtype=object).astype(str)
        bad_currency = (
            ~currency.str.match(_CURRENCY.pattern).to_numpy() & (currency != "").to_numpy()
        )
        if bad_currency.any():
            first = currency.iloc[int(np.flatnonzero(bad_currency)[0])]
            problems.append(
                _problem(
                    source,
                    "currency_code",
                    rows[bad_currency],
                    f"'{first}'",
                    "an ISO 4217 code such as USD",
                )
            )
        for column in MEDIA_METRICS:
            out[column], found = _numbers(
                frame[column], column, source, rows, required=column == "spend", signed=False
            )
            problems += found
        grain: tuple[str, ...] = MEDIA_GRAIN
    else:
        for column in ("geo", "name", *(("kind",) if kind == "controls" else ())):
            out[column], found = _texts(frame[column], column, source, rows)
            problems += found
        if kind == "controls":
            kinds = pd.Series(out["kind"], dtype=object)
            bad_kind = ~kinds.isin(CONTROL_KINDS).to_numpy() & (kinds != "").to_numpy()
            if bad_kind.any():
                problems.append(
                    _problem(
                        source,
                        "kind",
                        rows[bad_kind],
                        f"'{kinds.iloc[int(np.flatnonzero(bad_kind)[0])]}'",
                        f"one of {', '.join(CONTROL_KINDS)}",
                    )
                )
        out["value"], found = _numbers(
            frame["value"], "value", source, rows, required=True, signed=True
        )
        problems += found
        grain = ("date_day", "geo", "name")
    typed = pd.DataFrame({c: out[c] for c in columns})
    if not date_problems and period is not None:
        start, end = period
        outside = ((typed["date_day"] < start) | (typed["date_day"] > end)).to_numpy()
        if outside.any():
            first = typed["date_day"].iloc[int(np.flatnonzero(outside)[0])].date()
            problems.append(
                _problem(
                    source,
                    "date_day",
                    rows[outside],
                    f"date {first} outside the load period",
                    f"a date from {start.date()} to {end.date()}",
                )
            )
    if not problems:
        dup = typed.duplicated(list(grain), keep=False).to_numpy()
        if dup.any():
            problems.append(
                _problem(
                    source,
                    "date_day",
                    rows[dup],
                    "repeated rows of one grain (" + ", ".join(grain) + ")",
                    "one row per " + ", ".join(grain),
                )
            )
    return typed, problems
