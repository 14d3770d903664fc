"""REST API of the filings (/api/v1/supplies/, purchases, test-reports, tenders, tickets, project-events).

Records are JSON objects with the English keys of FORMATS.md. The input is not validated by serializers: every
record goes to `filings.actions.file_records`, the validation shared with the web form and the bulk import; the
serializers named `…Record` only document the fields in the OpenAPI schema. Output serializers are separate.

Per collection (`{key}` is the record's natural key, one path segment per part):

    GET  /api/v1/<collection>/                   current versions, the web list's filters, paginated
    POST /api/v1/<collection>/                   one record; optional "version" (refused with 409 stale_version
                                                 when it is not the current one) and "status" (draft|submitted)
    POST /api/v1/<collection>/batch/             {"records": [...], "status": ...}, at most 1,000 records
    GET  /api/v1/<collection>/{key}/             the current version
    GET  /api/v1/<collection>/{key}/versions/    every version, newest first
    POST /api/v1/<collection>/{key}/withdraw/    {"reason": "..."}
    POST /api/v1/<collection>/{key}/submit/      a draft becomes submitted

Keys: supplies/{supplier_uscc}/{supply_no}, purchases/{purchaser_uscc}/{purchase_no},
test-reports/{lab_uscc}/{report_no}, tenders/{tender_no}, tickets/{plant_uscc}/{ticket_no},
project-events/{project_code}/{event}. A record number containing "/" cannot be addressed in a path: find it with
the list filters instead (e.g. `?q=`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from jiancai.accounts.access import Action, get_for, restrict
from jiancai.accounts.api_auth import TokenScopes
from jiancai.accounts.context import acting_user, audit_context
from jiancai.accounts.models import TokenScope

from . import filters
from .actions import Outcome, RowResult, file_records, submit_draft, withdraw_filing
from .models import FILING_MODELS, Channel, Filing, FilingStatus
from .schemas import SCHEMAS, FieldError, FieldSpec, RecordSchema

COLLECTIONS = {
    "supply": "supplies",
    "purchase": "purchases",
    "test_report": "test-reports",
    "tender": "tenders",
    "ticket": "tickets",
    "project_event": "project-events",
}
MAX_BATCH = 1000
STATUSES = (FilingStatus.DRAFT.value, FilingStatus.SUBMITTED.value)


class StaleVersion(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "stale_version"
    default_detail = "该记录已被修改，请重新读取后再提交"


def invalid(errors: list[FieldError]) -> exceptions.ValidationError:
    """A 400 in the one error shape, with the field errors of file_records (or of the request envelope)."""
    detail: dict[str, list[exceptions.ErrorDetail]] = {}
    for e in errors:
        detail.setdefault(e.field, []).append(exceptions.ErrorDetail(e.message, code=e.code))
    return exceptions.ValidationError(detail)


def errors_json(errors: list[FieldError]) -> list[dict[str, str]]:
    return [{"field": e.field, "code": e.code, "message": e.message} for e in errors]


# ---------------------------------------------------------------- the request envelope


def split_record(
    schema: RecordSchema, raw: Any, *, allow_status: bool
) -> tuple[dict[str, Any], int | None, str | None, list[FieldError]]:
    """The record fields, the optional "version" and "status", and what is wrong with the envelope itself.

    Only JSON shape is checked here (an object, known keys, scalar values); the rules are file_records'.
    """
    if not isinstance(raw, dict):
        return {}, None, None, [FieldError("non_field", "invalid_record", "每条记录应为 JSON 对象")]
    record = dict(raw)
    errors: list[FieldError] = []
    version = record.pop("version", None)
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        errors.append(FieldError("version", "invalid_version", "版本号应为正整数"))
        version = None
    record_status = record.pop("status", None) if allow_status else None
    if record_status is not None and record_status not in STATUSES:
        errors.append(FieldError("status", "invalid_choice", "状态只能是 draft（草稿）或 submitted（已提交）"))
    specs = schema.by_key()
    for key, value in record.items():
        spec = specs.get(key)
        if spec is None:
            errors.append(FieldError(key, "unknown_field", f"未知字段“{key}”"))
        elif spec.type in ("date", "datetime") and not (value is None or isinstance(value, str)):
            errors.append(FieldError(key, "invalid_type", f"{spec.header}：应为文本，格式见字段说明"))
        elif isinstance(value, bool) or not (value is None or isinstance(value, (str, int, float))):
            errors.append(FieldError(key, "invalid_type", f"{spec.header}：应为文本或数字"))
    return record, version, record_status, errors


def key_of(schema: RecordSchema, record: dict[str, Any]) -> dict[str, Any]:
    return {s.key: record.get(s.key) for s in key_specs(schema)}


def key_specs(schema: RecordSchema) -> list[FieldSpec]:
    """The input fields of the natural key, in the key's order (supplier_uscc, then supply_no)."""
    by_attr = {s.attr or s.key: s for s in schema.fields}
    return [by_attr[name] for name in FILING_MODELS[schema.kind].natural_key]


def key_lookup(schema: RecordSchema, values: dict[str, str]) -> dict[str, str]:
    """ORM lookups of a natural key given by its input keys (supplier_uscc → filer__uscc, …)."""
    lookups = {}
    for spec in key_specs(schema):
        attr, value = spec.attr or spec.key, values[spec.key]
        if spec.type == "uscc":
            lookups[f"{attr}__uscc"] = value.strip().upper()
        elif spec.type == "project":
            lookups[f"{attr}__project_code"] = value
        else:
            lookups[attr] = value
    return lookups


# ---------------------------------------------------------------- serializers


@extend_schema_field({"oneOf": [{"type": "number"}, {"type": "string"}], "example": "12.5"})
class NumberOrText(serializers.Field):
    """A number given as a JSON number or as text (thousands separators allowed)."""


# Enums as named components: "status" and "outcome" have other value sets elsewhere in the API.
@extend_schema_field(
    {"type": "string", "enum": list(STATUSES), "description": "draft：草稿；submitted：已提交"},
    component_name="FilingStatusInput",
)
class StatusInput(serializers.CharField):
    pass


@extend_schema_field(
    {
        "type": "string",
        "enum": list(FilingStatus.values),
        "description": "draft：草稿；submitted：已提交；withdrawn：已撤回",
    },
    component_name="FilingStatus",
)
class StatusOutput(serializers.CharField):
    pass


@extend_schema_field(
    {
        "type": "string",
        "enum": [Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED],
        "description": "created：新记录（版本1）；updated：生成了新版本，旧版本保留；unchanged：与当前版本相同，未改变",
    },
    component_name="FilingWriteOutcome",
)
class WriteOutcome(serializers.CharField):
    pass


@extend_schema_field(
    {
        "type": "string",
        "enum": [Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED, Outcome.REFUSED],
        "description": "created、updated、unchanged 同单条提交；refused：被拒绝，原因见 errors",
    },
    component_name="FilingBatchOutcome",
)
class BatchOutcome(serializers.CharField):
    pass


@extend_schema_field(
    {"type": "string", "enum": list(Channel.values), "description": "form：网页表单；api：开放接口；import：批量导入"},
    component_name="FilingChannel",
)
class ChannelOutput(serializers.CharField):
    pass


RULES = {
    "uscc": "18位统一社会信用代码（GB 32100）",
    "project": "项目编号，项目须已在工程项目库中",
    "category": "材料品类代码或名称，如 GJ 或 钢筋",
    "date": "YYYY-MM-DD，不能晚于今天",
    "datetime": "YYYY-MM-DD HH:MM[:SS]，北京时间，不能晚于今天",
}


def doc_field(spec: FieldSpec) -> serializers.Field:
    """How the OpenAPI schema describes one input field (documentation only)."""
    rules = [spec.header, RULES.get(spec.type, "")]
    if spec.positive:
        rules.append("须大于0")
    elif spec.min_value is not None:
        rules.append(f"不能小于{spec.min_value}")
    help_text = "；".join(r for r in rules if r)
    kwargs: dict[str, Any] = {"required": spec.required, "help_text": help_text}
    if not spec.required:
        kwargs["allow_null"] = True
    if spec.type == "decimal":
        return NumberOrText(**kwargs)
    if spec.type == "int":
        return serializers.IntegerField(**kwargs)
    if spec.type == "date":
        return serializers.DateField(**kwargs)
    if spec.type == "choice":
        return serializers.ChoiceField(choices=spec.choices, **kwargs)
    if not spec.required:
        kwargs["allow_blank"] = True
    if spec.type == "uscc":
        return serializers.CharField(min_length=18, max_length=18, **kwargs)
    if spec.type == "datetime":
        return serializers.CharField(**kwargs)
    return serializers.CharField(max_length=spec.max_length, **kwargs)


def record_serializer(kind: str, *, single: bool) -> type[serializers.Serializer]:
    model = FILING_MODELS[kind]
    attrs: dict[str, Any] = {spec.key: doc_field(spec) for spec in SCHEMAS[kind].fields}
    attrs["version"] = serializers.IntegerField(
        required=False, min_value=1, help_text="修改时提交读取到的版本号；与当前版本不一致时拒绝（409 stale_version）"
    )
    if single:
        attrs["status"] = StatusInput(required=False, help_text="draft（草稿）或 submitted（已提交，默认）")
    name = f"{model.__name__}Record" if single else f"{model.__name__}BatchRecord"
    attrs["__module__"] = __name__
    return type(name, (serializers.Serializer,), attrs)


def output_field(spec: FieldSpec, model: type[Filing]) -> serializers.Field:
    attr = spec.attr or spec.key
    kwargs: dict[str, Any] = {"help_text": spec.header, "read_only": True}
    if spec.type == "uscc":
        return serializers.CharField(source=f"{attr}.uscc", allow_null=True, **kwargs)
    if spec.type == "project":
        return serializers.CharField(source=f"{attr}.project_code", allow_null=True, **kwargs)
    if spec.type == "category":
        return serializers.CharField(source=f"{attr}.code", **kwargs)
    source: dict[str, Any] = {"source": attr} if attr != spec.key else {}
    if spec.type == "decimal":
        field = model._meta.get_field(attr)
        assert isinstance(field, models.DecimalField)  # noqa: S101  (the schemas name decimal model fields)
        return serializers.DecimalField(
            max_digits=field.max_digits, decimal_places=field.decimal_places, allow_null=True, **source, **kwargs
        )
    if spec.type == "int":
        return serializers.IntegerField(allow_null=True, **source, **kwargs)
    if spec.type == "date":
        return serializers.DateField(allow_null=True, **source, **kwargs)
    if spec.type == "datetime":
        return serializers.DateTimeField(allow_null=True, **source, **kwargs)
    return serializers.CharField(**source, **kwargs)


def output_serializer(kind: str) -> type[serializers.Serializer]:
    model = FILING_MODELS[kind]
    attrs: dict[str, Any] = {spec.key: output_field(spec, model) for spec in SCHEMAS[kind].fields}
    attrs.update(
        filer_name=serializers.CharField(source="filer.name", read_only=True, help_text="填报单位"),
        status=StatusOutput(read_only=True),
        withdrawn_reason=serializers.CharField(read_only=True),
        version=serializers.IntegerField(read_only=True),
        is_current=serializers.BooleanField(read_only=True),
        channel=ChannelOutput(read_only=True),
        filed_by_name=serializers.CharField(read_only=True),
        created_at=serializers.DateTimeField(read_only=True),
        __module__=__name__,
    )
    return type(f"{model.__name__}Output", (serializers.Serializer,), attrs)


def write_result_serializer(kind: str, output: type[serializers.Serializer]) -> type[serializers.Serializer]:
    attrs = {
        "outcome": WriteOutcome(),
        "record": output(),
        "__module__": __name__,
    }
    return type(f"{FILING_MODELS[kind].__name__}WriteResult", (serializers.Serializer,), attrs)


def batch_serializer(kind: str, item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    attrs = {
        "records": item(many=True, help_text=f"至多{MAX_BATCH}条；每条可带 version"),
        "status": StatusInput(required=False, help_text="全部记录的状态：draft 或 submitted（默认）"),
        "__module__": __name__,
    }
    return type(f"{FILING_MODELS[kind].__name__}Batch", (serializers.Serializer,), attrs)


class FieldErrorOutput(serializers.Serializer):
    field = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class BatchRowOutput(serializers.Serializer):
    index = serializers.IntegerField(help_text="记录在 records 中的位置（从0开始）")
    outcome = BatchOutcome()
    version = serializers.IntegerField(allow_null=True, help_text="保存后的当前版本；refused 时为 null")
    key = serializers.DictField(help_text="记录的自然键")
    errors = FieldErrorOutput(many=True)  # type: ignore[assignment]  # a field named like Serializer.errors


class BatchSummaryOutput(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    refused = serializers.IntegerField()


class BatchResultOutput(serializers.Serializer):
    summary = BatchSummaryOutput()
    results = BatchRowOutput(many=True)


class WithdrawInput(serializers.Serializer):
    reason = serializers.CharField(help_text="撤回原因（必填）")


# ---------------------------------------------------------------- views


def _row_json(row: RowResult) -> dict[str, Any]:
    return {
        "index": row.index,
        "outcome": row.outcome,
        "version": row.version,
        "key": row.key,
        "errors": errors_json(row.errors),
    }


class FilingViewSet(viewsets.GenericViewSet):
    """One filing kind: list and read through the funnel, every write through filings.actions."""

    kind: ClassVar[str]
    output_serializer: ClassVar[type[serializers.Serializer]]
    permission_classes = [IsAuthenticated, TokenScopes]
    parser_classes = [JSONParser]
    read_scope = TokenScope.FILINGS_READ
    write_scope = TokenScope.FILINGS_WRITE

    @property
    def filing_model(self) -> type[Filing]:
        return FILING_MODELS[self.kind]

    @property
    def record_schema(self) -> RecordSchema:
        return SCHEMAS[self.kind]

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return self.output_serializer

    def base_queryset(self) -> models.QuerySet[Any]:
        relations = [f.name for f in self.filing_model._meta.concrete_fields if f.is_relation and f.name != "filed_by"]
        return self.filing_model.objects.select_related(*relations)

    def get_queryset(self) -> models.QuerySet[Any]:
        return restrict(self.base_queryset(), self.request.user, Action.VIEW)

    def current(self, action: str, kwargs: dict[str, str]) -> Any:
        return get_for(
            self.base_queryset(), self.request.user, action, is_current=True, **key_lookup(self.record_schema, kwargs)
        )

    def file(self, rows: list[dict[str, Any]], versions: list[int | None], record_status: str) -> Any:
        return file_records(
            kind=self.kind,
            rows=rows,
            context=audit_context(self.request._request),
            channel=Channel.API,
            actor=acting_user(self.request._request),
            status=record_status,
            expected_versions=versions,
        )

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.output_serializer(page, many=True).data)

    def retrieve(self, request: Request, **kwargs: str) -> Response:
        return Response(self.output_serializer(self.current(Action.VIEW, kwargs)).data)

    @action(detail=True, methods=["get"])
    def versions(self, request: Request, **kwargs: str) -> Response:
        record = self.current(Action.VIEW, kwargs)
        relations = record.relation_keys()
        same_key = {
            f"{k}_id" if k in relations else k: v for k, v in zip(record.natural_key, record.key_values(), strict=True)
        }
        page = self.paginate_queryset(self.get_queryset().filter(**same_key).order_by("-version"))
        return self.get_paginated_response(self.output_serializer(page, many=True).data)

    def create(self, request: Request) -> Response:
        record, version, record_status, errors = split_record(self.record_schema, request.data, allow_status=True)
        if errors:
            raise invalid(errors)
        row = self.file([record], [version], record_status or FilingStatus.SUBMITTED).rows[0]
        if row.outcome == Outcome.REFUSED:
            stale = [e for e in row.errors if e.code == "stale_version"]
            if stale:
                raise StaleVersion(stale[0].message)
            raise invalid(row.errors)
        obj = self.base_queryset().get(pk=row.pk)
        body = {"outcome": row.outcome, "record": self.output_serializer(obj).data}
        return Response(body, status=status.HTTP_201_CREATED if row.outcome == Outcome.CREATED else status.HTTP_200_OK)

    @action(detail=False, methods=["post"])
    def batch(self, request: Request) -> Response:
        data = request.data
        if not isinstance(data, dict) or not isinstance(data.get("records"), list):
            raise invalid([FieldError("records", "required", '请以 {"records": [...]} 提交记录数组')])
        envelope = [FieldError(k, "unknown_field", f"未知字段“{k}”") for k in data if k not in ("records", "status")]
        records: list[Any] = data["records"]
        if len(records) > MAX_BATCH:
            envelope.append(
                FieldError(
                    "records", "too_many_records", f"一次最多提交{MAX_BATCH}条记录，本次{len(records)}条，请分批提交"
                )
            )
        elif not records:
            envelope.append(FieldError("records", "empty", "records 不能为空"))
        record_status = data.get("status") or FilingStatus.SUBMITTED
        if record_status not in STATUSES:
            envelope.append(FieldError("status", "invalid_choice", "状态只能是 draft（草稿）或 submitted（已提交）"))
        if envelope:
            raise invalid(envelope)

        results: list[dict[str, Any]] = [{} for _ in records]
        rows: list[dict[str, Any]] = []
        versions: list[int | None] = []
        positions: list[int] = []
        for i, raw in enumerate(records):
            record, version, _, errors = split_record(self.record_schema, raw, allow_status=False)
            if errors:
                key = key_of(self.record_schema, record)
                results[i] = {
                    "index": i,
                    "outcome": Outcome.REFUSED,
                    "version": None,
                    "key": key,
                    "errors": errors_json(errors),
                }
                continue
            rows.append(record)
            versions.append(version)
            positions.append(i)
        if rows:
            for row in self.file(rows, versions, record_status).rows:
                results[positions[row.index]] = {**_row_json(row), "index": positions[row.index]}
        outcomes = [r["outcome"] for r in results]
        summary = {o: outcomes.count(o) for o in (Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED, Outcome.REFUSED)}
        return Response({"summary": summary, "results": results})

    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, **kwargs: str) -> Response:
        record = self.current(Action.CHANGE, kwargs)
        reason = request.data.get("reason") if isinstance(request.data, dict) else None
        withdrawn = withdraw_filing(
            filing=record,
            reason=reason if isinstance(reason, str) else "",
            actor=acting_user(request._request),
            context=audit_context(request._request),
        )
        return Response(self.output_serializer(self.base_queryset().get(pk=withdrawn.pk)).data)

    @action(detail=True, methods=["post"])
    def submit(self, request: Request, **kwargs: str) -> Response:
        record = self.current(Action.CHANGE, kwargs)
        submitted = submit_draft(
            filing=record, actor=acting_user(request._request), context=audit_context(request._request)
        )
        return Response(self.output_serializer(self.base_queryset().get(pk=submitted.pk)).data)


def viewset_for(kind: str) -> type[FilingViewSet]:
    """The viewset of one kind, with its OpenAPI description."""
    model, schema = FILING_MODELS[kind], SCHEMAS[kind]
    output = output_serializer(kind)
    single, item = record_serializer(kind, single=True), record_serializer(kind, single=False)
    write_result = write_result_serializer(kind, output)
    title = schema.title
    key = [
        OpenApiParameter(s.key, str, OpenApiParameter.PATH, description=f"{s.header}（自然键）")
        for s in key_specs(schema)
    ]
    cls = type(
        f"{model.__name__}ViewSet",
        (FilingViewSet,),
        {"kind": kind, "output_serializer": output, "filterset_class": filters.FILTERS[kind], "__module__": __name__},
    )
    return extend_schema_view(
        list=extend_schema(summary=f"{title}列表（当前版本）", responses=output(many=True)),
        retrieve=extend_schema(summary=f"{title}详情（当前版本）", parameters=key, responses=output),
        versions=extend_schema(
            summary=f"{title}的全部版本（新→旧）", parameters=key, filters=False, responses=output(many=True)
        ),
        create=extend_schema(
            summary=f"填报或更正一条{title}",
            description="同一自然键再次提交：内容相同为 unchanged，不同则生成新版本（updated），旧版本保留。"
            "带 version 时，若当前版本已不是该版本，返回 409（code: stale_version）。",
            request=single,
            responses={201: write_result, 200: write_result},
        ),
        batch=extend_schema(
            summary=f"批量填报{title}（至多{MAX_BATCH}条）",
            description="逐条校验、逐条保存：被拒绝的记录不影响其他记录，HTTP 200 并逐条返回结果。"
            "重复提交同一批数据不会产生重复记录（unchanged）。",
            request=batch_serializer(kind, item),
            responses=BatchResultOutput,
        ),
        withdraw=extend_schema(summary=f"撤回{title}", parameters=key, request=WithdrawInput, responses=output),
        submit=extend_schema(summary=f"提交{title}草稿", parameters=key, request=None, responses=output),
    )(cls)


VIEWSETS: dict[str, type[FilingViewSet]] = {kind: viewset_for(kind) for kind in COLLECTIONS}


def _routes(kind: str, collection: str) -> list[URLPattern]:
    viewset = VIEWSETS[kind]
    key = "/".join(f"<str:{s.key}>" for s in key_specs(SCHEMAS[kind]))
    name = collection.replace("-", "_")
    return [
        path(f"{collection}/", viewset.as_view({"get": "list", "post": "create"}), name=f"{name}-list"),
        path(f"{collection}/batch/", viewset.as_view({"post": "batch"}), name=f"{name}-batch"),
        path(f"{collection}/{key}/", viewset.as_view({"get": "retrieve"}), name=f"{name}-detail"),
        path(f"{collection}/{key}/versions/", viewset.as_view({"get": "versions"}), name=f"{name}-versions"),
        path(f"{collection}/{key}/withdraw/", viewset.as_view({"post": "withdraw"}), name=f"{name}-withdraw"),
        path(f"{collection}/{key}/submit/", viewset.as_view({"post": "submit"}), name=f"{name}-submit"),
    ]


# Included by config/urls.py under /api/v1/.
urlpatterns = [pattern for kind, collection in COLLECTIONS.items() for pattern in _routes(kind, collection)]
