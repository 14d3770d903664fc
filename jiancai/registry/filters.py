"""FilterSets shared by the web lists and the REST API (the same query parameters on both)."""

from __future__ import annotations

from typing import Any

import django_filters as df
from django.db.models import Q, QuerySet

from jiancai.accounts.models import District, Organization, OrganizationKind, Verdict

from .models import (
    CATEGORY_CHOICES,
    Capacity,
    Person,
    PersonRole,
    Project,
    ProjectStatus,
    ProjectType,
    Qualification,
    QualificationStatus,
    StructureType,
)


class SearchFilterSet(df.FilterSet):
    search_fields: tuple[str, ...] = ()
    q = df.CharFilter(label="关键字", method="search")

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value.strip()})
        return queryset.filter(condition) if value.strip() else queryset


def district_filter(path: str) -> df.ModelChoiceFilter:
    return df.ModelChoiceFilter(field_name=path, queryset=District.objects.all(), label="所在区", to_field_name="name")


verification_filter = df.ChoiceFilter(field_name="verification_status", choices=Verdict.choices, label="核实状态")


class EnterpriseFilter(SearchFilterSet):
    search_fields = ("name", "uscc", "legal_representative")
    q = df.CharFilter(label="企业名称/信用代码", method="search")
    district = district_filter("district")
    kind = df.ModelChoiceFilter(
        field_name="kinds", queryset=OrganizationKind.objects.all(), label="企业类型", to_field_name="name"
    )
    verification_status = verification_filter

    class Meta:
        model = Organization
        fields = ["q", "district", "kind", "verification_status"]


class QualificationFilter(SearchFilterSet):
    search_fields = ("certificate_no", "organization__name", "organization__uscc", "qualification_type")
    q = df.CharFilter(label="证书编号/企业", method="search")
    district = district_filter("organization__district")
    status = df.ChoiceFilter(choices=QualificationStatus.choices, label="状态")
    valid_until_before = df.DateFilter(field_name="valid_until", lookup_expr="lte", label="有效期至（截止）")
    verification_status = verification_filter

    class Meta:
        model = Qualification
        fields = ["q", "district", "status", "valid_until_before", "verification_status"]


class CapacityFilter(SearchFilterSet):
    search_fields = ("organization__name", "organization__uscc")
    q = df.CharFilter(label="企业", method="search")
    district = district_filter("organization__district")
    category = df.ChoiceFilter(choices=CATEGORY_CHOICES, label="材料品类")
    verification_status = verification_filter

    class Meta:
        model = Capacity
        fields = ["q", "district", "category", "verification_status"]


class PersonFilter(SearchFilterSet):
    search_fields = ("name", "organization__name", "organization__uscc")
    q = df.CharFilter(label="姓名/企业", method="search")
    district = district_filter("organization__district")
    role = df.ChoiceFilter(choices=PersonRole.choices, label="岗位")
    verification_status = verification_filter

    class Meta:
        model = Person
        fields = ["q", "district", "role", "verification_status"]


class ProjectFilter(SearchFilterSet):
    search_fields = ("project_code", "name", "builder__name", "contractor__name")
    q = df.CharFilter(label="项目编号/名称", method="search")
    district = district_filter("district")
    status = df.ChoiceFilter(choices=ProjectStatus.choices, label="项目状态")
    structure_type = df.ChoiceFilter(choices=StructureType.choices, label="结构型式")
    project_type = df.ChoiceFilter(choices=ProjectType.choices, label="工程类别")
    government_funded = df.BooleanFilter(label="政府投资")
    start_from = df.DateFilter(field_name="start_date", lookup_expr="gte", label="开工日期起")
    start_to = df.DateFilter(field_name="start_date", lookup_expr="lte", label="开工日期止")
    verification_status = verification_filter

    class Meta:
        model = Project
        fields = [
            "q",
            "district",
            "status",
            "structure_type",
            "project_type",
            "government_funded",
            "start_from",
            "start_to",
            "verification_status",
        ]
