"""Every change to credit data: behaviour records (created by a regulator, by the platform from a closed case or a
false registry item, by a partner-region import or the API), their revocation, the score model, the scores.

Each function checks permission through the funnel, writes, recomputes the enterprise's score and writes the audit
row and the `CreditChange` feed rows in one transaction. `note_credit_change` is the one writer of the feed; other
apps (blacklist, open API) call it inside their own transactions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from jiancai.accounts.access import Action, can, restrict, role_allows
from jiancai.accounts.models import Organization, User
from jiancai.accounts.roles import OrgType
from jiancai.audit.actions import SYSTEM, AuditContext, jsonable, record_event, snapshot
from jiancai.audit.models import AuditAction

from .models import (
    BehaviourRecord,
    ChangeKind,
    CreditChange,
    CreditScore,
    CreditScoreHistory,
    RecordChannel,
    RecordKind,
    RecordSource,
    RecordStatus,
    ScoreModel,
    Severity,
)
from .scoring import RecordFact, ScoreResult, compute_score

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_TYPES = (".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx")
POINTS_MAX = Decimal("100")
MONTHS_MAX = 36
MONTHS_MIN_BAD = 6


# ------------------------------------------------------------------------------------------------ the feed


FEED_LOCK = 0x6A63_6665_6564  # pg_advisory_xact_lock key of the feed writers ("jcfeed")


def _serialize_feed_writers() -> None:
    """Make feed ids commit in id order, so a reader paging by id (the open API's cursor) never skips a row.

    A sequence hands out ids at insert time, not at commit: without this, a transaction holding id 10 could commit
    after one holding id 11 had been read, and a reader already past 11 would never see 10. On PostgreSQL the
    writers take a transaction-level advisory lock before inserting and hold it to commit, so an id is only handed
    out once every smaller one is committed or rolled back. SQLite already lets one writer at a time in.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FEED_LOCK])


def note_credit_change(*, organization: Organization, kind: str, summary: Mapping[str, Any]) -> CreditChange:
    """Append one entry to the credit change feed (call it inside the transaction of the change it describes)."""
    if kind not in ChangeKind.values:
        raise ValueError(f"unknown credit change kind {kind!r}")
    with transaction.atomic():
        _serialize_feed_writers()
        return CreditChange.objects.create(
            kind=kind,
            organization=organization,
            uscc=organization.uscc,
            name=organization.name[:200],
            summary=jsonable(dict(summary)),
            occurred_at=timezone.now(),
        )


# ----------------------------------------------------------------------------------------- the score model


def current_score_model() -> ScoreModel:
    """The score model in force: the newest version (version 1 with the defaults is created on first use)."""
    model = ScoreModel.objects.order_by("-version").first()
    if model is None:
        try:
            with transaction.atomic():
                model = ScoreModel.objects.create(version=1, created_by_name="系统", reason="初始评分模型")
        except IntegrityError:
            model = ScoreModel.objects.order_by("-version").first()
    if model is None:
        raise RuntimeError("no score model")
    return model


def change_score_model(*, values: Mapping[str, Any], reason: str, actor: User, context: AuditContext) -> ScoreModel:
    """A new version of the score model (the old versions stay); every enterprise's score is recomputed under it."""
    if not role_allows(actor, ScoreModel, Action.CHANGE):
        raise PermissionDenied("只有市住建委的监管业务人员可以修改信用评分模型")
    if not (reason or "").strip():
        raise ValidationError({"reason": ValidationError("请填写修改原因", code="required")})
    with transaction.atomic():
        current = ScoreModel.objects.select_for_update().order_by("-version").first() or current_score_model()
        new = ScoreModel(version=current.version + 1, reason=reason.strip(), created_by=actor)
        new.created_by_name = context.actor_name
        for name in ScoreModel.SETTINGS:
            setattr(new, name, values.get(name, getattr(current, name)))
        errors: dict[str, list[ValidationError]] = defaultdict(list)
        try:
            new.full_clean(exclude=["created_by"], validate_constraints=False)
        except ValidationError as exc:
            for name, errs in exc.message_dict.items():
                errors[name].extend(ValidationError(e) for e in errs)
        if not errors:
            if not new.threshold_a > new.threshold_b > new.threshold_c:
                errors["threshold_b"].append(ValidationError("等级分数线须满足 A级 > B级 > C级", code="order"))
            if new.threshold_a > new.base_score + new.good_cap:
                errors["threshold_a"].append(ValidationError("A级最低分不能高于可能的最高分", code="range"))
            for name in ("months_a", "months_b", "months_c", "months_good"):
                months = getattr(new, name)
                low = 6 if name != "months_good" else 1
                if not low <= months <= MONTHS_MAX:
                    errors[name].append(ValidationError(f"公示期应在{low}至{MONTHS_MAX}个月之间", code="range"))
            for name in ("interval_a", "interval_b", "interval_c", "interval_d"):
                if not 1 <= getattr(new, name) <= 36:
                    errors[name].append(ValidationError("检查间隔应在1至36个月之间", code="range"))
        if errors:
            raise ValidationError(dict(errors))
        changes = {
            name: [jsonable(getattr(current, name)), jsonable(getattr(new, name))]
            for name in ScoreModel.SETTINGS
            if Decimal(str(getattr(current, name))) != Decimal(str(getattr(new, name)))
        }
        if not changes:
            raise ValidationError("评分模型没有任何修改", code="unchanged")
        new.save()
        record_event(
            context=context,
            action=AuditAction.CREDIT_MODEL,
            target=new,
            changes={"version": [current.version, new.version], **changes},
            reason=reason.strip(),
        )
        recompute_scores(reason=f"评分模型第{new.version}版生效", model=new)
    return new


# -------------------------------------------------------------------------------------------------- scores


def _facts(records: Iterable[BehaviourRecord]) -> list[RecordFact]:
    return [RecordFact.of(r) for r in records]


def score_of(organization: Organization, *, on: dt.date | None = None, model: ScoreModel | None = None) -> ScoreResult:
    """The score the enterprise has on `on` (today) under `model` (the current one), computed from its records."""
    on = on or timezone.localdate()
    model = model or current_score_model()
    return compute_score(_facts(BehaviourRecord.objects.filter(organization=organization)), model, on)


def _store_score(
    organization: Organization,
    result: ScoreResult,
    *,
    model: ScoreModel,
    reason: str,
    on: dt.date,
    existing: CreditScore | None,
) -> bool:
    """Save the result as the enterprise's current score; a history row and feed rows when something changed."""
    now = timezone.now()
    lines = result.lines_json()
    if existing is not None and existing.score == result.score and existing.rating == result.rating:
        if existing.lines != lines or existing.score_model_id != model.pk:
            existing.lines, existing.score_model, existing.computed_on, existing.computed_at = lines, model, on, now
            existing.save(update_fields=["lines", "score_model", "computed_on", "computed_at"])
        return False
    if existing is None:
        CreditScore.objects.create(
            organization=organization,
            score=result.score,
            rating=result.rating,
            score_model=model,
            lines=lines,
            computed_on=on,
            computed_at=now,
        )
    else:
        existing.score, existing.rating, existing.score_model = result.score, result.rating, model
        existing.lines, existing.computed_on, existing.computed_at = lines, on, now
        existing.save(update_fields=["score", "rating", "score_model", "lines", "computed_on", "computed_at"])
    previous_score = existing.score if existing is not None else None
    previous_rating = existing.rating if existing is not None else ""
    CreditScoreHistory.objects.create(
        organization=organization,
        score=result.score,
        rating=result.rating,
        previous_score=previous_score,
        previous_rating=previous_rating,
        score_model_version=model.version,
        reason=reason[:200],
        lines=lines,
        computed_on=on,
        computed_at=now,
    )
    # The feed: a first score of an enterprise without records says nothing new (every enterprise starts there).
    if existing is not None or len(result.lines) > 1:
        summary = {
            "score": result.score,
            "previous_score": previous_score,
            "rating": result.rating,
            "previous_rating": previous_rating,
            "reason": reason,
            "score_model_version": model.version,
        }
        note_credit_change(organization=organization, kind=ChangeKind.SCORE, summary=summary)
        if previous_rating != result.rating:
            note_credit_change(organization=organization, kind=ChangeKind.RATING, summary=summary)
    return True


def refresh_score(organization: Organization, *, reason: str, on: dt.date | None = None) -> CreditScore:
    """Recompute one enterprise's score now (inside the caller's transaction; the score row is locked)."""
    on = on or timezone.localdate()
    model = current_score_model()
    with transaction.atomic():
        # The enterprise row is the lock: two changes of one enterprise's records score one after the other, and
        # the first score of an enterprise is created once.
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        existing = CreditScore.objects.select_for_update().filter(organization=organization).first()
        result = score_of(organization, on=on, model=model)
        _store_score(organization, result, model=model, reason=reason, on=on, existing=existing)
    return CreditScore.objects.get(organization=organization)


def recompute_scores(
    *,
    reason: str = "每日重新计分",
    on: dt.date | None = None,
    organizations: Iterable[int] | None = None,
    model: ScoreModel | None = None,
    chunk: int = 2000,
) -> int:
    """Recompute the scores of every enterprise (or of the given ids): records leave their publication period by
    date, so this runs nightly (`manage.py recompute_credit`, the Celery beat task). Returns how many changed."""
    on = on or timezone.localdate()
    model = model or current_score_model()
    enterprises = Organization.objects.filter(org_type=OrgType.ENTERPRISE).order_by("pk")
    if organizations is not None:
        enterprises = enterprises.filter(pk__in=list(organizations))
    ids = list(enterprises.values_list("pk", flat=True))
    changed = 0
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        with transaction.atomic():
            orgs = {o.pk: o for o in Organization.objects.select_for_update().filter(pk__in=part).order_by("pk")}
            scores = {
                s.organization_id: s for s in CreditScore.objects.select_for_update().filter(organization__in=part)
            }
            facts: dict[int, list[RecordFact]] = defaultdict(list)
            for record in BehaviourRecord.objects.filter(organization__in=part).order_by():
                facts[record.organization_id].append(RecordFact.of(record))
            for pk in part:
                result = compute_score(facts.get(pk, []), model, on)
                changed += _store_score(orgs[pk], result, model=model, reason=reason, on=on, existing=scores.get(pk))
    return changed


# ------------------------------------------------------------------------------------------ behaviour records


def _next_record_no(year: int) -> str:
    prefix = f"XY-{year}-"
    last = (
        BehaviourRecord.objects.filter(record_no__startswith=prefix)
        .order_by("-record_no")
        .values_list("record_no", flat=True)
        .first()
    )
    number = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{number:06d}"


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last_day in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last_day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _decimal(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError from None
    if not number.is_finite():
        raise ValueError
    return number


def _check_attachment(upload: UploadedFile | None) -> dict[str, ValidationError]:
    if upload is None:
        return {}
    name = (upload.name or "").lower()
    if not name.endswith(ATTACHMENT_TYPES):
        return {"attachment": ValidationError("附件只能是 PDF、JPG、PNG、DOCX 或 XLSX 文件", code="type")}
    if (upload.size or 0) > ATTACHMENT_MAX_BYTES:
        return {"attachment": ValidationError("附件不能超过 10 MB", code="size")}
    return {}


def may_decide_for(actor: User | None, organization: Organization) -> bool:
    """A regulator's business staff decide records about the enterprises they see (district regulator: its
    district's)."""
    if actor is None:
        return True  # the platform itself (cases, verifications, the import command)
    if not role_allows(actor, BehaviourRecord, Action.CHANGE):
        return False
    return restrict(Organization.objects.filter(pk=organization.pk), actor, Action.VIEW).exists()


def create_record(
    *,
    organization: Organization | None,
    kind: str,
    title: str,
    legal_basis: str,
    facts: str,
    decided_on: dt.date | None,
    source: str,
    actor: User | None,
    context: AuditContext,
    severity: str = "",
    points: Any = None,
    months: Any = None,
    evidence: str = "",
    source_reference: str = "",
    origin_region: str = "",
    origin_authority: str = "",
    origin_no: str = "",
    attachment: UploadedFile | None = None,
    channel: str = RecordChannel.FORM,
    source_case: Any = None,
    source_verification: Any = None,
    today: dt.date | None = None,
) -> BehaviourRecord:
    """认定一条良好/不良行为记录. Points and the publication period default from the score model (severity for
    bad records); the period starts on the decision date. A partner-region record needs its origin region and
    original number. The enterprise's score is recomputed in the same transaction."""
    today = today or timezone.localdate()
    model = current_score_model()
    errors: dict[str, ValidationError] = {}
    if organization is None:
        errors["organization"] = ValidationError("请填写企业（统一社会信用代码）", code="required")
    elif organization.org_type != OrgType.ENTERPRISE:
        errors["organization"] = ValidationError("信用记录只能针对企业，不能针对监管机构", code="not_enterprise")
    if kind not in RecordKind.values:
        errors["kind"] = ValidationError("记录类型应为：良好行为或不良行为", code="invalid")
    severity = (severity or "").strip().upper()
    if kind == RecordKind.BAD and severity not in ("A", "B", "C"):
        errors["severity"] = ValidationError("不良行为须选择等级：A（严重）、B（一般）或 C（轻微）", code="required")
    if kind == RecordKind.GOOD:
        severity = Severity.NONE
    if source not in RecordSource.values:
        errors["source"] = ValidationError("请选择记录来源", code="invalid")
    elif source == RecordSource.COMMENDATION and kind == RecordKind.BAD:
        errors["source"] = ValidationError("表彰奖励只能是良好行为", code="invalid")
    elif source in (RecordSource.CASE, RecordSource.FALSE_REPORT, RecordSource.PENALTY) and kind == RecordKind.GOOD:
        errors["kind"] = ValidationError("该来源只能形成不良行为记录", code="invalid")
    for name, value, label, limit in (
        ("title", title, "行为名称", 200),
        ("legal_basis", legal_basis, "认定依据", 300),
        ("facts", facts, "事实", 5000),
    ):
        if not (value or "").strip():
            errors[name] = ValidationError(f"请填写{label}", code="required")
        elif len(value.strip()) > limit:
            errors[name] = ValidationError(f"{label}不能超过{limit}个字", code="max_length")
    if decided_on is None:
        errors["decided_on"] = ValidationError("请填写认定日期", code="required")
    elif decided_on > today:
        errors["decided_on"] = ValidationError("认定日期不能晚于今天", code="future")
    try:
        number = _decimal(points)
    except ValueError:
        errors["points"] = ValidationError("分值应为数字，如 10 或 2.5", code="invalid")
        number = None
    if number is not None and not Decimal(0) < number <= POINTS_MAX:
        errors["points"] = ValidationError(f"分值应大于0且不超过{POINTS_MAX}", code="range")
    elif number is not None and number != number.quantize(Decimal("0.01")):
        errors["points"] = ValidationError("分值最多保留两位小数", code="invalid")
    try:
        span = _decimal(months)
    except ValueError:
        errors["months"] = ValidationError("公示期应为整数个月", code="invalid")
        span = None
    if span is not None:
        low = MONTHS_MIN_BAD if kind == RecordKind.BAD else 1
        if span != span.to_integral_value() or not low <= span <= MONTHS_MAX:
            errors["months"] = ValidationError(f"公示期应为{low}至{MONTHS_MAX}个月的整数", code="range")
    if source == RecordSource.PARTNER:
        for name, value, label in (
            ("origin_region", origin_region, "来源地区"),
            ("origin_authority", origin_authority, "原认定机关"),
            ("origin_no", origin_no, "原记录编号"),
        ):
            if not (value or "").strip():
                errors[name] = ValidationError(f"外地互认记录须填写{label}", code="required")
    errors.update(_check_attachment(attachment))
    if errors:
        raise ValidationError(errors)
    if organization is None or decided_on is None:
        raise AssertionError("checked above")
    if actor is not None and not may_decide_for(actor, organization):
        raise PermissionDenied("无权认定该企业的信用记录")
    severity_key = severity or ""
    record_points = (number if number is not None else model.default_points(kind, severity_key)).quantize(
        Decimal("0.01")
    )
    record_months = int(span) if span is not None else model.default_months(kind, severity_key)
    fields: dict[str, Any] = {
        "organization": organization,
        "kind": kind,
        "severity": severity_key,
        "points": record_points,
        "title": title.strip(),
        "legal_basis": legal_basis.strip(),
        "facts": facts.strip(),
        "evidence": (evidence or "").strip(),
        "source": source,
        "source_reference": (source_reference or "").strip()[:100],
        "source_case": source_case,
        "source_verification": source_verification,
        "origin_region": (origin_region or "").strip()[:40] if source == RecordSource.PARTNER else "",
        "origin_authority": (origin_authority or "").strip()[:100] if source == RecordSource.PARTNER else "",
        "origin_no": (origin_no or "").strip()[:64] if source == RecordSource.PARTNER else "",
        "decided_on": decided_on,
        "published_from": decided_on,
        "published_until": add_months(decided_on, record_months) - dt.timedelta(days=1),
        "channel": channel,
        "decided_by_name": context.organization_name[:200],
        "created_by": actor,
        "created_by_name": context.actor_name[:150],
    }
    with transaction.atomic():
        if source == RecordSource.PARTNER:
            taken = BehaviourRecord.objects.filter(
                source=RecordSource.PARTNER, origin_region=fields["origin_region"], origin_no=fields["origin_no"]
            ).exists()
            if taken:
                raise ValidationError(
                    {"origin_no": ValidationError("该地区的这一原记录编号已导入过", code="duplicate")}
                )
        record = _insert_record(fields, today.year)
        if attachment is not None:
            record.attachment_name = (attachment.name or "")[:255]
            record.attachment.save(attachment.name or "attachment", attachment, save=False)
            record.save(update_fields=["attachment", "attachment_name"])
        record_event(
            context=context,
            action=AuditAction.CREDIT_RECORD,
            target=record,
            changes=snapshot(record, fields=[*fields, "record_no"]),
        )
        note_credit_change(organization=organization, kind=ChangeKind.RECORD, summary=_record_summary(record))
        refresh_score(organization, reason=f"{record.get_kind_display()}记录 {record.record_no}", on=today)
    return record


def _insert_record(fields: dict[str, Any], year: int) -> BehaviourRecord:
    """The record with the next free number of the year. Two records at the same moment may pick the same number:
    the unique constraint refuses the second, which takes the next one (in its own savepoint)."""
    for attempt in range(5):
        try:
            with transaction.atomic():
                return BehaviourRecord.objects.create(record_no=_next_record_no(year), **fields)
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _record_summary(record: BehaviourRecord) -> dict[str, Any]:
    return {
        "record_no": record.record_no,
        "kind": record.kind,
        "severity": record.severity,
        "points": record.points,
        "title": record.title,
        "source": record.source,
        "decided_on": record.decided_on,
        "published_until": record.published_until,
        "status": record.status,
        "origin_region": record.origin_region,
        "origin_no": record.origin_no,
    }


def revoke_record(*, record: BehaviourRecord, reason: str, actor: User, context: AuditContext) -> BehaviourRecord:
    """撤销: the record stays (with the reason) but no longer counts or shows as published."""
    if not (reason or "").strip():
        raise ValidationError({"reason": ValidationError("请填写撤销理由", code="required")})
    if not role_allows(actor, BehaviourRecord, Action.REVOKE):
        raise PermissionDenied("无权撤销信用记录")
    with transaction.atomic():
        locked = BehaviourRecord.objects.select_for_update().get(pk=record.pk)
        if not can(actor, Action.REVOKE, locked):
            raise PermissionDenied("无权撤销该信用记录")
        if locked.status == RecordStatus.REVOKED:
            raise ValidationError("该记录已撤销", code="already_revoked")
        locked.status = RecordStatus.REVOKED
        locked.revoked_reason = reason.strip()
        locked.revoked_at = timezone.now()
        locked.revoked_by_name = context.actor_name[:150]
        locked.save(update_fields=["status", "revoked_reason", "revoked_at", "revoked_by_name", "updated_at"])
        record_event(
            context=context,
            action=AuditAction.CREDIT_REVOKE,
            target=locked,
            changes={"status": ["已公布", "已撤销"]},
            reason=reason.strip(),
        )
        note_credit_change(organization=locked.organization, kind=ChangeKind.RECORD, summary=_record_summary(locked))
        refresh_score(locked.organization, reason=f"撤销记录 {locked.record_no}")
    record.refresh_from_db()
    return record


# ------------------------------------------------------------------------------- records made by the platform


def record_from_case(case: Any) -> BehaviourRecord | None:
    """A closed enforcement case with a confirmed finding becomes a bad record (一般, default points) against its
    respondent; once only (the case is unique on the record). A case closed as not confirmed makes nothing."""
    if case.closed_at is None or case.outcome != "confirmed":
        return None
    existing = BehaviourRecord.objects.filter(source_case=case).first()
    if existing is not None:
        return existing
    rule = case.alert.rule
    facts = f"{case.finding}".strip()
    if case.penalty:
        facts += f"\n处理处罚：{case.penalty}"
    context = AuditContext(actor_name="系统（立案查处结案）")
    return create_record(
        organization=case.respondent,
        kind=RecordKind.BAD,
        severity=Severity.B,
        title=f"{rule.code} {rule.title}（案件 {case.case_no}）"[:200],
        legal_basis=case.legal_basis or rule.basis[:300] or "—",
        facts=facts or case.grounds,
        evidence=f"来源预警：{case.alert.rule.code} {case.alert.subject_label}；{case.alert.message}"[:5000],
        decided_on=timezone.localdate(case.closed_at),
        source=RecordSource.CASE,
        source_reference=case.case_no,
        source_case=case,
        channel=RecordChannel.AUTO,
        actor=None,
        context=context,
    )


def record_from_verification(verification: Any) -> BehaviourRecord | None:
    """A self-reported registry item a regulator verified as false (不实) becomes a bad record (轻微) against
    the enterprise that reported it, citing the verification (浙江 seed: 确认结果为虚假的，纳入诚信记录予以公示)."""
    if verification.verdict != "false":
        return None
    existing = BehaviourRecord.objects.filter(source_verification=verification).first()
    if existing is not None:
        return existing
    organization = verification.organization
    if organization.org_type != OrgType.ENTERPRISE:
        return None
    context = AuditContext(actor_name="系统（信息核实）", organization_name=verification.verifier_organization_name)
    return create_record(
        organization=organization,
        kind=RecordKind.BAD,
        severity=Severity.C,
        title=f"填报信息虚假：{verification.item_repr}"[:200],
        legal_basis="《建筑市场监管与诚信信息平台》数据核实：提供虚假信息的，作为不良行为记录公示",
        facts=f"经{verification.verifier_organization_name or '监管部门'}核实，{verification.item_repr}"
        f"（第{verification.item_version}版）不实。核实理由：{verification.reason}",
        decided_on=timezone.localdate(verification.created_at),
        source=RecordSource.FALSE_REPORT,
        source_reference=f"核实记录 {verification.pk}",
        source_verification=verification,
        channel=RecordChannel.AUTO,
        actor=None,
        context=context,
    )


__all__ = [
    "SYSTEM",
    "add_months",
    "change_score_model",
    "create_record",
    "current_score_model",
    "note_credit_change",
    "recompute_scores",
    "record_from_case",
    "record_from_verification",
    "refresh_score",
    "revoke_record",
    "score_of",
]
