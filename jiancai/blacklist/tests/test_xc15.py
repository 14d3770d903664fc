"""XC15: filings by (or naming) an enterprise listed or restricted on the filing's date; raised and resolved within
the change that causes it (incremental), the same as a full run."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.blacklist import actions
from jiancai.filings.tests.records import Filers, file_as, purchase_row, supply_row, tender_row, ticket_row
from jiancai.monitoring.engine import evaluate
from jiancai.monitoring.models import Alert, AlertStatus

from .helpers import publish, restrict_a

pytestmark = pytest.mark.django_db
D = dt.date(2025, 6, 1)


def xc15(status: Any = None) -> list[Alert]:
    qs = Alert.objects.filter(rule__code="XC15")
    if status is not None:
        qs = qs.filter(status=status)
    return list(qs.order_by("subject_ref"))


def standing() -> set[tuple[str, str, str]]:
    return {(a.rule.code, a.subject_ref, a.message) for a in Alert.objects.exclude(status=AlertStatus.RESOLVED)}


def test_listing_raises_alerts_on_filings_of_its_period_at_once(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["a_staff"], "supply", supply_row(world, 1, delivery_date="2025-06-10"))
        file_as(world["a_staff"], "supply", supply_row(world, 2, delivery_date="2025-05-10"))  # before the listing
        file_as(world["b_staff"], "purchase", purchase_row(world, 1, arrival_date="2025-06-11"))
    assert not xc15()
    with django_capture_on_commit_callbacks(execute=True):
        entry = publish(world, D)
    alerts = xc15(AlertStatus.OPEN)
    assert {a.subject_kind for a in alerts} == {"filing"}
    assert {tuple(sorted(a.subject_key.items())) for a in alerts} == {
        (("supplier_uscc", world.a.uscc), ("supply_no", "GY-0001")),
        (("purchase_no", "CG-0001"), ("purchaser_uscc", world.b.uscc)),
    }
    supply_alert = next(a for a in alerts if "supply_no" in a.subject_key)
    assert "供货日期为 2025-06-10" in supply_alert.message
    assert entry.entry_no in supply_alert.message and world.a.name in supply_alert.message
    assert supply_alert.supplier == world.a
    # the contractor who bought from A is a party of the purchase alert and sees it
    purchase_alert = next(a for a in alerts if "purchase_no" in a.subject_key)
    assert Alert.objects.visible_to(world["b_staff"]).filter(pk=purchase_alert.pk).exists()
    # a full run from scratch gives the same alerts
    before = standing()
    Alert.objects.all().delete()
    evaluate()
    assert standing() == before


def test_restriction_kinds_apply_to_their_filings_and_revoking_resolves(
    world: World, filers: Filers, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["a_admin"], "tender", tender_row(world, 1, award_date="2025-06-05"))
        file_as(world["a_staff"], "supply", supply_row(world, 1, delivery_date="2025-06-05"))
    with django_capture_on_commit_callbacks(execute=True):
        ban = restrict_a(world, D, D + dt.timedelta(days=30), kind="tender_ban")
    [alert] = xc15(AlertStatus.OPEN)
    assert alert.subject_key == {"tender_no": "ZB-0001"}
    assert ban.restriction_no in alert.message and "禁止在本市参加建设工程材料招投标" in alert.message
    # a district-scoped trade restriction elsewhere (海淀区) does not touch A's own project in 朝阳区
    from jiancai.accounts.models import District

    with django_capture_on_commit_callbacks(execute=True):
        restrict_a(world, D, D + dt.timedelta(days=30), kind="trade", district=District.objects.get(name="海淀区"))
    assert len(xc15(AlertStatus.OPEN)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        actions.revoke_restriction(
            restriction=ban, reason="决定有误", actor=world["city_biz"], context=context_for(world["city_biz"])
        )
    assert xc15(AlertStatus.OPEN) == []
    assert [a.status for a in xc15()] == [AlertStatus.RESOLVED]


def test_a_ticket_of_a_listed_plant(world: World, filers: Filers, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        file_as(filers.plant_staff, "ticket", ticket_row(world, filers))
    with django_capture_on_commit_callbacks(execute=True):
        publish(world, dt.date(2025, 5, 20), enterprise=filers.plant)
    [alert] = xc15(AlertStatus.OPEN)
    assert alert.subject_key == {"plant_uscc": filers.plant.uscc, "ticket_no": "FH-0001"}


def test_correcting_the_date_resolves_and_exit_keeps_the_past(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        publish(world, D)
        file_as(world["a_staff"], "supply", supply_row(world, 1, delivery_date="2025-06-10"))
    [alert] = xc15(AlertStatus.OPEN)
    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["a_staff"], "supply", supply_row(world, 1, delivery_date="2025-05-20"))  # a correction
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    # exit after the filing date does not clear a filing made while listed
    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["a_staff"], "supply", supply_row(world, 2, delivery_date="2025-06-12"))
        actions.lift_due(today=dt.date(2026, 7, 1))
    assert len(xc15(AlertStatus.OPEN)) == 1
