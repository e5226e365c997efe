"""Use case ``attribute``: read journeys, run attribution method(s), write a CSV.

Called by ``mediamix attribute`` (CLI), the API and the pipelines alike. Bad input
raises :class:`~mediamix.errors.InputError` (exit code 2 on the CLI) and nothing is
written; the output CSV is written atomically only after every method succeeded.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pandas as pd

from mediamix.attribution.compare import (
    AttributionOptions,
    Method,
    available_methods,
    compare_methods,
    run_method,
)
from mediamix.attribution.journeys import Journeys, read_journeys
from mediamix.errors import InputError, Problem

logger = logging.getLogger(__name__)

METHOD_NAMES = tuple(m.value for m in Method)


def _read_decomposition(file: Path) -> pd.DataFrame:
    if not file.exists():
        raise InputError.single("file not found", file=str(file))
    try:
        df = pd.read_csv(file)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError.single(f"cannot parse the file as CSV: {exc}", file=str(file)) from exc
    if "date" not in df.columns:
        raise InputError.single("required column is missing", file=str(file), column="date")
    dates = pd.to_datetime(df["date"], errors="coerce")
    bad = dates.isna().to_numpy()
    if bad.any():
        rows = [int(i) + 1 for i in bad.nonzero()[0]]
        raise InputError(
            [
                Problem(
                    f"cannot parse date '{df['date'].iloc[rows[0] - 1]}'",
                    file=str(file),
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
    """Write ``df`` to ``out`` atomically: temp file in the same directory, fsync, rename."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            df.to_csv(fh, index=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def attribute(
    paths: Path,
    method: str = "all",
    *,
    order: int = 1,
    half_life: float | None = None,
    lookback_days: int = 30,
    out: Path | None = None,
    keep_repeats: bool = False,
    decomposition: Path | None = None,
    window_start: str | None = None,
    window_end: str | None = None,
    shapley_permutations: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Attribute conversions to channels and (optionally) write the table as CSV.

    Parameters
    ----------
    paths : Path
        Aggregated paths (CSV, ``;`` or ``,``) or an event log (CSV or Parquet).
    method : str
        One of ``first_touch``, ``last_touch``, ``linear``, ``linear_channel``,
        ``time_decay``, ``position_based``, ``w_shaped``, ``markov``, ``shapley``,
        ``mmm``, ``all``.
    order : int
        Markov order (>= 1).
    half_life : float, optional
        Time-decay half-life: days for event logs (default 7); touches for
        aggregated paths (default 1), which have no timestamps.
    lookback_days : int
        Event logs: touches more than this many days before a conversion are dropped.
    out : Path, optional
        Output CSV: ``channel``, ``conversions``, ``conversion_value`` (one method) or
        ``channel``, ``<method>_conversions``, ``<method>_value`` (``all``).
    keep_repeats : bool
        Markov: keep consecutive repeated channels instead of merging them.
    decomposition : Path, optional
        MMM ``decomposition.csv`` for ``mmm`` (and to add it to ``all``).
    window_start, window_end : str, optional
        MMM window (inclusive ISO dates).
    shapley_permutations, seed : int
        Monte Carlo Shapley settings (used beyond 15 channels).

    Returns
    -------
    DataFrame
        The table written to ``out``.

    Raises
    ------
    InputError
        Unknown method, bad options, or bad input rows (file, row and column named).

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
    problems: list[Problem] = []
    if method not in METHOD_NAMES:
        problems.append(
            Problem(
                f"unknown method '{method}'; expected one of {', '.join(METHOD_NAMES)}",
                column="--method",
            )
        )
    if order < 1:
        problems.append(Problem(f"order must be >= 1, got {order}", column="--order"))
    if half_life is not None and not half_life > 0:
        problems.append(
            Problem(f"half-life must be positive, got {half_life}", column="--half-life")
        )
    if lookback_days < 1:
        problems.append(
            Problem(
                f"lookback must be at least 1 day, got {lookback_days}", column="--lookback-days"
            )
        )
    if method == Method.MMM and decomposition is None:
        problems.append(Problem("method 'mmm' needs --decomposition", column="--method"))
    if problems:
        raise InputError(problems)
    paths = Path(paths)
    journeys = read_journeys(paths, lookback_days=float(lookback_days))
    if journeys.total_conversions <= 0:
        raise InputError.single(
            "the input has no conversions: nothing to attribute", file=str(paths)
        )
    if method == Method.W_SHAPED and journeys.milestone is None:
        raise InputError.single(
            "method 'w_shaped' needs an event log with a 'milestone' column",
            file=str(paths),
            column="milestone",
        )
    dec = None
    if decomposition is not None:
        dec = _read_decomposition(Path(decomposition))
        _check_decomposition(dec, journeys, str(decomposition))
    options = AttributionOptions(
        order=order,
        collapse_repeats=not keep_repeats,
        half_life=half_life,
        shapley_permutations=shapley_permutations,
        seed=seed,
        decomposition=dec,
        window_start=window_start,
        window_end=window_end,
    )
    if method in (Method.TIME_DECAY, Method.ALL) and journeys.days_to_conversion is None:
        logger.warning(
            "aggregated paths have no timestamps: time decay uses positions (half-life in touches)"
        )
    try:
        if method == Method.ALL:
            table = compare_methods(journeys, available_methods(journeys, options), options)
        else:
            table = run_method(journeys, method, options)
    except ValueError as exc:  # e.g. an MMM window with no rows
        raise InputError.single(str(exc), file=str(decomposition or paths)) from exc
    if out is not None:
        write_csv_atomic(table, Path(out))
        logger.info("wrote %s", out)
    return table
