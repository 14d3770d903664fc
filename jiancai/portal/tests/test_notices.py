"""Notices (通报): drafts, publishing and withdrawing through the actions, with their audit rows and the funnel."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jiancai.accounts.context import context_for
from jiancai.accounts.models import District
from jiancai.accounts.tests.personas import World
from jiancai.audit.models import AuditEvent
from jiancai.portal import actions
from jiancai.portal.models import Notice, NoticeStatus


def _draft(world: World, persona: str = "city_biz", **data: object) -> Notice:
    user = world[persona]
    values: dict[str, object] = {
        "title": "关于2026年第三季度钢筋抽检结果的通报",
        "body": "抽检钢筋120批次，合格118批次。",
        "category": "质量通报",
    }
    values.update(data)
    return actions.save_notice(instance=Notice(), data=values, actor=user, context=context_for(user))


def _audit(notice: Notice) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="portal.notice", target_id=str(notice.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


@pytest.mark.django_db
def test_draft_publish_withdraw_each_audited(world: World) -> None:
    user = world["city_biz"]
    notice = _draft(world)
    assert notice.status == NoticeStatus.DRAFT and notice.organization == world.city
    assert notice.district is None and notice.district_label == "全市"
    assert not Notice.objects.published().exists()

    notice = actions.publish_notice(notice=notice, actor=user, context=context_for(user))
    assert notice.status == NoticeStatus.PUBLISHED and notice.published_at is not None
    assert list(Notice.objects.published()) == [notice]

    with pytest.raises(ValidationError) as refused:
        actions.withdraw_notice(notice=notice, reason="  ", actor=user, context=context_for(user))
    assert "撤回原因" in str(refused.value)
    notice = actions.withdraw_notice(notice=notice, reason="数据有误", actor=user, context=context_for(user))
    assert notice.status == NoticeStatus.WITHDRAWN and notice.withdrawn_reason == "数据有误"
    assert not Notice.objects.published().exists()
    assert _audit(notice) == ["create", "notice.publish", "notice.withdraw"]
    last = AuditEvent.objects.filter(target_id=str(notice.pk), action="notice.withdraw").get()
    assert last.reason == "数据有误" and last.actor_name == "孙监管"


@pytest.mark.django_db
def test_published_notice_is_not_edited_and_not_published_twice(world: World) -> None:
    user = world["city_biz"]
    notice = actions.publish_notice(notice=_draft(world), actor=user, context=context_for(user))
    with pytest.raises(ValidationError):
        actions.save_notice(instance=notice, data={"title": "改"}, actor=user, context=context_for(user))
    with pytest.raises(ValidationError):
        actions.publish_notice(notice=notice, actor=user, context=context_for(user))
    notice.refresh_from_db()
    assert notice.title.startswith("关于") and _audit(notice) == ["create", "notice.publish"]


@pytest.mark.django_db
def test_draft_edit_audits_the_diff_and_refuses_a_stale_version(world: World) -> None:
    user = world["city_biz"]
    notice = _draft(world)
    notice = actions.save_notice(
        instance=notice, data={"title": "新标题"}, actor=user, context=context_for(user), expected_version=1
    )
    assert notice.version == 2
    event = AuditEvent.objects.get(target_id=str(notice.pk), action="update")
    assert event.changes["title"][1] == "新标题"
    with pytest.raises(ValidationError) as stale:
        actions.save_notice(
            instance=notice, data={"title": "再改"}, actor=user, context=context_for(user), expected_version=1
        )
    assert "已被他人修改" in str(stale.value)


@pytest.mark.django_db
def test_district_regulator_writes_only_for_its_district(world: World) -> None:
    notice = _draft(world, "cy_biz")
    assert notice.district is not None and notice.district.name == "朝阳区"
    haidian = District.objects.get(name="海淀区")
    with pytest.raises(ValidationError) as refused:
        _draft(world, "cy_biz", district=haidian)
    assert "本区" in str(refused.value)
    # the city's notices are not the district's to publish
    city_notice = _draft(world, "city_biz")
    cy = world["cy_biz"]
    with pytest.raises(PermissionDenied):
        actions.publish_notice(notice=city_notice, actor=cy, context=context_for(cy))


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["a_admin", "a_staff", "city_sys", "city_audit"])
def test_enterprises_and_administrators_write_no_notice(world: World, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        _draft(world, persona)
    assert not Notice.objects.exists()


@pytest.mark.django_db
def test_blank_title_is_refused_naming_the_field(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        _draft(world, title="  ")
    assert "title" in refused.value.message_dict
    assert not Notice.objects.exists()
