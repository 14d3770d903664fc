"""FilterSets of the blacklist lists, shared by the pages and the API (the same query parameters)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters as df
from django.db.models import Q, QuerySet
from django.utils import timezone

from jiancai.filings.models import Purchase, Supply
from jiancai.registry.filters import SearchFilterSet, district_filter

from .models import (
    BlacklistEntry,
    EntryStatus,
    RepairApplication,
    RepairStatus,
    Restriction,
    RestrictionKind,
    in_force_on,
)


class EntryFilter(SearchFilterSet):
    search_fields = ("entry_no", "enterprise__name", "enterprise__uscc", "grounds")
    q = df.CharFilter(label="企业名称/信用代码/名单编号", method="search")
    status = df.ChoiceFilter(choices=EntryStatus.choices, label="状态")
    district = district_filter("enterprise__district")
    published_after = df.DateFilter(field_name="published_on", lookup_expr="gte", label="公布日期起")
    published_before = df.DateFilter(field_name="published_on", lookup_expr="lte", label="公布日期止")

    class Meta:
        model = BlacklistEntry
        fields = ["q", "status", "district", "published_after", "published_before"]


STATE_CHOICES = [("in_force", "执行中"), ("upcoming", "未开始"), ("lifted", "已解除/已撤销")]


class RestrictionFilter(SearchFilterSet):
    search_fields = ("restriction_no", "enterprise__name", "enterprise__uscc", "entry__entry_no", "basis")
    q = df.CharFilter(label="企业名称/信用代码/措施编号", method="search")
    kind = df.ChoiceFilter(choices=RestrictionKind.choices, label="限制措施")
    state = df.ChoiceFilter(choices=STATE_CHOICES, label="执行状态", method="by_state")
    district = district_filter("enterprise__district")
    enterprise = df.CharFilter(field_name="enterprise__uscc", label="统一社会信用代码")
    mine = df.BooleanFilter(label="近12个月向本单位项目供货的企业", method="by_my_projects")

    class Meta:
        model = Restriction
        fields = ["q", "kind", "state", "district", "enterprise", "mine"]

    def by_my_projects(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        """Restrictions of enterprises that supplied a project of the user's organization (as builder, contractor
        or purchaser) in the last 12 months: how a project party learns its supplier has been restricted."""
        org_id = getattr(getattr(self.request, "user", None), "organization_id", None)
        if not value or org_id is None:
            return queryset
        since = timezone.localdate() - dt.timedelta(days=365)
        mine = Q(project__builder_id=org_id) | Q(project__contractor_id=org_id) | Q(filer_id=org_id)
        suppliers = Purchase.objects.filter(mine, is_current=True, status="submitted").filter(
            Q(arrival_date__gte=since) | Q(arrival_date__isnull=True, created_at__date__gte=since)
        )
        supplied = Supply.objects.filter(
            Q(project__builder_id=org_id) | Q(project__contractor_id=org_id),
            is_current=True,
            status="submitted",
            delivery_date__gte=since,
        )
        return queryset.filter(
            Q(enterprise_id__in=suppliers.values("supplier_id")) | Q(enterprise_id__in=supplied.values("filer_id"))
        )

    def by_state(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        today = timezone.localdate()
        if value == "in_force":
            return queryset.filter(in_force_on(today))
        if value == "upcoming":
            return queryset.filter(starts_on__gt=today).exclude(lift_reason="revoked")
        if value == "lifted":
            return queryset.filter(Q(ends_on__lt=today) | Q(lifted_on__lte=today))
        return queryset


class RepairFilter(SearchFilterSet):
    search_fields = ("application_no", "applicant__name", "applicant__uscc", "entry__entry_no")
    q = df.CharFilter(label="企业名称/信用代码/申请编号", method="search")
    status = df.ChoiceFilter(choices=RepairStatus.choices, label="状态")
    district = district_filter("applicant__district")

    class Meta:
        model = RepairApplication
        fields = ["q", "status", "district"]
