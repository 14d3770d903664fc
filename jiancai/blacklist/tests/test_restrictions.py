"""Restrictions: in force by date, lifted by the job (and by date before it runs), audited; the credit warning to
the projects supplied by a newly restricted enterprise."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.audit.models import AuditEvent
from jiancai.blacklist import actions, selectors
from jiancai.blacklist.models import EntryStatus, LiftReason, Restriction
from jiancai.filings.tests.records import file_as, purchase_row
from jiancai.monitoring.models import EarlyWarning, WarningKind

from .helpers import publish, restrict_a

pytestmark = pytest.mark.django_db
D = dt.date(2025, 6, 1)


def test_in_force_by_date_even_before_the_job_runs(world: World) -> None:
    r = restrict_a(world, D, D + dt.timedelta(days=9), kind="tender_ban")
    assert selectors.is_restricted(world.a, "tender_ban", D)
    assert selectors.is_restricted(world.a, "tender", D + dt.timedelta(days=9))
    assert not selectors.is_restricted(world.a, "supply", D)  # a tender ban does not stop supplies
    assert not selectors.is_restricted(world.a, "tender_ban", D - dt.timedelta(days=1))
    assert not selectors.is_restricted(world.a, "tender_ban", D + dt.timedelta(days=10))  # past its end
    r.refresh_from_db()
    assert r.lifted_on is None  # the job has not run: the date alone decides
    assert list(selectors.active_restrictions(world.a, D)) == [r]


def test_the_job_lifts_what_is_due_and_audits_it(world: World) -> None:
    due = restrict_a(world, D, D + dt.timedelta(days=9))
    running = restrict_a(world, D, D + dt.timedelta(days=400), kind="trade")
    call_command("lift_restrictions", "--today", (D + dt.timedelta(days=20)).isoformat())
    due.refresh_from_db()
    running.refresh_from_db()
    assert (due.lifted_on, due.lift_reason) == (D + dt.timedelta(days=10), LiftReason.PERIOD_END)
    assert running.lifted_on is None
    lift = AuditEvent.objects.get(action="restriction.lift")
    assert lift.target_id == str(due.pk) and lift.actor_name == "系统"
    # running it again changes nothing
    assert actions.lift_due(today=D + dt.timedelta(days=20)) == {"lifted": 0, "exited": 0, "notified": 0}


def test_the_job_exits_entries_past_their_period_and_lifts_their_restrictions(world: World) -> None:
    entry = publish(world, D)  # 12 months: to 2026-05-31
    r = restrict_a(world, D, dt.date(2027, 1, 1), entry=entry)
    counts = actions.lift_due(today=dt.date(2026, 6, 2))
    assert counts["exited"] == 1 and counts["lifted"] == 1
    entry.refresh_from_db()
    r.refresh_from_db()
    assert (entry.status, entry.exited_on, entry.exit_reason) == (EntryStatus.EXITED, dt.date(2026, 6, 1), "period_end")
    assert entry.public_until == dt.date(2029, 6, 1)  # stays published three years after exit
    assert r.lifted_on == dt.date(2026, 6, 1)
    assert entry in selectors.published_entries(dt.date(2029, 6, 1))
    assert entry not in selectors.published_entries(dt.date(2029, 6, 2))


def test_only_the_city_imposes_and_bad_dates_are_refused(world: World) -> None:
    with pytest.raises(PermissionDenied):
        actions.impose_restriction(
            enterprise=world.a, kind="trade", starts_on=D, ends_on=D, basis="x",
            actor=world["cy_biz"], context=context_for(world["cy_biz"]),
        )  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        restrict_a(world, D, D - dt.timedelta(days=1))
    assert "ends_on" in exc.value.error_dict
    assert not Restriction.objects.exists()


def test_a_starting_restriction_warns_the_districts_of_the_projects_it_supplied(world: World) -> None:
    today = dt.date.today()
    file_as(world["b_staff"], "purchase", purchase_row(world, arrival_date=(today - dt.timedelta(days=30)).isoformat()))
    r = restrict_a(world, today, today + dt.timedelta(days=90))
    warning = EarlyWarning.objects.get(kind=WarningKind.CREDIT, topic="restricted_supplier")
    assert warning.organization == world.a and warning.district == world.b_project.district
    assert world.b_project.project_code in warning.message or world.b_project.project_code in str(warning.evidence)
    assert warning.evidence["restriction_no"] == r.restriction_no
    r.refresh_from_db()
    assert r.notified_at is not None
    # the district regulator of the project (海淀) sees it, 朝阳's does not
    assert not EarlyWarning.objects.visible_to(world["cy_biz"]).exists()
    assert EarlyWarning.objects.visible_to(world["city_biz"]).count() == 1


def test_a_future_restriction_is_notified_by_the_job_when_it_starts(world: World) -> None:
    today = dt.date.today()
    file_as(world["b_staff"], "purchase", purchase_row(world, arrival_date=(today - dt.timedelta(days=3)).isoformat()))
    r = restrict_a(world, today + dt.timedelta(days=5), today + dt.timedelta(days=90))
    assert not EarlyWarning.objects.exists()
    assert actions.lift_due(today=today + dt.timedelta(days=1))["notified"] == 0
    assert actions.lift_due(today=today + dt.timedelta(days=5))["notified"] == 1
    r.refresh_from_db()
    assert r.notified_at is not None and EarlyWarning.objects.count() == 1
