"""Rule parameters changed in the web interface: city regulator only, checked, dated, audited, and the rule is
evaluated again so alerts carry the values they were raised under. Rule list and detail, enabling and disabling."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.audit.models import AuditEvent
from jiancai.filings.tests.records import file_as, purchase_row, supply_row
from jiancai.monitoring import actions
from jiancai.monitoring.engine import evaluate, sync_rules
from jiancai.monitoring.models import Alert, AlertStatus, Rule, RuleParameter

from .alerts import client_for, haidian_alert

pytestmark = pytest.mark.django_db

XC03_TOLERANCE = "/monitoring/rules/XC03/parameters/tolerance_pct/"


def near_miss(world: World) -> None:
    """103 supplied against 100 bought: 2.9 %, inside the default 3 % tolerance of XC03."""
    b = {"project_code": world.b_project.project_code, "contract_no": "HT-B-001"}
    file_as(world["a_staff"], "supply", supply_row(world, 1, quantity="103", **b))
    file_as(world["b_staff"], "purchase", purchase_row(world, quantity="100"))
    evaluate()
    assert not Alert.objects.filter(rule__code="XC03").exists()


def test_city_regulator_changes_a_parameter_dated_audited_and_re_evaluated(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    near_miss(world)
    city = client_for(world["city_biz"])
    form = city.get(XC03_TOLERANCE)
    assert form.status_code == 200 and "现行取值 3%" in form.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = city.post(XC03_TOLERANCE, {"value": "2", "reason": "钢筋计量误差收紧"})
    assert response.status_code == 302 and response["Location"] == "/monitoring/rules/XC03/"
    row = RuleParameter.objects.filter(rule__code="XC03", name="tolerance_pct").order_by("-effective_from").first()
    assert row is not None and row.value == 2 and row.changed_by == world["city_biz"]
    assert row.changed_by_name == "孙监管" and row.reason == "钢筋计量误差收紧"
    event = AuditEvent.objects.get(action="rule.parameter")
    assert event.changes["数量容差"] == ["3", "2"] and event.reason == "钢筋计量误差收紧"
    # The re-evaluation ran after commit: the alert says which value it was raised under.
    alert = Alert.objects.get(rule__code="XC03")
    assert alert.message.endswith("差 2.9%，容差 2%")
    assert alert.parameters == {"tolerance_pct": {"label": "数量容差", "value": "2", "unit": "%"}}
    # The rule page shows the dated history: who, when, why; the earlier value stays.
    page = city.get("/monitoring/rules/XC03/").content.decode()
    assert "现行 2 %" in page and "钢筋计量误差收紧" in page and "孙监管" in page and "默认值" in page
    assert RuleParameter.objects.filter(rule__code="XC03", name="tolerance_pct").count() == 2


def test_a_changed_grace_period_refreshes_the_standing_alert_and_its_snapshot(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    alert = haidian_alert(world)
    assert alert.parameters["grace_days"]["value"] == "15"
    with django_capture_on_commit_callbacks(execute=True):
        actions.change_parameter(
            rule=alert.rule,
            name="grace_days",
            value="20",
            reason="节假日顺延",
            actor=world["city_biz"],
            context=context_for(world["city_biz"]),
        )
    alert.refresh_from_db()
    assert alert.parameters["grace_days"]["value"] == "20" and "宽限期 20 天已过" in alert.message
    last = alert.events.last()
    assert last is not None and last.kind == "evidence" and last.parameters["grace_days"]["value"] == "20"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"value": "-1", "reason": "x"}, "数量容差（%）", "数量容差不能小于 0"),
        ({"value": "150", "reason": "x"}, "数量容差（%）", "数量容差不能大于 100"),
        ({"value": "3", "reason": "x"}, "数量容差（%）", "新取值与现行取值（3）相同"),
        ({"value": "2", "reason": ""}, "修改原因", "请填写修改原因"),
    ],
)
def test_invalid_parameter_values_are_refused(world: World, data: dict[str, str], field: str, message: str) -> None:
    sync_rules()
    response = client_for(world["city_biz"]).post(XC03_TOLERANCE, data)
    assert response.status_code == 400
    assert f"{field}：{message}" in response.content.decode()  # the field's label, then the reason
    assert not RuleParameter.objects.filter(rule__code="XC03").exclude(reason="默认值").exists()
    assert not AuditEvent.objects.filter(action="rule.parameter").exists()


def test_only_the_city_regulator_changes_parameters(world: World) -> None:
    sync_rules()
    cy = client_for(world["cy_biz"])
    assert cy.get(XC03_TOLERANCE).status_code == 403
    assert cy.post(XC03_TOLERANCE, {"value": "2", "reason": "x"}).status_code == 403
    page = cy.get("/monitoring/rules/XC03/").content.decode()
    assert "数量容差" in page and XC03_TOLERANCE not in page  # reads the rule, no edit link
    rule = Rule.objects.get(code="XC03")
    for persona in ("cy_biz", "a_admin", "city_sys"):
        with pytest.raises(PermissionDenied):
            actions.change_parameter(
                rule=rule,
                name="tolerance_pct",
                value="2",
                reason="x",
                actor=world[persona],
                context=context_for(world[persona]),
            )
    assert not RuleParameter.objects.filter(rule=rule).exclude(reason="默认值").exists()


def test_rule_list_and_disable_enable(world: World, django_capture_on_commit_callbacks: Any) -> None:
    alert = haidian_alert(world)
    city = client_for(world["city_biz"])
    listing = city.get("/monitoring/rules/").content.decode()
    assert "XC01" in listing and "宽限期 15天" in listing
    assert city.post("/monitoring/rules/XC01/toggle/", {"reason": "试运行暂停"}).status_code == 302
    assert not Rule.objects.get(code="XC01").enabled
    file_as(world["b_staff"], "purchase", purchase_row(world))
    evaluate()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN  # a disabled rule neither raises nor resolves
    with django_capture_on_commit_callbacks(execute=True):
        assert city.post("/monitoring/rules/XC01/toggle/", {"reason": "恢复"}).status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED  # enabling ran the rule in full
    assert list(AuditEvent.objects.filter(action="rule.enable").values_list("reason", flat=True)) == [
        "恢复",
        "试运行暂停",
    ]
    assert client_for(world["cy_biz"]).post("/monitoring/rules/XC01/toggle/", {"reason": "x"}).status_code == 403
