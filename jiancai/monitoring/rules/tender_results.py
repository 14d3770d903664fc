"""Rules comparing purchases with the project's tender results (招投标结果): XC12."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import CharField, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from jiancai.filings.models import FilingStatus, Purchase, Tender

from .base import Context, Finding, Record, RuleLogic, Scope, among, fmt_decimal, register
from .common import PURCHASE_KEY, boolean, current, ids_scope, scoped, submitted

BASIS_TENDER = (
    "《以信用为纽带推进“互联网+建材”》（北京市建材使用管理信息化监控系统）信息比对点——不能对应后台警示："
    "建材招投标信息的“招投标结果”“合同编号”与建材采购使用信息的“生产供应企业名称”“购买方式”“合同编号”相互比对"
)


def _text(expression: Any) -> Any:
    return Coalesce(expression, Value(""), output_field=CharField())


@register
class PurchaseOutsideTender(RuleLogic):
    code = "XC12"
    title = "招标材料未按招标结果采购"
    basis = BASIS_TENDER
    subject_kind = "purchase"
    applies_to = "采购记录、招投标结果"
    description = (
        "项目对某材料品类有招投标结果时，该项目该品类的每条采购记录都应属于某一招标结果的合同编号，"
        "且供应企业为该合同的中标企业：合同编号不在招标结果中，或供应企业不是中标企业的，预警。"
    )
    watches = frozenset({"purchase", "tender"})
    key_columns = ("id", *PURCHASE_KEY)

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        tenders = submitted(Tender).filter(project_id=OuterRef("project_id"), category_id=OuterRef("category_id"))
        of_contract = tenders.filter(contract_no=OuterRef("contract_no"))
        awarded = of_contract.filter(winner_id=OuterRef("supplier_id"))
        shown = tenders.order_by("award_date", "tender_no")
        contract_tender = of_contract.order_by("award_date", "tender_no")
        qs = scoped(
            current(Purchase),
            scope,
            ids_scope(scope, "purchase") if scope else None,
            among("project_id", scope.projects) if scope and scope.ids("tender") and scope.projects else None,
        )
        rows: QuerySet[Any] = qs.annotate(
            violates=boolean(Q(status=FilingStatus.SUBMITTED) & Exists(tenders) & ~Exists(awarded)),
            contract_tendered=Exists(of_contract),
            tender_count=Coalesce(
                Subquery(tenders.order_by().values("project_id").annotate(n=Count("id")).values("n")[:1]),
                0,
                output_field=IntegerField(),
            ),
            tender_no=_text(Subquery(shown.values("tender_no")[:1])),
            tender_contract=_text(Subquery(shown.values("contract_no")[:1])),
            tender_winner=_text(Subquery(shown.values("winner__name")[:1])),
            contract_tender_no=_text(Subquery(contract_tender.values("tender_no")[:1])),
            contract_winner=_text(Subquery(contract_tender.values("winner__name")[:1])),
            contract_winner_uscc=_text(Subquery(contract_tender.values("winner__uscc")[:1])),
        ).values(
            "violates",
            "id",
            "purchase_no",
            "filer_id",
            "filer__uscc",
            "filer__name",
            "supplier_id",
            "supplier__uscc",
            "supplier__name",
            "project_id",
            "project__project_code",
            "project__name",
            "project__district_id",
            "contract_no",
            "category__name",
            "spec",
            "quantity",
            "unit",
            "contract_tendered",
            "tender_count",
            "tender_no",
            "tender_contract",
            "tender_winner",
            "contract_tender_no",
            "contract_winner",
            "contract_winner_uscc",
        )
        return rows

    def ref(self, row: Mapping[str, Any]) -> str:
        return f"purchase:{row['filer__uscc']}:{row['purchase_no']}"

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        spec = f" {row['spec']}" if row["spec"] else ""
        head = (
            f"采购 {row['category__name']}{spec} {fmt_decimal(row['quantity'])} {row['unit']}"
            f"（合同 {row['contract_no']}，供应企业 {row['supplier__name']}）"
        )
        records = [
            Record("purchase", row["id"], f"采购单 {row['purchase_no']}"),
            Record("project", row["project__project_code"], row["project__name"]),
            Record("enterprise", row["supplier__uscc"], row["supplier__name"]),
        ]
        if row["contract_tendered"]:
            detail = (
                f"该合同的中标企业为 {row['contract_winner']}（招标 {row['contract_tender_no']}），与采购的供应企业不符"
            )
            values = {"problem": "winner", "tender_no": row["contract_tender_no"], "winner": row["contract_winner"]}
            records.append(Record("tender", row["contract_tender_no"], f"招标 {row['contract_tender_no']}"))
        else:
            detail = (
                f"该合同不在项目 {row['project__project_code']} 的{row['category__name']}招投标结果中"
                f"（招标结果 {row['tender_count']} 项，如招标 {row['tender_no']}：中标企业 {row['tender_winner']}，"
                f"合同 {row['tender_contract']}）"
            )
            values = {
                "problem": "contract",
                "tenders": row["tender_count"],
                "tender_no": row["tender_no"],
                "tender_contract": row["tender_contract"],
                "winner": row["tender_winner"],
            }
            records.append(Record("tender", row["tender_no"], f"招标 {row['tender_no']}"))
        return Finding(
            ref=self.ref(row),
            key={"purchaser_uscc": row["filer__uscc"], "purchase_no": row["purchase_no"]},
            label=f"采购单 {row['purchase_no']}（{row['filer__name']}）",
            message=f"{head}，{detail}",
            records=records,
            values={"contract_no": row["contract_no"], **values},
            project_id=row["project_id"],
            district_id=row["project__district_id"],
            supplier_id=row["supplier_id"],
            contractor_id=row["filer_id"],
            contract_no=row["contract_no"],
        )
