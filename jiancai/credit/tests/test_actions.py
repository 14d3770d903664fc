"""Records created by a regulator, by the platform (closed case, registry item verified false), revoked; the score,
its history, the change feed and the audit rows that come with each."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from jiancai.accounts.context import context_for
from jiancai.accounts.tests.personas import World
from jiancai.audit.models import AuditEvent
from jiancai.credit import actions, selectors
from jiancai.credit.models import (
    BehaviourRecord,
    ChangeKind,
    CreditChange,
    CreditScore,
    CreditScoreHistory,
    RecordChannel,
    RecordSource,
    RecordStatus,
    ScoreModel,
)
from jiancai.monitoring import actions as monitoring_actions
from jiancai.monitoring.tests.alerts import haidian_alert
from jiancai.registry import actions as registry_actions

TODAY = timezone.localdate()


def bad(world: World, user: str = "city_biz", **overrides: Any) -> BehaviourRecord:
    actor = world[user]
    fields: dict[str, Any] = {
        "organization": world.a,
        "kind": "bad",
        "severity": "B",
        "title": "供应钢筋未备案",
        "legal_basis": "《建设工程质量管理条例》第二十九条",
        "facts": "2026年3月供应的钢筋无产品供应备案",
        "decided_on": TODAY - dt.timedelta(days=10),
        "source": RecordSource.INSPECTION,
        "actor": actor,
        "context": context_for(actor),
    }
    fields.update(overrides)
    return actions.create_record(**fields)


def test_a_regulator_records_bad_behaviour_and_the_score_follows(world: World) -> None:
    record = bad(world, points="11.5")
    assert record.record_no == f"XY-{TODAY.year}-000001"
    assert record.points == Decimal("11.50")
    assert record.published_from == record.decided_on
    assert record.published_until == actions.add_months(record.decided_on, 12) - dt.timedelta(days=1)  # 一般: 1 year
    score = CreditScore.objects.get(organization=world.a)
    assert (score.score, score.rating) == (Decimal("88.50"), "B")
    assert selectors.rating_for(world.a) == "B"
    assert list(selectors.published_records(world.a)) == [record]
    history = CreditScoreHistory.objects.get(organization=world.a)
    assert (history.previous_score, history.score, history.previous_rating) == (None, Decimal("88.50"), "")
    event = AuditEvent.objects.get(action="credit.record")
    assert event.actor_name == "孙监管" and event.target_id == str(record.pk)
    assert event.changes["points"] == "11.50" and event.changes["record_no"] == record.record_no
    kinds = list(CreditChange.objects.filter(organization=world.a).values_list("kind", flat=True))
    assert kinds == [ChangeKind.RECORD, ChangeKind.SCORE, ChangeKind.RATING]
    change = CreditChange.objects.get(kind=ChangeKind.SCORE)
    assert (change.uscc, change.summary["score"], change.summary["rating"]) == (world.a.uscc, "88.50", "B")


def test_defaults_by_severity_and_good_records(world: World) -> None:
    severe = bad(world, severity="A")
    assert severe.points == Decimal("20")
    assert severe.published_until == actions.add_months(severe.decided_on, 36) - dt.timedelta(days=1)
    minor = bad(world, severity="C")
    assert (minor.points, minor.published_until) == (
        Decimal("5"),
        actions.add_months(minor.decided_on, 6) - dt.timedelta(days=1),
    )
    good = bad(world, kind="good", severity="A", source=RecordSource.COMMENDATION, title="优质建材供应企业")
    assert (good.severity, good.points) == ("", Decimal("3"))
    assert CreditScore.objects.get(organization=world.a).score == Decimal("78.00")  # 100 − 20 − 5 + 3


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"severity": ""}, "severity", "不良行为须选择等级"),
        ({"title": " "}, "title", "请填写行为名称"),
        ({"points": "abc"}, "points", "分值应为数字"),
        ({"points": "0"}, "points", "分值应大于0"),
        ({"points": "1.234"}, "points", "分值最多保留两位小数"),
        ({"months": "3"}, "months", "公示期应为6至36个月"),
        ({"decided_on": TODAY + dt.timedelta(days=1)}, "decided_on", "认定日期不能晚于今天"),
        ({"source": RecordSource.PARTNER}, "origin_region", "外地互认记录须填写来源地区"),
        ({"kind": "good", "source": RecordSource.PENALTY}, "kind", "该来源只能形成不良行为记录"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    world: World, overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        bad(world, **overrides)
    assert message in " ".join(info.value.message_dict[field])
    assert not BehaviourRecord.objects.exists() and not AuditEvent.objects.filter(action="credit.record").exists()


def test_a_district_regulator_decides_only_for_its_district(world: World) -> None:
    # cy_biz (朝阳区) may decide about A (朝阳区) but not about B (海淀区); enterprises never.
    assert bad(world, user="cy_biz").organization == world.a
    with pytest.raises(PermissionDenied):
        bad(world, user="cy_biz", organization=world.b)
    with pytest.raises(PermissionDenied):
        bad(world, user="a_admin")
    assert BehaviourRecord.objects.count() == 1


def test_revoking_restores_the_score_and_is_audited(world: World) -> None:
    record = bad(world, severity="A")  # 100 − 20 = 80
    assert selectors.rating_for(world.a) == "B"
    with pytest.raises(ValidationError, match="请填写撤销理由"):
        actions.revoke_record(
            record=record, reason=" ", actor=world["city_biz"], context=context_for(world["city_biz"])
        )
    with pytest.raises(PermissionDenied):
        actions.revoke_record(record=record, reason="x", actor=world["a_admin"], context=context_for(world["a_admin"]))
    actions.revoke_record(
        record=record, reason="复议撤销", actor=world["city_biz"], context=context_for(world["city_biz"])
    )
    record.refresh_from_db()
    assert record.status == RecordStatus.REVOKED and record.revoked_reason == "复议撤销"
    assert selectors.rating_for(world.a) == "A"
    assert AuditEvent.objects.get(action="credit.revoke").reason == "复议撤销"
    assert CreditScoreHistory.objects.filter(organization=world.a).count() == 2
    assert not selectors.published_records(world.a).exists()


def test_a_case_closed_with_a_finding_becomes_a_bad_record(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    alert = haidian_alert(world)
    city = world["city_biz"]
    ctx = context_for(city)
    case = monitoring_actions.escalate_alert(
        alert=alert, respondent=world.a, grounds="供应无采购", actor=city, context=ctx
    )
    with django_capture_on_commit_callbacks(execute=True):
        monitoring_actions.close_case(
            case=case,
            outcome="confirmed",
            finding="虚报供应记录属实",
            penalty="警告",
            legal_basis="《北京市建设工程质量条例》第七十六条",
            actor=city,
            context=ctx,
        )
    record = BehaviourRecord.objects.get(source_case=case)
    assert (record.organization, record.kind, record.severity, record.points) == (world.a, "bad", "B", Decimal("10"))
    assert record.source == RecordSource.CASE and record.channel == RecordChannel.AUTO
    assert record.source_reference == case.case_no and case.case_no in record.title
    assert record.legal_basis == "《北京市建设工程质量条例》第七十六条"
    assert "处理处罚：警告" in record.facts
    assert selectors.rating_for(world.a) == "A"  # 90: still A
    assert AuditEvent.objects.get(action="credit.record").actor_name == "系统（立案查处结案）"
    # once only
    case.refresh_from_db()
    assert actions.record_from_case(case) == record
    assert BehaviourRecord.objects.count() == 1


def test_a_case_not_confirmed_makes_no_record(world: World, django_capture_on_commit_callbacks: Any) -> None:
    alert = haidian_alert(world)
    city = world["city_biz"]
    ctx = context_for(city)
    case = monitoring_actions.escalate_alert(alert=alert, respondent=world.a, grounds="x", actor=city, context=ctx)
    with django_capture_on_commit_callbacks(execute=True):
        monitoring_actions.close_case(case=case, outcome="not_confirmed", finding="录入错误", actor=city, context=ctx)
    assert not BehaviourRecord.objects.exists()


def test_a_registry_item_verified_false_becomes_a_minor_bad_record(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    city = world["city_biz"]
    with django_capture_on_commit_callbacks(execute=True):
        registry_actions.verify_item(
            item=world.a_qual, verdict="false", reason="证书编号查无此证", actor=city, context=context_for(city)
        )
    record = BehaviourRecord.objects.get(source=RecordSource.FALSE_REPORT)
    assert (record.organization, record.severity, record.points) == (world.a, "C", Decimal("5"))
    assert "证书编号查无此证" in record.facts
    assert selectors.rating_for(world.a) == "A"
    with django_capture_on_commit_callbacks(execute=True):
        registry_actions.verify_item(
            item=world.b_qual, verdict="confirmed", reason="属实", actor=city, context=context_for(city)
        )
    assert BehaviourRecord.objects.count() == 1


def test_nightly_recompute_lets_records_expire(world: World) -> None:
    record = bad(world, severity="C", decided_on=TODAY - dt.timedelta(days=40))
    assert selectors.rating_for(world.a) == "A"
    assert CreditScore.objects.get(organization=world.a).score == Decimal("95.00")
    later = record.published_until + dt.timedelta(days=1)
    changed = actions.recompute_scores(on=later)
    assert changed >= 1
    score = CreditScore.objects.get(organization=world.a)
    assert score.score == Decimal("100.00")
    assert score.lines[1]["note"] == "已过公示期，不再计分"
    # every enterprise has a score now; B, without records, starts at 100 A without a feed entry
    assert selectors.scores_for([world.b])[world.b.pk].rating == "A"
    assert not CreditChange.objects.filter(organization=world.b).exists()
    assert actions.recompute_scores(on=later) == 0


def test_a_new_score_model_version_keeps_the_old_and_rescores(world: World) -> None:
    bad(world, points="12")  # 88 → B
    city = world["city_biz"]
    with pytest.raises(ValidationError) as info:
        actions.change_score_model(values={"threshold_b": "95"}, reason="x", actor=city, context=context_for(city))
    assert "A级 > B级 > C级" in str(info.value)
    with pytest.raises(PermissionDenied):
        actions.change_score_model(
            values={"threshold_a": "85"}, reason="x", actor=world["cy_biz"], context=context_for(world["cy_biz"])
        )
    new = actions.change_score_model(
        values={"threshold_a": Decimal("85")}, reason="调整等级线", actor=city, context=context_for(city)
    )
    assert new.version == 2 and ScoreModel.objects.filter(version=1).exists()
    assert selectors.rating_for(world.a) == "A"
    event = AuditEvent.objects.get(action="credit.model")
    assert event.changes["threshold_a"] == ["90.00", "85"] and event.reason == "调整等级线"
    assert CreditScoreHistory.objects.filter(organization=world.a)[0].reason == "评分模型第2版生效"


def test_note_credit_change_is_an_append_only_feed(world: World) -> None:
    first = actions.note_credit_change(organization=world.b, kind=ChangeKind.BLACKLIST, summary={"entered": True})
    second = actions.note_credit_change(organization=world.b, kind=ChangeKind.REPAIR, summary={"x": 1})
    assert second.pk > first.pk and first.name == world.b.name
    with pytest.raises(PermissionError):
        first.save()
    with pytest.raises(ValueError):
        actions.note_credit_change(organization=world.b, kind="other", summary={})
