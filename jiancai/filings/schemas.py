"""The record layouts of FORMATS.md as data, and the one validation every channel uses.

A `RecordSchema` lists the fields of one record kind (Chinese header, English key, type, rules). `parse_row`
turns raw values (strings from a CSV, cells from an XLSX, JSON values from the API, cleaned form data) into
typed values and field errors; `Resolver` looks up the enterprises, projects and categories the rows name,
in one query per kind of reference for a whole batch; `check_row` applies the rules that need those lookups.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from jiancai.accounts.models import Organization
from jiancai.accounts.validators import validate_uscc
from jiancai.materials.models import MaterialCategory
from jiancai.registry.models import Project

from .models import ProjectEventKind, PurchaseMethod, TestKind, TestResult


@dataclass(frozen=True)
class FieldSpec:
    key: str
    header: str
    type: str = "text"  # text | decimal | int | date | datetime | uscc | project | category | choice
    required: bool = False
    max_length: int = 128
    choices: tuple[str, ...] = ()
    min_value: Decimal | None = None
    positive: bool = False
    attr: str | None = None  # model field when it differs from the key


@dataclass(frozen=True)
class RecordSchema:
    kind: str
    title: str
    fields: tuple[FieldSpec, ...]
    filer_key: str | None  # the field naming the filing organization (None: the project's builder)

    def by_key(self) -> dict[str, FieldSpec]:
        return self.specs_by_key

    @functools.cached_property
    def specs_by_key(self) -> dict[str, FieldSpec]:
        """Computed once per schema (the schemas are module constants); do not modify the result."""
        return {f.key: f for f in self.fields}

    @functools.cached_property
    def converters(self) -> tuple[tuple[FieldSpec, Callable[[Any], Any]], ...]:
        """Each field with its value converter, compiled once: what parse_row runs for every row of every channel."""
        return tuple((spec, _converter(spec)) for spec in self.fields)

    @functools.cached_property
    def dated_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.type in ("date", "datetime"))

    def header_map(self) -> dict[str, FieldSpec]:
        """Both the Chinese header and the English key name a column."""
        mapping = {f.key: f for f in self.fields}
        mapping.update({f.header: f for f in self.fields})
        return mapping


def _f(key: str, header: str, type: str = "text", **kw: Any) -> FieldSpec:
    return FieldSpec(key=key, header=header, type=type, **kw)


ZERO = Decimal(0)

SCHEMAS: dict[str, RecordSchema] = {
    "supply": RecordSchema(
        "supply",
        "供应记录",
        (
            _f("supply_no", "供应单号", required=True, max_length=64),
            _f("supplier_uscc", "供应企业统一社会信用代码", "uscc", required=True, attr="filer"),
            _f("project_code", "项目编号", "project", required=True, attr="project"),
            _f("contract_no", "合同编号", required=True, max_length=64),
            _f("category", "材料品类", "category", required=True),
            _f("spec", "规格型号"),
            _f("batch_no", "批号", max_length=64),
            _f("quantity", "数量", "decimal", required=True, positive=True),
            _f("unit", "计量单位", required=True, max_length=8),
            _f("unit_price", "单价(元)", "decimal", min_value=ZERO),
            _f("delivery_date", "供货日期", "date", required=True),
            _f("type_report_no", "型式检验报告编号", max_length=64),
            _f("type_report_agency", "型式检验机构"),
        ),
        filer_key="supplier_uscc",
    ),
    "purchase": RecordSchema(
        "purchase",
        "采购记录",
        (
            _f("purchase_no", "采购单号", required=True, max_length=64),
            _f("purchaser_uscc", "采购单位统一社会信用代码", "uscc", required=True, attr="filer"),
            _f("project_code", "项目编号", "project", required=True, attr="project"),
            _f("supplier_uscc", "供应企业统一社会信用代码", "uscc", required=True, attr="supplier"),
            _f("contract_no", "合同编号", required=True, max_length=64),
            _f("category", "材料品类", "category", required=True),
            _f("spec", "规格型号"),
            _f("batch_no", "批号", max_length=64),
            _f("quantity", "数量", "decimal", required=True, positive=True),
            _f("unit", "计量单位", required=True, max_length=8),
            _f("unit_price", "单价(元)", "decimal", min_value=ZERO),
            _f("purchase_method", "采购方式", "choice", choices=tuple(PurchaseMethod.values)),
            _f("arrival_date", "进场日期", "date"),
            _f("witness_report_no", "见证检测报告编号", max_length=64),
            _f("witness_lab", "见证检测机构"),
            _f("use_location", "拟使用部位"),
            _f("responsible_person", "材料员", max_length=32),
            _f("contact_phone", "联系电话", max_length=32),
        ),
        filer_key="purchaser_uscc",
    ),
    "test_report": RecordSchema(
        "test_report",
        "检测报告",
        (
            _f("report_no", "报告编号", required=True, max_length=64),
            _f("lab_uscc", "检测机构统一社会信用代码", "uscc", required=True, attr="filer"),
            _f("kind", "检测类别", "choice", required=True, choices=tuple(TestKind.values), attr="test_kind"),
            _f("project_code", "项目编号", "project", attr="project"),
            _f("producer_uscc", "生产企业统一社会信用代码", "uscc", attr="producer"),
            _f("category", "材料品类", "category", required=True),
            _f("spec", "规格型号"),
            _f("batch_no", "批号", max_length=64),
            _f("quantity_represented", "代表数量", "decimal", positive=True),
            _f("unit", "计量单位", max_length=8),
            _f("sample_date", "取样日期", "date"),
            _f("test_date", "检测日期", "date", required=True),
            _f("age_days", "龄期(天)", "int", positive=True),
            _f("strength_mpa", "强度代表值(MPa)", "decimal", positive=True),
            _f("result", "检测结果", "choice", required=True, choices=tuple(TestResult.values)),
            _f("items", "检测项目", max_length=2000),
            _f("use_location", "拟使用部位"),
            _f("witness", "见证人", max_length=32),
            _f("sampler", "取样人", max_length=32),
        ),
        filer_key="lab_uscc",
    ),
    "tender": RecordSchema(
        "tender",
        "招投标结果",
        (
            _f("tender_no", "招标编号", required=True, max_length=64),
            _f("project_code", "项目编号", "project", required=True, attr="project"),
            _f("category", "材料品类", "category", required=True),
            _f("winner_uscc", "中标企业统一社会信用代码", "uscc", required=True, attr="winner"),
            _f("contract_no", "合同编号", required=True, max_length=64),
            _f("awarded_price", "中标单价(元)", "decimal", required=True, min_value=ZERO),
            _f("guide_price", "市场指导价(元)", "decimal", min_value=ZERO),
            _f("award_date", "中标日期", "date", required=True),
        ),
        filer_key=None,
    ),
    "ticket": RecordSchema(
        "ticket",
        "预拌混凝土发货单",
        (
            _f("ticket_no", "发货单号", required=True, max_length=64),
            _f("plant_uscc", "搅拌站统一社会信用代码", "uscc", required=True, attr="filer"),
            _f("project_code", "项目编号", "project", required=True, attr="project"),
            _f("contract_no", "合同编号", max_length=64),
            _f("grade", "强度等级", required=True, max_length=16),
            _f("volume", "方量(m³)", "decimal", required=True, positive=True),
            _f("departed_at", "出站时间", "datetime", required=True),
            _f("arrived_at", "到场时间", "datetime"),
            _f("discharged_at", "卸料完成时间", "datetime"),
            _f("vehicle_plate", "车牌号", max_length=16),
            _f("water_added", "现场加水(L)", "decimal", min_value=ZERO),
            _f("pour_location", "浇筑部位"),
        ),
        filer_key="plant_uscc",
    ),
    "project_event": RecordSchema(
        "project_event",
        "工程节点",
        (
            _f("project_code", "项目编号", "project", required=True, attr="project"),
            _f("event", "节点", "choice", required=True, choices=tuple(ProjectEventKind.values)),
            _f("date", "日期", "date", required=True),
            _f("document_no", "文号", max_length=64),
        ),
        filer_key=None,
    ),
}

GRADE_RE = re.compile(r"^C(1[5-9]|[2-7][0-9]|80)(\s*P\d{1,2})?$")
FORMULA_START = ("=", "+", "@", "\t", "\r")
FORMULA_FIRST = frozenset("=+@\t\r-")  # first characters that may start a formula (looks_like_formula)


@dataclass
class FieldError:
    field: str
    code: str
    message: str


@dataclass
class ParsedRow:
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)

    def error(self, spec: FieldSpec, code: str, message: str) -> None:
        self.errors.append(FieldError(spec.key, code, f"{spec.header}：{message}"))


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_START) or (text.startswith("-") and len(text) > 1 and not text[1].isdigit())


def _decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise InvalidOperation
    if isinstance(raw, (int, Decimal)):
        return Decimal(raw)
    if isinstance(raw, float):
        return Decimal(repr(raw))
    return Decimal(str(raw).strip().replace(",", "").replace("，", ""))


def _date(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw).strip().replace("/", "-")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        # The unpadded 2025/3/5 that Chinese Excel writes into a CSV.
        return dt.datetime.strptime(text, "%Y-%m-%d").date()


def _datetime(raw: Any) -> dt.datetime:
    if isinstance(raw, dt.datetime):
        value = raw
    else:
        text = str(raw).strip().replace("/", "-").replace("T", " ")
        value = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M")
    return timezone.make_aware(value) if timezone.is_naive(value) else value  # Beijing time when naive


def parse_row(schema: RecordSchema, raw: Mapping[str, Any]) -> ParsedRow:
    """Types and single-field rules. `raw` is keyed by English key; missing keys count as empty.

    Every field's rules run through the converter `schema.converters` compiled for it once (`_converter`).
    """
    row = ParsedRow()
    values = row.values
    get = raw.get
    for spec, convert in schema.converters:
        value = get(spec.key)
        if isinstance(value, str):
            value = value.strip()
            if (
                value
                and value[0] in FORMULA_FIRST
                and looks_like_formula(value)
                and not (spec.type in ("decimal", "int") and value[0] == "-")
            ):
                row.error(spec, "formula", f"“{value[:20]}”以公式字符开头，为防止公式注入不予接收")
                continue
        if value is None or value == "":
            if spec.required:
                row.error(spec, "required", "为必填项")
            values[spec.key] = None if spec.type != "text" else ""
            continue
        try:
            values[spec.key] = convert(value)
        except _FieldProblem as problem:
            row.error(spec, problem.code, problem.message)
    return row


class _FieldProblem(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _parse_value(spec: FieldSpec, value: Any) -> Any:
    """One non-empty value of a field (text already stripped and checked for formulas)."""
    return _converter(spec)(value)


def _converter(spec: FieldSpec) -> Callable[[Any], Any]:
    """The function turning a non-empty raw value of `spec` into its typed value, or raising _FieldProblem.

    String values arrive stripped and already checked for a formula start (parse_row does that once).
    """
    if spec.type in ("decimal", "int"):
        return functools.partial(_number_value, spec)
    if spec.type == "date":
        return _date_value
    if spec.type == "datetime":
        return _datetime_value
    return functools.partial(_text_value, spec)


def _number_value(spec: FieldSpec, value: Any) -> Any:
    try:
        if type(value) is str and "," not in value and "，" not in value:
            number = Decimal(value)
        else:
            number = _decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise _FieldProblem("invalid_number", f"“{value}”不是有效的数字") from exc
    if not number.is_finite():
        raise _FieldProblem("invalid_number", f"“{value}”不是有效的数字")
    if spec.positive and number <= 0:
        raise _FieldProblem("not_positive", "必须大于0")
    if spec.min_value is not None and number < spec.min_value:
        raise _FieldProblem("too_small", f"不能小于{spec.min_value}")
    if spec.type == "int":
        if number != number.to_integral_value():
            raise _FieldProblem("invalid_integer", "应为整数")
        return int(number)
    return number


def _date_value(value: Any) -> dt.date:
    if type(value) is str:
        try:
            return dt.date.fromisoformat(value)  # the common 2025-03-05; anything else takes the full path
        except ValueError:
            pass
    try:
        return _date(value)
    except (ValueError, TypeError) as exc:
        raise _FieldProblem("invalid_date", f"“{value}”不是有效日期，格式应为 YYYY-MM-DD") from exc


def _datetime_value(value: Any) -> dt.datetime:
    try:
        return _datetime(value)
    except (ValueError, TypeError) as exc:
        raise _FieldProblem("invalid_datetime", f"“{value}”不是有效时间，格式应为 YYYY-MM-DD HH:MM[:SS]") from exc


def _text_value(spec: FieldSpec, value: Any) -> str:
    if type(value) is str:
        text = value
    else:
        text = str(value).strip()
        if looks_like_formula(text):
            raise _FieldProblem("formula", f"“{text[:20]}”以公式字符开头，为防止公式注入不予接收")
    if len(text) > spec.max_length:
        raise _FieldProblem("too_long", f"长度不能超过{spec.max_length}个字符")
    if spec.type == "uscc":
        text = text.upper()
        problem = _uscc_problem(text)
        if problem is not None:
            raise _FieldProblem(*problem)
    elif spec.type == "choice" and text not in spec.choices:
        raise _FieldProblem("invalid_choice", f"“{text}”不是可选值（{'、'.join(spec.choices)}）")
    return text


@functools.lru_cache(maxsize=65536)
def _uscc_problem(text: str) -> tuple[str, str] | None:
    """(code, message) of an invalid USCC, None for a valid one; cached, as a file names few enterprises."""
    try:
        validate_uscc(text)
    except ValidationError as exc:
        return exc.error_list[0].code or "invalid_uscc", exc.messages[0]
    return None


@dataclass(frozen=True)
class ProjectRef:
    id: int
    builder_id: int


@dataclass(frozen=True)
class CategoryRef:
    id: int
    code: str
    unit: str


class Resolver:
    """Looks up the references of a batch of rows: one query per kind of reference, then dictionary hits."""

    def __init__(self) -> None:
        self.orgs: dict[str, int] = {}
        self.projects: dict[str, ProjectRef] = {}
        self.categories: dict[str, CategoryRef] = {}
        for c in MaterialCategory.objects.only("id", "code", "name", "unit"):
            ref = CategoryRef(c.id, c.code, c.unit)
            self.categories[c.code] = ref
            self.categories[c.name] = ref

    def prefetch(self, schema: RecordSchema, rows: Iterable[ParsedRow]) -> None:
        usccs: set[str | None] = set()
        codes: set[str | None] = set()
        uscc_keys = [f.key for f in schema.fields if f.type == "uscc"]
        project_keys = [f.key for f in schema.fields if f.type == "project"]
        for row in rows:
            values = row.values
            usccs.update(values.get(key) for key in uscc_keys)
            codes.update(values.get(key) for key in project_keys)
        usccs -= self.orgs.keys()
        codes -= self.projects.keys()
        for chunk in _chunks(sorted(u for u in usccs if u), 5000):
            self.orgs.update(Organization.objects.filter(uscc__in=chunk).values_list("uscc", "id"))
        for chunk in _chunks(sorted(c for c in codes if c), 5000):
            for code, pid, builder_id in Project.objects.filter(project_code__in=chunk).values_list(
                "project_code", "id", "builder_id"
            ):
                self.projects[code] = ProjectRef(pid, builder_id)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def check_row(schema: RecordSchema, row: ParsedRow, resolver: Resolver, today: dt.date) -> dict[str, Any]:
    """Rules that need references or several fields. Returns the model field values of a valid row."""
    specs = schema.by_key()
    values = row.values
    model_values: dict[str, Any] = {}
    category: CategoryRef | None = None
    project: ProjectRef | None = None
    for spec in schema.fields:
        value = values.get(spec.key)
        attr = spec.attr or spec.key
        if spec.type == "uscc":
            if value:
                org_id = resolver.orgs.get(value)
                if org_id is None:
                    row.error(spec, "unknown_enterprise", f"未找到统一社会信用代码为 {value} 的企业")
                model_values[f"{attr}_id"] = org_id
            else:
                model_values[f"{attr}_id"] = None
        elif spec.type == "project":
            if value:
                project = resolver.projects.get(value)
                if project is None:
                    row.error(spec, "unknown_project", f"未找到项目编号为 {value} 的项目")
                model_values[f"{attr}_id"] = project.id if project else None
            else:
                model_values[f"{attr}_id"] = None
        elif spec.type == "category":
            if value:
                category = resolver.categories.get(value)
                if category is None:
                    row.error(spec, "unknown_category", f"“{value}”不是材料目录中的品类（代码或名称）")
            model_values["category_id"] = category.id if category else None
        else:
            model_values[attr] = value
    unit = values.get("unit")
    if category is not None and unit and unit != category.unit:
        row.error(specs["unit"], "unit_mismatch", f"“{unit}”与品类的计量单位 {category.unit} 不符")
    for spec in schema.dated_fields:
        value = values.get(spec.key)
        if spec.type == "date" and isinstance(value, dt.date) and value > today:
            row.error(spec, "future_date", "不能晚于今天")
        if spec.type == "datetime" and isinstance(value, dt.datetime) and value.date() > today:
            row.error(spec, "future_date", "不能晚于今天")
    _order(row, specs, values, "sample_date", "test_date", "检测日期不能早于取样日期")
    _order(row, specs, values, "departed_at", "arrived_at", "到场时间不能早于出站时间")
    _order(row, specs, values, "arrived_at", "discharged_at", "卸料完成时间不能早于到场时间")
    if schema.kind == "test_report" and values.get("kind") == TestKind.WITNESS and not values.get("project_code"):
        row.error(specs["project_code"], "required", "见证检测报告须填写项目编号")
    if schema.kind == "ticket" and values.get("grade") and not GRADE_RE.match(values["grade"]):
        row.error(
            specs["grade"], "invalid_grade", f"“{values['grade']}”不是有效的强度等级（C15–C80，可带抗渗等级如 P8）"
        )
    if schema.filer_key is None and project is not None:
        model_values["filer_id"] = project.builder_id
    return model_values


def _order(
    row: ParsedRow, specs: dict[str, FieldSpec], values: Mapping[str, Any], first: str, second: str, msg: str
) -> None:
    a, b = values.get(first), values.get(second)
    if a is not None and b is not None and b < a:
        spec = specs[second]
        row.errors.append(FieldError(spec.key, "date_order", f"{spec.header}：{msg}"))
