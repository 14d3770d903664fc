"""The blacklist entry: the two-person rule (action and database), publication, visibility, audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.audit.models import AuditEvent
from jiancai.blacklist import actions, selectors
from jiancai.blacklist.models import BlacklistEntry, EntryStatus

from .helpers import approver, propose, publish

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 5, 1)


def test_the_proposer_cannot_approve_their_own_proposal(world: World) -> None:
    entry = propose(world)
    me = world["city_biz"]
    with pytest.raises(ValidationError) as exc:
        actions.approve_entry(entry=entry, note="同意", actor=me, context=context_for(me))
    assert exc.value.code == "two_person_rule"
    with pytest.raises(ValidationError):
        actions.reject_entry(entry=entry, reason="不同意", actor=me, context=context_for(me))
    entry.refresh_from_db()
    assert entry.status == EntryStatus.PROPOSED and entry.approver_id is None
    assert not AuditEvent.objects.filter(action="blacklist.approve").exists()


def test_the_database_refuses_a_raw_save_with_the_proposer_as_approver(world: World) -> None:
    entry = propose(world)
    entry.status = EntryStatus.PUBLISHED
    entry.approver = entry.proposer
    entry.decided_at = entry.proposed_at
    entry.published_on = DAY
    with pytest.raises(IntegrityError), transaction.atomic():
        entry.save()
    entry.refresh_from_db()
    assert entry.status == EntryStatus.PROPOSED


def test_another_regulator_approves_and_publishes_for_the_period(world: World) -> None:
    entry = publish(world, DAY)
    assert entry.status == EntryStatus.PUBLISHED
    assert entry.approver_name == "周审批" and entry.proposer_name == "孙监管"
    assert (entry.published_on, entry.ends_on) == (DAY, dt.date(2026, 4, 30))
    events = list(
        AuditEvent.objects.filter(target_type="blacklist.blacklistentry", target_id=str(entry.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert events == ["blacklist.propose", "blacklist.approve"]
    assert list(selectors.published_entries(dt.date(2025, 6, 1))) == [entry]
    assert selectors.is_listed(world.a, dt.date(2025, 6, 1))
    assert not selectors.is_listed(world.a, dt.date(2026, 5, 1))  # past its period, whether or not the job ran
    assert not selectors.is_listed(world.a, dt.date(2025, 4, 30))


def test_rejection_needs_a_reason_and_is_kept(world: World) -> None:
    entry = propose(world)
    checker = approver(world)
    with pytest.raises(ValidationError):
        actions.reject_entry(entry=entry, reason=" ", actor=checker, context=context_for(checker))
    actions.reject_entry(entry=entry, reason="证据不足", actor=checker, context=context_for(checker))
    entry.refresh_from_db()
    assert (entry.status, entry.decision_note) == (EntryStatus.REJECTED, "证据不足")
    assert not selectors.published_entries().exists()
    # a new proposal is possible once the first was decided
    propose(world)


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("city_biz", True), ("cy_biz", True), ("a_admin", False), ("city_sys", False), ("b_staff", False)],
)
def test_who_may_propose(world: World, persona: str, allowed: bool) -> None:
    if allowed:
        assert propose(world, world[persona]).status == EntryStatus.PROPOSED
    else:
        with pytest.raises(PermissionDenied):
            propose(world, world[persona])


def test_a_district_regulator_proposes_only_in_its_district_and_cannot_approve(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        propose(world, world["cy_biz"], enterprise=world.b)  # B is in 海淀区
    assert "enterprise" in exc.value.error_dict
    entry = propose(world, world["cy_biz"])
    with pytest.raises(PermissionDenied):
        actions.approve_entry(entry=entry, note="", actor=world["cy_biz"], context=context_for(world["cy_biz"]))
    # the city's business staff (not the proposer) may
    city = world["city_biz"]
    assert actions.approve_entry(entry=entry, note="", actor=city, context=context_for(city)).status == "published"


def test_bad_input_names_each_field(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        propose(world, grounds="", legal_basis="", evidence="", period_months=0)
    assert set(exc.value.error_dict) == {"grounds", "legal_basis", "evidence", "period_months"}
    assert not BlacklistEntry.objects.exists()


def test_visibility_funnel(world: World) -> None:
    proposed = propose(world)
    visible = lambda persona: set(BlacklistEntry.objects.visible_to(world[persona]))  # noqa: E731
    assert visible("city_biz") == {proposed}
    assert visible("a_staff") == {proposed}  # the enterprise sees its own proposal
    assert visible("b_staff") == set()  # others do not see an unpublished entry
    assert visible("city_audit") == set()
    checker = approver(world)
    actions.approve_entry(entry=proposed, note="", actor=checker, context=context_for(checker))
    assert visible("b_staff") == {proposed}  # published: every logged-in business user
    assert set(BlacklistEntry.objects.visible_to(world["b_staff"], "verify")) == set()


def test_one_open_entry_per_enterprise(world: World, **_: Any) -> None:
    propose(world)
    with pytest.raises(ValidationError):
        propose(world)
