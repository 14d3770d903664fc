"""The columns of an alert in the XLSX and CSV exports and `manage.py export_alerts`: one definition for all three.

Other systems match alerts to their own records by the rule code and the subject's natural key (FORMATS.md keys):
the key fields the rules use have a column each, and `对象主键` holds the whole key as JSON (also the fields of rules
added later).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import IO, Any

from django.db.models import QuerySet

from jiancai.ui.lists import Column
from jiancai.ui.spreadsheets import csv_text

from .models import Alert

# Natural-key fields of the subjects (FORMATS.md English key -> Chinese header).
KEY_FIELDS: tuple[tuple[str, str], ...] = (
    ("supplier_uscc", "供应企业统一社会信用代码"),
    ("supply_no", "供应单号"),
    ("purchaser_uscc", "采购单位统一社会信用代码"),
    ("purchase_no", "采购单号"),
    ("lab_uscc", "检测机构统一社会信用代码"),
    ("report_no", "报告编号"),
    ("plant_uscc", "搅拌站统一社会信用代码"),
    ("ticket_no", "发货单号"),
    ("category", "材料品类"),
    ("spec", "规格型号"),
    ("grade", "强度等级"),
)

RELATED = ("rule", "district", "project")


def parameters_text(parameters: dict[str, Any]) -> str:
    """The parameter snapshot as words: "宽限期=15天；数量容差=3%"."""
    return "；".join(
        f"{p.get('label', name)}={p.get('value', '')}{p.get('unit', '')}"
        for name, p in (parameters or {}).items()
        if isinstance(p, dict)
    )


def _key(field: str) -> Column:
    return Column(next(label for k, label in KEY_FIELDS if k == field), lambda a: (a.subject_key or {}).get(field))


EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("预警编号", "pk"),
    Column("规则编号", "rule.code"),
    Column("规则名称", "rule.title"),
    Column("比对对象类型", "subject_kind"),
    *(_key(field) for field, _ in KEY_FIELDS),
    Column("对象主键", lambda a: json.dumps(a.subject_key, ensure_ascii=False, sort_keys=True)),
    Column("对象", "subject_label"),
    Column("比对结果", "message"),
    Column("状态", "status"),
    Column("所在区", "district.name"),
    Column("项目编号", "project.project_code"),
    Column("合同编号", "contract_no"),
    Column("首次预警时间", "raised_at"),
    Column("消除时间", "resolved_at"),
    Column("参数取值", lambda a: parameters_text(a.parameters)),
)


def export_rows(alerts: QuerySet[Alert]) -> Iterable[list[Any]]:
    for alert in alerts.select_related(*RELATED).iterator(chunk_size=2000):
        yield [c.resolve(alert) for c in EXPORT_COLUMNS]


def write_csv(stream: IO[str], rows: Iterable[list[Any]]) -> int:
    """UTF-8 CSV with a BOM (so Excel reads Chinese), every cell formula-safe. Returns the number of rows."""
    stream.write("\ufeff")
    writer = csv.writer(stream)
    writer.writerow([c.label for c in EXPORT_COLUMNS])
    count = 0
    for row in rows:
        writer.writerow([csv_text(v) for v in row])
        count += 1
    return count
