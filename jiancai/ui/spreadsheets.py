"""Spreadsheet output that never carries a live formula from user data."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell_text(value: str) -> str:
    """Text that a spreadsheet program shows as text: a leading formula trigger is escaped with a quote."""
    if value and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def cell_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, dt.date):
        return value
    return safe_cell_text(str(value))


def csv_text(value: Any) -> str:
    """A CSV cell: text from user data never starts a formula (safe_cell_text)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return safe_cell_text("、".join(str(v) for v in value))
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if timezone.is_aware(value) else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return safe_cell_text(str(value))


def xlsx_bytes(sheet_title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet_title[:31])
    header_cells = []
    for h in headers:
        c = WriteOnlyCell(ws, value=h)
        c.font = Font(bold=True)
        header_cells.append(c)
    ws.append(header_cells)
    for row in rows:
        cells = []
        for v in row:
            c = WriteOnlyCell(ws, value=cell_value(v))
            if isinstance(c.value, dt.datetime):
                c.number_format = "yyyy-mm-dd hh:mm:ss"
            elif isinstance(c.value, dt.date):
                c.number_format = "yyyy-mm-dd"
            elif isinstance(c.value, str):
                c.data_type = "s"  # never interpreted as a formula
            cells.append(c)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(
    filename: str, sheet_title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]
) -> HttpResponse:
    response = HttpResponse(
        xlsx_bytes(sheet_title, headers, rows),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
