"""The credit side: the listing makes a serious bad behaviour record, kept published three years after exit;
every blacklist, restriction and repair change is in the credit change feed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.blacklist import actions
from jiancai.blacklist.models import add_years
from jiancai.credit.models import BehaviourRecord, CreditChange, CreditScore

from .helpers import publish, restrict_a

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()
PDF = b"%PDF-1.4\n%%EOF\n"


def test_listing_records_bad_behaviour_and_exit_keeps_it_published_three_years(world: World) -> None:
    entry = publish(world, TODAY)
    record = BehaviourRecord.objects.get(organization=world.a)
    assert entry.behaviour_record == record
    assert (record.kind, record.severity, record.source, record.source_reference) == (
        "bad",
        "A",
        "penalty",
        entry.entry_no,
    )
    score = CreditScore.objects.get(organization=world.a)
    assert score.score < 100  # the record counts
    restrict_a(world, TODAY, TODAY + dt.timedelta(days=30), entry=entry)
    user, city = world["a_staff"], world["city_biz"]
    app = actions.apply_for_repair(
        entry=entry, statement="已整改", files=[SimpleUploadedFile("a.pdf", PDF)], actor=user, context=context_for(user)
    )
    actions.decide_repair(application=app, approve=True, reason="准予修复", actor=city, context=context_for(city))
    record.refresh_from_db()
    assert record.status == "published" and record.published_until == add_years(TODAY, 3)
    kinds = list(CreditChange.objects.filter(organization=world.a).values_list("kind", flat=True))
    assert kinds.count("blacklist") == 2  # listed, exited
    assert kinds.count("restriction") == 2  # imposed, lifted by the repair
    assert kinds.count("repair") == 1
    assert "record" in kinds
