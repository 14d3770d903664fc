"""REST API of the registries (/api/v1/). Input and output serializers are separate; every write goes
through registry.actions; every read through the visibility funnel; filters are the web lists' FilterSets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from jiancai.accounts.access import Action, get_for, restrict
from jiancai.accounts.api_auth import TokenScopes
from jiancai.accounts.context import acting_user, audit_context
from jiancai.accounts.models import District, Organization, OrganizationKind, TokenScope, Verdict
from jiancai.accounts.validators import validate_uscc

from . import actions, filters
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


def district_field() -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field="name", queryset=District.objects.all())


class EnterpriseByUscc(serializers.SlugRelatedField):
    """An enterprise referenced by its USCC: the code is checked (GB 32100) before it is looked up."""

    default_error_messages = {
        "does_not_exist": "未找到统一社会信用代码为 {value} 的企业",
        "invalid": "统一社会信用代码格式无效",
    }

    def to_internal_value(self, data: Any) -> Any:
        code = str(data).strip().upper()
        try:
            validate_uscc(code)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages, code=exc.error_list[0].code) from exc
        return super().to_internal_value(code)


def enterprise_field(**kwargs: Any) -> EnterpriseByUscc:
    return EnterpriseByUscc(slug_field="uscc", queryset=Organization.objects.enterprises(), **kwargs)


class VersionInput(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="编辑时提交读取到的版本号；与当前版本不一致时拒绝（乐观并发控制）"
    )


class SelfReportedOutput(serializers.Serializer):
    verification_status = serializers.ChoiceField(choices=Verdict.choices, read_only=True)
    verification_reason = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class EnterpriseOutput(SelfReportedOutput):
    uscc = serializers.CharField()
    name = serializers.CharField()
    kinds = serializers.ListField(child=serializers.CharField(), source="kind_names")
    district = serializers.CharField(source="district.name")
    legal_representative = serializers.CharField()
    address = serializers.CharField()
    phone = serializers.CharField()


class EnterpriseInput(VersionInput):
    uscc = serializers.CharField(max_length=18, validators=[validate_uscc])
    name = serializers.CharField(max_length=200)
    kinds = serializers.SlugRelatedField(slug_field="name", many=True, queryset=OrganizationKind.objects.all())
    district = district_field()
    legal_representative = serializers.CharField(max_length=64, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)


class QualificationOutput(SelfReportedOutput):
    uscc = serializers.CharField(source="organization.uscc")
    certificate_no = serializers.CharField()
    qualification_type = serializers.CharField()
    grade = serializers.CharField()
    issued_on = serializers.DateField()
    valid_until = serializers.DateField()
    status = serializers.CharField()


class QualificationInput(VersionInput):
    uscc = enterprise_field(source="organization")
    certificate_no = serializers.CharField(max_length=64)
    qualification_type = serializers.CharField(max_length=64)
    grade = serializers.CharField(max_length=32, required=False, allow_blank=True)
    issued_on = serializers.DateField()
    valid_until = serializers.DateField()
    status = serializers.ChoiceField(choices=QualificationStatus.choices, default=QualificationStatus.VALID)


class CapacityOutput(SelfReportedOutput):
    id = serializers.UUIDField(source="public_id")
    uscc = serializers.CharField(source="organization.uscc")
    category = serializers.CharField()
    annual_capacity = serializers.DecimalField(max_digits=16, decimal_places=3)
    unit = serializers.CharField()


class CapacityInput(VersionInput):
    uscc = enterprise_field(source="organization")
    category = serializers.ChoiceField(choices=CATEGORY_CHOICES)
    annual_capacity = serializers.DecimalField(max_digits=16, decimal_places=3, min_value=0)
    unit = serializers.CharField(max_length=8)


class PersonOutput(SelfReportedOutput):
    id = serializers.UUIDField(source="public_id")
    uscc = serializers.CharField(source="organization.uscc")
    name = serializers.CharField()
    id_number_masked = serializers.CharField(help_text="身份证号（脱敏）")
    role = serializers.CharField()
    phone = serializers.CharField()


class PersonInput(VersionInput):
    uscc = enterprise_field(source="organization")
    name = serializers.CharField(max_length=64)
    id_number = serializers.CharField(max_length=18, required=False, help_text="身份证号，新增时必填；只写不读")
    role = serializers.ChoiceField(choices=PersonRole.choices)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)


class ProjectOutput(SelfReportedOutput):
    project_code = serializers.CharField()
    name = serializers.CharField()
    district = serializers.CharField(source="district.name")
    builder_uscc = serializers.CharField(source="builder.uscc")
    contractor_uscc = serializers.CharField(source="contractor.uscc", allow_null=True)
    supervisor_uscc = serializers.CharField(source="supervisor.uscc", allow_null=True)
    floor_area = serializers.DecimalField(max_digits=14, decimal_places=2)
    structure_type = serializers.CharField()
    project_type = serializers.CharField()
    budget = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    government_funded = serializers.BooleanField()
    start_date = serializers.DateField(allow_null=True)
    completion_date = serializers.DateField(allow_null=True)
    status = serializers.CharField()


class ProjectInput(VersionInput):
    project_code = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=200)
    district = district_field()
    builder_uscc = enterprise_field(source="builder")
    contractor_uscc = enterprise_field(source="contractor", required=False, allow_null=True)
    supervisor_uscc = enterprise_field(source="supervisor", required=False, allow_null=True)
    floor_area = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    structure_type = serializers.ChoiceField(choices=StructureType.choices)
    project_type = serializers.ChoiceField(choices=ProjectType.choices)
    budget = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True)
    government_funded = serializers.BooleanField(default=False)
    start_date = serializers.DateField(required=False, allow_null=True)
    completion_date = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=ProjectStatus.choices, default=ProjectStatus.PLANNED)


class RegistryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List, read, create and partially update one registry; writes go through registry.actions."""

    model: ClassVar[type[models.Model]]
    input_serializer: ClassVar[type[serializers.Serializer]]
    output_serializer: ClassVar[type[serializers.Serializer]]
    related: ClassVar[tuple[str, ...]] = ()
    permission_classes = [IsAuthenticated, TokenScopes]
    read_scope = TokenScope.REGISTRY_READ
    write_scope = TokenScope.REGISTRY_WRITE
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return self.input_serializer if self.action in ("create", "partial_update") else self.output_serializer

    def base_queryset(self) -> models.QuerySet[Any]:
        return self.model._default_manager.select_related(*self.related)

    def get_queryset(self) -> models.QuerySet[Any]:
        return restrict(self.base_queryset(), self.request.user, Action.VIEW)

    def get_object(self) -> Any:
        action = Action.VIEW if self.request.method in ("GET", "HEAD", "OPTIONS") else Action.CHANGE
        return get_for(
            self.base_queryset(), self.request.user, action, **{self.lookup_field: self.kwargs[self.lookup_field]}
        )

    def save(self, instance: Any, data: dict[str, Any], version: int | None) -> Any:
        return actions.save_record(
            instance=instance,
            data=data,
            actor=acting_user(self.request._request),
            context=audit_context(self.request._request),
            expected_version=version,
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        obj = self.save(self.model(), data, None)
        return Response(self.output_serializer(obj).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        serializer = self.input_serializer(instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        obj = self.save(instance, data, version)
        return Response(self.output_serializer(obj).data)


def _schema(name: str, input_s: type, output_s: type) -> Any:
    return extend_schema_view(
        list=extend_schema(summary=f"{name}列表", responses=output_s(many=True)),
        retrieve=extend_schema(summary=f"{name}详情", responses=output_s),
        create=extend_schema(summary=f"新增{name}", request=input_s, responses={201: output_s}),
        partial_update=extend_schema(summary=f"修改{name}", request=input_s, responses=output_s),
    )


@_schema("企业", EnterpriseInput, EnterpriseOutput)
class EnterpriseViewSet(RegistryViewSet):
    model = Organization
    input_serializer = EnterpriseInput
    output_serializer = EnterpriseOutput
    filterset_class = filters.EnterpriseFilter
    lookup_field = "uscc"
    related = ("district",)

    def base_queryset(self) -> models.QuerySet[Any]:
        return Organization.objects.enterprises().select_related("district").prefetch_related("kinds")

    def save(self, instance: Any, data: dict[str, Any], version: int | None) -> Any:
        kinds = data.pop("kinds", None)
        return actions.save_enterprise(
            instance=instance,
            data=data,
            kinds=kinds if kinds is not None else list(instance.kinds.all()) if instance.pk else [],
            actor=acting_user(self.request._request),
            context=audit_context(self.request._request),
            expected_version=version,
        )


@_schema("资质证书", QualificationInput, QualificationOutput)
class QualificationViewSet(RegistryViewSet):
    model = Qualification
    input_serializer = QualificationInput
    output_serializer = QualificationOutput
    filterset_class = filters.QualificationFilter
    lookup_field = "certificate_no"
    related = ("organization",)


@_schema("产能", CapacityInput, CapacityOutput)
class CapacityViewSet(RegistryViewSet):
    model = Capacity
    input_serializer = CapacityInput
    output_serializer = CapacityOutput
    filterset_class = filters.CapacityFilter
    lookup_field = "public_id"
    related = ("organization",)


@_schema("人员", PersonInput, PersonOutput)
class PersonViewSet(RegistryViewSet):
    model = Person
    input_serializer = PersonInput
    output_serializer = PersonOutput
    filterset_class = filters.PersonFilter
    lookup_field = "public_id"
    related = ("organization",)

    def save(self, instance: Any, data: dict[str, Any], version: int | None) -> Any:
        id_number = data.pop("id_number", None)
        return actions.save_person(
            instance=instance,
            data=data,
            id_number=id_number,
            actor=acting_user(self.request._request),
            context=audit_context(self.request._request),
            expected_version=version,
        )


@_schema("工程项目", ProjectInput, ProjectOutput)
class ProjectViewSet(RegistryViewSet):
    model = Project
    input_serializer = ProjectInput
    output_serializer = ProjectOutput
    filterset_class = filters.ProjectFilter
    lookup_field = "project_code"
    related = ("district", "builder", "contractor", "supervisor")
