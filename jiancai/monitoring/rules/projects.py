"""Project rules: XC17 (material per floor area outside the reference range) and XC18 (completion filed while
alerts are open or material is untested)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from jiancai.filings.models import ProjectEvent, ProjectEventKind, Purchase, TestKind, TestReport
from jiancai.materials.models import UsageReference
from jiancai.registry.models import Project, ProjectStatus

from ..models import ACTIVE_STATUSES, Alert
from .base import Context, Finding, Record, RuleLogic, Scope, among, any_of, fmt_decimal, register
from .common import MONEY, GroupExists, GroupSubquery, boolean, current, record_projects, submitted

BASIS_000 = "《建设工程材料使用管理信息化监控系统建设方案》信息比对点"

# (category unit, reference numerator) -> factor turning the category unit into the reference's unit.
UNIT_FACTORS: tuple[tuple[str, str, Decimal], ...] = (
    ("t", "kg", Decimal(1000)),
    ("t", "t", Decimal(1)),
    ("kg", "kg", Decimal(1)),
    ("kg", "t", Decimal("0.001")),
    ("m³", "m³", Decimal(1)),
    ("m²", "m²", Decimal(1)),
    ("m", "m", Decimal(1)),
)


def _completion_filed() -> QuerySet[Any]:
    return submitted(ProjectEvent).filter(project_id=OuterRef("project_id"), event=ProjectEventKind.COMPLETION)


# ------------------------------------------------------------------------------------------------ XC17


def _reference() -> QuerySet[Any]:
    """The usage reference of the group's category and the project's structure type in force on the project's
    start date (today when the project has none)."""
    on = OuterRef("reference_date")
    return UsageReference.objects.filter(
        Q(category_id=OuterRef("category_id")),
        Q(structure_type=OuterRef("project__structure_type")),
        Q(effective_from__lte=on),
        Q(effective_until__isnull=True) | Q(effective_until__gte=on),
    ).order_by("-effective_from")


@register
class UsagePerArea(RuleLogic):
    code = "XC17"
    title = "单位面积材料用量超出参考范围"
    basis = BASIS_000 + "：单位面积材料用量参考值（按结构型式）"
    subject_kind = "project_category"
    applies_to = "采购记录、工程项目、单位面积材料用量参考值"
    description = (
        "已竣工的项目（项目状态为已竣工，或已提交竣工验收备案）每个品类的采购数量合计 ÷ 建筑面积，"
        "与项目结构型式的单位面积用量参考值比较，低于下限或高于上限即预警。参考值取项目开工日期"
        "（未填开工日期时取比对当日）有效的一条。单位换算：品类 t 对参考值 kg/㎡ 乘 1000，kg 对 t/㎡ 乘 0.001，"
        "同单位乘 1；无法换算的品类不比对。"
    )
    watches = frozenset({"purchase", "project_event", "project", "category"})

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        qs = current(Purchase)
        if scope is not None:
            projects = self.projects_in_scope(scope)
            qs = qs.filter(
                any_of(
                    among("project_id", projects) if projects else None,
                    Q(category_id__in=scope.categories) if scope.categories else None,
                )
            )
        reference = _reference()
        factor = Case(
            *[
                When(Q(category__unit=unit) & Q(ref_unit__startswith=f"{numerator}/"), then=Value(value))
                for unit, numerator, value in UNIT_FACTORS
            ],
            default=None,
            output_field=MONEY,
        )
        per_m2 = Cast("total", FloatField()) * Cast(factor, FloatField()) / Cast("project__floor_area", FloatField())
        rows: QuerySet[Any] = (
            qs.order_by()
            .values(
                "project_id",
                "project__project_code",
                "project__name",
                "project__district_id",
                "project__contractor_id",
                "project__structure_type",
                "project__floor_area",
                "project__status",
                "category_id",
                "category__code",
                "category__name",
                "category__unit",
            )
            .annotate(
                total=Sum("quantity", filter=Q(status="submitted")),
                reference_date=Coalesce("project__start_date", Value(ctx.today)),
            )
            .annotate(
                ref_id=GroupSubquery(reference.values("id")[:1]),
                ref_min=GroupSubquery(reference.values("min_per_m2")[:1]),
                ref_max=GroupSubquery(reference.values("max_per_m2")[:1]),
                ref_unit=GroupSubquery(reference.values("per_m2_unit")[:1]),
                ref_from=GroupSubquery(reference.values("effective_from")[:1]),
                completed=boolean(Q(project__status=ProjectStatus.COMPLETED) | GroupExists(_completion_filed())),
            )
            .annotate(per_m2=per_m2)
            .annotate(
                violates=boolean(
                    Q(completed=True)
                    & Q(per_m2__isnull=False)
                    & (Q(per_m2__lt=F("ref_min")) | Q(per_m2__gt=F("ref_max")))
                )
            )
        )
        return rows

    def projects_in_scope(self, scope: Scope) -> set[int]:
        """The projects whose groups a scope can change: those of the purchases and project events it names (any
        version) and those whose registry data changed, not those of other records (`scope.projects` holds the
        projects of changed supplies and test reports too). Of these, only the completed ones (status, or completion
        filed) and those with an active XC17 alert: a group of any other project cannot violate and has no alert
        to resolve, and regrouping all its purchases was most of an incremental run's XC17 time."""
        candidates = scope.project_data | record_projects(scope, "purchase", "project_event")
        if not candidates:
            return set()
        completion = submitted(ProjectEvent).filter(project_id=OuterRef("pk"), event=ProjectEventKind.COMPLETION)
        completed = Project.objects.filter(among("pk", candidates)).filter(
            Q(status=ProjectStatus.COMPLETED) | Exists(completion)
        )
        alerted = Alert.objects.filter(
            among("project_id", candidates), rule__code=self.code, status__in=ACTIVE_STATUSES
        )
        return set(completed.values_list("pk", flat=True)) | set(alerted.values_list("project_id", flat=True))

    def ref(self, row: Mapping[str, Any]) -> str:
        return f"project_category:{row['project__project_code']}:{row['category_id']}"

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        unit = row["ref_unit"]
        per_m2 = Decimal(str(row["per_m2"]))
        low, high = Decimal(row["ref_min"]), Decimal(row["ref_max"])
        side = "低于下限" if per_m2 < low else "高于上限"
        area = fmt_decimal(row["project__floor_area"], 2)
        message = (
            f"项目 {row['project__project_code']}（{row['project__structure_type']}，建筑面积 {area} ㎡）"
            f"采购{row['category__name']}合计 {fmt_decimal(row['total'])} {row['category__unit']}，"
            f"折合 {fmt_decimal(per_m2, 2)} {unit}，{side}；{row['project__structure_type']}参考值 "
            f"{_plain(low)}–{_plain(high)} {unit}（{row['ref_from']:%Y-%m-%d} 起执行）"
        )
        return Finding(
            ref=self.ref(row),
            key={"project_code": row["project__project_code"], "category": row["category__code"]},
            label=f"{row['project__project_code']} {row['category__name']}单位面积用量",
            message=message,
            records=[
                Record("project", row["project__project_code"], row["project__name"]),
                Record("usage_reference", row["ref_id"], f"参考值 {_plain(low)}–{_plain(high)} {unit}"),
            ],
            values={
                "total": fmt_decimal(row["total"]),
                "unit": row["category__unit"],
                "floor_area": area,
                "per_m2": fmt_decimal(per_m2, 2),
                "reference": f"{_plain(low)}–{_plain(high)} {unit}",
            },
            project_id=row["project_id"],
            district_id=row["project__district_id"],
            contractor_id=row["project__contractor_id"],
        )


def _plain(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# ------------------------------------------------------------------------------------------------ XC18

XC18 = "XC18"
LISTED = 10  # alerts and purchases named in the evidence (the counts are complete)


def _open_alerts() -> QuerySet[Any]:
    return Alert.objects.open_findings().filter(project_id=OuterRef("project_id")).exclude(rule__code=XC18)


def _untested_purchases() -> QuerySet[Any]:
    """Submitted purchases of the project in categories needing a witness re-test, with no submitted witness or
    sampling report of the same project and category that the purchase cites (witness_report_no) or that tested
    its batch (batch_no)."""
    tested = submitted(TestReport).filter(
        Q(project_id=OuterRef("project_id")),
        Q(category_id=OuterRef("category_id")),
        Q(test_kind__in=(TestKind.WITNESS, TestKind.SAMPLING)),
        Q(report_no=OuterRef("witness_report_no")) | (Q(batch_no=OuterRef("batch_no")) & ~Q(batch_no="")),
    )
    return submitted(Purchase).filter(category__witness_retest_required=True).filter(~Exists(tested))


@register
class CompletionWithOpenIssues(RuleLogic):
    code = XC18
    title = "竣工备案时仍有未处理预警或未检测材料"
    basis = BASIS_000 + "：工程竣工验收前材料问题须处理完毕"
    subject_kind = "project"
    applies_to = "工程节点（竣工验收备案）、预警、采购记录、检测报告"
    description = (
        "项目已提交竣工验收备案，但该项目仍有其他规则未消除、未排除、未结案的预警，或有需见证复试品类的采购"
        "没有对应的见证检测或政府抽检报告（报告编号与采购所填见证检测报告编号一致，或批号一致）。"
        "本规则读取其他规则的预警，每次比对都在其他规则之后进行。"
    )
    watches = frozenset(
        {
            "supply",
            "purchase",
            "test_report",
            "tender",
            "ticket",
            "project_event",
            "organization",
            "category",
            "project",
            "due",
        }
    )
    evaluate_last = True

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        qs = current(ProjectEvent).filter(event=ProjectEventKind.COMPLETION)
        if scope is not None:
            # This run's alert changes (the other rules ran first): their projects are in scope too.
            touched = (
                Alert.objects.filter(Q(last_confirmed_at=ctx.now) | Q(resolved_at=ctx.now))
                .exclude(rule__code=XC18)
                .values("project_id")
            )
            qs = qs.filter(
                any_of(
                    among("project_id", scope.projects) if scope.projects else None,
                    Q(project_id__in=touched),
                    Q(project__purchases__category_id__in=scope.categories) if scope.categories else None,
                )
            ).distinct()
        untested = _untested_purchases().filter(project_id=OuterRef("project_id"))
        rows: QuerySet[Any] = (
            qs.annotate(
                open_alerts=Subquery(
                    _open_alerts().order_by().values("project_id").annotate(c=Count("id")).values("c")[:1]
                ),
                untested=Subquery(untested.order_by().values("project_id").annotate(c=Count("id")).values("c")[:1]),
            )
            .annotate(violates=boolean(Q(status="submitted") & (Exists(_open_alerts()) | Exists(untested))))
            .values(
                "violates",
                "id",
                "date",
                "project_id",
                "project__project_code",
                "project__name",
                "project__district_id",
                "project__contractor_id",
                "open_alerts",
                "untested",
            )
        )
        return rows

    def ref(self, row: Mapping[str, Any]) -> str:
        return f"project:{row['project__project_code']}"

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        # The evidence names the alerts and purchases (the decision above was made in SQL; these only list them).
        alerts = list(
            Alert.objects.open_findings()
            .filter(project_id=row["project_id"])
            .exclude(rule__code=XC18)
            .order_by("rule__code", "subject_ref")
            .values("id", "rule__code", "subject_label")[:LISTED]
        )
        purchases = list(
            _untested_purchases()
            .filter(project_id=row["project_id"])
            .order_by("purchase_no", "id")
            .values("id", "purchase_no", "category__name")[:LISTED]
        )
        parts = []
        n_alerts, n_untested = row["open_alerts"] or 0, row["untested"] or 0
        if n_alerts:
            codes: dict[str, int] = {}
            for a in alerts:
                codes[a["rule__code"]] = codes.get(a["rule__code"], 0) + 1
            listed = "、".join(f"{c} {k} 条" for c, k in codes.items())
            more = "等" if n_alerts > len(alerts) else ""
            parts.append(f"{n_alerts} 条预警未处理完毕（{listed}{more}）")
        if n_untested:
            listed = "、".join(f"{p['category__name']} 采购单 {p['purchase_no']}" for p in purchases)
            more = "等" if n_untested > len(purchases) else ""
            parts.append(f"{n_untested} 笔需见证复试的材料无检测报告（{listed}{more}）")
        records = [
            Record("project_event", row["id"], f"竣工验收备案 {row['date']:%Y-%m-%d}"),
            Record("project", row["project__project_code"], row["project__name"]),
        ]
        records += [Record("alert", a["id"], f"{a['rule__code']} {a['subject_label']}") for a in alerts]
        records += [Record("purchase", p["id"], f"采购单 {p['purchase_no']}") for p in purchases]
        return Finding(
            ref=self.ref(row),
            key={"project_code": row["project__project_code"]},
            label=f"{row['project__project_code']} {row['project__name']}",
            message=(
                f"项目 {row['project__project_code']} 已于 {row['date']:%Y-%m-%d} 提交竣工验收备案，仍有 "
                + "，".join(parts)
            ),
            records=records,
            values={"open_alerts": n_alerts, "untested_purchases": n_untested, "completion_date": str(row["date"])},
            project_id=row["project_id"],
            district_id=row["project__district_id"],
            contractor_id=row["project__contractor_id"],
        )
