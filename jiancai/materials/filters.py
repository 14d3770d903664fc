"""FilterSets of the material catalog pages (shared with a future API, so both accept the same parameters)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters as df
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from jiancai.registry.filters import SearchFilterSet, district_filter

from .models import CatalogEntry, Listing, MaterialCategory, ProductFiling, in_force_q

VALIDITY_CHOICES = [("valid", "有效"), ("expired", "已过期")]


def category_filter(path: str = "category") -> df.ModelChoiceFilter:
    return df.ModelChoiceFilter(
        field_name=path, queryset=MaterialCategory.objects.all(), label="材料品类", to_field_name="code"
    )


def _validity(queryset: QuerySet[Any], path: str, value: str) -> QuerySet[Any]:
    """valid: no end date or an end date today or later; expired: an end date before today."""
    today = timezone.localdate()
    if value == "valid":
        return queryset.filter(Q(**{f"{path}__isnull": True}) | Q(**{f"{path}__gte": today}))
    if value == "expired":
        return queryset.filter(**{f"{path}__lt": today})
    return queryset


class CategoryFilter(SearchFilterSet):
    search_fields = ("code", "name", "batch_rule")
    q = df.CharFilter(label="代码/名称", method="search")
    witness_retest_required = df.BooleanFilter(label="需见证复试")

    class Meta:
        model = MaterialCategory
        fields = ["q", "witness_retest_required"]


class ProductFilingFilter(SearchFilterSet):
    search_fields = ("filing_no", "product_name", "spec", "type_report_no", "type_report_agency")
    q = df.CharFilter(label="备案编号/产品/报告编号", method="search")
    category = category_filter()
    producer = df.CharFilter(label="生产企业（名称或信用代码）", method="filter_producer")
    district = district_filter("producer__district")
    validity = df.ChoiceFilter(choices=VALIDITY_CHOICES, label="备案状态", method="filter_validity")
    report_validity = df.ChoiceFilter(choices=VALIDITY_CHOICES, label="型式检验报告", method="filter_report_validity")

    class Meta:
        model = ProductFiling
        fields = ["q", "category", "producer", "district", "validity", "report_validity"]

    def filter_producer(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(producer__uscc=value.upper()) | Q(producer__name__icontains=value))

    def filter_validity(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return _validity(queryset, "valid_until", value)

    def filter_report_validity(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return _validity(queryset, "type_report_valid_until", value)


class CatalogEntryFilter(SearchFilterSet):
    search_fields = ("entry_no", "product_name", "spec_keyword", "scope", "document_no")
    q = df.CharFilter(label="编号/产品/文号", method="search")
    listing = df.ChoiceFilter(choices=Listing.choices, label="类别")
    category = category_filter()
    on = df.DateFilter(
        label="在该日期有效", method="filter_on", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    class Meta:
        model = CatalogEntry
        fields = ["q", "listing", "category", "on"]

    def filter_on(self, queryset: QuerySet[Any], name: str, value: dt.date) -> QuerySet[Any]:
        return queryset.filter(in_force_q(value)) if value else queryset
