"""What a cross-check rule is, in code.

A rule is a `RuleLogic` subclass registered with `@register`. It declares its code, Chinese title, policy
basis, subject kind, parameters (with defaults; the values in force are `RuleParameter` rows), and which changes
can alter its findings (`watches`). Its logic is **one queryset** (`subjects`): the rule's subjects, each
annotated with a boolean `violates` and the values its evidence needs. The engine runs that queryset as SQL over
the whole table (full evaluation: only rows with `violates`) or restricted to what changed (incremental: every
subject in scope, so that those no longer violating are resolved). One definition, so both give one answer.

`finding(row)` turns a violating row into a `Finding`: the subject's natural key (FORMATS.md), the words an
accused enterprise can check, and the records involved. `ref(row)` is the subject's canonical key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from django.db.models import F, Lookup, Q, QuerySet
from django.db.models.lookups import In


@dataclass(frozen=True)
class Param:
    """One parameter a regulator can change (容差、宽限期、阈值…)."""

    name: str
    label: str
    default: Decimal
    unit: str = ""
    minimum: Decimal = Decimal(0)
    maximum: Decimal | None = None
    help: str = ""

    def check(self, value: Decimal) -> str | None:
        """The reason a value is refused, in Chinese, or None."""
        if value < self.minimum:
            return f"{self.label}不能小于 {fmt_decimal(self.minimum)}"
        if self.maximum is not None and value > self.maximum:
            return f"{self.label}不能大于 {fmt_decimal(self.maximum)}"
        return None


@dataclass
class Scope:
    """What changed since the last evaluation, for an incremental run. Every set may over-approximate: a subject
    in scope that did not change is simply evaluated again."""

    # Filing kind (filings.models FILING_MODELS keys) -> ids of the rows written or changed (any version).
    records: dict[str, set[int]] = field(default_factory=dict)
    projects: set[int] = field(default_factory=set)
    contract_nos: set[str] = field(default_factory=set)
    organizations: set[int] = field(default_factory=set)  # registry data of these enterprises changed
    categories: set[int] = field(default_factory=set)  # the catalog of these categories changed
    due_dates: set[dt.date] = field(default_factory=set)  # grace periods anchored on these dates ended
    # Projects whose registry data changed (type, district, area, status…), for the rules watching "project". Kept
    # apart from `projects` (the projects of changed records), which only widen a rule's own subjects.
    project_data: set[int] = field(default_factory=set)

    def ids(self, kind: str) -> set[int]:
        return self.records.get(kind, set())

    @property
    def size(self) -> int:
        return (
            sum(len(v) for v in self.records.values())
            + len(self.organizations)
            + len(self.categories)
            + len(self.due_dates)
        )

    def merge(self, other: Scope) -> None:
        for kind, ids in other.records.items():
            self.records.setdefault(kind, set()).update(ids)
        self.projects |= other.projects
        self.contract_nos |= other.contract_nos
        self.organizations |= other.organizations
        self.categories |= other.categories
        self.due_dates |= other.due_dates
        self.project_data |= other.project_data

    def is_empty(self) -> bool:
        # A scope naming only projects (project registry data changed) is not empty.
        return self.size == 0 and not self.projects and not self.project_data


SEPARATOR = "\x1f"  # ASCII unit separator: between the text values `among` sends as one string


class _Among(Lookup):
    """`lhs IN (values)`, written `lhs = ANY(%s)` on PostgreSQL: one array parameter rather than one placeholder
    per value. A scope names thousands of ids, and preparing, compiling and parsing a placeholder for each (Django,
    then psycopg) took ~0.5 s of an incremental run over 10,000 filings (docs/benchmarks.md, run F)."""

    lookup_name = "among"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        if connection.vendor != "postgresql":
            return compiler.compile(In(self.lhs, list(self.rhs)))
        lhs, params = self.process_lhs(compiler, connection)
        array_type = f"{self.lhs.output_field.cast_db_type(connection)}[]"
        values = list(self.rhs)
        if values and all(isinstance(v, str) and v and SEPARATOR not in v for v in values):
            # Non-empty text values as one string split in SQL: psycopg quotes an array of strings element by element (a
            # regular expression each), which was most of the cost of looking up a rule's alerts by 8,000 refs.
            return f"{lhs} = ANY(string_to_array(%s, chr(31))::{array_type})", (*params, SEPARATOR.join(values))
        return f"{lhs} = ANY(%s::{array_type})", (*params, values)


def among(field: str, values: Iterable[Any]) -> Q:
    """Rows whose `field` takes one of `values` (`field__in`, with one array parameter on PostgreSQL)."""
    return Q(_Among(F(field), list(values)))


NOTHING = Q(pk__in=[])
EVIDENCE_CHUNK = 2000  # violating rows per query of `RuleLogic.with_evidence`


def any_of(*conditions: Q | None) -> Q:
    """OR of the non-empty conditions; matches nothing when there are none."""
    result: Q | None = None
    for c in conditions:
        if c is None:
            continue
        result = c if result is None else result | c
    return result if result is not None else NOTHING


@dataclass
class Context:
    """What a rule evaluates under: parameter values in force, today's date, and the moment of the run."""

    params: Mapping[str, Decimal]
    today: dt.date
    now: dt.datetime

    def days(self, name: str) -> dt.timedelta:
        return dt.timedelta(days=int(self.params[name]))

    def fraction(self, name: str) -> Decimal:
        """A percentage parameter as a fraction (3 -> 0.03)."""
        return self.params[name] / Decimal(100)


@dataclass
class Record:
    """A record an alert names, linked from its page."""

    kind: str  # supply, purchase, test_report, tender, ticket, project_event, project, enterprise, product_filing…
    id: int | str
    label: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "label": self.label}


@dataclass
class Finding:
    ref: str
    key: dict[str, Any]
    label: str
    message: str
    records: list[Record] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    project_id: int | None = None
    district_id: int | None = None
    supplier_id: int | None = None
    contractor_id: int | None = None
    laboratory_id: int | None = None
    contract_no: str = ""

    def evidence(self) -> dict[str, Any]:
        return {"records": [r.as_dict() for r in self.records], "values": self.values}


class RuleLogic:
    code: ClassVar[str]
    title: ClassVar[str]
    basis: ClassVar[str] = ""
    subject_kind: ClassVar[str]
    applies_to: ClassVar[str] = ""
    description: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    # What can change its findings: filing kinds ("supply", "purchase", …), "organization" (registry data of an
    # enterprise: qualifications, product filings, restrictions), "category" (catalog, batch sizes), "due"
    # (a grace period ended), "project" (project registry data).
    watches: ClassVar[frozenset[str]] = frozenset()
    # A rule that reads other rules' alerts (XC18) is evaluated after all the others, in full and incremental runs.
    evaluate_last: ClassVar[bool] = False
    # For a rule with one subject per row: `id` (the subject table's key) and the columns `ref` reads. An incremental
    # run reads the subjects in scope with these and `violates` alone (`light`), then its violating rows with every
    # column, by key (`with_evidence`): the evidence columns (subqueries for the cited report, the filing it
    # matched…) and the joins for names cost as much as the rule itself for every subject in scope, where a full
    # run's `violates` filter computes them for violating rows alone. Empty (the grouped rules, whose `values()` are
    # their groups): every column of every subject.
    key_columns: ClassVar[tuple[str, ...]] = ()

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        """The rule's subjects (all of them when scope is None, else those the scope may affect), as `values()`
        rows with the key columns, the evidence columns and a boolean `violates`."""
        raise NotImplementedError

    def ref(self, row: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        raise NotImplementedError

    def light(self, subjects: QuerySet[Any]) -> QuerySet[Any]:
        """The `subjects` rows with `violates` and the `key_columns` only (same rows, same `violates`)."""
        return subjects.values("violates", *self.key_columns) if self.key_columns else subjects

    def with_evidence(self, rows: list[dict[str, Any]], ctx: Context) -> list[dict[str, Any]]:
        """`rows` (violating subjects read `light`) read again with every column: the rule's unscoped subjects
        restricted to the rows' ids, one query per chunk. A row no longer violating by then is left out (its
        subject was evaluated, so its alert resolves)."""
        if not self.key_columns or not rows:
            return rows
        ids = [r["id"] for r in rows]
        # Not filtered on `violates` in SQL: PostgreSQL then turned XC12's EXISTS into a join driven by the
        # tenders and probed the purchases of each tendered project (0.3 s for 392 rows), instead of reading the
        # rows by key.
        subjects = self.subjects(ctx, None).order_by()
        out: list[dict[str, Any]] = []
        for start in range(0, len(ids), EVIDENCE_CHUNK):
            out.extend(r for r in subjects.filter(among("pk", ids[start : start + EVIDENCE_CHUNK])) if r["violates"])
        return out

    def prepare(self, rows: list[dict[str, Any]], ctx: Context) -> None:
        """Called with every violating row before `finding` is: a rule whose evidence needs more than its row reads
        it here for all rows at once (set-based) and stores it in the rows. Default: nothing."""

    def is_affected_by(self, scope: Scope) -> bool:
        kinds = set(scope.records)
        if scope.organizations:
            kinds.add("organization")
        if scope.categories:
            kinds.add("category")
        if scope.due_dates:
            kinds.add("due")
        if scope.project_data:
            kinds.add("project")
        return bool(kinds & self.watches)


RULES: dict[str, RuleLogic] = {}


def register(cls: type[RuleLogic]) -> type[RuleLogic]:
    if cls.code in RULES:
        raise ValueError(f"rule {cls.code} registered twice")
    RULES[cls.code] = cls()
    return cls


# ---------------------------------------------------------------------------------------------- formatting


def fmt_decimal(value: Decimal | int | float | None, places: int = 3) -> str:
    """A quantity the way the filings show it: fixed places, no exponent (120 -> "120.000")."""
    if value is None:
        return "—"
    q = Decimal(1).scaleb(-places)
    return f"{Decimal(value).quantize(q, rounding=ROUND_HALF_UP):f}"


def fmt_percent(value: Decimal | float, places: int = 1) -> str:
    return f"{fmt_decimal(Decimal(value) * 100, places)}%"


def fmt_param(value: Decimal) -> str:
    """A parameter value without trailing zeros (3.0000 -> "3")."""
    text = f"{Decimal(value).normalize():f}"
    return text


def join_refs(prefix: str, *parts: Iterable[Any] | Any) -> str:
    return ":".join([prefix, *(str(p) for p in parts)])
