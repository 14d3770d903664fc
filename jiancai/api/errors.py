"""One JSON error shape for the whole API:

{"error": {"code": "validation_error", "message": "…",
           "fields": [{"field": "uscc", "code": "uscc_check_char", "message": "统一社会信用代码校验位错误"}]}}
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from jiancai.accounts.context import audit_context
from jiancai.audit.actions import record_event
from jiancai.audit.models import AuditAction

TOP_CODES = {
    status.HTTP_400_BAD_REQUEST: "validation_error",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_409_CONFLICT: "conflict",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
}


def _flatten(detail: Any, codes: Any, prefix: str = "") -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "non_field" if key == "non_field_errors" else key
            out += _flatten(
                value,
                codes.get(key) if isinstance(codes, dict) else codes,
                f"{prefix}{name}" if not prefix else f"{prefix}.{name}",
            )
    elif isinstance(detail, list):
        for i, value in enumerate(detail):
            code = codes[i] if isinstance(codes, list) and i < len(codes) else codes
            if isinstance(value, (dict, list)):
                out += _flatten(value, code, f"{prefix}[{i}]" if isinstance(value, dict) else prefix)
            else:
                out.append({"field": prefix or "non_field", "code": str(code or "invalid"), "message": str(value)})
    else:
        out.append({"field": prefix or "non_field", "code": str(codes or "invalid"), "message": str(detail)})
    return out


def to_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        detail: dict[str, list[str]] = {}
        codes: dict[str, list[str]] = {}
        for field, errors in exc.error_dict.items():
            key = "non_field_errors" if field == "__all__" else field
            detail[key] = [m for e in errors for m in e.messages]
            codes[key] = [e.code or "invalid" for e in errors for _ in e.messages]
        err = exceptions.ValidationError(detail)
        err.detail = {
            k: [exceptions.ErrorDetail(m, code=c) for m, c in zip(v, codes[k], strict=True)] for k, v in detail.items()
        }
        return err
    return exceptions.ValidationError(
        {"non_field_errors": [exceptions.ErrorDetail(m, code=exc.code or "invalid") for m in exc.messages]}
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    request = context.get("request")
    if isinstance(exc, DjangoValidationError):
        exc = to_drf(exc)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or "无权执行此操作")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("记录不存在")
    if isinstance(exc, exceptions.PermissionDenied) and request is not None:
        record_event(
            context=audit_context(request._request),
            action=AuditAction.PERMISSION_DENIED,
            target_type="api",
            target_repr=f"{request.method} {request.path}"[:255],
            reason=str(exc.detail)[:500],
        )
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    top = TOP_CODES.get(response.status_code, "error")
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail, exc.get_codes())
        message = "提交的数据有误：" + "；".join(f"{f['field']}：{f['message']}" for f in fields[:5])
        body = {"error": {"code": top, "message": message, "fields": fields}}
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else top
        body = {"error": {"code": str(code), "message": str(exc.detail), "fields": []}}
    response.data = body
    return response
