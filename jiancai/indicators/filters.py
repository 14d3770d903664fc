"""FilterSets of the statistics and targets lists."""

from __future__ import annotations

from typing import Any

import django_filters as df

from jiancai.registry.filters import SearchFilterSet, district_filter

from .formulas import INDICATOR_CHOICES
from .models import Target, YearlyStatistic


class StatisticFilter(SearchFilterSet):
    search_fields = ("source", "note", "entered_by_name")
    q = df.CharFilter(label="关键字", method="search")
    year = df.NumberFilter(field_name="year", label="年度")
    district = district_filter("district")
    city = df.BooleanFilter(field_name="district", lookup_expr="isnull", label="仅全市")
    history = df.BooleanFilter(label="含历史版本", method="with_history")

    class Meta:
        model = YearlyStatistic
        fields: list[str] = []

    def with_history(self, queryset: Any, name: str, value: Any) -> Any:
        return queryset  # applied in filter_queryset: without it, only current versions are listed

    @property
    def qs(self) -> Any:
        queryset = super().qs
        return queryset if self.is_bound else queryset.filter(is_current=True)

    def filter_queryset(self, queryset: Any) -> Any:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("history"):
            queryset = queryset.filter(is_current=True)
        return queryset


class TargetFilter(SearchFilterSet):
    search_fields = ("basis",)
    q = df.CharFilter(label="依据", method="search")
    indicator = df.ChoiceFilter(choices=INDICATOR_CHOICES, label="指标")
    district = district_filter("district")
    city = df.BooleanFilter(field_name="district", lookup_expr="isnull", label="仅全市")
    deadline_year = df.NumberFilter(field_name="deadline__year", label="期限年度")

    class Meta:
        model = Target
        fields: list[str] = []
