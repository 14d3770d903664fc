"""Evaluate the rules and keep the alerts in step with their findings.

`evaluate(scope=None)` is the full re-evaluation (`manage.py run_checks`, the nightly job, a parameter change);
`evaluate(scope)` is the incremental one (filings arriving, a grace period ending). Both run each rule's one
queryset (`RuleLogic.subjects`) as set-based SQL; the full run reads only violating rows, the incremental run every
subject in scope (by its key alone where the rule has `key_columns`, then the violating ones in full). Then
`_reconcile` raises new alerts, refreshes evidence that changed, reopens alerts whose finding came back, and
resolves alerts whose finding is gone, writing an `AlertEvent` for each step. Alerts that a regulator dismissed or
escalated keep their status (their evidence is still refreshed).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.db import DatabaseError, connection, transaction
from django.db.models import Field
from django.utils import timezone

from .models import ACTIVE_STATUSES, Alert, AlertEvent, AlertEventKind, AlertStatus, EvaluationRun, Rule, RuleParameter
from .rules import RULES
from .rules.base import Context, Finding, RuleLogic, Scope, among, fmt_param

logger = logging.getLogger(__name__)

CHUNK = 2000


def sync_rules() -> dict[str, Rule]:
    """Make sure every rule in code has its row and a value for each parameter (the default, dated at first use).

    The rule's title, basis and description follow the code; `enabled` and the parameter values belong to the
    regulators and are never reset.
    """
    rows = {r.code: r for r in Rule.objects.all()}
    named: dict[int, set[str]] = {}
    for rule_id, name in RuleParameter.objects.order_by().values_list("rule_id", "name").distinct():
        named.setdefault(rule_id, set()).add(name)
    now = timezone.now()
    for code, logic in RULES.items():
        rule = rows.get(code)
        fields = {
            "title": logic.title,
            "basis": logic.basis,
            "subject_kind": logic.subject_kind,
            "applies_to": logic.applies_to,
            "description": logic.description,
        }
        if rule is None:
            rule = Rule.objects.create(code=code, **fields)
            rows[code] = rule
        elif any(getattr(rule, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(rule, k, v)
            rule.save(update_fields=list(fields))
        missing = [p for p in logic.params if p.name not in named.get(rule.pk, set())]
        if missing:
            RuleParameter.objects.bulk_create(
                RuleParameter(rule=rule, name=p.name, value=p.default, effective_from=now, reason="默认值")
                for p in missing
            )
    return rows


def parameters_in_force(rule: Rule, logic: RuleLogic, at: dt.datetime | None = None) -> dict[str, Decimal]:
    """The value of each parameter at `at` (now): the newest dated row not after it, else the default."""
    return _parameters_in_force([(rule, logic)], at)[rule.pk]


def _parameters_in_force(
    rules: Sequence[tuple[Rule, RuleLogic]], at: dt.datetime | None = None
) -> dict[int, dict[str, Decimal]]:
    """`parameters_in_force` of several rules in one query, by rule id."""
    at = at or timezone.now()
    values = {rule.pk: {p.name: p.default for p in logic.params} for rule, logic in rules}
    seen: set[tuple[int, str]] = set()
    for rule_id, name, value in (
        RuleParameter.objects.filter(rule_id__in=values, effective_from__lte=at)
        .order_by("rule_id", "name", "-effective_from", "-id")
        .values_list("rule_id", "name", "value")
    ):
        if (rule_id, name) not in seen and name in values[rule_id]:
            values[rule_id][name] = value
            seen.add((rule_id, name))
    return values


def parameter_snapshot(logic: RuleLogic, params: dict[str, Decimal]) -> dict[str, Any]:
    """What an alert records of the parameters: name -> {label, value, unit}, in the rule's order."""
    return {
        p.name: {"label": p.label, "value": fmt_param(params[p.name]), "unit": p.unit}
        for p in logic.params
        if p.name in params
    }


@dataclass
class RuleOutcome:
    raised: int = 0
    reopened: int = 0
    refreshed: int = 0
    resolved: int = 0
    findings: int = 0
    seconds: float = 0.0

    def add(self, other: RuleOutcome) -> None:
        self.raised += other.raised
        self.reopened += other.reopened
        self.refreshed += other.refreshed
        self.resolved += other.resolved
        self.findings += other.findings


@dataclass
class RunResult:
    run: EvaluationRun
    per_rule: dict[str, RuleOutcome] = field(default_factory=dict)

    @property
    def total(self) -> RuleOutcome:
        total = RuleOutcome()
        for o in self.per_rule.values():
            total.add(o)
        return total


def evaluate(
    scope: Scope | None = None,
    *,
    codes: Sequence[str] | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    mode: str | None = None,
) -> RunResult:
    """Evaluate the enabled rules (all, or `codes`) over everything (scope None) or over what `scope` names."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    rules = sync_rules()
    # Code order, except that rules reading other rules' alerts come last (they see this run's alerts).
    order = sorted(RULES, key=lambda c: (RULES[c].evaluate_last, c))
    wanted = [c for c in order if codes is None or c in codes]
    if mode is None:
        mode = EvaluationRun.Mode.FULL if scope is None else EvaluationRun.Mode.INCREMENTAL
    run = EvaluationRun.objects.create(
        mode=mode, rules=",".join(wanted)[:200], started_at=now, scope_size=scope.size if scope else 0
    )
    result = RunResult(run)
    to_run = [c for c in wanted if rules[c].enabled and (scope is None or RULES[c].is_affected_by(scope))]
    in_force = _parameters_in_force([(rules[c], RULES[c]) for c in to_run], now)  # one query for all rules
    with _planner_settings(incremental=scope is not None):
        for code in to_run:
            rule, logic = rules[code], RULES[code]
            started = time.perf_counter()
            params = in_force[rule.pk]
            ctx = Context(params=params, today=today, now=now)
            outcome = _evaluate_rule(rule, logic, ctx, scope, parameter_snapshot(logic, params))
            outcome.seconds = time.perf_counter() - started
            result.per_rule[code] = outcome
    total = result.total
    run.finished_at = timezone.now()
    run.raised, run.reopened, run.refreshed, run.resolved = (
        total.raised,
        total.reopened,
        total.refreshed,
        total.resolved,
    )
    run.detail = {
        code: {"seconds": round(o.seconds, 3), "findings": o.findings, "raised": o.raised, "resolved": o.resolved}
        for code, o in result.per_rule.items()
    }
    run.save()
    return result


# PostgreSQL session settings while the rules run (docs/benchmarks.md, "Cross-check rules"), restored after:
# * jit off: the rule statements are wide (many CASE and subquery expressions), so their estimated cost crosses
#   `jit_above_cost` even on small tables, and PostgreSQL spent seconds compiling each one (4.7 s of XC03's 5.2 s
#   at 10,000 supplies) to save far less;
# * cursor_tuple_fraction 1: the engine reads every row of a rule's server-side cursor, but PostgreSQL plans a
#   cursor for its first 10 % (the default 0.1) and chose row-by-row subplans over hash joins (XC08: 17.5 s
#   through the cursor against 4.7 s for the same statement run plainly, at 1,000,000 purchases);
# * work_mem 64 MB: the grouped rules (XC03–XC05, XC11, XC17, XC20) aggregate a million rows; with the 4 MB
#   default their sorts and hashes spill to disk.
PLANNER_SETTINGS = {"jit": "off", "cursor_tuple_fraction": "1", "work_mem": "64MB"}
# An incremental run reads a few thousand subjects by index, and its probes of the other tables should be index
# probes too. With 64 MB of work_mem PostgreSQL preferred to hash a whole table for a NOT EXISTS (a "hashed
# SubPlan": XC08 and XC10 hashed all 650,000 test reports, 0.6 s and 1.0 s, for 4,000–5,600 purchases), and with
# the default random_page_cost (4, a disk's) it chose a sequential scan of the purchases over two index scans for
# XC10's scope. 4 MB (PostgreSQL's default) and 1.1 (data in memory, as the recent rows an incremental run reads
# are) make both plans index plans: XC08 0.69 s → 0.10 s, XC10 1.03 s → 0.03 s (docs/benchmarks.md, run F).
INCREMENTAL_PLANNER_SETTINGS = {
    "jit": "off",
    "cursor_tuple_fraction": "1",
    "work_mem": "4MB",
    "random_page_cost": "1.1",
}


@contextmanager
def _planner_settings(incremental: bool = False) -> Iterator[None]:
    if connection.vendor != "postgresql":
        yield
        return
    settings = INCREMENTAL_PLANNER_SETTINGS if incremental else PLANNER_SETTINGS
    with connection.cursor() as cursor:
        for name, value in settings.items():
            cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
    try:
        yield
    finally:
        if not connection.needs_rollback:
            try:
                with connection.cursor() as cursor:
                    for name in settings:
                        cursor.execute(f"RESET {name}")
            except DatabaseError:  # the connection broke during the run: nothing to restore
                pass


def _evaluate_rule(
    rule: Rule, logic: RuleLogic, ctx: Context, scope: Scope | None, snapshot: dict[str, Any]
) -> RuleOutcome:
    # No ORDER BY: the rows are only collected (a model's default ordering made PostgreSQL sort every subject).
    queryset = logic.subjects(ctx, scope).order_by()
    evaluated: set[str] = set()
    if scope is None:
        rows: Iterable[Any] = queryset.filter(violates=True).iterator(chunk_size=CHUNK)
    else:
        # Every subject in scope, with its key alone (the violating ones are read in full below).
        rows = logic.light(queryset).iterator(chunk_size=CHUNK)
    violating: dict[str, Any] = {}
    for row in rows:
        ref = logic.ref(row)
        evaluated.add(ref)
        if row["violates"] and ref not in violating:
            violating[ref] = row
    if scope is not None and not evaluated:
        return RuleOutcome()  # no subject in scope: no finding, and no alert to resolve
    if scope is not None and logic.key_columns and violating:
        light, violating = list(violating.values()), {}
        for row in logic.with_evidence(light, ctx):
            violating.setdefault(logic.ref(row), row)
    # The evidence some rules list beyond their row (XC05's unmatched lines, XC09's trace) is read for all the
    # violating rows at once, not with queries per finding.
    logic.prepare(list(violating.values()), ctx)
    findings: dict[str, Finding] = {ref: logic.finding(row, ctx) for ref, row in violating.items()}
    with transaction.atomic():
        return _reconcile(rule, ctx, findings, None if scope is None else evaluated, snapshot)


def _reconcile(
    rule: Rule,
    ctx: Context,
    findings: dict[str, Finding],
    evaluated: set[str] | None,
    snapshot: dict[str, Any],
) -> RuleOutcome:
    """Bring the rule's alerts in line with its findings. `evaluated` is the set of subjects looked at (None: all)."""
    outcome = RuleOutcome(findings=len(findings))
    now = ctx.now
    alerts = Alert.objects.filter(rule=rule).select_for_update()
    existing: dict[str, Alert] = {}
    if evaluated is None:
        existing = {a.subject_ref: a for a in alerts.iterator(chunk_size=CHUNK)}
    else:
        refs = sorted(evaluated)
        # One array parameter on PostgreSQL (`among`): one query for every ref; elsewhere chunks of placeholders.
        step = max(len(refs), 1) if connection.vendor == "postgresql" else CHUNK
        for start in range(0, len(refs), step):
            existing.update((a.subject_ref, a) for a in alerts.filter(among("subject_ref", refs[start : start + step])))

    new_alerts: list[Alert] = []
    changed: list[Alert] = []
    events: list[AlertEvent] = []
    for ref, f in findings.items():
        found = existing.get(ref)
        if found is None:
            new_alerts.append(
                Alert(
                    rule=rule,
                    subject_kind=rule.subject_kind,
                    subject_ref=ref,
                    subject_key=f.key,
                    subject_label=f.label[:255],
                    project_id=f.project_id,
                    district_id=f.district_id,
                    supplier_id=f.supplier_id,
                    contractor_id=f.contractor_id,
                    laboratory_id=f.laboratory_id,
                    contract_no=f.contract_no,
                    message=f.message,
                    evidence=f.evidence(),
                    parameters=snapshot,
                    status=AlertStatus.OPEN,
                    raised_at=now,
                    last_confirmed_at=now,
                )
            )
            continue
        alert = found
        evidence = f.evidence()
        if alert.status == AlertStatus.RESOLVED:
            alert.status, alert.resolved_at = AlertStatus.OPEN, None
            alert.times_raised += 1
            kind = AlertEventKind.REOPENED
            outcome.reopened += 1
        elif alert.message != f.message or alert.evidence != evidence:
            kind = AlertEventKind.EVIDENCE
            outcome.refreshed += 1
        else:
            continue
        _apply(alert, f, evidence, snapshot, now)
        changed.append(alert)
        events.append(_event(alert, kind, snapshot))

    for ref, alert in existing.items():
        if ref in findings or alert.status not in ACTIVE_STATUSES:
            continue
        alert.status, alert.resolved_at = AlertStatus.RESOLVED, now
        changed.append(alert)
        events.append(_event(alert, AlertEventKind.RESOLVED, alert.parameters, note="相关数据已更正，比对不再发现问题"))
        outcome.resolved += 1

    created = Alert.objects.bulk_create(new_alerts, batch_size=CHUNK)
    if created and created[0].pk is None:  # a backend that does not return ids on bulk insert
        by_ref = dict(
            Alert.objects.filter(rule=rule, subject_ref__in=[a.subject_ref for a in created]).values_list(
                "subject_ref", "pk"
            )
        )
        for a in created:
            a.pk = by_ref[a.subject_ref]
    events.extend(_event(a, AlertEventKind.RAISED, snapshot) for a in created)
    outcome.raised = len(created)
    _update_alerts(changed)
    AlertEvent.objects.bulk_create(events, batch_size=CHUNK)
    return outcome


# What reconciliation changes on an existing alert (as `_apply` and the status changes set them).
CHANGED_FIELDS = (
    "status",
    "resolved_at",
    "times_raised",
    "message",
    "evidence",
    "parameters",
    "subject_label",
    "last_confirmed_at",
    "project",
    "district",
    "supplier",
    "contractor",
    "laboratory",
    "contract_no",
)


def _update_alerts(alerts: list[Alert]) -> None:
    """Write `CHANGED_FIELDS` of `alerts`: one prepared UPDATE by primary key, sent for all of them at once
    (`executemany`). `bulk_update` builds a CASE WHEN per field and alert, which took 0.5–1.8 s of Python for a few
    hundred alerts reopened by an incremental run (docs/benchmarks.md). Like `bulk_update`, no signals and no
    `updated_at` (that is the regulators' handling)."""
    if not alerts:
        return
    fields = [cast("Field[Any, Any]", Alert._meta.get_field(name)) for name in CHANGED_FIELDS]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in fields)
    sql = f"UPDATE {quote(Alert._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s"  # noqa: S608
    rows = [[f.get_db_prep_save(getattr(a, f.attname), connection) for f in fields] + [a.pk] for a in alerts]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _apply(alert: Alert, f: Finding, evidence: dict[str, Any], snapshot: dict[str, Any], now: dt.datetime) -> None:
    alert.message, alert.evidence, alert.parameters = f.message, evidence, snapshot
    alert.subject_label = f.label[:255]
    alert.last_confirmed_at = now
    alert.project_id, alert.district_id, alert.contract_no = f.project_id, f.district_id, f.contract_no
    alert.supplier_id, alert.contractor_id, alert.laboratory_id = f.supplier_id, f.contractor_id, f.laboratory_id


def _event(alert: Alert, kind: str, snapshot: dict[str, Any], note: str = "") -> AlertEvent:
    return AlertEvent(
        alert=alert,
        kind=kind,
        status_after=alert.status,
        actor_name="系统",
        note=note,
        message=alert.message,
        parameters=snapshot,
    )


def evaluate_due(*, today: dt.date | None = None, now: dt.datetime | None = None) -> RunResult | None:
    """Re-check the subjects whose grace period ends today (and on any day missed since the last such run).

    Runs every minute from the beat schedule; it does work once a day, at the first run after midnight, so an
    alert appears within a minute of the end of its grace period.
    """
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    last = (
        EvaluationRun.objects.filter(mode=EvaluationRun.Mode.DUE, finished_at__isnull=False)
        .order_by("-started_at")
        .first()
    )
    last_day = timezone.localdate(last.started_at) if last else today - dt.timedelta(days=1)
    if last_day >= today:
        return None
    first = max(last_day + dt.timedelta(days=1), today - dt.timedelta(days=31))
    days = {first + dt.timedelta(days=n) for n in range((today - first).days + 1)}
    return evaluate(Scope(due_dates=days), today=today, now=now, mode=EvaluationRun.Mode.DUE)
