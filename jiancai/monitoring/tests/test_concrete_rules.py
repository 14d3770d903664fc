"""XC16 (plant without a valid qualification), XC19 (early strength warning), XC20 (GB/T 50107 acceptance), with
hand-computed numbers and the exact boundaries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.filings.tests.records import Filers, file_as, report_row, ticket_row
from jiancai.monitoring.engine import evaluate, sync_rules
from jiancai.monitoring.models import Alert, AlertStatus, RuleParameter
from jiancai.monitoring.rules.concrete import maturity_factor
from jiancai.registry.actions import save_record
from jiancai.registry.models import Qualification

pytestmark = pytest.mark.django_db


def only(code: str) -> Alert:
    return Alert.objects.get(rule__code=code)


# ------------------------------------------------------------------------------------------------ XC16


def qualify(filers: Filers, **fields: Any) -> Qualification:
    """The plant's qualification, entered through the registry action (as its staff would)."""
    data: dict[str, Any] = {
        "organization": filers.plant,
        "certificate_no": "D211000001",
        "qualification_type": "预拌混凝土专业承包",
        "grade": "不分等级",
        "issued_on": dt.date(2024, 1, 10),
        "valid_until": dt.date(2029, 1, 9),
        "status": "有效",
        **fields,
    }
    user = filers.plant_staff
    return save_record(instance=Qualification(), data=data, actor=user, context=context_for(user))


def test_ticket_from_a_plant_without_qualification_resolved_when_the_qualification_is_registered(
    world: World, filers: Filers, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        file_as(filers.plant_staff, "ticket", ticket_row(world, filers))
    alert = only("XC16")
    assert alert.message == (
        "2025-06-01 出站的发货单 FH-0001（C30 12.00 m³，项目 110105202600001），"
        "搅拌站北京朝阳混凝土有限公司当日无有效预拌混凝土资质：未登记预拌混凝土资质"
    )
    assert alert.subject_key == {"plant_uscc": filers.plant.uscc, "ticket_no": "FH-0001"}
    assert alert.supplier_id == filers.plant.pk and alert.project_id == world.a_project.pk

    with django_capture_on_commit_callbacks(execute=True):
        qualification = qualify(filers)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED  # incrementally, through registry_updated

    # Suspended: the finding comes back, naming the certificate.
    user = filers.plant_staff
    with django_capture_on_commit_callbacks(execute=True):
        save_record(instance=qualification, data={"status": "暂扣"}, actor=user, context=context_for(user))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    assert alert.message.endswith("当日无有效预拌混凝土资质：资质证书 D211000001状态为暂扣")


def test_qualification_must_cover_the_ticket_date(world: World, filers: Filers) -> None:
    qualify(filers, issued_on=dt.date(2024, 1, 10), valid_until=dt.date(2025, 6, 1))
    file_as(filers.plant_staff, "ticket", ticket_row(world, filers, 1))  # 2025-06-01: the last valid day
    file_as(
        filers.plant_staff,
        "ticket",
        ticket_row(
            world,
            filers,
            2,
            departed_at="2025-06-02 07:00",
            arrived_at="2025-06-02 07:40",
            discharged_at="2025-06-02 08:00",
        ),
    )
    file_as(
        filers.plant_staff,
        "ticket",
        ticket_row(
            world,
            filers,
            3,
            departed_at="2024-01-09 07:00",
            arrived_at="2024-01-09 07:40",
            discharged_at="2024-01-09 08:00",
        ),
    )
    evaluate()
    messages = {a.subject_key["ticket_no"]: a.message for a in Alert.objects.filter(rule__code="XC16")}
    assert set(messages) == {"FH-0002", "FH-0003"}
    assert messages["FH-0002"].endswith("资质证书 D211000001已于 2025-06-01 到期")
    assert messages["FH-0003"].endswith("资质证书 D211000001于 2024-01-10 才发证")


def test_a_qualification_of_another_type_does_not_count(world: World, filers: Filers) -> None:
    qualify(filers, qualification_type="建筑材料销售备案")
    file_as(filers.plant_staff, "ticket", ticket_row(world, filers))
    evaluate()
    assert only("XC16").message.endswith("未登记预拌混凝土资质")


# ------------------------------------------------------------------------------------------------ XC19


def concrete_report(world: World, filers: Filers, n: int, **overrides: Any) -> dict[str, Any]:
    fields = {
        "category": "HNT",
        "spec": "C30",
        "unit": "m³",
        "batch_no": f"HNT{n:03d}",
        "quantity_represented": "100",
        "age_days": "28",
        "items": "",
        **overrides,
    }
    return report_row(world, filers, n, **fields)


def test_maturity_factor_of_the_ceb_fip_model_code() -> None:
    # exp(0.25·(1 − √(28/t))): t = 7 → exp(−0.25) = 0.77880; t = 3 → exp(−0.51376) = 0.59824; t = 14 → 0.90163
    assert maturity_factor(7, Decimal("0.25")) == Decimal("0.7788")
    assert maturity_factor(3, Decimal("0.25")) == Decimal("0.5982")
    assert maturity_factor(14, Decimal("0.25")) == Decimal("0.9016")
    assert maturity_factor(28, Decimal("0.38")) == Decimal("1.0000")
    assert maturity_factor(7, Decimal("0.20")) == Decimal("0.8187")  # exp(−0.2)


def test_seven_day_strength_predicting_less_than_the_grade(world: World, filers: Filers) -> None:
    # 18.5 / 0.7788 = 23.75 → 23.8 MPa < 30
    file_as(filers.lab_staff, "test_report", concrete_report(world, filers, 1, age_days="7", strength_mpa="18.5"))
    # 23.4 / 0.7788 = 30.05 → 30.0 MPa: exactly the design value, not below it
    file_as(filers.lab_staff, "test_report", concrete_report(world, filers, 2, age_days="7", strength_mpa="23.4"))
    # 28 days: outside the early window (XC20's business)
    file_as(filers.lab_staff, "test_report", concrete_report(world, filers, 3, strength_mpa="35.0"))
    evaluate()
    alert = only("XC19")
    assert alert.message == "7 天强度 18.5 MPa，β(7)=0.7788，推定 28 天强度 23.8 MPa，低于 C30 设计值 30 MPa（s=0.25）"
    assert alert.subject_key == {"lab_uscc": filers.lab.uscc, "report_no": "JC-0001"}
    assert alert.laboratory_id == filers.lab.pk and alert.supplier_id == world.a.pk

    # Just below the boundary: 23.3 / 0.7788 = 29.92 → 29.9 MPa.
    file_as(filers.lab_staff, "test_report", concrete_report(world, filers, 2, age_days="7", strength_mpa="23.3"))
    # The first report corrected to 23.4 MPa (30.0 predicted) resolves.
    file_as(filers.lab_staff, "test_report", concrete_report(world, filers, 1, age_days="7", strength_mpa="23.4"))
    evaluate()
    alerts = {a.subject_key["report_no"]: a for a in Alert.objects.filter(rule__code="XC19")}
    assert alerts["JC-0001"].status == AlertStatus.RESOLVED
    assert alerts["JC-0002"].status == AlertStatus.OPEN
    assert "推定 28 天强度 29.9 MPa，低于 C30 设计值 30 MPa" in alerts["JC-0002"].message


def test_grade_with_impermeability_suffix_and_a_margin(world: World, filers: Filers) -> None:
    # C35 P8, 3 days: β(3) = 0.5982; 21.5 / 0.5982 = 35.94 → 35.9 ≥ 35, but below 35 × 1.05 = 36.75.
    file_as(
        filers.lab_staff,
        "test_report",
        concrete_report(world, filers, 1, spec="C35 P8", age_days="3", strength_mpa="21.5"),
    )
    evaluate()
    assert not Alert.objects.filter(rule__code="XC19").exists()
    rule = sync_rules()["XC19"]
    RuleParameter.objects.create(rule=rule, name="margin_pct", value=Decimal(5), effective_from=dt.datetime.now(dt.UTC))
    evaluate()
    assert only("XC19").message == (
        "3 天强度 21.5 MPa，β(3)=0.5982，推定 28 天强度 35.9 MPa，"
        "低于 C35 设计值 35 MPa 加裕度 5%（36.8 MPa）（s=0.25）"
    )


# ------------------------------------------------------------------------------------------------ XC20

# Ten C30 results: mean 34.6, sample standard deviation 3.9986 → S = 4.00, minimum 27.0. Statistical method
# (n = 10–14): λ1 = 1.15, λ2 = 0.90 → mean ≥ 30 + 1.15 × 4.00 = 34.6 and minimum ≥ 0.90 × 30 = 27.0: both exactly met.
BOUNDARY_LOT = ["27.0", "30.8", "32.8", "33.0", "33.5", "34.8", "37.4", "38.2", "38.7", "39.8"]


def file_lot(world: World, filers: Filers, strengths: list[str], first: int = 1, **overrides: Any) -> None:
    rows = [concrete_report(world, filers, first + i, strength_mpa=s, **overrides) for i, s in enumerate(strengths)]
    file_as(filers.lab_staff, "test_report", *rows)


def test_statistical_method_at_the_boundary_and_failing(world: World, filers: Filers) -> None:
    file_lot(world, filers, BOUNDARY_LOT)
    evaluate()
    assert not Alert.objects.filter(rule__code="XC20").exists()

    # 27.0 → 26.9: mean 34.59 → 34.6, S = 4.0198 → 4.02, 30 + 1.15 × 4.02 = 34.623; minimum 26.9 < 27.0.
    file_as(filers.lab_staff, "test_report", concrete_report(world, filers, 1, strength_mpa="26.9"))
    evaluate()
    alert = only("XC20")
    assert alert.message == (
        "C30 共 10 组，统计方法：平均值 34.6 MPa，S=4.02 MPa，最小值 26.9 MPa；λ1=1.15，λ2=0.90；"
        "平均值 34.6 ≥ 30 + 1.15×4.02 = 34.623，不满足；最小值 26.9 ≥ 0.90×30 = 27.00，不满足"
    )
    assert alert.subject_key == {"project_code": world.b_project.project_code, "grade": "C30"}
    assert alert.subject_ref == f"project_grade:{world.b_project.project_code}:C30"
    assert alert.project_id == world.b_project.pk and alert.contractor_id == world.b.pk

    file_as(filers.lab_staff, "test_report", concrete_report(world, filers, 1, strength_mpa="27.0"))
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_statistical_method_floors_s_at_2_5_and_uses_lambda_by_count(world: World, filers: Filers) -> None:
    # 15 results of 32.6 and 32.8 (mean 32.7, S computed 0.10 → 2.5): with n = 15, λ1 = 1.05 and
    # 30 + 1.05 × 2.5 = 32.625 ≤ 32.7 passes (λ1 = 1.15 of 10–14 results would ask 32.875 and fail).
    file_lot(world, filers, ["32.6", "32.8"] * 7 + ["32.7"])
    # C35 reports of the same project are a separate lot (project × grade).
    file_lot(world, filers, ["33.0"] * 3, first=20, spec="C35")
    evaluate()
    alerts = list(Alert.objects.filter(rule__code="XC20"))
    assert [a.subject_key["grade"] for a in alerts] == ["C35"]
    # Non-statistical (3 < 10): 33.0 < 1.15 × 35 = 40.25; 33.0 < 0.95 × 35 = 33.25.
    assert alerts[0].message == (
        "C35 共 3 组，非统计方法：平均值 33.0 MPa，最小值 33.0 MPa；λ3=1.15，λ4=0.95；"
        "平均值 33.0 ≥ 1.15×35 = 40.25，不满足；最小值 33.0 ≥ 0.95×35 = 33.25，不满足"
    )


def test_non_statistical_method_boundary_and_correction(world: World, filers: Filers) -> None:
    # 28.5 and 40.5: mean 34.5 = 1.15 × 30, minimum 28.5 = 0.95 × 30: both exactly met.
    file_lot(world, filers, ["28.5", "40.5"])
    # C30 on A's project: 32.0, 35.0, 36.0 → mean 34.33 → 34.3 < 34.5.
    file_lot(world, filers, ["32.0", "35.0", "36.0"], first=10, project_code=world.a_project.project_code)
    evaluate()
    alert = only("XC20")
    assert alert.subject_key == {"project_code": world.a_project.project_code, "grade": "C30"}
    assert alert.message == (
        "C30 共 3 组，非统计方法：平均值 34.3 MPa，最小值 32.0 MPa；λ3=1.15，λ4=0.95；"
        "平均值 34.3 ≥ 1.15×30 = 34.50，不满足；最小值 32.0 ≥ 0.95×30 = 28.50，满足"
    )
    # A fourth result of 36.0: mean 34.75 → 34.8 ≥ 34.5.
    file_lot(world, filers, ["36.0"], first=13, project_code=world.a_project.project_code)
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_high_grade_uses_lambda3_of_1_10(world: World, filers: Filers) -> None:
    # C60: 1.10 × 60 = 66.0 (1.15 would ask 69.0); 0.95 × 60 = 57.0.
    file_lot(world, filers, ["66.0", "66.0"], spec="C60")
    evaluate()
    assert not Alert.objects.filter(rule__code="XC20").exists()
