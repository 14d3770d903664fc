"""Pages of backend monitoring (后台监控): alerts and their handling, the explanation of an enterprise, enforcement
cases, and the cross-check rules with their dated parameters.

Every read goes through the funnel; every change through monitoring.actions (the same code as the API).
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote, urlencode

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from jiancai.accounts.access import Action, can, get_for, restrict, role_allows
from jiancai.accounts.context import acting_user, audit_context
from jiancai.audit.actions import record_event
from jiancai.audit.models import AuditAction
from jiancai.ui.lists import EXPORT_ROW_LIMIT, Column, ScopedListView
from jiancai.ui.pages import add_action_errors, form_page
from jiancai.ui.spreadsheets import xlsx_response

from . import actions, filters, forms
from .engine import parameters_in_force
from .exports import EXPORT_COLUMNS, RELATED, export_rows, write_csv
from .models import Alert, AlertAttachment, AlertStatus, EnforcementCase, Rule, RuleParameter
from .rules import RULES
from .rules.base import fmt_param

# Evidence record kinds -> (URL name, how the record's id is passed).
RECORD_PAGES = {
    "supply": "filings:supply_detail",
    "purchase": "filings:purchase_detail",
    "test_report": "filings:test_report_detail",
    "tender": "filings:tender_detail",
    "ticket": "filings:ticket_detail",
    "project_event": "filings:project_event_detail",
    "project": "registry:project_detail",
    "enterprise": "registry:enterprise_detail",
    "product_filing": "materials:filing_detail",
    # XC15 (registered by the blacklist app; named here by URL only, monitoring does not import it)
    "blacklist_entry": "blacklist:entry_detail",
    "restriction": "blacklist:restriction_detail",
}
RECORD_KIND_LABELS = {
    "supply": "供应记录",
    "purchase": "采购记录",
    "test_report": "检测报告",
    "tender": "招投标结果",
    "ticket": "发货单",
    "project_event": "工程节点",
    "project": "工程项目",
    "enterprise": "企业",
    "product_filing": "产品供应备案",
    "contract": "合同",
    "blacklist_entry": "失信黑名单",
    "restriction": "限制措施",
}


def age_text(alert: Alert) -> str:
    end = alert.resolved_at or timezone.now()
    return f"{max((end - alert.raised_at).days, 0)} 天"


# ---------------------------------------------------------------- alert list


class AlertList(ScopedListView):
    model = Alert
    filterset_class = filters.AlertFilter
    title = "预警"
    template_name = "monitoring/list.html"
    related = RELATED
    columns = (
        Column("对象", "subject_label"),
        Column("规则", lambda a: f"{a.rule.code} {a.rule.title}"),
        Column("比对结果", "message"),
        Column("状态", "status"),
        Column("所在区", "district.name"),
        Column("项目编号", "project.project_code"),
        Column("首次预警", "raised_at"),
        Column("已持续", age_text),
    )

    def get(self, request: HttpRequest) -> HttpResponse:
        organization = getattr(request.user, "organization", None)
        self.title = "预警" if organization is None or organization.is_regulator else "我的预警"
        if request.GET.get("export") == "csv":
            return self.export_file(request, "csv")
        if request.GET.get("export") == "xlsx":
            return self.export_file(request, "xlsx")
        return super().get(request)

    def export_file(self, request: HttpRequest, fmt: str) -> HttpResponse:
        """The filtered list with the shared export columns (rule code, subject natural key, parameters, …)."""
        if not role_allows(request.user, Alert, Action.VIEW):
            raise PermissionDenied("无权查看预警")
        filterset = self.filterset_class(request.GET or None, queryset=self.get_queryset(), request=request)
        queryset = filterset.qs[:EXPORT_ROW_LIMIT]
        stamp = timezone.localtime().strftime("%Y%m%d%H%M")
        filename = f"预警_{stamp}.{fmt}"
        if fmt == "csv":
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            buffer = io.StringIO()
            count = write_csv(buffer, export_rows(queryset))
            response.write(buffer.getvalue())
        else:
            rows = list(export_rows(queryset))
            count = len(rows)
            response = xlsx_response(filename, "预警", [c.label for c in EXPORT_COLUMNS], rows)
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
        params = {k: v for k, v in request.GET.items() if k not in ("export", "page") and v}
        record_event(
            context=audit_context(request),
            action=AuditAction.EXPORT,
            target_type=Alert._meta.label_lower,
            target_repr=f"预警导出（{fmt.upper()}）",
            changes={"filters": params, "rows": count, "format": fmt},
        )
        return response


# ---------------------------------------------------------------- alert detail and handling


def record_link(record: dict[str, Any]) -> str | None:
    kind, key = record.get("kind"), record.get("id")
    if kind == "contract" and isinstance(key, str) and "/" in key:
        project_code, contract_no = key.split("/", 1)
        return reverse("filings:supply_list") + "?" + urlencode({"project": project_code, "q": contract_no})
    name = RECORD_PAGES.get(str(kind))
    if name is None or key in (None, ""):
        return None
    try:
        return reverse(name, args=[key])
    except NoReverseMatch:
        return None


def _alert_forms(alert: Alert, user: Any, data: Any = None, files: Any = None, verb: str = "") -> dict[str, Any]:
    """The action forms the user may use on this alert now (the one just posted bound to its data)."""
    work = actions.may_work(user, alert)
    explain = actions.may_explain(user, alert)
    available: dict[str, Any] = {}

    def bound(name: str) -> tuple[Any, Any]:
        return (data, files) if verb == name else (None, None)

    if work and actions.allowed(alert, "acknowledge"):
        available["acknowledge"] = forms.NoteForm(bound("acknowledge")[0], prefix="acknowledge")
    if work and actions.allowed(alert, "request_explanation"):
        available["request_explanation"] = forms.RequestExplanationForm(
            bound("request_explanation")[0], prefix="request_explanation"
        )
    if work and actions.allowed(alert, "dismiss"):
        available["dismiss"] = forms.DismissForm(bound("dismiss")[0], prefix="dismiss")
    if work and actions.allowed(alert, "escalate"):
        available["escalate"] = forms.EscalateForm(
            bound("escalate")[0], prefix="escalate", parties=actions.parties(alert)
        )
    if explain and actions.allowed(alert, "explain"):
        available["explain"] = forms.ExplainForm(*bound("explain"), prefix="explain")
    return available


def _alert_queryset() -> models.QuerySet[Alert]:
    return Alert.objects.select_related(
        "rule", "district", "project__builder", "project__supervisor", "supplier", "contractor", "laboratory"
    )


def _render_alert(request: HttpRequest, alert: Alert, action_forms: dict[str, Any], status: int = 200) -> HttpResponse:
    records = [
        {
            **r,
            "url": record_link(r),
            "kind_label": RECORD_KIND_LABELS.get(r.get("kind", ""), r.get("kind", "")),
            # A test report's deliveries of the same producer and batch (溯源).
            "trace_url": reverse("monitoring:trace", args=[r["id"]]) if r.get("kind") == "test_report" else "",
        }
        for r in (alert.evidence or {}).get("records", [])
    ]
    events = alert.events.prefetch_related("attachments").order_by("created_at", "id")
    case = EnforcementCase.objects.filter(alert=alert).first()
    context = {
        "title": f"预警 {alert.rule.code} {alert.subject_label}",
        "alert": alert,
        "records": records,
        "values": (alert.evidence or {}).get("values", {}),
        "key_items": list((alert.subject_key or {}).items()),
        "parameters": list((alert.parameters or {}).values()),
        "events": events,
        "parties": actions.parties(alert),
        "case": case if case is not None and can(request.user, Action.VIEW, case) else None,
        "forms": action_forms,
        "age": age_text(alert),
        "list_url": reverse("monitoring:alert_list"),
    }
    return render(request, "monitoring/alert_detail.html", context, status=status)


@login_required
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_for(_alert_queryset(), request.user, Action.VIEW, pk=pk)
    return _render_alert(request, alert, _alert_forms(alert, request.user))


VERB_MESSAGES = {
    "acknowledge": "已受理",
    "request_explanation": "已要求企业说明；预警涉及的企业将在平台上看到并答复",
    "explain": "说明已提交",
    "dismiss": "预警已排除",
    "escalate": "已立案",
}


@login_required
@require_POST
def alert_act(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    if verb not in VERB_MESSAGES:
        raise Http404("没有这项操作")
    user = acting_user(request)
    alert = get_for(_alert_queryset(), user, Action.VIEW, pk=pk)
    if verb == "explain":
        if not actions.may_explain(user, alert):
            raise PermissionDenied("只有预警涉及的企业可以说明")
    elif not actions.may_work(user, alert):
        raise PermissionDenied("无权处理该预警")
    action_forms = _alert_forms(alert, user, request.POST, request.FILES, verb)
    form = action_forms.get(verb)
    if form is None:
        label = actions.TRANSITIONS[verb][2]
        messages.error(request, f"预警当前状态为“{alert.get_status_display()}”，不能{label}")
        return redirect(alert.get_absolute_url())
    if form.is_valid():
        data, context = form.cleaned_data, audit_context(request)
        target: Any = alert
        try:
            if verb == "acknowledge":
                actions.acknowledge_alert(alert=alert, note=data["note"], actor=user, context=context)
            elif verb == "request_explanation":
                actions.request_explanation(
                    alert=alert, note=data["note"], deadline=data["deadline"], actor=user, context=context
                )
            elif verb == "explain":
                actions.explain_alert(
                    alert=alert, note=data["note"], files=data["attachments"], actor=user, context=context
                )
            elif verb == "dismiss":
                actions.dismiss_alert(alert=alert, reason=data["reason"], actor=user, context=context)
            else:
                target = actions.escalate_alert(
                    alert=alert,
                    respondent=form.chosen_respondent(),
                    grounds=data["grounds"],
                    actor=user,
                    context=context,
                )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, VERB_MESSAGES[verb])
            return redirect(target.get_absolute_url())
    return _render_alert(request, alert, action_forms, status=400)


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """An attachment, only to those who see its alert (never served as public media)."""
    alert = get_for(Alert.objects.all(), request.user, Action.VIEW, events__attachments__pk=pk)
    attachment = AlertAttachment.objects.select_related("event").get(pk=pk, event__alert=alert)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("附件文件不存在") from exc
    record_event(
        context=audit_context(request),
        action=AuditAction.EXPORT,
        target=alert,
        changes={"attachment": attachment.original_name, "sha256": attachment.sha256},
    )
    return FileResponse(handle, as_attachment=True, filename=attachment.original_name)


# ---------------------------------------------------------------- rules


def _current_values(rule: Rule) -> list[dict[str, Any]]:
    """Each parameter's value in force, from the prefetched rows (newest first) or the default."""
    logic = RULES.get(rule.code)
    if logic is None:
        return []
    now = timezone.now()
    rows: list[RuleParameter] = list(rule.parameter_values.all())  # prefetched, newest first
    out = []
    for p in logic.params:
        row = next((r for r in rows if r.name == p.name and r.effective_from <= now), None)
        out.append({"param": p, "value": fmt_param(row.value if row else p.default), "row": row})
    return out


def _values_text(rule: Rule) -> str:
    return "；".join(f"{v['param'].label} {v['value']}{v['param'].unit}" for v in _current_values(rule))


class RuleList(ScopedListView):
    model = Rule
    filterset_class = filters.RuleFilter
    title = "比对规则"
    columns = (
        Column("规则编号", "code"),
        Column("规则名称", "title"),
        Column("比对对象", "subject_kind"),
        Column("适用记录", "applies_to"),
        Column("现行参数", _values_text),
        Column("启用", "enabled"),
    )

    def get_queryset(self) -> models.QuerySet[Any]:
        ordered = RuleParameter.objects.order_by("-effective_from", "-id")
        return super().get_queryset().prefetch_related(Prefetch("parameter_values", queryset=ordered))


@login_required
def rule_detail(request: HttpRequest, code: str) -> HttpResponse:
    rule = get_for(Rule.objects.all(), request.user, Action.VIEW, code=code)
    logic = RULES.get(rule.code)
    in_force = parameters_in_force(rule, logic) if logic else {}
    history = list(rule.parameter_values.order_by("-effective_from", "-id"))
    for row in history:
        row.value_text = fmt_param(row.value)  # type: ignore[attr-defined]
    params = [
        {
            "param": p,
            "value": fmt_param(in_force.get(p.name, p.default)),
            "history": [r for r in history if r.name == p.name],
        }
        for p in (logic.params if logic else ())
    ]
    counts = dict(
        restrict(Alert.objects.filter(rule=rule), request.user, Action.VIEW)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    context = {
        "title": f"{rule.code} {rule.title}",
        "rule": rule,
        "params": params,
        "counts": [(label, counts.get(value, 0), value) for value, label in AlertStatus.choices],
        "can_edit": can(request.user, Action.CHANGE, rule),
        "toggle_form": forms.RuleToggleForm(),
        "list_url": reverse("monitoring:rule_list"),
    }
    return render(request, "monitoring/rule_detail.html", context)


@login_required
def parameter_change(request: HttpRequest, code: str, name: str) -> HttpResponse:
    user = acting_user(request)
    rule = get_for(Rule.objects.all(), user, Action.CHANGE, code=code)
    try:
        param = actions.rule_param(rule, name)
    except ValidationError as exc:
        raise Http404("没有这个参数") from exc
    current = parameters_in_force(rule, RULES[rule.code])[name]
    help_text = f"现行取值 {fmt_param(current)}{param.unit}；默认 {fmt_param(param.default)}{param.unit}。{param.help}"
    form = forms.ParameterForm(request.POST or None, label=param.label, unit=param.unit, help_text=help_text)

    def save(f: django_forms.Form) -> models.Model:
        actions.change_parameter(
            rule=rule,
            name=name,
            value=f.cleaned_data["value"],
            reason=f.cleaned_data["reason"],
            actor=user,
            context=audit_context(request),
        )
        return rule

    return form_page(
        request,
        form=form,
        title=f"修改 {rule.code} {rule.title} 的参数：{param.label}",
        save=save,
        cancel_url=rule.get_absolute_url(),
        success="参数已修改，自即时起生效；该规则正在按新取值重新比对",
        submit_label="确认修改",
    )


@login_required
@require_POST
def rule_toggle(request: HttpRequest, code: str) -> HttpResponse:
    user = acting_user(request)
    rule = get_for(Rule.objects.all(), user, Action.CHANGE, code=code)
    form = forms.RuleToggleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "原因：请填写启用或停用的原因")
        return redirect(rule.get_absolute_url())
    try:
        actions.set_rule_enabled(
            rule=rule,
            enabled=not rule.enabled,
            reason=form.cleaned_data["reason"],
            actor=user,
            context=audit_context(request),
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "规则已停用" if rule.enabled else "规则已启用，正在重新比对")
    return redirect(rule.get_absolute_url())


# ---------------------------------------------------------------- enforcement cases


class CaseList(ScopedListView):
    model = EnforcementCase
    filterset_class = filters.CaseFilter
    title = "立案查处"
    related = ("respondent", "district", "alert__rule")
    columns = (
        Column("案件编号", "case_no"),
        Column("当事企业", "respondent.name"),
        Column("统一社会信用代码", "respondent.uscc"),
        Column("规则", lambda c: f"{c.alert.rule.code} {c.alert.rule.title}"),
        Column("对象", "alert.subject_label"),
        Column("所在区", "district.name"),
        Column("立案时间", "opened_at"),
        Column("办理状态", lambda c: "办理中" if c.is_open else "已结案"),
        Column("处理结果", lambda c: c.get_outcome_display() if c.outcome else ""),
    )


@login_required
def case_detail(request: HttpRequest, case_no: str, close_form: Any = None, status: int = 200) -> HttpResponse:
    case = get_for(
        EnforcementCase.objects.select_related("respondent", "district", "alert__rule"),
        request.user,
        Action.VIEW,
        case_no=case_no,
    )
    may_close = case.is_open and can(request.user, Action.VERIFY, case)
    context = {
        "title": f"案件 {case.case_no}",
        "case": case,
        "alert_visible": can(request.user, Action.VIEW, case.alert),
        "close_form": (close_form or forms.CloseCaseForm()) if may_close else None,
        "list_url": reverse("monitoring:case_list"),
    }
    return render(request, "monitoring/case_detail.html", context, status=status)


@login_required
@require_POST
def case_close(request: HttpRequest, case_no: str) -> HttpResponse:
    user = acting_user(request)
    case = get_for(EnforcementCase.objects.all(), user, Action.VERIFY, case_no=case_no)
    if not case.is_open:
        messages.error(request, "该案件已结案")
        return redirect(case.get_absolute_url())
    form = forms.CloseCaseForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.close_case(
                case=case,
                outcome=data["outcome"],
                finding=data["finding"],
                penalty=data["penalty"],
                legal_basis=data["legal_basis"],
                actor=user,
                context=audit_context(request),
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "已结案")
            return redirect(case.get_absolute_url())
    return case_detail(request, case_no, close_form=form, status=400)
