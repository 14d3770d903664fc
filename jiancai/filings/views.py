"""Pages of the filings (信息填报): per kind a list, a detail with its version history and related records, the
form that files or corrects a record, and the withdraw and submit buttons.

Every write goes through filings.actions (file_records, withdraw_filing, submit_draft), the same code as the API
and the bulk import; every read through the visibility funnel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from jiancai.accounts.access import Action, can, get_for, restrict, role_allows
from jiancai.accounts.context import acting_user, audit_context
from jiancai.accounts.models import User
from jiancai.ui.lists import Column, ScopedListView

from . import filters
from .actions import FILER_KINDS, KIND_LABELS, Outcome, file_records, submit_draft, withdraw_filing
from .forms import FilingForm, WithdrawForm, as_text, record_of
from .models import FILING_MODELS, Channel, Filing, FilingStatus, ProjectEvent, Purchase, Supply, TestReport, Ticket
from .schemas import SCHEMAS, FieldSpec

# The web path of each kind's pages (the same plural kebab-case words as the API collections).
SLUGS = {
    "supply": "supplies",
    "purchase": "purchases",
    "test_report": "test-reports",
    "tender": "tenders",
    "ticket": "tickets",
    "project_event": "project-events",
}
# Relations every page of a kind shows (select_related, so a list costs one query).
RELATED: dict[str, tuple[str, ...]] = {
    "supply": ("filer", "project", "category"),
    "purchase": ("filer", "project", "supplier", "category"),
    "test_report": ("filer", "project", "producer", "category"),
    "tender": ("filer", "project", "category", "winner"),
    "ticket": ("filer", "project"),
    "project_event": ("filer", "project"),
}
RELATED_LIMIT = 100

STATUS = Column("状态", "status")
VERSION = Column("版本", "version")


def may_file(user: Any, kind: str) -> bool:
    """Whether the user's role may file, and its organization is of a kind that files this record kind."""
    if not role_allows(user, FILING_MODELS[kind], Action.CHANGE):
        return False
    codes = set(user.organization.kinds.values_list("code", flat=True))
    return bool(codes & FILER_KINDS[kind])


def filer_kinds_text(kind: str) -> str:
    return "、".join(label for code, label in KIND_LABELS.items() if code in FILER_KINDS[kind])


# ---------------------------------------------------------------- lists


class FilingList(ScopedListView):
    """A kind's list: current versions (or with `versions=all`, the history), XLSX and CSV export."""

    kind: ClassVar[str]
    csv_export = True
    create_label = "填报"

    def can_create(self) -> bool:
        return self.create_url_name is not None and may_file(self.request.user, self.kind)


def list_view(kind: str, columns: Sequence[Column]) -> type[FilingList]:
    model = FILING_MODELS[kind]
    attrs = {
        "kind": kind,
        "model": model,
        "filterset_class": filters.FILTERS[kind],
        "title": SCHEMAS[kind].title,
        "create_url_name": f"filings:{kind}_create",
        "related": RELATED[kind],
        "columns": tuple(columns),
        "__module__": __name__,
    }
    return type(f"{model.__name__}List", (FilingList,), attrs)


LIST_VIEWS: dict[str, type[FilingList]] = {
    "supply": list_view(
        "supply",
        [
            Column("供应单号", "supply_no"),
            Column("供应企业", "filer.name"),
            Column("项目编号", "project.project_code"),
            Column("合同编号", "contract_no"),
            Column("材料品类", "category.name"),
            Column("规格型号", "spec"),
            Column("批号", "batch_no"),
            Column("数量", "quantity"),
            Column("计量单位", "unit"),
            Column("供货日期", "delivery_date"),
            STATUS,
            VERSION,
        ],
    ),
    "purchase": list_view(
        "purchase",
        [
            Column("采购单号", "purchase_no"),
            Column("采购单位", "filer.name"),
            Column("项目编号", "project.project_code"),
            Column("供应企业", "supplier.name"),
            Column("合同编号", "contract_no"),
            Column("材料品类", "category.name"),
            Column("数量", "quantity"),
            Column("计量单位", "unit"),
            Column("进场日期", "arrival_date"),
            Column("见证检测报告编号", "witness_report_no"),
            STATUS,
            VERSION,
        ],
    ),
    "test_report": list_view(
        "test_report",
        [
            Column("报告编号", "report_no"),
            Column("检测机构", "filer.name"),
            Column("检测类别", "test_kind"),
            Column("项目编号", "project.project_code"),
            Column("生产企业", "producer.name"),
            Column("材料品类", "category.name"),
            Column("规格型号", "spec"),
            Column("批号", "batch_no"),
            Column("检测日期", "test_date"),
            Column("检测结果", "result"),
            STATUS,
            VERSION,
        ],
    ),
    "tender": list_view(
        "tender",
        [
            Column("招标编号", "tender_no"),
            Column("项目编号", "project.project_code"),
            Column("材料品类", "category.name"),
            Column("中标企业", "winner.name"),
            Column("合同编号", "contract_no"),
            Column("中标单价(元)", "awarded_price"),
            Column("市场指导价(元)", "guide_price"),
            Column("中标日期", "award_date"),
            Column("填报单位", "filer.name"),
            STATUS,
            VERSION,
        ],
    ),
    "ticket": list_view(
        "ticket",
        [
            Column("发货单号", "ticket_no"),
            Column("搅拌站", "filer.name"),
            Column("项目编号", "project.project_code"),
            Column("强度等级", "grade"),
            Column("方量(m³)", "volume"),
            Column("出站时间", "departed_at"),
            Column("到场时间", "arrived_at"),
            Column("浇筑部位", "pour_location"),
            Column("车牌号", "vehicle_plate"),
            STATUS,
            VERSION,
        ],
    ),
    "project_event": list_view(
        "project_event",
        [
            Column("项目编号", "project.project_code"),
            Column("项目名称", "project.name"),
            Column("节点", "event"),
            Column("日期", "date"),
            Column("文号", "document_no"),
            Column("填报单位", "filer.name"),
            STATUS,
            VERSION,
        ],
    ),
}


# ---------------------------------------------------------------- detail


def _display(spec: FieldSpec, obj: Filing, value: Any) -> Any:
    """A field of the detail page: references by name and code."""
    related = getattr(obj, spec.attr or spec.key) if spec.type in ("uscc", "project", "category") else None
    if related is None:
        return value
    if spec.type == "uscc":
        return f"{related.name}（{related.uscc}）"
    if spec.type == "project":
        return f"{related.project_code} {related.name}"
    return f"{related.name}（{related.code}）"


def _changes(schema_fields: Sequence[FieldSpec], older: Filing, newer: Filing) -> list[tuple[str, str, str]]:
    """The fields that differ between two versions, as (label, old, new)."""
    before, after = record_of(older), record_of(newer)
    return [
        (spec.header, as_text(before[spec.key]), as_text(after[spec.key]))
        for spec in schema_fields
        if before[spec.key] != after[spec.key]
    ]


def _key_lookup(obj: Filing) -> dict[str, Any]:
    relations = obj.relation_keys()
    return {f"{k}_id" if k in relations else k: v for k, v in zip(obj.natural_key, obj.key_values(), strict=True)}


def _current(model: type[Filing], user: Any, kind: str) -> models.QuerySet[Any]:
    return restrict(model.objects.filter(is_current=True).select_related(*RELATED[kind]), user, Action.VIEW)


def _section(title: str, queryset: models.QuerySet[Any] | None, kind: str) -> dict[str, Any]:
    """A table of related records: the list columns of their kind, the first linking to the record."""
    columns = LIST_VIEWS[kind].columns
    items = list(queryset[:RELATED_LIMIT]) if queryset is not None else []
    rows = [{"url": item.get_absolute_url(), "values": [c.resolve(item) for c in columns]} for item in items]
    return {"title": title, "headers": [c.label for c in columns], "rows": rows}


def _related_supply(obj: Any, user: Any) -> list[dict[str, Any]]:
    purchases = _current(Purchase, user, "purchase").filter(project_id=obj.project_id, contract_no=obj.contract_no)
    return [_section("同项目同合同的采购记录", purchases, "purchase")]


def _related_purchase(obj: Any, user: Any) -> list[dict[str, Any]]:
    supplies = _current(Supply, user, "supply").filter(project_id=obj.project_id, contract_no=obj.contract_no)
    reports = (
        _current(TestReport, user, "test_report").filter(report_no=obj.witness_report_no)
        if obj.witness_report_no
        else None
    )
    return [
        _section("同项目同合同的供应记录", supplies, "supply"),
        _section("引用的见证检测报告", reports, "test_report"),
    ]


def _related_test_report(obj: Any, user: Any) -> list[dict[str, Any]]:
    reports = supplies = None
    if obj.producer_id and obj.batch_no:
        same_batch = {"batch_no": obj.batch_no}
        reports = (
            _current(TestReport, user, "test_report")
            .filter(producer_id=obj.producer_id, **same_batch)
            .exclude(filer_id=obj.filer_id, report_no=obj.report_no)
        )
        supplies = _current(Supply, user, "supply").filter(filer_id=obj.producer_id, **same_batch)
    return [
        _section("同一生产企业同批号的其他检测报告", reports, "test_report"),
        _section("同一生产企业同批号的供应记录", supplies, "supply"),
    ]


def _related_ticket(obj: Any, user: Any) -> list[dict[str, Any]]:
    tickets = (
        _current(Ticket, user, "ticket")
        .filter(project_id=obj.project_id, pour_location=obj.pour_location)
        .exclude(filer_id=obj.filer_id, ticket_no=obj.ticket_no)
        if obj.pour_location
        else None
    )
    return [_section("同项目同浇筑部位的其他发货单", tickets, "ticket")]


def _related_tender(obj: Any, user: Any) -> list[dict[str, Any]]:
    purchases = _current(Purchase, user, "purchase").filter(project_id=obj.project_id, contract_no=obj.contract_no)
    return [_section("同项目同合同的采购记录", purchases, "purchase")]


def _related_project_event(obj: Any, user: Any) -> list[dict[str, Any]]:
    events = _current(ProjectEvent, user, "project_event").filter(project_id=obj.project_id).exclude(pk=obj.pk)
    return [_section("该项目的其他节点", events, "project_event")]


RELATED_SECTIONS: dict[str, Callable[[Any, Any], list[dict[str, Any]]]] = {
    "supply": _related_supply,
    "purchase": _related_purchase,
    "test_report": _related_test_report,
    "tender": _related_tender,
    "ticket": _related_ticket,
    "project_event": _related_project_event,
}


@login_required
def filing_detail(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    model, schema = FILING_MODELS[kind], SCHEMAS[kind]
    user = request.user
    obj = get_for(model.objects.select_related(*RELATED[kind], "filed_by"), user, Action.VIEW, pk=pk)
    versions = list(
        restrict(model.objects.filter(**_key_lookup(obj)).select_related(*RELATED[kind]), user, Action.VIEW).order_by(
            "-version"
        )
    )
    history = [
        (v, _changes(schema.fields, versions[i + 1], v) if i + 1 < len(versions) else [])
        for i, v in enumerate(versions)
    ]
    previous = next((v for v in versions if v.version < obj.version), None)
    changed = {label for label, _, _ in _changes(schema.fields, previous, obj)} if previous else set()
    record = record_of(obj)
    fields = [(spec.header, _display(spec, obj, record[spec.key]), spec.header in changed) for spec in schema.fields]
    may_change = obj.is_current and can(user, Action.CHANGE, obj)
    context = {
        "title": f"{schema.title} {'／'.join(str(record[s]) for s in _key_inputs(kind))}",
        "kind": kind,
        "obj": obj,
        "fields": fields,
        "previous": previous,
        "history": history,
        "sections": RELATED_SECTIONS[kind](obj, user),
        "list_url": reverse(f"filings:{kind}_list"),
        "can_correct": may_change,
        "can_withdraw": may_change and obj.status != FilingStatus.WITHDRAWN,
        "can_submit": may_change and obj.status == FilingStatus.DRAFT,
        "correct_url": reverse(f"filings:{kind}_correct", args=[obj.pk]),
        "withdraw_url": reverse(f"filings:{kind}_withdraw", args=[obj.pk]),
        "submit_url": reverse(f"filings:{kind}_submit", args=[obj.pk]),
        "withdraw_form": WithdrawForm(),
    }
    return render(request, "filings/detail.html", context)


def _key_inputs(kind: str) -> list[str]:
    natural_key = FILING_MODELS[kind].natural_key
    return [s.key for s in SCHEMAS[kind].fields if (s.attr or s.key) in natural_key and s.type != "uscc"]


# ---------------------------------------------------------------- writes

OUTCOME_MESSAGES = {
    Outcome.CREATED: "已保存（版本 {version}）",
    Outcome.UPDATED: "已更正，生成版本 {version}；此前的版本保留在历史记录中",
    Outcome.UNCHANGED: "内容没有变化，未生成新版本",
}


@login_required
def filing_edit(request: HttpRequest, kind: str, pk: int | None = None) -> HttpResponse:
    """File a new record (pk None) or correct the current version `pk` (which creates the next version)."""
    model, schema = FILING_MODELS[kind], SCHEMAS[kind]
    user: User = acting_user(request)
    if not may_file(user, kind):
        raise PermissionDenied(f"{schema.title}只能由{filer_kinds_text(kind)}填报")
    instance = None
    if pk is not None:
        instance = get_for(model.objects.select_related(*RELATED[kind]), user, Action.CHANGE, pk=pk)
        if not instance.is_current:
            messages.error(request, "只能修改当前版本")
            return redirect(instance.get_absolute_url())
    form = FilingForm(request.POST or None, schema=schema, user=user, instance=instance)
    if request.method == "POST" and form.is_valid():
        status = FilingStatus.DRAFT if request.POST.get("action") == "draft" else FilingStatus.SUBMITTED
        result = file_records(
            kind=kind,
            rows=[form.row()],
            context=audit_context(request),
            channel=Channel.FORM,
            actor=user,
            status=status,
            expected_versions=form.expected_versions(),
        )
        row = result.rows[0]
        if row.outcome == Outcome.REFUSED:
            form.add_row_errors(row.errors)
        else:
            messages.success(request, OUTCOME_MESSAGES[row.outcome].format(version=row.version))
            return redirect(reverse(f"filings:{kind}_detail", args=[row.pk]))
    context = {
        "title": f"修改{schema.title}（当前版本 {instance.version}）" if instance else f"填报{schema.title}",
        "form": form,
        "cancel_url": instance.get_absolute_url() if instance else reverse(f"filings:{kind}_list"),
        # A submitted record stays submitted: its correction is submitted too.
        "can_draft": instance is None or instance.status != FilingStatus.SUBMITTED,
    }
    return render(request, "filings/form.html", context, status=400 if request.method == "POST" else 200)


def _changeable(request: HttpRequest, kind: str, pk: int) -> Filing:
    filing: Filing = get_for(FILING_MODELS[kind].objects.all(), request.user, Action.CHANGE, pk=pk)
    return filing


@login_required
@require_POST
def filing_withdraw(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    obj = _changeable(request, kind, pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, "撤回原因：" + "；".join(str(e) for e in form.errors.get("reason", [])))
        return redirect(obj.get_absolute_url())
    try:
        withdraw_filing(
            filing=obj, reason=form.cleaned_data["reason"], actor=acting_user(request), context=audit_context(request)
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已撤回；记录及其历史版本仍保留")
    return redirect(obj.get_absolute_url())


@login_required
@require_POST
def filing_submit(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    obj = _changeable(request, kind, pk)
    try:
        submit_draft(filing=obj, actor=acting_user(request), context=audit_context(request))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "草稿已提交")
    return redirect(obj.get_absolute_url())
