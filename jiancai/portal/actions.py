"""Every change of a notice (通报): write or edit a draft, publish it, withdraw it.

Regulators' business staff act (`NOTICE_ROLES`); the funnel decides which notices: the city regulator all of
them, a district regulator those of its district (and it cannot write a city-wide one). Each change writes its
audit row in the same transaction and, after commit, drops the cached portal pages so the public sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from jiancai.accounts.access import Action, can, role_allows
from jiancai.accounts.models import User
from jiancai.accounts.roles import OrgType
from jiancai.audit.actions import AuditContext, diff, record_event, snapshot
from jiancai.audit.models import AuditAction

from .caching import invalidate_portal
from .models import Notice, NoticeStatus

EDITABLE_FIELDS = ("title", "body", "category", "district")


def _locked(notice: Notice, actor: User) -> Notice:
    locked = Notice.objects.select_for_update().get(pk=notice.pk)
    if not can(actor, Action.CHANGE, locked):
        raise PermissionDenied("无权处理该通报")
    return locked


def _check_version(locked: Notice, expected_version: int | None) -> None:
    if expected_version is not None and locked.version != expected_version:
        raise ValidationError("该通报已被他人修改，请刷新后重试", code="stale_version")


def save_notice(
    *,
    instance: Notice,
    data: Mapping[str, Any],
    actor: User,
    context: AuditContext,
    expected_version: int | None = None,
) -> Notice:
    """Write a new draft or change a draft. A published or withdrawn notice is not edited (withdraw and write a
    new one): what the public has read stays as it was read."""
    if not role_allows(actor, Notice, Action.CHANGE):
        raise PermissionDenied("无权撰写通报")
    org = actor.organization
    if org is None:  # role_allows already requires one
        raise PermissionDenied("无权撰写通报")
    creating = instance._state.adding
    with transaction.atomic():
        before: dict[str, Any] = {}
        if not creating:
            locked = _locked(instance, actor)
            _check_version(locked, expected_version)
            if locked.status != NoticeStatus.DRAFT:
                raise ValidationError(
                    f"通报{locked.get_status_display()}，不能修改；如需更正请撤回后重新撰写", code="not_draft"
                )
            before = snapshot(locked)
        for field in EDITABLE_FIELDS:
            if field in data:
                setattr(instance, field, data[field])
        if isinstance(instance.title, str):
            instance.title = instance.title.strip()
        if isinstance(instance.body, str):
            instance.body = instance.body.strip()
        if org.org_type == OrgType.DISTRICT_REGULATOR:
            if instance.district_id is None:
                instance.district_id = org.district_id
            if instance.district_id != org.district_id:
                raise ValidationError({"district": ValidationError("区住建委只能发布本区的通报", code="district")})
        if creating:
            instance.organization = org
            instance.status = NoticeStatus.DRAFT
            instance.created_by_name = actor.display_name or actor.username
        instance.full_clean()
        after = snapshot(instance)
        changes = diff(before, after)
        if not creating:
            if not changes:
                return instance
            instance.version += 1
        instance.save()
        action = AuditAction.CREATE if creating else AuditAction.UPDATE
        record_event(context=context, action=action, target=instance, changes=changes)
    return instance


def publish_notice(
    *, notice: Notice, actor: User, context: AuditContext, expected_version: int | None = None
) -> Notice:
    """Publish a draft: from now on the portal lists it."""
    if not role_allows(actor, Notice, Action.CHANGE):
        raise PermissionDenied("无权发布通报")
    with transaction.atomic():
        locked = _locked(notice, actor)
        _check_version(locked, expected_version)
        if locked.status != NoticeStatus.DRAFT:
            raise ValidationError(f"只有草稿可以发布，该通报{locked.get_status_display()}", code="not_draft")
        locked.status = NoticeStatus.PUBLISHED
        locked.published_at = timezone.now()
        locked.version += 1
        locked.save(update_fields=["status", "published_at", "version", "updated_at"])
        record_event(
            context=context,
            action=AuditAction.NOTICE_PUBLISH,
            target=locked,
            changes={"status": ["草稿", "已发布"], "published_at": [None, locked.published_at]},
        )
        transaction.on_commit(invalidate_portal)
    return locked


def withdraw_notice(
    *, notice: Notice, reason: str, actor: User, context: AuditContext, expected_version: int | None = None
) -> Notice:
    """Withdraw a published notice with a reason: the portal stops showing it at once."""
    if not role_allows(actor, Notice, Action.CHANGE):
        raise PermissionDenied("无权撤回通报")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError("撤回原因：必须填写", code="required")})
    with transaction.atomic():
        locked = _locked(notice, actor)
        _check_version(locked, expected_version)
        if locked.status != NoticeStatus.PUBLISHED:
            raise ValidationError(
                f"只有已发布的通报可以撤回，该通报{locked.get_status_display()}", code="not_published"
            )
        locked.status = NoticeStatus.WITHDRAWN
        locked.withdrawn_at = timezone.now()
        locked.withdrawn_reason = reason
        locked.version += 1
        locked.save(update_fields=["status", "withdrawn_at", "withdrawn_reason", "version", "updated_at"])
        record_event(
            context=context,
            action=AuditAction.NOTICE_WITHDRAW,
            target=locked,
            changes={"status": ["已发布", "已撤回"]},
            reason=reason,
        )
        transaction.on_commit(invalidate_portal)
    return locked
