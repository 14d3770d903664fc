"""The bulk-import engine (filings.imports) and `manage.py import_records`: encodings, XLSX, headers, bad rows
with their row numbers, idempotent re-import, bad files, formula-safe error files."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import load_workbook

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.audit.models import AuditEvent
from jiancai.filings.imports import (
    NOT_TABULAR,
    OLD_XLS,
    UNKNOWN_ENCODING,
    ImportReport,
    error_csv_bytes,
    run_import,
    template_csv,
    template_xlsx,
)
from jiancai.filings.models import Channel, Supply
from jiancai.filings.schemas import SCHEMAS

from .import_helpers import SUPPLY_HEADERS, SUPPLY_KEYS, csv_bytes, read_csv, supply_row, xlsx_bytes


def import_as(world: World, data: bytes | Path, persona: str = "a_staff", kind: str = "supply") -> ImportReport:
    user = world[persona]
    return run_import(kind, data, context=context_for(user), actor=user)


def errors_by_row(report: ImportReport) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for e in report.errors:
        found.setdefault(e.row, []).append((e.column, e.reason))
    return found


# ---------------------------------------------------------------------------------- encodings and formats


@pytest.mark.parametrize(
    ("encoding", "label"), [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 BOM"), ("gb18030", "GB18030")]
)
def test_csv_in_each_encoding_imports(world: World, encoding: str, label: str) -> None:
    data = csv_bytes(
        [supply_row(world, 1), supply_row(world, 2, 规格型号="HRB400E Φ25", 型式检验机构="北京市建设工程质量检测中心")],
        encoding=encoding,
    )
    report = import_as(world, data)
    assert (report.file_format, report.encoding) == ("csv", label)
    assert report.ok and (report.rows, report.created) == (2, 2), report.errors
    stored = Supply.objects.get(supply_no="GY-2025-0002")
    assert stored.spec == "HRB400E Φ25" and stored.type_report_agency == "北京市建设工程质量检测中心"
    assert stored.quantity == Decimal("1234.5") and stored.unit_price == Decimal("4150.00")  # thousands separators
    assert stored.channel == Channel.IMPORT and stored.filed_by == world["a_staff"] and stored.filer == world.a


def test_xlsx_with_typed_cells_imports(world: World) -> None:
    row = supply_row(world, 1)
    typed = {**row, "数量": 60.0, "单价(元)": 4150.5, "供货日期": dt.datetime(2025, 6, 1), "批号": 20250601}
    data = xlsx_bytes(
        [SUPPLY_HEADERS, [typed[h] for h in SUPPLY_HEADERS], [], [supply_row(world, 2)[h] for h in SUPPLY_HEADERS]]
    )
    report = import_as(world, data)
    assert report.file_format == "xlsx"
    assert report.ok and report.created == 2 and report.rows == 2, report.errors  # the empty row is skipped
    stored = Supply.objects.get(supply_no="GY-2025-0001")
    assert (stored.quantity, stored.unit_price, stored.delivery_date) == (
        Decimal(60),
        Decimal("4150.5"),
        dt.date(2025, 6, 1),
    )
    assert stored.batch_no == "20250601"  # a number cell in a text column, without ".0"


def test_english_headers_any_column_order_and_unpadded_excel_dates(world: World) -> None:
    row = dict(zip(SUPPLY_HEADERS, SUPPLY_KEYS, strict=True))
    headers = list(reversed(SUPPLY_KEYS))
    values = {row[h]: v for h, v in supply_row(world, 1, 供货日期="2025/6/1").items()}
    report = import_as(world, csv_bytes([values], headers=headers))
    assert report.ok and report.created == 1, report.errors
    assert Supply.objects.get().delivery_date == dt.date(2025, 6, 1)


def test_unknown_column_is_reported_and_the_known_columns_imported(world: World) -> None:
    headers = [*SUPPLY_HEADERS, "备注"]
    report = import_as(world, csv_bytes([{**supply_row(world, 1), "备注": "加急"}], headers=headers))
    assert report.created == 1 and not report.file_error
    assert len(report.warnings) == 1 and "未识别的列：备注" in report.warnings[0]


def test_missing_required_column_stores_nothing(world: World) -> None:
    headers = [h for h in SUPPLY_HEADERS if h not in ("合同编号", "数量")]
    report = import_as(world, csv_bytes([supply_row(world, 1)], headers=headers))
    assert report.file_error.startswith("缺少必填列：合同编号、数量")
    assert report.rows == 0 and not Supply.objects.exists()


# -------------------------------------------------------------------------------------------------- bad rows


def test_every_bad_row_is_reported_with_row_and_column_and_the_good_rows_are_stored(world: World) -> None:
    future = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    rows = [
        supply_row(world, 1),  # row 2: good
        supply_row(world, 2, 合同编号=""),  # row 3
        supply_row(world, 3, 数量="十吨"),  # row 4
        supply_row(world, 4, 项目编号="110105209999999"),  # row 5
        supply_row(world, 5, 供应企业统一社会信用代码="91110105MA01ABCDE1"),  # row 6
        supply_row(world, 6, 数量="-5"),  # row 7
        supply_row(world, 7, 计量单位="m³"),  # row 8
        supply_row(world, 8, 供货日期=future),  # row 9
        supply_row(world, 9, 规格型号="=cmd|' /C calc'!A0"),  # row 10
        supply_row(world, 10, 供应企业统一社会信用代码=world.b.uscc),  # row 11: another organization
        supply_row(world, 1, 批号="again"),  # row 12: repeats row 2's key
        supply_row(world, 12),  # row 13: good
    ]
    report = import_as(world, csv_bytes(rows))
    found = errors_by_row(report)
    assert sorted(found) == list(range(3, 13))
    assert found[3] == [("合同编号", "为必填项")]
    assert found[4] == [("数量", "“十吨”不是有效的数字")]
    assert found[5] == [("项目编号", "未找到项目编号为 110105209999999 的项目")]
    assert found[6][0][0] == "供应企业统一社会信用代码" and "校验位" in found[6][0][1]
    assert found[7] == [("数量", "必须大于0")]
    assert found[8] == [("计量单位", "“m³”与品类的计量单位 t 不符")]
    assert found[9] == [("供货日期", "不能晚于今天")]
    assert found[10][0][0] == "规格型号" and "公式" in found[10][0][1]
    assert found[11] == [("供应企业统一社会信用代码", "只能填报本单位的记录")]
    assert found[12] == [("供应单号", "与第2行的供应企业统一社会信用代码、供应单号相同，同一文件中记录不能重复")]
    assert (report.created, report.refused, report.error_total) == (2, 10, 10)
    assert sorted(Supply.objects.values_list("supply_no", flat=True)) == ["GY-2025-0001", "GY-2025-0012"]
    assert next(e for e in report.errors if e.row == 4).value == "十吨"


def test_formula_cells_of_an_xlsx_are_refused(world: World) -> None:
    good = [supply_row(world, 1)[h] for h in SUPPLY_HEADERS]
    formula_qty = [supply_row(world, 2, 数量="=B2*2")[h] for h in SUPPLY_HEADERS]
    formula_text = [supply_row(world, 3, 批号='=HYPERLINK("http://x","y")')[h] for h in SUPPLY_HEADERS]
    report = import_as(world, xlsx_bytes([SUPPLY_HEADERS, good, formula_qty, formula_text]))
    found = errors_by_row(report)
    assert found[3] == [("数量", "以公式字符开头，为防止公式注入不予接收，请填写数值")]
    assert found[4][0][0] == "批号" and "公式" in found[4][0][1]
    assert report.created == 1 and Supply.objects.count() == 1


def test_values_under_a_column_without_header_are_refused(world: World) -> None:
    data = csv_bytes([{**supply_row(world, 1), "": "stray"}], headers=[*SUPPLY_HEADERS, ""])
    report = import_as(world, data)
    assert [(e.row, e.column, e.value) for e in report.errors] == [(2, "第N列", "stray")]
    assert not Supply.objects.exists()


# ------------------------------------------------------------------------------------------- re-importing


def test_reimport_creates_no_duplicates_and_a_changed_row_a_new_version(world: World) -> None:
    rows = [supply_row(world, n) for n in range(1, 4)]
    assert import_as(world, csv_bytes(rows)).created == 3
    again = import_as(world, csv_bytes(rows, encoding="gb18030"))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    rows[1]["数量"] = "99"
    changed = import_as(world, xlsx_bytes([SUPPLY_HEADERS, *[[r[h] for h in SUPPLY_HEADERS] for r in rows]]))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 2)
    assert Supply.objects.filter(supply_no="GY-2025-0002").count() == 2
    current = Supply.objects.current().get(supply_no="GY-2025-0002")
    assert (current.version, current.quantity) == (2, Decimal(99))
    assert Supply.objects.current().count() == 3


def test_rows_are_filed_in_chunks_with_row_numbers_kept(world: World) -> None:
    rows = [supply_row(world, n) for n in range(1, 8)]
    rows[5]["数量"] = "0"  # row 7
    user = world["a_staff"]
    progress: list[int] = []
    report = run_import(
        "supply",
        csv_bytes(rows),
        context=context_for(user),
        actor=user,
        chunk_rows=3,
        on_progress=lambda r: progress.append(r.rows),
    )
    assert [(e.row, e.column) for e in report.errors] == [(7, "数量")]
    assert report.created == 6 and progress == [0, 3, 6, 7]
    batches = AuditEvent.objects.filter(target_type="filings.supply", action="create")
    # One summary audit row per chunk, the last chunk of 1 row included (imports always audit per batch).
    assert [e.target_repr for e in batches.order_by("seq")] == ["供应记录批量填报（批量导入）"] * 3


# -------------------------------------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", NOT_TABULAR),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, OLD_XLS),
        ("供应单号\n".encode("utf-16"), "UTF-16"),
        ("供应单号,数量\n".encode() + b"\x81\x30\xff\xfe\n", UNKNOWN_ENCODING),
        (b"", "文件为空"),
        (b"\r\n,,\r\n", "没有表头行"),
    ],
    ids=["png", "xls", "utf16", "undecodable", "empty", "blank"],
)
def test_unusable_files_get_a_clear_error(world: World, data: bytes, message: str) -> None:
    report = import_as(world, data)
    assert message in report.file_error and report.rows == 0
    assert not Supply.objects.exists()


def test_a_zip_that_is_not_a_workbook_is_refused(world: World) -> None:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert import_as(world, buffer.getvalue()).file_error == NOT_TABULAR


def test_oversized_file_is_refused(world: World, settings: Any) -> None:
    settings.IMPORT_MAX_BYTES = 100
    report = import_as(world, csv_bytes([supply_row(world, 1)]))
    assert report.file_error.startswith("文件大小") and "超过上限 100 字节" in report.file_error
    assert not Supply.objects.exists()


def test_a_role_without_filing_rights_imports_nothing(world: World) -> None:
    report = import_as(world, csv_bytes([supply_row(world, 1)]), persona="cy_biz")
    assert report.file_error == "无权导入供应记录" and not Supply.objects.exists()


# ------------------------------------------------------------------------------ error file and templates


def test_error_file_carries_no_live_formula(world: World) -> None:
    rows = [
        supply_row(world, 1, 规格型号="=cmd|' /C calc'!A0"),
        supply_row(world, 2, 数量="-5"),
        supply_row(world, 3, 批号="@SUM(A1)"),
        supply_row(world, 4),
    ]
    rows[3]["单价(元)"] = "=1+1"
    report = import_as(world, csv_bytes(rows))
    lines = read_csv(error_csv_bytes(report.errors, report))
    assert lines[0] == ["行号", "列", "值", "原因"]
    assert [line[:2] for line in lines[1:]] == [["2", "规格型号"], ["3", "数量"], ["4", "批号"], ["5", "单价(元)"]]
    assert lines[1][2] == "'=cmd|' /C calc'!A0" and lines[2][2] == "'-5"
    for line in lines:
        for cell in line:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_templates_carry_the_chinese_headers_and_import_back(world: World) -> None:
    assert template_csv("supply").decode("utf-8-sig").strip() == ",".join(SUPPLY_HEADERS)
    workbook = load_workbook(io.BytesIO(template_xlsx("supply")))
    sheet, hints = workbook.worksheets
    assert [c.value for c in sheet[1]] == SUPPLY_HEADERS
    hint_text = [[c for c in row if c] for row in hints.iter_rows(values_only=True)]
    assert ["数量", "quantity", "数字", "是", "必须大于0；可带千分位逗号"] in hint_text
    assert ["GJ", "钢筋", "t"] in hint_text
    sheet.append([supply_row(world, 1)[h] for h in SUPPLY_HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert import_as(world, buffer.getvalue()).created == 1
    for kind in SCHEMAS:  # every kind has both templates
        assert (
            load_workbook(io.BytesIO(template_xlsx(kind))).worksheets[0]["A1"].value == SCHEMAS[kind].fields[0].header
        )


# ---------------------------------------------------------------------------------------- command line


def test_command_imports_a_clean_file(world: World, tmp_path: Path) -> None:
    path = tmp_path / "供应.csv"
    path.write_bytes(csv_bytes([supply_row(world, 1), supply_row(world, 2)], encoding="gb18030"))
    out = io.StringIO()
    call_command("import_records", "supply", str(path), stdout=out)
    assert "供应记录：共 2 行：新增 2 条，更新 0 条，未变 0 条，拒绝 0 条" in out.getvalue()
    stored = Supply.objects.get(supply_no="GY-2025-0001")
    assert stored.filed_by is None and stored.filed_by_name == "命令行导入" and stored.filer == world.a


def test_command_lists_bad_rows_and_fails(world: World, tmp_path: Path) -> None:
    path = tmp_path / "供应.xlsx"
    rows = [supply_row(world, 1), supply_row(world, 2, 数量="abc"), supply_row(world, 3, 项目编号="")]
    path.write_bytes(xlsx_bytes([SUPPLY_HEADERS, *[[r[h] for h in SUPPLY_HEADERS] for r in rows]]))
    error_file = tmp_path / "errors.csv"
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 行被拒绝"):
        call_command("import_records", "supply", str(path), "--error-file", str(error_file), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["第3行 [数量] “abc”不是有效的数字", "第4行 [项目编号] 为必填项"]
    assert lines[-1] == "供应记录：共 3 行：新增 1 条，更新 0 条，未变 0 条，拒绝 2 条"
    assert [line[0] for line in read_csv(error_file.read_bytes())[1:]] == ["3", "4"]


def test_command_refuses_a_file_of_the_wrong_kind_of_organization(world: World, tmp_path: Path) -> None:
    # Enterprise B is a contractor and builder, not a supplier: the platform tool still checks the filer's kind.
    path = tmp_path / "供应.csv"
    path.write_bytes(
        csv_bytes([supply_row(world, 1, 供应企业统一社会信用代码=world.b.uscc, 项目编号=world.b_project.project_code)])
    )
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_records", "supply", str(path), stdout=out)
    assert "第2行 [供应企业统一社会信用代码] 该类记录只能由" in out.getvalue()


def test_command_reports_a_file_error(world: World, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00")
    with pytest.raises(CommandError, match="文件不是CSV或XLSX格式"):
        call_command("import_records", "supply", str(path), stdout=io.StringIO())
    with pytest.raises(CommandError, match="文件不存在"):
        call_command("import_records", "supply", str(tmp_path / "missing.csv"), stdout=io.StringIO())
