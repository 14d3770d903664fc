from __future__ import annotations

import django_filters as df

from .models import AuditAction, AuditEvent


class AuditEventFilter(df.FilterSet):
    actor_name = df.CharFilter(label="操作人", lookup_expr="icontains")
    organization_name = df.CharFilter(label="机构", lookup_expr="icontains")
    action = df.ChoiceFilter(choices=AuditAction.choices, label="操作")
    target_type = df.CharFilter(label="对象类型", lookup_expr="exact")
    target_repr = df.CharFilter(label="对象", lookup_expr="icontains")
    ip_address = df.CharFilter(label="来源地址")
    occurred_from = df.DateFilter(field_name="occurred_at", lookup_expr="date__gte", label="日期起")
    occurred_to = df.DateFilter(field_name="occurred_at", lookup_expr="date__lte", label="日期止")

    class Meta:
        model = AuditEvent
        fields = [
            "actor_name",
            "organization_name",
            "action",
            "target_repr",
            "ip_address",
            "occurred_from",
            "occurred_to",
        ]
