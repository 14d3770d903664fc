"""The single writer of the audit trail, and its verification.

`record_event` is called inside the transaction of the action it describes, so an audited change and its
audit row commit or roll back together. The chain head row is locked while appending, so rows get
consecutive sequence numbers and each row's hash covers the previous row's hash.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from .models import AuditAction, AuditChainHead, AuditEvent, ChainVerification


@dataclass(frozen=True)
class AuditContext:
    """Who is acting and from where; built once per request (see accounts.context)."""

    actor_id: int | None = None
    actor_name: str = ""
    organization_id: int | None = None
    organization_name: str = ""
    ip_address: str | None = None


SYSTEM = AuditContext(actor_name="系统")


def jsonable(value: Any) -> Any:
    """A value as it is stored in the audit row: stable across databases and JSON round trips."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (Decimal, float)):
        return str(value)
    if isinstance(value, dt.datetime):
        return (
            timezone.localtime(value).isoformat(timespec="seconds") if timezone.is_aware(value) else value.isoformat()
        )
    if isinstance(value, (dt.date, uuid.UUID)):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [jsonable(v) for v in value]
    return str(value)


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The audited view of a row: concrete fields by verbose name key, related rows by their text."""
    exclude = {name for klass in type(instance).__mro__ for name in klass.__dict__.get("audit_exclude", ())}
    result: dict[str, Any] = {}
    for f in instance._meta.concrete_fields:
        if f.name in exclude or (fields is not None and f.name not in fields) or f.primary_key:
            continue
        if f.is_relation:
            result[f.name] = jsonable(getattr(instance, f.name))
        elif f.choices:
            result[f.name] = jsonable(getattr(instance, f"get_{f.name}_display")())
        else:
            result[f.name] = jsonable(f.value_from_object(instance))
    return result


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Fields whose value changed, as {field: [old, new]}."""
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    return {
        k: [before.get(k), after.get(k)]
        for k in keys
        if before.get(k) != after.get(k) and not (k not in before and after.get(k) in (None, ""))
    }


def record_event(
    *,
    context: AuditContext,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    target_repr: str = "",
    changes: Mapping[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
        target_repr = target_repr or str(target)
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head, _ = AuditChainHead.objects.get_or_create(pk=1)
            head = AuditChainHead.objects.select_for_update().get(pk=1)
        event = AuditEvent(
            seq=head.last_seq + 1,
            occurred_at=timezone.now(),
            actor_id=context.actor_id,
            actor_name=context.actor_name[:150],
            organization_id=context.organization_id,
            organization_name=context.organization_name[:200],
            ip_address=context.ip_address,
            action=action,
            target_type=target_type,
            target_id=target_id[:64],
            target_repr=target_repr[:255],
            changes=jsonable(dict(changes or {})),
            reason=reason,
            prev_hash=head.last_hash,
        )
        event.hash = event.compute_hash()
        event.save()
        head.last_seq = event.seq
        head.last_hash = event.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return event


@dataclass
class ChainReport:
    checked: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain() -> ChainReport:
    """Recompute every row's hash in sequence order; report edited, missing and re-linked rows."""
    report = ChainReport()
    expected_seq = 1
    prev_hash = "0" * 64
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=5000):
        report.checked += 1
        if event.seq != expected_seq:
            report.problems.append(
                {
                    "seq": expected_seq,
                    "kind": "missing",
                    "detail": f"缺少序号 {expected_seq}–{event.seq - 1} 的记录（已被删除）",
                }
            )
        elif event.prev_hash != prev_hash:
            report.problems.append({"seq": event.seq, "kind": "relinked", "detail": "前序哈希与上一条记录不符"})
        if event.compute_hash() != event.hash:
            report.problems.append({"seq": event.seq, "kind": "modified", "detail": "记录内容与哈希不符（已被修改）"})
        expected_seq = event.seq + 1
        prev_hash = event.hash
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_seq != expected_seq - 1:
        report.problems.append(
            {
                "seq": expected_seq,
                "kind": "missing",
                "detail": f"链尾缺少序号 {expected_seq}–{head.last_seq} 的记录（已被删除）",
            }
        )
    elif head is not None and head.last_seq and head.last_hash != prev_hash:
        report.problems.append({"seq": head.last_seq, "kind": "modified", "detail": "链头哈希与最后一条记录不符"})
    return report


def run_chain_verification(*, context: AuditContext) -> ChainVerification:
    report = verify_chain()
    with transaction.atomic():
        result = ChainVerification.objects.create(
            checked=report.checked, ok=report.ok, problems=report.problems, ran_by_name=context.actor_name
        )
        record_event(
            context=context,
            action=AuditAction.AUDIT_VERIFY,
            target_type="audit.chain",
            target_repr="审计链",
            changes={"checked": report.checked, "ok": report.ok, "problems": len(report.problems)},
        )
    return result
