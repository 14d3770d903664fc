"""The rollups kept up to date as filings arrive equal the rollups recomputed from the base tables, on SQLite and
PostgreSQL: new records one by one and in bulk (the import path: COPY on PostgreSQL, prepared inserts on SQLite),
corrections that move a record to another month, category or project, drafts, submissions, withdrawals, alerts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.analytics import rollups
from jiancai.analytics.models import CITY_DISTRICT, AlertRollup, FilingRollup, SupplierRollup
from jiancai.filings.actions import file_records, submit_draft, withdraw_filing
from jiancai.filings.models import Channel, Purchase, Supply
from jiancai.filings.tests.records import (
    Filers,
    event_row,
    file_as,
    purchase_row,
    report_row,
    stored_pk,
    supply_row,
    tender_row,
    ticket_row,
)
from jiancai.materials.models import MaterialCategory
from jiancai.monitoring.engine import evaluate

from .helpers import snapshot

pytestmark = pytest.mark.django_db


def _bulk_supplies(world: World, start: int, count: int) -> None:
    """A bulk import's batch (channel IMPORT, more rows than COPY_MIN_ROWS), spread over three months."""
    rows = [
        supply_row(world, n, delivery_date=f"2025-0{4 + n % 3}-1{n % 9}", quantity=str(10 + n % 7), unit_price="")
        if n % 5 == 0
        else supply_row(world, n, delivery_date=f"2025-0{4 + n % 3}-1{n % 9}", quantity=str(10 + n % 7))
        for n in range(start, start + count)
    ]
    result = file_records(
        kind="supply", rows=rows, context=context_for(world["a_staff"]), channel=Channel.IMPORT, actor=None
    )
    assert not result.refused, result.refused[:3]


def test_incremental_equals_rebuild(world: World, filers: Filers, django_capture_on_commit_callbacks: Any) -> None:
    a_staff, b_staff = world["a_staff"], world["b_staff"]
    with django_capture_on_commit_callbacks(execute=True):
        _bulk_supplies(world, 1, 260)
        file_as(b_staff, "purchase", purchase_row(world, 1, arrival_date="2025-06-02"))
        file_as(b_staff, "purchase", purchase_row(world, 2, arrival_date="", unit_price="3900"))  # no arrival
        lab, plant = filers.lab_staff, filers.plant_staff
        file_as(lab, "test_report", report_row(world, filers, 1), report_row(world, filers, 2, result="不合格"))
        file_as(lab, "test_report", report_row(world, filers, 3, project_code="", kind="型式检验"))  # no project
        late = ticket_row(world, filers, 1, departed_at="2025-06-30 23:30", arrived_at="", discharged_at="")
        file_as(plant, "ticket", late)
        file_as(a_staff, "tender", tender_row(world, 1))
        file_as(a_staff, "project_event", event_row(world))
    incremental = snapshot()
    assert incremental["filing"] and incremental["supplier"]

    with django_capture_on_commit_callbacks(execute=True):
        # A correction moving a bulk-imported supply to another month and category, another to another project.
        file_as(a_staff, "supply", supply_row(world, 7, delivery_date="2025-03-05", category="SN", unit="t"))
        file_as(a_staff, "supply", supply_row(world, 8, project_code=world.b_project.project_code))
        # A withdrawal and a draft that is submitted later, a draft that stays a draft.
        supply = Supply.objects.get(supply_no="GY-0009", is_current=True)
        withdraw_filing(filing=supply, reason="重复填报", actor=a_staff, context=context_for(a_staff))
        draft = file_as(b_staff, "purchase", purchase_row(world, 3, arrival_date="2025-06-03"), status="draft")
        file_as(b_staff, "purchase", purchase_row(world, 4, arrival_date="2025-06-04"), status="draft")
        submit_draft(filing=Purchase.objects.get(pk=stored_pk(draft)), actor=b_staff, context=context_for(b_staff))
        # A purchase corrected to a new price: the old amount leaves the month.
        file_as(b_staff, "purchase", purchase_row(world, 1, arrival_date="2025-06-02", unit_price="4000.00"))
        evaluate()
        _bulk_supplies(world, 300, 250)
    incremental = snapshot()

    rollups.rebuild()
    rebuilt = snapshot()
    assert incremental == rebuilt
    assert rebuilt["alert"], "the evaluation raised alerts"

    # A few figures checked by hand: June's purchases in 海淀区 (the corrected price, the submitted draft).
    gj = MaterialCategory.objects.get(code="GJ")
    june = FilingRollup.objects.get(
        kind="purchase", month=dt.date(2025, 6, 1), district_id=world.b_project.district_id, category_id=gj.pk
    )
    assert (june.records, june.quantity) == (2, Decimal("120"))
    assert (june.priced_quantity, june.amount) == (Decimal("60"), Decimal("240000"))  # the draft had no price
    assert not FilingRollup.objects.filter(kind="purchase", records=3).exists()  # the draft stays out
    march = FilingRollup.objects.get(kind="supply", month=dt.date(2025, 3, 1))
    assert march.records == 1 and march.category_id == MaterialCategory.objects.get(code="SN").pk
    report = FilingRollup.objects.get(kind="test_report", district_id=world.b_project.district_id)
    assert (report.records, report.failed) == (2, 1)
    assert FilingRollup.objects.get(kind="test_report", district_id=0).records == 1
    ticket = FilingRollup.objects.get(kind="ticket")
    assert ticket.month == dt.date(2025, 6, 1) and ticket.unit == "m³"  # 23:30 Beijing time is still June


def test_withdrawing_the_last_record_of_a_group_empties_it(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        pk = stored_pk(file_as(world["a_staff"], "supply", supply_row(world, 1)))
    assert FilingRollup.objects.filter(kind="supply").count() == 1
    by_district = dict(SupplierRollup.objects.filter(kind="supply").values_list("district_id", "records"))
    assert by_district == {world.a_project.district_id: 1, CITY_DISTRICT: 1}  # its district, and the whole city
    with django_capture_on_commit_callbacks(execute=True):
        staff = world["a_staff"]
        withdraw_filing(filing=Supply.objects.get(pk=pk), reason="错报", actor=staff, context=context_for(staff))
    assert not FilingRollup.objects.exists() and not SupplierRollup.objects.exists()


def test_alert_actions_refresh_the_alert_rollup(world: World, django_capture_on_commit_callbacks: Any) -> None:
    from jiancai.monitoring.actions import acknowledge_alert
    from jiancai.monitoring.models import Alert

    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["b_staff"], "purchase", purchase_row(world, 1, arrival_date="2025-06-02", contract_no="HT-X"))
        evaluate()
    alert = Alert.objects.order_by("pk").first()
    assert alert is not None
    before = snapshot()["alert"]
    with django_capture_on_commit_callbacks(execute=True):
        acknowledge_alert(alert=alert, actor=world["city_biz"], context=context_for(world["city_biz"]))
    assert AlertRollup.objects.filter(rule_id=alert.rule_id, status="acknowledged").exists()
    after = snapshot()["alert"]
    assert after != before
    rollups.rebuild()
    assert snapshot()["alert"] == after


def test_rebuild_command(world: World, capsys: Any) -> None:
    file_as(world["a_staff"], "supply", supply_row(world, 1))  # no on-commit callbacks: the rollups lag behind
    assert not FilingRollup.objects.exists()
    call_command("rebuild_rollups")
    assert FilingRollup.objects.get(kind="supply").records == 1
    assert "supply: 1 行汇总" in capsys.readouterr().out


def test_demo_data_incremental_equals_rebuild(db: None, django_capture_on_commit_callbacks: Any) -> None:
    """The demo generator files every kind through file_records in import batches: the rollups its announcements
    leave equal a rebuild."""
    from jiancai.demo.generator import generate

    with django_capture_on_commit_callbacks(execute=True):
        generate(seed=7, scale=1, today=dt.date(2026, 6, 30))
    incremental = snapshot()
    assert {row[0] for row in incremental["filing"]} >= {"supply", "purchase", "test_report", "ticket"}
    rollups.rebuild()
    assert snapshot() == incremental


def test_bulk_import_file_updates_the_rollups(
    world: World, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    """A file through `run_import` (on PostgreSQL the set-based staged import, on SQLite the chunked per-row path),
    then the same file again with a third of the rows corrected to another month: the rollups follow both."""
    from jiancai.filings import imports, staged_imports
    from jiancai.filings.tests.import_helpers import csv_bytes
    from jiancai.filings.tests.import_helpers import supply_row as import_row

    monkeypatch.setattr(staged_imports, "STAGED_MIN_ROWS", 100)
    monkeypatch.setattr(imports, "CHUNK_ROWS", 150)
    staged_calls: list[str] = []
    real_import_staged = imports.import_staged

    def import_staged(*args: Any, **kwargs: Any) -> Any:
        staged_calls.append("staged")
        return real_import_staged(*args, **kwargs)

    monkeypatch.setattr(imports, "import_staged", import_staged)
    staff = world["a_staff"]
    first = [import_row(world, n, 供货日期=f"2025-0{4 + n % 3}-0{1 + n % 9}") for n in range(400)]
    second = [dict(r, 供货日期="2025-03-15") if n % 3 == 0 else r for n, r in enumerate(first)]
    for rows in (first, second):
        with django_capture_on_commit_callbacks(execute=True):
            report = imports.run_import("supply", csv_bytes(rows), context=context_for(staff), actor=staff)
        assert not report.file_error and report.refused == 0, report.file_error
    assert len(staged_calls) == (2 if connection.vendor == "postgresql" else 0)
    incremental = snapshot()
    march = FilingRollup.objects.get(kind="supply", month=dt.date(2025, 3, 1))
    assert march.records == 134 and march.quantity == Decimal("1234.5") * 134
    assert sum(FilingRollup.objects.filter(kind="supply").values_list("records", flat=True)) == 400
    rollups.rebuild()
    assert snapshot() == incremental


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="the in-memory SQLite test database is locked against a second thread"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_refresh_thread_merges_a_burst(world: World, settings: Any, monkeypatch: Any) -> None:
    """Outside tests the refreshes run in a thread that merges what arrives together: the 5 announcements of one
    import (chunks of 60 rows) become one refresh, and the rollups are right once it has run."""
    from jiancai.analytics import dispatch

    settings.ANALYTICS_REFRESH_INLINE = False
    calls: list[int] = []
    real = rollups.refresh_filings

    def counting(model: Any, ids: Any) -> None:
        calls.append(len(ids))
        real(model, ids)

    monkeypatch.setattr(rollups, "refresh_filings", counting)
    monkeypatch.setattr(dispatch, "MERGE_SECONDS", 1.0)
    rows = [supply_row(world, n, delivery_date=f"2025-0{4 + n % 3}-10") for n in range(300)]
    context = context_for(world["a_staff"])
    with transaction.atomic():  # one commit announcing five chunks, as a staged import does
        for start in range(0, 300, 60):
            batch = rows[start : start + 60]
            file_records(kind="supply", rows=batch, context=context, channel=Channel.IMPORT, actor=None)
    assert dispatch.drain(timeout=60)
    assert sum(calls) == 300 and len(calls) < 5
    assert sum(FilingRollup.objects.filter(kind="supply").values_list("records", flat=True)) == 300
