"""What the downloadable reports contain, as plain tables and chart series (rendered by `documents`).

`monthly_report(user, district, month)` — the monthly report (月报) of a district or of the city: filing volumes,
alerts by rule and status, the month's aggregate warnings, average prices, test pass rates, and the year's
indicators with their sources and the progress toward the region's targets.

`plant_summary(user, district, kind)` — seed 003's enterprise summary tables (附件1 预拌混凝土生产企业情况统计表,
附件2 预拌砂浆生产企业情况统计表): one row per ready-mix concrete (or mortar) plant of the region, its archive
(资质、人员配备、产能) and supervision figures. The attachments themselves (.xls) are not part of the seed's text, so
the columns follow what the seed's 行动方案 asks the archive to hold: 企业资质、人员配备、原材料及生产管控.

Every query goes through the funnel (`visible_to`) of the user asking, then narrows to the region.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from jiancai.accounts.access import Action
from jiancai.accounts.models import District, Organization
from jiancai.filings.models import (
    FilingStatus,
    ProjectEvent,
    Purchase,
    Supply,
    Tender,
    TestKind,
    TestReport,
    TestResult,
    Ticket,
)
from jiancai.monitoring.models import Alert, AlertStatus, EarlyWarning
from jiancai.registry.models import Capacity, Person, PersonRole, Qualification

from .figures import RegionYear, region_year, target_progress
from .models import CITY_LABEL, Target

TWO = Decimal("0.01")


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]
    note: str = ""


@dataclass
class Chart:
    title: str
    kind: str  # "bar" (vertical), "hbar" (horizontal), "pie"
    labels: list[str]
    values: list[float]
    unit: str = ""


@dataclass
class Report:
    title: str
    filename: str  # without extension
    meta: list[tuple[str, str]]
    tables: list[Table]
    charts: list[Chart] = field(default_factory=list)
    landscape: bool = True


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    start = month.replace(day=1)
    end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return start, end


def region_name(district: District | None) -> str:
    return district.name if district is not None else CITY_LABEL


def _region(qs: QuerySet[Any], path: str, district: District | None) -> QuerySet[Any]:
    return qs.filter(**{path: district}) if district is not None else qs


def _filed(model: Any, user: Any, district: District | None, date_q: Q) -> QuerySet[Any]:
    qs = model.objects.visible_to(user, Action.VIEW).filter(date_q, is_current=True, status=FilingStatus.SUBMITTED)
    return _region(qs, "project__district", district)


def _between(field_name: str, start: dt.date, end: dt.date) -> Q:
    return Q(**{f"{field_name}__gte": start, f"{field_name}__lte": end})


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(TWO, rounding=ROUND_HALF_UP)


def _rate(part: int, whole: int) -> str:
    if not whole:
        return "—"
    return f"{(Decimal(part) * 100 / whole).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


# ---------------------------------------------------------------------------------------------- monthly report


def filing_volumes(user: Any, district: District | None, start: dt.date, end: dt.date) -> tuple[Table, Table, Chart]:
    kinds = (
        (Supply, "供应记录", _between("delivery_date", start, end)),
        (Purchase, "采购记录", _between("arrival_date", start, end)),
        (TestReport, "检测报告", _between("test_date", start, end)),
        (Tender, "招投标结果", _between("award_date", start, end)),
        (Ticket, "预拌混凝土发货单", _between("departed_at__date", start, end)),
        (ProjectEvent, "工程节点", _between("date", start, end)),
    )
    counts = [(label, _filed(model, user, district, q).count()) for model, label, q in kinds]
    volumes = Table("一、信息填报量", ["记录类型", "本月件数"], [[label, n] for label, n in counts])
    supplies = (
        _filed(Supply, user, district, _between("delivery_date", start, end))
        .values("category__code", "category__name", "unit")
        .annotate(q=Sum("quantity"), n=Count("id"))
    )
    purchases = (
        _filed(Purchase, user, district, _between("arrival_date", start, end))
        .values("category__code", "category__name", "unit")
        .annotate(q=Sum("quantity"), n=Count("id"))
    )
    by_category: dict[tuple[str, str, str], list[Any]] = {}
    for r in supplies:
        by_category[(r["category__code"], r["category__name"], r["unit"])] = [r["n"], r["q"], 0, Decimal(0)]
    for r in purchases:
        row = by_category.setdefault((r["category__code"], r["category__name"], r["unit"]), [0, Decimal(0), 0, 0])
        row[2], row[3] = r["n"], r["q"]
    quantities = Table(
        "二、分品类供应与采购数量",
        ["品类代码", "材料品类", "计量单位", "供应笔数", "供应数量", "采购笔数", "采购数量"],
        [[code, name, unit, *values] for (code, name, unit), values in sorted(by_category.items())],
    )
    chart = Chart("本月信息填报量（件）", "bar", [label for label, _ in counts], [float(n) for _, n in counts], "件")
    return volumes, quantities, chart


ALERT_STATUS_ORDER = [s for s in AlertStatus]


def alerts_by_rule(user: Any, district: District | None, start: dt.date, end: dt.date) -> tuple[Table, Chart]:
    alerts = _region(Alert.objects.visible_to(user, Action.VIEW), "district", district).filter(
        raised_at__date__gte=start, raised_at__date__lte=end
    )
    counts = alerts.values("rule__code", "rule__title", "status").annotate(n=Count("id")).order_by("rule__code")
    matrix: dict[tuple[str, str], dict[str, int]] = {}
    for r in counts:
        matrix.setdefault((r["rule__code"], r["rule__title"]), {})[r["status"]] = r["n"]
    rows = []
    totals = dict.fromkeys((s.value for s in ALERT_STATUS_ORDER), 0)
    for (code, title), by_status in sorted(matrix.items()):
        row: list[Any] = [code, title]
        for s in ALERT_STATUS_ORDER:
            row.append(by_status.get(s.value, 0))
            totals[s.value] += by_status.get(s.value, 0)
        row.append(sum(by_status.values()))
        rows.append(row)
    rows.append(["合计", "", *totals.values(), sum(totals.values())])
    table = Table(
        "三、本月新增预警（按规则和状态）",
        ["规则编号", "规则名称", *[str(s.label) for s in ALERT_STATUS_ORDER], "合计"],
        rows,
        note="按首次预警时间统计本月新增的预警，状态为报表生成时的状态。",
    )
    pie = Chart(
        "本月新增预警状态分布",
        "pie",
        [str(s.label) for s in ALERT_STATUS_ORDER if totals[s.value]],
        [float(totals[s.value]) for s in ALERT_STATUS_ORDER if totals[s.value]],
        "条",
    )
    return table, pie


def early_warnings(user: Any, district: District | None, start: dt.date) -> Table:
    warnings = _region(EarlyWarning.objects.visible_to(user, Action.VIEW), "district", district).filter(period=start)
    rows = [
        [
            w.get_kind_display(),
            w.get_topic_display(),
            w.category.name if w.category else "",
            w.spec,
            w.district.name if w.district else CITY_LABEL,
            w.organization.name if w.organization else "",
            w.message,
        ]
        for w in warnings.select_related("category", "district", "organization").order_by("kind", "topic", "id")
    ]
    return Table("四、预警分析", ["预警类型", "预警事项", "材料品类", "规格型号", "区域", "企业", "预警内容"], rows)


def price_averages(user: Any, district: District | None, start: dt.date, end: dt.date) -> Table:
    rows = (
        _filed(Purchase, user, district, _between("arrival_date", start, end))
        .filter(unit_price__isnull=False)
        .values("category__code", "category__name", "spec", "unit")
        .annotate(q=Sum("quantity"), value=Sum(F("quantity") * F("unit_price")), n=Count("id"))
        .order_by("category__code", "spec")
    )
    table_rows = [
        [r["category__name"], r["spec"], r["unit"], r["n"], r["q"], _money(r["value"] / r["q"]) if r["q"] else None]
        for r in rows
    ]
    return Table(
        "五、材料价格（本月采购加权平均单价）",
        ["材料品类", "规格型号", "计量单位", "采购笔数", "采购数量", "加权平均单价（元）"],
        table_rows,
        note="加权平均单价 = Σ(数量×单价) ÷ Σ数量，仅计有单价的已提交采购记录。",
    )


QUALITY_KINDS = (TestKind.SAMPLING, TestKind.WITNESS, TestKind.ROUTINE)


def pass_rates(user: Any, district: District | None, start: dt.date, end: dt.date) -> tuple[Table, Chart]:
    rows = (
        _filed(TestReport, user, district, _between("test_date", start, end))
        .filter(test_kind__in=QUALITY_KINDS)
        .values("category__code", "category__name")
        .annotate(n=Count("id"), passed=Count("id", filter=Q(result=TestResult.PASS)))
        .order_by("category__code")
    )
    data = [(r["category__name"], r["n"], r["passed"]) for r in rows]
    total_n, total_passed = sum(n for _, n, _ in data), sum(p for _, _, p in data)
    table_rows: list[list[Any]] = [[name, n, p, n - p, _rate(p, n)] for name, n, p in data]
    table_rows.append(["合计", total_n, total_passed, total_n - total_passed, _rate(total_passed, total_n)])
    chart = Chart(
        "本月检测合格率（%）", "hbar", [name for name, _, _ in data], [p * 100.0 / n for _, n, p in data if n], "%"
    )
    return (
        Table(
            "六、检测合格率",
            ["材料品类", "检测批次", "合格", "不合格", "合格率"],
            table_rows,
            note="计入政府抽检、见证检测和日常检测报告（按检测日期）。",
        ),
        chart,
    )


def indicator_tables(user: Any, district: District | None, end: dt.date) -> tuple[Table, Table, RegionYear]:
    figures = region_year(user=user, district=district, year=end.year, until=end)
    indicators = Table(
        f"七、{end.year}年发展指标（截至{end:%Y年%m月%d日}）",
        ["指标", "数值"],
        [[v.indicator.label, v.text] for v in figures.indicators],
        note="年度统计中填报的数据优先；未填报的取平台填报与登记数据（本年累计）。",
    )
    inputs = Table(
        "八、指标计算数据",
        ["统计项", "单位", "数值", "来源"],
        [[f.label, f.unit, f.value, f.source or "无数据"] for f in figures.figures],
    )
    return indicators, inputs, figures


def target_table(user: Any, district: District | None, end: dt.date) -> Table:
    targets = _region(Target.objects.visible_to(user, Action.VIEW), "district", district)
    if district is None:
        targets = targets.filter(district__isnull=True)
    rows = [
        [
            p.target.get_indicator_display(),
            p.target.get_direction_display() + p.target.value_text,
            f"{p.target.deadline:%Y-%m-%d}",
            p.actual.text,
            p.year,
            {True: "已达到", False: "未达到", None: "无数据"}[p.achieved],
            "—" if p.percent_of_target is None else f"{p.percent_of_target}%",
        ]
        for p in target_progress(user=user, targets=targets, year=end.year, until=end)
    ]
    return Table("九、目标完成情况", ["指标", "目标", "完成期限", "实际值", "统计年度", "完成情况", "完成进度"], rows)


def monthly_report(*, user: Any, district: District | None, month: dt.date) -> Report:
    start, end = month_bounds(month)
    volumes, quantities, volume_chart = filing_volumes(user, district, start, end)
    alerts, alert_chart = alerts_by_rule(user, district, start, end)
    rates, rate_chart = pass_rates(user, district, start, end)
    indicators, inputs, _ = indicator_tables(user, district, end)
    region = region_name(district)
    return Report(
        title=f"{region}建材监管月报（{start:%Y年%m月}）",
        filename=f"建材监管月报_{region}_{start:%Y%m}",
        meta=[
            ("区域", region),
            ("月份", f"{start:%Y年%m月}"),
            ("统计期间", f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}"),
            ("生成时间", f"{timezone.localtime():%Y-%m-%d %H:%M}"),
            ("生成人", f"{user.organization.name} {user.display_name or user.username}"),
        ],
        tables=[
            volumes,
            quantities,
            alerts,
            early_warnings(user, district, start),
            price_averages(user, district, start, end),
            rates,
            indicators,
            inputs,
            target_table(user, district, end),
        ],
        charts=[volume_chart, alert_chart, rate_chart],
    )


# ---------------------------------------------------------------------------------------------- seed 003 tables

PLANT_KINDS = {
    "concrete": ("concrete_plant", "HNT", "m³", "预拌混凝土生产企业情况统计表", "混凝土"),
    "mortar": ("mortar_plant", "SJ", "t", "预拌砂浆生产企业情况统计表", "砂浆"),
}


def plant_summary(*, user: Any, district: District | None, kind: str, year: int | None = None) -> Report:
    kind_code, category, unit, title, keyword = PLANT_KINDS[kind]
    year = year or timezone.localdate().year
    plants = list(
        _region(Organization.objects.visible_to(user, Action.VIEW), "district", district)
        .filter(kinds__code=kind_code)
        .select_related("district")
        .order_by("district__code", "uscc")
        .distinct()
    )
    ids = [p.pk for p in plants]
    quals: dict[int, Qualification] = {}
    for q in (
        Qualification.objects.visible_to(user, Action.VIEW)
        .filter(organization_id__in=ids, qualification_type__contains=keyword)
        .order_by("organization_id", "-valid_until")
    ):
        quals.setdefault(q.organization_id, q)
    capacities = dict(
        Capacity.objects.visible_to(user, Action.VIEW)
        .filter(organization_id__in=ids, category=category)
        .values_list("organization_id", "annual_capacity")
    )
    staff = {
        (r["organization_id"], r["role"]): r["n"]
        for r in Person.objects.visible_to(user, Action.VIEW)
        .filter(organization_id__in=ids)
        .values("organization_id", "role")
        .annotate(n=Count("id"))
    }
    delivered = _delivered(user, ids, kind, year)
    alerts = dict(
        Alert.objects.open_findings()
        .visible_to(user, Action.VIEW)
        .filter(supplier_id__in=ids)
        .values("supplier_id")
        .annotate(n=Count("id"))
        .values_list("supplier_id", "n")
    )
    rows = []
    for n, plant in enumerate(plants, start=1):
        qual = quals.get(plant.pk)
        rows.append(
            [
                n,
                plant.district.name if plant.district else "",
                plant.name,
                plant.uscc,
                plant.legal_representative,
                plant.address,
                plant.phone,
                qual.certificate_no if qual else "无",
                qual.grade if qual else "",
                qual.valid_until if qual else None,
                qual.get_status_display() if qual else "",
                capacities.get(plant.pk),
                delivered.get(plant.pk, Decimal(0)),
                staff.get((plant.pk, PersonRole.TECHNICAL_LEAD), 0),
                staff.get((plant.pk, PersonRole.TESTER), 0),
                staff.get((plant.pk, PersonRole.QUALITY_INSPECTOR), 0),
                alerts.get(plant.pk, 0),
                plant.get_verification_status_display(),
            ]
        )
    region = region_name(district)
    supplied = "供应方量（m³）" if unit == "m³" else "供应量（t）"
    licence = "资质证书编号" if kind == "concrete" else "资质/备案证编号"
    return Report(
        title=f"{region}{title}",
        filename=f"{title}_{region}_{year}",
        meta=[
            ("区域", region),
            ("统计年度", f"{year}年（供应量为本年累计）"),
            ("企业数", str(len(plants))),
            ("生成时间", f"{timezone.localtime():%Y-%m-%d %H:%M}"),
        ],
        tables=[
            Table(
                title,
                [
                    "序号",
                    "所在区",
                    "企业名称",
                    "统一社会信用代码",
                    "法定代表人",
                    "生产地址",
                    "联系电话",
                    licence,
                    "资质等级",
                    "有效期至",
                    "资质状态",
                    f"年产能（{unit}）",
                    f"{year}年{supplied}",
                    "技术负责人",
                    "检测员",
                    "质量员",
                    "未结预警",
                    "档案核实状态",
                ],
                rows,
                note="依据青岛市预拌混凝土（砂浆）行业专项治理“硬核”行动方案“摸底建档”要求汇总；资质取类别含“"
                + keyword
                + "”的有效期最晚的一本。",
            )
        ],
    )


def _delivered(user: Any, ids: list[int], kind: str, year: int) -> dict[int, Decimal]:
    if kind == "concrete":
        rows = (
            Ticket.objects.visible_to(user, Action.VIEW)
            .filter(filer_id__in=ids, is_current=True, status=FilingStatus.SUBMITTED, departed_at__year=year)
            .values("filer_id")
            .annotate(q=Sum("volume"))
        )
    else:
        rows = (
            Supply.objects.visible_to(user, Action.VIEW)
            .filter(
                filer_id__in=ids,
                is_current=True,
                status=FilingStatus.SUBMITTED,
                category__code="SJ",
                delivery_date__year=year,
            )
            .values("filer_id")
            .annotate(q=Sum("quantity"))
        )
    return {r["filer_id"]: r["q"] for r in rows}
