"""Price rules: XC13, a purchase price far from the market guide price of the project's tender."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Abs

from jiancai.filings.models import Purchase, Tender

from .base import Context, Finding, Param, Record, RuleLogic, Scope, fmt_decimal, fmt_param, fmt_percent, register
from .common import MONEY, PURCHASE_KEY, boolean, contract_scope, current, ids_scope, number, scoped, submitted

BASIS_PRICE = (
    "《建设工程材料使用管理信息化监控系统建设方案》信息比对点：招投标信息中的市场指导价与采购使用信息中的单价比对；"
    "价格预警：以质量、信用、服务竞争，防止恶性低价和虚高价格"
)


def _tender_of_purchase() -> QuerySet[Any]:
    """The tender result of the purchase's project, category and contract that carries a guide price (the newest
    award when several do)."""
    return (
        submitted(Tender)
        .filter(
            project_id=OuterRef("project_id"),
            category_id=OuterRef("category_id"),
            contract_no=OuterRef("contract_no"),
            guide_price__isnull=False,
        )
        .order_by("-award_date", "-id")
    )


@register
class PriceOffGuide(RuleLogic):
    code = "XC13"
    title = "采购价格偏离市场指导价"
    basis = BASIS_PRICE
    subject_kind = "purchase"
    applies_to = "采购记录、招投标结果"
    description = (
        "采购单价与该项目、该品类、该合同的招投标结果中的市场指导价相差超过容差（以指导价为基数）。"
        "只比对招标过的品类（有招投标结果且填有指导价）；未填单价的采购不比对。中标单价列入证据供核对。"
    )
    params = (Param("tolerance_pct", "价格容差", Decimal(10), "%", maximum=Decimal(1000)),)
    watches = frozenset({"purchase", "tender"})
    key_columns = ("id", *PURCHASE_KEY)

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        tolerance = number(ctx.fraction("tolerance_pct"))
        tender = _tender_of_purchase()
        qs = scoped(
            current(Purchase),
            scope,
            ids_scope(scope, "purchase") if scope else None,
            contract_scope(scope) if scope else None,
        )
        rows: QuerySet[Any] = (
            qs.annotate(
                guide=Subquery(tender.values("guide_price")[:1], output_field=MONEY),
                awarded=Subquery(tender.values("awarded_price")[:1], output_field=MONEY),
                tender_id=Subquery(tender.values("id")[:1]),
                tender_no=Subquery(tender.values("tender_no")[:1]),
            )
            .annotate(deviation=Abs(F("unit_price") - F("guide"), output_field=MONEY))
            .annotate(
                violates=boolean(
                    Q(status="submitted")
                    & Q(unit_price__isnull=False)
                    & Q(guide__gt=0)
                    & Q(deviation__gt=tolerance * F("guide"))
                )
            )
            .values(
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
                "contract_no",
                "category__name",
                "spec",
                "unit",
                "unit_price",
                "guide",
                "awarded",
                "tender_id",
                "tender_no",
            )
        )
        return rows

    def ref(self, row: Mapping[str, Any]) -> str:
        return f"purchase:{row['filer__uscc']}:{row['purchase_no']}"

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        price, guide = row["unit_price"], row["guide"]
        share = (price - guide) / guide
        direction = "高于" if share > 0 else "低于"
        tol = fmt_param(ctx.params["tolerance_pct"])
        awarded = f"，中标单价 {fmt_decimal(row['awarded'], 2)} 元" if row["awarded"] is not None else ""
        spec = f" {row['spec']}" if row["spec"] else ""
        return Finding(
            ref=self.ref(row),
            key={"purchaser_uscc": row["filer__uscc"], "purchase_no": row["purchase_no"]},
            label=f"采购单 {row['purchase_no']}（{row['filer__name']}）",
            message=(
                f"{row['category__name']}{spec} 采购单价 {fmt_decimal(price, 2)} 元/{row['unit']}，"
                f"{direction}招标 {row['tender_no']}（合同 {row['contract_no']}）的市场指导价 "
                f"{fmt_decimal(guide, 2)} 元{awarded}，偏离 {fmt_percent(abs(share))}，容差 {tol}%"
            ),
            records=[
                Record("purchase", row["id"], f"采购单 {row['purchase_no']}"),
                Record("tender", row["tender_id"], f"招标 {row['tender_no']}"),
                Record("project", row["project__project_code"], row["project__name"]),
            ],
            values={
                "unit_price": fmt_decimal(price, 2),
                "guide_price": fmt_decimal(guide, 2),
                "awarded_price": fmt_decimal(row["awarded"], 2),
                "deviation_pct": fmt_percent(share),
                "tolerance_pct": tol,
            },
            project_id=row["project_id"],
            district_id=row["project__district_id"],
            supplier_id=row["supplier_id"],
            contractor_id=row["filer_id"],
            contract_no=row["contract_no"],
        )
