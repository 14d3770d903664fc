"""Catalog rule XC14: prohibited material bought, or restricted material used where its restriction applies.

Matching a purchase with an entry of the promoted / restricted / prohibited catalog (推广、限制、禁止使用建材目录):

* same category; the entry's `spec_keyword` contained in the purchase's spec (an empty keyword: the whole
  category); the entry in force on the arrival date (the filing date when no arrival date was given);
* 禁止 (prohibited): every such purchase is a finding;
* 限制 (restricted): the entry's `scope` is, as FORMATS.md defines it, where the material **may not** be used,
  a list of terms separated by 、，,;；or spaces. The purchase is a finding when one term applies to it: the term
  is the project's type (工程类别, e.g. 学校), the project's district (e.g. 朝阳区), 城六区 and the project lies in
  one of the six central districts, a term containing 政府投资 and the project is government-funded, or the
  term occurs in the purchase's intended use location (拟使用部位, e.g. 地下室). A restricted entry with an empty
  scope accuses nobody (a restriction without a stated range cannot be checked);
* 推广 (promoted): never a finding.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db.models import Case, Exists, ExpressionWrapper, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, StrIndex

from jiancai.filings.models import Purchase
from jiancai.materials.models import CatalogEntry, Listing

from .base import Context, Finding, Record, RuleLogic, Scope, any_of, register
from .common import PURCHASE_KEY, boolean, current, ids_scope, scoped

BASIS_CATALOG = (
    "《北京市推广、限制和禁止使用建筑材料目录》（京建发〔2019〕149号）；"
    "《建设工程材料使用管理信息化监控系统建设方案》：禁止使用的建材不得进入施工现场"
)
CITY_SIX = ("东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区")
GOVERNMENT_TERM = "政府投资"
TERM_SPLIT = re.compile(r"[、，,;；\s]+")


def scope_terms(text: str) -> list[str]:
    return [t for t in TERM_SPLIT.split(text or "") if t]


def _entries() -> QuerySet[Any]:
    """Catalog entries that apply to the outer purchase's category, spec and arrival date (any listing)."""
    anchor = OuterRef("anchor")
    return CatalogEntry.objects.filter(
        Q(category_id=OuterRef("category_id")),
        Q(effective_from__lte=anchor),
        Q(effective_until__isnull=True) | Q(effective_until__gte=anchor),
    ).annotate(keyword_at=StrIndex(OuterRef("spec"), "spec_keyword"))


def _restriction_applies(location_terms: list[str]) -> Q:
    """Inside the entries' subquery: the entry's scope names something true of the outer purchase."""
    by_location = [Q(scope__contains=t) & Q(**{f"loc_{i}__gt": 0}) for i, t in enumerate(location_terms)]
    return any_of(
        Q(type_at__gt=0),
        Q(district_at__gt=0),
        Q(scope__contains=GOVERNMENT_TERM) & Q(outer_government=1),
        Q(scope__contains="城六区") & Q(outer_six=1),
        *by_location,
    )


def _matching(location_terms: list[str]) -> QuerySet[Any]:
    entries = _entries().annotate(
        type_at=StrIndex("scope", OuterRef("project__project_type")),
        district_at=StrIndex("scope", OuterRef("project__district__name")),
        outer_government=ExpressionWrapper(OuterRef("government"), output_field=IntegerField()),
        outer_six=ExpressionWrapper(OuterRef("six"), output_field=IntegerField()),
        **{f"loc_{i}": StrIndex(OuterRef("use_location"), Value(t)) for i, t in enumerate(location_terms)},
    )
    prohibited = Q(listing=Listing.PROHIBITED)
    restricted = Q(listing=Listing.RESTRICTED) & ~Q(scope="") & _restriction_applies(location_terms)
    matching: QuerySet[Any] = (
        entries.filter(Q(keyword_at__gt=0) & (prohibited | restricted))
        .annotate(rank=Case(When(listing=Listing.PROHIBITED, then=0), default=1, output_field=IntegerField()))
        .order_by("rank", "entry_no")
    )
    return matching


@register
class CatalogViolation(RuleLogic):
    code = "XC14"
    title = "使用禁止或超范围使用限制类建材"
    basis = BASIS_CATALOG
    subject_kind = "purchase"
    applies_to = "采购记录、推广限制禁止使用目录、工程项目"
    description = (
        "采购的材料属于进场日有效的禁止使用目录条目（同一品类，规格型号包含目录关键字；关键字为空即整个品类），"
        "或属于限制使用目录条目且该工程在限制范围内（限制范围的各项以、或，分隔，与工程类别、所在区、城六区、"
        "政府投资工程或拟使用部位相符即在范围内）。"
    )
    watches = frozenset({"purchase", "category", "project"})
    key_columns = ("id", *PURCHASE_KEY)

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        # The scope terms of the restricted entries (reference data, a handful of words) become one condition each.
        terms = sorted(
            {
                t
                for text in CatalogEntry.objects.filter(listing=Listing.RESTRICTED).values_list("scope", flat=True)
                for t in scope_terms(text)
            }
        )
        qs = current(Purchase).annotate(
            anchor=Coalesce("arrival_date", "created_at__date"),
            government=Case(When(project__government_funded=True, then=1), default=0, output_field=IntegerField()),
            six=Case(When(project__district__name__in=CITY_SIX, then=1), default=0, output_field=IntegerField()),
        )
        qs = scoped(
            qs,
            scope,
            ids_scope(scope, "purchase") if scope else None,
            # Project data (type, district, funding) decide the restriction; a purchase's project is in its own row.
            Q(project_id__in=scope.project_data) if scope and scope.project_data else None,
            Q(category_id__in=scope.categories) if scope and scope.categories else None,
        )
        matching = _matching(terms)
        rows: QuerySet[Any] = qs.annotate(
            violates=boolean(Q(status="submitted") & Exists(matching)),
            entry_id=Subquery(matching.values("id")[:1]),
            entry_no=Subquery(matching.values("entry_no")[:1]),
            entry_listing=Subquery(matching.values("listing")[:1]),
            entry_product=Subquery(matching.values("product_name")[:1]),
            entry_keyword=Subquery(matching.values("spec_keyword")[:1]),
            entry_scope=Subquery(matching.values("scope")[:1]),
            entry_document=Subquery(matching.values("document_no")[:1]),
        ).values(
            "violates",
            "id",
            "purchase_no",
            "filer_id",
            "filer__uscc",
            "filer__name",
            "supplier_id",
            "project_id",
            "project__project_code",
            "project__name",
            "project__district_id",
            "project__district__name",
            "project__project_type",
            "project__government_funded",
            "contract_no",
            "category__name",
            "spec",
            "quantity",
            "unit",
            "use_location",
            "anchor",
            "entry_id",
            "entry_no",
            "entry_listing",
            "entry_product",
            "entry_keyword",
            "entry_scope",
            "entry_document",
        )
        return rows

    def ref(self, row: Mapping[str, Any]) -> str:
        return f"purchase:{row['filer__uscc']}:{row['purchase_no']}"

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        spec = f" {row['spec']}" if row["spec"] else ""
        keyword = f"，规格关键字“{row['entry_keyword']}”" if row["entry_keyword"] else ""
        entry = f"目录条目 {row['entry_no']}「{row['entry_product']}」（{row['entry_document']}{keyword}）"
        bought = f"{row['anchor']:%Y-%m-%d} 进场的{row['category__name']}{spec}"
        if row["entry_listing"] == Listing.PROHIBITED:
            message = f"{bought}属禁止使用{entry}，不得在工程中使用"
        else:
            reasons = _reasons(row)
            message = (
                f"{bought}属限制使用{entry}，限制范围「{row['entry_scope']}」，本工程{'、'.join(reasons)}，在限制范围内"
            )
        return Finding(
            ref=self.ref(row),
            key={"purchaser_uscc": row["filer__uscc"], "purchase_no": row["purchase_no"]},
            label=f"采购单 {row['purchase_no']}（{row['filer__name']}）",
            message=message,
            records=[
                Record("purchase", row["id"], f"采购单 {row['purchase_no']}"),
                Record("catalog_entry", row["entry_id"], f"目录条目 {row['entry_no']}"),
                Record("project", row["project__project_code"], row["project__name"]),
            ],
            values={
                "listing": row["entry_listing"],
                "entry_no": row["entry_no"],
                "spec": row["spec"],
                "scope": row["entry_scope"],
                "use_location": row["use_location"],
                "arrival_date": str(row["anchor"]),
            },
            project_id=row["project_id"],
            district_id=row["project__district_id"],
            supplier_id=row["supplier_id"],
            contractor_id=row["filer_id"],
            contract_no=row["contract_no"],
        )


def _reasons(row: Mapping[str, Any]) -> list[str]:
    """Which terms of the restriction scope apply, in words (the same tests as the SQL condition)."""
    scope_text = row["entry_scope"] or ""
    district, project_type = row["project__district__name"], row["project__project_type"]
    reasons: list[str] = []
    if project_type and project_type in scope_text:
        reasons.append(f"工程类别为{project_type}")
    if district and district in scope_text:
        reasons.append(f"位于{district}")
    if "城六区" in scope_text and district in CITY_SIX:
        reasons.append(f"位于城六区（{district}）")
    if GOVERNMENT_TERM in scope_text and row["project__government_funded"]:
        reasons.append("为政府投资工程")
    location = row["use_location"] or ""
    used = [t for t in scope_terms(scope_text) if t in location]
    if used:
        reasons.append(f"拟使用部位“{location}”含“{'、'.join(used)}”")
    return reasons or ["在限制范围内"]
