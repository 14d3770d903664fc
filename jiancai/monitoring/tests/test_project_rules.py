"""XC17 (material per floor area), XC18 (completion with open issues), and the incremental evaluation of the rules
XC13–XC20 against the full one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.filings.actions import withdraw_filing
from jiancai.filings.models import ProjectEvent
from jiancai.filings.tests.records import (
    Filers,
    event_row,
    file_as,
    purchase_row,
    report_row,
    supply_row,
    tender_row,
    ticket_row,
)
from jiancai.materials.actions import change_usage_reference
from jiancai.materials.models import CatalogEntry, MaterialCategory
from jiancai.monitoring.engine import evaluate, sync_rules
from jiancai.monitoring.models import Alert, AlertStatus, Rule
from jiancai.registry.actions import save_record
from jiancai.registry.models import Project

pytestmark = pytest.mark.django_db

MINE = ("XC13", "XC14", "XC16", "XC17", "XC18", "XC19", "XC20")


def only(code: str) -> Alert:
    return Alert.objects.get(rule__code=code)


def completion(world: World, **overrides: Any) -> dict[str, Any]:
    return event_row(
        world, project_code=world.b_project.project_code, event="竣工验收备案", date="2025-10-01", **overrides
    )


def set_project(project: Project, **fields: Any) -> None:
    Project.objects.filter(pk=project.pk).update(**fields)


# ------------------------------------------------------------------------------------------------ XC17


def test_usage_per_floor_area_is_checked_once_the_project_is_completed(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    set_project(world.b_project, floor_area=Decimal("1000.00"))  # 剪力墙: rebar 45–65 kg/㎡
    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["b_staff"], "purchase", purchase_row(world, 1, quantity="40"))
    assert not Alert.objects.filter(rule__code="XC17").exists()  # under construction: not yet judged

    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["b_staff"], "project_event", completion(world))
    alert = only("XC17")
    # 40 t × 1000 / 1000 ㎡ = 40 kg/㎡ < 45
    assert alert.message == (
        "项目 110108202600001（剪力墙，建筑面积 1000.00 ㎡）采购钢筋合计 40.000 t，折合 40.00 kg/㎡，低于下限；"
        "剪力墙参考值 45–65 kg/㎡（2000-01-01 起执行）"
    )
    assert alert.subject_key == {"project_code": world.b_project.project_code, "category": "GJ"}
    assert alert.subject_kind == "project_category"

    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["b_staff"], "purchase", purchase_row(world, 2, quantity="10"))  # 50 kg/㎡
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED

    # The floor area corrected through the registry action: 50 000 kg / 1 200 ㎡ = 41.67 kg/㎡.
    b_admin = world["b_admin"]
    project = Project.objects.get(pk=world.b_project.pk)
    with django_capture_on_commit_callbacks(execute=True):
        save_record(
            instance=project, data={"floor_area": Decimal("1200.00")}, actor=b_admin, context=context_for(b_admin)
        )
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    assert "折合 41.67 kg/㎡，低于下限" in alert.message


def test_usage_alert_is_resolved_when_the_completion_is_withdrawn(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """An incremental run regroups XC17 only for completed projects and those with an active XC17 alert
    (`UsagePerArea.projects_in_scope`): a project no longer completed still has its alert resolved."""
    set_project(world.b_project, floor_area=Decimal("1000.00"))
    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["b_staff"], "purchase", purchase_row(world, 1, quantity="40"))
        file_as(world["b_staff"], "project_event", completion(world))
    alert = only("XC17")
    assert alert.status == AlertStatus.OPEN
    event = ProjectEvent.objects.get(project=world.b_project, is_current=True)
    b_staff = world["b_staff"]
    with django_capture_on_commit_callbacks(execute=True):
        withdraw_filing(filing=event, reason="误报", actor=b_staff, context=context_for(b_staff))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    with django_capture_on_commit_callbacks(execute=True):  # under construction: a new purchase is not judged
        file_as(world["b_staff"], "purchase", purchase_row(world, 2, quantity="1"))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_usage_reference_change_re_checks_and_concrete_is_per_m3(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    set_project(world.b_project, floor_area=Decimal("1000.00"), status="completed")
    with django_capture_on_commit_callbacks(execute=True):
        file_as(
            world["b_staff"],
            "purchase",
            purchase_row(world, 1, category="HNT", spec="C30", unit="m³", quantity="500"),  # 0.50 m³/㎡
        )
    assert not Alert.objects.filter(rule__code="XC17").exists()  # 剪力墙 0.40–0.55
    regulator = world["city_biz"]
    with django_capture_on_commit_callbacks(execute=True):
        change_usage_reference(
            category=MaterialCategory.objects.get(code="HNT"),
            structure_type="剪力墙",
            min_per_m2=Decimal("0.30"),
            max_per_m2=Decimal("0.45"),
            per_m2_unit="m³/㎡",
            effective_from=dt.date(2025, 1, 1),  # in force at the project's start (2025-03-01)
            actor=regulator,
            context=context_for(regulator),
        )
    assert only("XC17").message.endswith(
        "采购预拌混凝土合计 500.000 m³，折合 0.50 m³/㎡，高于上限；剪力墙参考值 0.3–0.45 m³/㎡（2025-01-01 起执行）"
    )


# ------------------------------------------------------------------------------------------------ XC18


def test_completion_with_open_alerts_and_untested_material_resolved_when_both_are_settled(
    world: World, filers: Filers, django_capture_on_commit_callbacks: Any
) -> None:
    set_project(world.b_project, structure_type="钢结构")  # no rebar reference: XC17 stays out of the way
    # Supplier A has no product filing in this world: keep XC06/XC07 out of the way too.
    sync_rules()
    Rule.objects.filter(code__in=["XC06", "XC07"]).update(enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        # No supply (XC02), no witness test (XC08, and XC11: no batch tested).
        file_as(world["b_staff"], "purchase", purchase_row(world))
        file_as(world["b_staff"], "project_event", completion(world))
    alert = only("XC18")
    assert alert.message == (
        "项目 110108202600001 已于 2025-10-01 提交竣工验收备案，仍有 3 条预警未处理完毕"
        "（XC02 1 条、XC08 1 条、XC11 1 条），1 笔需见证复试的材料无检测报告（钢筋 采购单 CG-0001）"
    )
    assert alert.subject_key == {"project_code": world.b_project.project_code}
    assert [r["kind"] for r in alert.evidence["records"]] == ["project_event", "project", *["alert"] * 3, "purchase"]

    with django_capture_on_commit_callbacks(execute=True):
        file_as(
            world["a_staff"],
            "supply",
            supply_row(world, project_code=world.b_project.project_code, contract_no="HT-B-001"),
        )
    alert.refresh_from_db()
    assert alert.message == (
        "项目 110108202600001 已于 2025-10-01 提交竣工验收备案，仍有 2 条预警未处理完毕（XC08 1 条、XC11 1 条），"
        "1 笔需见证复试的材料无检测报告（钢筋 采购单 CG-0001）"
    )
    with django_capture_on_commit_callbacks(execute=True):
        file_as(filers.lab_staff, "test_report", report_row(world, filers))  # batch PH0001 of the purchase
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_completion_check_sees_alerts_raised_later_in_the_same_run(
    world: World, filers: Filers, django_capture_on_commit_callbacks: Any
) -> None:
    """XC19 comes after XC18 in code order; XC18 is evaluated last, so one run gives the complete answer."""
    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["b_staff"], "project_event", completion(world))
    assert not Alert.objects.filter(rule__code="XC18").exists()
    row = report_row(world, filers, category="HNT", spec="C30", unit="m³", age_days="7", strength_mpa="18.5", items="")
    with django_capture_on_commit_callbacks(execute=True):
        file_as(filers.lab_staff, "test_report", row)
    assert "仍有 1 条预警未处理完毕（XC19 1 条）" in only("XC18").message


def test_completion_of_a_clean_project_raises_nothing(world: World) -> None:
    set_project(world.b_project, structure_type="钢结构")
    file_as(world["b_staff"], "project_event", completion(world))
    evaluate()
    assert not Alert.objects.filter(rule__code="XC18").exists()


# ------------------------------------------------------------------------------------------------ incremental = full


def alert_state() -> set[tuple[str, str, str, str]]:
    return {
        (a.rule.code, a.subject_ref, a.status, a.message)
        for a in Alert.objects.exclude(status=AlertStatus.RESOLVED).select_related("rule")
    }


def test_incremental_and_full_evaluation_agree_for_rules_13_to_20(
    world: World, filers: Filers, django_capture_on_commit_callbacks: Any
) -> None:
    set_project(world.b_project, floor_area=Decimal("1000.00"))
    CatalogEntry.objects.create(
        entry_no="J-001",
        listing="禁止",
        category=MaterialCategory.objects.get(code="SN"),
        product_name="立窑水泥",
        effective_from=dt.date(2020, 1, 1),
        document_no="京建发〔2019〕149号",
    )
    b_project = world.b_project.project_code
    hnt = {"category": "HNT", "unit": "m³", "items": ""}
    steps: list[tuple[Any, str, dict[str, Any]]] = [
        (
            world["b_staff"],
            "tender",
            tender_row(
                world,
                project_code=b_project,
                category="GJ",
                winner_uscc=world.a.uscc,
                contract_no="HT-B-001",
                awarded_price="4150",
                guide_price="4000",
            ),
        ),
        (world["b_staff"], "purchase", purchase_row(world, 1, unit_price="4600", quantity="40")),  # XC13, XC17
        (world["b_staff"], "purchase", purchase_row(world, 2, category="SN", spec="P.O 42.5")),  # XC14
        (filers.plant_staff, "ticket", ticket_row(world, filers)),  # XC16
        (
            filers.lab_staff,
            "test_report",
            report_row(world, filers, 1, spec="C30", age_days="7", strength_mpa="18.5", **hnt),
        ),
        (
            filers.lab_staff,
            "test_report",
            report_row(world, filers, 2, spec="C30", age_days="28", strength_mpa="30.0", **hnt),
        ),
        (
            filers.lab_staff,
            "test_report",
            report_row(world, filers, 3, spec="C30", age_days="28", strength_mpa="33.0", **hnt),
        ),
        (world["b_staff"], "project_event", completion(world)),  # XC17 and XC18 now apply
        (world["b_staff"], "purchase", purchase_row(world, 1, unit_price="4300", quantity="40")),  # XC13 resolved
        (
            filers.lab_staff,
            "test_report",
            report_row(world, filers, 1, spec="C30", age_days="7", strength_mpa="24.0", **hnt),
        ),
    ]
    for user, kind, row in steps:
        with django_capture_on_commit_callbacks(execute=True):
            file_as(user, kind, row)
    incremental = alert_state()
    codes = {code for code, *_ in incremental}
    assert {"XC14", "XC16", "XC17", "XC18", "XC20"} <= codes
    assert Alert.objects.filter(rule__code__in=["XC13", "XC19"], status=AlertStatus.RESOLVED).count() == 2

    Alert.objects.all().delete()
    evaluate()
    assert alert_state() == incremental
    result = evaluate()
    assert result.total.raised == result.total.resolved == result.total.refreshed == 0
