"""REST API of the blacklist and restrictions (read only; token scope registry:read), for e-commerce platforms and
enterprise systems that check a counterparty before trading ("一处失信、处处受制").

    GET /api/v1/blacklist-entries/                  published entries (and the token's own), filters of the page
    GET /api/v1/blacklist-entries/{entry_no}/       one entry with its restrictions and published repair decisions
    GET /api/v1/restrictions/                       restrictions; `enterprise` (USCC), `kind`, `state`, `in_force_on`
    GET /api/v1/restrictions/{restriction_no}/      one restriction

Identifiers are public ones (名单编号、措施编号、统一社会信用代码), never sequential ids.
"""

from __future__ import annotations

import django_filters as df
from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import IsAuthenticated

from jiancai.accounts.access import Action
from jiancai.accounts.api_auth import TokenScopes
from jiancai.accounts.models import TokenScope

from . import filters
from .models import BlacklistEntry, EntryStatus, RepairStatus, Restriction, RestrictionKind, in_force_on
from .views import get_visible


@extend_schema_field(
    {
        "type": "string",
        "enum": list(RestrictionKind.values),
        "description": "；".join(f"{v}：{label}" for v, label in RestrictionKind.choices),
    },
    component_name="RestrictionKind",
)
class RestrictionKindField(serializers.CharField):
    pass


@extend_schema_field(
    {
        "type": "string",
        "enum": list(EntryStatus.values),
        "description": "；".join(f"{v}：{label}" for v, label in EntryStatus.choices),
    },
    component_name="BlacklistEntryStatus",
)
class EntryStatusField(serializers.CharField):
    pass


class RestrictionOutput(serializers.Serializer):
    restriction_no = serializers.CharField(help_text="措施编号")
    enterprise_uscc = serializers.CharField(source="enterprise.uscc", help_text="受限企业统一社会信用代码")
    enterprise_name = serializers.CharField(source="enterprise.name")
    entry_no = serializers.CharField(source="entry.entry_no", allow_null=True, default=None, help_text="黑名单编号")
    kind = RestrictionKindField(help_text="限制措施")
    kind_label = serializers.CharField(source="get_kind_display")
    district = serializers.CharField(source="scope_text", help_text="限制区域（全市或区名）")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(help_text="结束日期（含当日），到期自动解除")
    lifted_on = serializers.DateField(allow_null=True, help_text="解除日期（当日起不再执行）")
    lift_reason = serializers.CharField(help_text="解除原因：period_end 期满、repair 信用修复、revoked 撤销")


class RepairDecisionOutput(serializers.Serializer):
    application_no = serializers.CharField()
    decision = serializers.CharField(source="status", help_text="approved 准予修复 / rejected 不予修复")
    reason = serializers.CharField(source="decision_reason")
    decided_at = serializers.DateTimeField()


class EntryOutput(serializers.Serializer):
    entry_no = serializers.CharField(help_text="名单编号")
    enterprise_uscc = serializers.CharField(source="enterprise.uscc")
    enterprise_name = serializers.CharField(source="enterprise.name")
    status = EntryStatusField()
    grounds = serializers.CharField(help_text="列入事由")
    legal_basis = serializers.CharField()
    published_on = serializers.DateField(allow_null=True)
    ends_on = serializers.DateField(allow_null=True)
    exited_on = serializers.DateField(allow_null=True)
    exit_reason = serializers.CharField()
    public_until = serializers.DateField(allow_null=True, help_text="移出后公示截止日期")
    restrictions = serializers.SerializerMethodField()
    repair_decisions = serializers.SerializerMethodField()

    @extend_schema_field(RestrictionOutput(many=True))
    def get_restrictions(self, entry: BlacklistEntry) -> list[dict[str, object]]:
        rows = entry.restrictions.select_related("enterprise", "district", "entry").order_by("starts_on", "id")
        return list(RestrictionOutput(rows, many=True).data)

    @extend_schema_field(RepairDecisionOutput(many=True))
    def get_repair_decisions(self, entry: BlacklistEntry) -> list[dict[str, object]]:
        rows = entry.repair_applications.exclude(status=RepairStatus.SUBMITTED).order_by("decided_at")
        return list(RepairDecisionOutput(rows, many=True).data)


class RestrictionApiFilter(filters.RestrictionFilter):
    in_force_on = df.DateFilter(label="在该日期执行中", method="by_day")

    class Meta(filters.RestrictionFilter.Meta):
        fields = [*filters.RestrictionFilter.Meta.fields, "in_force_on"]

    def by_day(self, queryset: models.QuerySet[Restriction], name: str, value: object) -> models.QuerySet[Restriction]:
        return queryset.filter(in_force_on(value)) if value else queryset


@extend_schema_view(
    list=extend_schema(summary="失信黑名单（已公布）", responses=EntryOutput(many=True)),
    retrieve=extend_schema(summary="失信黑名单详情", responses=EntryOutput),
)
class BlacklistEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, TokenScopes]
    read_scope = TokenScope.REGISTRY_READ
    serializer_class = EntryOutput
    filterset_class = filters.EntryFilter
    lookup_field = "entry_no"
    lookup_value_regex = r"[A-Za-z0-9-]+"

    def base_queryset(self) -> models.QuerySet[BlacklistEntry]:
        return BlacklistEntry.objects.select_related("enterprise")

    def get_queryset(self) -> models.QuerySet[BlacklistEntry]:
        return self.base_queryset().visible_to(self.request.user, Action.VIEW).order_by("-published_on", "-id")  # type: ignore[attr-defined, no-any-return]

    def get_object(self) -> BlacklistEntry:
        entry: BlacklistEntry = get_visible(self.base_queryset(), self.request.user, entry_no=self.kwargs["entry_no"])
        return entry


@extend_schema_view(
    list=extend_schema(summary="限制措施", responses=RestrictionOutput(many=True)),
    retrieve=extend_schema(summary="限制措施详情", responses=RestrictionOutput),
)
class RestrictionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, TokenScopes]
    read_scope = TokenScope.REGISTRY_READ
    serializer_class = RestrictionOutput
    filterset_class = RestrictionApiFilter
    lookup_field = "restriction_no"
    lookup_value_regex = r"[A-Za-z0-9-]+"

    def base_queryset(self) -> models.QuerySet[Restriction]:
        return Restriction.objects.select_related("enterprise", "district", "entry")

    def get_queryset(self) -> models.QuerySet[Restriction]:
        return self.base_queryset().visible_to(self.request.user, Action.VIEW).order_by("-starts_on", "-id")  # type: ignore[attr-defined, no-any-return]

    def get_object(self) -> Restriction:
        r: Restriction = get_visible(
            self.base_queryset(), self.request.user, restriction_no=self.kwargs["restriction_no"]
        )
        return r
