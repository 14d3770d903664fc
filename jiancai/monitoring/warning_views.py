"""预警分析: the month's aggregate warnings (monitoring.warnings) for regulators, with filters and export."""

from __future__ import annotations

from typing import Any

import django_filters as df

from jiancai.materials.filters import category_filter
from jiancai.registry.filters import SearchFilterSet, district_filter
from jiancai.ui.lists import Column, ScopedListView

from .models import EarlyWarning, WarningKind, WarningTopic


class EarlyWarningFilter(SearchFilterSet):
    search_fields = ("message", "spec", "organization__name", "organization__uscc")
    q = df.CharFilter(label="关键字", method="search")
    kind = df.ChoiceFilter(choices=WarningKind.choices, label="预警类型")
    topic = df.ChoiceFilter(choices=WarningTopic.choices, label="预警事项")
    period = df.DateFilter(field_name="period", label="期间（当月任一日）", method="in_month")
    category = category_filter()
    district = district_filter("district")

    class Meta:
        model = EarlyWarning
        fields: list[str] = []

    def in_month(self, queryset: Any, name: str, value: Any) -> Any:
        return queryset.filter(period=value.replace(day=1)) if value else queryset


class EarlyWarningList(ScopedListView):
    model = EarlyWarning
    filterset_class = EarlyWarningFilter
    title = "预警分析"
    related = ("category", "district", "organization")
    columns = (
        Column("期间", lambda w: f"{w.period:%Y-%m}"),
        Column("预警类型", "kind"),
        Column("预警事项", "topic"),
        Column("材料品类", "category.name"),
        Column("规格型号", "spec"),
        Column("区域", "district.name"),
        Column("企业", "organization.name"),
        Column("预警内容", "message"),
        Column("计算时间", "computed_at"),
    )
