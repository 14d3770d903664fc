"""Partner-region records (处理处罚互认) from a CSV or XLSX file, in the style of the filings bulk import.

The file is read by `filings.imports.open_table` (type from the content, UTF-8 or GB18030, formulas refused as text).
The header row is matched against `COLUMNS` (Chinese header or English key). Every bad row is reported with its row
number, the column as written in the file, the value and the reason; the good rows are kept. The natural key is
(来源地区, 原记录编号): a row whose key is already stored is `unchanged`, so importing the same file again creates
nothing; a key repeated within the file is refused. Each good row goes through `actions.create_record` (channel
import) in its own savepoint, so validation, permission (a district regulator: its district's enterprises), the
audit row and the score are the action's own; one `credit.import` audit row sums the file up.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from jiancai.accounts.models import Organization, User
from jiancai.audit.actions import AuditContext, record_event
from jiancai.audit.models import AuditAction
from jiancai.filings.imports import ImportFileError, ImportReport, RowError, normalize_header, open_table
from jiancai.ui.spreadsheets import safe_cell_text

from . import actions
from .models import BehaviourRecord, RecordChannel, RecordKind, RecordSource

KIND = "credit_record"


@dataclass(frozen=True)
class Col:
    key: str
    header: str
    required: bool = False
    rule: str = ""


COLUMNS = (
    Col("uscc", "统一社会信用代码", True, "18位，企业须已在本市企业库登记"),
    Col("name", "企业名称", False, "仅供核对，不导入"),
    Col("origin_region", "来源地区", True, "如 天津市、河北省"),
    Col("origin_authority", "原认定机关", True, ""),
    Col("origin_no", "原记录编号", True, "与来源地区一起唯一确定一条记录，重复导入不会重复记录"),
    Col("kind", "记录类型", True, "良好 或 不良"),
    Col("severity", "不良行为等级", False, "不良行为必填：A（严重）、B（一般）、C（轻微）"),
    Col("title", "行为名称", True, ""),
    Col("legal_basis", "认定依据", True, ""),
    Col("facts", "事实", True, ""),
    Col("decided_on", "认定日期", True, "YYYY-MM-DD"),
    Col("points", "分值", False, "留空按评分模型默认分值"),
    Col("months", "公示期（月）", False, "留空按评分模型默认公示期"),
)
BY_KEY = {c.key: c for c in COLUMNS}
KIND_WORDS = {"良好": "good", "良好行为": "good", "good": "good", "不良": "bad", "不良行为": "bad", "bad": "bad"}
SEVERITY_WORDS = {"a": "A", "严重": "A", "b": "B", "一般": "B", "c": "C", "轻微": "C"}
# Action field -> file column (errors of the action are reported under the column).
FIELD_COLUMNS = {"organization": "uscc"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    try:
        year, month, day = (int(part) for part in text.split("-"))
        return dt.date(year, month, day)
    except ValueError:
        return None


def _map_header(cells: Sequence[Any]) -> tuple[dict[str, int], dict[str, str], list[str]]:
    lookup = {normalize_header(c.header): c for c in COLUMNS} | {normalize_header(c.key): c for c in COLUMNS}
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    unknown: list[str] = []
    for i, cell in enumerate(cells):
        text = _text(cell).replace("\ufeff", "")
        if not text:
            continue
        col = lookup.get(normalize_header(text))
        if col is None:
            unknown.append(text)
        elif col.key in index:
            raise ImportFileError(f"列“{names[col.key]}”与列“{text}”重复（都表示“{col.header}”），请删除其中一列")
        else:
            index[col.key], names[col.key] = i, text
    missing = [c.header for c in COLUMNS if c.required and c.key not in index]
    if missing:
        raise ImportFileError(f"缺少必填列：{'、'.join(missing)}。请下载导入模板核对表头")
    return index, names, unknown


def import_partner_records(*, source: bytes, actor: User | None, context: AuditContext) -> ImportReport:
    """Import a partner region's records. File problems end in `report.file_error`; row problems in `errors`."""
    report = ImportReport(kind=KIND)
    try:
        with open_table(source) as table:
            report.file_format, report.encoding = table.file_format, table.encoding
            header: tuple[dict[str, int], dict[str, str]] | None = None
            seen: dict[tuple[str, str], int] = {}
            for number, cells in table.rows:
                if header is None:
                    if not any(_text(c) for c in cells):
                        continue
                    index, names, unknown = _map_header(cells)
                    header = (index, names)
                    if unknown:
                        report.warnings.append(f"以下列不属于导入模板，未导入：{'、'.join(unknown)}")
                    continue
                if not any(_text(c) for c in cells):
                    continue
                report.rows += 1
                _import_row(number, cells, header, seen, report, actor, context)
            if header is None:
                raise ImportFileError("文件是空的：没有表头和数据行")
    except ImportFileError as exc:
        report.file_error = exc.message
    report.error_total = len(report.errors)
    record_event(
        context=context,
        action=AuditAction.CREDIT_IMPORT,
        target_type="credit.behaviourrecord",
        target_repr="外地互认信用记录导入",
        changes={
            "rows": report.rows,
            "created": report.created,
            "unchanged": report.unchanged,
            "refused": report.refused,
            "file_error": report.file_error,
        },
    )
    return report


def _import_row(
    number: int,
    cells: Sequence[Any],
    header: tuple[dict[str, int], dict[str, str]],
    seen: dict[tuple[str, str], int],
    report: ImportReport,
    actor: User | None,
    context: AuditContext,
) -> None:
    index, names = header

    def raw(key: str) -> Any:
        i = index.get(key)
        return cells[i] if i is not None and i < len(cells) else None

    errors: list[RowError] = []

    def error(key: str, reason: str) -> None:
        column = names.get(key, BY_KEY[key].header if key in BY_KEY else key)
        errors.append(RowError(number, column, _text(raw(key))[:100], reason))

    for col in COLUMNS:
        if col.required and not _text(raw(col.key)):
            error(col.key, f"{col.header}不能为空")
        elif _text(raw(col.key)).startswith("="):
            error(col.key, "不能是公式，请填写数值或文字")
    kind = KIND_WORDS.get(_text(raw("kind")).lower(), "") if _text(raw("kind")) else ""
    if _text(raw("kind")) and not kind:
        error("kind", "记录类型应为“良好”或“不良”")
    severity_text = _text(raw("severity"))
    severity = SEVERITY_WORDS.get(severity_text.lower(), "") if severity_text else ""
    if severity_text and not severity:
        error("severity", "不良行为等级应为 A（严重）、B（一般）或 C（轻微）")
    decided_on = _date(raw("decided_on")) if _text(raw("decided_on")) else None
    if _text(raw("decided_on")) and decided_on is None:
        error("decided_on", "日期格式应为 YYYY-MM-DD")
    uscc = _text(raw("uscc")).upper()
    organization = Organization.objects.filter(uscc=uscc).first() if uscc else None
    if uscc and organization is None:
        error("uscc", "该企业未在本市企业库登记")
    key = (_text(raw("origin_region")), _text(raw("origin_no")))
    if all(key):
        if key in seen:
            error("origin_no", f"与第{seen[key]}行的来源地区和原记录编号重复")
        else:
            seen[key] = number
    if (
        not errors
        and BehaviourRecord.objects.filter(source=RecordSource.PARTNER, origin_region=key[0], origin_no=key[1]).exists()
    ):
        report.unchanged += 1
        return
    if not errors:
        try:
            with transaction.atomic():
                actions.create_record(
                    organization=organization,
                    kind=kind or RecordKind.BAD,
                    severity=severity,
                    title=_text(raw("title")),
                    legal_basis=_text(raw("legal_basis")),
                    facts=_text(raw("facts")),
                    decided_on=decided_on,
                    points=_text(raw("points")) or None,
                    months=_text(raw("months")) or None,
                    source=RecordSource.PARTNER,
                    origin_region=key[0],
                    origin_authority=_text(raw("origin_authority")),
                    origin_no=key[1],
                    channel=RecordChannel.IMPORT,
                    actor=actor,
                    context=context,
                )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                column = FIELD_COLUMNS.get(field, field)
                for message in messages:
                    error(column if column in BY_KEY else "uscc", message)
        except PermissionDenied:
            error("uscc", "无权认定该企业的信用记录（不在本机构管辖范围）")
        else:
            report.created += 1
            return
    report.refused += 1
    report.errors.extend(errors)


def template_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.header for c in COLUMNS])
    writer.writerow([f"{'必填' if c.required else '选填'}{'：' + c.rule if c.rule else ''}" for c in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def errors_csv(report: ImportReport) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["行号", "列", "值", "原因"])
    for e in report.errors:
        writer.writerow([e.row, safe_cell_text(e.column), safe_cell_text(e.value), safe_cell_text(e.reason)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
