"""Cross-check rule XC15: a filing made by or naming an enterprise that was on the blacklist, or under a restriction
that forbids that kind of business, on the filing's date.

Registered into `monitoring.rules.RULES` from `BlacklistConfig.ready()` (monitoring never imports this app).

Subjects are the current versions of four filing kinds, each with the enterprise it concerns and its date:

* supply (供应记录): the supplier (filer), on the delivery date;
* purchase (采购记录): the supplier bought from, on the arrival date (the filing date when none was given);
* tender result (招投标结果): the winner, on the award date;
* ready-mix ticket (发货单): the plant (filer), on the departure date (Beijing time).

A filing is a finding when it is submitted and, on its date, the enterprise was on the blacklist (published, the
date within the listing period and before any exit) or under a restriction in force whose kind forbids that filing
kind (`RESTRICTED_FILINGS`) and whose area is the whole city or the project's district. Exit or lifting later does
not clear a filing made while the enterprise was listed; a restriction revoked as void does, and so does a corrected
date. One set-based query per filing kind; the engine reads them one after the other.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, cast

from django.db.models import CharField, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate

from jiancai.filings.models import Purchase, Supply, Tender, Ticket
from jiancai.monitoring.rules.base import EVIDENCE_CHUNK, Context, Finding, Record, RuleLogic, Scope, among, register
from jiancai.monitoring.rules.common import boolean, current, ids_scope, scoped

from .models import RESTRICTED_FILINGS, BlacklistEntry, Restriction, RestrictionKind, in_force_on, listed_on

BASIS = (
    "《建设工程材料使用管理信息化监控系统建设方案》：对列入“建材质量失信黑名单”的企业在本市招投标场所公示，"
    "一定时期内限制其参与本市建设工程材料招投标；一处失信、处处受制"
)

FILING_KINDS = ("supply", "purchase", "tender", "ticket")  # the order of `RestrictedEnterprise.subjects`' parts
KIND_LABELS = {"supply": "供应单", "purchase": "采购单", "tender": "招标", "ticket": "发货单"}
DATE_LABELS = {"supply": "供货日期", "purchase": "进场日期", "tender": "中标日期", "ticket": "出站日期"}
ROLE_LABELS = {"supply": "供应企业", "purchase": "供应企业", "tender": "中标企业", "ticket": "搅拌站"}

COLUMNS = (
    "violates",
    "filing_kind",
    "filing_id",
    "filing_no",
    "filer_code",
    "filer_title",
    "ent_id",
    "ent_uscc",
    "ent_name",
    "day",
    "proj_id",
    "proj_code",
    "proj_name",
    "proj_district",
    "supplier_party",
    "contractor_party",
    "contract_ref",
    "entry_no",
    "entry_id",
    "entry_published",
    "entry_ends",
    "restriction_no",
    "restriction_id",
    "restriction_kind",
    "restriction_starts",
    "restriction_ends",
    "restriction_area",
)


def _kinds_for(filing_kind: str) -> list[str]:
    return [str(k) for k, kinds in RESTRICTED_FILINGS.items() if filing_kind in kinds]


def _listings() -> QuerySet[Any]:
    return BlacklistEntry.objects.filter(listed_on(OuterRef("day")), enterprise_id=OuterRef("ent_id")).order_by(
        "published_on", "id"
    )


def _restrictions(filing_kind: str) -> QuerySet[Any]:
    return (
        Restriction.objects.filter(
            in_force_on(OuterRef("day")), enterprise_id=OuterRef("ent_id"), kind__in=_kinds_for(filing_kind)
        )
        .filter(Q(district__isnull=True) | Q(district_id=OuterRef("proj_district")))
        .order_by("starts_on", "id")
    )


class Subjects:
    """The rule's subjects, one queryset per filing kind, read one after the other. Offers what the engine uses of
    a queryset: `filter(...)`, `order_by(...)` (applied to each) and `iterator(chunk_size=...)`."""

    def __init__(self, parts: list[QuerySet[Any]]) -> None:
        self.parts = parts

    def filter(self, *args: Any, **kwargs: Any) -> Subjects:
        return Subjects([p.filter(*args, **kwargs) for p in self.parts])

    def order_by(self, *fields: Any) -> Subjects:
        return Subjects([p.order_by(*fields) for p in self.parts])

    def values(self, *fields: str) -> Subjects:
        return Subjects([p.values(*fields) for p in self.parts])

    @property
    def _fields(self) -> tuple[str, ...]:
        fields: tuple[str, ...] = self.parts[0]._fields  # type: ignore[attr-defined]
        return fields

    def iterator(self, chunk_size: int = 2000) -> Iterator[dict[str, Any]]:
        for part in self.parts:
            yield from part.iterator(chunk_size=chunk_size)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.iterator()


def _part(
    filing_kind: str, qs: QuerySet[Any], *, number: str, enterprise: str, contractor: str, scope: Scope | None
) -> QuerySet[Any]:
    qs = scoped(
        qs,
        scope,
        ids_scope(scope, filing_kind) if scope else None,
        Q(**{f"{enterprise}_id__in": scope.organizations}) if scope and scope.organizations else None,
    )
    qs = qs.annotate(
        filing_kind=Value(filing_kind, output_field=CharField()),
        filing_id=F("id"),
        filing_no=F(number),
        filer_code=F("filer__uscc"),
        filer_title=F("filer__name"),
        ent_id=F(f"{enterprise}_id"),
        ent_uscc=F(f"{enterprise}__uscc"),
        ent_name=F(f"{enterprise}__name"),
        proj_id=F("project_id"),
        proj_code=F("project__project_code"),
        proj_name=F("project__name"),
        proj_district=F("project__district_id"),
        supplier_party=F(f"{enterprise}_id"),
        contractor_party=F(contractor),
        contract_ref=F("contract_no"),
    )
    listings, restrictions = _listings(), _restrictions(filing_kind)
    rows: QuerySet[Any] = qs.annotate(
        violates=boolean(Q(status="submitted") & (Exists(listings) | Exists(restrictions))),
        entry_no=Subquery(listings.values("entry_no")[:1]),
        entry_id=Subquery(listings.values("id")[:1]),
        entry_published=Subquery(listings.values("published_on")[:1]),
        entry_ends=Subquery(listings.values("ends_on")[:1]),
        restriction_no=Subquery(restrictions.values("restriction_no")[:1]),
        restriction_id=Subquery(restrictions.values("id")[:1], output_field=IntegerField()),
        restriction_kind=Subquery(restrictions.values("kind")[:1]),
        restriction_starts=Subquery(restrictions.values("starts_on")[:1]),
        restriction_ends=Subquery(restrictions.values("ends_on")[:1]),
        restriction_area=Subquery(restrictions.values("district__name")[:1]),
    ).values(*COLUMNS)
    return rows


@register
class RestrictedEnterprise(RuleLogic):
    code = "XC15"
    title = "失信黑名单或受限企业仍在供货、中标"
    basis = BASIS
    subject_kind = "filing"
    applies_to = "供应记录、采购记录、招投标结果、发货单、失信黑名单、限制措施"
    description = (
        "填报记录的日期（供货日期、进场日期、中标日期、出站日期）当天，所涉企业（供应企业、中标企业、搅拌站）"
        "在建材质量失信黑名单公布期内且尚未移出，或正受适用于该业务的限制措施（禁止投标对应中标；"
        "交易限制对应供应、采购、发货；暂停供应对应全部），且限制区域为全市或工程所在区。"
        "事后移出或解除不消除当时的记录；限制措施被撤销或记录日期更正后预警自动消除。"
    )
    watches = frozenset({"supply", "purchase", "tender", "ticket", "organization"})
    key_columns = ("filing_id", "filing_kind", "filer_code", "filing_no")

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        parts = [
            _part(
                "supply",
                current(Supply).annotate(day=F("delivery_date")),
                number="supply_no",
                enterprise="filer",
                contractor="project__contractor_id",
                scope=scope,
            ),
            _part(
                "purchase",
                current(Purchase).annotate(day=Coalesce("arrival_date", TruncDate("created_at"))),
                number="purchase_no",
                enterprise="supplier",
                contractor="filer_id",
                scope=scope,
            ),
            _part(
                "tender",
                current(Tender).annotate(day=F("award_date")),
                number="tender_no",
                enterprise="winner",
                contractor="project__contractor_id",
                scope=scope,
            ),
            _part(
                "ticket",
                current(Ticket).annotate(day=TruncDate("departed_at")),
                number="ticket_no",
                enterprise="filer",
                contractor="project__contractor_id",
                scope=scope,
            ),
        ]
        # The engine only filters and iterates the subjects; one queryset per filing kind (see Subjects).
        return cast(QuerySet[Any], Subjects(parts))

    def with_evidence(self, rows: list[dict[str, Any]], ctx: Context) -> list[dict[str, Any]]:
        """As `RuleLogic.with_evidence`, per filing kind (the ids are those of each kind's table)."""
        subjects = cast(Subjects, self.subjects(ctx, None)).order_by()
        out: list[dict[str, Any]] = []
        for kind, part in zip(FILING_KINDS, subjects.parts, strict=True):
            ids = [r["filing_id"] for r in rows if r["filing_kind"] == kind]
            for start in range(0, len(ids), EVIDENCE_CHUNK):
                out.extend(r for r in part.filter(among("pk", ids[start : start + EVIDENCE_CHUNK])) if r["violates"])
        return out

    def ref(self, row: Mapping[str, Any]) -> str:
        return f"{row['filing_kind']}:{row['filer_code']}:{row['filing_no']}"

    @staticmethod
    def key(row: Mapping[str, Any]) -> dict[str, Any]:
        kind = row["filing_kind"]
        if kind == "supply":
            return {"supplier_uscc": row["filer_code"], "supply_no": row["filing_no"]}
        if kind == "purchase":
            return {"purchaser_uscc": row["filer_code"], "purchase_no": row["filing_no"]}
        if kind == "tender":
            return {"tender_no": row["filing_no"]}
        return {"plant_uscc": row["filer_code"], "ticket_no": row["filing_no"]}

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        kind = row["filing_kind"]
        label = f"{KIND_LABELS[kind]} {row['filing_no']}（{row['filer_title']}）"
        who = f"{ROLE_LABELS[kind]}{row['ent_name']}（{row['ent_uscc']}）"
        reasons: list[str] = []
        records = [Record(kind, row["filing_id"], f"{KIND_LABELS[kind]} {row['filing_no']}")]
        values: dict[str, Any] = {
            "filing_kind": kind,
            "date": str(row["day"]),
            "enterprise_uscc": row["ent_uscc"],
        }
        if row["entry_no"]:
            until = f"至 {row['entry_ends']:%Y-%m-%d}" if row["entry_ends"] else "未定期限"
            reasons.append(
                f"在建材质量失信黑名单中（名单编号 {row['entry_no']}，{row['entry_published']:%Y-%m-%d} 公布，{until}）"
            )
            records.append(Record("blacklist_entry", row["entry_no"], f"失信黑名单 {row['entry_no']}"))
            values["entry_no"] = row["entry_no"]
        if row["restriction_no"]:
            area = row["restriction_area"] or "全市"
            reasons.append(
                f"受限制措施 {row['restriction_no']}「{RestrictionKind(row['restriction_kind']).label}」约束"
                f"（{row['restriction_starts']:%Y-%m-%d} 至 {row['restriction_ends']:%Y-%m-%d}，范围：{area}）"
            )
            records.append(Record("restriction", row["restriction_no"], f"限制措施 {row['restriction_no']}"))
            values["restriction_no"] = row["restriction_no"]
        records.append(Record("project", row["proj_code"], row["proj_name"]))
        message = f"{label}的{DATE_LABELS[kind]}为 {row['day']:%Y-%m-%d}，当日{who}" + "，并".join(reasons)
        return Finding(
            ref=self.ref(row),
            key=self.key(row),
            label=label,
            message=message,
            records=records,
            values=values,
            project_id=row["proj_id"],
            district_id=row["proj_district"],
            supplier_id=row["supplier_party"],
            contractor_id=row["contractor_party"],
            contract_no=row["contract_ref"] or "",
        )
