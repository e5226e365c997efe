"""Reading tabular inputs (CSV or Parquet) into a raw frame for validation.

CSV cells are kept as text, so that validation can say exactly what it found in a
cell ("$1,234.50", "12,5", an empty cell) instead of what pandas made of it. A UTF-8
byte-order mark is accepted and the delimiter (``,`` or ``;``) is detected from the
header line.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mediamix.errors import InputError, Problem

__all__ = ["RawTable", "ReadLimits", "detect_delimiter", "read_table"]


@dataclass(frozen=True)
class ReadLimits:
    """Size limits checked before parsing (defaults suit a laptop).

    ``max_bytes`` is checked on the file size, ``max_columns`` on the header and
    ``max_rows`` on the data rows.
    """

    max_rows: int = 5_000_000
    max_columns: int = 2_000
    max_bytes: int = 1_000_000_000


@dataclass(frozen=True)
class RawTable:
    """A table as read: text cells for CSV, typed columns for Parquet."""

    frame: pd.DataFrame
    source: str
    delimiter: str | None = None


def detect_delimiter(header: str) -> str:
    """The delimiter of a header line: ``;`` when it splits more than ``,``.

    Examples
    --------
    >>> detect_delimiter("date;revenue;tv")
    ';'
    >>> detect_delimiter("date,revenue,tv")
    ','
    """
    return ";" if header.count(";") > header.count(",") else ","


def read_table(path: str | Path, limits: ReadLimits | None = None) -> RawTable:
    """Read a CSV or Parquet file, refusing missing, oversized or malformed files.

    Raises
    ------
    InputError
        File missing, larger than the limits, empty, with duplicate column names,
        or not parseable as CSV/Parquet.
    """
    limits = limits or ReadLimits()
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InputError.single(f"data file not found: {path}", file=source)
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise InputError.single(
            f"file is {size:,} bytes, more than the limit of {limits.max_bytes:,} "
            "(raise MEDIAMIX_MAX_BYTES to allow it)",
            file=source,
        )
    if path.suffix.lower() in {".parquet", ".pq"}:
        return _read_parquet(path, limits)
    return _read_csv(path, limits)


def _check_header(columns: list[str], source: str, limits: ReadLimits) -> None:
    problems: list[Problem] = []
    if len(columns) > limits.max_columns:
        problems.append(
            Problem(
                f"{len(columns):,} columns, more than the limit of {limits.max_columns:,} "
                "(raise MEDIAMIX_MAX_COLUMNS to allow it)",
                file=source,
                row=None,
            )
        )
    counts = Counter(columns)
    for name, count in counts.items():
        if count > 1:
            positions = [i + 1 for i, c in enumerate(columns) if c == name]
            problems.append(
                Problem(
                    f"duplicate column name: '{name}' appears {count} times "
                    f"(header positions {', '.join(map(str, positions))}); column names must be unique",
                    file=source,
                    column=name,
                )
            )
        if name == "":
            problems.append(Problem("a column has an empty name in the header", file=source))
    if problems:
        raise InputError(problems)


def _read_csv(path: Path, limits: ReadLimits) -> RawTable:
    source = str(path)
    text_head = path.read_bytes()[:65536].decode("utf-8-sig", errors="replace")
    first_line = text_head.splitlines()[0] if text_head.strip() else ""
    if not first_line.strip():
        raise InputError.single("file is empty: expected a header line", file=source)
    delimiter = detect_delimiter(first_line)
    header = next(csv.reader(io.StringIO(first_line), delimiter=delimiter))
    header = [h.strip() for h in header]
    _check_header(header, source, limits)
    try:
        frame = pd.read_csv(
            path,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
            skipinitialspace=True,
            nrows=limits.max_rows + 1,
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError.single(f"cannot parse as CSV: {exc}", file=source) from None
    frame.columns = header
    if len(frame) > limits.max_rows:
        raise InputError.single(
            f"more than {limits.max_rows:,} data rows (raise MEDIAMIX_MAX_ROWS to allow it)",
            file=source,
        )
    if frame.empty:
        raise InputError.single("file has a header but no data rows", file=source)
    return RawTable(frame=frame, source=source, delimiter=delimiter)


def _read_parquet(path: Path, limits: ReadLimits) -> RawTable:
    source = str(path)
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - the parquet extra is missing
        raise InputError.single(
            "reading Parquet needs pyarrow: pip install 'mediamix[parquet]'", file=source
        ) from None
    try:
        meta = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a broken file
        raise InputError.single(f"cannot read as Parquet: {exc}", file=source) from None
    columns = list(meta.schema_arrow.names)
    _check_header(columns, source, limits)
    if meta.metadata.num_rows > limits.max_rows:
        raise InputError.single(
            f"{meta.metadata.num_rows:,} rows, more than the limit of {limits.max_rows:,} "
            "(raise MEDIAMIX_MAX_ROWS to allow it)",
            file=source,
        )
    frame = meta.read().to_pandas()
    if frame.empty:
        raise InputError.single("file has no data rows", file=source)
    return RawTable(frame=frame, source=source)
