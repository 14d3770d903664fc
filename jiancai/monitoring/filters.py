"""FilterSets of the monitoring lists, shared by the web pages and the REST API (the same query parameters)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters as df
from django.db.models import Q, QuerySet
from django.utils import timezone

from jiancai.registry.filters import SearchFilterSet, district_filter

from .models import ACTIVE_STATUSES, Alert, AlertStatus, CaseOutcome, EnforcementCase, Rule, SubjectKind

ACTIVE = "active"
STANDING = "standing"
STATUS_CHOICES = [
    (ACTIVE, "处理中（待处理、已受理、待说明、已说明）"),
    (STANDING, "未结（处理中及已立案）"),
    *AlertStatus.choices,
]
AGE_CHOICES = [("7", "≤7天"), ("30", "8–30天"), ("older", ">30天")]
PARTY_PATHS = ("supplier", "contractor", "laboratory", "project__builder", "project__supervisor")


def party_condition(value: str) -> Q:
    """Alerts concerning an enterprise given by USCC (exact) or name (part of it)."""
    value = value.strip()
    condition = Q()
    for path in PARTY_PATHS:
        condition |= Q(**{f"{path}__uscc": value.upper()}) | Q(**{f"{path}__name__icontains": value})
    return condition


class AlertFilter(SearchFilterSet):
    search_fields = ("subject_label", "subject_ref", "message", "contract_no", "project__name")
    q = df.CharFilter(label="对象/比对结果/合同", method="search")
    rule = df.ModelChoiceFilter(
        field_name="rule", queryset=Rule.objects.all(), to_field_name="code", label="规则", empty_label="全部规则"
    )
    status = df.ChoiceFilter(choices=STATUS_CHOICES, label="状态", method="by_status")
    district = district_filter("district")
    age = df.ChoiceFilter(choices=AGE_CHOICES, label="预警时长", method="by_age")
    enterprise = df.CharFilter(label="企业名称/信用代码", method="by_enterprise")
    project_code = df.CharFilter(field_name="project__project_code", label="项目编号")
    subject_kind = df.ChoiceFilter(choices=SubjectKind.choices, label="比对对象")
    raised_after = df.DateFilter(field_name="raised_at__date", lookup_expr="gte", label="预警日期起")

    class Meta:
        model = Alert
        fields = [
            "q",
            "rule",
            "status",
            "district",
            "age",
            "enterprise",
            "project_code",
            "subject_kind",
            "raised_after",
        ]

    def by_status(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value == ACTIVE:
            return queryset.filter(status__in=ACTIVE_STATUSES)
        if value == STANDING:
            return queryset.filter(status__in=(*ACTIVE_STATUSES, AlertStatus.ESCALATED))
        return queryset.filter(status=value) if value else queryset

    def by_age(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        now = timezone.now()
        week, month = now - dt.timedelta(days=7), now - dt.timedelta(days=30)
        if value == "7":
            return queryset.filter(raised_at__gte=week)
        if value == "30":
            return queryset.filter(raised_at__lt=week, raised_at__gte=month)
        if value == "older":
            return queryset.filter(raised_at__lt=month)
        return queryset

    def by_enterprise(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(party_condition(value)) if value.strip() else queryset


class RuleFilter(SearchFilterSet):
    search_fields = ("code", "title", "description")
    q = df.CharFilter(label="规则编号/名称", method="search")
    enabled = df.BooleanFilter(label="启用")

    class Meta:
        model = Rule
        fields = ["q", "enabled"]


class CaseFilter(SearchFilterSet):
    search_fields = ("case_no", "respondent__name", "respondent__uscc", "grounds", "alert__subject_label")
    q = df.CharFilter(label="案件编号/当事企业", method="search")
    district = district_filter("district")
    state = df.ChoiceFilter(choices=[("open", "办理中"), ("closed", "已结案")], label="办理状态", method="by_state")
    outcome = df.ChoiceFilter(choices=[c for c in CaseOutcome.choices if c[0]], label="处理结果")
    rule = df.CharFilter(field_name="alert__rule__code", label="规则编号")

    class Meta:
        model = EnforcementCase
        fields = ["q", "district", "state", "outcome", "rule"]

    def by_state(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value == "open":
            return queryset.filter(closed_at__isnull=True)
        if value == "closed":
            return queryset.filter(closed_at__isnull=False)
        return queryset
