"""Cross-check rules XC04–XC12: for each, a case that raises (exact message and subject key), a clean case, and a
correction that resolves it; and the incremental evaluation (filings and registry changes arriving one by one)
agreeing with a full one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from jiancai.accounts.tests.personas import World
from jiancai.filings.tests.records import file_as, purchase_row, supply_row
from jiancai.monitoring.engine import evaluate
from jiancai.monitoring.models import Alert, AlertStatus

pytestmark = pytest.mark.django_db


def b_supply(world: World, n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A supply by A to B's project under B's contract HT-B-001 (the counterpart of `purchase_row`)."""
    return supply_row(world, n, project_code=world.b_project.project_code, contract_no="HT-B-001", **overrides)


def alerts(code: str) -> list[Alert]:
    return list(Alert.objects.filter(rule__code=code).order_by("subject_ref"))


def standing(code: str) -> list[Alert]:
    return [a for a in alerts(code) if a.status != AlertStatus.RESOLVED]


# ------------------------------------------------------------------------------------------------ XC04


def test_xc04_unit_price_mismatch_raised_and_resolved(world: World) -> None:
    file_as(world["a_staff"], "supply", b_supply(world, 1, unit_price="4000"), b_supply(world, 2, unit_price="4300"))
    file_as(world["b_staff"], "purchase", purchase_row(world, 1, quantity="120", unit_price="4400"))
    evaluate()
    (alert,) = alerts("XC04")
    assert alert.message == (
        "供应均价 4150.00 元/t（120.000 t），采购均价 4400.00 元/t（120.000 t），差 5.7%，容差 2%"
    )
    assert alert.subject_key == {
        "project_code": world.b_project.project_code,
        "supplier_uscc": world.a.uscc,
        "contract_no": "HT-B-001",
        "category": "钢筋",
        "spec": "HRB400E Φ20",
    }
    assert alert.supplier_id == world.a.pk and alert.contract_no == "HT-B-001"
    file_as(world["b_staff"], "purchase", purchase_row(world, 1, quantity="120", unit_price="4200"))
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_xc04_clean_within_tolerance_or_unpriced(world: World) -> None:
    file_as(world["a_staff"], "supply", b_supply(world, 1, unit_price="4150"))
    file_as(world["a_staff"], "supply", b_supply(world, 2, spec="HRB400E Φ25", unit_price="4150"))
    file_as(world["b_staff"], "purchase", purchase_row(world, 1, unit_price="4200"))  # 1.2 %
    file_as(world["b_staff"], "purchase", purchase_row(world, 2, spec="HRB400E Φ25"))  # no price: not compared
    evaluate()
    assert alerts("XC04") == []


# ------------------------------------------------------------------------------------------------ XC05


def test_xc05_spec_supplied_not_purchased_and_back(world: World) -> None:
    file_as(world["a_staff"], "supply", b_supply(world, 1), b_supply(world, 2, spec="HRB400E Φ25", quantity="30"))
    file_as(world["b_staff"], "purchase", purchase_row(world, 1), purchase_row(world, 2, spec="HRB400E Φ22"))
    evaluate()
    (alert,) = alerts("XC05")
    assert alert.message == (
        "合同 HT-B-001 供应与采购的规格型号不一致。供应有、采购无：钢筋 HRB400E Φ25 30.000 t；"
        "采购有、供应无：钢筋 HRB400E Φ22 60.000 t"
    )
    assert alert.subject_key == {
        "project_code": world.b_project.project_code,
        "supplier_uscc": world.a.uscc,
        "contract_no": "HT-B-001",
    }
    file_as(world["b_staff"], "purchase", purchase_row(world, 2, spec="HRB400E Φ25", quantity="30"))
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_xc05_clean_when_specs_agree_or_one_side_missing(world: World) -> None:
    file_as(world["a_staff"], "supply", b_supply(world, 1))
    file_as(world["b_staff"], "purchase", purchase_row(world, 1, quantity="50"))
    file_as(world["a_staff"], "supply", supply_row(world, 9, spec="HRB400E Φ32"))  # no purchase at all: XC01
    evaluate()
    assert alerts("XC05") == []
