"""The single writer of the audit trail, and its verification.

`record_event` is called inside the transaction of the action it describes, so an audited change and its
audit row commit or roll back together. The chain head row is locked while appending, so rows get
consecutive sequence numbers and each row's hash covers the previous row's hash.

`queue_event` is the same for high-volume events that change nothing (each API request's `token.use`): the row
is written in the caller's transaction to `PendingEvent`, without the head's lock, and `chain_pending` appends
queued rows to the chain in batches soon after (`chaining.py` says when). With `AUDIT_CHAIN_INLINE` (tests, the
SQLite demo) `queue_event` is `record_event`.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone

from jiancai.accounts import prepared

from .models import AuditAction, AuditChainHead, AuditEvent, ChainVerification, PendingEvent, chain_hash


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
    fields = _event_fields(context, action, target, target_type, target_id, target_repr, changes, reason)
    with transaction.atomic():
        head = _locked_head()
        event = AuditEvent(seq=head.last_seq + 1, occurred_at=timezone.now(), prev_hash=head.last_hash, **fields)
        event.hash = event.compute_hash()
        event.save()
        head.last_seq = event.seq
        head.last_hash = event.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return event


def _event_fields(
    context: AuditContext,
    action: str,
    target: models.Model | None,
    target_type: str,
    target_id: str,
    target_repr: str,
    changes: Mapping[str, Any] | None,
    reason: str,
) -> dict[str, Any]:
    """The columns an event has before it joins the chain (shared by `AuditEvent` and `PendingEvent`)."""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
        target_repr = target_repr or str(target)
    return {
        "actor_id": context.actor_id,
        "actor_name": context.actor_name[:150],
        "organization_id": context.organization_id,
        "organization_name": context.organization_name[:200],
        "ip_address": context.ip_address,
        "action": action,
        "target_type": target_type,
        "target_id": target_id[:64],
        "target_repr": target_repr[:255],
        "changes": jsonable(dict(changes or {})),
        "reason": reason,
    }


def _locked_head() -> AuditChainHead:
    """The chain head, locked until the caller's transaction ends (created on first use)."""
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditChainHead.objects.get_or_create(pk=1)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def queue_event(
    *,
    context: AuditContext,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    target_repr: str = "",
    changes: Mapping[str, Any] | None = None,
) -> None:
    """Audit an event that changes nothing, appended to the chain shortly after its transaction commits.

    Same arguments as `record_event`. One INSERT and no lock: the caller does not wait for the chain. The queued row
    commits or rolls back with the caller's transaction; the chained row keeps its `occurred_at`.
    """
    if settings.AUDIT_CHAIN_INLINE:
        record_event(
            context=context, action=action, target=target, target_type=target_type, target_id=target_id,
            target_repr=target_repr, changes=changes,
        )  # fmt: skip
        return
    values = _event_fields(context, action, target, target_type, target_id, target_repr, changes, "")
    values["occurred_at"] = timezone.now()
    sql, fields = _queue_sql()
    prepared.run(sql, _db_params(fields, values, connections[DEFAULT_DB_ALIAS]), fetch=False)
    from . import chaining  # the thread that chains soon after commit; imported here: it imports this module

    transaction.on_commit(chaining.request_chaining)


# The columns a queued row carries into the chain (all but its own id).
QUEUED_FIELDS = tuple(f for f in PendingEvent._meta.concrete_fields if not f.primary_key)

# Columns whose values reach `_db_params` already in the column's own type (text, integers): they go to the database
# as they are; the others (time, address, JSON, foreign keys) through their field's `get_db_prep_save`.
_AS_IS = (models.CharField, models.TextField, models.BigIntegerField)


def _db_params(fields: Sequence[models.Field[Any, Any]], values: Mapping[str, Any], db: Any) -> list[Any]:
    """The query parameters of `values` (by attname) for the columns of `fields`, as `Model.save` would send them."""
    return [values[f.attname] if type(f) in _AS_IS else f.get_db_prep_save(values[f.attname], db) for f in fields]


@functools.cache
def _queue_sql() -> tuple[str, tuple[models.Field[Any, Any], ...]]:
    """The INSERT of a queued row, a prepared statement (`accounts.prepared`): it runs on every API request."""
    fields = QUEUED_FIELDS
    quote = connection.ops.quote_name
    # Names from the model's metadata; every value is a parameter.
    names = ", ".join(quote(str(f.column)) for f in fields)
    sql = (
        f"INSERT INTO {quote(PendingEvent._meta.db_table)} ({names}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    return sql, fields


CHAIN_BATCH = 5000


def chain_pending(*, batch: int = CHAIN_BATCH, unless_busy: bool = False) -> int | None:
    """Append queued events (`PendingEvent`) to the chain in id order, `batch` per transaction; return how many.

    Each transaction holds the head's lock once for its whole batch, inserts the chained rows with one statement and
    deletes the queued ones, so a row is chained exactly once even when several processes chain at the same time.
    With `unless_busy` (the chaining threads) it returns None as soon as another process holds the head: that one
    is chaining, and the caller tries again a little later for what that one started too early to see. A queued
    row whose actor or organization has been deleted since is chained without that link (its names stay). It stops
    after the first batch that was not full.
    """
    total = 0
    while True:
        with transaction.atomic():
            chained = _chain_batch(batch, unless_busy=unless_busy)
        if chained is None:
            return None
        total += chained
        if chained < batch:
            # Short batch: the queue was empty at that moment. Rows committed since woke their own process's thread
            # (`chaining.request_chaining`); draining until a batch finds nothing would, under steady load, chain a
            # few rows at a time in a loop that never ends.
            return total


def _chain_batch(batch: int, *, unless_busy: bool) -> int | None:
    """Chain up to `batch` queued rows in the caller's transaction; None: another process holds the head.

    Set-based, with no model instance per row: the queued rows are read in id order, their hashes computed from the
    plain values (`models.chain_hash`), then moved. On PostgreSQL one statement moves them: it deletes exactly the
    rows read and inserts them into the chain, taking every column from the deleted row but those the chain adds
    (sequence number, hashes, and the actor and organization, set to NULL when deleted since), which come as arrays.
    Elsewhere (SQLite) one DELETE … RETURNING takes them and one `executemany` inserts them. Rows committed meanwhile
    stay queued for the next batch; only one process chains at a time (the head's lock).
    Under steady API load this runs every second in every server process, beside the requests.
    """
    if unless_busy and AuditChainHead.objects.filter(pk=1).exists():
        head = AuditChainHead.objects.select_for_update(skip_locked=True).filter(pk=1).first()
        if head is None:
            return None
    else:
        head = _locked_head()
    sql = _chain_sql()
    db = connections[DEFAULT_DB_ALIAS]
    set_based = db.vendor == "postgresql"
    rows = prepared.convert(PendingEvent, prepared.run(sql.read if set_based else sql.take, [batch]))
    if not rows:
        return 0
    rows.sort(key=itemgetter(0))
    names = prepared.attnames(PendingEvent)
    # The related models by the chained table's own foreign keys: audit imports no model of accounts.
    users = AuditEvent._meta.get_field("actor").related_model._default_manager
    organizations = AuditEvent._meta.get_field("organization").related_model._default_manager
    actor_at, org_at = names.index("actor_id"), names.index("organization_id")
    actors = set(users.filter(pk__in={r[actor_at] for r in rows}).values_list("pk", flat=True))
    orgs = set(organizations.filter(pk__in={r[org_at] for r in rows}).values_list("pk", flat=True))
    seq, prev_hash = head.last_seq, head.last_hash
    chained = []
    for row in rows:
        values = dict(zip(names, row, strict=True))
        if values["actor_id"] not in actors:
            values["actor_id"] = None
        if values["organization_id"] not in orgs:
            values["organization_id"] = None
        seq += 1
        values["seq"], values["prev_hash"] = seq, prev_hash
        values["hash"] = prev_hash = chain_hash(values)
        chained.append(values)
    if set_based:
        arrays = [[values[name] for values in chained] for name in ("id", *CHAIN_ADDS)]
        moved = prepared.run(sql.move, arrays)[0][0]
        if moved != len(chained):  # only a chaining process deletes queued rows, and it holds the head: never
            raise RuntimeError(f"audit: {len(chained)} queued rows read, {moved} moved; the batch is rolled back")
    else:
        with db.cursor() as cursor:
            cursor.executemany(sql.insert, [_db_params(sql.chained_fields, values, db) for values in chained])
    head.last_seq, head.last_hash = seq, prev_hash
    head.save(update_fields=["last_seq", "last_hash"])
    return len(rows)


# What chaining adds to a queued row (the rest of a chained row is the queued row's own columns).
CHAIN_ADDS = ("actor_id", "organization_id", "seq", "prev_hash", "hash")


@dataclass(frozen=True)
class _ChainSQL:
    read: str  # PostgreSQL: the queued rows, all `PendingEvent` columns, id first
    move: str  # PostgreSQL: delete the rows read and insert them chained; answers how many
    take: str  # elsewhere: DELETE … RETURNING of the queued rows
    insert: str  # elsewhere: the INSERT of one chained row, parameters the `chained_fields` in order
    chained_fields: tuple[models.Field[Any, Any], ...]


@functools.cache
def _chain_sql() -> _ChainSQL:
    """The statements of `_chain_batch`, from the models' metadata (names only; every value is a parameter)."""
    quote = connection.ops.quote_name
    pending, pk = quote(PendingEvent._meta.db_table), quote(str(PendingEvent._meta.pk.column))
    chain = quote(AuditEvent._meta.db_table)
    queued = ", ".join(quote(str(f.column)) for f in PendingEvent._meta.concrete_fields)
    chained_fields = tuple(f for f in AuditEvent._meta.concrete_fields if not f.primary_key)
    columns = ", ".join(quote(str(f.column)) for f in chained_fields)
    types = {"actor_id": "bigint", "organization_id": "bigint", "seq": "bigint", "prev_hash": "text", "hash": "text"}
    arrays = ", ".join(["%s::bigint[]"] + [f"%s::{types[name]}[]" for name in CHAIN_ADDS])
    picked = ", ".join(
        f"v.{quote(f.attname)}" if f.attname in CHAIN_ADDS else f"taken.{quote(str(f.column))}" for f in chained_fields
    )
    move = (
        f"WITH v AS (SELECT * FROM unnest({arrays}) AS v(id, {', '.join(CHAIN_ADDS)})), "  # noqa: S608
        f"taken AS (DELETE FROM {pending} p USING v WHERE p.{pk} = v.id RETURNING p.*), "
        f"moved AS (INSERT INTO {chain} ({columns}) SELECT {picked} FROM taken JOIN v ON v.id = taken.{pk} "
        "RETURNING 1) "
        "SELECT count(*) FROM moved"
    )
    return _ChainSQL(
        read=f"SELECT {queued} FROM {pending} ORDER BY {pk} LIMIT %s",  # noqa: S608
        move=move,
        take=f"DELETE FROM {pending} WHERE {pk} IN (SELECT {pk} FROM {pending} ORDER BY {pk} LIMIT %s) "  # noqa: S608
        f"RETURNING {queued}",
        insert=f"INSERT INTO {chain} ({columns}) VALUES ({', '.join(['%s'] * len(chained_fields))})",  # noqa: S608
        chained_fields=chained_fields,
    )


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
    chain_pending()  # queued events first, so the verification covers everything audited so far
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
