"""The figures of a region and year: the regulators' yearly statistics where they entered a figure, else what
the platform's own filings and registries hold; the indicators computed from them; progress toward targets.

Taken from the platform (current, submitted filings; capacities not verified false), within the region and the
period, always through the funnel (`visible_to`) of the user asking:

- capacities (水泥 SN, 预拌混凝土 HNT, 预拌砂浆 SJ, 预制构件 YZ): Σ registry `Capacity.annual_capacity` of the
  region's enterprises. The registry holds today's capacities, not their history, so they count for the current
  year only; a past year's capacity must be entered;
- 水泥供应量 / 散装水泥供应量: Σ supplies of cement (散装: the spec says 散装);
- 水泥使用量 / 散装水泥使用量: Σ purchases of cement (散装 likewise);
- 预拌混凝土供应量: Σ ready-mix delivery tickets (发货单) volume;
- 普通干混砂浆年产量 (and its 散装 part): Σ supplies of mortar whose spec is a dry-mix one (GB/T 25181 codes
  DM/DP/DS/DW…, or 干混);
- 预拌砂浆使用量 / 预拌湿砂浆使用量: Σ purchases of mortar / of wet-mix mortar (WM/WP/WS/WW…, or 湿拌);
- 预制构件产量 / 使用量: Σ supplies / purchases of precast members.

Not held by the platform, so entered only: 普通干混砂浆年产能 (the registry does not split mortar capacity into
dry and wet), 预拌砂浆需求量. Units: t and m³ are converted to 万吨 / 万立方米; rows in another unit are left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from jiancai.accounts.access import Action
from jiancai.accounts.models import District, Verdict
from jiancai.filings.models import FilingStatus, Purchase, Supply, Ticket
from jiancai.registry.models import Capacity

from .formulas import INDICATORS, INPUTS, Indicator, percent
from .models import Target, TargetDirection, YearlyStatistic

TEN_THOUSAND = Decimal(10000)
BULK = Q(spec__contains="散装")
DRY = Q(spec__istartswith="D") | Q(spec__contains="干混")
WET = Q(spec__istartswith="W") | Q(spec__contains="湿拌") | Q(spec__contains="湿砂浆")
ENTERED_ONLY = frozenset({"dry_mortar_capacity", "mortar_demand"})

SOURCE_ENTERED = "年度统计"
SOURCE_PLATFORM = "平台数据"


def _sum(qs: QuerySet[Any], field: str) -> Decimal | None:
    total = qs.aggregate(total=Sum(field))["total"]
    return None if total is None else Decimal(total) / TEN_THOUSAND


def _in_region(qs: QuerySet[Any], path: str, district: District | None) -> QuerySet[Any]:
    return qs.filter(**{path: district}) if district is not None else qs


def platform_inputs(*, user: Any, district: District | None, start: dt.date, end: dt.date) -> dict[str, Decimal | None]:
    """The inputs the platform holds for the region between `start` and `end` (inclusive), as `user` may see them."""
    capacities = _in_region(
        Capacity.objects.visible_to(user, Action.VIEW).exclude(verification_status=Verdict.FALSE),
        "organization__district",
        district,
    )

    def capacity(code: str, unit: str) -> Decimal | None:
        if end.year != timezone.localdate().year:
            return None  # today's registry says nothing about another year's capacity
        return _sum(capacities.filter(category=code, unit=unit), "annual_capacity")

    def filed(model: Any, date_field: str) -> QuerySet[Any]:
        qs = model.objects.visible_to(user, Action.VIEW).filter(
            is_current=True, status=FilingStatus.SUBMITTED, **{f"{date_field}__gte": start, f"{date_field}__lte": end}
        )
        return _in_region(qs, "project__district", district)

    supplies = filed(Supply, "delivery_date")
    purchases = filed(Purchase, "arrival_date")
    cement_s = supplies.filter(category__code="SN", unit="t")
    cement_p = purchases.filter(category__code="SN", unit="t")
    mortar_s = supplies.filter(category__code="SJ", unit="t")
    mortar_p = purchases.filter(category__code="SJ", unit="t")
    tickets = Ticket.objects.visible_to(user, Action.VIEW).filter(
        is_current=True,
        status=FilingStatus.SUBMITTED,
        departed_at__date__gte=start,
        departed_at__date__lte=end,
    )
    tickets = _in_region(tickets, "project__district", district)
    return {
        "cement_capacity": capacity("SN", "t"),
        "cement_supplied": _sum(cement_s, "quantity"),
        "bulk_cement_supplied": _sum(cement_s.filter(BULK), "quantity"),
        "cement_used": _sum(cement_p, "quantity"),
        "bulk_cement_used": _sum(cement_p.filter(BULK), "quantity"),
        "concrete_capacity": capacity("HNT", "m³"),
        "concrete_supplied": _sum(tickets, "volume"),
        "mortar_capacity": capacity("SJ", "t"),
        "dry_mortar_capacity": None,
        "dry_mortar_output": _sum(mortar_s.filter(DRY), "quantity"),
        "dry_mortar_bulk_output": _sum(mortar_s.filter(DRY).filter(BULK), "quantity"),
        "mortar_demand": None,
        "mortar_used": _sum(mortar_p, "quantity"),
        "wet_mortar_used": _sum(mortar_p.filter(WET), "quantity"),
        "precast_capacity": capacity("YZ", "m³"),
        "precast_output": _sum(supplies.filter(category__code="YZ", unit="m³"), "quantity"),
        "precast_used": _sum(purchases.filter(category__code="YZ", unit="m³"), "quantity"),
    }


@dataclass(frozen=True)
class Figure:
    code: str
    label: str
    unit: str
    value: Decimal | None
    source: str  # SOURCE_ENTERED, SOURCE_PLATFORM or "" (no data)


@dataclass(frozen=True)
class IndicatorValue:
    indicator: Indicator
    value: Decimal | None

    @property
    def text(self) -> str:
        from .formulas import display

        return display(self.indicator, self.value)

    @property
    def shown(self) -> Decimal | None:
        """The value as printed: percent for rates (78.1), one decimal for amounts."""
        if self.value is None:
            return None
        if self.indicator.is_rate:
            return percent(self.value)
        return self.value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RegionYear:
    district: District | None
    year: int
    until: dt.date
    statistic: YearlyStatistic | None
    figures: tuple[Figure, ...]
    indicators: tuple[IndicatorValue, ...]

    @property
    def region_name(self) -> str:
        return self.district.name if self.district else "全市"

    def value(self, code: str) -> IndicatorValue:
        return next(v for v in self.indicators if v.indicator.code == code)


def region_year(*, user: Any, district: District | None, year: int, until: dt.date | None = None) -> RegionYear:
    """The figures and indicators of a region's year; platform data up to `until` (default: the year's end or
    today, whichever is earlier)."""
    year_end = dt.date(year, 12, 31)
    until = min(until or year_end, year_end, max(timezone.localdate(), dt.date(year, 1, 1)))
    visible = YearlyStatistic.objects.visible_to(user, Action.VIEW).filter(is_current=True, year=year)
    statistic = visible.filter(district=district).first() if district else visible.filter(district=None).first()
    platform = platform_inputs(user=user, district=district, start=dt.date(year, 1, 1), end=until)
    figures = []
    values: dict[str, Decimal | None] = {}
    for spec in INPUTS:
        entered = getattr(statistic, spec.code) if statistic is not None else None
        if entered is not None:
            value, source = entered, SOURCE_ENTERED
        elif platform.get(spec.code) is not None and spec.code not in ENTERED_ONLY:
            value, source = platform[spec.code], SOURCE_PLATFORM
        else:
            value, source = None, ""
        values[spec.code] = value
        figures.append(Figure(spec.code, spec.label, spec.unit, value, source))
    indicators = tuple(IndicatorValue(i, i.compute(values)) for i in INDICATORS)
    return RegionYear(district, year, until, statistic, tuple(figures), indicators)


@dataclass(frozen=True)
class Progress:
    target: Target
    actual: IndicatorValue
    year: int

    @property
    def achieved(self) -> bool | None:
        shown = self.actual.shown
        if shown is None:
            return None
        if self.target.direction == TargetDirection.AT_MOST:
            return shown <= self.target.value
        return shown >= self.target.value

    @property
    def percent_of_target(self) -> int | None:
        """How far along the bar is (0–100): actual ÷ target for a minimum, target ÷ actual for a ceiling."""
        shown = self.actual.shown
        if shown is None:
            return None
        if self.target.direction == TargetDirection.AT_MOST:
            if shown <= self.target.value:
                return 100
            return int(self.target.value * 100 / shown)
        if self.target.value == 0:
            return 100
        return min(100, int(shown * 100 / self.target.value))


def target_progress(
    *, user: Any, targets: QuerySet[Target], year: int | None = None, until: dt.date | None = None
) -> list[Progress]:
    """Each target with the actual value of its region in `year` (the year a page or report is about), or without
    one in the year of its deadline (this year if the deadline is later)."""
    cache: dict[tuple[int | None, int], RegionYear] = {}
    result = []
    this_year = timezone.localdate().year
    for target in targets.select_related("district"):
        year_of = year if year is not None else min(target.deadline.year, this_year)
        key = (target.district_id, year_of)
        if key not in cache:
            cache[key] = region_year(user=user, district=target.district, year=year_of, until=until)
        result.append(Progress(target, cache[key].value(target.indicator), year_of))
    return result
