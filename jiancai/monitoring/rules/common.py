"""Query pieces the rules share: the filings that count, scope filters, and how subjects are named."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import BooleanField, DecimalField, Exists, ExpressionWrapper, Q, QuerySet, Subquery, Value

from jiancai.filings.models import FILING_MODELS, FilingStatus, Purchase, Supply, TestReport, Ticket

from .base import Scope, among, any_of

MONEY = DecimalField(max_digits=20, decimal_places=4)


def submitted(model: Any) -> QuerySet[Any]:
    """The filings a cross-check counts: current versions that are submitted (not drafts, not withdrawn)."""
    rows: QuerySet[Any] = model.objects.filter(is_current=True, status=FilingStatus.SUBMITTED)
    return rows


def current(model: Any) -> QuerySet[Any]:
    """Every current version whatever its status: the subjects of a rule, so a withdrawn one resolves its alert."""
    rows: QuerySet[Any] = model.objects.filter(is_current=True)
    return rows


class _PerGroup:
    """Evaluated once per group of a grouped queryset (`values(...).annotate(...)`), after grouping.

    Django puts a plain `Subquery` annotation into the GROUP BY clause, and PostgreSQL then evaluates it for every
    input row before grouping (XC03: three probes per supply row instead of per contract line; XC17: five per
    purchase). Declared aggregate-like, it stays out of GROUP BY and a condition on it goes to HAVING. The subquery
    must refer to grouping columns only (then its outer columns are grouped already; Django would otherwise group
    by the subquery itself whenever an outer reference crosses a join, e.g. `project__structure_type`)."""

    contains_aggregate = True

    def get_group_by_cols(self) -> list[Any]:
        cols: list[Any] = self.query.get_external_cols()  # type: ignore[attr-defined]
        return cols


class GroupSubquery(_PerGroup, Subquery):
    """A `Subquery` evaluated once per group (see `_PerGroup`)."""


class GroupExists(_PerGroup, Exists):
    """An `Exists` evaluated once per group (see `_PerGroup`)."""


def boolean(condition: Any) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def number(value: Decimal) -> Value:
    return Value(value, output_field=MONEY)


def overdue(field: str, today: dt.date, grace: dt.timedelta) -> Q:
    """The grace period after `field` has passed: filed on day D with 15 days' grace, the alert comes on D+16."""
    return Q(**{f"{field}__lt": today - grace})


def due_on(field: str, dates: Iterable[dt.date], grace: dt.timedelta) -> Q | None:
    """Rows whose grace period ended on one of `dates` (the scope of the daily grace-period run)."""
    anchors = {d - grace - dt.timedelta(days=1) for d in dates}
    return Q(**{f"{field}__in": anchors}) if anchors else None


def contract_scope(scope: Scope, *, project: str = "project_id", contract: str = "contract_no") -> Q | None:
    """Rows of the contracts a changed supply, purchase or tender belongs to (over-approximated by the two sets)."""
    if not scope.contract_nos:
        return None
    return among(project, scope.projects) & among(contract, scope.contract_nos)


def ids_scope(scope: Scope, kind: str) -> Q | None:
    ids = scope.ids(kind)
    return among("pk", ids) if ids else None


def record_projects(scope: Scope, *kinds: str) -> set[int]:
    """The projects of the records of `kinds` that a scope names (any version). A rule that regroups whole
    projects reads these, not `scope.projects`, which holds the projects of every changed record (a supply does not
    change XC11's or XC20's groups)."""
    projects: set[int] = set()
    for kind in kinds:
        if scope.ids(kind):
            rows: QuerySet[Any] = FILING_MODELS[kind].objects.filter(among("pk", scope.ids(kind)))
            projects.update(
                rows.filter(project_id__isnull=False).order_by().values_list("project_id", flat=True).distinct()
            )
    return projects


def scoped(queryset: QuerySet[Any], scope: Scope | None, *conditions: Q | None) -> QuerySet[Any]:
    return queryset if scope is None else queryset.filter(any_of(*conditions))


SUPPLY_KEY = ("filer__uscc", "supply_no")
PURCHASE_KEY = ("filer__uscc", "purchase_no")
REPORT_KEY = ("filer__uscc", "report_no")
TICKET_KEY = ("filer__uscc", "ticket_no")

KIND_MODELS = {"supply": Supply, "purchase": Purchase, "test_report": TestReport, "ticket": Ticket}
