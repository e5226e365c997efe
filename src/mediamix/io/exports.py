"""Tables written for people: CSV and XLSX exports that a spreadsheet cannot run.

A spreadsheet treats a text cell that starts with ``=``, ``+``, ``-`` or ``@`` as
a formula, and a leading tab or carriage return hides such a start from a quick
eye; a channel name or a path step taken from someone else's data could then run
a formula on the reader's machine (CSV/formula injection, OWASP). Every export the
project writes for a human goes through this module:

- text cells (and column headers) that start with one of those characters get a
  single quote in front, the form spreadsheets themselves use for "this is text";
- numbers stay numbers: numeric columns, and numeric values inside mixed columns,
  are written unchanged, so sums and charts keep working.

The writers are atomic (temporary file, fsync, rename), like every write.
openpyxl (the ``report`` extra) is imported only by the XLSX writer.
"""

from __future__ import annotations

import io
import numbers
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from mediamix.io.atomic import atomic_write_bytes, atomic_write_text

__all__ = [
    "FORMULA_PREFIXES",
    "csv_text",
    "neutralize_cell",
    "neutralize_frame",
    "write_csv",
    "write_xlsx",
    "xlsx_bytes",
]

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a text cell as a formula."""


def neutralize_cell(value: Any) -> Any:
    """``value`` made safe for a spreadsheet: text that could start a formula is quoted.

    Parameters
    ----------
    value : Any
        A cell. Only ``str`` values change; numbers, booleans, dates and missing
        values are returned as they are.

    Returns
    -------
    Any
        ``"'" + value`` when ``value`` is text starting with one of
        :data:`FORMULA_PREFIXES`, else ``value`` unchanged.

    Examples
    --------
    >>> neutralize_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralize_cell("search")
    'search'
    >>> neutralize_cell(-12.5)
    -12.5
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and column name neutralized.

    Numeric columns are left untouched (same dtype, same values); in object
    columns only the ``str`` cells change.

    Examples
    --------
    >>> table = pd.DataFrame({"channel": ["tv", "@cmd"], "spend": [-1.0, 2.0]})
    >>> safe = neutralize_frame(table)
    >>> safe["channel"].tolist(), safe["spend"].tolist()
    (['tv', "'@cmd"], [-1.0, 2.0])
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
            continue
        out[column] = series.map(neutralize_cell).astype(series.dtype)
    out.columns = [neutralize_cell(str(c)) for c in out.columns]
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as neutralized CSV text (no index).

    Examples
    --------
    >>> print(csv_text(pd.DataFrame({"path": ["=1+1"], "n": [3]})), end="")
    path,n
    '=1+1,3
    """
    safe = neutralize_frame(frame)
    # Python's csv writer quotes a cell only for the characters of its line
    # terminator: a bare CR inside an unquoted cell would end the row in a
    # spreadsheet and start the next one with whatever follows (a formula). Files
    # with such a cell use RFC 4180's CRLF, which quotes it; the others keep "\n".
    text_cells = safe.select_dtypes(exclude=["number", "datetime", "bool"])
    has_cr = any(isinstance(v, str) and "\r" in v for v in text_cells.to_numpy().ravel())
    has_cr = has_cr or any("\r" in str(c) for c in safe.columns)
    return safe.to_csv(index=False, lineterminator="\r\n" if has_cr else "\n")


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` to ``path`` as neutralized CSV, atomically; return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, csv_text(frame))
    return target


def _cell(value: Any) -> Any:
    """A value openpyxl writes as itself: numpy scalars as Python, NaN as empty."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return None if number != number else number
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return neutralize_cell(value if isinstance(value, str) else str(value))


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame] | pd.DataFrame) -> bytes:
    """An XLSX workbook of one sheet per table, text neutralized, as bytes.

    Text cells are stored as text (never as formulas, whatever they hold) and
    also get the quote of :func:`neutralize_cell`, so a copy-paste into another
    sheet stays inert; numbers are stored as numbers. The workbook's creation and
    modification times are fixed, so the same tables give the same bytes.

    Parameters
    ----------
    sheets : mapping or DataFrame
        ``{sheet name: table}``, or one table (sheet ``data``).

    Examples
    --------
    >>> data = xlsx_bytes({"plan": pd.DataFrame({"channel": ["+tv"], "spend": [10.0]})})
    >>> data[:2]
    b'PK'
    """
    import datetime as dt

    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    tables = {"data": sheets} if isinstance(sheets, pd.DataFrame) else dict(sheets)
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, frame in tables.items():
        # sheet names are limited to 31 characters and may not hold []:*?/\
        title = "".join(ch for ch in str(name) if ch not in "[]:*?/\\")[:31] or "sheet"
        sheet = book.create_sheet(title=title)
        sheet.append([_cell(str(c)) for c in frame.columns])
        for row in frame.itertuples(index=False, name=None):
            sheet.append([_cell(v) for v in row])
        for cells in sheet.iter_rows():
            for cell in cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text, never a formula
    fixed = dt.datetime(2000, 1, 1)
    book.properties.created = fixed
    book.properties.modified = fixed
    # openpyxl's save() stamps the current time into the properties and every zip
    # entry; its writer with fixed-time entries gives the same bytes for the same tables
    written = io.BytesIO()
    with zipfile.ZipFile(written, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()
    stable = io.BytesIO()
    with (
        zipfile.ZipFile(written) as source,
        zipfile.ZipFile(stable, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(entry.filename))
    return stable.getvalue()


def write_xlsx(sheets: Mapping[str, pd.DataFrame] | pd.DataFrame, path: str | Path) -> Path:
    """Write :func:`xlsx_bytes` of ``sheets`` to ``path`` atomically; return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, xlsx_bytes(sheets))
    return target
