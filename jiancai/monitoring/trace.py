"""溯源: where else the material of one tested batch went.

`trace_deliveries(report)` is the set of deliveries a failed test calls into question: every current, submitted
supply by the report's producer (the supplier of the supply is the producer of the report: the platform models
the producer as the supplying enterprise) with the report's batch number, on any project, the tested project
included. Each row carries its project (code, name, district), the project's contractor, the quantity, unit and
delivery date, and `use_location` (拟使用部位): the intended use location of a submitted purchase of the same
project, supplier, contract and batch, where the contractor filed one (the first by purchase number; blank
otherwise). A report without a producer or a batch number traces nothing.

XC09 counts and lists the first few of these (those on other projects) in its evidence; the trace page shows
them all. The queryset is not filtered by who may see it: a view must pass it through the access funnel.
"""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from jiancai.filings.models import Purchase, Supply, TestReport

from .rules.common import submitted


def use_location_of_supply() -> Subquery:
    """The intended use location of a purchase matching the outer supply (project, supplier, contract, batch)."""
    return Subquery(
        submitted(Purchase)
        .filter(
            project_id=OuterRef("project_id"),
            supplier_id=OuterRef("filer_id"),
            contract_no=OuterRef("contract_no"),
            batch_no=OuterRef("batch_no"),
        )
        .exclude(use_location="")
        .order_by("purchase_no", "id")
        .values("use_location")[:1]
    )


def batch_supplies(producer_id: Any, batch_no: Any) -> QuerySet[Any]:
    """Current submitted supplies of one producer's batch (usable with OuterRef values inside a rule's queryset)."""
    rows: QuerySet[Any] = submitted(Supply).filter(filer_id=producer_id, batch_no=batch_no).exclude(batch_no="")
    return rows


def trace_deliveries(report: TestReport) -> QuerySet[Any]:
    """Every current submitted supply of the report's producer and batch, across projects (see the module doc)."""
    if report.producer_id is None or not report.batch_no:
        none: QuerySet[Any] = Supply.objects.none()
        return none
    return with_trace_columns(batch_supplies(report.producer_id, report.batch_no)).order_by(*TRACE_ORDER)


TRACE_ORDER = ("delivery_date", "project__project_code", "supply_no")


def with_trace_columns(supplies: QuerySet[Any]) -> QuerySet[Any]:
    """The related rows and the use location a trace shows, for supplies of one or many batches."""
    rows: QuerySet[Any] = supplies.select_related(
        "project", "project__district", "project__contractor", "filer", "category"
    ).annotate(use_location=use_location_of_supply())
    return rows
