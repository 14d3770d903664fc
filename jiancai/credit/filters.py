"""FilterSets shared by the credit list pages and the credit-records API."""

from __future__ import annotations

import django_filters as df

from jiancai.registry.filters import SearchFilterSet, district_filter

from .models import BehaviourRecord, CreditScore, Rating, RecordKind, RecordSource, RecordStatus, Severity


class BehaviourRecordFilter(SearchFilterSet):
    search_fields = ("record_no", "title", "organization__name", "organization__uscc", "origin_no", "source_reference")
    q = df.CharFilter(label="关键字（编号/企业/行为）", method="search")
    kind = df.ChoiceFilter(choices=RecordKind.choices, label="记录类型")
    severity = df.ChoiceFilter(choices=[c for c in Severity.choices if c[0]], label="不良行为等级")
    source = df.ChoiceFilter(choices=RecordSource.choices, label="来源")
    status = df.ChoiceFilter(choices=RecordStatus.choices, label="状态")
    district = district_filter("organization__district")
    enterprise = df.CharFilter(label="企业信用代码", field_name="organization__uscc")
    origin_region = df.CharFilter(label="来源地区", field_name="origin_region", lookup_expr="icontains")
    decided_after = df.DateFilter(field_name="decided_on", lookup_expr="gte", label="认定日期起")
    decided_before = df.DateFilter(field_name="decided_on", lookup_expr="lte", label="认定日期止")

    class Meta:
        model = BehaviourRecord
        fields: list[str] = []


class CreditScoreFilter(SearchFilterSet):
    search_fields = ("organization__name", "organization__uscc")
    q = df.CharFilter(label="企业名称/信用代码", method="search")
    rating = df.ChoiceFilter(choices=Rating.choices, label="信用等级")
    district = district_filter("organization__district")
    below = df.NumberFilter(field_name="score", lookup_expr="lt", label="信用分低于")

    class Meta:
        model = CreditScore
        fields: list[str] = []
