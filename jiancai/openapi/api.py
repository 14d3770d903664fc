"""The open API for e-commerce platforms (电商平台开放接口), token scope `credit:query`:

    GET  /api/v1/platform/credit/{uscc}/     one enterprise: score, rating, restrictions in force, blacklist status
    POST /api/v1/platform/credit/batch/      the same for up to 1,000 USCCs ({"usccs": [...]}), one result per USCC
    GET  /api/v1/platform/changes/           the credit change feed (scores, ratings, records, blacklist,
                                             restrictions, repairs) after an opaque cursor

Thin views over `blacklist.selectors.credit_standing` (one set-based query whatever the batch size) and
`credit.selectors.credit_changes`; plain dictionaries are rendered (no serializer on the hot path; the serializers
below describe the answers in the OpenAPI schema). Each token is throttled (`throttling.py`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
from decimal import Decimal
from typing import Any, NoReturn

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from jiancai.accounts.api_auth import TokenScopes
from jiancai.accounts.models import TokenScope
from jiancai.accounts.validators import validate_uscc
from jiancai.blacklist.models import RestrictionKind
from jiancai.blacklist.selectors import credit_standing
from jiancai.credit.models import ChangeKind, Rating
from jiancai.credit.selectors import credit_changes

from .throttling import PlatformBatchThrottle, PlatformTokenThrottle

BATCH_MAX = 1000
FEED_DEFAULT_LIMIT = 100
FEED_MAX_LIMIT = 1000
CURSOR_PREFIX = "cf1:"
RATING_LABELS = dict(Rating.choices)
KIND_LABELS = dict(RestrictionKind.choices)
CHANGE_LABELS = dict(ChangeKind.choices)
NOT_FOUND_MESSAGE = "未找到该统一社会信用代码对应的企业（未在本市企业库登记）"


class ChineseThrottled(exceptions.Throttled):
    default_detail = "请求过于频繁，已超出该接口令牌的调用频率限制"
    extra_detail_singular = "请在 {wait} 秒后重试。"
    extra_detail_plural = "请在 {wait} 秒后重试。"


# --------------------------------------------------------------------------- answers as plain dictionaries


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _standing_item(uscc: str, standing: dict[str, Any] | None, error: tuple[str, str] | None = None) -> dict[str, Any]:
    if standing is None:
        code, message = error or ("not_found", NOT_FOUND_MESSAGE)
        return {
            "uscc": uscc,
            "found": False,
            "error": {"code": code, "message": message},
            "name": None,
            "credit": None,
            "restricted": False,
            "restrictions": [],
            "blacklist": None,
        }
    score: Decimal | None = standing["score"]
    rating = standing["rating"]
    entry_no = standing["entry_no"]
    return {
        "uscc": uscc,
        "found": True,
        "error": None,
        "name": standing["name"],
        "credit": None
        if score is None
        else {
            "score": f"{score:.2f}",
            "rating": rating,
            "rating_label": RATING_LABELS.get(rating, rating),
            "computed_on": _day(standing["computed_on"]),
        },
        "restricted": bool(standing["restrictions"]),
        "restrictions": [
            {
                "restriction_no": r["restriction_no"],
                "kind": r["kind"],
                "kind_label": KIND_LABELS.get(r["kind"], r["kind"]),
                "area": r["district"] or "全市",
                "starts_on": r["starts_on"].isoformat(),
                "ends_on": r["ends_on"].isoformat(),
            }
            for r in standing["restrictions"]
        ],
        "blacklist": {
            "listed": entry_no is not None,
            "entry_no": entry_no,
            "listed_on": _day(standing["listed_on"]),
            "listed_until": _day(standing["listed_until"]),
        },
    }


def _checked_uscc(raw: str) -> tuple[str, tuple[str, str] | None]:
    """The normalized USCC and, when it is malformed, (code, Chinese message)."""
    code = raw.strip().upper()
    try:
        validate_uscc(code)
    except ValidationError as exc:
        return code, (exc.code or "invalid_uscc", exc.messages[0])
    return code, None


# --------------------------------------------------------------------------- cursor


def encode_cursor(change_id: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{change_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The change id a cursor stands for; a bad cursor is a 400 naming the parameter."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith(CURSOR_PREFIX) or not text[len(CURSOR_PREFIX) :].isdigit():
            raise ValueError(text)
        value = int(text[len(CURSOR_PREFIX) :])
        if value > 2**63 - 1:
            raise ValueError(text)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise exceptions.ValidationError(
            {"cursor": ["游标无效：请原样使用上一次响应中的 next_cursor（首次读取不传）"]}, code="invalid_cursor"
        ) from exc
    return value


# --------------------------------------------------------------------------- schema descriptions


class PlatformCreditOutput(serializers.Serializer):
    score = serializers.CharField(help_text="信用分（两位小数）")
    rating = serializers.CharField(help_text="信用等级：" + "；".join(f"{v}：{label}" for v, label in Rating.choices))
    rating_label = serializers.CharField()
    computed_on = serializers.DateField(help_text="计分日期")


class PlatformRestrictionOutput(serializers.Serializer):
    restriction_no = serializers.CharField(help_text="措施编号")
    kind = serializers.CharField(
        help_text="限制措施类型：" + "；".join(f"{v}：{label}" for v, label in RestrictionKind.choices)
    )
    kind_label = serializers.CharField()
    area = serializers.CharField(help_text="限制区域：全市或某区")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class PlatformBlacklistOutput(serializers.Serializer):
    listed = serializers.BooleanField(help_text="今天是否在建材质量失信黑名单上")
    entry_no = serializers.CharField(allow_null=True, help_text="名单编号")
    listed_on = serializers.DateField(allow_null=True, help_text="列入（公布）日期")
    listed_until = serializers.DateField(allow_null=True, help_text="列入期满日期")


class PlatformItemError(serializers.Serializer):
    code = serializers.CharField(help_text="not_found：未登记；uscc_length / uscc_charset / …：代码格式错误")
    message = serializers.CharField()


class PlatformStandingOutput(serializers.Serializer):
    uscc = serializers.CharField(help_text="统一社会信用代码（已转为大写）")
    found = serializers.BooleanField(help_text="是否为本市企业库登记的企业")
    error = PlatformItemError(allow_null=True, help_text="found 为 false 时的原因")
    name = serializers.CharField(allow_null=True, help_text="企业名称")
    credit = PlatformCreditOutput(allow_null=True, help_text="当前信用分与等级；尚未计分为 null")
    restricted = serializers.BooleanField(help_text="今天是否有生效的限制措施")
    restrictions = PlatformRestrictionOutput(many=True, help_text="今天生效且已公布的限制措施")
    blacklist = PlatformBlacklistOutput(allow_null=True)


class PlatformBatchInput(serializers.Serializer):
    usccs = serializers.ListField(
        child=serializers.CharField(), min_length=1, max_length=BATCH_MAX, help_text="统一社会信用代码，1–1000个"
    )


class PlatformBatchOutput(serializers.Serializer):
    count = serializers.IntegerField(help_text="结果条数（重复的代码只答一次）")
    found = serializers.IntegerField(help_text="其中本市登记企业的条数")
    results = PlatformStandingOutput(many=True)


class PlatformChangeOutput(serializers.Serializer):
    cursor = serializers.CharField(help_text="该条变动之后的游标")
    kind = serializers.CharField(help_text="变动类型：" + "；".join(f"{v}：{label}" for v, label in ChangeKind.choices))
    kind_label = serializers.CharField()
    uscc = serializers.CharField()
    name = serializers.CharField()
    summary = serializers.DictField(help_text="变动内容（随类型不同）")
    occurred_at = serializers.DateTimeField()


class PlatformFeedOutput(serializers.Serializer):
    results = PlatformChangeOutput(many=True)
    next_cursor = serializers.CharField(help_text="下次请求传回的游标；没有新变动时与本次传入的相同")
    has_more = serializers.BooleanField(help_text="是否还有更多变动（立即用 next_cursor 继续读取）")


ERROR = inline_serializer(
    "PlatformError",
    {
        "error": inline_serializer(
            "PlatformErrorBody",
            {
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.ListField(child=serializers.DictField()),
            },
        )
    },
)
ERRORS = {
    400: OpenApiResponse(ERROR, description="输入有误：error.fields 列出字段与原因"),
    401: OpenApiResponse(ERROR, description="未提供令牌，或令牌无效、已吊销、已过期"),
    403: OpenApiResponse(ERROR, description="令牌没有 credit:query 权限"),
    429: OpenApiResponse(ERROR, description="超出该令牌的调用频率限制；响应头 Retry-After 为需等待的秒数"),
}

FOUND_EXAMPLE = {
    "uscc": "91110105000000038P",
    "found": True,
    "error": None,
    "name": "北京朝建建材有限公司",
    "credit": {"score": "72.00", "rating": "C", "rating_label": "C级（失信）", "computed_on": "2026-12-07"},
    "restricted": True,
    "restrictions": [
        {
            "restriction_no": "XZ-2026-000003",
            "kind": "trade",
            "kind_label": "电商平台交易限制",
            "area": "全市",
            "starts_on": "2026-11-01",
            "ends_on": "2027-10-31",
        }
    ],
    "blacklist": {
        "listed": True,
        "entry_no": "HMD-2026-0002",
        "listed_on": "2026-11-01",
        "listed_until": "2027-10-31",
    },
}
NOT_FOUND_EXAMPLE = {
    "uscc": "91110000000000000X",
    "found": False,
    "error": {"code": "not_found", "message": NOT_FOUND_MESSAGE},
    "name": None,
    "credit": None,
    "restricted": False,
    "restrictions": [],
    "blacklist": None,
}


# --------------------------------------------------------------------------- views


_ENCODER = JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def json_response(data: Any) -> HttpResponse:
    """A success answer rendered here, as DRF's JSON renderer would (same bytes), without its response rendering."""
    return HttpResponse(_ENCODER.encode(data), content_type="application/json")


class JSONOnly(DefaultContentNegotiation):
    """The open API answers JSON whatever the client's Accept header says (no Accept parsing on every request)."""

    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type


class PlatformView(APIView):
    """The open API's views: token authentication, the `credit:query` scope, the per-token throttle.

    `dispatch` is DRF's with less machinery on the way to the handler, for the busiest calls of the platform: DRF's
    steps that these views use run in DRF's order (authentication, permissions, throttles, the handler; errors and
    OPTIONS answered by DRF's exception handling and finalization), and those they do not use are left out (format
    suffixes, versioning, content negotiation: the answer is JSON). Handlers answer with `json_response`.
    """

    content_negotiation_class = JSONOnly
    permission_classes = [IsAuthenticated, TokenScopes]
    read_scope = TokenScope.CREDIT_QUERY
    write_scope = TokenScope.CREDIT_QUERY  # the batch query is a read sent as POST
    throttle_classes = [PlatformTokenThrottle]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.args, self.kwargs = args, kwargs
        api_request = Request(
            request,
            parsers=self.get_parsers(),
            authenticators=self.get_authenticators(),
            negotiator=self.get_content_negotiator(),
            parser_context={"view": self, "args": args, "kwargs": kwargs},
        )
        self.request = api_request
        self.headers = {}
        try:
            self.perform_authentication(api_request)
            self.check_permissions(api_request)
            self.check_throttles(api_request)
            method = request.method.lower() if request.method else ""
            handler = getattr(self, method, None) if method in self.http_method_names else None
            response = (handler or self.http_method_not_allowed)(api_request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - DRF's handling: an API error becomes its answer, others re-raise
            response = self.handle_exception(exc)
        if isinstance(response, Response):  # an error, OPTIONS: DRF's rendering, and its Allow header
            self.headers = self.default_response_headers
            response = self.finalize_response(api_request, response, *args, **kwargs)
        return response

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        raise ChineseThrottled(wait=math.ceil(wait) if wait is not None else None)


class EnterpriseCreditView(PlatformView):
    @extend_schema(
        operation_id="platform_credit_retrieve",
        tags=["platform"],
        summary="查询一家企业的信用与限制情况",
        description="按统一社会信用代码查询：信用分与等级、今天生效的限制措施（类型、区域、期间）、是否在失信黑名单上。"
        "需要 credit:query 权限。",
        parameters=[
            OpenApiParameter(
                "uscc",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="统一社会信用代码（18位，GB 32100）",
                examples=[OpenApiExample("统一社会信用代码", value="91110105000000038P")],
            )
        ],
        responses={
            200: PlatformStandingOutput,
            404: OpenApiResponse(ERROR, description="本市企业库中没有该统一社会信用代码的企业"),
            **ERRORS,
        },
        examples=[OpenApiExample("受限企业", value=FOUND_EXAMPLE, response_only=True, status_codes=["200"])],
    )
    def get(self, request: Request, uscc: str) -> HttpResponse:
        code, error = _checked_uscc(uscc)
        if error is not None:
            raise exceptions.ValidationError({"uscc": [exceptions.ErrorDetail(error[1], code=error[0])]})
        standing = credit_standing([code]).get(code)
        if standing is None:
            raise exceptions.NotFound(NOT_FOUND_MESSAGE)
        return json_response(_standing_item(code, standing))


class BatchCreditView(PlatformView):
    throttle_classes = [PlatformTokenThrottle, PlatformBatchThrottle]
    # JSON only: a form body cannot carry a list cleanly, and a multipart body of over
    # DATA_UPLOAD_MAX_NUMBER_FIELDS parts made Django raise TooManyFieldsSent (an HTML 400; found by schemathesis).
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="platform_credit_batch",
        tags=["platform"],
        summary="批量查询企业信用与限制情况（最多1000个）",
        description="一次最多 1000 个统一社会信用代码，按提交顺序每个代码答一条（重复的只答一次）。"
        "未登记或格式错误的代码在该条的 error 中说明，不影响其他代码。需要 credit:query 权限。",
        request=PlatformBatchInput,
        responses={200: PlatformBatchOutput, **ERRORS},
        examples=[
            OpenApiExample(
                "两个代码", value={"usccs": ["91110105000000038P", "91110000000000000X"]}, request_only=True
            ),
            OpenApiExample(
                "一家受限、一家未登记",
                value={"count": 2, "found": 1, "results": [FOUND_EXAMPLE, NOT_FOUND_EXAMPLE]},
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def post(self, request: Request) -> HttpResponse:
        data = request.data
        raw = data.get("usccs") if isinstance(data, dict) else None
        if raw is None:
            raise exceptions.ValidationError({"usccs": ["请提供 usccs：统一社会信用代码列表"]}, code="required")
        if not isinstance(raw, list) or not raw:
            raise exceptions.ValidationError({"usccs": ["usccs 应为非空的统一社会信用代码列表"]}, code="invalid")
        if len(raw) > BATCH_MAX:
            raise exceptions.ValidationError(
                {"usccs": [f"一次最多查询 {BATCH_MAX} 个统一社会信用代码，本次提交了 {len(raw)} 个，请分批查询"]},
                code="too_many",
            )
        bad = next((i for i, value in enumerate(raw) if not isinstance(value, str)), None)
        if bad is not None:
            raise exceptions.ValidationError({"usccs": [f"第 {bad + 1} 项不是文本：统一社会信用代码应为字符串"]})
        checked = dict(_checked_uscc(value) for value in reversed(raw))  # the first error of a duplicate wins
        codes = list(dict.fromkeys(value.strip().upper() for value in raw))
        standing = credit_standing([c for c in codes if checked[c] is None])
        results = [_standing_item(c, standing.get(c), checked[c]) for c in codes]
        found = sum(1 for r in results if r["found"])
        return json_response({"count": len(results), "found": found, "results": results})


class ChangeFeedView(PlatformView):
    @extend_schema(
        operation_id="platform_changes",
        tags=["platform"],
        summary="信用变动订阅（信用分、等级、行为记录、黑名单、限制措施、信用修复）",
        description="按发生顺序返回游标之后的变动。首次不传 cursor，从最早的变动开始；之后每次传回上次响应的 "
        "next_cursor，既不遗漏也不重复（游标基于单调递增的变动序号，与时间无关）。has_more 为 true 时可立即继续读取。",
        parameters=[
            OpenApiParameter("cursor", OpenApiTypes.STR, description="上次响应的 next_cursor；首次读取不传"),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"每次最多条数，1–{FEED_MAX_LIMIT}，默认 100"),
        ],
        responses={200: PlatformFeedOutput, **ERRORS},
        examples=[
            OpenApiExample(
                "一条限制措施变动",
                value={
                    "results": [
                        {
                            "cursor": encode_cursor(42),
                            "kind": "restriction",
                            "kind_label": "限制措施",
                            "uscc": "91110105000000038P",
                            "name": "北京朝建建材有限公司",
                            "summary": {"restriction_no": "XZ-2026-000003", "kind": "trade"},
                            "occurred_at": "2026-12-07T10:00:00+08:00",
                        }
                    ],
                    "next_cursor": encode_cursor(42),
                    "has_more": False,
                },
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request: Request) -> HttpResponse:
        cursor = request.query_params.get("cursor", "")
        after = decode_cursor(cursor)
        limit_text = request.query_params.get("limit", "")
        limit = FEED_DEFAULT_LIMIT
        if limit_text:
            if not limit_text.isdigit() or not 1 <= int(limit_text) <= FEED_MAX_LIMIT:
                raise exceptions.ValidationError({"limit": [f"limit 应为 1 到 {FEED_MAX_LIMIT} 之间的整数"]})
            limit = int(limit_text)
        changes = credit_changes(after=after, limit=limit + 1)
        has_more = len(changes) > limit
        changes = changes[:limit]
        results = [
            {
                "cursor": encode_cursor(c.pk),
                "kind": c.kind,
                "kind_label": CHANGE_LABELS.get(c.kind, c.kind),
                "uscc": c.uscc,
                "name": c.name,
                "summary": c.summary,
                "occurred_at": serializers.DateTimeField().to_representation(c.occurred_at),
            }
            for c in changes
        ]
        next_cursor = encode_cursor(changes[-1].pk if changes else after)
        return json_response({"results": results, "next_cursor": next_cursor, "has_more": has_more})
