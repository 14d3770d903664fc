"""The two XLSX readers of the import: calamine for workbooks without formulas, openpyxl for those with them.

Both must hand the import the same rows (positions, empty cells as None, dates as datetimes), so which one
reads a file never changes what is stored or refused."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, BinaryIO

import pytest
from openpyxl import Workbook

from jiancai.filings import imports
from jiancai.filings.imports import BAD_XLSX, ImportFileError, Table, open_table


def _workbook_bytes(fill: Callable[[Any], None]) -> bytes:
    workbook = Workbook()
    fill(workbook.active)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _mixed(sheet: Any) -> None:
    # A table that starts at B3, with gaps, every cell type an import meets.
    sheet["B3"] = "供应单号"
    sheet["C3"] = "数量"
    sheet["D3"] = "供货日期"
    sheet["B4"] = "GY-001"
    sheet["C4"] = 120.5
    sheet["D4"] = dt.date(2026, 3, 1)
    sheet["B5"] = "GY-002"
    sheet["C5"] = 7
    sheet["E5"] = True
    sheet["D6"] = dt.datetime(2026, 3, 2, 8, 30)
    sheet["C7"] = "   "


def _read(reader: Callable[[BinaryIO], AbstractContextManager[Table]], data: bytes) -> tuple[int | None, list]:
    with reader(io.BytesIO(data)) as table:
        # Compared as the import takes cells (imports._cell): whitespace-only text is empty either way.
        return table.rows_expected, [(n, [imports._cell(c) for c in cells]) for n, cells in table.rows]


def test_calamine_and_openpyxl_hand_on_the_same_rows() -> None:
    data = _workbook_bytes(_mixed)
    calamine = _read(imports._calamine_table, data)
    openpyxl = _read(imports._openpyxl_table, data)
    assert calamine == openpyxl
    expected_rows, rows = calamine
    assert expected_rows == 6
    by_number = dict(rows)
    assert by_number[4][1:4] == ["GY-001", 120.5, dt.datetime(2026, 3, 1)]
    assert by_number[5][4] == "是"
    assert by_number[1] == [None] * 5


def test_empty_workbook_reads_as_no_rows_with_both_readers() -> None:
    data = _workbook_bytes(lambda sheet: None)
    assert _read(imports._calamine_table, data) == (None, [])
    expected, rows = _read(imports._openpyxl_table, data)
    assert expected is None
    assert all(all(cell is None for cell in cells) for _, cells in rows)


@pytest.mark.parametrize(
    ("fill", "has_formula"),
    [
        (_mixed, False),
        (lambda sheet: sheet.__setitem__("A1", "=1+1"), True),
        (lambda sheet: sheet.__setitem__("A1", "<f>not a formula, just text</f>"), False),
    ],
)
def test_formula_detection(fill: Callable[[Any], None], has_formula: bool) -> None:
    with zipfile.ZipFile(io.BytesIO(_workbook_bytes(fill))) as archive:
        assert imports._has_formulas(archive) is has_formula


def test_formula_tag_split_across_scan_chunks_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    def fill(sheet: Any) -> None:
        for row in range(1, 200):
            sheet.cell(row=row, column=1, value=f"行{row}")
        sheet["B150"] = "=A1"

    data = _workbook_bytes(fill)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
        at = xml.index(b"<f>")
        # Chunks sized so that "<f>" is cut after its first byte.
        size = at + 1
        monkeypatch.setattr(imports, "_SCAN_CHUNK", size)
        assert imports._has_formulas(archive) is True


def test_workbook_with_formulas_hands_on_the_formula_text() -> None:
    def fill(sheet: Any) -> None:
        sheet["A1"] = "数量"
        sheet["A2"] = "=cmd|' /C calc'!A0"

    data = _workbook_bytes(fill)
    with open_table(data) as table:
        rows = [cells for _, cells in table.rows]
    assert rows[1][0] == "=cmd|' /C calc'!A0"


def _corrupt_sheet(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            target.writestr(item, content)
    return out.getvalue()


def test_damaged_sheet_is_refused_as_a_damaged_workbook() -> None:
    data = _corrupt_sheet(_workbook_bytes(_mixed))

    def consume() -> Iterator[Any]:
        with open_table(data) as table:
            yield from table.rows

    with pytest.raises(ImportFileError) as refused:
        list(consume())
    assert str(refused.value) == BAD_XLSX
