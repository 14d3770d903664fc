"""Regulators write, publish and withdraw notices through the platform pages; the portal shows published ones."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from jiancai.accounts.models import District
from jiancai.accounts.tests.personas import World
from jiancai.audit.models import AuditEvent
from jiancai.portal.models import Notice, NoticeStatus


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_city_regulator_writes_publishes_and_withdraws_a_notice(logged_in: Any, world: World) -> None:
    client = logged_in(world["city_biz"])
    assert "通报管理" in client.get("/").content.decode()
    form = client.get("/disclosure/notices/new/")
    assert form.status_code == 200 and "全市" in form.content.decode()

    refused = client.post("/disclosure/notices/new/", {"title": "", "category": "质量通报", "body": "正文"})
    assert refused.status_code == 400 and not Notice.objects.exists()

    created = client.post(
        "/disclosure/notices/new/",
        {"title": "关于预拌混凝土抽检情况的通报", "category": "质量通报", "district": "", "body": "第一段\n\n第二段"},
    )
    notice = Notice.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/disclosure/notices/{notice.public_id}/"
    assert notice.status == NoticeStatus.DRAFT
    assert Client().get(f"/portal/notices/{notice.public_id}/").status_code == 404  # drafts are not public

    listing = client.get("/disclosure/notices/?status=draft").content.decode()
    assert "关于预拌混凝土抽检情况的通报" in listing
    assert client.get("/disclosure/notices/?export=xlsx")["Content-Type"].startswith("application/vnd.openxmlformats")

    client.post(f"/disclosure/notices/{notice.public_id}/publish/")
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.PUBLISHED
    public = Client()
    page = public.get(f"/portal/notices/{notice.public_id}/").content.decode()
    assert "关于预拌混凝土抽检情况的通报" in page and "<p>第二段</p>" in page
    assert "关于预拌混凝土抽检情况的通报" in public.get("/portal/notices/").content.decode()
    assert "关于预拌混凝土抽检情况的通报" in public.get("/portal/notices/?category=质量通报&q=混凝土").content.decode()
    assert "关于预拌混凝土抽检情况的通报" not in public.get("/portal/notices/?category=价格信息").content.decode()

    assert client.get(f"/disclosure/notices/{notice.public_id}/edit/").status_code == 200  # shown, but refused:
    edit = client.post(
        f"/disclosure/notices/{notice.public_id}/edit/", {"title": "改", "category": "质量通报", "body": "改"}
    )
    assert edit.status_code == 400 and "不能修改" in edit.content.decode()

    empty = client.post(f"/disclosure/notices/{notice.public_id}/withdraw/", {"reason": ""}, follow=True)
    assert "撤回原因" in empty.content.decode()
    client.post(f"/disclosure/notices/{notice.public_id}/withdraw/", {"reason": "数据需更正"})
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.WITHDRAWN
    assert public.get(f"/portal/notices/{notice.public_id}/").status_code == 404
    detail = client.get(f"/disclosure/notices/{notice.public_id}/").content.decode()
    assert "发布通报" in detail and "撤回通报" in detail and "数据需更正" in detail
    kinds = list(
        AuditEvent.objects.filter(target_type="portal.notice", target_id=str(notice.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert kinds == ["create", "notice.publish", "notice.withdraw"]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["a_admin", "b_staff", "city_sys"])
def test_others_neither_see_nor_write_notices(logged_in: Any, world: World, persona: str) -> None:
    client = logged_in(world[persona])
    assert client.get("/disclosure/notices/").status_code == 403
    assert client.get("/disclosure/notices/new/").status_code == 403
    assert not Notice.objects.exists()


@pytest.mark.django_db
def test_district_regulator_sees_only_its_district(logged_in: Any, world: World) -> None:
    from jiancai.accounts.context import context_for
    from jiancai.portal import actions

    city = world["city_biz"]
    city_notice = actions.save_notice(
        instance=Notice(),
        data={"title": "全市通报", "body": "正文", "category": "政策公告"},
        actor=city,
        context=context_for(city),
    )
    client = logged_in(world["cy_biz"])
    chaoyang = District.objects.get(name="朝阳区")
    haidian = District.objects.get(name="海淀区")
    other = {"title": "海淀区通报", "category": "执法检查", "body": "正文", "district": haidian.pk}
    assert client.post("/disclosure/notices/new/", other).status_code == 400  # not a choice
    created = client.post(
        "/disclosure/notices/new/",
        {"title": "朝阳区通报", "category": "执法检查", "body": "正文", "district": chaoyang.pk},
    )
    assert created.status_code == 302
    listing = client.get("/disclosure/notices/").content.decode()
    assert "朝阳区通报" in listing and "全市通报" not in listing
    assert client.get(f"/disclosure/notices/{city_notice.public_id}/").status_code == 403
    assert client.post(f"/disclosure/notices/{city_notice.public_id}/publish/").status_code == 403
    assert Notice.objects.get(title="朝阳区通报").district.name == "朝阳区"  # type: ignore[union-attr]


@pytest.mark.django_db
def test_portal_needs_no_login(client: Client) -> None:
    for url in ("/portal/", "/portal/notices/", "/portal/verify/", "/portal/prices/"):
        assert client.get(url).status_code == 200
