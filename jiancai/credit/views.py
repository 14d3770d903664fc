"""诚信 pages: behaviour records (list, detail, create, revoke, partner import), enterprise credit (score explained
line by line, history), the score list and the score model. Everything is read through the funnel."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from jiancai.accounts.access import Action, can, get_for, restrict, role_allows
from jiancai.accounts.context import acting_user, audit_context
from jiancai.accounts.models import Organization
from jiancai.audit.actions import record_event
from jiancai.audit.models import AuditAction, AuditEvent
from jiancai.ui.lists import Column, ScopedListView
from jiancai.ui.pages import add_action_errors, form_page

from . import actions, filters, forms, imports
from .models import BehaviourRecord, CreditScore, CreditScoreHistory, RecordKind, ScoreModel


class CsvListView(ScopedListView):
    """A ScopedListView with a CSV export besides XLSX (UTF-8 with BOM, formula-safe cells, audited)."""

    template_name = "credit/list.html"
    csv_export = True


def _publication(record: BehaviourRecord) -> str:
    return record.publication_label(timezone.localdate())


class RecordList(CsvListView):
    model = BehaviourRecord
    filterset_class = filters.BehaviourRecordFilter
    title = "信用行为记录"
    create_url_name = "credit:record_create"
    related = ("organization", "organization__district")
    columns = (
        Column("记录编号", "record_no"),
        Column("企业", "organization.name"),
        Column("统一社会信用代码", "organization.uscc"),
        Column("记录类型", "kind"),
        Column("等级", lambda r: r.get_severity_display() if r.severity else ""),
        Column("行为名称", "title"),
        Column("分值", lambda r: f"−{r.points}" if r.is_bad else f"+{r.points}"),
        Column("来源", "source"),
        Column("来源地区", "origin_region"),
        Column("认定日期", "decided_on"),
        Column("公示截止", "published_until"),
        Column("公示状态", _publication),
        Column("所在区", "organization.district.name"),
    )


class ScoreList(CsvListView):
    model = CreditScore
    filterset_class = filters.CreditScoreFilter
    title = "企业信用评分"
    related = ("organization", "organization__district", "score_model")
    columns = (
        Column("统一社会信用代码", "organization.uscc"),
        Column("企业", "organization.name"),
        Column("信用分", "score"),
        Column("信用等级", "rating"),
        Column("检查频次", lambda s: f"每{s.score_model.interval_for(s.rating)}个月"),
        Column("所在区", "organization.district.name"),
        Column("计分日期", "computed_on"),
    )


@login_required
def record_detail(request: HttpRequest, record_no: str, revoke_form: Any = None, status: int = 200) -> HttpResponse:
    record = get_for(
        BehaviourRecord.objects.select_related(
            "organization", "organization__district", "source_case", "source_verification"
        ),
        request.user,
        Action.VIEW,
        record_no=record_no,
    )
    may_revoke = record.status == "published" and can(request.user, Action.REVOKE, record)
    history = AuditEvent.objects.filter(target_type="credit.behaviourrecord", target_id=str(record.pk)).order_by("seq")
    context = {
        "title": f"信用行为记录 {record.record_no}",
        "record": record,
        "publication": _publication(record),
        "case_visible": record.source_case is not None and can(request.user, Action.VIEW, record.source_case),
        "revoke_form": (revoke_form or forms.RevokeForm()) if may_revoke else None,
        "history": history if role_allows(request.user, BehaviourRecord, Action.CHANGE) else None,
        "enterprise_url": reverse("credit:enterprise", args=[record.organization.uscc]),
    }
    return render(request, "credit/record_detail.html", context, status=status)


@login_required
def record_attachment(request: HttpRequest, record_no: str) -> FileResponse:
    record = get_for(BehaviourRecord.objects.all(), request.user, Action.VIEW, record_no=record_no)
    if not record.attachment:
        raise Http404("该记录没有附件")
    record_event(
        context=audit_context(request),
        action=AuditAction.EXPORT,
        target=record,
        changes={"attachment": record.attachment_name},
    )
    return FileResponse(record.attachment.open("rb"), as_attachment=True, filename=record.attachment_name)


@login_required
def record_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if not role_allows(user, BehaviourRecord, Action.CHANGE):
        raise PermissionDenied("只有监管部门的业务人员可以认定信用记录")
    form = forms.RecordForm(request.POST or None, request.FILES or None, initial={"decided_on": timezone.localdate()})

    def save(f: forms.RecordForm) -> BehaviourRecord:
        organization = Organization.objects.filter(uscc=f.cleaned_data["uscc"]).first()
        if organization is None:
            raise ValidationError({"uscc": ValidationError("该企业未在企业库登记", code="unknown")})
        try:
            return actions.create_record(
                organization=organization,
                channel="form",
                actor=user,
                context=audit_context(request),
                **f.action_fields(),
            )
        except PermissionDenied as exc:
            raise ValidationError({"uscc": ValidationError("无权认定该企业的信用记录（不在本机构管辖范围）")}) from exc

    return form_page(
        request,
        form=form,
        title="认定信用行为记录",
        save=save,
        cancel_url=reverse("credit:record_list"),
        success="信用行为记录已认定，企业信用分已更新",
        submit_label="认定",
    )


@login_required
@require_POST
def record_revoke(request: HttpRequest, record_no: str) -> HttpResponse:
    user = acting_user(request)
    record = get_for(BehaviourRecord.objects.all(), user, Action.REVOKE, record_no=record_no)
    form = forms.RevokeForm(request.POST)
    if form.is_valid():
        try:
            actions.revoke_record(
                record=record, reason=form.cleaned_data["reason"], actor=user, context=audit_context(request)
            )
        except ValidationError as exc:
            add_action_errors(form, exc, "reason")
        else:
            messages.success(request, "记录已撤销，企业信用分已更新")
            return redirect(record.get_absolute_url())
    return record_detail(request, record_no, revoke_form=form, status=400)


@login_required
def my_credit(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if user.organization is None or user.organization.is_regulator:
        return redirect("credit:score_list")
    return redirect("credit:enterprise", uscc=user.organization.uscc)


@login_required
def enterprise_credit(request: HttpRequest, uscc: str) -> HttpResponse:
    """An enterprise's credit: score, rating, supervision frequency, each line of the score, history, records."""
    user = acting_user(request)
    if not role_allows(user, BehaviourRecord, Action.VIEW):
        raise PermissionDenied("无权查看信用信息")
    organization = get_for(Organization.objects.select_related("district"), user, Action.VIEW, uscc=uscc)
    records = restrict(BehaviourRecord.objects.filter(organization=organization), user, Action.VIEW)
    score = CreditScore.objects.filter(organization=organization).select_related("score_model").first()
    if score is None and organization.org_type == "enterprise":
        score = actions.refresh_score(organization, reason="首次计分")
    history = CreditScoreHistory.objects.filter(organization=organization)[:50]
    context = {
        "title": f"{organization.name} 信用档案",
        "organization": organization,
        "score": score,
        "interval": score.score_model.interval_for(score.rating) if score else None,
        "history": history,
        "records": records.order_by("-decided_on", "-id")[:200],
        "today": timezone.localdate(),
        "good": RecordKind.GOOD,
    }
    return render(request, "credit/enterprise.html", context)


@login_required
def score_model(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if not role_allows(user, ScoreModel, Action.VIEW):
        raise PermissionDenied("无权查看信用评分模型")
    current = actions.current_score_model()
    may_change = role_allows(user, ScoreModel, Action.CHANGE)
    form = None
    status = 200
    if may_change:
        form = forms.ScoreModelForm(request.POST or None, initial=current.settings_dict())
        if request.method == "POST" and form.is_valid():
            values = {name: form.cleaned_data[name] for name in ScoreModel.SETTINGS}
            try:
                new = actions.change_score_model(
                    values=values, reason=form.cleaned_data["reason"], actor=user, context=audit_context(request)
                )
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, f"评分模型第{new.version}版已生效，企业信用分已重新计算")
                return redirect("credit:score_model")
        if request.method == "POST":
            status = 400
    elif request.method == "POST":
        raise PermissionDenied("只有市住建委的监管业务人员可以修改信用评分模型")
    fields = [
        (str(getattr(ScoreModel._meta.get_field(name), "verbose_name", name)), getattr(current, name))
        for name in ScoreModel.SETTINGS
    ]
    context = {
        "title": "信用评分模型",
        "current": current,
        "fields": fields,
        "versions": ScoreModel.objects.all()[:50],
        "form": form,
    }
    return render(request, "credit/score_model.html", context, status=status)


@login_required
def partner_import(request: HttpRequest) -> HttpResponse:
    """处理处罚互认: upload a partner region's records (regulators' business staff)."""
    user = acting_user(request)
    if not role_allows(user, BehaviourRecord, Action.CHANGE):
        raise PermissionDenied("只有监管部门的业务人员可以导入互认记录")
    if request.GET.get("template") == "csv":
        response = HttpResponse(imports.template_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote('互认信用记录导入模板.csv')}"
        return response
    form = forms.PartnerUploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        report = imports.import_partner_records(
            source=form.cleaned_data["file"].read(), actor=user, context=audit_context(request)
        )
    context = {"title": "外地处理处罚互认记录导入", "form": form, "report": report, "columns": imports.COLUMNS}
    return render(request, "credit/import.html", context, status=400 if report and report.file_error else 200)
