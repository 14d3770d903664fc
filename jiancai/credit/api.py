"""REST API of the behaviour records (/api/v1/credit-records/), token scopes credit:read and credit:write.

    GET  /api/v1/credit-records/                 the records the token's user may see (an enterprise: its own;
                                                 a regulator: its district's), the web list's filters
    GET  /api/v1/credit-records/{record_no}/     one record
    POST /api/v1/credit-records/                 a partner region's record (处理处罚互认), the same action as the
                                                 web form and the file import; natural key origin_region + origin_no:
                                                 posting the same key again answers 200 with the stored record

Records are identified by their public number (XY-<year>-<nnnnnn>), enterprises by USCC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from jiancai.accounts.access import Action, get_for, restrict
from jiancai.accounts.api_auth import TokenScopes
from jiancai.accounts.context import acting_user, audit_context
from jiancai.accounts.models import Organization, TokenScope

from . import actions, filters
from .models import BehaviourRecord, RecordChannel, RecordSource


class CreditRecordOutput(serializers.Serializer):
    record_no = serializers.CharField(help_text="记录编号 XY-<年>-<六位序号>")
    uscc = serializers.CharField(source="organization.uscc", help_text="企业统一社会信用代码")
    enterprise_name = serializers.CharField(source="organization.name")
    kind = serializers.CharField(help_text="good：良好行为；bad：不良行为")
    severity = serializers.CharField(help_text="不良行为等级：A 严重、B 一般、C 轻微；良好行为为空")
    points = serializers.DecimalField(max_digits=6, decimal_places=2)
    title = serializers.CharField()
    legal_basis = serializers.CharField()
    facts = serializers.CharField()
    source = serializers.CharField(  # type: ignore[assignment]  # named like Field.source
        help_text="；".join(f"{value}：{label}" for value, label in RecordSource.choices)
    )
    source_reference = serializers.CharField()
    origin_region = serializers.CharField(help_text="外地互认记录的来源地区")
    origin_authority = serializers.CharField()
    origin_no = serializers.CharField()
    decided_on = serializers.DateField()
    published_from = serializers.DateField()
    published_until = serializers.DateField()
    status = serializers.CharField(help_text="published：已公布；revoked：已撤销")
    revoked_reason = serializers.CharField()


class PartnerRecordInput(serializers.Serializer):
    uscc = serializers.CharField(max_length=18)
    origin_region = serializers.CharField(max_length=40)
    origin_authority = serializers.CharField(max_length=100)
    origin_no = serializers.CharField(max_length=64)
    kind = serializers.CharField(help_text="good：良好行为；bad：不良行为")
    severity = serializers.CharField(required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=200)
    legal_basis = serializers.CharField(max_length=300)
    facts = serializers.CharField()
    decided_on = serializers.DateField()
    points = serializers.DecimalField(max_digits=6, decimal_places=2, required=False, allow_null=True)
    months = serializers.IntegerField(required=False, allow_null=True)


@extend_schema_view(
    list=extend_schema(summary="信用行为记录列表", responses=CreditRecordOutput(many=True)),
    retrieve=extend_schema(summary="信用行为记录详情", responses=CreditRecordOutput),
    create=extend_schema(
        summary="报送外地互认信用记录（处理处罚互认）",
        description="以 origin_region + origin_no 识别记录：重复报送返回已存记录（HTTP 200），不会重复记录。",
        request=PartnerRecordInput,
        responses={201: CreditRecordOutput, 200: CreditRecordOutput},
    ),
)
class CreditRecordViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    permission_classes = [IsAuthenticated, TokenScopes]
    read_scope = TokenScope.CREDIT_READ
    write_scope = TokenScope.CREDIT_WRITE
    serializer_class = CreditRecordOutput
    filterset_class = filters.BehaviourRecordFilter
    lookup_field = "record_no"
    lookup_value_regex = r"[A-Z]{2}-\d{4}-\d{6}"

    def base_queryset(self) -> models.QuerySet[BehaviourRecord]:
        return BehaviourRecord.objects.select_related("organization")

    def get_queryset(self) -> models.QuerySet[BehaviourRecord]:
        return restrict(self.base_queryset(), self.request.user, Action.VIEW)

    def get_object(self) -> BehaviourRecord:
        return get_for(self.base_queryset(), self.request.user, Action.VIEW, record_no=self.kwargs["record_no"])

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = PartnerRecordInput(data=request.data)
        data.is_valid(raise_exception=True)
        values: dict[str, Any] = dict(data.validated_data)
        existing = BehaviourRecord.objects.filter(
            source=RecordSource.PARTNER,
            origin_region=values["origin_region"].strip(),
            origin_no=values["origin_no"].strip(),
        ).first()
        if existing is not None:
            visible = get_for(self.base_queryset(), request.user, Action.VIEW, pk=existing.pk)
            return Response(CreditRecordOutput(visible).data, status=status.HTTP_200_OK)
        organization = Organization.objects.filter(uscc=values.pop("uscc").strip().upper()).first()
        if organization is None:
            raise ValidationError({"uscc": ValidationError("该企业未在本市企业库登记", code="unknown_enterprise")})
        decided_on: dt.date = values.pop("decided_on")
        record = actions.create_record(
            organization=organization,
            decided_on=decided_on,
            source=RecordSource.PARTNER,
            channel=RecordChannel.API,
            actor=acting_user(request._request),
            context=audit_context(request._request),
            **values,
        )
        return Response(CreditRecordOutput(self.base_queryset().get(pk=record.pk)).data, status=status.HTTP_201_CREATED)
