"""Validation of a raw table against a spec, reporting every problem found.

Each problem names the file, the 1-based data row (row 1 is the first row under the
header) and the column, says what was found and what was expected. Validation runs
before any work: a dataset is built only when no error was found. All-zero or
constant channels are warnings, not errors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mediamix.data.dataset import NATIONAL, Dataset
from mediamix.data.spec import Frequency, ModelSpec
from mediamix.errors import InputError, Problem

__all__ = ["ValidationReport", "ValidationRules", "build_dataset", "validate_table"]

_MAX_LISTED = 8
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]00:00(:00)?)?$")
_CURRENCY = re.compile(r"^[\s]*[-+]?[$€£¥₹]|[$€£¥₹]\s*$")
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+$")
_EVENT_EMPTY = {"", "na", "n/a", "none", "0", "false", "no"}


@dataclass(frozen=True)
class ValidationRules:
    """What the model about to run requires of the data.

    Attributes
    ----------
    min_periods : int
        Fewer periods than this is an error: at least the model's parameter count.
    require_positive_kpi : bool
        Models on a log scale need KPI > 0; others need KPI >= 0.
    """

    min_periods: int = 0
    require_positive_kpi: bool = False


@dataclass(frozen=True)
class ValidationReport:
    """The outcome: errors, warnings and (when there is no error) the dataset."""

    source: str
    problems: tuple[Problem, ...]
    dataset: Dataset | None

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Problems that stop the work."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Problems reported but not stopping the work."""
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        """No errors."""
        return not self.errors


def _rows_text(rows: Sequence[object]) -> str:
    shown = ", ".join(str(r) for r in rows[:_MAX_LISTED])
    more = len(rows) - _MAX_LISTED
    return f"{shown} and {more} more" if more > 0 else shown


def _cell_problem(source: str, column: str, rows: list[int], found: str, expected: str) -> Problem:
    if len(rows) == 1:
        msg = f"found {found}; expected {expected}"
    else:
        msg = f"found {found} in {len(rows)} rows ({_rows_text(rows)}); expected {expected}"
    return Problem(msg, file=source, row=rows[0], column=column, rows=tuple(rows))


def _describe_bad_number(text: str) -> str:
    if _CURRENCY.search(text):
        return f"'{text}', a currency-formatted amount (remove the currency symbol and thousands separators)"
    if _THOUSANDS.match(text):
        return f"'{text}', a number with thousands separators (remove the commas)"
    if _DECIMAL_COMMA.match(text):
        return f"'{text}', a decimal comma (write decimals with a point: {text.replace(',', '.')})"
    return f"text '{text}'"


def _parse_numeric(
    series: pd.Series, column: str, role: str, source: str, rows: np.ndarray
) -> tuple[np.ndarray, list[Problem]]:
    """Numbers of a column, and the problems of its cells (grouped per kind)."""
    problems: list[Problem] = []
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        text = None
    else:
        text = series.astype(str).str.strip()
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad_text: dict[str, list[int]] = {}
    empty_rows: list[int] = []
    nan_rows: list[int] = []
    inf_rows: list[int] = []
    for pos in np.flatnonzero(~np.isfinite(values)):
        row = int(rows[pos])
        cell = "" if text is None else text.iloc[pos]
        if text is not None and cell == "":
            empty_rows.append(row)
        elif np.isinf(values[pos]):
            inf_rows.append(row)
        elif text is None or cell.lower() in {"nan", "na", "n/a", "null", "none", "#n/a"}:
            nan_rows.append(row)
        else:
            kind = _describe_bad_number(cell)
            bad_text.setdefault(kind, []).append(row)
    what = f"a finite number ({role})"
    if empty_rows:
        problems.append(_cell_problem(source, column, empty_rows, "an empty cell", what))
    if nan_rows:
        problems.append(_cell_problem(source, column, nan_rows, "a missing value (NaN)", what))
    if inf_rows:
        problems.append(_cell_problem(source, column, inf_rows, "an infinite value", what))
    for kind, kind_rows in bad_text.items():
        problems.append(_cell_problem(source, column, kind_rows, kind, what))
    return values, problems


def _parse_dates(
    series: pd.Series, column: str, source: str, rows: np.ndarray
) -> tuple[np.ndarray, list[Problem]]:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        parsed = pd.to_datetime(series)
        bad = parsed.isna().to_numpy()
        text = series.astype(str)
    else:
        text = series.astype(str).str.strip()
        iso = text.str.match(_ISO_DATE.pattern)
        parsed = pd.to_datetime(text.where(iso), format="ISO8601", errors="coerce")
        bad = parsed.isna().to_numpy()
    problems: list[Problem] = []
    if bad.any():
        bad_rows = [int(r) for r in rows[bad]]
        first = text.iloc[int(np.flatnonzero(bad)[0])]
        found = f"'{first}'" if first else "an empty cell"
        if len(bad_rows) > 1:
            found += " and other unparseable dates"
        problems.append(_cell_problem(source, column, bad_rows, found, "an ISO date (YYYY-MM-DD)"))
    dates = parsed.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    return dates, problems


def _check_periods(
    dates: np.ndarray, geo: np.ndarray, rows: np.ndarray, spec: ModelSpec, source: str
) -> tuple[Frequency | None, np.ndarray | None, list[Problem]]:
    """Check duplicates, spacing and gaps per geo; return the common period grid."""
    problems: list[Problem] = []
    column = spec.date
    frame = pd.DataFrame({"date": dates, "geo": geo, "row": rows})
    dup = frame.duplicated(["geo", "date"], keep=False)
    if dup.any():
        for (g, d), group in frame[dup].groupby(["geo", "date"]):
            where = f" in geo '{g}'" if spec.geo else ""
            rws = [int(r) for r in group["row"]]
            problems.append(
                Problem(
                    f"duplicate period {np.datetime64(str(d), 'D')}{where} in rows {_rows_text(rws)}; "
                    "expected one row per period" + (" and geo" if spec.geo else ""),
                    file=source,
                    row=rws[0],
                    column=column,
                    rows=tuple(rws),
                )
            )
        return None, None, problems
    uniq = np.unique(dates)
    if len(uniq) < 2:
        return spec.frequency or Frequency.weekly, uniq, problems
    diffs = np.diff(uniq).astype(int)
    step = int(np.min(diffs))
    if spec.frequency is not None:
        frequency = spec.frequency
    else:
        frequency = Frequency.daily if step == 1 else Frequency.weekly
    days = 1 if frequency == Frequency.daily else 7
    expected = np.arange(uniq[0], uniq[-1] + np.timedelta64(1, "D"), np.timedelta64(days, "D"))
    off_grid = ~np.isin(uniq, expected)
    if off_grid.any():
        bad_dates = uniq[off_grid]
        bad_rows = [int(r) for r in frame.loc[frame["date"].isin(bad_dates), "row"]]
        problems.append(
            Problem(
                f"irregular frequency: dates {_rows_text([str(d) for d in bad_dates])} are not on the "
                f"{frequency.value} grid starting {uniq[0]} (expected every {days} days)",
                file=source,
                row=bad_rows[0] if bad_rows else None,
                column=column,
                rows=tuple(bad_rows),
            )
        )
        return frequency, None, problems
    for g, group in frame.groupby("geo", sort=False):
        present = group["date"].to_numpy()
        missing = expected[~np.isin(expected, present)]
        if missing.size:
            where = f" for geo '{g!s}'" if spec.geo else ""
            after = group.loc[group["date"] < missing[0], "row"]
            problems.append(
                Problem(
                    f"missing {missing.size} {frequency.value} period(s){where}: "
                    f"{_rows_text([str(d) for d in missing])}; expected every {days} days "
                    f"from {expected[0]} to {expected[-1]}",
                    file=source,
                    row=int(after.iloc[-1]) if len(after) else None,
                    column=column,
                )
            )
    return frequency, expected, problems


def _encode_events(
    frame: pd.DataFrame, columns: Sequence[str]
) -> tuple[list[str], list[np.ndarray]]:
    """Numeric event columns pass through; text columns become one dummy per level."""
    names: list[str] = []
    values: list[np.ndarray] = []
    for column in columns:
        series = frame[column]
        numeric = pd.to_numeric(series, errors="coerce")
        if numeric.notna().all():
            names.append(column)
            values.append(numeric.to_numpy(dtype=float))
            continue
        text = series.astype(str).str.strip()
        for level in sorted(set(text) - _EVENT_EMPTY - {s.upper() for s in _EVENT_EMPTY}):
            if level.lower() in _EVENT_EMPTY:
                continue
            names.append(f"{column}_{level}")
            values.append((text == level).to_numpy(dtype=float))
    return names, values


def validate_table(
    frame: pd.DataFrame, spec: ModelSpec, *, source: str, rules: ValidationRules | None = None
) -> ValidationReport:
    """Check a raw table against a spec; build the dataset when there is no error.

    Parameters
    ----------
    frame : DataFrame
        The table as read (CSV cells as text, or typed Parquet columns).
    spec : ModelSpec
        Which columns play which role.
    source : str
        File name used in every problem.
    rules : ValidationRules, optional
        Requirements of the model about to run.

    Returns
    -------
    ValidationReport
        Every problem found; ``dataset`` is set only when there is no error.
    """
    rules = rules or ValidationRules()
    problems: list[Problem] = []
    available = list(frame.columns)
    missing = [c for c in spec.referenced_columns() if c not in frame.columns]
    if missing:
        listed = ", ".join(f"'{c}'" for c in available)
        for column in missing:
            problems.append(
                Problem(
                    f"column '{column}' named in the spec is not in the file; columns present: {listed}",
                    file=source,
                    column=column,
                )
            )
        return ValidationReport(source, tuple(problems), None)

    rows = np.arange(1, len(frame) + 1)
    dates, date_problems = _parse_dates(frame[spec.date], spec.date, source, rows)
    problems += date_problems

    numbers: dict[str, np.ndarray] = {}
    for column, role in spec.numeric_columns.items():
        values, cell_problems = _parse_numeric(frame[column], column, role, source, rows)
        numbers[column] = values
        problems += cell_problems
        finite = np.isfinite(values)
        if role in {"spend", "exposure"}:
            neg = rows[finite & (values < 0)]
            if neg.size:
                first = values[finite & (values < 0)][0]
                problems.append(
                    _cell_problem(
                        source,
                        column,
                        [int(r) for r in neg],
                        f"negative {role} {first:g}",
                        f"{role} >= 0",
                    )
                )
        if role == "kpi":
            bad = finite & ((values <= 0) if rules.require_positive_kpi else (values < 0))
            if bad.any():
                expected = (
                    "KPI > 0 (this model works on the log scale)"
                    if rules.require_positive_kpi
                    else "KPI >= 0"
                )
                problems.append(
                    _cell_problem(
                        source,
                        column,
                        [int(r) for r in rows[bad]],
                        f"KPI {values[bad][0]:g}",
                        expected,
                    )
                )

    geo = (
        frame[spec.geo].astype(str).str.strip().to_numpy()
        if spec.geo
        else np.full(len(frame), NATIONAL, dtype=object)
    )
    if spec.geo:
        empty_geo = rows[geo == ""]
        if empty_geo.size:
            problems.append(
                _cell_problem(
                    source, spec.geo, [int(r) for r in empty_geo], "an empty cell", "a geo name"
                )
            )

    frequency: Frequency | None = None
    grid: np.ndarray | None = None
    if not date_problems:
        frequency, grid, period_problems = _check_periods(dates, geo, rows, spec, source)
        problems += period_problems
        if grid is not None and len(grid) < rules.min_periods:
            problems.append(
                Problem(
                    f"{len(grid)} periods, fewer than the {rules.min_periods} the model has "
                    "parameters; add history or simplify the model (fewer channels, controls "
                    "or seasonal terms)",
                    file=source,
                    column=spec.date,
                )
            )

    # warnings: channels that carry no information
    for name, channel in spec.channels.items():
        values = numbers[channel.spend]
        finite = values[np.isfinite(values)]
        if finite.size and np.all(finite == 0):
            problems.append(
                Problem(
                    f"channel '{name}' has zero spend in every period: its effect cannot be "
                    "estimated",
                    file=source,
                    column=channel.spend,
                    severity="warning",
                )
            )
        elif finite.size and np.ptp(finite) == 0:
            problems.append(
                Problem(
                    f"channel '{name}' has constant spend {finite[0]:g}: its effect cannot be "
                    "told apart from the baseline",
                    file=source,
                    column=channel.spend,
                    severity="warning",
                )
            )
    for column in spec.controls:
        finite = numbers[column][np.isfinite(numbers[column])]
        if finite.size and np.ptp(finite) == 0:
            problems.append(
                Problem(
                    f"control '{column}' is constant: it adds nothing beyond the intercept",
                    file=source,
                    column=column,
                    severity="warning",
                )
            )

    if any(p.severity == "error" for p in problems) or grid is None or frequency is None:
        return ValidationReport(source, tuple(problems), None)
    dataset = _assemble(frame, spec, source, dates, geo, numbers, grid, frequency)
    return ValidationReport(source, tuple(problems), dataset)


def _assemble(
    frame: pd.DataFrame,
    spec: ModelSpec,
    source: str,
    dates: np.ndarray,
    geo: np.ndarray,
    numbers: dict[str, np.ndarray],
    grid: np.ndarray,
    frequency: Frequency,
) -> Dataset:
    geos = tuple(dict.fromkeys(str(g) for g in geo)) if spec.geo else (NATIONAL,)
    g_index = {g: i for i, g in enumerate(geos)}
    t_index = {d: i for i, d in enumerate(grid)}
    gi = np.array([g_index[str(g)] for g in geo])
    ti = np.array([t_index[d] for d in dates])
    shape = (len(geos), len(grid))

    def cube(columns: Sequence[str], source_values: dict[str, np.ndarray]) -> np.ndarray:
        out = np.zeros((*shape, len(columns)))
        for k, column in enumerate(columns):
            out[gi, ti, k] = source_values[column]
        return out

    kpi = np.zeros(shape)
    kpi[gi, ti] = numbers[spec.kpi]
    event_names, event_values = _encode_events(frame, spec.events)
    events = cube(event_names, dict(zip(event_names, event_values, strict=True)))
    holiday_days = {np.datetime64(h, "D") for h in spec.holidays}
    if holiday_days:
        period = np.timedelta64(7 if frequency == Frequency.weekly else 1, "D")
        flag = np.array([any(d <= h < d + period for h in holiday_days) for d in grid], float)
        events = np.concatenate([events, np.broadcast_to(flag[None, :, None], (*shape, 1))], axis=2)
        event_names = [*event_names, "holidays"]
    population = None
    if spec.population:
        population = np.zeros(len(geos))
        population[gi] = numbers[spec.population]
    exposure = {
        name: cube([c.exposure], numbers)[..., 0] for name, c in spec.channels.items() if c.exposure
    }
    return Dataset(
        dates=grid,
        geos=geos,
        channels=spec.channel_names,
        kpi=kpi,
        spend=cube(spec.spend_columns, numbers),
        kpi_name=spec.kpi,
        kpi_type=spec.kpi_type,
        frequency=frequency,
        exposure=exposure,
        controls=cube(spec.controls, numbers),
        control_names=tuple(spec.controls),
        organic=cube(spec.organic, numbers),
        organic_names=tuple(spec.organic),
        events=events,
        event_names=tuple(event_names),
        population=population,
        source=source,
    )


def build_dataset(
    frame: pd.DataFrame, spec: ModelSpec, *, source: str, rules: ValidationRules | None = None
) -> tuple[Dataset, tuple[Problem, ...]]:
    """Validate and return the dataset with its warnings, or raise InputError."""
    report = validate_table(frame, spec, source=source, rules=rules)
    if not report.ok or report.dataset is None:
        raise InputError(report.problems)
    return report.dataset, report.warnings
