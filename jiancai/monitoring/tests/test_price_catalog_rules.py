"""XC13 (purchase price against the tender's market guide price) and XC14 (prohibited / restricted material)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.filings.tests.records import file_as, purchase_row, tender_row
from jiancai.materials.actions import save_catalog_entry
from jiancai.materials.models import CatalogEntry, MaterialCategory
from jiancai.monitoring.engine import evaluate
from jiancai.monitoring.models import Alert, AlertStatus

pytestmark = pytest.mark.django_db


def b_tender(world: World, **overrides: Any) -> dict[str, Any]:
    """B's tender for rebar on its own project, contract HT-B-001, won by A."""
    fields: dict[str, Any] = {
        "project_code": world.b_project.project_code,
        "category": "GJ",
        "winner_uscc": world.a.uscc,
        "contract_no": "HT-B-001",
        "awarded_price": "4150",
        "guide_price": "4000",
    }
    return tender_row(world, **{**fields, **overrides})


def only(code: str) -> Alert:
    return Alert.objects.get(rule__code=code)


# ------------------------------------------------------------------------------------------------ XC13


def test_price_beyond_tolerance_of_the_guide_price_is_raised_and_resolved_by_a_correction(world: World) -> None:
    file_as(world["b_staff"], "tender", b_tender(world))
    file_as(world["b_staff"], "purchase", purchase_row(world, unit_price="4500"))
    evaluate()
    alert = only("XC13")
    assert alert.message == (
        "钢筋 HRB400E Φ20 采购单价 4500.00 元/t，高于招标 ZB-0001（合同 HT-B-001）的市场指导价 4000.00 元，"
        "中标单价 4150.00 元，偏离 12.5%，容差 10%"
    )
    assert alert.subject_key == {"purchaser_uscc": world.b.uscc, "purchase_no": "CG-0001"}
    assert alert.supplier_id == world.a.pk and alert.contractor_id == world.b.pk
    assert [r["kind"] for r in alert.evidence["records"]] == ["purchase", "tender", "project"]

    # Exactly 10 % off is within tolerance: the correction resolves the alert.
    file_as(world["b_staff"], "purchase", purchase_row(world, unit_price="3600"))
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_price_is_only_compared_where_a_tender_gives_a_guide_price(world: World) -> None:
    file_as(world["b_staff"], "purchase", purchase_row(world, 1, unit_price="9000"))  # no tender at all
    file_as(world["b_staff"], "tender", b_tender(world, contract_no="HT-B-002", guide_price=""))
    file_as(world["b_staff"], "purchase", purchase_row(world, 2, unit_price="9000", contract_no="HT-B-002"))
    file_as(world["b_staff"], "tender", b_tender(world, tender_no="ZB-0003", contract_no="HT-B-003"))
    file_as(world["b_staff"], "purchase", purchase_row(world, 3, unit_price="4300", contract_no="HT-B-003"))
    evaluate()
    assert not Alert.objects.filter(rule__code="XC13").exists()


def test_a_later_tender_incrementally_raises_the_price_alert(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["b_staff"], "purchase", purchase_row(world, unit_price="3000"))
    assert not Alert.objects.filter(rule__code="XC13").exists()
    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["b_staff"], "tender", b_tender(world))
    assert only("XC13").message == (
        "钢筋 HRB400E Φ20 采购单价 3000.00 元/t，低于招标 ZB-0001（合同 HT-B-001）的市场指导价 4000.00 元，"
        "中标单价 4150.00 元，偏离 25.0%，容差 10%"
    )


# ------------------------------------------------------------------------------------------------ XC14


def entry(**fields: Any) -> CatalogEntry:
    defaults: dict[str, Any] = {
        "entry_no": "J-001",
        "listing": "禁止",
        "category": MaterialCategory.objects.get(code="GJ"),
        "product_name": "HRB335 热轧带肋钢筋",
        "spec_keyword": "HRB335",
        "effective_from": dt.date(2020, 1, 1),
        "document_no": "京建发〔2019〕149号",
    }
    return CatalogEntry.objects.create(**{**defaults, **fields})


def test_prohibited_material_is_raised_and_resolved_when_the_spec_is_corrected(world: World) -> None:
    entry()
    file_as(world["b_staff"], "purchase", purchase_row(world, 1, spec="HRB335 Φ20"))
    file_as(world["b_staff"], "purchase", purchase_row(world, 2))  # HRB400E: not in the entry
    evaluate()
    alert = only("XC14")
    assert alert.message == (
        "2025-06-02 进场的钢筋 HRB335 Φ20属禁止使用目录条目 J-001「HRB335 热轧带肋钢筋」"
        "（京建发〔2019〕149号，规格关键字“HRB335”），不得在工程中使用"
    )
    assert alert.subject_key == {"purchaser_uscc": world.b.uscc, "purchase_no": "CG-0001"}
    assert [r["kind"] for r in alert.evidence["records"]] == ["purchase", "catalog_entry", "project"]

    file_as(world["b_staff"], "purchase", purchase_row(world, 1, spec="HRB400E Φ20"))
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_prohibition_counts_from_its_effective_date_and_an_empty_keyword_covers_the_category(world: World) -> None:
    entry(effective_from=dt.date(2025, 7, 1))  # after the arrival on 2025-06-02
    entry(entry_no="J-002", category=MaterialCategory.objects.get(code="SN"), spec_keyword="", product_name="立窑水泥")
    file_as(world["b_staff"], "purchase", purchase_row(world, 1, spec="HRB335 Φ20"))
    file_as(world["b_staff"], "purchase", purchase_row(world, 2, category="SN", spec="P.O 42.5", unit="t"))
    evaluate()
    alerts = Alert.objects.filter(rule__code="XC14")
    assert [a.subject_key["purchase_no"] for a in alerts] == ["CG-0002"]
    assert "属禁止使用目录条目 J-002「立窑水泥」（京建发〔2019〕149号），不得在工程中使用" in alerts[0].message


def test_restricted_material_inside_its_restriction_scope(world: World) -> None:
    entry(entry_no="X-001", listing="限制", spec_keyword="", product_name="冷轧扭钢筋", scope="地下室、±0.000以下")
    file_as(world["b_staff"], "purchase", purchase_row(world, 1, use_location="2#楼 地下室外墙"))
    file_as(world["b_staff"], "purchase", purchase_row(world, 2, use_location="3#楼 屋面"))
    evaluate()
    alert = only("XC14")
    assert alert.subject_key["purchase_no"] == "CG-0001"
    assert alert.message == (
        "2025-06-02 进场的钢筋 HRB400E Φ20属限制使用目录条目 X-001「冷轧扭钢筋」（京建发〔2019〕149号），"
        "限制范围「地下室、±0.000以下」，本工程拟使用部位“2#楼 地下室外墙”含“地下室”，在限制范围内"
    )


def test_restriction_by_district_project_type_and_government_funding(world: World) -> None:
    # b_project: 海淀区 (one of the six central districts), 住宅, not government-funded.
    entry(entry_no="X-001", listing="限制", spec_keyword="", scope="城六区")
    entry(entry_no="X-002", listing="限制", spec_keyword="", scope="政府投资工程、学校", category=_sn())
    file_as(world["b_staff"], "purchase", purchase_row(world, 1))
    file_as(world["b_staff"], "purchase", purchase_row(world, 2, category="SN", spec="P.O 42.5"))
    evaluate()
    assert [a.subject_key["purchase_no"] for a in Alert.objects.filter(rule__code="XC14")] == ["CG-0001"]
    assert "本工程位于城六区（海淀区），在限制范围内" in only("XC14").message


def _sn() -> MaterialCategory:
    return MaterialCategory.objects.get(code="SN")


def test_catalog_change_through_its_action_re_checks_the_category(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    prohibition = entry()
    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["b_staff"], "purchase", purchase_row(world, spec="HRB335 Φ20"))
    alert = only("XC14")
    assert alert.status == AlertStatus.OPEN
    regulator = world["city_biz"]
    with django_capture_on_commit_callbacks(execute=True):
        save_catalog_entry(
            instance=prohibition,
            data={"effective_from": dt.date(2025, 7, 1)},
            actor=regulator,
            context=context_for(regulator),
        )
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
