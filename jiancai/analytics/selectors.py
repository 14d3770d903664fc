"""What the regulator dashboards show (数据分析), read from the rollup tables through the visibility funnel.

Every figure is a `Point` with the address of the records behind it: the existing list pages (filings, alerts,
warnings, credit scores) with the query parameters of their own FilterSets, so a click shows exactly the rows the
number counts. `dashboard(user, district, month)` returns the panels; each reads a fixed, small number of queries
over the rollups (never the filing tables), except the alert ages (standing alerts, through the alert list's own
FilterSet) and the credit ratings (one row per scored enterprise), which are small tables.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from jiancai.accounts.access import Action, restrict
from jiancai.accounts.models import District, Organization
from jiancai.credit.models import CreditScore, Rating
from jiancai.filings.models import FilingStatus
from jiancai.materials.models import MaterialCategory
from jiancai.monitoring.filters import AGE_CHOICES, STANDING, AlertFilter
from jiancai.monitoring.models import Alert, AlertStatus, EarlyWarning, Rule, WarningKind

from .models import CITY_DISTRICT, AlertRollup, FilingRollup, SupplierRollup

KIND_LABELS = {
    "supply": "供应",
    "purchase": "采购",
    "test_report": "检测",
    "tender": "招投标",
    "ticket": "发货单",
    "project_event": "工程节点",
}
STANDING_STATUSES = (
    AlertStatus.OPEN,
    AlertStatus.ACKNOWLEDGED,
    AlertStatus.EXPLANATION_REQUESTED,
    AlertStatus.EXPLAINED,
    AlertStatus.ESCALATED,
)
MONTHS = 12
TOP_SUPPLIERS = 10


@dataclass
class Point:
    label: str
    value: float | int | None
    url: str = ""
    text: str = ""  # how the value is shown (defaults to the value)

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "url": self.url, "name": self.label}


@dataclass
class Series:
    name: str
    points: list[Point]


@dataclass
class Panel:
    key: str
    title: str
    chart: str  # bar, stack, line, pie, hbar
    labels: list[str]
    series: list[Series]
    note: str = ""
    unit: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "chart": self.chart,
            "labels": self.labels,
            "unit": self.unit,
            "series": [{"name": s.name, "data": [p.as_json() for p in s.points]} for s in self.series],
        }


@dataclass
class Dashboard:
    region: str
    month: dt.date
    months: list[dt.date]
    tiles: list[Point] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    report_url: str = ""


# ------------------------------------------------------------------------------------------ helpers


def month_end(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def last_months(month: dt.date, count: int = MONTHS) -> list[dt.date]:
    result = [month]
    while len(result) < count:
        prev = result[-1] - dt.timedelta(days=1)
        result.append(prev.replace(day=1))
    return result[::-1]


@lru_cache(maxsize=64)
def _path(name: str) -> str:
    """A list page's path (reverse once per name: a panel builds hundreds of addresses)."""
    return reverse(name)


def _url(name: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{_path(name)}?{query}" if query else _path(name)


def filing_url(
    kind: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    district: District | None = None,
    category: str = "",
    **extra: Any,
) -> str:
    """The filing list of current submitted records of a kind, as the rollups count them."""
    return _url(
        f"filings:{kind}_list",
        date_from=start.isoformat() if start else "",
        date_to=end.isoformat() if end else "",
        district=district.name if district else "",
        category=category,
        status=FilingStatus.SUBMITTED,
        **extra,
    )


def alert_url(*, district: District | None = None, **params: Any) -> str:
    return _url("monitoring:alert_list", district=district.name if district else "", **params)


def _rate(part: Decimal, whole: Decimal) -> float | None:
    if not whole:
        return None
    return float((part * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _scoped(qs: QuerySet[Any], user: Any, district: District | None) -> QuerySet[Any]:
    qs = restrict(qs, user, Action.VIEW)
    return qs.filter(district_id=district.pk) if district is not None else qs


# ------------------------------------------------------------------------------------------ the panels


def dashboard(user: Any, district: District | None, month: dt.date, region: str) -> Dashboard:
    months = last_months(month)
    board = Dashboard(region=region, month=month, months=months)
    filings = _scoped(FilingRollup.objects.all(), user, district)
    alerts = _scoped(AlertRollup.objects.all(), user, district)
    window = filings.filter(month__gte=months[0], month__lte=month)
    categories = {c.pk: c for c in MaterialCategory.objects.all()}
    districts = {d.pk: d for d in District.objects.all()}

    board.tiles = _tiles(user, window, alerts, district, month)
    board.panels = [
        _volumes(window, district, months),
        *([_by_district(window, districts, month)] if district is None else []),
        _alerts_by_rule(alerts, district),
        _alerts_by_status(alerts, district),
        *([_alerts_by_district(alerts, districts)] if district is None else []),
        _alert_ages(user, alerts, district),
        _warnings(user, district, month),
        _price_index(window, categories, district, months),
        _supply_demand(window, categories, district, months),
        _pass_rates(window, categories, district, months),
        _ratings(user, district),
        _suppliers(user, district, months),
    ]
    board.report_url = (
        f"{reverse('indicators:report_download', args=['monthly', 'xlsx'])}?"
        f"{urlencode({'region': region, 'month': f'{month:%Y-%m}'})}"
    )
    return board


def _tiles(
    user: Any, window: QuerySet[Any], alerts: QuerySet[Any], district: District | None, month: dt.date
) -> list[Point]:
    end = month_end(month)
    counts = dict(window.filter(month=month).values_list("kind").annotate(n=Sum("records")).order_by())
    tiles = [
        Point(f"本月{label}记录", counts.get(kind, 0), filing_url(kind, start=month, end=end, district=district))
        for kind, label in KIND_LABELS.items()
        if kind in ("supply", "purchase", "test_report", "ticket")
    ]
    standing = alerts.filter(status__in=STANDING_STATUSES).aggregate(n=Sum("alerts"))["n"] or 0
    tiles.append(Point("未结预警", standing, alert_url(district=district, status=STANDING)))
    warnings = _scoped(EarlyWarning.objects.filter(period=month), user, district).count()
    warnings_url = _url("warnings:list", period=month.isoformat(), district=_name(district))
    tiles.append(Point("本月预警分析", warnings, warnings_url))
    return tiles


def _name(district: District | None) -> str:
    return district.name if district else ""


def _volumes(window: QuerySet[Any], district: District | None, months: list[dt.date]) -> Panel:
    totals: dict[tuple[str, dt.date], int] = {
        (k, m): n for k, m, n in window.values_list("kind", "month").annotate(n=Sum("records")).order_by()
    }
    series = [
        Series(
            label,
            [
                Point(
                    f"{m:%Y-%m}",
                    totals.get((kind, m), 0),
                    filing_url(kind, start=m, end=month_end(m), district=district),
                )
                for m in months
            ],
        )
        for kind, label in KIND_LABELS.items()
    ]
    return Panel("volumes", "信息填报量（按月）", "stack", [f"{m:%Y-%m}" for m in months], series, unit="条")


def _by_district(window: QuerySet[Any], districts: dict[int, District], month: dt.date) -> Panel:
    rows = window.filter(month=month).values_list("district_id", "kind").annotate(n=Sum("records")).order_by()
    totals: dict[tuple[int, str], int] = {(d, k): n for d, k, n in rows}
    shown = [d for d in districts.values()]
    series = [
        Series(
            label,
            [
                Point(
                    d.name,
                    totals.get((d.pk, kind), 0),
                    filing_url(kind, start=month, end=month_end(month), district=d),
                )
                for d in shown
            ],
        )
        for kind, label in KIND_LABELS.items()
    ]
    return Panel(
        "districts", f"各区信息填报量（{month:%Y年%m月}）", "stack", [d.name for d in shown], series, unit="条"
    )


def _alerts_by_rule(alerts: QuerySet[Any], district: District | None) -> Panel:
    counts = dict(
        alerts.filter(status__in=STANDING_STATUSES).values_list("rule_id").annotate(n=Sum("alerts")).order_by()
    )
    rules = Rule.objects.filter(pk__in=counts).order_by("code")
    points = [
        Point(f"{r.code} {r.title}", counts[r.pk], alert_url(district=district, rule=r.code, status=STANDING))
        for r in rules
    ]
    return Panel(
        "alert_rules", "未结预警（按规则）", "hbar", [p.label for p in points], [Series("未结预警", points)], unit="条"
    )


def _alerts_by_status(alerts: QuerySet[Any], district: District | None) -> Panel:
    counts = dict(alerts.values_list("status").annotate(n=Sum("alerts")).order_by())
    points = [
        Point(label, counts[value], alert_url(district=district, status=value))
        for value, label in AlertStatus.choices
        if counts.get(value)
    ]
    return Panel("alert_status", "预警处置状态", "pie", [p.label for p in points], [Series("预警", points)], unit="条")


def _alerts_by_district(alerts: QuerySet[Any], districts: dict[int, District]) -> Panel:
    counts = dict(
        alerts.filter(status__in=STANDING_STATUSES).values_list("district_id").annotate(n=Sum("alerts")).order_by()
    )
    points = [Point(d.name, counts.get(d.pk, 0), alert_url(district=d, status=STANDING)) for d in districts.values()]
    note = f"另有 {counts[0]} 条未关联区域的预警。" if counts.get(0) else ""
    return Panel(
        "alert_districts", "各区未结预警", "bar", [p.label for p in points], [Series("未结预警", points)], note, "条"
    )


def _alert_ages(user: Any, alerts: QuerySet[Any], district: District | None) -> Panel:
    """Standing alerts by age, with the boundaries of the alert list's `age` filter (`AlertFilter.by_age`: now − 7
    days, now − 30 days, to the second). The last 30 days are counted from the alert table (the list's own
    FilterSet for status and district, a range on the indexed `raised_at`: only recent alerts are read); the older
    ones are the standing total of the rollup minus those."""
    now = timezone.now()
    week, month = now - dt.timedelta(days=7), now - dt.timedelta(days=30)
    recent = (
        AlertFilter(
            {"status": STANDING, "district": _name(district)}, queryset=Alert.objects.visible_to(user, Action.VIEW)
        )
        .qs.order_by()
        .filter(raised_at__gte=month)
        .aggregate(d7=Count("pk", filter=Q(raised_at__gte=week)), d30=Count("pk", filter=Q(raised_at__lt=week)))
    )
    standing = alerts.filter(status__in=STANDING_STATUSES).aggregate(n=Sum("alerts"))["n"] or 0
    counts = {"7": recent["d7"], "30": recent["d30"], "older": max(standing - recent["d7"] - recent["d30"], 0)}
    points = [
        Point(label, counts[value], alert_url(district=district, status=STANDING, age=value))
        for value, label in AGE_CHOICES
    ]
    labels = [p.label for p in points]
    return Panel("alert_ages", "未结预警时长", "bar", labels, [Series("未结预警", points)], unit="条")


def _warnings(user: Any, district: District | None, month: dt.date) -> Panel:
    counts = dict(
        _scoped(EarlyWarning.objects.filter(period=month), user, district)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    points = [
        Point(
            label,
            counts.get(value, 0),
            _url("warnings:list", period=month.isoformat(), kind=value, district=_name(district)),
        )
        for value, label in WarningKind.choices
    ]
    title = f"四类预警（{month:%Y年%m月}）"
    return Panel(
        "warnings", title, "bar", [p.label for p in points], [Series("预警", points)], unit="条"
    )


def _category_rows(window: QuerySet[Any], kind: str) -> dict[tuple[int, dt.date, str], dict[str, Decimal]]:
    rows = (
        window.filter(kind=kind)
        .values_list("category_id", "month", "unit")
        .annotate(Sum("records"), Sum("quantity"), Sum("priced_quantity"), Sum("amount"), Sum("failed"))
        .order_by()
    )
    return {
        (c, m, u): {
            "records": Decimal(r),
            "quantity": Decimal(q),
            "priced": Decimal(p),
            "amount": Decimal(a),
            "failed": Decimal(f),
        }
        for c, m, u, r, q, p, a, f in rows
    }


def _price_index(
    window: QuerySet[Any], categories: dict[int, MaterialCategory], district: District | None, months: list[dt.date]
) -> Panel:
    """Quantity-weighted average purchase price per category (its own unit), as an index: first month with a price
    = 100. Categories with prices in fewer than two months are left out."""
    rows = _category_rows(window, "purchase")
    series = []
    for pk, category in sorted(categories.items(), key=lambda c: c[1].code):
        prices = []
        for m in months:
            r = rows.get((pk, m, category.unit))
            prices.append(r["amount"] / r["priced"] if r and r["priced"] else None)
        base = next((p for p in prices if p), None)
        if base is None or sum(1 for p in prices if p) < 2:
            continue
        points = [
            Point(
                f"{m:%Y-%m}",
                float((p * 100 / base).quantize(Decimal("0.1"))) if p else None,
                filing_url("purchase", start=m, end=month_end(m), district=district, category=category.code),
                f"{p.quantize(Decimal('0.01'))} 元/{category.unit}" if p else "",
            )
            for m, p in zip(months, prices, strict=True)
        ]
        series.append(Series(category.name, points))
    return Panel(
        "price_index",
        "材料价格指数（各品类首个有价月份 = 100）",
        "line",
        [f"{m:%Y-%m}" for m in months],
        series,
        "按进场日期的已提交采购，数量加权平均单价，仅计品类本身计量单位的记录。",
    )


def _supply_demand(
    window: QuerySet[Any], categories: dict[int, MaterialCategory], district: District | None, months: list[dt.date]
) -> Panel:
    supply, demand = _category_rows(window, "supply"), _category_rows(window, "purchase")
    start, end = months[0], month_end(months[-1])
    shown = []
    for pk, category in sorted(categories.items(), key=lambda c: c[1].code):
        s = sum((r["quantity"] for (c, _, u), r in supply.items() if c == pk and u == category.unit), Decimal(0))
        d = sum((r["quantity"] for (c, _, u), r in demand.items() if c == pk and u == category.unit), Decimal(0))
        if s or d:
            shown.append((category, s, d))
    labels = [f"{c.name}（{c.unit}）" for c, _, _ in shown]
    series = [
        Series(
            "供应量",
            [
                Point(label, float(s), filing_url("supply", start=start, end=end, district=district, category=c.code))
                for label, (c, s, _) in zip(labels, shown, strict=True)
            ],
        ),
        Series(
            "采购使用量",
            [
                Point(label, float(d), filing_url("purchase", start=start, end=end, district=district, category=c.code))
                for label, (c, _, d) in zip(labels, shown, strict=True)
            ],
        ),
    ]
    return Panel(
        "supply_demand",
        f"供需对比（{start:%Y-%m} 至 {months[-1]:%Y-%m}）",
        "bar",
        labels,
        series,
        "供应按供货日期、采购按进场日期，仅计品类本身计量单位的记录。",
    )


def _pass_rates(
    window: QuerySet[Any], categories: dict[int, MaterialCategory], district: District | None, months: list[dt.date]
) -> Panel:
    rows = _category_rows(window, "test_report")
    start, end = months[0], month_end(months[-1])
    totals: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for (c, _, _), r in rows.items():
        totals[c][0] += r["records"]
        totals[c][1] += r["failed"]
    shown = sorted(
        ((categories[c], n, f) for c, (n, f) in totals.items() if c in categories and n), key=lambda x: x[0].code
    )
    points = [
        Point(
            c.name,
            _rate(n - f, n),
            filing_url("test_report", start=start, end=end, district=district, category=c.code),
            f"{_rate(n - f, n)}%（{int(n)} 份，不合格 {int(f)} 份）",
        )
        for c, n, f in shown
    ]
    failed = [
        Point(
            c.name,
            int(f),
            filing_url("test_report", start=start, end=end, district=district, category=c.code, result="不合格"),
        )
        for c, n, f in shown
    ]
    return Panel(
        "pass_rates",
        f"检测合格率（{start:%Y-%m} 至 {months[-1]:%Y-%m}）",
        "bar",
        [p.label for p in points],
        [Series("合格率", points), Series("不合格份数", failed)],
        unit="%",
    )


def _ratings(user: Any, district: District | None) -> Panel:
    scores = restrict(CreditScore.objects.all(), user, Action.VIEW)
    if district is not None:
        scores = scores.filter(organization__district=district)
    counts = dict(scores.values_list("rating").annotate(n=Count("pk")).order_by())
    points = [
        Point(label, counts.get(value, 0), _url("credit:score_list", rating=value, district=_name(district)))
        for value, label in Rating.choices
    ]
    return Panel("ratings", "企业信用等级分布", "pie", [p.label for p in points], [Series("企业", points)], unit="家")


def _suppliers(user: Any, district: District | None, months: list[dt.date]) -> Panel:
    start, end = months[0], month_end(months[-1])
    scoped = _scoped(SupplierRollup.objects.filter(month__gte=start, month__lte=months[-1]), user, district)
    if district is None:
        scoped = scoped.filter(district_id=CITY_DISTRICT)  # the city's own totals
    rows = (
        scoped.values_list("organization_id", "kind")
        .annotate(n=Sum("records"))
        .order_by()
    )
    per_org: dict[int, dict[str, int]] = defaultdict(lambda: {"supply": 0, "purchase": 0})
    for org, kind, n in rows:
        per_org[org][kind] += n
    ranked = sorted(per_org.items(), key=lambda item: (-sum(item[1].values()), item[0]))[: TOP_SUPPLIERS * 2]
    orgs = Organization.objects.in_bulk([pk for pk, _ in ranked])
    top = [(pk, counts) for pk, counts in ranked if pk in orgs][:TOP_SUPPLIERS]
    labels = [orgs[pk].name for pk, _ in top]
    series = [
        Series(
            name,
            [
                Point(
                    orgs[pk].name,
                    counts[kind],
                    filing_url(kind, start=start, end=end, district=district, **{party: orgs[pk].uscc}),
                )
                for pk, counts in top
            ],
        )
        for kind, name, party in (("supply", "供应记录", "filer"), ("purchase", "被采购记录", "supplier"))
    ]
    return Panel(
        "suppliers",
        f"最活跃供应企业（{start:%Y-%m} 至 {months[-1]:%Y-%m}）",
        "hstack",
        labels,
        series,
        "供应记录按供货日期，被采购记录（施工单位采购时填报的供应企业）按进场日期。",
        "条",
    )
