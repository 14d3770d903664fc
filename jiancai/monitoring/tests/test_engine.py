"""The rule engine: alerts raised with evidence, refreshed, resolved by corrections, reopened; the incremental
evaluation (as filings arrive) and the full one give the same alerts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.filings.actions import withdraw_filing
from jiancai.filings.models import Supply
from jiancai.filings.tests.records import file_as, purchase_row, stored_pk, supply_row
from jiancai.monitoring.engine import evaluate, evaluate_due, sync_rules
from jiancai.monitoring.models import Alert, AlertEventKind, AlertStatus, EvaluationRun, RuleParameter
from jiancai.monitoring.rules import RULES
from jiancai.monitoring.rules.base import Context, Scope

pytestmark = pytest.mark.django_db


def b_supply(world: World, n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A supply by A to B's project under B's contract HT-B-001 (the counterpart of `purchase_row`)."""
    return supply_row(world, n, project_code=world.b_project.project_code, contract_no="HT-B-001", **overrides)


def alert_state() -> set[tuple[str, str, str, str]]:
    """The standing findings (resolved alerts are history, which only the incremental path has lived through)."""
    return {
        (a.rule.code, a.subject_ref, a.status, a.message)
        for a in Alert.objects.exclude(status=AlertStatus.RESOLVED).select_related("rule")
    }


def test_supply_without_purchase_is_raised_with_evidence_and_resolved_by_the_purchase(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["a_staff"], "supply", b_supply(world, delivery_date="2025-06-01"))
    alert = Alert.objects.get(rule__code="XC01")
    assert alert.status == AlertStatus.OPEN
    assert alert.subject_key == {"supplier_uscc": world.a.uscc, "supply_no": "GY-0001"}
    assert "2025-06-01 供货 钢筋 HRB400E Φ20 60.000 t（合同 HT-B-001）" in alert.message
    assert "宽限期 15 天已过" in alert.message
    assert alert.parameters["grace_days"]["value"] == "15"
    assert alert.supplier_id == world.a.pk and alert.contractor_id == world.b_project.contractor_id
    assert alert.district_id == world.b_project.district_id
    assert [r["kind"] for r in alert.evidence["records"]] == ["supply", "project"]

    with django_capture_on_commit_callbacks(execute=True):
        file_as(world["b_staff"], "purchase", purchase_row(world))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED and alert.resolved_at is not None
    assert [e.kind for e in alert.events.all()] == [AlertEventKind.RAISED, AlertEventKind.RESOLVED]
    assert not Alert.objects.filter(rule__code="XC02").exists()  # the purchase has its supply


def test_not_raised_within_the_grace_period(world: World) -> None:
    file_as(world["a_staff"], "supply", b_supply(world, delivery_date="2025-06-01"))
    evaluate(today=dt.date(2025, 6, 16))  # 15 days: the last day of grace
    assert not Alert.objects.filter(rule__code="XC01").exists()
    evaluate(today=dt.date(2025, 6, 17))
    assert Alert.objects.filter(rule__code="XC01").count() == 1


def test_quantity_mismatch_message_names_both_sides_and_the_tolerance(world: World) -> None:
    file_as(world["a_staff"], "supply", b_supply(world, 1, quantity="70"), b_supply(world, 2, quantity="50"))
    file_as(world["b_staff"], "purchase", purchase_row(world, quantity="100"))
    evaluate()
    alert = Alert.objects.get(rule__code="XC03")
    assert alert.message == "供应 120.000 t，采购 100.000 t，差 16.7%，容差 3%"
    assert alert.subject_key == {
        "project_code": world.b_project.project_code,
        "supplier_uscc": world.a.uscc,
        "contract_no": "HT-B-001",
        "category": "GJ",
        "spec": "HRB400E Φ20",
    }
    # Within tolerance after a correction: the alert resolves itself and keeps its history.
    file_as(world["b_staff"], "purchase", purchase_row(world, quantity="118"))
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    # The finding comes back: the same alert reopens.
    file_as(world["b_staff"], "purchase", purchase_row(world, quantity="90"))
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN and alert.times_raised == 2
    assert alert.message == "供应 120.000 t，采购 90.000 t，差 25.0%，容差 3%"
    assert [e.kind for e in alert.events.all()] == ["raised", "resolved", "reopened"]
    assert Alert.objects.filter(rule__code="XC03").count() == 1


def test_parameter_values_in_force_decide_and_are_recorded(world: World) -> None:
    file_as(world["a_staff"], "supply", b_supply(world, 1, quantity="103"))
    file_as(world["b_staff"], "purchase", purchase_row(world, quantity="100"))
    evaluate()
    assert not Alert.objects.filter(rule__code="XC03").exists()  # 2.9 % < 3 %
    rules = sync_rules()
    RuleParameter.objects.create(
        rule=rules["XC03"], name="tolerance_pct", value=Decimal("2"), effective_from=dt.datetime.now(dt.UTC)
    )
    evaluate()
    alert = Alert.objects.get(rule__code="XC03")
    assert alert.message.endswith("差 2.9%，容差 2%")
    assert alert.parameters == {"tolerance_pct": {"label": "数量容差", "value": "2", "unit": "%"}}


def test_withdrawn_supply_resolves_its_alert(world: World, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        result = file_as(world["a_staff"], "supply", b_supply(world))
    assert Alert.objects.get(rule__code="XC01").status == AlertStatus.OPEN
    supply = Supply.objects.get(pk=stored_pk(result))
    with django_capture_on_commit_callbacks(execute=True):
        withdraw_filing(filing=supply, reason="重复填报", actor=world["a_staff"], context=context_for(world["a_staff"]))
    assert Alert.objects.get(rule__code="XC01").status == AlertStatus.RESOLVED


def test_incremental_and_full_evaluation_give_the_same_alerts(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """Filings arrive one by one (each triggering an incremental run); then a full run over everything from
    scratch must find exactly the same alerts."""
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("a_staff", "supply", b_supply(world, 1, quantity="70")),
        ("a_staff", "supply", b_supply(world, 2, quantity="50", spec="HRB400E Φ25")),
        ("b_staff", "purchase", purchase_row(world, 1, quantity="100")),
        ("b_staff", "purchase", purchase_row(world, 2, contract_no="HT-B-002")),  # no supply: XC02
        ("a_staff", "supply", supply_row(world, 3)),  # A's own project, no purchase: XC01
        ("a_staff", "supply", b_supply(world, 1, quantity="110")),  # a correction: 110 against 100
        ("b_staff", "purchase", purchase_row(world, 3, quantity="50", spec="HRB400E Φ25")),
    ]
    for persona, kind, row in steps:
        with django_capture_on_commit_callbacks(execute=True):
            file_as(world[persona], kind, row)
    incremental = alert_state()
    # (other rules find things in these filings too, e.g. no product filing, no witness test)
    assert {"XC01", "XC02", "XC03"} <= {code for code, *_ in incremental}
    assert Alert.objects.filter(status=AlertStatus.RESOLVED).exists()  # intermediate findings were resolved
    assert EvaluationRun.objects.filter(mode="incremental").count() == len(steps)

    Alert.objects.all().delete()
    evaluate()
    assert alert_state() == incremental
    # And a second full run changes nothing.
    before = {(a.pk, a.status, a.message) for a in Alert.objects.all()}
    result = evaluate()
    assert result.total.raised == result.total.resolved == result.total.refreshed == 0
    assert {(a.pk, a.status, a.message) for a in Alert.objects.all()} == before


def test_grace_period_end_is_picked_up_by_the_daily_due_run(world: World) -> None:
    """Filed within the grace period: nothing. The first due run on the day the grace period has passed raises
    it (scoped to the subjects due that day), and a second due run on the same day does nothing."""
    file_as(world["a_staff"], "supply", b_supply(world, 1, delivery_date="2025-06-01"))
    file_as(world["a_staff"], "supply", b_supply(world, 2, delivery_date="2025-06-05"))
    evaluate(today=dt.date(2025, 6, 10))
    xc01 = Alert.objects.filter(rule__code="XC01")
    assert not xc01.exists()
    now = dt.datetime(2025, 6, 17, 0, 1, tzinfo=dt.UTC)
    first = evaluate_due(today=dt.date(2025, 6, 16), now=now - dt.timedelta(days=1))
    assert first is not None and not xc01.exists()  # day 15 of the grace period
    second = evaluate_due(today=dt.date(2025, 6, 17), now=now)
    assert second is not None and second.run.mode == "due"
    assert list(xc01.values_list("subject_key__supply_no", flat=True)) == ["GY-0001"]
    assert evaluate_due(today=dt.date(2025, 6, 17), now=now + dt.timedelta(minutes=1)) is None
    # GY-0002's grace period ends four days later.
    evaluate_due(today=dt.date(2025, 6, 21), now=now + dt.timedelta(days=4))
    assert xc01.count() == 2


@pytest.mark.parametrize("code", sorted(c for c, logic in RULES.items() if logic.key_columns))
def test_an_incremental_run_reads_key_columns_and_violates_then_the_violating_rows_in_full(code: str) -> None:
    """`RuleLogic.key_columns` are columns of the rule's subjects and all that `ref` reads; the light read has
    them and `violates` only, and runs."""
    logic = RULES[code]
    sync_rules()
    ctx = Context(params={p.name: p.default for p in logic.params}, today=dt.date(2025, 6, 30), now=timezone.now())
    subjects = logic.subjects(ctx, Scope(records={kind: {1} for kind in logic.watches}))
    assert set(logic.key_columns) <= set(subjects._fields)  # type: ignore[attr-defined]
    light = logic.light(subjects)
    assert set(light._fields) == {"violates", *logic.key_columns}  # type: ignore[attr-defined]
    assert list(light) == []  # it runs (no subject with these ids here)
    assert logic.ref(dict.fromkeys(logic.key_columns, "x"))  # `ref` needs nothing else


def test_among_matches_what_in_matches() -> None:
    """`among` (one parameter on PostgreSQL, text values joined by a separator) selects what `__in` selects, also for
    the empty string and a value containing the separator."""
    from jiancai.monitoring.models import Rule
    from jiancai.monitoring.rules.base import SEPARATOR, among

    sync_rules()
    Rule.objects.filter(code="XC16").update(basis="")
    for field, values in (
        ("code", ["XC01", "XC02", "XX99"]),
        ("code", []),
        ("basis", [""]),
        ("basis", ["", "no such basis"]),
        ("code", [f"XC01{SEPARATOR}XC02"]),
        ("pk", list(Rule.objects.values_list("pk", flat=True)[:3])),
    ):
        expected = set(Rule.objects.filter(**{f"{field}__in": values}).values_list("code", flat=True))
        assert set(Rule.objects.filter(among(field, values)).values_list("code", flat=True)) == expected, values
