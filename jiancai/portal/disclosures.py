"""What the public pages show, read from the lower apps as plain functions returning plain rows.

Every figure counts only current, submitted filings (`is_current`, status 已提交). Prices are quantity-weighted
averages Σ(quantity × unit price) / Σ quantity over priced purchases whose unit is the category's unit, dated
by the arrival date (进场日期). Each function is a fixed, small number of queries whatever the data size.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber, TruncMonth

from jiancai.accounts.models import Verdict
from jiancai.filings.models import FilingStatus, ProjectEvent, ProjectEventKind, Purchase
from jiancai.materials.models import CatalogEntry, MaterialCategory, ProductFiling, in_force_q
from jiancai.registry.models import Project

PRICE_MONTHS = 6  # the quality-material list: average purchase price of the last six months
TOP_MONTHS = 12  # the ten most purchased products: purchases of the last twelve months
TREND_MONTHS = 12  # monthly average prices: the last twelve months
TOP_N = 10
CENT = Decimal("0.01")


def months_back(today: dt.date, months: int) -> dt.date:
    """The first day of the month `months - 1` months before today's month (12 → the same month a year ago + 1)."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return dt.date(index // 12, index % 12 + 1, 1)


def month_starts(today: dt.date, months: int) -> list[dt.date]:
    first = months_back(today, months)
    index = first.year * 12 + first.month - 1
    return [dt.date((index + i) // 12, (index + i) % 12 + 1, 1) for i in range(months)]


def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def submitted_purchases() -> QuerySet[Purchase]:
    return Purchase.objects.filter(is_current=True, status=FilingStatus.SUBMITTED)


def priced_purchases(since: dt.date) -> QuerySet[Purchase]:
    return submitted_purchases().filter(
        unit_price__isnull=False, arrival_date__gte=since, unit=F("category__unit"), quantity__gt=0
    )


def categories() -> list[MaterialCategory]:
    return list(MaterialCategory.objects.order_by("sort", "code"))


# ---------------------------------------------------------------------------------------------- quality materials


def filings_in_force(today: dt.date) -> QuerySet[ProductFiling]:
    """Product supply filings (产品供应备案) in force today with a type report not expired, of producers not found
    to have reported falsely."""
    return (
        ProductFiling.objects.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .filter(Q(type_report_valid_until__isnull=True) | Q(type_report_valid_until__gte=today))
        .exclude(producer__verification_status=Verdict.FALSE)
        .select_related("producer", "category")
        .order_by("category__sort", "producer__name", "filing_no")
    )


@dataclass(frozen=True)
class PriceBasis:
    average: Decimal | None
    quantity: Decimal
    purchases: int


def producer_prices(pairs: Iterable[tuple[int, int]], since: dt.date) -> dict[tuple[int, int], PriceBasis]:
    """Weighted average purchase price per (supplier id, category id) since `since`, for the given pairs only."""
    pairs = set(pairs)
    if not pairs:
        return {}
    suppliers = {s for s, _ in pairs}
    cats = {c for _, c in pairs}
    rows = (
        priced_purchases(since)
        .filter(supplier_id__in=suppliers, category_id__in=cats)
        .values("supplier_id", "category_id")
        .annotate(q=Sum("quantity"), value=Sum(F("quantity") * F("unit_price")), n=Count("id"))
    )
    result = {}
    for r in rows:
        key = (r["supplier_id"], r["category_id"])
        if key in pairs and r["q"]:
            result[key] = PriceBasis(_money(Decimal(str(r["value"])) / Decimal(str(r["q"]))), r["q"], r["n"])
    return result


# ---------------------------------------------------------------------------------------------- ten most purchased


@dataclass
class CategoryTop:
    code: str
    name: str
    unit: str
    rows: list[dict[str, Any]] = field(default_factory=list)


def top_products(today: dt.date, category_code: str = "") -> list[CategoryTop]:
    """Per category, the ten (supplier, spec) products bought in the largest quantity in the last TOP_MONTHS months:
    one grouped query ranked with ROW_NUMBER() per category."""
    since = months_back(today, TOP_MONTHS)
    qs = submitted_purchases().filter(arrival_date__gte=since, unit=F("category__unit"))
    if category_code:
        qs = qs.filter(category__code=category_code)
    grouped = qs.values(
        "category__code",
        "category__name",
        "category__unit",
        "category__sort",
        "supplier__name",
        "supplier__uscc",
        "spec",
    ).annotate(total=Sum("quantity"), purchases=Count("id"), projects=Count("project_id", distinct=True))
    ranked = (
        grouped.annotate(
            rank=Window(RowNumber(), partition_by=[F("category__code")], order_by=[F("total").desc(), F("spec").asc()])
        )
        .filter(rank__lte=TOP_N)
        .order_by("category__sort", "category__code", "rank")
    )
    result: list[CategoryTop] = []
    for r in ranked:
        if not result or result[-1].code != r["category__code"]:
            result.append(CategoryTop(r["category__code"], r["category__name"], r["category__unit"]))
        result[-1].rows.append(dict(r))
    return result


# ---------------------------------------------------------------------------------------------- monthly prices


@dataclass
class PriceSeries:
    code: str
    name: str
    unit: str
    values: list[Decimal | None]


def monthly_prices(today: dt.date) -> tuple[list[dt.date], list[PriceSeries]]:
    """Weighted average purchase price per category and month, the last TREND_MONTHS months (a month without a
    priced purchase is None); only categories with at least one priced purchase."""
    months = month_starts(today, TREND_MONTHS)
    rows = (
        priced_purchases(months[0])
        .annotate(month=TruncMonth("arrival_date"))
        .values("category_id", "month")
        .annotate(q=Sum("quantity"), value=Sum(F("quantity") * F("unit_price")))
    )
    averages: dict[int, dict[dt.date, Decimal | None]] = defaultdict(dict)
    for r in rows:
        month = r["month"]
        if isinstance(month, dt.datetime):
            month = month.date()
        if r["q"]:
            averages[r["category_id"]][month] = _money(Decimal(str(r["value"])) / Decimal(str(r["q"])))
    series = [
        PriceSeries(c.code, c.name, c.unit, [averages[c.pk].get(m) for m in months])
        for c in categories()
        if c.pk in averages
    ]
    return months, series


# ---------------------------------------------------------------------------------------------- catalog


def catalog_in_force(today: dt.date) -> QuerySet[CatalogEntry]:
    return (
        CatalogEntry.objects.filter(in_force_q(today))
        .select_related("category")
        .order_by("listing", "category__sort", "entry_no")
    )


# ---------------------------------------------------------------------------------------------- completed projects


def completed_projects() -> QuerySet[Project]:
    """Projects with a submitted completion filing (竣工验收备案), newest completion first."""
    events = ProjectEvent.objects.filter(
        is_current=True, status=FilingStatus.SUBMITTED, event=ProjectEventKind.COMPLETION
    )
    return (
        Project.objects.filter(events__in=events)
        .annotate(completed_on=Max("events__date", filter=Q(events__in=events)))
        .select_related("district", "builder")
        .order_by("-completed_on", "project_code")
    )


@dataclass
class MaterialUse:
    code: str
    name: str
    unit: str
    quantity: Decimal = Decimal(0)
    purchases: int = 0
    suppliers: list[str] = field(default_factory=list)


def project_materials(project: Project) -> list[MaterialUse]:
    """A completed project's materials: per category (and unit) the quantity purchased and the suppliers."""
    rows = (
        submitted_purchases()
        .filter(project=project)
        .values("category__code", "category__name", "category__sort", "unit", "supplier__name")
        .annotate(q=Sum("quantity"), n=Count("id"))
        .order_by("category__sort", "category__code", "unit", "-q", "supplier__name")
    )
    uses: dict[tuple[str, str], MaterialUse] = {}
    for r in rows:
        key = (r["category__code"], r["unit"])
        use = uses.setdefault(key, MaterialUse(r["category__code"], r["category__name"], r["unit"]))
        use.quantity += Decimal(str(r["q"]))
        use.purchases += r["n"]
        use.suppliers.append(r["supplier__name"])
    return list(uses.values())


def search_terms(text: str) -> Sequence[str]:
    return [t for t in (text or "").split() if t][:5]
