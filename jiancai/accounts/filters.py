from __future__ import annotations

from typing import Any

import django_filters as df
from django.db.models import Q, QuerySet

from .models import Role, User


class UserFilter(df.FilterSet):
    q = df.CharFilter(label="用户名/姓名/机构", method="search")
    role = df.ChoiceFilter(choices=Role.choices, label="角色")
    is_active = df.BooleanFilter(label="启用")

    class Meta:
        model = User
        fields = ["q", "role", "is_active"]

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(username__icontains=value) | Q(display_name__icontains=value) | Q(organization__name__icontains=value)
        )
