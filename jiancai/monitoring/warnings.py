"""Aggregate warnings (预警) per month: quality, supply-demand and price, plus the warnings higher apps register
(`register_warning_computer`: the credit app's credit warnings). `compute_warnings(period)` replaces the month's
warnings in one transaction; `manage.py compute_warnings` and the monthly beat job call it.

Quality (质量预警): from the month's government sampling, witness and routine test reports, the failure rate
  per category and per producer × category. A category warns when its rate exceeds `QUALITY_MAX_RATE` or
  `QUALITY_BASELINE_FACTOR` × its own rate over the previous twelve months; a producer warns when its rate in a
  category exceeds the threshold or the factor × the category's rate in the same month. Groups with fewer than
  `QUALITY_MIN_TESTS` reports are not judged.
Supply-demand (供需预警), for the categories with usage reference values: demand per category and district =
  Σ over the projects under construction in the month of floor area × the middle of the usage reference
  range in force at the project's start (structure type), spread evenly over `CONSTRUCTION_MONTHS`;
  capacity = Σ registered annual capacity of the district's enterprises / 12. Shortage when demand >
  capacity × (1 + `SHORTAGE_MARGIN`); overcapacity when capacity > `OVERCAPACITY_FACTOR` × demand.
  Reference units per ㎡ are converted to the category's unit (kg → t).
Price (价格预警): the quantity-weighted average unit price per category and spec from the month's purchases;
  a movement beyond `PRICE_MOVE_MAX` against the previous month warns; single purchase prices outside the
  Tukey fences Q1 − 1.5·IQR, Q3 + 1.5·IQR of the month's prices of the same category and spec (at least
  `OUTLIER_MIN_PRICES` prices) warn, showing the quartiles used.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from jiancai.filings.models import FilingStatus, Purchase, TestKind, TestReport, TestResult
from jiancai.materials.models import MaterialCategory, UsageReference
from jiancai.registry.models import Capacity, Project

from .models import EarlyWarning, WarningKind, WarningTopic
from .rules.base import fmt_decimal, fmt_percent

QUALITY_MAX_RATE = Decimal("0.05")
QUALITY_BASELINE_FACTOR = Decimal("2")
QUALITY_MIN_TESTS = 5
CONSTRUCTION_MONTHS = 24
SHORTAGE_MARGIN = Decimal("0.10")
OVERCAPACITY_FACTOR = Decimal("3")
PRICE_MOVE_MAX = Decimal("0.10")
OUTLIER_MIN_PRICES = 5
TUKEY_K = Decimal("1.5")

QUALITY_KINDS = (TestKind.SAMPLING, TestKind.WITNESS, TestKind.ROUTINE)
# Reference usage units per ㎡ → factor into the category's unit.
UNIT_FACTORS = {("kg", "t"): Decimal("0.001"), ("t", "t"): Decimal(1), ("m³", "m³"): Decimal(1)}


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def previous_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _q(value: Decimal, places: str = "0.0001") -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


@dataclass
class _New:
    kind: str
    topic: str
    value: Decimal
    threshold: Decimal | None
    message: str
    evidence: dict[str, Any]
    category_id: int | None = None
    spec: str = ""
    district_id: int | None = None
    organization_id: int | None = None


# The public name of a computed warning, for the computers other apps register.
NewWarning = _New


@dataclass(frozen=True)
class WarningComputer:
    """A warning computer of a higher app: `compute(month_start)` returns that month's warnings of `topics`."""

    name: str
    topics: tuple[str, ...]
    compute: Callable[[dt.date], list[_New]]


# Computers registered by higher apps (the credit app registers the credit warning); monitoring never imports them.
WARNING_COMPUTERS: dict[str, WarningComputer] = {}


def register_warning_computer(name: str, topics: Iterable[str], compute: Callable[[dt.date], list[_New]]) -> None:
    WARNING_COMPUTERS[name] = WarningComputer(name, tuple(str(t) for t in topics), compute)


def compute_warnings(period: dt.date, *, now: dt.datetime | None = None) -> list[EarlyWarning]:
    """Compute and store the warnings of the month containing `period` (replacing that month's earlier ones)."""
    start = month_start(period)
    now = now or timezone.now()
    found = [*_quality(start), *_supply_demand(start), *_prices(start)]
    registered = list(WARNING_COMPUTERS.values())
    for computer in registered:
        found.extend(computer.compute(start))
    owned = [topic for computer in registered for topic in computer.topics]
    rows = [
        EarlyWarning(
            kind=w.kind,
            topic=w.topic,
            period=start,
            category_id=w.category_id,
            spec=w.spec[:128],
            district_id=w.district_id,
            organization_id=w.organization_id,
            value=_q(w.value),
            threshold=None if w.threshold is None else _q(w.threshold),
            message=w.message,
            evidence=w.evidence,
            computed_at=now,
        )
        for w in found
    ]
    with transaction.atomic():
        # Credit warnings of topics no registered computer owns are someone else's (left alone).
        EarlyWarning.objects.filter(period=start).filter(~Q(kind=WarningKind.CREDIT) | Q(topic__in=owned)).delete()
        return EarlyWarning.objects.bulk_create(rows)


# ---------------------------------------------------------------------------------------------- quality


def _tests(start: dt.date, end: dt.date) -> Any:
    return TestReport.objects.filter(
        is_current=True,
        status=FilingStatus.SUBMITTED,
        test_kind__in=QUALITY_KINDS,
        test_date__gte=start,
        test_date__lt=end,
    )


def _rates(rows: Iterable[dict[str, Any]]) -> dict[Any, tuple[int, int]]:
    return {r["key"]: (r["n"], r["failed"]) for r in rows}


def _quality(start: dt.date) -> list[_New]:
    end = next_month(start)
    names = dict(MaterialCategory.objects.values_list("id", "name"))
    failed = Count("id", filter=Q(result=TestResult.FAIL))
    month = _tests(start, end).values(key=F("category_id")).annotate(n=Count("id"), failed=failed)
    baseline_start = start.replace(year=start.year - 1)
    baseline = _rates(_tests(baseline_start, start).values(key=F("category_id")).annotate(n=Count("id"), failed=failed))
    out: list[_New] = []
    category_rate: dict[int, Decimal] = {}
    for row in month:
        cat, n, bad = row["key"], row["n"], row["failed"]
        rate = Decimal(bad) / n
        category_rate[cat] = rate
        base_n, base_bad = baseline.get(cat, (0, 0))
        base_rate = Decimal(base_bad) / base_n if base_n >= QUALITY_MIN_TESTS else None
        limit = QUALITY_MAX_RATE if base_rate is None else min(QUALITY_MAX_RATE, base_rate * QUALITY_BASELINE_FACTOR)
        if n < QUALITY_MIN_TESTS or rate <= limit:
            continue
        base_text = (
            f"近12个月基准 {fmt_percent(base_rate)}（{base_bad}/{base_n}）"
            if base_rate is not None
            else "近12个月样本不足"
        )
        out.append(
            _New(
                WarningKind.QUALITY,
                WarningTopic.CATEGORY_FAILURES,
                rate,
                limit,
                f"{names[cat]} {start:%Y年%m月} 检测 {n} 批次，不合格 {bad} 批次，不合格率 {fmt_percent(rate)}，"
                f"高于预警线 {fmt_percent(limit)}（阈值 {fmt_percent(QUALITY_MAX_RATE)}；{base_text}）",
                {
                    "tests": n,
                    "failed": bad,
                    "rate": fmt_percent(rate),
                    "baseline_tests": base_n,
                    "baseline_failed": base_bad,
                    "threshold": fmt_percent(QUALITY_MAX_RATE),
                    "baseline_factor": str(QUALITY_BASELINE_FACTOR),
                    "test_kinds": [str(k) for k in QUALITY_KINDS],
                },
                category_id=cat,
            )
        )
    producers = (
        _tests(start, end)
        .filter(producer__isnull=False)
        .values("producer_id", "producer__name", "category_id")
        .annotate(n=Count("id"), failed=failed)
    )
    for row in producers:
        n, bad, cat = row["n"], row["failed"], row["category_id"]
        rate = Decimal(bad) / n
        base = category_rate.get(cat, Decimal(0))
        limit = min(QUALITY_MAX_RATE, base * QUALITY_BASELINE_FACTOR) if base else QUALITY_MAX_RATE
        if n < QUALITY_MIN_TESTS or rate <= limit:
            continue
        out.append(
            _New(
                WarningKind.QUALITY,
                WarningTopic.PRODUCER_FAILURES,
                rate,
                limit,
                f"{row['producer__name']} 的{names[cat]} {start:%Y年%m月} 检测 {n} 批次，不合格 {bad} 批次，"
                f"不合格率 {fmt_percent(rate)}，高于预警线 {fmt_percent(limit)}（全市该品类本月 {fmt_percent(base)}）",
                {
                    "tests": n,
                    "failed": bad,
                    "rate": fmt_percent(rate),
                    "category_rate": fmt_percent(base),
                    "threshold": fmt_percent(QUALITY_MAX_RATE),
                },
                category_id=cat,
                organization_id=row["producer_id"],
            )
        )
    return out


# ---------------------------------------------------------------------------------------------- supply-demand


def _supply_demand(start: dt.date) -> list[_New]:
    end = next_month(start)
    categories = {c.code: c for c in MaterialCategory.objects.all()}
    by_id = {c.id: c for c in categories.values()}
    references: dict[tuple[int, str], list[UsageReference]] = defaultdict(list)
    for ref in UsageReference.objects.all():
        references[(ref.category_id, ref.structure_type)].append(ref)
    demand: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    projects: dict[tuple[int, int], int] = defaultdict(int)
    building = Project.objects.filter(start_date__lt=end, floor_area__isnull=False).filter(
        Q(completion_date__isnull=True) | Q(completion_date__gte=start)
    )
    for p in building.values("district_id", "floor_area", "structure_type", "start_date"):
        for (cat_id, structure), refs in references.items():
            if structure != p["structure_type"]:
                continue
            in_force = _in_force(refs, p["start_date"])
            if in_force is None:
                continue
            factor = UNIT_FACTORS.get((in_force.per_m2_unit.split("/")[0], by_id[cat_id].unit))
            if factor is None:
                continue
            mid = (in_force.min_per_m2 + in_force.max_per_m2) / 2
            demand[(cat_id, p["district_id"])] += p["floor_area"] * mid * factor / CONSTRUCTION_MONTHS
            projects[(cat_id, p["district_id"])] += 1
    capacity: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for row in (
        Capacity.objects.filter(organization__district__isnull=False)
        .values("category", "organization__district_id")
        .annotate(total=Sum("annual_capacity"))
    ):
        registered = categories.get(row["category"])
        if registered is not None:
            capacity[(registered.id, row["organization__district_id"])] += row["total"] / 12
    out: list[_New] = []
    # Only categories whose demand can be estimated (a usage reference exists) are judged: for the others a
    # demand of 0 would only say that nothing is known.
    estimable = {cat_id for cat_id, _ in references}
    for key in sorted(k for k in set(demand) | set(capacity) if k[0] in estimable):
        cat_id, district_id = key
        need, can = demand.get(key, Decimal(0)), capacity.get(key, Decimal(0))
        category = by_id[cat_id]
        unit = category.unit
        figures = {
            "demand": fmt_decimal(need),
            "capacity": fmt_decimal(can),
            "unit": unit,
            "projects": projects.get(key, 0),
            "construction_months": CONSTRUCTION_MONTHS,
        }
        if need > can * (1 + SHORTAGE_MARGIN) and need > 0:
            out.append(
                _New(
                    WarningKind.SUPPLY_DEMAND,
                    WarningTopic.SHORTAGE,
                    need - can,
                    can * (1 + SHORTAGE_MARGIN),
                    f"{category.name}：本月需求约 {fmt_decimal(need)} {unit}（在建项目 {projects.get(key, 0)} 个，"
                    f"按单位面积用量参考值中值、工期 {CONSTRUCTION_MONTHS} 个月均摊），本区登记月产能 "
                    f"{fmt_decimal(can)} {unit}，缺口 {fmt_decimal(need - can)} {unit}",
                    {**figures, "margin": fmt_percent(SHORTAGE_MARGIN)},
                    category_id=cat_id,
                    district_id=district_id,
                )
            )
        elif can > need * OVERCAPACITY_FACTOR and can > 0:
            out.append(
                _New(
                    WarningKind.SUPPLY_DEMAND,
                    WarningTopic.OVERCAPACITY,
                    can / need if need else can,
                    need * OVERCAPACITY_FACTOR,
                    f"{category.name}：本区登记月产能 {fmt_decimal(can)} {unit}，"
                    f"本月需求约 {fmt_decimal(need)} {unit}，"
                    f"产能超过需求的 {OVERCAPACITY_FACTOR} 倍",
                    {**figures, "factor": str(OVERCAPACITY_FACTOR)},
                    category_id=cat_id,
                    district_id=district_id,
                )
            )
    return out


def _in_force(refs: list[UsageReference], on: dt.date | None) -> UsageReference | None:
    day = on or dt.date.today()
    for ref in sorted(refs, key=lambda r: r.effective_from, reverse=True):
        if ref.effective_from <= day and (ref.effective_until is None or ref.effective_until >= day):
            return ref
    return None


# ---------------------------------------------------------------------------------------------- prices


def _purchases(start: dt.date, end: dt.date) -> Any:
    return Purchase.objects.filter(
        is_current=True,
        status=FilingStatus.SUBMITTED,
        unit_price__isnull=False,
        arrival_date__gte=start,
        arrival_date__lt=end,
    )


def _averages(start: dt.date) -> dict[tuple[int, str], tuple[Decimal, Decimal, int]]:
    rows = (
        _purchases(start, next_month(start))
        .values("category_id", "spec")
        .annotate(q=Sum("quantity"), value=Sum(F("quantity") * F("unit_price")), n=Count("id"))
    )
    return {(r["category_id"], r["spec"]): (r["value"] / r["q"], r["q"], r["n"]) for r in rows if r["q"]}


def _prices(start: dt.date) -> list[_New]:
    names = dict(MaterialCategory.objects.values_list("id", "name"))
    units = dict(MaterialCategory.objects.values_list("id", "unit"))
    now_avg, before_avg = _averages(start), _averages(previous_month(start))
    out: list[_New] = []
    for key, (avg, qty, n) in sorted(now_avg.items()):
        if key not in before_avg:
            continue
        prev = before_avg[key][0]
        move = (avg - prev) / prev if prev else Decimal(0)
        if abs(move) <= PRICE_MOVE_MAX:
            continue
        cat, spec = key
        out.append(
            _New(
                WarningKind.PRICE,
                WarningTopic.PRICE_MOVEMENT,
                move,
                PRICE_MOVE_MAX,
                f"{names[cat]} {spec} {start:%Y年%m月} 加权均价 {fmt_decimal(avg, 2)} 元/{units[cat]}"
                f"（{n} 笔，{fmt_decimal(qty)} {units[cat]}），上月 {fmt_decimal(prev, 2)} 元，"
                f"{'上涨' if move > 0 else '下降'} {fmt_percent(abs(move))}，超过 {fmt_percent(PRICE_MOVE_MAX)}",
                {
                    "average": fmt_decimal(avg, 2),
                    "previous": fmt_decimal(prev, 2),
                    "movement": fmt_percent(move),
                    "purchases": n,
                    "quantity": fmt_decimal(qty),
                    "threshold": fmt_percent(PRICE_MOVE_MAX),
                },
                category_id=cat,
                spec=spec,
            )
        )
    groups: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for p in _purchases(start, next_month(start)).values(
        "id",
        "purchase_no",
        "filer_id",
        "filer__name",
        "supplier__name",
        "category_id",
        "spec",
        "unit_price",
        "project__district_id",
    ):
        groups[(p["category_id"], p["spec"])].append(p)
    for (cat, spec), rows in sorted(groups.items()):
        if len(rows) < OUTLIER_MIN_PRICES:
            continue
        prices = sorted(Decimal(r["unit_price"]) for r in rows)
        q1, _, q3 = statistics.quantiles(prices, n=4, method="inclusive")
        iqr = q3 - q1
        low, high = q1 - TUKEY_K * iqr, q3 + TUKEY_K * iqr
        for r in rows:
            price = Decimal(r["unit_price"])
            if low <= price <= high:
                continue
            out.append(
                _New(
                    WarningKind.PRICE,
                    WarningTopic.PRICE_OUTLIER,
                    price,
                    high if price > high else low,
                    f"采购单 {r['purchase_no']}（{r['filer__name']}，供应 {r['supplier__name']}）{names[cat]} {spec} "
                    f"单价 {fmt_decimal(price, 2)} 元，{'高于上' if price > high else '低于下'}限 "
                    f"{fmt_decimal(high if price > high else low, 2)} 元"
                    f"（本月 {len(rows)} 笔：Q1 {fmt_decimal(q1, 2)}，"
                    f"Q3 {fmt_decimal(q3, 2)}，IQR {fmt_decimal(iqr, 2)}，围栏 Q1−1.5·IQR 至 Q3+1.5·IQR）",
                    {
                        "price": fmt_decimal(price, 2),
                        "q1": fmt_decimal(q1, 2),
                        "q3": fmt_decimal(q3, 2),
                        "iqr": fmt_decimal(iqr, 2),
                        "low": fmt_decimal(low, 2),
                        "high": fmt_decimal(high, 2),
                        "prices": len(rows),
                        "purchase_id": r["id"],
                        "purchase_no": r["purchase_no"],
                    },
                    category_id=cat,
                    spec=spec,
                    district_id=r["project__district_id"],
                    organization_id=r["filer_id"],
                )
            )
    return out
