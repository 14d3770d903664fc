"""Every change a person makes in backend monitoring: working an alert, the enterprise's explanation, enforcement
cases, rule parameters.

Each function checks permission through the funnel (regulators need `Action.VERIFY` on the alert, in their district;
an enterprise needs `Action.CHANGE`, which only the alert's parties have), allows only the status transitions of
`TRANSITIONS`, writes an `AlertEvent` and its audit row in one transaction. The web pages and the API call these and
nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from jiancai.accounts.access import Action, can, role_allows
from jiancai.accounts.models import Organization, User
from jiancai.audit.actions import AuditContext, record_event
from jiancai.audit.models import AuditAction

from .dispatch import request_full_evaluation
from .engine import parameters_in_force
from .models import (
    ACTIVE_STATUSES,
    Alert,
    AlertAttachment,
    AlertEvent,
    AlertEventKind,
    AlertStatus,
    CaseOutcome,
    EnforcementCase,
    Rule,
    RuleParameter,
)
from .rules import RULES
from .rules.base import Param, fmt_param

S = AlertStatus
# verb -> (statuses it applies to, status after, Chinese verb for refusals)
TRANSITIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "acknowledge": (frozenset({S.OPEN}), S.ACKNOWLEDGED, "受理"),
    "request_explanation": (
        frozenset({S.OPEN, S.ACKNOWLEDGED, S.EXPLAINED}),
        S.EXPLANATION_REQUESTED,
        "要求企业说明",
    ),
    "explain": (frozenset(ACTIVE_STATUSES), S.EXPLAINED, "说明"),
    "dismiss": (frozenset(ACTIVE_STATUSES), S.DISMISSED, "排除"),
    "escalate": (frozenset(ACTIVE_STATUSES), S.ESCALATED, "立案"),
}

ATTACHMENT_TYPES = {
    ".pdf": "PDF",
    ".jpg": "JPG",
    ".jpeg": "JPG",
    ".png": "PNG",
    ".xlsx": "XLSX",
    ".docx": "DOCX",
}
MAX_ATTACHMENTS = 10
ALLOWED_TYPES_TEXT = "PDF、JPG、PNG、XLSX、DOCX"


def allowed(alert: Alert, verb: str) -> bool:
    return alert.status in TRANSITIONS[verb][0]


def parties(alert: Alert) -> list[Organization]:
    """The enterprises concerned: supplier, contractor, laboratory, and the project's builder and supervisor."""
    found: list[Organization] = []
    candidates = [alert.supplier, alert.contractor, alert.laboratory]
    if alert.project is not None:
        candidates += [alert.project.builder, alert.project.supervisor]
    for org in candidates:
        if org is not None and org not in found:
            found.append(org)
    return found


def may_work(user: Any, alert: Alert) -> bool:
    """A regulator's business staff of the alert's district (or the city)."""
    return can(user, Action.VERIFY, alert)


def may_explain(user: Any, alert: Alert) -> bool:
    """An enterprise user of one of the alert's parties."""
    organization = getattr(user, "organization", None)
    return organization is not None and not organization.is_regulator and can(user, Action.CHANGE, alert)


# ---------------------------------------------------------------------------------------------- the alert flow


def _actor_name(actor: User) -> str:
    return actor.display_name or actor.username


def _lock(alert: Alert, actor: User, action: str, verb: str) -> Alert:
    """The alert row, locked, after the permission and transition checks."""
    if not role_allows(actor, Alert, action):
        raise PermissionDenied("无权处理该预警")
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if not can(actor, action, locked):
        raise PermissionDenied("无权处理该预警")
    if action == Action.CHANGE and (actor.organization is None or actor.organization.is_regulator):
        raise PermissionDenied("无权处理该预警")
    statuses, _, label = TRANSITIONS[verb]
    if locked.status not in statuses:
        raise ValidationError(f"预警当前状态为“{locked.get_status_display()}”，不能{label}", code="invalid_transition")
    return locked


def _move(
    alert: Alert,
    *,
    verb: str,
    kind: str,
    audit: str,
    actor: User,
    context: AuditContext,
    note: str,
    changes: dict[str, Any] | None = None,
) -> AlertEvent:
    """Set the status of the locked alert, write its event and the audit row."""
    before = alert.get_status_display()
    alert.status = TRANSITIONS[verb][1]
    fields = ["status", "updated_at"]
    if alert.status in (S.DISMISSED, S.CLOSED):
        alert.resolved_at = timezone.now()
        fields.append("resolved_at")
    alert.save(update_fields=fields)
    event = AlertEvent.objects.create(
        alert=alert,
        kind=kind,
        status_after=alert.status,
        actor=actor,
        actor_name=_actor_name(actor),
        organization_name=actor.organization.name if actor.organization else "",
        note=note,
        message=alert.message,
        parameters=alert.parameters,
    )
    record_event(
        context=context,
        action=audit,
        target=alert,
        changes={"status": [before, alert.get_status_display()], **(changes or {})},
        reason=note,
    )
    return event


def acknowledge_alert(*, alert: Alert, actor: User, context: AuditContext, note: str = "") -> Alert:
    """受理: the regulator has seen the alert and works it."""
    with transaction.atomic():
        locked = _lock(alert, actor, Action.VERIFY, "acknowledge")
        _move(
            locked,
            verb="acknowledge",
            kind=AlertEventKind.ACKNOWLEDGED,
            audit=AuditAction.ALERT_ACKNOWLEDGE,
            actor=actor,
            context=context,
            note=note.strip(),
        )
    return locked


def request_explanation(
    *, alert: Alert, note: str, actor: User, context: AuditContext, deadline: dt.date | None = None
) -> Alert:
    """要求企业说明: the parties answer in the platform (`explain_alert`)."""
    errors: dict[str, ValidationError] = {}
    if not (note or "").strip():
        errors["note"] = ValidationError("请填写需要企业说明的事项", code="required")
    if deadline is not None and deadline < timezone.localdate():
        errors["deadline"] = ValidationError("说明期限不能早于今天", code="past")
    if errors:
        raise ValidationError(errors)
    text = note.strip() + (f"（请于 {deadline:%Y-%m-%d} 前说明）" if deadline else "")
    with transaction.atomic():
        locked = _lock(alert, actor, Action.VERIFY, "request_explanation")
        _move(
            locked,
            verb="request_explanation",
            kind=AlertEventKind.EXPLANATION_REQUESTED,
            audit=AuditAction.ALERT_REQUEST_EXPLANATION,
            actor=actor,
            context=context,
            note=text,
            changes={"deadline": deadline.isoformat() if deadline else ""},
        )
    return locked


def _checked_files(files: Sequence[UploadedFile]) -> list[tuple[UploadedFile, str, str]]:
    """(file, extension, sha256) of each attachment, or a ValidationError on `attachments` naming each bad file."""
    problems: list[ValidationError] = []
    checked: list[tuple[UploadedFile, str, str]] = []
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationError(
            {"attachments": ValidationError(f"附件最多 {MAX_ATTACHMENTS} 个，本次 {len(files)} 个", code="too_many")}
        )
    limit = settings.ATTACHMENT_MAX_BYTES
    for f in files:
        name = os.path.basename(f.name or "")
        ext = os.path.splitext(name)[1].lower()
        if ext not in ATTACHMENT_TYPES:
            problems.append(
                ValidationError(f"附件“{name}”的类型不允许，只接受 {ALLOWED_TYPES_TEXT} 文件", code="file_type")
            )
            continue
        if f.size is None or f.size > limit:
            problems.append(
                ValidationError(
                    f"附件“{name}”超过大小上限 {limit / 1024 / 1024:.0f} MB（{(f.size or 0) / 1024 / 1024:.1f} MB）",
                    code="file_size",
                )
            )
            continue
        if f.size == 0:
            problems.append(ValidationError(f"附件“{name}”是空文件", code="file_empty"))
            continue
        digest = hashlib.sha256()
        head = b""
        for chunk in f.chunks():
            if not head:
                head = chunk[:8]
            digest.update(chunk)
        f.seek(0)
        if not _content_matches(ext, head):
            problems.append(
                ValidationError(
                    f"附件“{name}”的内容与扩展名 {ext} 不符，请上传真实的 {ATTACHMENT_TYPES[ext]} 文件",
                    code="file_content",
                )
            )
            continue
        checked.append((f, ext, digest.hexdigest()))
    if problems:
        raise ValidationError({"attachments": problems})
    return checked


def _content_matches(ext: str, head: bytes) -> bool:
    """The file's first bytes fit its extension (a renamed executable is not a PDF)."""
    if ext == ".pdf":
        return head.startswith(b"%PDF")
    if ext in (".jpg", ".jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if ext == ".png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    return head.startswith(b"PK\x03\x04")  # xlsx, docx: zip containers


def explain_alert(
    *, alert: Alert, note: str, actor: User, context: AuditContext, files: Sequence[UploadedFile] = ()
) -> AlertEvent:
    """企业说明: a party's answer, with attachments (stored under MEDIA_ROOT, served only through the funnel)."""
    errors: dict[str, Any] = {}
    if not (note or "").strip():
        errors["note"] = ValidationError("请填写说明内容", code="required")
    try:
        checked = _checked_files(list(files))
    except ValidationError as exc:
        errors.update(exc.error_dict)
        checked = []
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _lock(alert, actor, Action.CHANGE, "explain")
        event = _move(
            locked,
            verb="explain",
            kind=AlertEventKind.EXPLAINED,
            audit=AuditAction.ALERT_EXPLAIN,
            actor=actor,
            context=context,
            note=note.strip(),
            changes={"attachments": [{"name": os.path.basename(f.name or ""), "sha256": h} for f, _, h in checked]},
        )
        for f, ext, digest in checked:
            attachment = AlertAttachment(
                event=event, original_name=os.path.basename(f.name or "")[:255], size=f.size or 0, sha256=digest
            )
            attachment.file.save(f"{digest[:16]}{ext}", f, save=False)
            attachment.save()
    return event


def dismiss_alert(*, alert: Alert, reason: str, actor: User, context: AuditContext) -> Alert:
    """排除: the regulator finds no violation; the reason is required and kept."""
    if not (reason or "").strip():
        raise ValidationError({"reason": ValidationError("请填写排除理由", code="required")})
    with transaction.atomic():
        locked = _lock(alert, actor, Action.VERIFY, "dismiss")
        _move(
            locked,
            verb="dismiss",
            kind=AlertEventKind.DISMISSED,
            audit=AuditAction.ALERT_DISMISS,
            actor=actor,
            context=context,
            note=reason.strip(),
        )
    return locked


def _next_case_no(year: int) -> str:
    prefix = f"JC-{year}-"
    cases = EnforcementCase.objects.filter(case_no__startswith=prefix)
    last = cases.order_by("-case_no").values_list("case_no", flat=True).first()
    number = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{number:06d}"


def _open_case(**fields: Any) -> EnforcementCase:
    """The case with the next free number of the year. Two escalations at the same moment may pick the same
    number: the unique constraint refuses the second, which takes the next one (in its own savepoint)."""
    year = timezone.localdate().year
    for attempt in range(5):
        try:
            with transaction.atomic():
                return EnforcementCase.objects.create(case_no=_next_case_no(year), **fields)
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def escalate_alert(
    *, alert: Alert, respondent: Organization | None, grounds: str, actor: User, context: AuditContext
) -> EnforcementCase:
    """立案查处: the alert becomes an enforcement case against one of its parties."""
    errors: dict[str, ValidationError] = {}
    if not (grounds or "").strip():
        errors["grounds"] = ValidationError("请填写立案理由", code="required")
    if respondent is None:
        errors["respondent"] = ValidationError("请选择当事企业", code="required")
    elif respondent not in parties(alert):
        errors["respondent"] = ValidationError("当事企业须为该预警涉及的企业之一", code="not_a_party")
    if errors:
        raise ValidationError(errors)
    assert respondent is not None  # noqa: S101  (checked above)
    with transaction.atomic():
        locked = _lock(alert, actor, Action.VERIFY, "escalate")
        if EnforcementCase.objects.filter(alert=locked).exists():
            raise ValidationError("该预警已立案", code="already_escalated")
        case = _open_case(
            alert=locked,
            respondent=respondent,
            district=locked.district,
            opened_by=actor,
            opened_by_name=_actor_name(actor),
            grounds=grounds.strip(),
        )
        _move(
            locked,
            verb="escalate",
            kind=AlertEventKind.ESCALATED,
            audit=AuditAction.ALERT_ESCALATE,
            actor=actor,
            context=context,
            note=f"案件 {case.case_no}，当事企业 {respondent.name}：{grounds.strip()}",
            changes={"case_no": case.case_no, "respondent": respondent.name},
        )
    return case


def close_case(
    *,
    case: EnforcementCase,
    outcome: str,
    finding: str,
    actor: User,
    context: AuditContext,
    penalty: str = "",
    legal_basis: str = "",
) -> EnforcementCase:
    """结案: the outcome (属实 / 不属实), the finding, and for a confirmed case the penalty and its legal basis.
    The alert is closed with it. A confirmed outcome is what the credit records will be built from."""
    errors: dict[str, ValidationError] = {}
    if outcome not in (CaseOutcome.CONFIRMED, CaseOutcome.NOT_CONFIRMED):
        errors["outcome"] = ValidationError("请选择处理结果", code="required")
    if not (finding or "").strip():
        errors["finding"] = ValidationError("请填写查处结论", code="required")
    if outcome == CaseOutcome.CONFIRMED and not (legal_basis or "").strip():
        errors["legal_basis"] = ValidationError("违法违规属实时须填写法律依据", code="required")
    if errors:
        raise ValidationError(errors)
    if not role_allows(actor, EnforcementCase, Action.VERIFY):
        raise PermissionDenied("无权办理该案件")
    with transaction.atomic():
        locked = EnforcementCase.objects.select_for_update().get(pk=case.pk)
        if not can(actor, Action.VERIFY, locked):
            raise PermissionDenied("无权办理该案件")
        if locked.closed_at is not None:
            raise ValidationError("该案件已结案", code="already_closed")
        now = timezone.now()
        locked.outcome, locked.finding = outcome, finding.strip()
        locked.penalty, locked.legal_basis = (penalty or "").strip(), (legal_basis or "").strip()[:200]
        locked.closed_at, locked.closed_by_name = now, _actor_name(actor)
        locked.save(update_fields=["outcome", "finding", "penalty", "legal_basis", "closed_at", "closed_by_name"])
        alert = Alert.objects.select_for_update().get(pk=locked.alert_id)
        before = alert.get_status_display()
        alert.status, alert.resolved_at = S.CLOSED, now
        alert.save(update_fields=["status", "resolved_at", "updated_at"])
        note = f"案件 {locked.case_no} 结案：{locked.get_outcome_display()}。{locked.finding}"
        if locked.penalty:
            note += f" 处理处罚：{locked.penalty}"
        AlertEvent.objects.create(
            alert=alert,
            kind=AlertEventKind.CASE_CLOSED,
            status_after=alert.status,
            actor=actor,
            actor_name=_actor_name(actor),
            organization_name=actor.organization.name if actor.organization else "",
            note=note,
            message=alert.message,
            parameters=alert.parameters,
        )
        record_event(
            context=context,
            action=AuditAction.CASE_CLOSE,
            target=locked,
            changes={
                "outcome": locked.get_outcome_display(),
                "finding": locked.finding,
                "penalty": locked.penalty,
                "legal_basis": locked.legal_basis,
                "alert_status": [before, alert.get_status_display()],
            },
        )
    return locked


# ---------------------------------------------------------------------------------------------- rules


def rule_param(rule: Rule, name: str) -> Param:
    logic = RULES.get(rule.code)
    param = next((p for p in logic.params if p.name == name), None) if logic else None
    if param is None:
        raise ValidationError({"name": ValidationError(f"规则 {rule.code} 没有参数“{name}”", code="unknown_parameter")})
    return param


def change_parameter(
    *, rule: Rule, name: str, value: Decimal | str, reason: str, actor: User, context: AuditContext
) -> RuleParameter:
    """A new value of a rule parameter, in force from now on (a new dated row; earlier values stay). After commit
    the rule is evaluated again in full, so its alerts carry the new value."""
    if not role_allows(actor, Rule, Action.CHANGE):
        raise PermissionDenied("只有市住建委的监管业务人员可以修改规则参数")
    param = rule_param(rule, name)
    errors: dict[str, ValidationError] = {}
    try:
        number = Decimal(str(value).strip())
        if not number.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["value"] = ValidationError(f"{param.label}应为数字", code="invalid")
    else:
        number = number.quantize(Decimal("0.0001"))
        problem = param.check(number) or (f"{param.label}过大" if abs(number) >= Decimal(10) ** 10 else None)
        if problem:
            errors["value"] = ValidationError(problem, code="out_of_range")
    if not (reason or "").strip():
        errors["reason"] = ValidationError("请填写修改原因", code="required")
    if errors:
        raise ValidationError(errors)
    logic = RULES[rule.code]
    with transaction.atomic():
        locked = Rule.objects.select_for_update().get(pk=rule.pk)
        if not can(actor, Action.CHANGE, locked):
            raise PermissionDenied("只有市住建委的监管业务人员可以修改规则参数")
        current = parameters_in_force(locked, logic)[name]
        if current == number:
            raise ValidationError(
                {"value": ValidationError(f"新取值与现行取值（{fmt_param(current)}）相同", code="unchanged")}
            )
        row = RuleParameter.objects.create(
            rule=locked,
            name=name,
            value=number,
            effective_from=timezone.now(),
            changed_by=actor,
            changed_by_name=_actor_name(actor),
            reason=reason.strip(),
        )
        record_event(
            context=context,
            action=AuditAction.RULE_PARAMETER,
            target=locked,
            changes={
                "parameter": name,
                param.label: [fmt_param(current), fmt_param(number)],
                "unit": param.unit,
                "effective_from": row.effective_from.isoformat(),
            },
            reason=reason.strip(),
        )
        code = locked.code
        transaction.on_commit(lambda: request_full_evaluation([code]))
    return row


def set_rule_enabled(*, rule: Rule, enabled: bool, reason: str, actor: User, context: AuditContext) -> Rule:
    """启用/停用 a rule. A disabled rule raises and resolves nothing; its standing alerts stay as they are.
    Enabling it runs it in full after commit."""
    if not role_allows(actor, Rule, Action.CHANGE):
        raise PermissionDenied("只有市住建委的监管业务人员可以启用或停用规则")
    if not (reason or "").strip():
        raise ValidationError({"reason": ValidationError("请填写原因", code="required")})
    with transaction.atomic():
        locked = Rule.objects.select_for_update().get(pk=rule.pk)
        if not can(actor, Action.CHANGE, locked):
            raise PermissionDenied("只有市住建委的监管业务人员可以启用或停用规则")
        if locked.enabled == enabled:
            raise ValidationError(f"规则已{'启用' if enabled else '停用'}", code="unchanged")
        locked.enabled = enabled
        locked.save(update_fields=["enabled"])
        record_event(
            context=context,
            action=AuditAction.RULE_ENABLE,
            target=locked,
            changes={"enabled": [not enabled, enabled]},
            reason=reason.strip(),
        )
        if enabled:
            code = locked.code
            transaction.on_commit(lambda: request_full_evaluation([code]))
    return locked
