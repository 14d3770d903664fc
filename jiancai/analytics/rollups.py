"""Keeping the rollup tables (models.py) equal to an aggregation of the base tables, set-based.

Two ways to the same rows:

* `rebuild()` (`manage.py rebuild_rollups`): empty the tables and fill them with one `INSERT … SELECT … GROUP BY`
  per filing kind (and one for alerts), computed by the database.
* `refresh_filings(model, ids)` (after every filing change, `receivers.py`) and `refresh_alerts(rule_ids)`: the
  groups the rows fall in — and, for a correction, the groups of its earlier versions — are recomputed: every
  month × category (and month × supplier) of the batch has its rollup rows deleted and aggregated again from the
  base table with one `INSERT … SELECT … GROUP BY`, read in one pass over the batch's date range (the partial
  indexes of migration 0002) with the month itself as a filter (`month IN …`; an OR per group made PostgreSQL
  evaluate hundreds of conditions per row). The cost follows the size of the groups a batch touches, not the batch.

Recomputing (rather than adding deltas) makes a refresh idempotent and independent of order: whatever the
interleaving of filings and refreshes, the last refresh of a group runs after the last commit touching it and reads
it. A delta upsert applied after commit is not: a concurrent recomputation may already have counted the rows.
A refresh runs in one transaction under a lock (PostgreSQL: a transaction-level advisory lock; SQLite serialises
writers anyway), so each statement sees every commit before it and refreshes never interleave. The SQL is built with
the ORM (`TruncMonth`, `Coalesce`, …), so it is the same aggregation on SQLite and PostgreSQL; the `INSERT` around it
is the only hand-written part.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Case, Count, DecimalField, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from jiancai.filings.models import FILING_MODELS, Filing, FilingStatus
from jiancai.monitoring.models import Alert

from .models import CITY_DISTRICT, AlertRollup, FilingRollup, SupplierRollup

LOCK_KEY = 7_318_004  # pg_advisory_xact_lock key of rollup refreshes
CHUNK = 5000


@dataclass(frozen=True)
class KindSpec:
    """How one filing kind enters the rollups."""

    date: str  # the model field giving the month (a DateTimeField is taken as its Beijing date)
    category: bool = True
    quantity: str | None = None
    price: str | None = None
    unit: str | None = None  # field, or None: no unit
    party: str | None = None  # the enterprise whose activity the row counts (SupplierRollup)
    failed: bool = False


SPECS: dict[str, KindSpec] = {
    "supply": KindSpec("delivery_date", quantity="quantity", price="unit_price", unit="unit", party="filer"),
    "purchase": KindSpec("arrival_date", quantity="quantity", price="unit_price", unit="unit", party="supplier"),
    "test_report": KindSpec("test_date", quantity="quantity_represented", unit="unit", failed=True),
    "tender": KindSpec("award_date"),
    "ticket": KindSpec("departed_at", category=False, quantity="volume"),
    "project_event": KindSpec("date", category=False),
}

DEC = DecimalField(max_digits=28, decimal_places=3)
ZERO = Value(Decimal(0), output_field=DEC)


def _is_datetime(model: type[Filing], spec: KindSpec) -> bool:
    return isinstance(model._meta.get_field(spec.date), models.DateTimeField)


def _day(model: type[Filing], spec: KindSpec) -> Any:
    return TruncDate(spec.date) if _is_datetime(model, spec) else F(spec.date)


def month_of(model: type[Filing], spec: KindSpec) -> TruncMonth:
    return TruncMonth(_day(model, spec), output_field=models.DateField())


def counted(model: type[Filing]) -> QuerySet[Any]:
    """The rows the rollups count: current, submitted, with a date."""
    spec = SPECS[model.kind]
    return model.objects.filter(is_current=True, status=FilingStatus.SUBMITTED, **{f"{spec.date}__isnull": False})


def month_bounds(model: type[Filing], spec: KindSpec, month: dt.date) -> tuple[Any, Any]:
    """The first instant of the month and of the next one, as the date column compares (aware, Beijing time, for a
    datetime column)."""
    end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    if _is_datetime(model, spec):
        tz = timezone.get_current_timezone()
        return (
            timezone.make_aware(dt.datetime.combine(month, dt.time()), tz),
            timezone.make_aware(dt.datetime.combine(end, dt.time()), tz),
        )
    return month, end


def months_range(model: type[Filing], spec: KindSpec, months: list[dt.date]) -> Q:
    """The rows from the first to the end of the last of these months, as a sargable range on the date column."""
    return Q(**{f"{spec.date}__gte": month_bounds(model, spec, months[0])[0]}) & Q(
        **{f"{spec.date}__lt": month_bounds(model, spec, months[-1])[1]}
    )


# ------------------------------------------------------------------------------------------ the aggregations


def filing_groups(model: type[Filing], base: QuerySet[Any]) -> QuerySet[Any]:
    """FilingRollup rows of `base`, in the column order of FILING_COLUMNS."""
    spec = SPECS[model.kind]
    quantity = F(spec.quantity) if spec.quantity else None
    price = F(spec.price) if spec.price else None
    qs = base.annotate(
        r_kind=Value(model.kind, output_field=models.CharField()),
        r_month=month_of(model, spec),
        r_district=Coalesce(F("project__district_id"), Value(0)),
        r_category=F("category_id") if spec.category else Value(0, output_field=models.IntegerField()),
        r_unit=Coalesce(F(spec.unit), Value("")) if spec.unit else Value("m³" if model.kind == "ticket" else ""),
    ).values("r_kind", "r_month", "r_district", "r_category", "r_unit")
    priced = Case(When(**{f"{spec.price}__isnull": False}, then=quantity), output_field=DEC) if price else None
    grouped: QuerySet[Any] = qs.annotate(
        r_records=Count("pk"),
        r_quantity=Coalesce(Sum(quantity, output_field=DEC), ZERO) if quantity else ZERO,
        r_priced=Coalesce(Sum(priced, output_field=DEC), ZERO) if priced is not None else ZERO,
        r_amount=Coalesce(Sum(quantity * price, output_field=DEC), ZERO) if quantity and price else ZERO,
        r_failed=Count("pk", filter=Q(result="不合格")) if spec.failed else Value(0),
    ).order_by()
    return grouped


FILING_COLUMNS = [
    "kind", "month", "district_id", "category_id", "unit", "records", "quantity", "priced_quantity", "amount", "failed"
]


def supplier_groups(model: type[Filing], base: QuerySet[Any], *, city: bool = False) -> QuerySet[Any]:
    """SupplierRollup rows of `base` per district, or (`city`) the whole city's under `CITY_DISTRICT`."""
    spec = SPECS[model.kind]
    if spec.party is None:
        raise ValueError(f"{model.kind} has no supplier")
    grouped: QuerySet[Any] = (
        base.annotate(
            r_kind=Value(model.kind, output_field=models.CharField()),
            r_month=month_of(model, spec),
            r_district=Value(CITY_DISTRICT) if city else F("project__district_id"),
            r_org=F(f"{spec.party}_id"),
        )
        .values("r_kind", "r_month", "r_district", "r_org")
        .annotate(r_records=Count("pk"))
        .order_by()
    )
    return grouped


SUPPLIER_COLUMNS = ["kind", "month", "district_id", "organization_id", "records"]


def alert_groups(base: QuerySet[Any]) -> QuerySet[Any]:
    grouped: QuerySet[Any] = (
        base.annotate(
            r_rule=F("rule_id"),
            r_district=Coalesce(F("district_id"), Value(0)),
            r_status=F("status"),
            r_day=TruncDate("raised_at"),
        )
        .values("r_rule", "r_district", "r_status", "r_day")
        .annotate(r_alerts=Count("pk"))
        .order_by()
    )
    return grouped


ALERT_COLUMNS = ["rule_id", "district_id", "status", "raised_on", "alerts"]


def _insert(target: type[models.Model], columns: list[str], select: QuerySet[Any]) -> int:
    """`INSERT INTO target (columns) <select>`: one statement, the aggregation done by the database."""
    query = select.query
    # The SELECT lists the annotations in the order they were made, which is the order of `columns`.
    if query.values_select or len(query.annotation_select) != len(columns):
        raise ValueError("the SELECT must consist of one annotation per target column")
    sql, params = query.sql_with_params()
    q = connection.ops.quote_name
    table = q(target._meta.db_table)
    statement = f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) {sql}"
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return int(cursor.rowcount)


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


# ------------------------------------------------------------------------------------------ rebuild


def rebuild(kinds: Sequence[str] | None = None, *, alerts: bool = True) -> dict[str, int]:
    """Recompute the rollups of these filing kinds (all by default) and of the alerts from the base tables."""
    counts: dict[str, int] = {}
    with transaction.atomic():
        _lock()
        for kind in kinds or list(SPECS):
            model = FILING_MODELS[kind]
            FilingRollup.objects.filter(kind=kind).delete()
            counts[kind] = _insert(FilingRollup, FILING_COLUMNS, filing_groups(model, counted(model)))
            if SPECS[kind].party:
                SupplierRollup.objects.filter(kind=kind).delete()
                _insert(SupplierRollup, SUPPLIER_COLUMNS, supplier_groups(model, counted(model)))
                _insert(SupplierRollup, SUPPLIER_COLUMNS, supplier_groups(model, counted(model), city=True))
        if alerts:
            AlertRollup.objects.all().delete()
            counts["alerts"] = _insert(AlertRollup, ALERT_COLUMNS, alert_groups(Alert.objects.all()))
    return counts


# ------------------------------------------------------------------------------------------ incremental


def refresh_filings(model: type[Filing], ids: Sequence[int]) -> None:
    """Bring the rollups up to date after these rows of `model` were written (new versions, submitted, withdrawn)."""
    if model.kind not in SPECS:
        return
    for start in range(0, len(ids), CHUNK):
        _refresh_chunk(model, list(ids[start : start + CHUNK]))


def _refresh_chunk(model: type[Filing], ids: list[int]) -> None:
    spec = SPECS[model.kind]
    month = month_of(model, spec)
    with transaction.atomic():
        _lock()
        # The groups to recompute: those of the rows and of the earlier versions of corrected rows.
        key = [f"{f}_id" if f in model.relation_keys() else f for f in model.natural_key]
        corrected = list(model.objects.filter(pk__in=ids, version__gt=1).values_list(*key))
        touched = Q(pk__in=ids)
        if corrected:
            # Over-approximated: every version whose key columns each take one of the corrected keys' values.
            touched |= Q(**{f"{k}__in": {c[i] for c in corrected} for i, k in enumerate(key)})
        dated = model.objects.filter(touched, **{f"{spec.date}__isnull": False}).annotate(r_month=month).order_by()
        party = f"{spec.party}_id" if spec.party else None
        columns = ["r_month", *(["category_id"] if spec.category else []), *([party] if party else [])]
        found = list(dated.values_list(*columns).distinct())
        if not found:
            return
        months = sorted({row[0] for row in found})
        # The rows of those months, as a sargable range plus the month itself (never an OR per group).
        in_months = months_range(model, spec, months) & Q(r_month__in=months)
        counted_rows = counted(model).annotate(r_month=month)
        if spec.category:
            categories = sorted({row[1] for row in found})
            # Every (month, category) of the cross product is recomputed: a superset of the touched groups, bounded
            # by months × categories, read in one pass.
            FilingRollup.objects.filter(kind=model.kind, month__in=months, category_id__in=categories).delete()
            groups = counted_rows.filter(in_months, category_id__in=categories)
        else:
            FilingRollup.objects.filter(kind=model.kind, month__in=months).delete()
            groups = counted_rows.filter(in_months)
        _insert(FilingRollup, FILING_COLUMNS, filing_groups(model, groups))
        if party:
            parties = sorted({row[-1] for row in found})
            SupplierRollup.objects.filter(kind=model.kind, month__in=months, organization_id__in=parties).delete()
            rows = counted_rows.filter(in_months, **{f"{party}__in": parties})
            _insert(SupplierRollup, SUPPLIER_COLUMNS, supplier_groups(model, rows))
            _insert(SupplierRollup, SUPPLIER_COLUMNS, supplier_groups(model, rows, city=True))


def refresh_alerts(rule_ids: Iterable[int]) -> None:
    """Recompute the alert rollup rows of these rules (alerts change status in place, so no deltas here)."""
    rules = sorted(set(rule_ids))
    if not rules:
        return
    with transaction.atomic():
        _lock()
        AlertRollup.objects.filter(rule_id__in=rules).delete()
        _insert(AlertRollup, ALERT_COLUMNS, alert_groups(Alert.objects.filter(rule_id__in=rules)))
