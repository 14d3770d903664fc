"""Reading the rollup tables as comparable sets, for the incremental-vs-rebuild tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jiancai.analytics.models import AlertRollup, FilingRollup, SupplierRollup


def _norm(value: Any) -> Any:
    if isinstance(value, Decimal | float):
        return Decimal(str(value)).quantize(Decimal("0.001"))
    return value


def snapshot() -> dict[str, set[tuple[Any, ...]]]:
    """Every rollup row (no ids), groups with nothing left dropped (a recomputation never writes them)."""
    tables: dict[str, Any] = {
        "filing": FilingRollup.objects.exclude(records=0).values_list(
            "kind", "month", "district_id", "category_id", "unit", "records", "quantity", "priced_quantity", "amount",
            "failed",
        ),
        "supplier": SupplierRollup.objects.exclude(records=0).values_list(
            "kind", "month", "district_id", "organization_id", "records"
        ),
        "alert": AlertRollup.objects.exclude(alerts=0).values_list(
            "rule_id", "district_id", "status", "raised_on", "alerts"
        ),
    }
    return {name: {tuple(_norm(v) for v in row) for row in qs} for name, qs in tables.items()}
