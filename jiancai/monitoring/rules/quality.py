"""Rules on the quality papers of delivered material: type-inspection reports and product supply filings (XC06,
XC07), witness re-tests and their batches (XC08, XC10, XC11), and failed tests with their trace (XC09).

The platform models no separate producer on a supply: the supplying enterprise (the supply's filer) is taken as
the producer, so its product supply filings (`ProductFiling.producer`) and the producer named on test reports
(`TestReport.producer`) are compared with it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber

from jiancai.filings.models import FilingStatus, Purchase, Supply, TestKind, TestReport, TestResult
from jiancai.materials.models import ProductFiling

from ..models import ACTIVE_STATUSES, Alert
from ..trace import TRACE_ORDER, batch_supplies, with_trace_columns
from .base import (
    NOTHING,
    Context,
    Finding,
    Param,
    Record,
    RuleLogic,
    Scope,
    among,
    any_of,
    fmt_decimal,
    fmt_param,
    register,
)
from .common import (
    MONEY,
    PURCHASE_KEY,
    REPORT_KEY,
    SUPPLY_KEY,
    GroupSubquery,
    boolean,
    current,
    due_on,
    ids_scope,
    overdue,
    record_projects,
    scoped,
    submitted,
)

SEED_000 = "《以信用为纽带推进“互联网+建材”》（北京市建材使用管理信息化监控系统）"

BASIS_TYPE_REPORT = (
    f"{SEED_000}：生产供应企业应“如实报告销售材料的情况：销给谁，销了多少？型式检验报告编号？”；"
    "信息比对点——建材生产供应信息的“型式检验报告编号”“型式检测单位名称”与产品供应备案相互比对，不能对应后台警示"
)
BASIS_PRODUCT_FILING = (
    f"{SEED_000}：建材生产企业产品供应备案（建材供应企业凭密备案）；信息比对点——建材生产供应信息的"
    "“生产供应企业名称”“产品规格型号”不能对应后台警示"
)
BASIS_RETEST = (
    f"{SEED_000}四项原则“谁使用谁负责”：施工单位应严格按照国家有关法律法规和相关标准要求对建材进场复试、检验；"
    "信息比对点——建材采购使用信息的“见证检测报告编号”“见证检测单位名称”"
)
BASIS_FAILED = (
    f"{SEED_000}：质量预警——根据政府抽检、见证检测数据对某类产品、某企业产品质量实施预警；四项原则"
    "“谁使用谁负责”——施工单位阻止不合格材料进入建设工地，并配合建材管理部门对不合格材料进行溯源"
)
BASIS_CITED_REPORT = (
    f"{SEED_000}信息比对点——建材检测信息的“检测报告编号”“拟使用部位”与建材采购使用信息的“见证检测报告编号”"
    "“生产供应企业名称”“工程名称”“产品规格型号”相互比对，不能对应后台警示；“检测的是谁的材料？”"
)
BASIS_BATCHES = (
    f"{SEED_000}信息比对点——工程完结信息判断：“见证检测批次是否达标”；检验批量按材料品类设定"
    "（如钢筋每 60 t、散装水泥每 500 t、袋装水泥每 200 t、预拌混凝土每 100 m³ 一个检验批）"
)

SUPPLY_COLUMNS = (
    "violates",
    "id",
    "supply_no",
    "filer_id",
    "filer__uscc",
    "filer__name",
    "project_id",
    "project__project_code",
    "project__name",
    "project__district_id",
    "project__contractor_id",
    "contract_no",
    "category_id",
    "category__name",
    "spec",
    "batch_no",
    "quantity",
    "unit",
    "delivery_date",
    "type_report_no",
)

PURCHASE_COLUMNS = (
    "violates",
    "id",
    "purchase_no",
    "filer_id",
    "filer__uscc",
    "filer__name",
    "supplier_id",
    "supplier__uscc",
    "supplier__name",
    "project_id",
    "project__project_code",
    "project__name",
    "project__district_id",
    "contract_no",
    "category_id",
    "category__name",
    "spec",
    "batch_no",
    "quantity",
    "unit",
)


def _money(expression: Any) -> ExpressionWrapper:
    return ExpressionWrapper(expression, output_field=MONEY)


def _text(expression: Any) -> Any:
    return Coalesce(expression, Value(""), output_field=CharField())


def _spec(spec: str) -> str:
    return f" {spec}" if spec else ""


def _supply_head(row: Mapping[str, Any]) -> str:
    """ "2025-06-01 供货 钢筋 HRB400E Φ20 60.000 t（项目 …，合同 …）" — the supply as the supplier filed it."""
    return (
        f"{row['delivery_date']:%Y-%m-%d} 供货 {row['category__name']}{_spec(row['spec'])} "
        f"{fmt_decimal(row['quantity'])} {row['unit']}"
        f"（项目 {row['project__project_code']}，合同 {row['contract_no']}）"
    )


def _supply_finding(row: Mapping[str, Any], message: str, values: dict[str, Any], *extra: Record) -> Finding:
    return Finding(
        ref=f"supply:{row['filer__uscc']}:{row['supply_no']}",
        key={"supplier_uscc": row["filer__uscc"], "supply_no": row["supply_no"]},
        label=f"供应单 {row['supply_no']}（{row['filer__name']}）",
        message=message,
        records=[
            Record("supply", row["id"], f"供应单 {row['supply_no']}"),
            Record("project", row["project__project_code"], row["project__name"]),
            Record("enterprise", row["filer__uscc"], row["filer__name"]),
            *extra,
        ],
        values=values,
        project_id=row["project_id"],
        district_id=row["project__district_id"],
        supplier_id=row["filer_id"],
        contractor_id=row["project__contractor_id"],
        contract_no=row["contract_no"],
    )


def _purchase_ref(row: Mapping[str, Any]) -> str:
    return f"purchase:{row['filer__uscc']}:{row['purchase_no']}"


def _purchase_finding(
    row: Mapping[str, Any],
    message: str,
    values: dict[str, Any],
    *extra: Record,
    laboratory_id: int | None = None,
) -> Finding:
    return Finding(
        ref=_purchase_ref(row),
        key={"purchaser_uscc": row["filer__uscc"], "purchase_no": row["purchase_no"]},
        label=f"采购单 {row['purchase_no']}（{row['filer__name']}）",
        message=message,
        records=[
            Record("purchase", row["id"], f"采购单 {row['purchase_no']}"),
            Record("project", row["project__project_code"], row["project__name"]),
            Record("enterprise", row["supplier__uscc"], row["supplier__name"]),
            *extra,
        ],
        values=values,
        project_id=row["project_id"],
        district_id=row["project__district_id"],
        supplier_id=row["supplier_id"],
        contractor_id=row["filer_id"],
        laboratory_id=laboratory_id,
        contract_no=row["contract_no"],
    )


def _changed_supplies(scope: Scope) -> QuerySet[Any]:
    """The supplies a scope names (any version: the scope carries the earlier versions of corrected records)."""
    rows: QuerySet[Any] = Supply.objects.filter(among("pk", scope.ids("supply")))
    return rows


def _changed_batches(scope: Scope) -> Q | None:
    """Reports of the producers and batch numbers of the supplies a scope names, as literal values: an index
    condition on (producer, batch_no), so the run reads only those reports (a correlated EXISTS in the scope's OR
    made PostgreSQL visit every report). Over-approximated by the two sets, which a scope may do."""
    pairs = set(_changed_supplies(scope).exclude(batch_no="").values_list("filer_id", "batch_no").distinct())
    if not pairs:
        return None
    return Q(producer_id__in={p for p, _ in pairs}, batch_no__in={b for _, b in pairs})


def _organizations(scope: Scope, field: str) -> Q | None:
    return Q(**{f"{field}__in": scope.organizations}) if scope.organizations else None


# ------------------------------------------------------------------------------------------------ XC06


@register
class TypeReportMismatch(RuleLogic):
    code = "XC06"
    title = "型式检验报告不符"
    basis = BASIS_TYPE_REPORT
    subject_kind = "supply"
    applies_to = "供应记录、产品供应备案"
    description = (
        "供应记录填报的型式检验报告编号与产品供应备案对照：查无此号；属于其他生产企业或其他材料品类的产品；"
        "报告有效期早于供货日期。供应企业本身备案的该品类产品带有型式检验报告编号而供应记录未填报的，"
        "也予预警（“未填报时预警”参数为 0 时不预警）。供应企业即视为生产企业。"
    )
    params = (
        Param(
            "require_number",
            "未填报时预警",
            Decimal(1),
            "",
            maximum=Decimal(1),
            help="1：本企业该品类备案带有型式检验报告编号而供应未填报的，预警；0：不预警",
        ),
    )
    watches = frozenset({"supply", "organization"})
    key_columns = ("id", *SUPPLY_KEY)

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        known = ProductFiling.objects.filter(type_report_no=OuterRef("type_report_no"))
        matching = known.filter(producer_id=OuterRef("filer_id"), category_id=OuterRef("category_id"))
        valid = matching.filter(
            Q(type_report_valid_until__isnull=True) | Q(type_report_valid_until__gte=OuterRef("delivery_date"))
        )
        own_numbered = ProductFiling.objects.filter(
            producer_id=OuterRef("filer_id"), category_id=OuterRef("category_id")
        ).exclude(type_report_no="")
        blank = Q(type_report_no="")
        missing = blank & Exists(own_numbered) if ctx.params["require_number"] >= 1 else None
        cases = [When(missing, then=Value("missing"))] if missing is not None else []
        cases += [
            When(blank, then=Value("")),
            When(~Exists(known), then=Value("unknown")),
            When(~Exists(matching), then=Value("other")),
            When(~Exists(valid), then=Value("expired")),
        ]
        qs = scoped(
            current(Supply),
            scope,
            ids_scope(scope, "supply") if scope else None,
            _organizations(scope, "filer_id") if scope else None,
            Q(
                type_report_no__in=ProductFiling.objects.filter(producer_id__in=scope.organizations)
                .exclude(type_report_no="")
                .values("type_report_no")
            )
            if scope and scope.organizations
            else None,
        )
        rows: QuerySet[Any] = (
            qs.annotate(problem=Case(*cases, default=Value(""), output_field=CharField()))
            .annotate(
                violates=boolean(Q(status=FilingStatus.SUBMITTED) & ~Q(problem="")),
                own_filing_no=_text(Subquery(own_numbered.order_by("filing_no").values("filing_no")[:1])),
                own_report_no=_text(Subquery(own_numbered.order_by("filing_no").values("type_report_no")[:1])),
                other_filing_no=_text(Subquery(known.order_by("filing_no").values("filing_no")[:1])),
                other_producer=_text(Subquery(known.order_by("filing_no").values("producer__name")[:1])),
                other_category=_text(Subquery(known.order_by("filing_no").values("category__name")[:1])),
                expired_filing_no=_text(
                    Subquery(matching.order_by("-type_report_valid_until", "filing_no").values("filing_no")[:1])
                ),
                expired_until=Subquery(
                    matching.order_by("-type_report_valid_until", "filing_no").values("type_report_valid_until")[:1],
                    output_field=DateField(),
                ),
            )
            .values(
                *SUPPLY_COLUMNS,
                "problem",
                "own_filing_no",
                "own_report_no",
                "other_filing_no",
                "other_producer",
                "other_category",
                "expired_filing_no",
                "expired_until",
            )
        )
        return rows

    def ref(self, row: Mapping[str, Any]) -> str:
        return f"supply:{row['filer__uscc']}:{row['supply_no']}"

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        problem, number = row["problem"], row["type_report_no"]
        head = _supply_head(row)
        values: dict[str, Any] = {"problem": problem, "type_report_no": number}
        extra: list[Record] = []
        if problem == "missing":
            detail = (
                f"未填报型式检验报告编号；本企业产品供应备案 {row['own_filing_no']} 的{row['category__name']}"
                f"产品型式检验报告编号为 {row['own_report_no']}"
            )
            values |= {"filing_no": row["own_filing_no"], "filed_report_no": row["own_report_no"]}
            extra.append(Record("product_filing", row["own_filing_no"], f"产品供应备案 {row['own_filing_no']}"))
        elif problem == "unknown":
            detail = f"填报的型式检验报告编号 {number} 在产品供应备案中查无此号"
        elif problem == "other":
            detail = (
                f"填报的型式检验报告编号 {number} 属于 {row['other_producer']} 的{row['other_category']}产品"
                f"（产品供应备案 {row['other_filing_no']}），不是本企业的{row['category__name']}产品"
            )
            values |= {
                "filing_no": row["other_filing_no"],
                "filing_producer": row["other_producer"],
                "filing_category": row["other_category"],
            }
            extra.append(Record("product_filing", row["other_filing_no"], f"产品供应备案 {row['other_filing_no']}"))
        else:
            detail = (
                f"型式检验报告 {number}（产品供应备案 {row['expired_filing_no']}）有效期至 "
                f"{row['expired_until']:%Y-%m-%d}，早于供货日期"
            )
            values |= {"filing_no": row["expired_filing_no"], "report_valid_until": str(row["expired_until"])}
            extra.append(Record("product_filing", row["expired_filing_no"], f"产品供应备案 {row['expired_filing_no']}"))
        return _supply_finding(row, f"{head}，{detail}", values, *extra)


# ------------------------------------------------------------------------------------------------ XC07


@register
class NoProductFiling(RuleLogic):
    code = "XC07"
    title = "无有效产品供应备案"
    basis = BASIS_PRODUCT_FILING
    subject_kind = "supply"
    applies_to = "供应记录、产品供应备案"
    description = (
        "供应企业（视为生产企业）在供货日期没有该材料品类、该规格型号的有效产品供应备案（备案有效期不早于供货日期；"
        "未填有效期的视为长期有效）。备案未填规格型号的，视为覆盖该品类的所有规格；"
        "“按规格型号比对”参数为 0 时只比对品类。"
    )
    params = (
        Param(
            "match_spec",
            "按规格型号比对",
            Decimal(1),
            "",
            maximum=Decimal(1),
            help="1：备案须含供货的规格型号（或备案未填规格）；0：只比对材料品类",
        ),
    )
    watches = frozenset({"supply", "organization"})
    key_columns = ("id", *SUPPLY_KEY)

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        of_category = ProductFiling.objects.filter(
            producer_id=OuterRef("filer_id"), category_id=OuterRef("category_id")
        )
        covering = of_category
        if ctx.params["match_spec"] >= 1:
            covering = of_category.filter(Q(spec="") | Q(spec=OuterRef("spec")))
        valid = covering.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=OuterRef("delivery_date")))
        latest = covering.order_by(F("valid_until").desc(nulls_first=True), "filing_no")
        qs = scoped(
            current(Supply),
            scope,
            ids_scope(scope, "supply") if scope else None,
            _organizations(scope, "filer_id") if scope else None,
        )
        rows: QuerySet[Any] = qs.annotate(
            violates=boolean(Q(status=FilingStatus.SUBMITTED) & ~Exists(valid)),
            category_filings=Coalesce(
                Subquery(of_category.order_by().values("category_id").annotate(n=Count("id")).values("n")[:1]),
                0,
                output_field=IntegerField(),
            ),
            covering_filing_no=_text(Subquery(latest.values("filing_no")[:1])),
            covering_until=Subquery(latest.values("valid_until")[:1], output_field=DateField()),
        ).values(*SUPPLY_COLUMNS, "category_filings", "covering_filing_no", "covering_until")
        return rows

    def ref(self, row: Mapping[str, Any]) -> str:
        return f"supply:{row['filer__uscc']}:{row['supply_no']}"

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        head, category = _supply_head(row), row["category__name"]
        values: dict[str, Any] = {
            "delivery_date": str(row["delivery_date"]),
            "category": category,
            "spec": row["spec"],
            "match_spec": fmt_param(ctx.params["match_spec"]),
        }
        extra: list[Record] = []
        if row["covering_filing_no"]:
            filing = row["covering_filing_no"]
            detail = f"本企业产品供应备案 {filing} 有效期至 {row['covering_until']:%Y-%m-%d}，早于供货日期，已失效"
            values |= {"filing_no": filing, "filing_valid_until": str(row["covering_until"])}
            extra.append(Record("product_filing", filing, f"产品供应备案 {filing}"))
        elif row["category_filings"]:
            detail = (
                f"本企业的{category}产品供应备案（{row['category_filings']} 项）均不含规格型号 "
                f"{row['spec'] or '（未填规格）'}"
            )
            values["category_filings"] = row["category_filings"]
        else:
            detail = f"本企业没有{category}产品供应备案"
        return _supply_finding(row, f"{head}，{detail}", values, *extra)


# ------------------------------------------------------------------------------------------------ XC08


def _purchase_anchor(qs: QuerySet[Any]) -> QuerySet[Any]:
    """The day a purchase's material arrived (进场日期), or the day it was filed when it names none."""
    rows: QuerySet[Any] = qs.annotate(anchor=Coalesce("arrival_date", F("created_at__date")))
    return rows


def _witness_reports(match: Q) -> QuerySet[Any]:
    """Submitted witness test reports on the outer purchase's project and category that also satisfy `match`."""
    return submitted(TestReport).filter(
        match, test_kind=TestKind.WITNESS, project_id=OuterRef("project_id"), category_id=OuterRef("category_id")
    )


def _untested() -> Q:
    """No witness report of the same batch, and none of the same spec. Two NOT EXISTS rather than one with an OR
    inside: each becomes a hash anti-join on PostgreSQL, where the OR made it probe the reports row by row
    (17 s of 101 s at 1,000,000 purchases, docs/benchmarks.md)."""
    return ~Exists(_witness_reports(Q(batch_no=OuterRef("batch_no")) & ~Q(batch_no=""))) & ~Exists(
        _witness_reports(Q(spec=OuterRef("spec")))
    )


def _report_purchases(scope: Scope) -> Q | None:
    """XC08's purchases a change of test reports can affect, as index conditions on literal values.

    A new report (first version, current, submitted) can only cover purchases, never uncover one: it can only
    resolve XC08 alerts, and only those of the purchases it covers (a witness report of their project and category,
    of their batch or spec). So only the purchases with an active XC08 alert on its project, category and batch or
    spec are read (by the unique (filer, purchase number) index), not every purchase of the project. Any other change
    (a correction, whose earlier version the scope carries; a withdrawal) can uncover purchases: all purchases of
    those reports' projects and categories are read."""
    ids = scope.ids("test_report")
    if not ids:
        return None
    columns = ("project_id", "category_id", "version", "is_current", "status", "test_kind", "batch_no", "spec")
    reports = list(TestReport.objects.filter(among("pk", ids)).values_list(*columns))
    new = (1, True, FilingStatus.SUBMITTED)
    added = [r for r in reports if r[0] is not None and (r[2], r[3], r[4]) == new and r[5] == TestKind.WITNESS]
    changed = [r for r in reports if r[0] is not None and (r[2], r[3], r[4]) != new]
    conditions: list[Q | None] = []
    if changed:
        conditions.append(Q(project_id__in={r[0] for r in changed}, category_id__in={r[1] for r in changed}))
    if added:
        projects, categories = {r[0] for r in added}, {r[1] for r in added}
        batches, specs = {r[6] for r in added if r[6]}, {r[7] for r in added}
        covered = Q(spec__in=specs) | (Q(batch_no__in=batches) if batches else NOTHING)
        alerted = list(
            Alert.objects.filter(
                among("project_id", projects), rule__code="XC08", status__in=ACTIVE_STATUSES
            ).values_list("contractor_id", "subject_key__purchase_no")
        )
        if alerted:
            conditions.append(
                Q(filer_id__in={f for f, _ in alerted}, purchase_no__in={n for _, n in alerted})
                & among("project_id", projects)
                & Q(category_id__in=categories)
                & covered
            )
    return any_of(*conditions) if any(c is not None for c in conditions) else None


def _categories(scope: Scope) -> Q | None:
    return Q(category_id__in=scope.categories) if scope.categories else None


@register
class MissingWitnessTest(RuleLogic):
    code = "XC08"
    title = "进场材料未见证复试"
    basis = BASIS_RETEST
    subject_kind = "purchase"
    applies_to = "采购记录、检测报告"
    description = (
        "需见证复试的材料品类（材料品类“需见证复试”），进场后宽限期满，同一项目仍无该品类、同一批号或同一规格型号的"
        "见证检测报告。"
    )
    params = (Param("grace_days", "宽限期", Decimal(7), "天", help="自进场日期起算（无进场日期时自填报日期起算）"),)
    watches = frozenset({"purchase", "test_report", "category", "due"})
    key_columns = ("id", *PURCHASE_KEY)

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        grace = ctx.days("grace_days")
        qs = scoped(
            _purchase_anchor(current(Purchase)),
            scope,
            ids_scope(scope, "purchase") if scope else None,
            _report_purchases(scope) if scope else None,
            _categories(scope) if scope else None,
            due_on("anchor", scope.due_dates, grace) if scope else None,
        )
        rows: QuerySet[Any] = qs.annotate(
            violates=boolean(
                Q(status=FilingStatus.SUBMITTED)
                & Q(category__witness_retest_required=True)
                & overdue("anchor", ctx.today, grace)
                & _untested()
            )
        ).values(*PURCHASE_COLUMNS, "anchor")
        return rows

    def ref(self, row: Mapping[str, Any]) -> str:
        return _purchase_ref(row)

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        grace = fmt_param(ctx.params["grace_days"])
        batch = f"批号 {row['batch_no']}，" if row["batch_no"] else ""
        message = (
            f"{row['anchor']:%Y-%m-%d} 进场 {row['category__name']}{_spec(row['spec'])} "
            f"{fmt_decimal(row['quantity'])} {row['unit']}（{batch}供应企业 {row['supplier__name']}），"
            f"宽限期 {grace} 天已过，项目 {row['project__project_code']} 仍无该品类同批号或同规格型号的见证检测报告"
        )
        return _purchase_finding(
            row,
            message,
            {
                "arrival_date": str(row["anchor"]),
                "batch_no": row["batch_no"],
                "quantity": fmt_decimal(row["quantity"]),
                "unit": row["unit"],
                "grace_days": grace,
            },
        )


# ------------------------------------------------------------------------------------------------ XC09

# How many other deliveries of the batch a message and the evidence name (the trace page lists them all).
TRACE_SHOWN = 5
TRACE_CHUNK = 1000  # failed reports per trace query in `prepare`


@register
class FailedTest(RuleLogic):
    code = "XC09"
    title = "见证检测或政府抽检不合格"
    basis = BASIS_FAILED
    subject_kind = "test_report"
    applies_to = "检测报告（见证检测、政府抽检）、供应记录（溯源）"
    description = (
        "见证检测或政府抽检结果不合格。证据附溯源：同一生产企业、同一批号的材料供应到其他项目的现行供应记录"
        "（条数及前几条；完整清单见溯源页面）。"
    )
    watches = frozenset({"test_report", "supply"})
    key_columns = ("id", *REPORT_KEY)

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        qs = current(TestReport).annotate(tested_project=Coalesce("project_id", Value(0)))
        qs = scoped(
            qs,
            scope,
            ids_scope(scope, "test_report") if scope else None,
            _changed_batches(scope) if scope and scope.ids("supply") else None,
        )
        elsewhere = batch_supplies(OuterRef("producer_id"), OuterRef("batch_no")).exclude(
            project_id=OuterRef("tested_project")
        )
        rows: QuerySet[Any] = qs.annotate(
            violates=boolean(
                Q(status=FilingStatus.SUBMITTED)
                & Q(test_kind__in=(TestKind.WITNESS, TestKind.SAMPLING))
                & Q(result=TestResult.FAIL)
            ),
            elsewhere_count=Coalesce(
                Subquery(elsewhere.order_by().values("filer_id").annotate(n=Count("id")).values("n")[:1]),
                0,
                output_field=IntegerField(),
            ),
            elsewhere_projects=Coalesce(
                Subquery(
                    elsewhere.order_by()
                    .values("filer_id")
                    .annotate(n=Count("project_id", distinct=True))
                    .values("n")[:1]
                ),
                0,
                output_field=IntegerField(),
            ),
        ).values(
            "violates",
            "id",
            "report_no",
            "test_kind",
            "filer_id",
            "filer__uscc",
            "filer__name",
            "project_id",
            "project__project_code",
            "project__name",
            "project__district_id",
            "project__contractor_id",
            "producer_id",
            "producer__uscc",
            "producer__name",
            "producer__district_id",
            "category__name",
            "spec",
            "batch_no",
            "test_date",
            "elsewhere_count",
            "elsewhere_projects",
        )
        return rows

    def ref(self, row: Mapping[str, Any]) -> str:
        return f"test_report:{row['filer__uscc']}:{row['report_no']}"

    def prepare(self, rows: list[dict[str, Any]], ctx: Context) -> None:
        """The first TRACE_SHOWN deliveries of each failed batch on other projects, for all rows in a few queries:
        per (producer, batch, project) the first TRACE_SHOWN by the trace order (a window), merged per report
        without its own project. The first few overall are among the first few of each project."""
        # elsewhere_count (SQL) says which batches went to other projects at all: only those are read.
        traced = [r for r in rows if r["producer_id"] is not None and r["batch_no"] and r["elsewhere_count"]]
        for r in rows:
            r["trace"] = []
        order = TRACE_ORDER
        by_batch: dict[tuple[int, str], list[Supply]] = {}
        for start in range(0, len(traced), TRACE_CHUNK):
            chunk = traced[start : start + TRACE_CHUNK]
            pairs = {(r["producer_id"], r["batch_no"]) for r in chunk}
            supplies = (
                with_trace_columns(
                    submitted(Supply)
                    .exclude(batch_no="")
                    .filter(filer_id__in={p for p, _ in pairs}, batch_no__in={b for _, b in pairs})
                )
                .annotate(
                    place=Window(
                        RowNumber(), partition_by=[F("filer_id"), F("batch_no"), F("project_id")], order_by=order
                    )
                )
                .filter(place__lte=TRACE_SHOWN)
            )
            for s in supplies.order_by(*order):
                if (s.filer_id, s.batch_no) in pairs:
                    by_batch.setdefault((s.filer_id, s.batch_no), []).append(s)
        for r in traced:
            own = r["project_id"] or 0
            r["trace"] = [s for s in by_batch.get((r["producer_id"], r["batch_no"]), []) if s.project_id != own][
                :TRACE_SHOWN
            ]

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        producer = row["producer__name"] or "（未填报生产企业）"
        batch = f"批号 {row['batch_no']}" if row["batch_no"] else "未填批号"
        where = f"项目 {row['project__project_code']}" if row["project__project_code"] else "未关联项目"
        message = (
            f"{row['test_date']:%Y-%m-%d} {row['test_kind']}报告 {row['report_no']}（{row['filer__name']}）："
            f"{producer} 的{row['category__name']}{_spec(row['spec'])}（{batch}，{where}）检测结果不合格。"
        )
        records = [Record("test_report", row["id"], f"检测报告 {row['report_no']}")]
        if row["project__project_code"]:
            records.append(Record("project", row["project__project_code"], row["project__name"]))
        if row["producer__uscc"]:
            records.append(Record("enterprise", row["producer__uscc"], row["producer__name"]))
        shown: list[dict[str, Any]] = []
        if row["producer_id"] is None or not row["batch_no"]:
            message += "未填报生产企业或批号，无法溯源"
        else:
            message += (
                f"溯源：同一生产企业、同一批号的材料另有 {row['elsewhere_count']} 条供应记录，"
                f"供往其他 {row['elsewhere_projects']} 个项目"
            )
            if "trace" not in row:
                self.prepare([row := dict(row)], ctx)
            for s in row["trace"]:
                shown.append(
                    {
                        "project_code": s.project.project_code,
                        "project": s.project.name,
                        "contractor": s.project.contractor.name if s.project.contractor else "",
                        "supply_no": s.supply_no,
                        "quantity": fmt_decimal(s.quantity),
                        "unit": s.unit,
                        "delivery_date": str(s.delivery_date),
                        "use_location": s.use_location or "",
                    }
                )
                records.append(Record("supply", s.pk, f"供应单 {s.supply_no}（项目 {s.project.project_code}）"))
        return Finding(
            ref=self.ref(row),
            key={"lab_uscc": row["filer__uscc"], "report_no": row["report_no"]},
            label=f"检测报告 {row['report_no']}（{row['filer__name']}）",
            message=message,
            records=records,
            values={
                "test_kind": row["test_kind"],
                "batch_no": row["batch_no"],
                "other_supplies": row["elsewhere_count"],
                "other_projects": row["elsewhere_projects"],
                "trace": shown,
            },
            project_id=row["project_id"],
            district_id=row["project__district_id"] or row["producer__district_id"],
            supplier_id=row["producer_id"],
            contractor_id=row["project__contractor_id"],
            laboratory_id=row["filer_id"],
        )


# ------------------------------------------------------------------------------------------------ XC10


@register
class CitedReportMismatch(RuleLogic):
    code = "XC10"
    title = "引用的见证检测报告与采购不符"
    basis = BASIS_CITED_REPORT
    subject_kind = "purchase"
    applies_to = "采购记录（见证检测报告编号）、检测报告"
    description = (
        "采购记录填报的见证检测报告编号对应的检测报告，其项目、生产企业（对照采购的供应企业）、材料品类或规格型号"
        "与采购记录不一致。以采购记录为比对对象：一份报告可被多条采购引用，每条引用分别判断。编号查无报告的不在本规则"
        "（未复试由 XC08 预警）；同号报告有多份（不同检测机构）时，任一份与采购一致即不预警。"
    )
    watches = frozenset({"purchase", "test_report"})
    key_columns = ("id", *PURCHASE_KEY)

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        cited = submitted(TestReport).filter(report_no=OuterRef("witness_report_no"))
        matching = cited.filter(
            project_id=OuterRef("project_id"),
            producer_id=OuterRef("supplier_id"),
            category_id=OuterRef("category_id"),
            spec=OuterRef("spec"),
        )
        # The report the message describes: of several with the number (different laboratories), the one of the
        # laboratory the purchase names, else the first by laboratory code.
        first = cited.order_by("filer__uscc", "id")
        named = cited.filter(filer__name=OuterRef("witness_lab"))
        qs = scoped(
            current(Purchase),
            scope,
            ids_scope(scope, "purchase") if scope else None,
            # Literal numbers (an index condition), not a subquery, which PostgreSQL would test row by row.
            among(
                "witness_report_no",
                set(
                    TestReport.objects.filter(among("pk", scope.ids("test_report"))).values_list("report_no", flat=True)
                ),
            )
            if scope and scope.ids("test_report")
            else None,
        )

        def of_first(field: str) -> Coalesce:
            return Coalesce(Subquery(named.order_by("id").values(field)[:1]), Subquery(first.values(field)[:1]))

        rows: QuerySet[Any] = qs.annotate(
            violates=boolean(
                Q(status=FilingStatus.SUBMITTED) & ~Q(witness_report_no="") & Exists(cited) & ~Exists(matching)
            ),
            report_id=of_first("id"),
            report_lab_id=of_first("filer_id"),
            report_lab=_text(of_first("filer__name")),
            report_project_id=of_first("project_id"),
            report_project=_text(of_first("project__project_code")),
            report_producer_id=of_first("producer_id"),
            report_producer=_text(of_first("producer__name")),
            report_category_id=of_first("category_id"),
            report_category=_text(of_first("category__name")),
            report_spec=_text(of_first("spec")),
        ).values(
            *PURCHASE_COLUMNS,
            "witness_report_no",
            "report_id",
            "report_lab_id",
            "report_lab",
            "report_project_id",
            "report_project",
            "report_producer_id",
            "report_producer",
            "report_category_id",
            "report_category",
            "report_spec",
        )
        return rows

    def ref(self, row: Mapping[str, Any]) -> str:
        return _purchase_ref(row)

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        differences: list[str] = []
        values: dict[str, Any] = {"report_no": row["witness_report_no"], "laboratory": row["report_lab"]}
        if row["report_project_id"] != row["project_id"]:
            differences.append(
                f"报告的项目为 {row['report_project'] or '（未填）'}，采购的项目为 {row['project__project_code']}"
            )
            values["report_project"] = row["report_project"]
        if row["report_producer_id"] != row["supplier_id"]:
            differences.append(
                f"报告的生产企业为 {row['report_producer'] or '（未填）'}，采购的供应企业为 {row['supplier__name']}"
            )
            values["report_producer"] = row["report_producer"]
        if row["report_category_id"] != row["category_id"]:
            differences.append(f"报告的材料品类为 {row['report_category']}，采购的为 {row['category__name']}")
            values["report_category"] = row["report_category"]
        if row["report_spec"] != row["spec"]:
            differences.append(
                f"报告的规格型号为 {row['report_spec'] or '（未填）'}，采购的为 {row['spec'] or '（未填）'}"
            )
            values["report_spec"] = row["report_spec"]
        message = (
            f"采购单 {row['purchase_no']} 引用的见证检测报告 {row['witness_report_no']}（{row['report_lab']}）"
            f"与采购不符：" + "；".join(differences)
        )
        return _purchase_finding(
            row,
            message,
            values,
            Record("test_report", row["report_id"], f"检测报告 {row['witness_report_no']}"),
            laboratory_id=row["report_lab_id"],
        )


# ------------------------------------------------------------------------------------------------ XC11


@register
class TooFewWitnessBatches(RuleLogic):
    code = "XC11"
    title = "见证检测批次不足"
    basis = BASIS_BATCHES
    subject_kind = "project_category"
    applies_to = "采购记录、检测报告（按项目和材料品类汇总）"
    description = (
        "只对设定了检验批量的材料品类：项目进场数量（宽限期已过的采购记录合计）除以检验批量向上取整为应检批次，"
        "项目该品类的见证检测报告（见证检测，不论结果）份数少于应检批次的，预警。"
    )
    params = (Param("grace_days", "宽限期", Decimal(7), "天", help="进场后宽限期内的采购暂不计入应检数量"),)
    watches = frozenset({"purchase", "test_report", "category", "due"})

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        grace = ctx.days("grace_days")
        counted = (
            Q(is_current=True, status=FilingStatus.SUBMITTED)
            & Q(category__batch_size__isnull=False)
            & overdue("anchor", ctx.today, grace)
        )
        if scope is None:
            base: QuerySet[Any] = _purchase_anchor(submitted(Purchase)).filter(category__batch_size__isnull=False)
        else:
            # Every version of the purchases of the projects and categories in scope, so a group whose purchases
            # were all withdrawn (or whose category lost its batch size) is still evaluated and resolves.
            due = due_on("anchor", scope.due_dates, grace)
            projects = record_projects(scope, "purchase", "test_report")
            base = _purchase_anchor(Purchase.objects.all()).filter(
                any_of(
                    among("project_id", projects) if projects else None,
                    _categories(scope),
                    Q(project_id__in=_purchase_anchor(current(Purchase)).filter(due).values("project_id"))
                    if due is not None
                    else None,
                )
            )
        reports = (
            submitted(TestReport)
            .filter(test_kind=TestKind.WITNESS, project_id=OuterRef("project_id"), category_id=OuterRef("category_id"))
            .order_by()
            .values("project_id")
            .annotate(n=Count("id"))
            .values("n")[:1]
        )
        rows: QuerySet[Any] = (
            base.order_by()
            .values(
                "project_id",
                "project__project_code",
                "project__name",
                "project__district_id",
                "project__contractor_id",
                "category_id",
                "category__code",
                "category__name",
                "category__unit",
                "category__batch_size",
            )
            .annotate(
                purchased=Sum("quantity", filter=counted),
                reports=Coalesce(GroupSubquery(reports), 0, output_field=IntegerField()),
            )
            .annotate(
                violates=boolean(
                    Q(category__batch_size__isnull=False)
                    & Q(purchased__gt=_money(F("reports") * F("category__batch_size")))
                )
            )
        )
        return rows

    def ref(self, row: Mapping[str, Any]) -> str:
        return f"project_category:{row['project__project_code']}:{row['category__code']}"

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        purchased, size = Decimal(row["purchased"]), Decimal(row["category__batch_size"])
        required = math.ceil(purchased / size)
        unit, grace = row["category__unit"], fmt_param(ctx.params["grace_days"])
        message = (
            f"项目 {row['project__project_code']} {row['category__name']}进场 {fmt_decimal(purchased)} {unit}"
            f"（进场满 {grace} 天的采购合计），检验批量 {fmt_param(size)} {unit}，应至少见证检测 {required} 批，"
            f"现有见证检测报告 {row['reports']} 份"
        )
        return Finding(
            ref=self.ref(row),
            key={"project_code": row["project__project_code"], "category": row["category__code"]},
            label=f"项目 {row['project__project_code']} × {row['category__name']}",
            message=message,
            records=[Record("project", row["project__project_code"], row["project__name"])],
            values={
                "purchased": fmt_decimal(purchased),
                "unit": unit,
                "batch_size": fmt_param(size),
                "required_batches": required,
                "witness_reports": row["reports"],
                "grace_days": grace,
            },
            project_id=row["project_id"],
            district_id=row["project__district_id"],
            contractor_id=row["project__contractor_id"],
        )
