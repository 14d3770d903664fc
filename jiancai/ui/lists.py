"""The list page used by every registry: funnel-scoped queryset, shared FilterSet, pagination, XLSX/CSV export."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views import View

from jiancai.accounts.access import Action, restrict, role_allows
from jiancai.accounts.context import audit_context
from jiancai.audit.actions import record_event
from jiancai.audit.models import AuditAction

from .spreadsheets import csv_text, xlsx_response

EXPORT_ROW_LIMIT = 100_000


@dataclass(frozen=True)
class Column:
    label: str
    value: str | Callable[[Any], Any]
    link: bool = False

    def resolve(self, obj: Any) -> Any:
        if callable(self.value):
            return self.value(obj)
        current = obj
        for part in self.value.split("."):
            if current is None:
                return None
            display = getattr(current, f"get_{part}_display", None)
            current = display() if display is not None else getattr(current, part)
        return current


class ScopedListView(LoginRequiredMixin, View):
    model: type[models.Model]
    filterset_class: Any
    columns: Sequence[Column]
    title: str
    template_name = "ui/list.html"
    paginate_by = 25
    create_url_name: str | None = None
    create_label = "新增"
    related: Sequence[str] = ()
    prefetch: Sequence[str] = ()
    csv_export = False  # also offer ?export=csv (UTF-8 with BOM, formula-safe cells)

    def get_queryset(self) -> models.QuerySet[Any]:
        qs = self.model._default_manager.select_related(*self.related)
        if self.prefetch:
            qs = qs.prefetch_related(*self.prefetch)
        return restrict(qs, self.request.user, Action.VIEW)

    def can_create(self) -> bool:
        return self.create_url_name is not None and role_allows(self.request.user, self.model, Action.CHANGE)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not role_allows(request.user, self.model, Action.VIEW):
            raise PermissionDenied(f"无权查看{self.title}")
        filterset = self.filterset_class(request.GET or None, queryset=self.get_queryset(), request=request)
        queryset = filterset.qs
        if request.GET.get("export") == "xlsx":
            return self.export(request, filterset, queryset)
        if request.GET.get("export") == "csv" and self.csv_export:
            return self.export_csv(request, queryset)
        page = Paginator(queryset, self.paginate_by).get_page(request.GET.get("page"))
        rows = [(obj, [c.resolve(obj) for c in self.columns]) for obj in page.object_list]
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "title": self.title,
            "filterset": filterset,
            "columns": self.columns,
            "rows": rows,
            "page": page,
            "querystring": query.urlencode(),
            "can_create": self.can_create(),
            "create_url_name": self.create_url_name,
            "create_label": self.create_label,
            "csv_export": self.csv_export,
        }
        template = "ui/_list_results.html" if request.headers.get("HX-Request") else self.template_name
        return render(request, template, context)

    def export_rows(self, request: HttpRequest, queryset: models.QuerySet[Any], fmt: str) -> list[list[Any]]:
        """The rows of an export (at most EXPORT_ROW_LIMIT), with the audit row naming the filters and the count."""
        rows = [[c.resolve(obj) for c in self.columns] for obj in queryset[:EXPORT_ROW_LIMIT]]
        changes: dict[str, Any] = {
            "filters": {k: v for k, v in request.GET.items() if k not in ("export", "page") and v},
            "rows": len(rows),
        }
        if fmt != "xlsx":
            changes["format"] = fmt
        record_event(
            context=audit_context(request),
            action=AuditAction.EXPORT,
            target_type=self.model._meta.label_lower,
            target_repr=f"{self.title}导出" if fmt == "xlsx" else f"{self.title}导出（{fmt.upper()}）",
            changes=changes,
        )
        return rows

    def export(self, request: HttpRequest, filterset: Any, queryset: models.QuerySet[Any]) -> HttpResponse:
        rows = self.export_rows(request, queryset, "xlsx")
        stamp = timezone.localtime().strftime("%Y%m%d%H%M")
        return xlsx_response(f"{self.title}_{stamp}.xlsx", self.title, [c.label for c in self.columns], rows)

    def export_csv(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> HttpResponse:
        rows = self.export_rows(request, queryset, "csv")
        stamp = timezone.localtime().strftime("%Y%m%d%H%M")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'{self.title}_{stamp}.csv')}"
        response.write("\ufeff")  # BOM: Excel then reads the file as UTF-8
        writer = csv.writer(response)
        writer.writerow([c.label for c in self.columns])
        for row in rows:
            writer.writerow([csv_text(v) for v in row])
        return response
