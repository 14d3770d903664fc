"""Pages of the blacklist (失信黑名单), restrictions (限制措施) and credit repair (信用修复).

Every read goes through the funnel (`visible_to`, here with the published rows everyone sees); every change through
blacklist.actions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from jiancai.accounts.access import Action, role_allows
from jiancai.accounts.context import acting_user, audit_context
from jiancai.accounts.roles import OrgType
from jiancai.audit.actions import record_event
from jiancai.audit.models import AuditAction
from jiancai.ui.lists import Column, ScopedListView
from jiancai.ui.pages import add_action_errors, form_page

from . import actions, filters, forms
from .models import (
    BlacklistEntry,
    EntryStatus,
    RepairApplication,
    RepairAttachment,
    RepairStatus,
    Restriction,
)


def get_visible(queryset: models.QuerySet[Any], user: Any, action: str = Action.VIEW, **lookup: Any) -> Any:
    """Like accounts.access.get_for, through the model's own `visible_to` (published rows are public): the row,
    404 when it does not exist, PermissionDenied (audited by the middleware) when it is not the user's."""
    obj = queryset.visible_to(user, action).filter(**lookup).first()  # type: ignore[attr-defined]
    if obj is not None:
        return obj
    if queryset.filter(**lookup).exists():
        raise PermissionDenied(f"无权对{queryset.model._meta.verbose_name}执行此操作")
    raise Http404("记录不存在")


def is_city_business(user: Any) -> bool:
    org = getattr(user, "organization", None)
    return (
        role_allows(user, BlacklistEntry, Action.VERIFY) and org is not None and org.org_type == OrgType.CITY_REGULATOR
    )


class PublicListView(ScopedListView):
    """A list through the model's `visible_to` (published rows for everyone), with XLSX and CSV export."""

    csv_export = True

    def get_queryset(self) -> models.QuerySet[Any]:
        qs = self.model._default_manager.select_related(*self.related)
        return qs.visible_to(self.request.user, Action.VIEW)  # type: ignore[attr-defined, no-any-return]

    def can_create(self) -> bool:
        return self.create_url_name is not None and role_allows(self.request.user, self.model, Action.VERIFY)


# ---------------------------------------------------------------- entries


class EntryList(PublicListView):
    model = BlacklistEntry
    filterset_class = filters.EntryFilter
    title = "建材质量失信黑名单"
    create_url_name = "blacklist:entry_propose"
    related = ("enterprise", "enterprise__district")
    columns = (
        Column("名单编号", "entry_no"),
        Column("企业名称", "enterprise.name"),
        Column("统一社会信用代码", "enterprise.uscc"),
        Column("所在区", "enterprise.district.name"),
        Column("列入事由", "grounds"),
        Column("状态", "status"),
        Column("公布日期", "published_on"),
        Column("期满日期", "ends_on"),
        Column("移出日期", "exited_on"),
        Column("公示截止", "public_until"),
    )


def _entry_queryset() -> models.QuerySet[BlacklistEntry]:
    return BlacklistEntry.objects.select_related("enterprise", "enterprise__district")


def _render_entry(
    request: HttpRequest, entry: BlacklistEntry, decision_form: Any = None, status: int = 200
) -> HttpResponse:
    user = request.user
    may_decide = entry.status == EntryStatus.PROPOSED and is_city_business(user) and entry.proposer_id != user.pk
    restrictions = Restriction.objects.visible_to(user).filter(entry=entry).select_related("district")
    decisions = entry.repair_applications.exclude(status=RepairStatus.SUBMITTED).order_by("decided_at")
    own = getattr(user, "organization_id", None) == entry.enterprise_id
    may_apply = (
        own
        and entry.status == EntryStatus.PUBLISHED
        and role_allows(user, RepairApplication, Action.CHANGE)
        and not entry.repair_applications.filter(status=RepairStatus.SUBMITTED).exists()
    )
    context = {
        "title": f"失信黑名单 {entry.entry_no}",
        "entry": entry,
        "restrictions": restrictions,
        "decisions": decisions,
        "decision_form": decision_form or (forms.DecisionForm() if may_decide else None),
        "may_restrict": entry.status == EntryStatus.PUBLISHED and is_city_business(user),
        "may_apply": may_apply,
        "own_proposal": entry.status == EntryStatus.PROPOSED and entry.proposer_id == user.pk,
        "today": timezone.localdate(),
    }
    return render(request, "blacklist/entry_detail.html", context, status=status)


@login_required
def entry_detail(request: HttpRequest, entry_no: str) -> HttpResponse:
    entry = get_visible(_entry_queryset(), request.user, entry_no=entry_no)
    return _render_entry(request, entry)


@login_required
def entry_propose(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if not role_allows(user, BlacklistEntry, Action.VERIFY):
        raise PermissionDenied("无权提出列入失信黑名单")
    form = forms.ProposeForm(request.POST or None, initial={"enterprise": request.GET.get("enterprise", "")})

    def save(f: Any) -> BlacklistEntry:
        return actions.propose_entry(**f.cleaned_data, actor=user, context=audit_context(request))

    return form_page(
        request,
        form=form,
        title="提出列入建材质量失信黑名单",
        save=save,
        cancel_url=reverse("blacklist:entry_list"),
        success="已提出列入申请，待另一名市级监管人员审批",
        submit_label="提交审批",
    )


@login_required
@require_POST
def entry_decide(request: HttpRequest, entry_no: str, verb: str) -> HttpResponse:
    if verb not in ("approve", "reject"):
        raise Http404("没有这项操作")
    user = acting_user(request)
    entry = get_visible(_entry_queryset(), user, Action.VERIFY, entry_no=entry_no)
    form = forms.DecisionForm(request.POST)
    if form.is_valid():
        data, context = form.cleaned_data, audit_context(request)
        try:
            if verb == "approve":
                actions.approve_entry(
                    entry=entry, note=data["note"], published_on=data["published_on"], actor=user, context=context
                )
                messages.success(request, "已批准列入并公布")
            else:
                actions.reject_entry(entry=entry, reason=data["note"], actor=user, context=context)
                messages.success(request, "已决定不予列入")
        except ValidationError as exc:
            add_action_errors(form, exc, fallback="note")
        else:
            return redirect(entry.get_absolute_url())
    return _render_entry(request, entry, decision_form=form, status=400)


# ---------------------------------------------------------------- restrictions


def _restriction_state(r: Restriction) -> str:
    return r.state(timezone.localdate())


class RestrictionList(PublicListView):
    model = Restriction
    filterset_class = filters.RestrictionFilter
    title = "限制措施"
    create_url_name = "blacklist:restriction_create"
    related = ("enterprise", "district", "entry")
    columns = (
        Column("措施编号", "restriction_no"),
        Column("企业名称", "enterprise.name"),
        Column("统一社会信用代码", "enterprise.uscc"),
        Column("限制措施", "kind"),
        Column("范围", "scope_text"),
        Column("开始日期", "starts_on"),
        Column("结束日期", "ends_on"),
        Column("执行状态", _restriction_state),
        Column("解除日期", "lifted_on"),
        Column("解除原因", "lift_reason"),
        Column("黑名单", "entry.entry_no"),
    )

    def can_create(self) -> bool:
        return is_city_business(self.request.user)


@login_required
def restriction_detail(request: HttpRequest, restriction_no: str) -> HttpResponse:
    r = get_visible(
        Restriction.objects.select_related("enterprise", "district", "entry"),
        request.user,
        restriction_no=restriction_no,
    )
    return _render_restriction(request, r)


def _render_restriction(request: HttpRequest, r: Restriction, form: Any = None, status: int = 200) -> HttpResponse:
    may_revoke = is_city_business(request.user) and r.lift_reason != "revoked"
    context = {
        "title": f"限制措施 {r.restriction_no}",
        "r": r,
        "state": r.state(timezone.localdate()),
        "revoke_form": form or (forms.RevokeForm() if may_revoke else None),
    }
    return render(request, "blacklist/restriction_detail.html", context, status=status)


@login_required
def restriction_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if not is_city_business(user):
        raise PermissionDenied("限制措施由市住房城乡建设委员会业务人员决定")
    entry = None
    if request.GET.get("entry"):
        entry = get_visible(_entry_queryset(), user, Action.VERIFY, entry_no=request.GET["entry"])
    initial = {"enterprise": entry.enterprise.uscc if entry else "", "starts_on": timezone.localdate()}
    if entry is not None and entry.ends_on:
        initial["ends_on"] = entry.ends_on
    form = forms.RestrictionForm(request.POST or None, initial=initial)

    def save(f: Any) -> Restriction:
        return actions.impose_restriction(**f.cleaned_data, entry=entry, actor=user, context=audit_context(request))

    return form_page(
        request,
        form=form,
        title=f"采取限制措施{f'（黑名单 {entry.entry_no}）' if entry else ''}",
        save=save,
        cancel_url=entry.get_absolute_url() if entry else reverse("blacklist:restriction_list"),
        success="限制措施已生效；相关项目所在区的监管部门已收到信用预警",
        submit_label="决定",
    )


@login_required
@require_POST
def restriction_revoke(request: HttpRequest, restriction_no: str) -> HttpResponse:
    user = acting_user(request)
    r = get_visible(
        Restriction.objects.select_related("enterprise", "district", "entry"),
        user,
        Action.VERIFY,
        restriction_no=restriction_no,
    )
    form = forms.RevokeForm(request.POST)
    if form.is_valid():
        try:
            actions.revoke_restriction(
                restriction=r, reason=form.cleaned_data["reason"], actor=user, context=audit_context(request)
            )
        except ValidationError as exc:
            add_action_errors(form, exc, fallback="reason")
        else:
            messages.success(request, "限制措施已撤销")
            return redirect(r.get_absolute_url())
    return _render_restriction(request, r, form=form, status=400)


# ---------------------------------------------------------------- credit repair


class RepairList(ScopedListView):
    model = RepairApplication
    filterset_class = filters.RepairFilter
    title = "信用修复申请"
    csv_export = True
    related = ("applicant", "entry")
    columns = (
        Column("申请编号", "application_no"),
        Column("申请企业", "applicant.name"),
        Column("统一社会信用代码", "applicant.uscc"),
        Column("黑名单", "entry.entry_no"),
        Column("申请时间", "submitted_at"),
        Column("状态", "status"),
        Column("审核人", "reviewer_name"),
        Column("决定时间", "decided_at"),
    )

    def can_create(self) -> bool:
        return False


@login_required
def repair_apply(request: HttpRequest, entry_no: str) -> HttpResponse:
    user = acting_user(request)
    entry = get_visible(_entry_queryset(), user, entry_no=entry_no)
    if user.organization_id != entry.enterprise_id or not role_allows(user, RepairApplication, Action.CHANGE):
        raise PermissionDenied("只有被列入的企业可以申请信用修复")
    form = forms.RepairForm(request.POST or None, request.FILES or None)

    def save(f: Any) -> RepairApplication:
        return actions.apply_for_repair(
            entry=entry,
            statement=f.cleaned_data["statement"],
            files=f.cleaned_data["attachments"],
            actor=user,
            context=audit_context(request),
        )

    return form_page(
        request,
        form=form,
        title=f"申请信用修复（{entry.entry_no}）",
        save=save,
        cancel_url=entry.get_absolute_url(),
        success="信用修复申请已提交，请等待审核",
        submit_label="提交申请",
    )


def _render_repair(request: HttpRequest, app: RepairApplication, form: Any = None, status: int = 200) -> HttpResponse:
    may_review = app.status == RepairStatus.SUBMITTED and is_city_business(request.user)
    context = {
        "title": f"信用修复申请 {app.application_no}",
        "app": app,
        "attachments": app.attachments.all(),
        "review_form": form or (forms.ReviewForm() if may_review else None),
    }
    return render(request, "blacklist/repair_detail.html", context, status=status)


def _repair_queryset() -> models.QuerySet[RepairApplication]:
    return RepairApplication.objects.select_related("applicant", "entry", "entry__enterprise")


@login_required
def repair_detail(request: HttpRequest, application_no: str) -> HttpResponse:
    app = get_visible(_repair_queryset(), request.user, application_no=application_no)
    return _render_repair(request, app)


@login_required
@require_POST
def repair_review(request: HttpRequest, application_no: str) -> HttpResponse:
    user = acting_user(request)
    app = get_visible(_repair_queryset(), user, Action.VERIFY, application_no=application_no)
    form = forms.ReviewForm(request.POST)
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            actions.decide_repair(
                application=app,
                approve=approve,
                reason=form.cleaned_data["reason"],
                actor=user,
                context=audit_context(request),
            )
        except ValidationError as exc:
            add_action_errors(form, exc, fallback="reason")
        else:
            messages.success(request, "已准予修复，企业已移出黑名单" if approve else "已决定不予修复")
            return redirect(app.get_absolute_url())
    return _render_repair(request, app, form=form, status=400)


@login_required
def repair_attachment(request: HttpRequest, pk: int) -> FileResponse:
    """Evidence of a repair application, only to those who see the application (never public media)."""
    app = get_visible(RepairApplication.objects.all(), request.user, attachments__pk=pk)
    attachment = RepairAttachment.objects.get(pk=pk, application=app)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("附件文件不存在") from exc
    record_event(
        context=audit_context(request),
        action=AuditAction.EXPORT,
        target=app,
        changes={"attachment": attachment.original_name, "sha256": attachment.sha256},
    )
    return FileResponse(handle, as_attachment=True, filename=attachment.original_name)
