"""FilterSets of the filing lists, shared by the web pages and the REST API (the same query parameters on both).

Every list shows the current version of each record unless `versions=all` asks for the whole history.
"""

from __future__ import annotations

from typing import Any

import django_filters as df
from django.db.models import QuerySet

from jiancai.materials.models import MaterialCategory
from jiancai.registry.filters import SearchFilterSet, district_filter

from .models import (
    FilingStatus,
    ProjectEvent,
    ProjectEventKind,
    Purchase,
    Supply,
    Tender,
    TestKind,
    TestReport,
    TestResult,
    Ticket,
)

ALL_VERSIONS = "all"
HEAD = ["q", "project"]
TAIL = ["filer", "district", "status", "date_from", "date_to", "versions"]


def category_filter() -> df.ModelChoiceFilter:
    return df.ModelChoiceFilter(
        field_name="category", queryset=MaterialCategory.objects.all(), to_field_name="code", label="材料品类"
    )


def date_range(field_name: str, label: str) -> tuple[df.DateFilter, df.DateFilter]:
    return (
        df.DateFilter(field_name=field_name, lookup_expr="gte", label=f"{label}起"),
        df.DateFilter(field_name=field_name, lookup_expr="lte", label=f"{label}止"),
    )


class FilingFilter(SearchFilterSet):
    project = df.CharFilter(field_name="project__project_code", label="项目编号")
    filer = df.CharFilter(field_name="filer__uscc", label="填报单位信用代码", method="by_uscc")
    district = district_filter("project__district")
    status = df.ChoiceFilter(choices=FilingStatus.choices, label="状态")
    versions = df.ChoiceFilter(
        choices=[(ALL_VERSIONS, "含历史版本")], label="版本", empty_label="仅当前版本", method="keep"
    )

    def __init__(self, data: Any = None, queryset: QuerySet[Any] | None = None, **kwargs: Any) -> None:
        if queryset is not None and (data is None or data.get("versions") != ALL_VERSIONS):
            queryset = queryset.filter(is_current=True)
        super().__init__(data, queryset, **kwargs)

    def keep(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset  # applied in __init__: the history is included only on request

    def by_uscc(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(**{name: value.strip().upper()}) if value.strip() else queryset


class SupplyFilter(FilingFilter):
    search_fields = ("supply_no", "contract_no", "batch_no", "spec", "project__project_code", "project__name")
    q = df.CharFilter(label="供应单号/合同/项目", method="search")
    category = category_filter()
    date_from, date_to = date_range("delivery_date", "供货日期")

    class Meta:
        model = Supply
        fields = [*HEAD, "category", *TAIL]


class PurchaseFilter(FilingFilter):
    search_fields = (
        "purchase_no",
        "contract_no",
        "batch_no",
        "witness_report_no",
        "supplier__name",
        "project__project_code",
        "project__name",
    )
    q = df.CharFilter(label="采购单号/合同/项目/供应企业", method="search")
    category = category_filter()
    supplier = df.CharFilter(field_name="supplier__uscc", label="供应企业信用代码", method="by_uscc")
    date_from, date_to = date_range("arrival_date", "进场日期")

    class Meta:
        model = Purchase
        fields = [*HEAD, "category", "supplier", *TAIL]


class TestReportFilter(FilingFilter):
    search_fields = ("report_no", "batch_no", "spec", "producer__name", "project__project_code", "project__name")
    q = df.CharFilter(label="报告编号/批号/项目", method="search")
    category = category_filter()
    test_kind = df.ChoiceFilter(choices=TestKind.choices, label="检测类别")
    result = df.ChoiceFilter(choices=TestResult.choices, label="检测结果")
    date_from, date_to = date_range("test_date", "检测日期")

    class Meta:
        model = TestReport
        fields = [*HEAD, "category", "test_kind", "result", *TAIL]


TestReportFilter.__test__ = False  # not a pytest class


class TenderFilter(FilingFilter):
    search_fields = ("tender_no", "contract_no", "winner__name", "project__project_code", "project__name")
    q = df.CharFilter(label="招标编号/合同/项目/中标企业", method="search")
    category = category_filter()
    date_from, date_to = date_range("award_date", "中标日期")

    class Meta:
        model = Tender
        fields = [*HEAD, "category", *TAIL]


class TicketFilter(FilingFilter):
    search_fields = ("ticket_no", "contract_no", "vehicle_plate", "pour_location", "project__project_code")
    q = df.CharFilter(label="发货单号/车牌/浇筑部位/项目", method="search")
    grade = df.CharFilter(label="强度等级")
    date_from, date_to = date_range("departed_at__date", "出站日期")

    class Meta:
        model = Ticket
        fields = [*HEAD, "grade", *TAIL]


class ProjectEventFilter(FilingFilter):
    search_fields = ("document_no", "project__project_code", "project__name")
    q = df.CharFilter(label="项目/文号", method="search")
    event = df.ChoiceFilter(choices=ProjectEventKind.choices, label="节点")
    date_from, date_to = date_range("date", "日期")

    class Meta:
        model = ProjectEvent
        fields = [*HEAD, "event", *TAIL]


FILTERS: dict[str, type[FilingFilter]] = {
    "supply": SupplyFilter,
    "purchase": PurchaseFilter,
    "test_report": TestReportFilter,
    "tender": TenderFilter,
    "ticket": TicketFilter,
    "project_event": ProjectEventFilter,
}
