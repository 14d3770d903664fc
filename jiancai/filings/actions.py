"""Filing records: the one code path behind web forms, the API and bulk imports.

`file_records` takes raw rows of one kind, validates them (filings.schemas), and stores every good row
idempotently by its natural key: a new key creates version 1, the same content again changes nothing, other
content creates the next version and retires the previous one. A bad row is reported with its reasons and
never stops the good ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from jiancai.accounts.access import Action, can, role_allows
from jiancai.accounts.models import Organization, User
from jiancai.audit.actions import AuditContext, jsonable, record_event, snapshot
from jiancai.audit.models import AuditAction

from .models import FILING_MODELS, Channel, Filing, FilingStatus
from .schemas import SCHEMAS, FieldError, ParsedRow, Resolver, check_row, parse_row
from .signals import announce

# Which enterprise kinds (OrganizationKind.code) may file each record kind.
FILER_KINDS: dict[str, frozenset[str]] = {
    "supply": frozenset({"supplier", "producer", "concrete_plant", "mortar_plant"}),
    "purchase": frozenset({"contractor"}),
    "test_report": frozenset({"laboratory"}),
    "tender": frozenset({"builder"}),
    "ticket": frozenset({"concrete_plant"}),
    "project_event": frozenset({"builder"}),
}
KIND_LABELS = {
    "supplier": "供应企业",
    "producer": "生产企业",
    "concrete_plant": "预拌混凝土企业",
    "mortar_plant": "预拌砂浆企业",
    "contractor": "施工单位",
    "laboratory": "检测机构",
    "builder": "建设单位",
}

WRITE_BATCH = 2000


class Outcome:
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REFUSED = "refused"


@dataclass
class RowResult:
    index: int
    outcome: str
    key: dict[str, Any]
    errors: list[FieldError] = field(default_factory=list)
    version: int | None = None
    pk: int | None = None


@dataclass
class BatchResult:
    kind: str
    rows: list[RowResult]

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def refused(self) -> list[RowResult]:
        return [r for r in self.rows if r.outcome == Outcome.REFUSED]

    def summary(self) -> dict[str, int]:
        return {o: self.count(o) for o in (Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED, Outcome.REFUSED)}


_JSON_NATIVE = frozenset({str, int, bool, type(None)})


def content_hash(values: Mapping[str, Any]) -> str:
    """The filed content only: the status is compared separately, since submit and withdraw change it in place.

    SHA-256 of the canonical JSON of the values (keys sorted, each value as `audit.jsonable` writes it).
    Numbers are normalised, so 100, "100.000" and the stored Decimal("100.000") are the same content. Values JSON
    takes as they are skip `jsonable`: the same text, computed faster (every channel calls this for every row).
    """
    normal = {
        k: v if type(v) in _JSON_NATIVE else jsonable(v.normalize() if isinstance(v, Decimal) else v)
        for k, v in values.items()
    }
    payload = json.dumps(normal, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def _refuse(parsed: ParsedRow, field_key: str, code: str, message: str) -> None:
    parsed.errors.append(FieldError(field_key, code, message))


@dataclass
class PreparedBatch:
    """Rows of one kind after validation (`prepare_records`), ready to be versioned and written (`store_records`)."""

    kind: str
    model: type[Filing]
    schema: Any
    key_fields: list[str]
    results: list[RowResult]
    good: list[tuple[int, tuple[Any, ...], dict[str, Any]]]  # (row index, natural key, model values)
    status: str
    channel: str
    actor: User | None


def file_records(
    *,
    kind: str,
    rows: Sequence[Mapping[str, Any]],
    context: AuditContext,
    channel: str,
    actor: User | None,
    status: str = FilingStatus.SUBMITTED,
    expected_versions: Sequence[int | None] | None = None,
    today: dt.date | None = None,
) -> BatchResult:
    """File rows (keyed by the FORMATS.md English keys) of one kind.

    `actor` is the enterprise user filing; None means the platform's own import tool, which files on behalf
    of the organizations the rows name (their kind is still checked). The two halves, `prepare_records`
    (validation, no writes) and `store_records` (versioning, writing, audit), are what the bulk import calls
    separately so that it can validate the next chunk while the database writes this one.
    """
    batch = prepare_records(kind=kind, rows=rows, channel=channel, actor=actor, status=status, today=today)
    return store_records(batch, context=context, expected_versions=expected_versions)


def prepare_records(
    *,
    kind: str,
    rows: Sequence[Mapping[str, Any]],
    channel: str,
    actor: User | None,
    status: str = FilingStatus.SUBMITTED,
    today: dt.date | None = None,
    resolver: Resolver | None = None,
) -> PreparedBatch:
    """Validate rows of one kind: parse, resolve references, check the filer, refuse keys repeated in the batch.

    Reads the database (references, enterprise kinds) but writes nothing. `resolver` may be kept across the
    batches of one import, so every enterprise, project and category is looked up once.
    """
    if kind not in SCHEMAS:
        raise ValidationError({"kind": f"未知的记录类型“{kind}”"})
    schema, model = SCHEMAS[kind], FILING_MODELS[kind]
    if actor is not None and not role_allows(actor, model, Action.CHANGE):
        raise PermissionDenied(f"无权填报{model._meta.verbose_name}")
    if status not in (FilingStatus.DRAFT, FilingStatus.SUBMITTED):
        raise ValidationError({"status": "状态只能是草稿或已提交"})
    today = today or timezone.localdate()
    parsed = [parse_row(schema, r) for r in rows]
    resolver = resolver or Resolver()
    resolver.prefetch(schema, parsed)
    values = [check_row(schema, p, resolver, today) for p in parsed]
    filer_field = schema.filer_key or "project_code"
    _check_filers(kind, parsed, values, actor, filer_field)

    key_fields = [f"{k}_id" if k in model.relation_keys() else k for k in model.natural_key]
    key_inputs = _key_inputs(schema, model)
    results: list[RowResult] = []
    seen: dict[tuple[Any, ...], int] = {}
    good: list[tuple[int, tuple[Any, ...], dict[str, Any]]] = []
    for i, (p, v) in enumerate(zip(parsed, values, strict=True)):
        key = tuple(v.get(k) for k in key_fields)
        key_text = {k: rows[i].get(k) for k in key_inputs}
        if not p.errors and key in seen:
            _refuse(p, model.natural_key[-1], "duplicate_in_batch", f"与同批第{seen[key] + 1}条记录的编号重复")
        if p.errors:
            results.append(RowResult(i, Outcome.REFUSED, key_text, p.errors))
            continue
        seen[key] = i
        good.append((i, key, v))
        results.append(RowResult(i, Outcome.CREATED, key_text))
    return PreparedBatch(kind, model, schema, key_fields, results, good, status, channel, actor)


def store_records(
    batch: PreparedBatch, *, context: AuditContext, expected_versions: Sequence[int | None] | None = None
) -> BatchResult:
    """Version and write the valid rows of a prepared batch in one transaction with its audit row.

    A key another writer filed between our read and our write (IntegrityError) is read again and retried once;
    still conflicting, the batch's rows are refused with `conflict`, never a server error.
    """
    results = batch.results
    for attempt in (1, 2):
        try:
            _store(batch, results, expected_versions, context)
            break
        except IntegrityError:
            # Another request filed one of these keys between our read and our write: read again and retry once.
            if attempt == 2:
                for i, _, _ in batch.good:
                    results[i].outcome, results[i].pk, results[i].version = Outcome.REFUSED, None, None
                    results[i].errors = [
                        FieldError(_key_field(batch.schema, batch.model), "conflict", "该编号正被同时填报，请稍后重试")
                    ]
    announce(batch.model, (r.pk for r in results if r.outcome in (Outcome.CREATED, Outcome.UPDATED)))
    return BatchResult(batch.kind, results)


def _store(
    batch: PreparedBatch,
    results: list[RowResult],
    expected_versions: Sequence[int | None] | None,
    context: AuditContext,
) -> None:
    """Version and write the valid rows in one transaction (raises IntegrityError on a concurrent write)."""
    model, schema, status, good = batch.model, batch.schema, batch.status, batch.good
    for i, _, _ in good:
        results[i].outcome, results[i].errors, results[i].version, results[i].pk = Outcome.CREATED, [], None, None
    current = _current_versions(model, batch.key_fields, [k for _, k, _ in good])
    retire: list[int] = []
    new_rows: list[tuple[int, int, str, dict[str, Any]]] = []  # (row index, version, content hash, model values)
    for i, key, v in good:
        digest = content_hash(v)
        existing = current.get(key)
        result = results[i]
        if existing is None:  # the common case of a bulk import: a new key
            result.version = 1
            new_rows.append((i, 1, digest, v))
            continue
        expected = expected_versions[i] if expected_versions is not None else None
        if existing["filer_id"] != v.get("filer_id"):
            # A key without the filer in it (a tender number): another organization's record is not corrected.
            result.outcome = Outcome.REFUSED
            result.errors = [FieldError(_key_field(schema, model), "key_taken", "该编号已被其他单位填报")]
            continue
        # Same content and status as the current version: nothing to do, whichever version the sender had read
        # (so a retried correction is answered "unchanged", not "stale").
        if existing["content_hash"] == digest and existing["status"] == status:
            result.outcome, result.version, result.pk = Outcome.UNCHANGED, existing["version"], existing["pk"]
            continue
        if expected is not None and existing["version"] != expected:
            result.outcome = Outcome.REFUSED
            result.errors = [
                FieldError(
                    "version",
                    "stale_version",
                    f"该记录已被修改（当前版本 {existing['version']}，提交的是版本 {expected}），请刷新后重新编辑",
                )
            ]
            continue
        if existing["status"] == FilingStatus.SUBMITTED and status == FilingStatus.DRAFT:
            result.outcome = Outcome.REFUSED
            result.errors = [FieldError("status", "already_submitted", "该记录已提交，修改后须再次提交，不能改回草稿")]
            continue
        retire.append(existing["pk"])
        result.outcome = Outcome.UPDATED
        result.version = existing["version"] + 1
        new_rows.append((i, result.version, digest, v))

    common = {
        "is_current": True,
        "status": status,
        "channel": batch.channel,
        "filed_by_id": batch.actor.pk if batch.actor else None,
        "filed_by_name": context.actor_name,
    }
    with transaction.atomic():
        if retire:
            for start in range(0, len(retire), WRITE_BATCH):
                model.objects.filter(pk__in=retire[start : start + WRITE_BATCH]).update(is_current=False)
        first: Filing | None = None
        if connection.vendor == "postgresql" and len(new_rows) >= COPY_MIN_ROWS:
            pks = _copy_versions(model, new_rows, common)
        elif connection.vendor == "sqlite" and len(new_rows) >= COPY_MIN_ROWS:
            pks = _insert_versions_sqlite(model, new_rows, common)
        else:
            objs = [model(**v, version=version, content_hash=digest, **common) for _, version, digest, v in new_rows]
            model.objects.bulk_create(objs, batch_size=WRITE_BATCH)
            pks = [o.pk for o in objs]
            first = objs[0] if objs else None
        for (i, _, _, _), pk in zip(new_rows, pks, strict=True):
            results[i].pk = pk
        _audit_batch(model, batch.kind, batch.channel, results, len(new_rows), first, context)


# A batch of at least this many new versions is written with COPY on PostgreSQL (bulk_create below, and on SQLite).
COPY_MIN_ROWS = 200


def _copy_versions(
    model: type[Filing], new_rows: list[tuple[int, int, str, dict[str, Any]]], common: dict[str, Any]
) -> list[int]:
    """Write new versions with PostgreSQL's COPY: the rows bulk_create would insert, 4 × faster.

    The ids are taken from the table's identity sequence first, so the caller gets them as from bulk_create.
    Every concrete column is written: the row's model values, version and hash, the batch's common values, and
    for any other column its model default (auto_now_add: now), as Model() + bulk_create would fill them.
    """
    table = model._meta.db_table
    value_keys = list(new_rows[0][3])
    given = {*value_keys, "id", "version", "content_hash", *common}
    columns, constants = _column_values(model, value_keys, timezone.now(), given, common)
    fixed = tuple(constants.values())
    column_of: dict[str, str] = {f.attname: f.column for f in model._meta.concrete_fields}  # type: ignore[misc]
    sql_columns = ", ".join(connection.ops.quote_name(column_of[c]) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(new_rows)]
        )
        pks = [row[0] for row in cursor.fetchall()]
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {connection.ops.quote_name(table)} ({sql_columns}) FROM STDIN") as copy:
            write = copy.write_row
            for pk, (_, version, digest, v) in zip(pks, new_rows, strict=True):
                if len(v) != len(value_keys):
                    raise ValueError(f"{model.__name__}: rows with different fields in one batch")
                write((pk, version, digest, *v.values(), *fixed))
    return pks


# Field classes whose get_db_prep_save hands a cleaned value to the database driver unchanged: their values are
# written as they are, skipping Django's per-value preparation (the bulk of bulk_create's time on SQLite).
_PASS_THROUGH_FIELDS: tuple[type[models.Field], ...] = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
)


def _passes_through(field: models.Field) -> bool:
    """Whether the field hands a cleaned value to the driver unchanged: one of the plain field classes without an
    override of their preparation, or a foreign key to an integer primary key."""
    if isinstance(field, models.ForeignKey):
        return isinstance(field.target_field, models.AutoField | models.BigAutoField)
    cls = type(field)
    return any(
        isinstance(field, base)
        and all(
            getattr(cls, m) is getattr(base, m) for m in ("get_db_prep_save", "get_db_prep_value", "get_prep_value")
        )
        for base in _PASS_THROUGH_FIELDS
    )


def _column_values(
    model: type[Filing], value_keys: list[str], now: Any, given: set[str], common: dict[str, Any]
) -> tuple[list[str], dict[str, Any]]:
    """The columns a new version writes, after id, version and content hash: the row's model values, then the
    constants (the batch's common values, and for any other column its model default; auto_now_add: now)."""
    constants: dict[str, Any] = dict(common)
    for f in model._meta.concrete_fields:
        if f.attname not in given:
            constants[f.attname] = now if getattr(f, "auto_now_add", False) else f.get_default()
    return ["id", "version", "content_hash", *value_keys, *constants], constants


def _insert_versions_sqlite(
    model: type[Filing], new_rows: list[tuple[int, int, str, dict[str, Any]]], common: dict[str, Any]
) -> list[int]:
    """Write new versions on SQLite with one prepared INSERT run by executemany: the rows bulk_create would insert,
    without compiling an INSERT statement per batch and preparing every value through the ORM.

    Values are prepared per column: fields whose preparation is the identity pass through, the others (dates,
    decimals, foreign keys to non-integer keys…) go through the field's own get_db_prep_save, constants once.
    The ids: the connection holds SQLite's write lock for the whole transaction, so the rows of one executemany
    get consecutive ids ending at last_insert_rowid() (the table's AUTOINCREMENT never reuses or skips within it).
    """
    table = model._meta.db_table
    db = transaction.get_connection()  # the wrapper itself: the `connection` proxy costs a lookup per use
    value_keys = list(new_rows[0][3])
    fields = {f.attname: f for f in model._meta.concrete_fields}
    given = {*value_keys, "id", "version", "content_hash", *common}
    columns, constants = _column_values(model, value_keys, timezone.now(), given, common)
    fixed = tuple(fields[name].get_db_prep_save(value, db) for name, value in constants.items())
    preparers = [None if _passes_through(fields[name]) else fields[name].get_db_prep_save for name in value_keys]
    sql_columns = ", ".join(connection.ops.quote_name(str(fields[c].column)) for c in columns if c != "id")
    placeholders = ", ".join(["%s"] * (len(columns) - 1))

    def params() -> Iterator[tuple[Any, ...]]:
        for _, version, digest, v in new_rows:
            if len(v) != len(value_keys):
                raise ValueError(f"{model.__name__}: rows with different fields in one batch")
            values = [
                value if prep is None or value is None else prep(value, db)
                for prep, value in zip(preparers, v.values(), strict=True)
            ]
            yield (version, digest, *values, *fixed)

    with connection.cursor() as cursor:
        # Table and column names come from the model, values are parameters.
        insert = f"INSERT INTO {connection.ops.quote_name(table)} ({sql_columns}) VALUES ({placeholders})"  # noqa: S608
        cursor.executemany(insert, cast(Any, params()))  # Django's SQLite cursor takes an iterator of rows
        cursor.execute("SELECT last_insert_rowid()")
        last = cursor.fetchone()[0]
    return list(range(last - len(new_rows) + 1, last + 1))


def _key_field(schema: Any, model: type[Filing]) -> str:
    """The input key that names the record within its filer (supply_no, tender_no, event)."""
    return _key_inputs(schema, model)[-1]


def _key_inputs(schema: Any, model: type[Filing]) -> list[str]:
    """The input keys that make up the natural key (e.g. supplier_uscc and supply_no)."""
    names = []
    for key_field in model.natural_key:
        for spec in schema.fields:
            if (spec.attr or spec.key) == key_field:
                names.append(spec.key)
    return names


def _check_filers(
    kind: str, parsed: list[ParsedRow], values: list[dict[str, Any]], actor: User | None, filer_field: str
) -> None:
    allowed = FILER_KINDS[kind]
    filer_ids: set[int] = {v["filer_id"] for v in values if v.get("filer_id")}
    kinds_of: dict[int, set[str]] = defaultdict(set)
    through = Organization.kinds.through
    for org_id, code in through.objects.filter(organization_id__in=filer_ids).values_list(
        "organization_id", "organizationkind__code"
    ):
        kinds_of[org_id].add(code)
    wanted = "、".join(KIND_LABELS[k] for k in sorted(allowed))
    for p, v in zip(parsed, values, strict=True):
        filer_id = v.get("filer_id")
        if filer_id is None:
            continue
        if actor is not None and filer_id != actor.organization_id:
            _refuse(
                p,
                filer_field,
                "not_own",
                "只能填报本单位的记录" if kind not in ("tender", "project_event") else "只能由项目的建设单位填报",
            )
        elif not (kinds_of[filer_id] & allowed):
            _refuse(p, filer_field, "wrong_filer_kind", f"该类记录只能由{wanted}填报")


def _current_versions(
    model: type[Filing], key_fields: list[str], keys: list[tuple[Any, ...]]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The current version of each key: grouped by all but the last key field, one query per group chunk."""
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for key in keys:
        groups[key[:-1]].append(key[-1])
    *prefix_fields, last = key_fields
    columns = list(dict.fromkeys(["pk", "version", "status", "content_hash", "filer_id", *key_fields]))
    for prefix, lasts in groups.items():
        for start in range(0, len(lasts), 5000):
            chunk = lasts[start : start + 5000]
            if connection.vendor == "postgresql" and None not in prefix:
                rows = _current_versions_probed(model, columns, prefix_fields, prefix, last, chunk)
            else:
                condition = Q(is_current=True, **dict(zip(prefix_fields, prefix, strict=True)))
                condition &= Q(**{f"{last}__in": chunk})
                rows = list(model.objects.filter(condition).values(*columns))
            for row in rows:
                found[tuple(row[k] for k in key_fields)] = row
    return found


def _current_versions_probed(
    model: type[Filing],
    columns: list[str],
    prefix_fields: list[str],
    prefix: tuple[Any, ...],
    last: str,
    lasts: list[Any],
) -> list[dict[str, Any]]:
    """The same rows as the ORM query of `_current_versions`, on PostgreSQL, as one index probe per key.

    `LIMIT 1` in the LATERAL subquery (a key has at most one current version: the `…_one_current` constraint)
    keeps the lookup a nested loop of per-key index probes, never a bitmap or hash over all the filer's rows.
    Which index is probed still depends on the statistics: with those of a much smaller table PostgreSQL may
    probe the filer index and filter the keys (docs/benchmarks.md, "Stale statistics"), which is why a large
    import keeps them fresh (`imports._Statistics`).
    """
    meta = model._meta
    q = connection.ops.quote_name
    column_of: dict[str, str] = {f.attname: f.column for f in meta.concrete_fields}  # type: ignore[misc]
    column_of["pk"] = meta.pk.column  # type: ignore[assignment]
    last_field = meta.get_field(last.removesuffix("_id"))
    numeric = last_field.is_relation or last_field.get_internal_type().endswith("IntegerField")
    conditions = "".join(f"AND t.{q(column_of[f])} = %s " for f in prefix_fields)
    # Only quoted model table and column names are formatted into the SQL; the keys are parameters.
    sql = (
        f"SELECT {', '.join(f't.{q(column_of[c])}' for c in columns)} "  # noqa: S608
        f"FROM unnest(%s::{'bigint[]' if numeric else 'text[]'}) AS k(v) CROSS JOIN LATERAL ("
        f"SELECT * FROM {q(meta.db_table)} t WHERE t.{q('is_current')} {conditions}"
        f"AND t.{q(column_of[last])} = k.v LIMIT 1) AS t"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(lasts), *prefix])
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _audit_batch(
    model: type[Filing],
    kind: str,
    channel: str,
    results: list[RowResult],
    stored: int,
    first: Filing | None,
    context: AuditContext,
) -> None:
    """One audit row per stored record for single filings; one summary row per batch otherwise.

    The previous versions themselves stay in the table, so a batch's audit row plus the version history say
    who changed what.
    """
    if not stored:
        return
    if len(results) == 1 and channel != Channel.IMPORT and first is not None:
        obj = first
        action = AuditAction.CREATE if obj.version == 1 else AuditAction.UPDATE
        record_event(context=context, action=action, target=obj, changes=snapshot(obj), reason=f"版本 {obj.version}")
        return
    counts = BatchResult(kind, results).summary()
    record_event(
        context=context,
        action=AuditAction.CREATE,
        target_type=model._meta.label_lower,
        target_repr=f"{model._meta.verbose_name}批量填报（{Channel(channel).label}）",
        changes={"counts": counts, "keys": [r.key for r in results if r.outcome in ("created", "updated")][:50]},
    )


def withdraw_filing(*, filing: Filing, reason: str, actor: User, context: AuditContext) -> Filing:
    """Withdraw the current version of a filing, with a reason. The record and its history stay."""
    if not reason.strip():
        raise ValidationError({"reason": ValidationError("请填写撤回原因", code="required")})
    model = type(filing)
    with transaction.atomic():
        locked = cast(Filing, model.objects.select_for_update().get(pk=filing.pk))
        if not can(actor, Action.CHANGE, locked):
            raise PermissionDenied(f"无权撤回该{model._meta.verbose_name}")
        if not locked.is_current:
            raise ValidationError("只能撤回当前版本", code="not_current")
        if locked.status == FilingStatus.WITHDRAWN:
            raise ValidationError("该记录已撤回", code="already_withdrawn")
        before = locked.status
        locked.status = FilingStatus.WITHDRAWN
        locked.withdrawn_reason = reason.strip()
        locked.save(update_fields=["status", "withdrawn_reason"])
        record_event(
            context=context,
            action=AuditAction.UPDATE,
            target=locked,
            changes={"status": [FilingStatus(before).label, FilingStatus.WITHDRAWN.label]},
            reason=reason.strip(),
        )
        announce(model, [locked.pk])
    return locked


def submit_draft(*, filing: Filing, actor: User, context: AuditContext) -> Filing:
    """Turn a draft into a submitted filing."""
    model = type(filing)
    with transaction.atomic():
        locked = cast(Filing, model.objects.select_for_update().get(pk=filing.pk))
        if not can(actor, Action.CHANGE, locked):
            raise PermissionDenied(f"无权提交该{model._meta.verbose_name}")
        if locked.status != FilingStatus.DRAFT or not locked.is_current:
            raise ValidationError("只有当前版本的草稿可以提交", code="not_draft")
        locked.status = FilingStatus.SUBMITTED
        locked.save(update_fields=["status"])
        record_event(
            context=context,
            action=AuditAction.UPDATE,
            target=locked,
            changes={"status": [FilingStatus.DRAFT.label, FilingStatus.SUBMITTED.label]},
        )
        announce(model, [locked.pk])
    return locked
