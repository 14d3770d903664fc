"""Ready-mix concrete rules: XC16 (plant without a valid qualification), XC19 (early strength warning) and XC20
(statistical acceptance of a strength lot, GB/T 50107-2010).

Concrete test reports are those of a category whose name contains 混凝土 (预拌混凝土 in the base catalog, and any
concrete category regulators add). The strength grade is read from the report's spec: C30, "C30 P8", "c30p8"
all mean f_cu,k = 30 MPa (`grade_strength`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Greatest, NullIf, Round, Sqrt, TruncDate

from jiancai.accounts.models import Verdict
from jiancai.filings.models import TestReport, Ticket
from jiancai.registry.models import Qualification, QualificationStatus

from .base import Context, Finding, Param, Record, RuleLogic, Scope, among, fmt_decimal, fmt_param, register
from .common import MONEY, REPORT_KEY, TICKET_KEY, boolean, current, ids_scope, number, record_projects, scoped

CONCRETE = "混凝土"
# Strength grades of GB 50010 / GB/T 50107 (C15 … C80, and the C10 and C85–C100 some specs carry).
GRADES = tuple(range(10, 105, 5))


def concrete_reports() -> QuerySet[Any]:
    return current(TestReport).filter(category__name__contains=CONCRETE)


def grade_strength(field: str = "spec") -> Case:
    """f_cu,k in MPa from a spec beginning with the grade (C30, C30 P8, c35p6), else NULL. Longer grades first, so
    C100 is not read as C10."""
    whens = [
        When(**{f"{field}__istartswith": f"C{g}", "then": Value(g)})
        for g in sorted(GRADES, key=lambda g: (-len(str(g)), g))
    ]
    return Case(*whens, default=None, output_field=IntegerField())


# ------------------------------------------------------------------------------------------------ XC16

QUALIFICATION_KEYWORD = "混凝土"


def _qualifications() -> QuerySet[Any]:
    """The plant's ready-mix qualifications (资质类别 containing 混凝土, e.g. 预拌混凝土专业承包)."""
    return Qualification.objects.filter(
        organization_id=OuterRef("filer_id"), qualification_type__contains=QUALIFICATION_KEYWORD
    )


@register
class UnlicensedPlant(RuleLogic):
    code = "XC16"
    title = "无有效资质的搅拌站供应预拌混凝土"
    basis = (
        "《关于加强预拌混凝土质量管理的通知》：严厉打击无资质搅拌站（“黑商混”）；"
        "《建筑业企业资质管理规定》：预拌混凝土专业承包资质"
    )
    subject_kind = "ticket"
    applies_to = "预拌混凝土发货单、资质证书"
    description = (
        "搅拌站在发货单出站当日没有有效的预拌混凝土资质：资质类别含“混凝土”、状态为有效（非暂扣、撤销、注销）、"
        "发证日期不晚于且有效期至不早于出站日期，且未被核实为不实。搅拌站的供货以发货单逐车核对；"
        "预拌砂浆不填发货单，本规则不覆盖。"
    )
    watches = frozenset({"ticket", "organization"})
    key_columns = ("id", *TICKET_KEY)

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        qs = current(Ticket).annotate(day=TruncDate("departed_at"))
        qs = scoped(
            qs,
            scope,
            ids_scope(scope, "ticket") if scope else None,
            Q(filer_id__in=scope.organizations) if scope and scope.organizations else None,
        )
        valid = (
            _qualifications()
            .filter(status=QualificationStatus.VALID, issued_on__lte=OuterRef("day"), valid_until__gte=OuterRef("day"))
            .exclude(verification_status=Verdict.FALSE)
        )
        latest = _qualifications().order_by("-valid_until", "-id")
        rows: QuerySet[Any] = qs.annotate(
            violates=boolean(Q(status="submitted") & ~Exists(valid)),
            qualification_id=Subquery(latest.values("id")[:1]),
            certificate_no=Subquery(latest.values("certificate_no")[:1]),
            qualification_status=Subquery(latest.values("status")[:1]),
            qualification_issued=Subquery(latest.values("issued_on")[:1]),
            qualification_until=Subquery(latest.values("valid_until")[:1]),
            qualification_verdict=Subquery(latest.values("verification_status")[:1]),
        ).values(
            "violates",
            "id",
            "ticket_no",
            "filer_id",
            "filer__uscc",
            "filer__name",
            "project_id",
            "project__project_code",
            "project__name",
            "project__district_id",
            "project__contractor_id",
            "contract_no",
            "grade",
            "volume",
            "day",
            "qualification_id",
            "certificate_no",
            "qualification_status",
            "qualification_issued",
            "qualification_until",
            "qualification_verdict",
        )
        return rows

    def ref(self, row: Mapping[str, Any]) -> str:
        return f"ticket:{row['filer__uscc']}:{row['ticket_no']}"

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        day = row["day"]
        if row["certificate_no"] is None:
            why = "未登记预拌混凝土资质"
        else:
            cert = f"资质证书 {row['certificate_no']}"
            if row["qualification_status"] != QualificationStatus.VALID:
                why = f"{cert}状态为{row['qualification_status']}"
            elif row["qualification_issued"] > day:
                why = f"{cert}于 {row['qualification_issued']:%Y-%m-%d} 才发证"
            elif row["qualification_until"] < day:
                why = f"{cert}已于 {row['qualification_until']:%Y-%m-%d} 到期"
            else:
                why = f"{cert}经核实不实"
        records = [
            Record("ticket", row["id"], f"发货单 {row['ticket_no']}"),
            Record("enterprise", row["filer__uscc"], row["filer__name"]),
            Record("project", row["project__project_code"], row["project__name"]),
        ]
        if row["qualification_id"] is not None:
            records.append(Record("qualification", row["qualification_id"], f"资质证书 {row['certificate_no']}"))
        return Finding(
            ref=self.ref(row),
            key={"plant_uscc": row["filer__uscc"], "ticket_no": row["ticket_no"]},
            label=f"发货单 {row['ticket_no']}（{row['filer__name']}）",
            message=(
                f"{day:%Y-%m-%d} 出站的发货单 {row['ticket_no']}（{row['grade']} {fmt_decimal(row['volume'], 2)} m³，"
                f"项目 {row['project__project_code']}），搅拌站{row['filer__name']}当日无有效预拌混凝土资质：{why}"
            ),
            records=records,
            values={
                "departed_on": str(day),
                "certificate_no": row["certificate_no"] or "",
                "qualification_status": row["qualification_status"] or "",
                "valid_until": str(row["qualification_until"] or ""),
            },
            project_id=row["project_id"],
            district_id=row["project__district_id"],
            supplier_id=row["filer_id"],
            contractor_id=row["project__contractor_id"],
            contract_no=row["contract_no"],
        )


# ------------------------------------------------------------------------------------------------ XC19


def maturity_factor(age_days: int, s: Decimal) -> Decimal:
    """β_cc(t) = exp(s·(1 − √(28/t))) of the CEB-FIP Model Code, to four decimals (β(7) = 0.7788 for s = 0.25)."""
    value = math.exp(float(s) * (1 - math.sqrt(28 / age_days)))
    return Decimal(str(value)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


@register
class EarlyStrengthWarning(RuleLogic):
    code = "XC19"
    title = "早期强度推定28天强度不足（提前预警）"
    basis = (
        "《预拌混凝土质量管理办法》：7天强度提前预警；CEB-FIP Model Code 1990 / fib Model Code 2010 "
        "强度发展系数 β_cc(t) = exp(s·(1 − √(28/t)))"
    )
    subject_kind = "test_report"
    applies_to = "检测报告（混凝土，早龄期强度）"
    description = (
        "龄期在窗口内（默认 3–14 天）的混凝土强度报告，按 β(t) = exp(s·(1 − √(28/t))) 推定 28 天强度 "
        "f28 = f_t / β(t)（β 取四位小数，推定值取 0.1 MPa），推定值低于强度等级标准值 × (1 + 裕度) 即预警。"
        "s 取决于水泥：0.20 高强早强水泥（R 型 42.5R、52.5R），0.25 普通及早强水泥（32.5R、42.5），"
        "0.38 慢硬水泥（32.5）。强度等级取自规格型号（C30、C30 P8）。"
    )
    params = (
        Param("cement_s", "水泥系数 s", Decimal("0.25"), minimum=Decimal("0.01"), maximum=Decimal(1)),
        Param("min_age_days", "龄期下限", Decimal(3), "天", minimum=Decimal(1), maximum=Decimal(27)),
        Param("max_age_days", "龄期上限", Decimal(14), "天", minimum=Decimal(1), maximum=Decimal(27)),
        Param("margin_pct", "预警裕度", Decimal(0), "%", maximum=Decimal(50), help="推定强度低于标准值×(1+裕度)即预警"),
    )
    watches = frozenset({"test_report", "category"})
    key_columns = ("id", *REPORT_KEY)

    def ages(self, ctx: Context) -> range:
        return range(int(ctx.params["min_age_days"]), int(ctx.params["max_age_days"]) + 1)

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        s = ctx.params["cement_s"]
        beta = Case(
            *[When(age_days=t, then=Value(maturity_factor(t, s))) for t in self.ages(ctx)],
            default=None,
            output_field=MONEY,
        )
        threshold = number(1 + ctx.fraction("margin_pct"))
        qs = scoped(
            concrete_reports(),
            scope,
            ids_scope(scope, "test_report") if scope else None,
            Q(category_id__in=scope.categories) if scope and scope.categories else None,
        )
        rows: QuerySet[Any] = (
            qs.annotate(beta=beta, fk=grade_strength())
            .annotate(predicted=Round(F("strength_mpa") / F("beta"), 1, output_field=MONEY))
            .annotate(
                violates=boolean(
                    Q(status="submitted")
                    & Q(beta__isnull=False)
                    & Q(fk__isnull=False)
                    & Q(strength_mpa__isnull=False)
                    & Q(predicted__lt=F("fk") * threshold)
                )
            )
            .values(
                "violates",
                "id",
                "report_no",
                "filer_id",
                "filer__uscc",
                "filer__name",
                "producer_id",
                "project_id",
                "project__project_code",
                "project__name",
                "project__district_id",
                "project__contractor_id",
                "spec",
                "batch_no",
                "age_days",
                "strength_mpa",
                "beta",
                "fk",
                "predicted",
            )
        )
        return rows

    def ref(self, row: Mapping[str, Any]) -> str:
        return f"test_report:{row['filer__uscc']}:{row['report_no']}"

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        t, fk = row["age_days"], row["fk"]
        beta = maturity_factor(t, ctx.params["cement_s"])
        predicted = (Decimal(row["strength_mpa"]) / beta).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        margin = ctx.params["margin_pct"]
        grade = f"C{fk}"
        if margin:
            limit = (Decimal(fk) * (1 + ctx.fraction("margin_pct"))).quantize(Decimal("0.1"))
            below = f"低于 {grade} 设计值 {fk} MPa 加裕度 {fmt_param(margin)}%（{fmt_decimal(limit, 1)} MPa）"
        else:
            below = f"低于 {grade} 设计值 {fk} MPa"
        records = [Record("test_report", row["id"], f"检测报告 {row['report_no']}")]
        if row["project__project_code"]:
            records.append(Record("project", row["project__project_code"], row["project__name"]))
        return Finding(
            ref=self.ref(row),
            key={"lab_uscc": row["filer__uscc"], "report_no": row["report_no"]},
            label=f"检测报告 {row['report_no']}（{row['filer__name']}）",
            message=(
                f"{t} 天强度 {fmt_decimal(row['strength_mpa'], 1)} MPa，β({t})={beta}，"
                f"推定 28 天强度 {predicted} MPa，{below}（s={fmt_param(ctx.params['cement_s'])}）"
            ),
            records=records,
            values={
                "age_days": t,
                "strength_mpa": fmt_decimal(row["strength_mpa"], 1),
                "beta": str(beta),
                "predicted_mpa": str(predicted),
                "grade": grade,
                "cement_s": fmt_param(ctx.params["cement_s"]),
                "margin_pct": fmt_param(margin),
            },
            project_id=row["project_id"],
            district_id=row["project__district_id"],
            supplier_id=row["producer_id"],
            contractor_id=row["project__contractor_id"],
            laboratory_id=row["filer_id"],
        )


# ------------------------------------------------------------------------------------------------ XC20

# GB/T 50107-2010 §5.1.3 (statistical method, n ≥ 10) and §5.2.2 (non-statistical method, n < 10), in hundredths.
MIN_STATISTICAL = 10
S_FLOOR = Decimal("2.5")


def lambda1(n: int) -> Decimal:
    return Decimal("1.15") if n < 15 else Decimal("1.05") if n < 20 else Decimal("0.95")


def lambda2(n: int) -> Decimal:
    return Decimal("0.90") if n < 15 else Decimal("0.85")


def lambda3(fk: int) -> Decimal:
    return Decimal("1.15") if fk < 60 else Decimal("1.10")


LAMBDA4 = Decimal("0.95")


def _strength_lots(scope: Scope | None) -> QuerySet[Any]:
    """28-day concrete strengths per project and grade: count, mean (0.1 MPa), sample standard deviation
    (0.01 MPa, from Σx and Σx²) and minimum, over the submitted reports; a lot whose reports were all withdrawn
    stays a subject with n = 0, so its alert resolves."""
    counted = Q(status="submitted", strength_mpa__isnull=False)
    x = Cast("strength_mpa", FloatField())
    projects = record_projects(scope, "test_report") if scope else set()  # a lot changes with its reports only
    qs = scoped(
        concrete_reports().filter(project__isnull=False).filter(Q(age_days=28) | Q(age_days__isnull=True)),
        scope,
        among("project_id", projects) if projects else None,
        Q(category_id__in=scope.categories) if scope and scope.categories else None,
    )
    lots: QuerySet[Any] = (
        qs.annotate(fk=grade_strength())
        .filter(fk__isnull=False)
        .order_by()
        .values(
            "project_id",
            "project__project_code",
            "project__name",
            "project__district_id",
            "project__contractor_id",
            "fk",
        )
        .annotate(
            n=Count("id", filter=counted),
            total=Sum(x, filter=counted),
            squares=Sum(x * x, filter=counted),
            mean=Round(Avg(x, filter=counted), 1, output_field=FloatField()),
            minimum=Round(Min(x, filter=counted), 1, output_field=FloatField()),
        )
        .annotate(variance=(F("squares") - F("total") * F("total") / NullIf(F("n"), 0)) / NullIf(F("n") - 1, 0))
        .annotate(
            sd=Round(Sqrt(Greatest(F("variance"), Value(0.0))), 2, output_field=FloatField()),
        )
    )
    return lots


@register
class StrengthAcceptance(RuleLogic):
    code = "XC20"
    title = "混凝土强度检验批评定不合格（GB/T 50107）"
    basis = "《混凝土强度检验评定标准》GB/T 50107-2010 第 5.1.3 条（统计方法）、第 5.2.2 条（非统计方法）"
    subject_kind = "project_grade"
    applies_to = "检测报告（混凝土 28 天标准养护试件）"
    description = (
        "同一项目、同一强度等级的 28 天强度（龄期 28 天或未填）为一个检验批。n ≥ 10 组用统计方法："
        "平均值 ≥ f_cu,k + λ1·S 且最小值 ≥ λ2·f_cu,k，S 为样本标准差（小于 2.5 MPa 取 2.5），"
        "λ1 = 1.15（10–14 组）、1.05（15–19 组）、0.95（≥ 20 组），λ2 = 0.90（10–14 组）、0.85（≥ 15 组）；"
        "n < 10 组用非统计方法：平均值 ≥ λ3·f_cu,k 且最小值 ≥ λ4·f_cu,k，λ3 = 1.15（< C60）、1.10（≥ C60），"
        "λ4 = 0.95。平均值、最小值取 0.1 MPa，标准差取 0.01 MPa，如标准所定。"
    )
    watches = frozenset({"test_report", "category"})

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        fk = F("fk")
        s = Greatest(F("sd"), Value(float(S_FLOOR)))
        lam1 = Case(
            When(n__gte=20, then=Value(Decimal("0.95"))),
            When(n__gte=15, then=Value(Decimal("1.05"))),
            default=Value(Decimal("1.15")),
            output_field=MONEY,
        )
        lam2 = Case(When(n__gte=15, then=Value(Decimal("0.85"))), default=Value(Decimal("0.90")), output_field=MONEY)
        lam3 = Case(When(fk__gte=60, then=Value(Decimal("1.10"))), default=Value(Decimal("1.15")), output_field=MONEY)
        statistical = Q(n__gte=MIN_STATISTICAL) & (Q(mean__lt=fk + lam1 * s) | Q(minimum__lt=lam2 * fk))
        non_statistical = (
            Q(n__gte=1) & Q(n__lt=MIN_STATISTICAL) & (Q(mean__lt=lam3 * fk) | Q(minimum__lt=number(LAMBDA4) * fk))
        )
        rows: QuerySet[Any] = _strength_lots(scope).annotate(violates=boolean(statistical | non_statistical))
        return rows

    def ref(self, row: Mapping[str, Any]) -> str:
        return f"project_grade:{row['project__project_code']}:C{row['fk']}"

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        n, fk = row["n"], row["fk"]
        mean = Decimal(str(row["mean"])).quantize(Decimal("0.1"))
        minimum = Decimal(str(row["minimum"])).quantize(Decimal("0.1"))
        grade = f"C{fk}"

        def verdict(ok: bool) -> str:
            return "满足" if ok else "不满足"

        if n >= MIN_STATISTICAL:
            sd = Decimal(str(row["sd"])).quantize(Decimal("0.01"))
            s = max(sd, S_FLOOR)
            l1, l2 = lambda1(n), lambda2(n)
            mean_limit, min_limit = fk + l1 * s, l2 * fk
            s_text = f"S={s:.2f} MPa" if sd >= S_FLOOR else f"S=2.50 MPa（计算值 {sd:.2f}，小于 2.5 取 2.5）"
            message = (
                f"{grade} 共 {n} 组，统计方法：平均值 {mean} MPa，{s_text}，最小值 {minimum} MPa；"
                f"λ1={l1}，λ2={l2}；平均值 {mean} ≥ {fk} + {l1}×{s:.2f} = {mean_limit:.3f}，"
                f"{verdict(mean >= mean_limit)}；"
                f"最小值 {minimum} ≥ {l2}×{fk} = {min_limit:.2f}，{verdict(minimum >= min_limit)}"
            )
            values = {"n": n, "mean": str(mean), "s": f"{s:.2f}", "sd": f"{sd:.2f}", "min": str(minimum)}
            values |= {"lambda1": str(l1), "lambda2": str(l2), "method": "统计方法"}
        else:
            l3, l4 = lambda3(fk), LAMBDA4
            mean_limit, min_limit = l3 * fk, l4 * fk
            message = (
                f"{grade} 共 {n} 组，非统计方法：平均值 {mean} MPa，最小值 {minimum} MPa；λ3={l3}，λ4={l4}；"
                f"平均值 {mean} ≥ {l3}×{fk} = {mean_limit:.2f}，{verdict(mean >= mean_limit)}；"
                f"最小值 {minimum} ≥ {l4}×{fk} = {min_limit:.2f}，{verdict(minimum >= min_limit)}"
            )
            values = {"n": n, "mean": str(mean), "min": str(minimum), "lambda3": str(l3), "lambda4": str(l4)}
            values["method"] = "非统计方法"
        return Finding(
            ref=self.ref(row),
            key={"project_code": row["project__project_code"], "grade": grade},
            label=f"{row['project__project_code']} {grade} 混凝土强度检验批",
            message=message,
            records=[Record("project", row["project__project_code"], row["project__name"])],
            values={**values, "grade": grade},
            project_id=row["project_id"],
            district_id=row["project__district_id"],
            contractor_id=row["project__contractor_id"],
        )
