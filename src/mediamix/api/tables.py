"""CSV and XLSX bytes of a small table, safe to open in a spreadsheet.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is a formula to Excel, LibreOffice and Google Sheets (CSV injection): a scenario
named ``=HYPERLINK(...)`` would run when the file is opened. Such cells are written
with a leading apostrophe, which the spreadsheet shows as text; numbers are never
touched and stay numbers.

This is the API's own minimal version, kept private to the dashboard's export
route until the shared export helpers exist.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

__all__ = ["neutralize", "to_csv", "to_xlsx"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | float | int | None


def neutralize(value: Cell) -> Cell:
    """``value``, with a text cell that a spreadsheet would read as a formula quoted.

    Examples
    --------
    >>> neutralize("=1+1"), neutralize("tv"), neutralize(-3.5)
    ("'=1+1", 'tv', -3.5)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """UTF-8 CSV (comma, ``\\r\\n``) of ``header`` and ``rows``, text cells neutralized.

    Examples
    --------
    >>> to_csv(["name", "spend"], [["@x", 1.5]])
    b"name,spend\\r\\n'@x,1.5\\r\\n"
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralize(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else neutralize(v) for v in row])
    return buf.getvalue().encode("utf-8")


def to_xlsx(sheet: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """An XLSX workbook of one sheet: numbers as numbers, text cells neutralized.

    Every text cell is stored as a string (never parsed as a formula).
    """
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING

    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]
    table: list[list[Cell]] = [list(header), *[list(x) for x in rows]]
    for r, row in enumerate(table, start=1):
        for c, value in enumerate(row, start=1):
            safe: Any = neutralize(value)
            cell = ws.cell(row=r, column=c)
            cell.value = safe
            if isinstance(safe, str):
                cell.data_type = TYPE_STRING
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
