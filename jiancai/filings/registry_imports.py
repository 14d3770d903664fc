"""Bulk import of the registry records of FORMATS.md: enterprise, qualification, capacity, project (registry app),
product_filing and catalog_entry (materials app).

The layouts are `FieldSpec`s like the filing layouts (`REGISTRY_SCHEMAS`), used for the header mapping, the
templates and the parsing of cell values (`schemas.parse_row`). Everything else is the registry's own: each good
row is handed, inside its own savepoint, to the action the web form and the API call (`registry.actions.save_record`
/ `save_enterprise`, `materials.actions.save_product_filing` / `save_catalog_entry`), so validation (`full_clean`),
ownership (the funnel), versioning, the reset of a verified item to pending and the audit row are exactly theirs.
A `ValidationError` of the action becomes row errors under the FORMATS.md keys (model field `organization` is the
column `uscc`, …), a `PermissionDenied` a row error on the row's owner column.

`store_registry_rows` returns the `BatchResult` / `RowResult` shape of `actions.file_records`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction

from jiancai.accounts.access import Action, role_allows
from jiancai.accounts.models import District, Organization, OrganizationKind, User
from jiancai.accounts.roles import OrgType
from jiancai.audit.actions import AuditContext, jsonable, snapshot
from jiancai.materials.actions import save_catalog_entry, save_product_filing
from jiancai.materials.models import CatalogEntry, Listing, MaterialCategory, ProductFiling
from jiancai.registry.actions import save_enterprise, save_record
from jiancai.registry.models import (
    Capacity,
    Project,
    ProjectType,
    Qualification,
    QualificationStatus,
    StructureType,
)

from .actions import BatchResult, Outcome, RowResult
from .schemas import FieldError, FieldSpec, ParsedRow, RecordSchema, parse_row

# Extra cell types of the registry layouts; `parse_row` treats them as text (length, formula check), the
# conversion below resolves them.
#   list: several names separated by 、 or ; (enterprise kinds)   bool: 是/否   district: a district's name or code
LIST_SEPARATORS = ("、", ";", "；", ",", "，")
TRUE_TEXTS = frozenset({"是", "Y", "YES", "TRUE", "1"})
FALSE_TEXTS = frozenset({"否", "N", "NO", "FALSE", "0"})


def _f(key: str, header: str, type: str = "text", **kw: Any) -> FieldSpec:
    return FieldSpec(key=key, header=header, type=type, **kw)


ENTERPRISE_KIND_NAMES = (
    "生产企业",
    "供应企业",
    "预拌混凝土企业",
    "预拌砂浆企业",
    "施工单位",
    "建设单位",
    "监理单位",
    "检测机构",
    "运输企业",
    "电商平台",
)

REGISTRY_SCHEMAS: dict[str, RecordSchema] = {
    "enterprise": RecordSchema(
        "enterprise",
        "企业",
        (
            _f("uscc", "统一社会信用代码", "uscc", required=True, max_length=18),
            _f("name", "企业名称", required=True, max_length=200),
            _f("kinds", "企业类型", "list", required=True, max_length=200, choices=ENTERPRISE_KIND_NAMES),
            _f("district", "所在区", "district", required=True, max_length=32),
            _f("legal_representative", "法定代表人", max_length=64),
            _f("address", "注册地址", max_length=255),
            _f("phone", "联系电话", max_length=32),
        ),
        filer_key="uscc",
    ),
    "qualification": RecordSchema(
        "qualification",
        "资质证书",
        (
            _f("uscc", "统一社会信用代码", "uscc", required=True, attr="organization"),
            _f("certificate_no", "证书编号", required=True, max_length=64),
            _f("qualification_type", "资质类别", required=True, max_length=64),
            _f("grade", "资质等级", max_length=32),
            _f("issued_on", "发证日期", "date", required=True),
            _f("valid_until", "有效期至", "date", required=True),
            _f("status", "状态", "choice", choices=tuple(QualificationStatus.values)),
        ),
        filer_key="uscc",
    ),
    "capacity": RecordSchema(
        "capacity",
        "产能",
        (
            _f("uscc", "统一社会信用代码", "uscc", required=True, attr="organization"),
            _f("category", "材料品类", "category", required=True),
            _f("annual_capacity", "年产能", "decimal", required=True),
            _f("unit", "计量单位", required=True, max_length=8),
        ),
        filer_key="uscc",
    ),
    "project": RecordSchema(
        "project",
        "工程项目",
        (
            _f("project_code", "项目编号", required=True, max_length=32),
            _f("name", "项目名称", required=True, max_length=200),
            _f("district", "所在区", "district", required=True, max_length=32),
            _f("builder_uscc", "建设单位", "uscc", required=True, attr="builder"),
            _f("contractor_uscc", "施工单位", "uscc", attr="contractor"),
            _f("supervisor_uscc", "监理单位", "uscc", attr="supervisor"),
            _f("floor_area", "建筑面积(㎡)", "decimal", required=True),
            _f("structure_type", "结构型式", "choice", required=True, choices=tuple(StructureType.values)),
            _f("project_type", "工程类别", "choice", required=True, choices=tuple(ProjectType.values)),
            _f("budget", "投资额(万元)", "decimal"),
            _f("government_funded", "政府投资", "bool", max_length=8),
            _f("start_date", "开工日期", "date"),
            _f("completion_date", "竣工日期", "date"),
        ),
        filer_key="builder_uscc",
    ),
    "product_filing": RecordSchema(
        "product_filing",
        "产品供应备案",
        (
            _f("filing_no", "备案编号", required=True, max_length=64),
            _f("producer_uscc", "生产企业统一社会信用代码", "uscc", required=True, attr="producer"),
            _f("category", "材料品类", "category", required=True),
            _f("product_name", "产品名称", required=True, max_length=128),
            _f("spec", "规格型号", max_length=128),
            _f("type_report_no", "型式检验报告编号", max_length=64),
            _f("type_report_agency", "型式检验机构", max_length=128),
            _f("type_report_valid_until", "报告有效期至", "date"),
            _f("valid_until", "备案有效期至", "date"),
        ),
        filer_key="producer_uscc",
    ),
    "catalog_entry": RecordSchema(
        "catalog_entry",
        "推广、限制、禁止使用建材目录",
        (
            _f("entry_no", "目录编号", required=True, max_length=32),
            _f("listing", "类别", "choice", required=True, choices=tuple(Listing.values)),
            _f("category", "材料品类", "category", required=True),
            _f("product_name", "产品名称", required=True, max_length=128),
            _f("spec_keyword", "规格型号关键字", max_length=64),
            _f("scope", "限制范围", max_length=128),
            _f("effective_from", "生效日期", "date", required=True),
            _f("effective_until", "失效日期", "date"),
            _f("document_no", "发布文号", required=True, max_length=64),
        ),
        filer_key=None,
    ),
}

# The natural key of each layout, as input keys (FORMATS.md **key**; a capacity is one per enterprise and category).
REGISTRY_KEYS: dict[str, tuple[str, ...]] = {
    "enterprise": ("uscc",),
    "qualification": ("certificate_no",),
    "capacity": ("uscc", "category"),
    "project": ("project_code",),
    "product_filing": ("filing_no",),
    "catalog_entry": ("entry_no",),
}

REGISTRY_MODELS: dict[str, type[models.Model]] = {
    "enterprise": Organization,
    "qualification": Qualification,
    "capacity": Capacity,
    "project": Project,
    "product_filing": ProductFiling,
    "catalog_entry": CatalogEntry,
}

# Extra rules shown in the templates' 填写说明 sheet (checked by the models and actions, not here).
REGISTRY_RULES: dict[tuple[str, str], str] = {
    ("enterprise", "uscc"): "GB 32100 校验；新企业由住建委系统管理员登记，企业单位管理员只能修改本企业",
    ("enterprise", "kinds"): "多个类型用“、”或“;”分隔",
    ("enterprise", "district"): "本市的区名，如 朝阳区",
    ("qualification", "uscc"): "须为本单位（企业用户）",
    ("qualification", "valid_until"): "不能早于发证日期",
    ("capacity", "uscc"): "须为本单位（企业用户）；每个企业每个品类一条",
    ("project", "district"): "本市的区名，如 朝阳区",
    ("project", "builder_uscc"): "须为本单位（由建设单位填报）",
    ("project", "floor_area"): "必须大于0",
    ("project", "budget"): "不能小于0",
    ("project", "government_funded"): "是/否，空为否",
    ("project", "completion_date"): "不能早于开工日期",
    ("product_filing", "producer_uscc"): "须为本单位，且为生产企业（预拌混凝土、预拌砂浆企业亦可）",
    ("catalog_entry", "effective_until"): "不能早于生效日期",
}

# Which column a model field's error belongs to, when it is not the field of the same name.
FIELD_TO_KEY: dict[str, dict[str, str]] = {
    kind: {spec.attr: spec.key for spec in schema.fields if spec.attr} for kind, schema in REGISTRY_SCHEMAS.items()
}


def registry_model(kind: str) -> type[models.Model]:
    return REGISTRY_MODELS[kind]


def registry_kinds_for(user: Any) -> list[str]:
    """The registry kinds the user may import: the role the model grants CHANGE to, and for enterprise users only
    the kinds their enterprise files (projects: builders; product filings: producers)."""
    if user is None:
        return []
    org = getattr(user, "organization", None)
    if org is None:
        return []
    kinds: list[str] = []
    codes: set[str] = set() if org.is_regulator else set(org.kinds.values_list("code", flat=True))
    for kind, model in REGISTRY_MODELS.items():
        if not role_allows(user, model, Action.CHANGE):
            continue
        if kind == "enterprise" and not org.is_regulator and user.role != "org_admin":
            continue
        if kind == "project" and "builder" not in codes:
            continue
        if kind == "product_filing" and not codes & {"producer", "concrete_plant", "mortar_plant"}:
            continue
        kinds.append(kind)
    return kinds


# ------------------------------------------------------------------------------------------------ references


class RegistryResolver:
    """The reference tables the rows name, read once per import (districts, enterprise kinds, categories) and
    enterprises by USCC, once per chunk."""

    def __init__(self) -> None:
        self.districts: dict[str, District] = {}
        for d in District.objects.all():
            self.districts[d.name] = d
            self.districts[d.code] = d
        self.org_kinds: dict[str, OrganizationKind] = {}
        for k in OrganizationKind.objects.all():
            self.org_kinds[k.name] = k
            self.org_kinds[k.code] = k
        self.categories: dict[str, MaterialCategory] = {}
        for c in MaterialCategory.objects.all():
            self.categories[c.code] = c
            self.categories[c.name] = c
        self.orgs: dict[str, Organization] = {}

    def prefetch(self, schema: RecordSchema, rows: Sequence[ParsedRow]) -> None:
        usccs = {
            row.values[spec.key]
            for row in rows
            for spec in schema.fields
            if spec.type == "uscc" and row.values.get(spec.key)
        } - self.orgs.keys()
        if usccs:
            self.orgs.update((o.uscc, o) for o in Organization.objects.filter(uscc__in=usccs))


def _error(errors: list[FieldError], spec: FieldSpec, code: str, message: str) -> None:
    errors.append(FieldError(spec.key, code, message))


def _convert(
    kind: str, schema: RecordSchema, row: ParsedRow, resolver: RegistryResolver
) -> tuple[dict[str, Any], list[OrganizationKind]]:
    """The parsed values as model field values (references resolved, text types converted)."""
    data: dict[str, Any] = {}
    kinds: list[OrganizationKind] = []
    model = REGISTRY_MODELS[kind]
    for spec in schema.fields:
        value = row.values.get(spec.key)
        attr = spec.attr or spec.key
        if spec.type == "uscc":
            if kind == "enterprise":
                data[attr] = value
                continue
            org = resolver.orgs.get(value) if value else None
            if value and (org is None or org.is_regulator):
                _error(row.errors, spec, "unknown_enterprise", f"未找到统一社会信用代码为 {value} 的企业")
            data[attr] = org
        elif spec.type == "district":
            district = resolver.districts.get(value) if value else None
            if value and district is None:
                _error(row.errors, spec, "unknown_district", f"“{value}”不是本市的区")
            data[attr] = district
        elif spec.type == "category":
            category = resolver.categories.get(value) if value else None
            if value and category is None:
                _error(row.errors, spec, "unknown_category", f"“{value}”不是材料目录中的品类（代码或名称）")
            # The capacity stores the category code; filings and catalog entries reference the category row.
            data[attr] = (category.code if category else value) if kind == "capacity" else category
        elif spec.type == "list":
            names = [value or ""]
            for separator in LIST_SEPARATORS:
                names = [part for name in names for part in name.split(separator)]
            for name in (n.strip() for n in names):
                if not name:
                    continue
                found = resolver.org_kinds.get(name)
                if found is None:
                    _error(row.errors, spec, "invalid_choice", f"“{name}”不是可选值（{'、'.join(spec.choices)}）")
                elif found not in kinds:
                    kinds.append(found)
        elif spec.type == "bool":
            text = (value or "").upper()
            if text in TRUE_TEXTS:
                data[attr] = True
            elif text in FALSE_TEXTS or not text:
                data[attr] = False
            else:
                _error(row.errors, spec, "invalid_bool", f"“{value}”应为“是”或“否”")
        elif spec.type == "decimal" and isinstance(value, Decimal):
            # Stored with the field's decimal places: "100" and the stored 100.000 are the same value, not a change.
            places = model._meta.get_field(attr).decimal_places  # type: ignore[union-attr]
            try:
                data[attr] = value.quantize(Decimal(1).scaleb(-places))
            except ArithmeticError:
                data[attr] = value  # too many digits: full_clean says so
        elif spec.type == "choice" and not value:
            if spec.key == "status":
                continue  # the model's default (有效) for a new certificate, the current status for an edit
            data[attr] = ""
        else:
            data[attr] = value
    return data, kinds


# ----------------------------------------------------------------------------------------------- storing


def _existing(kind: str, data: Mapping[str, Any]) -> models.Model | None:
    if kind == "enterprise":
        return Organization.objects.filter(uscc=data["uscc"]).first()
    if kind == "qualification":
        return Qualification.objects.filter(certificate_no=data["certificate_no"]).first()
    if kind == "capacity":
        return Capacity.objects.filter(organization=data["organization"], category=data["category"]).first()
    if kind == "project":
        return Project.objects.filter(project_code=data["project_code"]).first()
    if kind == "product_filing":
        return ProductFiling.objects.filter(filing_no=data["filing_no"]).first()
    return CatalogEntry.objects.filter(entry_no=data["entry_no"]).first()


def _state(instance: models.Model) -> dict[str, Any]:
    state = snapshot(instance)
    if isinstance(instance, Organization) and instance.pk:
        state["kinds"] = sorted(instance.kinds.values_list("code", flat=True))
    return state


def _save(
    kind: str,
    instance: models.Model,
    data: dict[str, Any],
    kinds: list[OrganizationKind],
    actor: User,
    context: AuditContext,
) -> models.Model:
    if isinstance(instance, Organization):
        return save_enterprise(instance=instance, data=data, kinds=kinds, actor=actor, context=context)
    if isinstance(instance, ProductFiling):
        return save_product_filing(instance=instance, data=data, actor=actor, context=context)
    if isinstance(instance, CatalogEntry):
        return save_catalog_entry(instance=instance, data=data, actor=actor, context=context)
    return save_record(instance=instance, data=data, actor=actor, context=context)


def _owner_key(kind: str, schema: RecordSchema) -> str:
    return schema.filer_key or REGISTRY_KEYS[kind][0]


def validation_errors(kind: str, exc: ValidationError) -> list[FieldError]:
    """A model or action ValidationError as row errors under the layout's keys."""
    schema = REGISTRY_SCHEMAS[kind]
    keys = {spec.key for spec in schema.fields}
    fallback = REGISTRY_KEYS[kind][-1]
    mapping = FIELD_TO_KEY[kind]
    found: list[FieldError] = []
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            key = mapping.get(name, name)
            if key not in keys:  # __all__ (e.g. one capacity per category), version, …: the record as a whole
                key = fallback
            for error in errors:
                for message in ValidationError(error).messages:
                    found.append(FieldError(key, error.code or "invalid", message))
    else:
        for error in exc.error_list:
            for message in ValidationError(error).messages:
                found.append(FieldError(fallback, error.code or "invalid", message))
    return found


@dataclass
class _Prepared:
    index: int
    parsed: ParsedRow
    key: dict[str, Any]


def store_registry_rows(
    *,
    kind: str,
    rows: Sequence[Mapping[str, Any]],
    context: AuditContext,
    actor: User | None,
) -> BatchResult:
    """Store rows (keyed by the FORMATS.md English keys) of a registry kind, each through its action in its own
    savepoint: a refused row leaves nothing behind, and never stops the others."""
    if kind not in REGISTRY_SCHEMAS:
        raise ValidationError({"kind": f"未知的记录类型“{kind}”"})
    schema = REGISTRY_SCHEMAS[kind]
    results: list[RowResult] = []
    prepared: list[_Prepared] = []
    for index, raw in enumerate(rows):
        parsed = parse_row(schema, raw)
        prepared.append(_Prepared(index, parsed, {k: jsonable(parsed.values.get(k)) for k in REGISTRY_KEYS[kind]}))
    resolver = RegistryResolver()
    resolver.prefetch(schema, [p.parsed for p in prepared])
    owner_key = _owner_key(kind, schema)
    for item in prepared:
        parsed = item.parsed
        if actor is None:
            parsed.errors.append(FieldError(owner_key, "no_actor", "登记类记录须以某个用户的身份导入"))
        data, kinds = _convert(kind, schema, parsed, resolver)
        if parsed.errors or actor is None:
            results.append(RowResult(item.index, Outcome.REFUSED, item.key, parsed.errors))
            continue
        results.append(_store_one(kind, item, data, kinds, actor, context, owner_key))
    return BatchResult(kind, results)


def _store_one(
    kind: str,
    item: _Prepared,
    data: dict[str, Any],
    kinds: list[OrganizationKind],
    actor: User,
    context: AuditContext,
    owner_key: str,
) -> RowResult:
    existing = _existing(kind, data)
    if kind == "enterprise" and existing is not None and isinstance(existing, Organization):
        if existing.org_type != OrgType.ENTERPRISE:
            error = FieldError("uscc", "not_enterprise", "该统一社会信用代码属于监管机构，不能作为企业导入")
            return RowResult(item.index, Outcome.REFUSED, item.key, [error])
    instance = existing if existing is not None else REGISTRY_MODELS[kind]()
    before = _state(existing) if existing is not None else None
    try:
        with transaction.atomic():
            saved = _save(kind, instance, data, kinds, actor, context)
    except ValidationError as exc:
        return RowResult(item.index, Outcome.REFUSED, item.key, validation_errors(kind, exc))
    except PermissionDenied as exc:
        message = str(exc) or "无权导入该记录"
        return RowResult(item.index, Outcome.REFUSED, item.key, [FieldError(owner_key, "forbidden", message)])
    except IntegrityError:
        # Another user stored the same key between the lookup and the insert: the file can be imported again.
        error = FieldError(REGISTRY_KEYS[kind][-1], "conflict", "该记录刚被他人同时保存，请重新导入")
        return RowResult(item.index, Outcome.REFUSED, item.key, [error])
    if before is None:
        outcome = Outcome.CREATED
    else:
        saved.refresh_from_db()
        outcome = Outcome.UNCHANGED if _state(saved) == before else Outcome.UPDATED
    return RowResult(item.index, outcome, item.key, version=getattr(saved, "version", None), pk=saved.pk)
