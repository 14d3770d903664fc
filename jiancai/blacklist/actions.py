"""Every change to the blacklist, restrictions and credit repair. Each function validates, checks the actor's right,
writes, and records its audit row in the same transaction; after commit it asks monitoring to re-check the
enterprise's filings (XC15), so alerts appear and resolve within seconds.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from jiancai.accounts.access import Action, role_allows
from jiancai.accounts.models import District, Organization, User
from jiancai.accounts.roles import OrgType
from jiancai.audit.actions import SYSTEM, AuditContext, record_event, snapshot
from jiancai.audit.models import AuditAction
from jiancai.credit.actions import create_record, note_credit_change, refresh_score
from jiancai.credit.models import (
    BehaviourRecord,
    ChangeKind,
    RecordChannel,
    RecordKind,
    RecordSource,
    RecordStatus,
    Severity,
)
from jiancai.filings.models import FilingStatus, Purchase, Supply, Ticket
from jiancai.monitoring.actions import _checked_files
from jiancai.monitoring.dispatch import request_evaluation
from jiancai.monitoring.models import EarlyWarning, WarningKind, WarningTopic
from jiancai.monitoring.rules.base import Scope

from .models import (
    PUBLIC_YEARS,
    BlacklistEntry,
    EntryStatus,
    ExitReason,
    LiftReason,
    RepairApplication,
    RepairAttachment,
    RepairStatus,
    Restriction,
    RestrictionKind,
    add_months,
    add_years,
)

MAX_PERIOD_MONTHS = 60
NOTIFY_LOOKBACK_DAYS = 365


# ---------------------------------------------------------------------------------------------- plumbing


def _recheck(*organizations: int) -> None:
    """After commit: re-evaluate XC15 (and every rule watching enterprise data) for these enterprises."""
    orgs = {o for o in organizations if o}
    transaction.on_commit(lambda: request_evaluation(Scope(organizations=orgs)))


def _require_regulator(actor: User, model: type[Any], *, city: bool, doing: str) -> None:
    if not role_allows(actor, model, Action.VERIFY) or actor.organization is None:
        raise PermissionDenied(f"无权{doing}")
    if city and actor.organization.org_type != OrgType.CITY_REGULATOR:
        raise PermissionDenied(f"{doing}由市住房城乡建设委员会业务人员决定")


def _create_numbered(model: type[Any], field: str, prefix: str, **fields: Any) -> Any:
    """Create a row with the next free public number of the year (HMD-2026-0001). Two at the same moment may pick the
    same number: the unique constraint refuses the second, which takes the next one in its own savepoint."""
    year = timezone.localdate().year
    for attempt in range(5):
        try:
            with transaction.atomic():
                return model.objects.create(**{field: _next_no(model, field, prefix, year)}, **fields)
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _next_no(model: type[Any], field: str, prefix: str, year: int) -> str:
    stem = f"{prefix}-{year}-"
    last = model.objects.filter(**{f"{field}__startswith": stem}).aggregate(m=Max(field))["m"]
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{number:04d}"


def _required(errors: dict[str, ValidationError], field: str, value: str, label: str) -> str:
    text = (value or "").strip()
    if not text:
        errors[field] = ValidationError(f"请填写{label}", code="required")
    return text


def _today() -> dt.date:
    return timezone.localdate()


# ---------------------------------------------------------------------------------------------- blacklist


def propose_entry(
    *,
    enterprise: Organization,
    grounds: str,
    legal_basis: str,
    evidence: str,
    period_months: int,
    actor: User,
    context: AuditContext,
) -> BlacklistEntry:
    """提出列入: a regulator's business staff (city, or the enterprise's district) proposes the entry."""
    _require_regulator(actor, BlacklistEntry, city=False, doing="提出列入失信黑名单")
    errors: dict[str, ValidationError] = {}
    if enterprise.org_type != OrgType.ENTERPRISE:
        errors["enterprise"] = ValidationError("只能将企业列入失信黑名单", code="not_enterprise")
    elif not Organization.objects.visible_to(actor).filter(pk=enterprise.pk).exists():
        errors["enterprise"] = ValidationError("该企业不在本单位监管范围内", code="out_of_district")
    grounds = _required(errors, "grounds", grounds, "列入事由")
    legal_basis = _required(errors, "legal_basis", legal_basis, "法律政策依据")
    evidence = _required(errors, "evidence", evidence, "证据材料")
    if not 1 <= int(period_months or 0) <= MAX_PERIOD_MONTHS:
        errors["period_months"] = ValidationError(f"列入期限应为 1 至 {MAX_PERIOD_MONTHS} 个月", code="period_range")
    if (
        "enterprise" not in errors
        and BlacklistEntry.objects.filter(
            enterprise=enterprise, status__in=(EntryStatus.PROPOSED, EntryStatus.PUBLISHED)
        ).exists()
    ):
        errors["enterprise"] = ValidationError("该企业已在黑名单中或已有待审批的列入申请", code="duplicate")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    org = actor.organization
    if org is None:
        raise PermissionDenied("无权提出列入失信黑名单")
    with transaction.atomic():
        entry: BlacklistEntry = _create_numbered(
            BlacklistEntry,
            "entry_no",
            "HMD",
            enterprise=enterprise,
            grounds=grounds,
            legal_basis=legal_basis,
            evidence=evidence,
            period_months=int(period_months),
            proposer=actor,
            proposer_name=actor.display_name or actor.username,
            proposer_org_name=org.name,
            proposed_at=now,
        )
        record_event(context=context, action=AuditAction.BLACKLIST_PROPOSE, target=entry, changes=snapshot(entry))
    return entry


def _lock_entry(entry: BlacklistEntry) -> BlacklistEntry:
    return BlacklistEntry.objects.select_for_update().select_related("enterprise").get(pk=entry.pk)


def _decide_checks(entry: BlacklistEntry, actor: User, doing: str) -> None:
    _require_regulator(actor, BlacklistEntry, city=True, doing=doing)
    if entry.proposer_id == actor.pk:
        raise ValidationError("提出人不能审批自己提出的列入申请（须由另一名监管人员审批）", code="two_person_rule")
    if entry.status != EntryStatus.PROPOSED:
        raise ValidationError(f"该名单当前状态为“{entry.get_status_display()}”，不能再审批", code="not_proposed")


def approve_entry(
    *, entry: BlacklistEntry, note: str, actor: User, context: AuditContext, published_on: dt.date | None = None
) -> BlacklistEntry:
    """批准并公布: another regulator than the proposer approves; the entry is published from `published_on` (today)
    for its period."""
    with transaction.atomic():
        locked = _lock_entry(entry)
        _decide_checks(locked, actor, "审批列入失信黑名单")
        start = published_on or _today()
        locked.status = EntryStatus.PUBLISHED
        locked.approver = actor
        locked.approver_name = actor.display_name or actor.username
        locked.decided_at = timezone.now()
        locked.decision_note = (note or "").strip()
        locked.published_on = start
        locked.ends_on = add_months(start, locked.period_months) - dt.timedelta(days=1)
        fields = ["status", "approver", "approver_name", "decided_at", "decision_note", "published_on", "ends_on"]
        locked.save(update_fields=fields)
        record_event(
            context=context,
            action=AuditAction.BLACKLIST_APPROVE,
            target=locked,
            changes=snapshot(locked, fields),
            reason=locked.decision_note,
        )
        _note_credit(locked.enterprise, ChangeKind.BLACKLIST, _entry_summary(locked))
        locked.behaviour_record = _bad_record(locked, context)
        locked.save(update_fields=["behaviour_record"])
        _recheck(locked.enterprise_id)
    return locked


def reject_entry(*, entry: BlacklistEntry, reason: str, actor: User, context: AuditContext) -> BlacklistEntry:
    """不予列入: another regulator than the proposer rejects, with a reason."""
    if not (reason or "").strip():
        raise ValidationError({"note": ValidationError("请填写不予列入的理由", code="required")})
    with transaction.atomic():
        locked = _lock_entry(entry)
        _decide_checks(locked, actor, "审批列入失信黑名单")
        locked.status = EntryStatus.REJECTED
        locked.approver = actor
        locked.approver_name = actor.display_name or actor.username
        locked.decided_at = timezone.now()
        locked.decision_note = reason.strip()
        fields = ["status", "approver", "approver_name", "decided_at", "decision_note"]
        locked.save(update_fields=fields)
        record_event(
            context=context,
            action=AuditAction.BLACKLIST_REJECT,
            target=locked,
            changes=snapshot(locked, fields),
            reason=locked.decision_note,
        )
    return locked


def _exit_entry(
    entry: BlacklistEntry, *, on: dt.date, reason: ExitReason, context: AuditContext, note: str = ""
) -> list[Restriction]:
    """Move a locked, published entry out (on `on`), lift its restrictions still running; returns those lifted."""
    entry.status = EntryStatus.EXITED
    entry.exited_on = on
    entry.exit_reason = reason
    entry.public_until = add_years(on, PUBLIC_YEARS)
    fields = ["status", "exited_on", "exit_reason", "public_until"]
    entry.save(update_fields=fields)
    record_event(
        context=context, action=AuditAction.BLACKLIST_EXIT, target=entry, changes=snapshot(entry, fields), reason=note
    )
    lifted = []
    lift = LiftReason.REPAIR if reason == ExitReason.REPAIR else LiftReason.PERIOD_END
    for r in entry.restrictions.select_for_update().filter(lifted_on__isnull=True, ends_on__gte=on):
        _lift(r, on=max(on, r.starts_on), reason=lift, context=context, note=note)
        _note_credit(entry.enterprise, ChangeKind.RESTRICTION, _restriction_summary(r))
        lifted.append(r)
    _note_credit(entry.enterprise, ChangeKind.BLACKLIST, _entry_summary(entry))
    _keep_bad_record(entry, context)
    _recheck(entry.enterprise_id)
    return lifted


# ---------------------------------------------------------------------------------------------- restrictions


def impose_restriction(
    *,
    enterprise: Organization,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    basis: str,
    actor: User,
    context: AuditContext,
    entry: BlacklistEntry | None = None,
    district: District | None = None,
) -> Restriction:
    """采取限制措施 (city regulator): for an enterprise, optionally as a consequence of its published entry."""
    _require_regulator(actor, Restriction, city=True, doing="采取限制措施")
    errors: dict[str, ValidationError] = {}
    if kind not in RestrictionKind.values:
        errors["kind"] = ValidationError("请选择限制措施", code="invalid_choice")
    if enterprise.org_type != OrgType.ENTERPRISE:
        errors["enterprise"] = ValidationError("只能对企业采取限制措施", code="not_enterprise")
    if entry is not None:
        if entry.enterprise_id != enterprise.pk:
            errors["entry"] = ValidationError("黑名单与受限企业不一致", code="entry_mismatch")
        elif entry.status != EntryStatus.PUBLISHED:
            errors["entry"] = ValidationError("只能对已公布的黑名单采取限制措施", code="entry_not_published")
    if starts_on is None:
        errors["starts_on"] = ValidationError("请填写开始日期", code="required")
    if ends_on is None:
        errors["ends_on"] = ValidationError("请填写结束日期", code="required")
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = ValidationError("结束日期不能早于开始日期", code="ends_before_start")
    basis = _required(errors, "basis", basis, "依据")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        restriction: Restriction = _create_numbered(
            Restriction,
            "restriction_no",
            "XZ",
            enterprise=enterprise,
            entry=entry,
            kind=kind,
            district=district,
            starts_on=starts_on,
            ends_on=ends_on,
            basis=basis,
            imposed_by=actor,
            imposed_by_name=actor.display_name or actor.username,
            imposed_at=now,
        )
        record_event(
            context=context, action=AuditAction.RESTRICTION_IMPOSE, target=restriction, changes=snapshot(restriction)
        )
        if starts_on <= _today():
            notify_restricted_projects(restriction=restriction, now=now)
        _note_credit(enterprise, ChangeKind.RESTRICTION, _restriction_summary(restriction))
        _recheck(enterprise.pk)
    return restriction


def _lift(r: Restriction, *, on: dt.date, reason: str, context: AuditContext, note: str = "") -> None:
    r.lifted_on = on
    r.lift_reason = reason
    r.lifted_at = timezone.now()
    r.lifted_by_name = context.actor_name
    fields = ["lifted_on", "lift_reason", "lifted_at", "lifted_by_name"]
    r.save(update_fields=fields)
    record_event(
        context=context, action=AuditAction.RESTRICTION_LIFT, target=r, changes=snapshot(r, fields), reason=note
    )


def revoke_restriction(*, restriction: Restriction, reason: str, actor: User, context: AuditContext) -> Restriction:
    """撤销 (city regulator): the restriction was wrong; void from its start, so filings under it are cleared."""
    _require_regulator(actor, Restriction, city=True, doing="撤销限制措施")
    if not (reason or "").strip():
        raise ValidationError({"reason": ValidationError("请填写撤销理由", code="required")})
    with transaction.atomic():
        locked = Restriction.objects.select_for_update().get(pk=restriction.pk)
        if locked.lift_reason == LiftReason.REVOKED:
            raise ValidationError("该限制措施已撤销", code="already_revoked")
        _lift(locked, on=locked.starts_on, reason=LiftReason.REVOKED, context=context, note=reason.strip())
        _note_credit(locked.enterprise, ChangeKind.RESTRICTION, _restriction_summary(locked))
        _recheck(locked.enterprise_id)
    return locked


def lift_due(*, today: dt.date | None = None, context: AuditContext = SYSTEM) -> dict[str, int]:
    """The scheduled job (`manage.py lift_restrictions`, beat task): record the lifting of restrictions past their
    end, move entries past their period out of the blacklist, and tell the projects of restrictions that started.

    Queries are by date already (nothing past its end is treated as in force); this writes the history.
    """
    today = today or _today()
    counts = {"lifted": 0, "exited": 0, "notified": 0}
    with transaction.atomic():
        for entry in BlacklistEntry.objects.select_for_update().filter(status=EntryStatus.PUBLISHED, ends_on__lt=today):
            end = entry.ends_on or today
            lifted = _exit_entry(entry, on=end + dt.timedelta(days=1), reason=ExitReason.PERIOD_END, context=context)
            counts["exited"] += 1
            counts["lifted"] += len(lifted)
        for r in Restriction.objects.select_for_update().due_to_lift(today).select_related("enterprise"):
            _lift(r, on=r.ends_on + dt.timedelta(days=1), reason=LiftReason.PERIOD_END, context=context, note="期满")
            _note_credit(r.enterprise, ChangeKind.RESTRICTION, _restriction_summary(r))
            _recheck(r.enterprise_id)
            counts["lifted"] += 1
        now = timezone.now()
        for r in Restriction.objects.select_for_update().filter(
            notified_at__isnull=True, starts_on__lte=today, lifted_on__isnull=True
        ):
            notify_restricted_projects(restriction=r, now=now)
            counts["notified"] += 1
    return counts


def notify_restricted_projects(*, restriction: Restriction, now: dt.datetime) -> list[EarlyWarning]:
    """信用预警: the projects supplied by the enterprise in the 12 months before the restriction started are told —
    one credit warning per district of those projects (district regulators see theirs), naming each project."""
    start = restriction.starts_on
    since = start - dt.timedelta(days=NOTIFY_LOOKBACK_DAYS)
    org = restriction.enterprise_id
    submitted = {"is_current": True, "status": FilingStatus.SUBMITTED}
    last: dict[int, dt.date] = {}

    def take(rows: Any) -> None:
        for project_id, day in rows:
            if day is not None and (project_id not in last or day > last[project_id]):
                last[project_id] = day

    take(
        Purchase.objects.filter(supplier_id=org, **submitted)
        .annotate(day=Coalesce("arrival_date", "created_at__date"))
        .filter(day__gte=since, day__lte=start)
        .values_list("project_id", "day")
    )
    take(
        Supply.objects.filter(
            filer_id=org, delivery_date__gte=since, delivery_date__lte=start, **submitted
        ).values_list("project_id", "delivery_date")
    )
    take(
        Ticket.objects.filter(
            filer_id=org, departed_at__date__gte=since, departed_at__date__lte=start, **submitted
        ).values_list("project_id", "departed_at__date")
    )
    from jiancai.registry.models import Project

    projects = Project.objects.filter(pk__in=last).select_related("district", "builder", "contractor")
    by_district: dict[int | None, list[Any]] = {}
    for p in projects.order_by("project_code"):
        by_district.setdefault(p.district_id, []).append(p)
    enterprise = restriction.enterprise
    warnings = []
    for district_id, items in by_district.items():
        names = [
            f"{p.project_code} {p.name}（建设单位 {p.builder.name if p.builder else '—'}，"
            f"施工单位 {p.contractor.name if p.contractor else '—'}，最近供货 {last[p.pk]:%Y-%m-%d}）"
            for p in items
        ]
        area = items[0].district.name if items[0].district else "本市"
        warnings.append(
            EarlyWarning(
                kind=WarningKind.CREDIT,
                topic=WarningTopic.RESTRICTED_SUPPLIER,
                period=start.replace(day=1),
                district_id=district_id,
                organization=enterprise,
                value=len(items),
                message=(
                    f"{enterprise.name}（{enterprise.uscc}）自 {start:%Y-%m-%d} 起被采取限制措施"
                    f"「{restriction.get_kind_display()}」（{restriction.restriction_no}，"
                    f"至 {restriction.ends_on:%Y-%m-%d}，"
                    f"范围：{restriction.scope_text}），近12个月曾向{area} {len(items)} 个工程项目供货，"
                    "请通知相关建设、施工单位核查在用材料并另选供应企业"
                ),
                evidence={
                    "restriction_no": restriction.restriction_no,
                    "restricted_enterprise": f"{enterprise.name}（{enterprise.uscc}）",
                    "restriction": restriction.get_kind_display(),
                    "restriction_period": f"{start:%Y-%m-%d} 至 {restriction.ends_on:%Y-%m-%d}",
                    "restriction_area": restriction.scope_text,
                    "affected_projects": names,
                },
                computed_at=now,
            )
        )
    EarlyWarning.objects.bulk_create(warnings)
    restriction.notified_at = now
    restriction.save(update_fields=["notified_at"])
    return warnings


# ---------------------------------------------------------------------------------------------- credit repair


def apply_for_repair(
    *, entry: BlacklistEntry, statement: str, files: Sequence[UploadedFile], actor: User, context: AuditContext
) -> RepairApplication:
    """申请信用修复: the listed enterprise's statement of rectification, with evidence attached (at least one file)."""
    if not role_allows(actor, RepairApplication, Action.CHANGE) or actor.organization_id != entry.enterprise_id:
        raise PermissionDenied("只有被列入的企业可以申请信用修复")
    errors: dict[str, ValidationError] = {}
    statement = _required(errors, "statement", statement, "整改及修复说明")
    try:
        checked = _checked_files(list(files))
    except ValidationError as exc:
        errors["attachments"] = ValidationError(exc.error_dict["attachments"])
        checked = []
    if not files and "attachments" not in errors:
        errors["attachments"] = ValidationError("请上传整改、检测等证明材料（至少一个附件）", code="required")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _lock_entry(entry)
        if locked.status != EntryStatus.PUBLISHED:
            raise ValidationError(
                f"该名单当前状态为“{locked.get_status_display()}”，不能申请信用修复", code="not_published"
            )
        if locked.repair_applications.filter(status=RepairStatus.SUBMITTED).exists():
            raise ValidationError("已有待审核的信用修复申请，请等待审核结果", code="pending")
        application: RepairApplication = _create_numbered(
            RepairApplication,
            "application_no",
            "XF",
            entry=locked,
            applicant_id=locked.enterprise_id,
            statement=statement,
            submitted_by=actor,
            submitted_by_name=actor.display_name or actor.username,
            submitted_at=timezone.now(),
        )
        for f, ext, digest in checked:
            attachment = RepairAttachment(
                application=application,
                original_name=os.path.basename(f.name or "")[:255],
                size=f.size or 0,
                sha256=digest,
            )
            attachment.file.save(f"{digest[:16]}{ext}", f, save=False)
            attachment.save()
        changes = snapshot(application)
        changes["attachments"] = [{"name": os.path.basename(f.name or ""), "sha256": h} for f, _, h in checked]
        record_event(context=context, action=AuditAction.REPAIR_APPLY, target=application, changes=changes)
    return application


def decide_repair(
    *, application: RepairApplication, approve: bool, reason: str, actor: User, context: AuditContext
) -> RepairApplication:
    """审核信用修复 (city regulator): approve (the entry exits today, its restrictions lift) or reject; the reason is
    required either way and is published with the entry."""
    _require_regulator(actor, RepairApplication, city=True, doing="审核信用修复申请")
    if not (reason or "").strip():
        raise ValidationError({"reason": ValidationError("请填写审核意见", code="required")})
    with transaction.atomic():
        locked = RepairApplication.objects.select_for_update().get(pk=application.pk)
        if locked.status != RepairStatus.SUBMITTED:
            raise ValidationError(f"该申请已审核（{locked.get_status_display()}）", code="decided")
        entry = _lock_entry(locked.entry)
        locked.status = RepairStatus.APPROVED if approve else RepairStatus.REJECTED
        locked.reviewer = actor
        locked.reviewer_name = actor.display_name or actor.username
        locked.decision_reason = reason.strip()
        locked.decided_at = timezone.now()
        fields = ["status", "reviewer", "reviewer_name", "decision_reason", "decided_at"]
        locked.save(update_fields=fields)
        record_event(
            context=context,
            action=AuditAction.REPAIR_DECIDE,
            target=locked,
            changes=snapshot(locked, fields),
            reason=locked.decision_reason,
        )
        _note_credit(
            entry.enterprise,
            ChangeKind.REPAIR,
            {
                "application_no": locked.application_no,
                "entry_no": entry.entry_no,
                "decision": locked.status,
                "reason": locked.decision_reason,
                "decided_at": locked.decided_at,
            },
        )
        if approve:
            if entry.status != EntryStatus.PUBLISHED:
                raise ValidationError("该名单已不在公布期内，无需修复", code="not_published")
            _exit_entry(entry, on=_today(), reason=ExitReason.REPAIR, context=context, note=locked.decision_reason)
    return locked


# ---------------------------------------------------------------------------------------------- credit


def _note_credit(enterprise: Organization, kind: str, summary: dict[str, Any]) -> None:
    """One entry of the credit change feed (e-commerce platforms and the portal read it), in this transaction."""
    note_credit_change(organization=enterprise, kind=kind, summary=summary)


def _entry_summary(entry: BlacklistEntry) -> dict[str, Any]:
    return {
        "entry_no": entry.entry_no,
        "status": entry.status,
        "grounds": entry.grounds[:200],
        "published_on": entry.published_on,
        "ends_on": entry.ends_on,
        "exited_on": entry.exited_on,
        "exit_reason": entry.exit_reason,
        "public_until": entry.public_until,
    }


def _restriction_summary(r: Restriction) -> dict[str, Any]:
    return {
        "restriction_no": r.restriction_no,
        "kind": r.kind,
        "kind_label": r.get_kind_display(),
        "district": r.scope_text,
        "starts_on": r.starts_on,
        "ends_on": r.ends_on,
        "lifted_on": r.lifted_on,
        "lift_reason": r.lift_reason,
        "entry_no": r.entry.entry_no if r.entry_id and r.entry else "",
    }


def _bad_record(entry: BlacklistEntry, context: AuditContext) -> BehaviourRecord:
    """The serious (A) bad behaviour record of the listing, decided on the approval day (the credit app's
    `create_record`: its audit row, feed entry and score recomputation)."""
    return create_record(
        organization=entry.enterprise,
        kind=RecordKind.BAD,
        severity=Severity.A,
        title=f"列入建材质量失信黑名单（{entry.entry_no}）",
        legal_basis=entry.legal_basis[:300],
        facts=entry.grounds,
        evidence=entry.evidence[:5000],
        decided_on=_today(),
        source=RecordSource.PENALTY,
        source_reference=entry.entry_no,
        channel=RecordChannel.AUTO,
        actor=None,
        context=context,
    )


def _keep_bad_record(entry: BlacklistEntry, context: AuditContext) -> None:
    """On exit the listing's bad record stays published until `public_until` (three years after exit): its
    publication period is extended when shorter. A record the credit staff revoked stays revoked."""
    if entry.behaviour_record_id is None or entry.public_until is None:
        return
    record = BehaviourRecord.objects.select_for_update().get(pk=entry.behaviour_record_id)
    if record.status != RecordStatus.PUBLISHED or record.published_until >= entry.public_until:
        return
    before = record.published_until
    record.published_until = entry.public_until
    record.save(update_fields=["published_until", "updated_at"])
    record_event(
        context=context,
        action=AuditAction.UPDATE,
        target=record,
        changes={"published_until": [before, record.published_until]},
        reason=f"移出失信黑名单 {entry.entry_no} 后不良记录公示三年",
    )
    note_credit_change(
        organization=entry.enterprise,
        kind=ChangeKind.RECORD,
        summary={"record_no": record.record_no, "published_until": record.published_until, "entry_no": entry.entry_no},
    )
    refresh_score(entry.enterprise, reason=f"不良记录 {record.record_no} 公示期延至 {record.published_until}")
