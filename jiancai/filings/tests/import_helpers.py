"""Builders of import files for the bulk-import tests (CSV in any encoding, XLSX) and the supply rows they hold."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook

from jiancai.accounts.tests.personas import World
from jiancai.filings.schemas import SCHEMAS

SUPPLY_HEADERS = [f.header for f in SCHEMAS["supply"].fields]
SUPPLY_KEYS = [f.key for f in SCHEMAS["supply"].fields]


def supply_row(world: World, n: int, **overrides: Any) -> dict[str, Any]:
    """A good supply row of enterprise A (a supplier) for A's project, keyed by Chinese header."""
    row: dict[str, Any] = {
        "供应单号": f"GY-2025-{n:04d}",
        "供应企业统一社会信用代码": world.a.uscc,
        "项目编号": world.a_project.project_code,
        "合同编号": "HT-2025-001",
        "材料品类": "钢筋",
        "规格型号": "HRB400E Φ20",
        "批号": f"PH{n:04d}",
        "数量": "1,234.5",
        "计量单位": "t",
        "单价(元)": "4,150.00",
        "供货日期": "2025-06-01",
        "型式检验报告编号": "",
        "型式检验机构": "",
    }
    row.update(overrides)
    return row


def csv_bytes(
    rows: Iterable[dict[str, Any]], headers: Sequence[str] = SUPPLY_HEADERS, encoding: str = "utf-8-sig"
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers])
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """A workbook whose first sheet holds `rows` as given (header first); values keep their Python types."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
