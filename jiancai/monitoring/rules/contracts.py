"""Rules comparing what suppliers delivered with what contractors bought: XC01–XC05."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Abs, Coalesce, Greatest

from jiancai.filings.models import FilingStatus, Purchase, Supply

from .base import (
    Context,
    Finding,
    Param,
    Record,
    RuleLogic,
    Scope,
    any_of,
    fmt_decimal,
    fmt_param,
    fmt_percent,
    register,
)
from .common import (
    MONEY,
    PURCHASE_KEY,
    SUPPLY_KEY,
    GroupExists,
    GroupSubquery,
    boolean,
    contract_scope,
    current,
    due_on,
    ids_scope,
    number,
    overdue,
    scoped,
    submitted,
)

BASIS_000 = (
    "《以信用为纽带推进“互联网+建材”》（北京市建材使用管理信息化监控系统）信息比对点——建材生产供应信息与"
    "建材采购使用信息的“生产供应企业名称”“工程名称”“产品规格型号”“供应数量”“价格”相互比对，不能对应后台警示"
)


def _matching_purchases(supply_ref: str = "") -> QuerySet[Any]:
    return submitted(Purchase).filter(
        project_id=OuterRef("project_id"), supplier_id=OuterRef("filer_id"), contract_no=OuterRef("contract_no")
    )


def _matching_supplies() -> QuerySet[Any]:
    return submitted(Supply).filter(
        project_id=OuterRef("project_id"), filer_id=OuterRef("supplier_id"), contract_no=OuterRef("contract_no")
    )


@register
class SupplyWithoutPurchase(RuleLogic):
    code = "XC01"
    title = "供应无采购"
    basis = BASIS_000
    subject_kind = "supply"
    applies_to = "供应记录、采购记录"
    description = "供应企业填报了供应记录，宽限期满后施工单位仍未填报同一项目、同一供应企业、同一合同编号的采购记录。"
    params = (Param("grace_days", "宽限期", Decimal(15), "天", help="自供货日期起算"),)
    watches = frozenset({"supply", "purchase", "due"})
    key_columns = ("id", *SUPPLY_KEY)

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        grace = ctx.days("grace_days")
        qs = scoped(
            current(Supply),
            scope,
            ids_scope(scope, "supply") if scope else None,
            contract_scope(scope) if scope else None,
            due_on("delivery_date", scope.due_dates, grace) if scope else None,
        )
        rows: QuerySet[Any] = qs.annotate(
            violates=boolean(
                Q(status="submitted") & overdue("delivery_date", ctx.today, grace) & ~Exists(_matching_purchases())
            )
        ).values(
            "violates",
            "id",
            "supply_no",
            "filer_id",
            "filer__uscc",
            "filer__name",
            "project_id",
            "project__project_code",
            "project__name",
            "project__district_id",
            "project__contractor_id",
            "contract_no",
            "category__name",
            "spec",
            "quantity",
            "unit",
            "delivery_date",
        )
        return rows

    def ref(self, row: Mapping[str, Any]) -> str:
        return f"supply:{row['filer__uscc']}:{row['supply_no']}"

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        grace = fmt_param(ctx.params["grace_days"])
        return Finding(
            ref=self.ref(row),
            key={"supplier_uscc": row["filer__uscc"], "supply_no": row["supply_no"]},
            label=f"供应单 {row['supply_no']}（{row['filer__name']}）",
            message=(
                f"{row['delivery_date']:%Y-%m-%d} 供货 {row['category__name']} {row['spec'] or ''} "
                f"{fmt_decimal(row['quantity'])} {row['unit']}（合同 {row['contract_no']}），"
                f"宽限期 {grace} 天已过，项目 {row['project__project_code']} 仍无该供应企业、该合同的采购记录"
            ).replace("  ", " "),
            records=[
                Record("supply", row["id"], f"供应单 {row['supply_no']}"),
                Record("project", row["project__project_code"], row["project__name"]),
            ],
            values={
                "delivery_date": str(row["delivery_date"]),
                "quantity": fmt_decimal(row["quantity"]),
                "unit": row["unit"],
                "contract_no": row["contract_no"],
                "grace_days": grace,
            },
            project_id=row["project_id"],
            district_id=row["project__district_id"],
            supplier_id=row["filer_id"],
            contractor_id=row["project__contractor_id"],
            contract_no=row["contract_no"],
        )


@register
class PurchaseWithoutSupply(RuleLogic):
    code = "XC02"
    title = "采购无供应"
    basis = BASIS_000
    subject_kind = "purchase"
    applies_to = "采购记录、供应记录"
    description = "施工单位填报了采购记录，宽限期满后供应企业仍未填报同一项目、同一合同编号的供应记录。"
    params = (Param("grace_days", "宽限期", Decimal(7), "天", help="自进场日期起算（无进场日期时自填报日期起算）"),)
    watches = frozenset({"supply", "purchase", "due"})
    key_columns = ("id", *PURCHASE_KEY)

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        grace = ctx.days("grace_days")
        qs = current(Purchase).annotate(anchor=Coalesce("arrival_date", F("created_at__date")))
        qs = scoped(
            qs,
            scope,
            ids_scope(scope, "purchase") if scope else None,
            contract_scope(scope) if scope else None,
            due_on("anchor", scope.due_dates, grace) if scope else None,
        )
        rows: QuerySet[Any] = qs.annotate(
            violates=boolean(
                Q(status="submitted") & overdue("anchor", ctx.today, grace) & ~Exists(_matching_supplies())
            )
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
            "anchor",
        )
        return rows

    def ref(self, row: Mapping[str, Any]) -> str:
        return f"purchase:{row['filer__uscc']}:{row['purchase_no']}"

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        grace = fmt_param(ctx.params["grace_days"])
        return Finding(
            ref=self.ref(row),
            key={"purchaser_uscc": row["filer__uscc"], "purchase_no": row["purchase_no"]},
            label=f"采购单 {row['purchase_no']}（{row['filer__name']}）",
            message=(
                f"{row['anchor']:%Y-%m-%d} 进场 {row['category__name']} {row['spec'] or ''} "
                f"{fmt_decimal(row['quantity'])} {row['unit']}，供应企业 {row['supplier__name']}（合同 "
                f"{row['contract_no']}），宽限期 {grace} 天已过，仍无该企业对项目 {row['project__project_code']} "
                f"该合同的供应记录"
            ).replace("  ", " "),
            records=[
                Record("purchase", row["id"], f"采购单 {row['purchase_no']}"),
                Record("project", row["project__project_code"], row["project__name"]),
                Record("enterprise", row["supplier__uscc"], row["supplier__name"]),
            ],
            values={
                "arrival_date": str(row["anchor"]),
                "quantity": fmt_decimal(row["quantity"]),
                "unit": row["unit"],
                "contract_no": row["contract_no"],
                "grace_days": grace,
            },
            project_id=row["project_id"],
            district_id=row["project__district_id"],
            supplier_id=row["supplier_id"],
            contractor_id=row["filer_id"],
            contract_no=row["contract_no"],
        )


def _contract_rows(scope: Scope | None) -> QuerySet[Any]:
    """The supply rows contract-level subjects are grouped from.

    A full run groups the counted supplies (current, submitted): only groups with a finding matter. An incremental
    run groups every version of the supplies of the contracts in scope, so that a group whose supplies were all
    withdrawn or corrected to another spec is still evaluated (its aggregates count nothing) and its alert resolves.
    """
    if scope is None:
        return submitted(Supply)
    rows: QuerySet[Any] = Supply.objects.filter(any_of(contract_scope(scope)))
    return rows


def _contract_line_subjects(scope: Scope | None) -> QuerySet[Any]:
    """Supply lines grouped per contract, category and spec, with the purchases of the same line beside them.

    Only lines filed on both sides are compared (one side missing altogether is XC01/XC02). Aggregates count only
    current submitted supplies (`_contract_rows`); a group with none has NULL sums and so no finding."""
    purchases = (
        submitted(Purchase)
        .filter(
            project_id=OuterRef("project_id"),
            supplier_id=OuterRef("filer_id"),
            contract_no=OuterRef("contract_no"),
            category_id=OuterRef("category_id"),
            spec=OuterRef("spec"),
        )
        .order_by()
        .values("project_id")
    )
    counted = Q(is_current=True, status=FilingStatus.SUBMITTED)
    lines: QuerySet[Any] = (
        _contract_rows(scope)
        .order_by()
        .values(
            "project_id",
            "project__project_code",
            "project__name",
            "project__district_id",
            "project__contractor_id",
            "filer_id",
            "filer__uscc",
            "filer__name",
            "contract_no",
            "category_id",
            "category__code",
            "category__name",
            "spec",
            "unit",
        )
        .annotate(
            supplied=Sum("quantity", filter=counted),
            supplied_value=Sum(
                F("quantity") * Coalesce("unit_price", number(Decimal(0))), filter=counted, output_field=MONEY
            ),
            priced_quantity=Sum("quantity", filter=counted & Q(unit_price__isnull=False)),
            purchased=GroupSubquery(purchases.annotate(t=Sum("quantity")).values("t")[:1], output_field=MONEY),
            purchased_value=GroupSubquery(
                purchases.annotate(
                    t=Sum(F("quantity") * Coalesce("unit_price", number(Decimal(0))), output_field=MONEY)
                ).values("t")[:1],
                output_field=MONEY,
            ),
            purchased_priced=GroupSubquery(
                purchases.annotate(t=Sum("quantity", filter=Q(unit_price__isnull=False))).values("t")[:1],
                output_field=MONEY,
            ),
        )
    )
    return lines


def _line_ref(row: Mapping[str, Any]) -> str:
    return (
        f"contract:{row['project__project_code']}:{row['filer__uscc']}:{row['contract_no']}:"
        f"{row['category_id']}:{row['spec']}"
    )


def _line_finding(row: Mapping[str, Any], message: str, values: dict[str, Any]) -> Finding:
    spec = f" {row['spec']}" if row["spec"] else ""
    return Finding(
        ref=_line_ref(row),
        key={
            "project_code": row["project__project_code"],
            "supplier_uscc": row["filer__uscc"],
            "contract_no": row["contract_no"],
            "category": row["category__code"],
            "spec": row["spec"],
        },
        label=f"合同 {row['contract_no']} {row['category__name']}{spec}（{row['filer__name']}）",
        message=message,
        records=[
            Record("project", row["project__project_code"], row["project__name"]),
            Record("enterprise", row["filer__uscc"], row["filer__name"]),
            Record("contract", f"{row['project__project_code']}/{row['contract_no']}", f"合同 {row['contract_no']}"),
        ],
        values=values,
        project_id=row["project_id"],
        district_id=row["project__district_id"],
        supplier_id=row["filer_id"],
        contractor_id=row["project__contractor_id"],
        contract_no=row["contract_no"],
    )


@register
class QuantityMismatch(RuleLogic):
    code = "XC03"
    title = "供应与采购数量不符"
    basis = BASIS_000
    subject_kind = "contract"
    applies_to = "供应记录、采购记录（按合同、品类、规格汇总）"
    description = "同一合同、同一品类和规格，供应数量合计与采购数量合计之差超过容差（以两者中较大者为基数）。"
    params = (Param("tolerance_pct", "数量容差", Decimal(3), "%", maximum=Decimal(100)),)
    watches = frozenset({"supply", "purchase"})

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        return _quantity_rows(scope, number(ctx.fraction("tolerance_pct")))

    def ref(self, row: Mapping[str, Any]) -> str:
        return _line_ref(row)

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        supplied, purchased = row["supplied"], row["purchased"]
        share = abs(supplied - purchased) / max(supplied, purchased)
        tol = fmt_param(ctx.params["tolerance_pct"])
        unit = row["unit"]
        message = (
            f"供应 {fmt_decimal(supplied)} {unit}，采购 {fmt_decimal(purchased)} {unit}，"
            f"差 {fmt_percent(share)}，容差 {tol}%"
        )
        return _line_finding(
            row,
            message,
            {
                "supplied": fmt_decimal(supplied),
                "purchased": fmt_decimal(purchased),
                "unit": unit,
                "difference_pct": fmt_percent(share),
                "tolerance_pct": tol,
            },
        )


def _quantity_rows(scope: Scope | None, tolerance: Any) -> QuerySet[Any]:
    rows: QuerySet[Any] = _contract_line_subjects(scope).annotate(
        difference=Abs(F("supplied") - F("purchased")),
        violates=boolean(
            Q(purchased__isnull=False) & Q(difference__gt=tolerance * Greatest(F("supplied"), F("purchased")))
        ),
    )
    return rows


BASIS_000_PRICE = (
    "《以信用为纽带推进“互联网+建材”》（北京市建材使用管理信息化监控系统）信息比对点——不能对应后台警示："
    "建材生产供应信息的“销售价格”与建材采购使用信息的“购买价格”相互比对"
)


def _product(*factors: Any) -> ExpressionWrapper:
    expression = factors[0]
    for f in factors[1:]:
        expression = expression * f
    return ExpressionWrapper(expression, output_field=MONEY)


@register
class UnitPriceMismatch(RuleLogic):
    code = "XC04"
    title = "供应与采购单价不符"
    basis = BASIS_000_PRICE
    subject_kind = "contract"
    applies_to = "供应记录、采购记录（按合同、品类、规格汇总）"
    description = (
        "同一合同、同一品类和规格，供应记录的数量加权平均单价与采购记录的数量加权平均单价之差超过容差"
        "（以两者中较高者为基数）。只比较两侧都填报了单价的记录；未填单价的记录不参与平均。"
    )
    params = (Param("tolerance_pct", "单价容差", Decimal(2), "%", maximum=Decimal(100)),)
    watches = frozenset({"supply", "purchase"})

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        # Average prices are value / priced quantity on each side; comparing them cross-multiplied
        # (supplied_value × purchased_priced against purchased_value × priced_quantity) avoids a division in SQL.
        tolerance = number(ctx.fraction("tolerance_pct"))
        rows: QuerySet[Any] = _contract_line_subjects(scope).annotate(
            supply_side=_product(F("supplied_value"), F("purchased_priced")),
            purchase_side=_product(F("purchased_value"), F("priced_quantity")),
        )
        rows = rows.annotate(
            price_gap=Abs(F("supply_side") - F("purchase_side")),
            violates=boolean(
                Q(priced_quantity__gt=0)
                & Q(purchased_priced__gt=0)
                & Q(price_gap__gt=_product(tolerance, Greatest(F("supply_side"), F("purchase_side"))))
            ),
        )
        return rows

    def ref(self, row: Mapping[str, Any]) -> str:
        return _line_ref(row)

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        supplied = Decimal(row["supplied_value"]) / Decimal(row["priced_quantity"])
        purchased = Decimal(row["purchased_value"]) / Decimal(row["purchased_priced"])
        share = abs(supplied - purchased) / max(supplied, purchased)
        tol = fmt_param(ctx.params["tolerance_pct"])
        unit = row["unit"]
        message = (
            f"供应均价 {fmt_decimal(supplied, 2)} 元/{unit}（{fmt_decimal(row['priced_quantity'])} {unit}），"
            f"采购均价 {fmt_decimal(purchased, 2)} 元/{unit}（{fmt_decimal(row['purchased_priced'])} {unit}），"
            f"差 {fmt_percent(share)}，容差 {tol}%"
        )
        return _line_finding(
            row,
            message,
            {
                "supplied_price": fmt_decimal(supplied, 2),
                "purchased_price": fmt_decimal(purchased, 2),
                "supplied_priced_quantity": fmt_decimal(row["priced_quantity"]),
                "purchased_priced_quantity": fmt_decimal(row["purchased_priced"]),
                "unit": unit,
                "difference_pct": fmt_percent(share),
                "tolerance_pct": tol,
            },
        )


BASIS_000_SPEC = (
    "《以信用为纽带推进“互联网+建材”》（北京市建材使用管理信息化监控系统）信息比对点——不能对应后台警示："
    "建材生产供应信息与建材采购使用信息的“产品规格型号”相互比对"
)

# How many unmatched lines a message names (the evidence lists them all).
SPEC_LINES_SHOWN = 5


def _contract_supplies() -> QuerySet[Any]:
    return submitted(Supply).filter(
        project_id=OuterRef("project_id"), filer_id=OuterRef("filer_id"), contract_no=OuterRef("contract_no")
    )


def _contract_purchases() -> QuerySet[Any]:
    return submitted(Purchase).filter(
        project_id=OuterRef("project_id"), supplier_id=OuterRef("filer_id"), contract_no=OuterRef("contract_no")
    )


ContractKey = tuple[int, int, str]  # (project id, supplier id, contract number)
PREPARE_CHUNK = 1000  # contracts per query when the lines are read for many findings at once


def _spec_lines(model: Any, other: Any, keys: list[ContractKey]) -> dict[ContractKey, list[dict[str, Any]]]:
    """For each contract, the (category, spec) lines of one side that the other side never filed, with quantities.
    One query per chunk of contracts (the sets of projects, suppliers and numbers over-approximate the contracts;
    rows of other combinations are dropped here)."""
    party, other_party = ("filer_id", "supplier_id") if model is Supply else ("supplier_id", "filer_id")
    counterpart = submitted(other).filter(
        project_id=OuterRef("project_id"),
        contract_no=OuterRef("contract_no"),
        category_id=OuterRef("category_id"),
        spec=OuterRef("spec"),
        **{other_party: OuterRef(party)},
    )
    wanted = set(keys)
    out: dict[ContractKey, list[dict[str, Any]]] = {k: [] for k in keys}
    for start in range(0, len(keys), PREPARE_CHUNK):
        chunk = keys[start : start + PREPARE_CHUNK]
        lines = (
            submitted(model)
            .filter(
                project_id__in={k[0] for k in chunk},
                contract_no__in={k[2] for k in chunk},
                **{f"{party}__in": {k[1] for k in chunk}},
            )
            .filter(~Exists(counterpart))
            .order_by()
            .values(
                "project_id", party, "contract_no", "category__sort", "category__code", "category__name", "spec", "unit"
            )
            .annotate(total=Sum("quantity"))
            .order_by("project_id", party, "contract_no", "category__sort", "category__code", "spec", "unit")
        )  # fmt: skip
        for x in lines:
            key = (x["project_id"], x[party], x["contract_no"])
            if key in wanted:
                out[key].append(
                    {
                        "category": x["category__name"],
                        "spec": x["spec"],
                        "quantity": fmt_decimal(x["total"]),
                        "unit": x["unit"],
                    }
                )
    return out


def _spec_text(lines: list[dict[str, Any]]) -> str:
    shown = "、".join(
        f"{x['category']} {x['spec'] or '（未填规格）'} {x['quantity']} {x['unit']}" for x in lines[:SPEC_LINES_SHOWN]
    )
    more = f" 等 {len(lines)} 项" if len(lines) > SPEC_LINES_SHOWN else ""
    return shown + more


@register
class SpecMismatch(RuleLogic):
    code = "XC05"
    title = "供应与采购规格型号不符"
    basis = BASIS_000_SPEC
    subject_kind = "contract"
    applies_to = "供应记录、采购记录（按合同汇总）"
    description = (
        "同一合同两侧都已填报时，按品类和规格型号逐项对照：供应企业填报了而施工单位从未采购的规格，"
        "或施工单位采购了而供应企业从未供应的规格。规格型号按填报文字逐字比对（空格、大小写不同也视为不同）。"
        "一侧完全没有该合同的记录属于 XC01/XC02；两侧都有的规格的数量和单价由 XC03/XC04 比对。"
    )
    watches = frozenset({"supply", "purchase"})

    def subjects(self, ctx: Context, scope: Scope | None) -> QuerySet[Any]:
        supply_only = _contract_supplies().filter(
            ~Exists(
                submitted(Purchase).filter(
                    project_id=OuterRef("project_id"),
                    supplier_id=OuterRef("filer_id"),
                    contract_no=OuterRef("contract_no"),
                    category_id=OuterRef("category_id"),
                    spec=OuterRef("spec"),
                )
            )
        )
        purchase_only = _contract_purchases().filter(
            ~Exists(
                submitted(Supply).filter(
                    project_id=OuterRef("project_id"),
                    filer_id=OuterRef("supplier_id"),
                    contract_no=OuterRef("contract_no"),
                    category_id=OuterRef("category_id"),
                    spec=OuterRef("spec"),
                )
            )
        )
        rows: QuerySet[Any] = (
            _contract_rows(scope)
            .order_by()
            .values(
                "project_id",
                "project__project_code",
                "project__name",
                "project__district_id",
                "project__contractor_id",
                "filer_id",
                "filer__uscc",
                "filer__name",
                "contract_no",
            )
            .annotate(
                versions=Count("id"),
                violates=boolean(
                    GroupExists(_contract_supplies())
                    & GroupExists(_contract_purchases())
                    & (GroupExists(supply_only) | GroupExists(purchase_only))
                ),
            )
        )
        return rows

    def ref(self, row: Mapping[str, Any]) -> str:
        return f"contract:{row['project__project_code']}:{row['filer__uscc']}:{row['contract_no']}"

    def prepare(self, rows: list[dict[str, Any]], ctx: Context) -> None:
        keys = [(r["project_id"], r["filer_id"], r["contract_no"]) for r in rows]
        supplied, purchased = _spec_lines(Supply, Purchase, keys), _spec_lines(Purchase, Supply, keys)
        for row, key in zip(rows, keys, strict=True):
            row["supplied_only"], row["purchased_only"] = supplied[key], purchased[key]

    def finding(self, row: Mapping[str, Any], ctx: Context) -> Finding:
        if "supplied_only" not in row:
            self.prepare([row := dict(row)], ctx)
        supplied_only, purchased_only = row["supplied_only"], row["purchased_only"]
        parts = []
        if supplied_only:
            parts.append(f"供应有、采购无：{_spec_text(supplied_only)}")
        if purchased_only:
            parts.append(f"采购有、供应无：{_spec_text(purchased_only)}")
        message = f"合同 {row['contract_no']} 供应与采购的规格型号不一致。" + "；".join(parts)
        return Finding(
            ref=self.ref(row),
            key={
                "project_code": row["project__project_code"],
                "supplier_uscc": row["filer__uscc"],
                "contract_no": row["contract_no"],
            },
            label=f"合同 {row['contract_no']}（{row['filer__name']}）",
            message=message,
            records=[
                Record("project", row["project__project_code"], row["project__name"]),
                Record("enterprise", row["filer__uscc"], row["filer__name"]),
                Record(
                    "contract", f"{row['project__project_code']}/{row['contract_no']}", f"合同 {row['contract_no']}"
                ),
            ],
            values={"supplied_not_purchased": supplied_only, "purchased_not_supplied": purchased_only},
            project_id=row["project_id"],
            district_id=row["project__district_id"],
            supplier_id=row["filer_id"],
            contractor_id=row["project__contractor_id"],
            contract_no=row["contract_no"],
        )
