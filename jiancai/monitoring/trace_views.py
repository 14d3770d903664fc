"""溯源 page: from a test report (typically a failed one, XC09), every delivery of the same producer and batch.

The rows are the supplies of `trace.trace_deliveries(report)` that the user may see (the funnel): the city
regulator sees them all, a district regulator those on its district's projects (with a count of the others), the
producer all of its own. The list has the platform's filters, pagination and the audited XLSX export.
"""

from __future__ import annotations

from typing import Any

import django_filters as df
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from jiancai.accounts.access import Action, get_for, restrict
from jiancai.filings.models import Supply, TestReport
from jiancai.registry.filters import SearchFilterSet, district_filter
from jiancai.ui.lists import Column, ScopedListView

from .trace import trace_deliveries


class TraceFilter(SearchFilterSet):
    search_fields = ("supply_no", "project__project_code", "project__name", "project__contractor__name")
    q = df.CharFilter(label="供应单号/项目/施工单位", method="search")
    district = district_filter("project__district")

    class Meta:
        model = Supply
        fields: list[str] = []


class TraceList(ScopedListView):
    model = Supply
    filterset_class = TraceFilter
    title = "溯源"
    columns = (
        Column("供应单号", "supply_no", link=True),
        Column("项目编号", "project.project_code"),
        Column("项目名称", "project.name"),
        Column("所在区", "project.district.name"),
        Column("施工单位", "project.contractor.name"),
        Column("合同编号", "contract_no"),
        Column("规格型号", "spec"),
        Column("数量", lambda s: f"{s.quantity} {s.unit}"),
        Column("供货日期", "delivery_date"),
        Column("拟使用部位", lambda s: getattr(s, "use_location", "") or "—"),
    )
    report: TestReport

    def get_queryset(self) -> QuerySet[Any]:
        return restrict(trace_deliveries(self.report), self.request.user, Action.VIEW)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:  # type: ignore[override]
        self.report = get_for(TestReport.objects.select_related("producer"), request.user, Action.VIEW, pk=pk)
        everything = trace_deliveries(self.report).count()
        visible = self.get_queryset().count()
        producer = self.report.producer.name if self.report.producer else "未填报生产企业"
        hidden = f"；另有 {everything - visible} 笔不在本机构可见范围" if everything > visible else ""
        self.title = (
            f"溯源：检测报告 {self.report.report_no}（{self.report.get_result_display()}），"
            f"{producer} 批号 {self.report.batch_no or '—'} 共供货 {everything} 笔{hidden}"
        )
        return super().get(request)
