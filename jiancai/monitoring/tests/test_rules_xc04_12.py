"""Cross-check rules XC04–XC12: for each, a case that raises (exact message and subject key), a clean case, and a
correction that resolves it; and the incremental evaluation (filings and registry changes arriving one by one)
agreeing with a full one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from jiancai.accounts.context import context_for
from jiancai.accounts.models import Organization
from jiancai.accounts.tests.factories import OrganizationFactory, make_uscc
from jiancai.accounts.tests.personas import World
from jiancai.filings.actions import withdraw_filing
from jiancai.filings.models import TestReport
from jiancai.filings.tests.records import (
    Filers,
    file_as,
    purchase_row,
    report_row,
    stored_pk,
    supply_row,
    tender_row,
)
from jiancai.materials.actions import save_category, save_product_filing
from jiancai.materials.models import MaterialCategory, ProductFiling
from jiancai.monitoring.engine import evaluate, sync_rules
from jiancai.monitoring.models import Alert, AlertStatus, RuleParameter
from jiancai.monitoring.trace import trace_deliveries

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
    assert alert.message == ("供应均价 4150.00 元/t（120.000 t），采购均价 4400.00 元/t（120.000 t），差 5.7%，容差 2%")
    assert alert.subject_key == {
        "project_code": world.b_project.project_code,
        "supplier_uscc": world.a.uscc,
        "contract_no": "HT-B-001",
        "category": "GJ",
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


# ------------------------------------------------------------------------------------------------ helpers

B_CODE = "110108202600001"  # world.b_project
A_CODE = "110105202600001"  # world.a_project
SUPPLY_HEAD = f"2025-06-01 供货 钢筋 HRB400E Φ20 60.000 t（项目 {B_CODE}，合同 HT-B-001）"


def file_product(world: World, instance: ProductFiling | None = None, **data: Any) -> ProductFiling:
    """A product supply filing of A (the producer), through the action the page uses."""
    fields: dict[str, Any] = (
        {
            "filing_no": "BA-GJ-0001",
            "producer": world.a,
            "category": MaterialCategory.objects.get(code="GJ"),
            "product_name": "热轧带肋钢筋",
            "spec": "HRB400E Φ20",
            "type_report_no": "TR-2025-001",
            "type_report_agency": "国家建筑材料质量监督检验中心",
            "type_report_valid_until": dt.date(2027, 6, 30),
            "valid_until": dt.date(2027, 12, 31),
        }
        if instance is None
        else {}
    )
    user = world["a_staff"]
    return save_product_filing(
        instance=instance or ProductFiling(), data={**fields, **data}, actor=user, context=context_for(user)
    )


def other_producer() -> Organization:
    return OrganizationFactory.create(
        name="北京海淀钢材制造有限公司",
        uscc=make_uscc(505, region="110108"),
        district_name="海淀区",
        kinds=["producer"],
    )


def set_param(code: str, name: str, value: str) -> None:
    rules = sync_rules()
    RuleParameter.objects.create(
        rule=rules[code], name=name, value=Decimal(value), effective_from=dt.datetime.now(dt.UTC)
    )


def witness(world: World, filers: Filers, n: int, **overrides: Any) -> dict[str, Any]:
    return report_row(world, filers, n, **overrides)


# ------------------------------------------------------------------------------------------------ XC06


def test_xc06_unknown_report_number_raised_and_corrected(world: World) -> None:
    file_product(world)
    file_as(world["a_staff"], "supply", b_supply(world, type_report_no="TR-9999"))
    evaluate()
    (alert,) = alerts("XC06")
    assert alert.message == f"{SUPPLY_HEAD}，填报的型式检验报告编号 TR-9999 在产品供应备案中查无此号"
    assert alert.subject_key == {"supplier_uscc": world.a.uscc, "supply_no": "GY-0001"}
    assert alert.subject_ref == f"supply:{world.a.uscc}:GY-0001"
    assert alert.evidence["values"]["problem"] == "unknown"
    file_as(world["a_staff"], "supply", b_supply(world, type_report_no="TR-2025-001"))
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_xc06_report_of_another_producer(world: World) -> None:
    file_product(world)
    ProductFiling.objects.create(
        filing_no="BA-GJ-0900",
        producer=other_producer(),
        category=MaterialCategory.objects.get(code="SN"),
        product_name="普通硅酸盐水泥",
        type_report_no="TR-HD-001",
    )
    file_as(world["a_staff"], "supply", b_supply(world, type_report_no="TR-HD-001"))
    evaluate()
    (alert,) = alerts("XC06")
    assert alert.message == (
        f"{SUPPLY_HEAD}，填报的型式检验报告编号 TR-HD-001 属于 北京海淀钢材制造有限公司 的水泥产品"
        "（产品供应备案 BA-GJ-0900），不是本企业的钢筋产品"
    )


def test_xc06_expired_report_resolved_by_a_product_filing_correction(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    filing = file_product(world, type_report_valid_until=dt.date(2025, 5, 31))
    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["a_staff"], "supply", b_supply(world, type_report_no="TR-2025-001"))
    (alert,) = alerts("XC06")
    assert alert.message == (
        f"{SUPPLY_HEAD}，型式检验报告 TR-2025-001（产品供应备案 BA-GJ-0001）有效期至 2025-05-31，早于供货日期"
    )
    # The producer files the renewed report: the catalog signal re-checks its supplies at once.
    with django_capture_on_commit_callbacks(execute=True):
        file_product(world, instance=filing, type_report_valid_until=dt.date(2028, 5, 31))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_xc06_missing_number_where_the_own_filing_has_one(world: World) -> None:
    file_product(world)
    file_as(world["a_staff"], "supply", b_supply(world, type_report_no=""))
    evaluate()
    (alert,) = alerts("XC06")
    assert alert.message == (
        f"{SUPPLY_HEAD}，未填报型式检验报告编号；本企业产品供应备案 BA-GJ-0001 的钢筋产品型式检验报告编号为 TR-2025-001"
    )
    set_param("XC06", "require_number", "0")
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_xc06_clean(world: World) -> None:
    file_product(world)
    file_as(world["a_staff"], "supply", b_supply(world, type_report_no="TR-2025-001"))
    file_as(world["a_staff"], "supply", b_supply(world, 2, category="SN", unit="t", spec="P.O 42.5"))  # no filing
    evaluate()
    assert alerts("XC06") == []


# ------------------------------------------------------------------------------------------------ XC07


def test_xc07_no_product_filing_resolved_when_the_producer_files_one(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["a_staff"], "supply", b_supply(world))
    (alert,) = alerts("XC07")
    assert alert.message == f"{SUPPLY_HEAD}，本企业没有钢筋产品供应备案"
    assert alert.subject_key == {"supplier_uscc": world.a.uscc, "supply_no": "GY-0001"}
    assert alert.supplier_id == world.a.pk and alert.contractor_id == world.b_project.contractor_id
    with django_capture_on_commit_callbacks(execute=True):
        file_product(world)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_xc07_filing_for_another_spec_and_expired_filing(world: World) -> None:
    filing = file_product(world, spec="HRB400E Φ12")
    file_as(world["a_staff"], "supply", b_supply(world))
    evaluate()
    (alert,) = alerts("XC07")
    assert alert.message == f"{SUPPLY_HEAD}，本企业的钢筋产品供应备案（1 项）均不含规格型号 HRB400E Φ20"
    set_param("XC07", "match_spec", "0")  # the category is enough
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED

    file_product(world, instance=filing, valid_until=dt.date(2025, 5, 1))
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    assert alert.message == f"{SUPPLY_HEAD}，本企业产品供应备案 BA-GJ-0001 有效期至 2025-05-01，早于供货日期，已失效"


def test_xc07_clean_with_a_filing_for_the_whole_category(world: World) -> None:
    file_product(world, spec="", valid_until=None)
    file_as(world["a_staff"], "supply", b_supply(world), b_supply(world, 2, spec="HRB400E Φ25"))
    evaluate()
    assert alerts("XC07") == []


# ------------------------------------------------------------------------------------------------ XC08


def test_xc08_no_witness_test_after_the_grace_period(world: World, filers: Filers) -> None:
    file_as(world["b_staff"], "purchase", purchase_row(world))  # arrived 2025-06-02
    evaluate(today=dt.date(2025, 6, 9))  # 7 days: the last day of grace
    assert alerts("XC08") == []
    evaluate(today=dt.date(2025, 6, 10))
    (alert,) = alerts("XC08")
    assert alert.message == (
        "2025-06-02 进场 钢筋 HRB400E Φ20 60.000 t（批号 PH0001，供应企业 北京朝建建材有限公司），"
        f"宽限期 7 天已过，项目 {B_CODE} 仍无该品类同批号或同规格型号的见证检测报告"
    )
    assert alert.subject_key == {"purchaser_uscc": world.b.uscc, "purchase_no": "CG-0001"}
    assert alert.contractor_id == world.b.pk and alert.supplier_id == world.a.pk
    # A report of the same batch (another spec written) is enough.
    file_as(filers.lab_staff, "test_report", witness(world, filers, 1, spec="HRB400E"))
    evaluate(today=dt.date(2025, 6, 10))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_xc08_clean_for_categories_without_retest_and_raised_when_the_category_changes(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["b_staff"], "purchase", purchase_row(world, category="GC", unit="m", spec="PE100 DN110"))
    assert alerts("XC08") == []
    gc = MaterialCategory.objects.get(code="GC")
    user = world["city_biz"]
    with django_capture_on_commit_callbacks(execute=True):
        save_category(instance=gc, data={"witness_retest_required": True}, actor=user, context=context_for(user))
    (alert,) = alerts("XC08")
    assert "进场 管材管件 PE100 DN110 60.000 m" in alert.message


def test_xc08_incrementally_resolved_by_a_new_report_and_raised_again_when_it_is_withdrawn(
    world: World, filers: Filers, django_capture_on_commit_callbacks: Any
) -> None:
    """A new report is evaluated against the purchases with an active XC08 alert only; a withdrawal against every
    purchase of its project and category. Both as the filings arrive, and the same as a full run."""
    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["b_staff"], "purchase", purchase_row(world), purchase_row(world, 2, batch_no="PH0002"))
    assert len(alerts("XC08")) == 2
    with django_capture_on_commit_callbacks(execute=True):
        result = file_as(filers.lab_staff, "test_report", witness(world, filers, 1, spec="HRB400E"))
    (left,) = [a for a in alerts("XC08") if a.status != AlertStatus.RESOLVED]
    assert left.subject_key["purchase_no"] == "CG-0002"  # batch PH0001 is tested, PH0002 is not
    report = TestReport.objects.get(pk=stored_pk(result))
    with django_capture_on_commit_callbacks(execute=True):
        withdraw_filing(filing=report, reason="报告作废", actor=filers.lab_staff, context=context_for(filers.lab_staff))
    assert [a.status for a in alerts("XC08")] == [AlertStatus.OPEN, AlertStatus.OPEN]
    standing = {(a.subject_ref, a.status, a.message) for a in alerts("XC08")}
    Alert.objects.all().delete()
    evaluate()
    assert {(a.subject_ref, a.status, a.message) for a in alerts("XC08")} == standing


# ------------------------------------------------------------------------------------------------ XC09


def test_xc09_failed_witness_test_with_its_trace(world: World, filers: Filers) -> None:
    file_as(world["a_staff"], "supply", b_supply(world, 1, batch_no="PH0001"))
    file_as(world["a_staff"], "supply", supply_row(world, 2, batch_no="PH0001", quantity="30"))  # A's own project
    file_as(world["a_staff"], "supply", supply_row(world, 3, batch_no="PH0002"))  # another batch
    file_as(world["b_staff"], "purchase", purchase_row(world, 1, use_location="3#楼 基础"))
    report = file_as(filers.lab_staff, "test_report", witness(world, filers, 1, result="不合格"))
    evaluate()
    (alert,) = alerts("XC09")
    assert alert.message == (
        "2025-06-05 见证检测报告 JC-0001（北京市建设工程质量检测中心）：北京朝建建材有限公司 的钢筋 HRB400E Φ20"
        f"（批号 PH0001，项目 {B_CODE}）检测结果不合格。溯源：同一生产企业、同一批号的材料另有 1 条供应记录，"
        "供往其他 1 个项目"
    )
    assert alert.subject_key == {"lab_uscc": filers.lab.uscc, "report_no": "JC-0001"}
    assert alert.laboratory_id == filers.lab.pk and alert.supplier_id == world.a.pk
    trace = alert.evidence["values"]["trace"]
    assert [(t["project_code"], t["supply_no"], t["quantity"]) for t in trace] == [(A_CODE, "GY-0002", "30.000")]

    # The full trace: both deliveries of the batch, with the use location the contractor filed.
    rows = trace_deliveries(TestReport.objects.get(pk=stored_pk(report)))
    assert [(r.project.project_code, r.supply_no, r.use_location) for r in rows] == [
        (A_CODE, "GY-0002", None),
        (B_CODE, "GY-0001", "3#楼 基础"),
    ]

    # Another delivery of the batch refreshes the evidence; the corrected (passing) result resolves the alert.
    file_as(world["a_staff"], "supply", supply_row(world, 4, batch_no="PH0001"))
    evaluate()
    alert.refresh_from_db()
    assert alert.message.endswith("另有 2 条供应记录，供往其他 1 个项目")
    file_as(filers.lab_staff, "test_report", witness(world, filers, 1, result="合格"))
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_xc09_clean_for_passing_and_routine_tests(world: World, filers: Filers) -> None:
    file_as(filers.lab_staff, "test_report", witness(world, filers, 1))
    file_as(filers.lab_staff, "test_report", witness(world, filers, 2, kind="日常检测", result="不合格"))
    evaluate()
    assert alerts("XC09") == []


def test_trace_of_a_report_without_batch_is_empty(world: World, filers: Filers) -> None:
    file_as(world["a_staff"], "supply", supply_row(world, 1, batch_no=""))
    result = file_as(filers.lab_staff, "test_report", witness(world, filers, 1, batch_no="", result="不合格"))
    assert not trace_deliveries(TestReport.objects.get(pk=stored_pk(result))).exists()
    evaluate()
    assert alerts("XC09")[0].message.endswith("检测结果不合格。未填报生产企业或批号，无法溯源")


# ------------------------------------------------------------------------------------------------ XC10


def test_xc10_cited_report_for_another_spec_and_project(world: World, filers: Filers) -> None:
    file_as(
        filers.lab_staff,
        "test_report",
        witness(world, filers, 1, spec="HRB400E Φ25", project_code=A_CODE),
    )
    file_as(world["b_staff"], "purchase", purchase_row(world, witness_report_no="JC-0001"))
    evaluate()
    (alert,) = alerts("XC10")
    assert alert.message == (
        "采购单 CG-0001 引用的见证检测报告 JC-0001（北京市建设工程质量检测中心）与采购不符："
        f"报告的项目为 {A_CODE}，采购的项目为 {B_CODE}；报告的规格型号为 HRB400E Φ25，采购的为 HRB400E Φ20"
    )
    assert alert.subject_key == {"purchaser_uscc": world.b.uscc, "purchase_no": "CG-0001"}
    assert alert.laboratory_id == filers.lab.pk
    file_as(filers.lab_staff, "test_report", witness(world, filers, 1))  # the laboratory corrects its report
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_xc10_clean_when_the_report_matches_or_does_not_exist(world: World, filers: Filers) -> None:
    file_as(filers.lab_staff, "test_report", witness(world, filers, 1))
    file_as(world["b_staff"], "purchase", purchase_row(world, 1, witness_report_no="JC-0001"))
    file_as(world["b_staff"], "purchase", purchase_row(world, 2, witness_report_no="JC-9999"))
    evaluate()
    assert alerts("XC10") == []


# ------------------------------------------------------------------------------------------------ XC11


def test_xc11_too_few_witness_batches(world: World, filers: Filers) -> None:
    file_as(world["b_staff"], "purchase", purchase_row(world, 1, quantity="100"), purchase_row(world, 2, quantity="50"))
    file_as(filers.lab_staff, "test_report", witness(world, filers, 1))
    evaluate()
    (alert,) = alerts("XC11")
    assert alert.message == (
        f"项目 {B_CODE} 钢筋进场 150.000 t（进场满 7 天的采购合计），检验批量 60 t，应至少见证检测 3 批，"
        "现有见证检测报告 1 份"
    )
    assert alert.subject_key == {"project_code": B_CODE, "category": "GJ"}
    assert alert.subject_ref == f"project_category:{B_CODE}:GJ"
    file_as(filers.lab_staff, "test_report", witness(world, filers, 2), witness(world, filers, 3, batch_no="PH0002"))
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_xc11_clean_without_batch_size_or_within_grace(world: World) -> None:
    file_as(world["b_staff"], "purchase", purchase_row(world, 1, category="FS", unit="m²", spec="SBS 4mm"))
    file_as(world["b_staff"], "purchase", purchase_row(world, 2, arrival_date="2025-06-30"))
    evaluate(today=dt.date(2025, 7, 1))
    assert alerts("XC11") == []
    evaluate(today=dt.date(2025, 7, 8))
    assert [a.message.split("，")[0] for a in alerts("XC11")] == [
        f"项目 {B_CODE} 钢筋进场 60.000 t（进场满 7 天的采购合计）"
    ]


# ------------------------------------------------------------------------------------------------ XC12


def b_tender(world: World, n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A tender result of builder B's project for rebar, won by A under contract HT-B-001."""
    fields = {"project_code": B_CODE, "category": "GJ", "contract_no": "HT-B-001", "awarded_price": "4100"}
    return tender_row(world, n, **{**fields, **overrides})


def test_xc12_purchase_outside_the_tendered_contract(world: World) -> None:
    file_as(world["b_staff"], "tender", b_tender(world))
    file_as(world["b_staff"], "purchase", purchase_row(world, contract_no="HT-B-009"))
    evaluate()
    (alert,) = alerts("XC12")
    assert alert.message == (
        "采购 钢筋 HRB400E Φ20 60.000 t（合同 HT-B-009，供应企业 北京朝建建材有限公司），"
        f"该合同不在项目 {B_CODE} 的钢筋招投标结果中（招标结果 1 项，如招标 ZB-0001：中标企业 北京朝建建材有限公司，"
        "合同 HT-B-001）"
    )
    assert alert.subject_key == {"purchaser_uscc": world.b.uscc, "purchase_no": "CG-0001"}
    file_as(world["b_staff"], "purchase", purchase_row(world, contract_no="HT-B-001"))
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_xc12_another_supplier_than_the_winner(world: World) -> None:
    other = other_producer()
    file_as(world["b_staff"], "tender", b_tender(world))
    file_as(world["b_staff"], "purchase", purchase_row(world, supplier_uscc=other.uscc))
    evaluate()
    (alert,) = alerts("XC12")
    assert alert.message == (
        "采购 钢筋 HRB400E Φ20 60.000 t（合同 HT-B-001，供应企业 北京海淀钢材制造有限公司），"
        "该合同的中标企业为 北京朝建建材有限公司（招标 ZB-0001），与采购的供应企业不符"
    )


def test_xc12_clean_for_untendered_categories(world: World) -> None:
    file_as(world["b_staff"], "tender", b_tender(world, category="HNT", contract_no="HT-HNT-9"))
    file_as(world["b_staff"], "purchase", purchase_row(world, contract_no="HT-B-777"))  # rebar: not tendered
    evaluate()
    assert alerts("XC12") == []


# ------------------------------------------------------------------------------------------------ full = incremental

CODES = {"XC04", "XC05", "XC06", "XC07", "XC08", "XC09", "XC10", "XC11", "XC12"}


def alert_state() -> set[tuple[str, str, str, str, str]]:
    return {
        (a.rule.code, a.subject_ref, a.status, a.message, repr(a.evidence))
        for a in Alert.objects.exclude(status=AlertStatus.RESOLVED).select_related("rule")
    }


def test_incremental_and_full_evaluation_agree_for_xc04_to_xc12(
    world: World, filers: Filers, django_capture_on_commit_callbacks: Any
) -> None:
    """Filings, product filings and a category change arrive one by one, each triggering an incremental run;
    a full run from scratch must then find exactly the same standing alerts."""
    lab, a, b = filers.lab_staff, world["a_staff"], world["b_staff"]
    city = world["city_biz"]
    filing: list[ProductFiling] = []
    steps: list[Any] = [
        lambda: file_as(a, "supply", b_supply(world, 1, unit_price="4000", type_report_no="TR-2025-001")),
        lambda: file_as(a, "supply", b_supply(world, 2, spec="HRB400E Φ25", quantity="30", type_report_no="TR-X")),
        lambda: file_as(b, "purchase", purchase_row(world, 1, quantity="100", unit_price="4400")),
        lambda: file_as(b, "purchase", purchase_row(world, 2, spec="HRB400E Φ22", witness_report_no="JC-0001")),
        lambda: filing.append(file_product(world, type_report_valid_until=dt.date(2025, 5, 1))),
        lambda: file_as(lab, "test_report", witness(world, filers, 1, result="不合格")),
        lambda: file_as(a, "supply", supply_row(world, 3, batch_no="PH0001")),  # the failed batch elsewhere
        lambda: file_as(b, "tender", b_tender(world, contract_no="HT-B-002")),
        lambda: file_as(b, "purchase", purchase_row(world, 3, contract_no="HT-B-002", category="GC", unit="m")),
        lambda: file_product(world, instance=filing[0], type_report_valid_until=dt.date(2026, 5, 1)),
        lambda: save_category(
            instance=MaterialCategory.objects.get(code="GC"),
            data={"batch_size": Decimal("50")},
            actor=city,
            context=context_for(city),
        ),
        lambda: file_as(a, "supply", b_supply(world, 2, spec="HRB400E Φ22", quantity="60")),  # a correction
        lambda: file_as(b, "purchase", purchase_row(world, 1, quantity="100", unit_price="4050")),
        lambda: file_as(a, "supply", supply_row(world, 3, batch_no="PH0009")),  # moved off the failed batch
        lambda: file_as(b, "tender", b_tender(world, 2, contract_no="HT-B-005")),
    ]
    for step in steps:
        with django_capture_on_commit_callbacks(execute=True):
            step()
    incremental = alert_state()
    found = {code for code, *_ in incremental}
    assert {"XC06", "XC07", "XC08", "XC09", "XC10", "XC11", "XC12"} <= found
    assert Alert.objects.filter(rule__code__in=CODES, status=AlertStatus.RESOLVED).exists()

    Alert.objects.all().delete()
    evaluate()
    assert alert_state() == incremental
