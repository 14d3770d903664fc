"""Credit warnings (信用预警) computed by monitoring.warnings through the registered credit computer."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from jiancai.accounts.tests.personas import World, login_as
from jiancai.credit.tests.test_actions import bad
from jiancai.filings.tests.records import file_as, supply_row
from jiancai.monitoring.models import EarlyWarning, WarningKind, WarningTopic
from jiancai.monitoring.warnings import compute_warnings


def test_an_enterprise_and_a_category_whose_credit_fell_warn(world: World, client: Any) -> None:
    today = timezone.localdate()
    file_as(world["a_staff"], "supply", supply_row(world, 1, delivery_date=today.isoformat()))
    bad(world, points="4", decided_on=today)  # 100 → 96: below the 5-point fall, still A
    compute_warnings(today)
    assert not EarlyWarning.objects.filter(kind=WarningKind.CREDIT, topic=WarningTopic.CREDIT_FALL).exists()
    category = EarlyWarning.objects.get(kind=WarningKind.CREDIT, topic=WarningTopic.CATEGORY_CREDIT_FALL)
    assert (
        category.category is not None
        and category.category.code == "GJ"
        and category.evidence["average_after"] == "96.00"
    )

    bad(world, severity="B", decided_on=today)  # 96 → 86: B
    warnings = compute_warnings(today)
    enterprise = EarlyWarning.objects.get(kind=WarningKind.CREDIT, topic=WarningTopic.CREDIT_FALL)
    assert enterprise.organization == world.a and enterprise.district == world.a.district
    assert enterprise.evidence["score_before"] == "100.00"
    assert enterprise.evidence["rating_after"] == "B"
    assert len(enterprise.evidence["records"]) == 2
    assert "信用分由" in enterprise.message and "下降 14" in enterprise.message
    # recomputing replaces the month's credit warnings rather than adding to them
    assert len([w for w in warnings if w.kind == WarningKind.CREDIT]) == 2
    assert EarlyWarning.objects.filter(kind=WarningKind.CREDIT).count() == 2

    login_as(client, world["city_biz"])
    page = client.get(enterprise.get_absolute_url())
    assert page.status_code == 200
    text = page.content.decode()
    assert "企业信用下降" in text and "月末信用等级" in text and "本月认定的不良行为" in text
    listing = client.get("/warnings/", {"kind": "credit"}).content.decode()
    assert "品类供应企业信用下降" in listing
