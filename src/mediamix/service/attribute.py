"""Use case ``attribute``: read journeys, run attribution method(s), write a CSV.

Called by ``mediamix attribute`` (CLI), the API and the pipelines alike. Journeys
come from a file, a DataFrame, or the warehouse's event log
(:class:`WarehouseEvents`: what ``mediamix ingest events`` loaded, less what
``mediamix privacy forget`` erased). Bad input raises :class:`~mediamix.errors.InputError` (exit code 2 on the CLI) and nothing is
written; the output CSV is written atomically only after every method succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mediamix.attribution.compare import (
    AttributionOptions,
    Method,
    available_methods,
    compare_methods,
    run_method,
)
from mediamix.attribution.journeys import (
    Journeys,
    detect_input_kind,
    parse_paths_frame,
    read_event_log,
    read_journeys,
)
from mediamix.errors import InputError, Problem
from mediamix.io.exports import write_csv
from mediamix.service.requests import AttributeRequest, parse_request

__all__ = [
    "METHOD_NAMES",
    "WarehouseEvents",
    "attribute",
    "attribute_journeys",
    "write_csv_atomic",
]

logger = logging.getLogger(__name__)

METHOD_NAMES = tuple(m.value for m in Method)

FRAME = "DataFrame"
"""How problems in a DataFrame passed in name their source."""


@dataclass(frozen=True)
class WarehouseEvents:
    """Journeys from the event log in the warehouse of a mediamix ``home``.

    The journeys are built inside the warehouse (DuckDB SQL on ``raw_events``) each
    time and never stored, so an erased user is absent from every later run.

    Examples
    --------
    >>> WarehouseEvents("/srv/mediamix").home
    PosixPath('/srv/mediamix')
    """

    home: Path | str

    def __post_init__(self) -> None:
        object.__setattr__(self, "home", Path(self.home))

    def journeys(self, lookback_days: float) -> tuple[Journeys, str]:
        """The journeys of every event held, and how problems name their source."""
        from mediamix.warehouse.events import event_journeys
        from mediamix.warehouse.store import Warehouse

        with Warehouse.reader(self.home) as wh:
            return event_journeys(wh, lookback_days=lookback_days), f"{wh.path} (raw_events)"


Source = Path | str | pd.DataFrame | WarehouseEvents


def _read_decomposition(file: Path) -> pd.DataFrame:
    if not file.exists():
        raise InputError.single("file not found", file=str(file))
    try:
        df = pd.read_csv(file)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError.single(f"cannot parse the file as CSV: {exc}", file=str(file)) from exc
    return _checked_dates(df, str(file))


def _checked_dates(df: pd.DataFrame, file: str) -> pd.DataFrame:
    """``df`` when it has a ``date`` column of parseable dates, else :class:`InputError`."""
    if "date" not in df.columns:
        raise InputError.single("required column is missing", file=file, column="date")
    dates = pd.to_datetime(df["date"], errors="coerce")
    bad = dates.isna().to_numpy()
    if bad.any():
        rows = [int(i) + 1 for i in bad.nonzero()[0]]
        raise InputError(
            [
                Problem(
                    f"cannot parse date '{df['date'].iloc[rows[0] - 1]}'",
                    file=file,
                    row=rows[0],
                    column="date",
                    rows=tuple(rows[1:20]),
                )
            ]
        )
    return df


def _check_decomposition(df: pd.DataFrame, journeys: Journeys, file: str) -> None:
    problems = []
    present = [c for c in journeys.channels if c in df.columns]
    if not present:
        problems.append(
            Problem(
                f"no column matches a channel of the journeys ({', '.join(journeys.channels)})",
                file=file,
            )
        )
    for c in present:
        num = pd.to_numeric(df[c], errors="coerce")
        bad = num.isna().to_numpy()
        if bad.any():
            rows = [int(i) + 1 for i in bad.nonzero()[0]]
            problems.append(
                Problem(
                    f"expected a number, found '{df[c].iloc[rows[0] - 1]}'",
                    file=file,
                    row=rows[0],
                    column=c,
                    rows=tuple(rows[1:20]),
                )
            )
    if problems:
        raise InputError(problems)


def write_csv_atomic(df: pd.DataFrame, out: Path) -> None:
    """Write ``df`` to ``out`` atomically, text neutralized for spreadsheets.

    See :func:`mediamix.io.exports.write_csv`: a channel name from someone's data
    that starts like a formula is quoted; numbers stay numbers.
    """
    write_csv(df, out)


def attribute(
    paths: Source,
    method: str = "all",
    *,
    decomposition: Path | str | pd.DataFrame | None = None,
    out: Path | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Attribute conversions to channels and (optionally) write the table as CSV.

    Parameters
    ----------
    paths : Path, DataFrame or WarehouseEvents
        Aggregated paths (CSV, ``;`` or ``,``) or an event log (CSV or Parquet), or
        either as a DataFrame, or the warehouse's event log.
    method : str
        One of ``first_touch``, ``last_touch``, ``linear``, ``linear_channel``,
        ``time_decay``, ``position_based``, ``w_shaped``, ``markov``, ``shapley``,
        ``mmm``, ``all``.
    decomposition : Path or DataFrame, optional
        MMM ``decomposition.csv`` for ``mmm`` (and to add it to ``all``).
    out : Path, optional
        Output CSV: ``channel``, ``conversions``, ``conversion_value`` (one method) or
        ``channel``, ``<method>_conversions``, ``<method>_value`` (``all``).
    **options
        The other fields of :class:`~mediamix.service.requests.AttributeRequest`
        (``order``, ``half_life``, ``lookback_days``, ``keep_repeats``,
        ``window_start``, ``window_end``, ``shapley_permutations``, ``seed``).

    Returns
    -------
    DataFrame
        The table written to ``out``.

    Raises
    ------
    InputError
        Unknown method, bad options (each named by its field), or bad input rows
        (file, row and column named).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "p.csv").write_text("path;total_conversions;total_null\\nA > B;1;0\\nB;0;1\\n")
    >>> attribute(d / "p.csv", "last_touch", out=d / "o.csv")["conversions"].tolist()
    [0.0, 1.0]
    >>> (d / "o.csv").read_text().splitlines()[0]
    'channel,conversions,conversion_value'
    """
    request = parse_request(AttributeRequest, {"method": method, **options})
    table = attribute_journeys(paths, request, decomposition=decomposition)
    if out is not None:
        write_csv_atomic(table, Path(out))
        logger.info("wrote %s", out)
    return table


def attribute_journeys(
    source: Source,
    request: AttributeRequest | Mapping[str, Any],
    *,
    decomposition: Path | str | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The attribution table of a request (see :func:`attribute`); writes nothing."""
    req = parse_request(AttributeRequest, request)
    if req.method == Method.MMM and decomposition is None:
        raise InputError.single("method 'mmm' needs an MMM decomposition", column="decomposition")
    journeys, where = _journeys(source, float(req.lookback_days))
    if journeys.total_conversions <= 0:
        raise InputError.single("the input has no conversions: nothing to attribute", file=where)
    if req.method == Method.W_SHAPED and journeys.milestone is None:
        raise InputError.single(
            "method 'w_shaped' needs an event log with a 'milestone' column",
            file=where,
            column="milestone",
        )
    dec = None
    dec_name = None
    if decomposition is not None:
        dec, dec_name = _decomposition(decomposition)
        _check_decomposition(dec, journeys, dec_name)
    options = AttributionOptions(
        order=req.order,
        collapse_repeats=not req.keep_repeats,
        half_life=req.half_life,
        shapley_permutations=req.shapley_permutations,
        seed=req.seed,
        decomposition=dec,
        window_start=req.window_start,
        window_end=req.window_end,
    )
    if req.method in (Method.TIME_DECAY, Method.ALL) and journeys.days_to_conversion is None:
        logger.warning(
            "aggregated paths have no timestamps: time decay uses positions (half-life in touches)"
        )
    try:
        if req.method == Method.ALL:
            return compare_methods(journeys, available_methods(journeys, options), options)
        return run_method(journeys, req.method, options)
    except ValueError as exc:  # e.g. an MMM window with no rows
        raise InputError.single(str(exc), file=dec_name or where) from exc


def _journeys(source: Source, lookback_days: float) -> tuple[Journeys, str]:
    """Journeys from a file, a DataFrame (either layout) or the warehouse, and the
    source's name."""
    if isinstance(source, WarehouseEvents):
        return source.journeys(lookback_days)
    if isinstance(source, pd.DataFrame):
        if detect_input_kind(list(source.columns), file=FRAME) == "paths":
            return parse_paths_frame(source.astype(str), file=FRAME), FRAME
        return read_event_log(source, lookback_days=lookback_days), FRAME
    path = Path(source)
    return read_journeys(path, lookback_days=lookback_days), str(path)


def _decomposition(source: Path | str | pd.DataFrame) -> tuple[pd.DataFrame, str]:
    if isinstance(source, pd.DataFrame):
        return _checked_dates(source.copy(), FRAME), FRAME
    path = Path(source)
    return _read_decomposition(path), str(path)
