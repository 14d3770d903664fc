"""The demo has credit records of every kind, scores for every enterprise and credit warnings."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from jiancai.accounts.models import Organization
from jiancai.credit.models import BehaviourRecord, CreditScore, RecordSource
from jiancai.monitoring.models import EarlyWarning, WarningKind


@pytest.mark.django_db
def test_seed_demo_creates_credit_data() -> None:
    out = StringIO()
    call_command("seed_demo", "--seed", "42", "--scale", "1", "--clean", stdout=out, stderr=StringIO())
    assert "信用行为记录" in out.getvalue()
    records = BehaviourRecord.objects.all()
    assert records.filter(kind="bad").exists() and records.filter(kind="good").exists()
    assert records.filter(source=RecordSource.PARTNER).count() == 4
    assert records.filter(status="revoked").count() == 1
    enterprises = Organization.objects.filter(org_type="enterprise").count()
    assert CreditScore.objects.count() == enterprises
    assert set(CreditScore.objects.values_list("rating", flat=True)) >= {"A", "B"}
    from django.utils import timezone

    from jiancai.monitoring.warnings import compute_warnings

    compute_warnings(timezone.localdate())
    assert EarlyWarning.objects.filter(kind=WarningKind.CREDIT).exists()
