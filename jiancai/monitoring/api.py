"""REST API of the alerts (/api/v1/alerts/), for the enterprises concerned (token scopes alerts:read, alerts:write).

    GET  /api/v1/alerts/                 the alerts the token's organization is a party to; the web list's filters
                                         (rule, status, district, enterprise, project_code, raised_after, …)
    GET  /api/v1/alerts/{id}/            one alert
    POST /api/v1/alerts/{id}/explain/    the enterprise's explanation: multipart with `note` and files `attachments`
                                         (or JSON with `note` only); the same action as the web page

Each alert carries its rule code and its subject's natural key (`subject_key`, FORMATS.md keys), so other systems
can match it to their own records.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from jiancai.accounts.access import Action, get_for, restrict
from jiancai.accounts.api_auth import TokenScopes
from jiancai.accounts.context import acting_user, audit_context
from jiancai.accounts.models import TokenScope

from . import filters
from .actions import explain_alert
from .models import Alert, AlertStatus, SubjectKind


@extend_schema_field(
    {
        "type": "string",
        "enum": list(AlertStatus.values),
        "description": "；".join(f"{v}：{label}" for v, label in AlertStatus.choices),
    },
    component_name="AlertStatus",
)
class AlertStatusField(serializers.CharField):
    pass


@extend_schema_field(
    {
        "type": "string",
        "enum": list(SubjectKind.values),
        "description": "；".join(f"{v}：{label}" for v, label in SubjectKind.choices),
    },
    component_name="AlertSubjectKind",
)
class SubjectKindField(serializers.CharField):
    pass


class EvidenceRecordOutput(serializers.Serializer):
    kind = serializers.CharField(help_text="记录类别：supply、purchase、test_report、project、enterprise、contract…")
    id = serializers.CharField(help_text="记录标识（填报记录的内部编号、项目编号或统一社会信用代码）")
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label


class EvidenceOutput(serializers.Serializer):
    records = EvidenceRecordOutput(many=True, help_text="预警涉及的记录")
    values = serializers.DictField(help_text="比对的取值（如供应量、采购量、差异、容差）")


class ParameterValueOutput(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    value = serializers.CharField()
    unit = serializers.CharField()


class AlertOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    rule_code = serializers.CharField(source="rule.code", help_text="规则编号，如 XC01")
    rule_title = serializers.CharField(source="rule.title", help_text="规则名称")
    subject_kind = SubjectKindField(help_text="比对对象类型")
    subject_key = serializers.DictField(
        help_text="比对对象的自然键（数据交换格式的字段名），如 {supplier_uscc, supply_no}"
    )
    subject_label = serializers.CharField()
    message = serializers.CharField(help_text="比对结果（中文，含实际取值与参数）")
    evidence = EvidenceOutput()
    parameters = serializers.DictField(
        child=ParameterValueOutput(), help_text="预警产生或最近更新时适用的参数取值：参数名 → {label, value, unit}"
    )
    status = AlertStatusField()
    raised_at = serializers.DateTimeField()
    last_confirmed_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True, help_text="自动消除或办结的时间")
    times_raised = serializers.IntegerField()
    project_code = serializers.CharField(source="project.project_code", allow_null=True, default=None)
    district = serializers.CharField(source="district.name", allow_null=True, default=None)
    contract_no = serializers.CharField()


class ExplainInput(serializers.Serializer):
    note = serializers.CharField(help_text="说明内容（必填）")
    attachments = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text="附件（multipart，可多个）：PDF、JPG、PNG、XLSX、DOCX，单个文件不超过上限",
    )


@extend_schema_view(
    list=extend_schema(summary="预警列表（本单位涉及的预警）", responses=AlertOutput(many=True)),
    retrieve=extend_schema(summary="预警详情", responses=AlertOutput),
    explain=extend_schema(
        summary="企业对预警的说明（可附文件）",
        description="预警涉及的企业提交说明；预警须处于处理中（待处理、已受理、待企业说明、企业已说明）。",
        request={"multipart/form-data": ExplainInput, "application/json": ExplainInput},
        responses=AlertOutput,
    ),
)
class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, TokenScopes]
    read_scope = TokenScope.ALERTS_READ
    write_scope = TokenScope.ALERTS_WRITE
    serializer_class = AlertOutput
    filterset_class = filters.AlertFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    lookup_value_regex = r"\d+"

    def base_queryset(self) -> models.QuerySet[Alert]:
        return Alert.objects.select_related("rule", "project", "district")

    def get_queryset(self) -> models.QuerySet[Alert]:
        return restrict(self.base_queryset(), self.request.user, Action.VIEW)

    def get_object(self) -> Alert:
        return get_for(self.base_queryset(), self.request.user, Action.VIEW, pk=self.kwargs["pk"])

    @action(detail=True, methods=["post"])
    def explain(self, request: Request, pk: str) -> Response:
        alert = get_for(self.base_queryset(), request.user, Action.CHANGE, pk=pk)
        data: Any = request.data
        note = data.get("note") if hasattr(data, "get") else None
        files = request.FILES.getlist("attachments") if request.FILES else []
        explain_alert(
            alert=alert,
            note=note if isinstance(note, str) else "",
            files=files,
            actor=acting_user(request._request),
            context=audit_context(request._request),
        )
        return Response(AlertOutput(self.base_queryset().get(pk=alert.pk)).data)
