"""Every change to the registries: create and edit self-reported items, and verify them.

Web forms, the REST API and the demo generator call these functions and nothing else, so that
validation, ownership and the audit row are the same whichever way a change arrives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

from jiancai.accounts.access import Action, can, role_allows
from jiancai.accounts.models import Organization, OrganizationKind, SelfReported, User, Verdict
from jiancai.accounts.validators import mask_id_number, validate_id_number
from jiancai.audit.actions import AuditContext, diff, jsonable, record_event, snapshot
from jiancai.audit.models import AuditAction

from .models import Person, Verification
from .protected import encrypt_text, lookup_digest
from .signals import announce_item

_M = TypeVar("_M", bound=models.Model)

STALE_EDIT = "该记录已被他人修改（当前版本 {current}，您编辑的是版本 {expected}），请刷新后重新编辑"


def _check_version(instance: models.Model, expected_version: int | None) -> None:
    current = getattr(instance, "version", None)
    if expected_version is not None and current is not None and current != expected_version:
        raise ValidationError(
            {
                "version": ValidationError(
                    STALE_EDIT.format(current=current, expected=expected_version), code="stale_version"
                )
            }
        )


def save_record(
    *,
    instance: _M,
    data: Mapping[str, Any],
    actor: User,
    context: AuditContext,
    m2m: Mapping[str, Iterable[models.Model]] | None = None,
    expected_version: int | None = None,
    reason: str = "",
) -> _M:
    """Create or change one scoped row on behalf of `actor`.

    The row must be changeable by the actor both before (for an edit) and after the change, which is
    decided by the visibility funnel: a user cannot move a row to, or create it for, another organization.
    A verified self-reported item that changes goes back to pending verification.
    """
    model = type(instance)
    if not role_allows(actor, model, Action.CHANGE):
        raise PermissionDenied(f"无权维护{model._meta.verbose_name}")
    creating = instance._state.adding
    with transaction.atomic():
        if not creating:
            locked = model._default_manager.select_for_update().get(pk=instance.pk)
            if not can(actor, Action.CHANGE, locked):
                raise PermissionDenied(f"无权修改该{model._meta.verbose_name}")
            _check_version(locked, expected_version)
            before = snapshot(locked)
            before_m2m = {name: sorted(str(o) for o in getattr(locked, name).all()) for name in (m2m or {})}
        else:
            before, before_m2m = {}, {}
        for field, value in data.items():
            setattr(instance, field, value)
        instance.full_clean()
        after = snapshot(instance)
        changes = diff(before, after)
        if not creating:
            # Many-to-many changes (an enterprise's kinds) count as changes too: version and verification follow.
            for name, values in (m2m or {}).items():
                new_values = sorted(str(o) for o in values)
                if new_values != before_m2m.get(name, []):
                    changes[name] = [before_m2m.get(name, []), new_values]
        if isinstance(instance, SelfReported) and not creating:
            if changes:
                instance.version += 1
                if instance.verification_status != Verdict.PENDING:
                    instance.verification_status = Verdict.PENDING
                    instance.verification_reason = "内容已修改，待重新核实"
                    changes["verification_status"] = [before.get("verification_status"), Verdict.PENDING]
        instance.save()
        for name, values in (m2m or {}).items():
            getattr(instance, name).set(values)
            if creating and values:
                changes[name] = [[], sorted(str(o) for o in values)]
        if not can(actor, Action.CHANGE, instance):
            raise PermissionDenied(f"不能为其他单位{'新增' if creating else '修改'}{model._meta.verbose_name}")
        if creating:
            record_event(context=context, action=AuditAction.CREATE, target=instance, changes=changes, reason=reason)
        elif changes:
            record_event(context=context, action=AuditAction.UPDATE, target=instance, changes=changes, reason=reason)
        if creating or changes:
            announce_item(instance)
    return instance


def save_enterprise(
    *,
    instance: Organization,
    data: Mapping[str, Any],
    kinds: Iterable[OrganizationKind],
    actor: User,
    context: AuditContext,
    expected_version: int | None = None,
) -> Organization:
    data = {**data}
    if "uscc" in data:
        data["uscc"] = str(data["uscc"]).strip().upper()
    return save_record(
        instance=instance,
        data=data,
        actor=actor,
        context=context,
        m2m={"kinds": list(kinds)},
        expected_version=expected_version,
    )


def save_person(
    *,
    instance: Person,
    data: Mapping[str, Any],
    id_number: str | None,
    actor: User,
    context: AuditContext,
    expected_version: int | None = None,
) -> Person:
    """Persons carry an ID number: validated, stored encrypted with a keyed digest, shown masked."""
    data = {**data}
    if id_number:
        number = id_number.strip().upper()
        try:
            validate_id_number(number)
        except ValidationError as exc:
            raise ValidationError({"id_number": exc.error_list}) from exc  # keeps the codes (id_check_char …)
        digest = lookup_digest(number)
        if Person.objects.filter(id_number_digest=digest).exclude(pk=instance.pk).exists():
            raise ValidationError({"id_number": ValidationError("该身份证号已登记在人员库中", code="duplicate")})
        if digest != instance.id_number_digest:
            data.update(
                id_number_encrypted=encrypt_text(number),
                id_number_digest=digest,
                id_number_masked=mask_id_number(number),
            )
    elif instance._state.adding:
        raise ValidationError({"id_number": ValidationError("身份证号为必填项", code="required")})
    return save_record(instance=instance, data=data, actor=actor, context=context, expected_version=expected_version)


def subject_organization(item: models.Model) -> Organization:
    """The enterprise a self-reported item is about (the one a false finding will count against)."""
    if isinstance(item, Organization):
        return item
    for attr in ("organization", "builder"):
        org = getattr(item, attr, None)
        if isinstance(org, Organization):
            return org
    raise TypeError(f"{type(item).__name__} is not a self-reported registry item")


def verify_item(*, item: SelfReported, verdict: str, reason: str, actor: User, context: AuditContext) -> Verification:
    """A regulator's verdict on a self-reported item: confirmed, false or pending, always with a reason."""
    if verdict not in Verdict.values:
        raise ValidationError({"verdict": "核实结论应为：待核实、属实或不实"})
    if not reason.strip():
        raise ValidationError({"reason": "请填写核实理由"})
    model = type(item)
    with transaction.atomic():
        locked = model._default_manager.select_for_update().get(pk=item.pk)
        if not can(actor, Action.VERIFY, locked):
            raise PermissionDenied(f"无权核实该{model._meta.verbose_name}")
        before = {f: getattr(locked, f) for f in SelfReported.VERIFICATION_FIELDS}
        locked.verification_status = verdict
        locked.verification_reason = reason.strip()
        locked.verified_at = timezone.now()
        locked.verified_by_name = context.actor_name
        locked.save(update_fields=[*SelfReported.VERIFICATION_FIELDS])
        verification = Verification.objects.create(
            content_type=ContentType.objects.get_for_model(model),
            object_id=locked.pk,
            item_repr=str(locked)[:255],
            item_version=locked.version,
            verdict=verdict,
            reason=reason.strip(),
            organization=subject_organization(locked),
            verifier=actor,
            verifier_name=context.actor_name,
            verifier_organization_name=context.organization_name,
        )
        after = {f: getattr(locked, f) for f in SelfReported.VERIFICATION_FIELDS}
        record_event(
            context=context,
            action=AuditAction.VERIFY,
            target=locked,
            changes=diff(_jsonable_map(before), _jsonable_map(after)),
            reason=reason.strip(),
        )
        announce_item(locked)
    item.refresh_from_db()
    return verification


def _jsonable_map(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: jsonable(v) for k, v in values.items()}
